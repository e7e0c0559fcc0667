//! `-m pkttype` (libxt_pkttype): the link-layer class of the packet (to this host, broadcast,
//! multicast, or to another host).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The kernel's `PACKET_*` class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PktType {
    /// `unicast` (or `host`): addressed to this host.
    Unicast,
    /// `broadcast` (or `bcast`).
    Broadcast,
    /// `multicast` (or `mcast`).
    Multicast,
    /// `otherhost`: addressed to another host (seen in promiscuous mode).
    Otherhost,
}

impl PktType {
    /// The names iptables reads (any case), aliases last.
    const NAMES: [(&'static str, PktType); 7] = [
        ("unicast", PktType::Unicast),
        ("broadcast", PktType::Broadcast),
        ("multicast", PktType::Multicast),
        ("otherhost", PktType::Otherhost),
        ("bcast", PktType::Broadcast),
        ("mcast", PktType::Multicast),
        ("host", PktType::Unicast),
    ];

    pub fn parse(text: &str) -> Option<PktType> {
        PktType::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)).map(|&(_, t)| t)
    }

    /// The name iptables-save prints.
    pub fn name(self) -> &'static str {
        PktType::NAMES.iter().find(|&&(_, t)| t == self).map_or("", |&(n, _)| n)
    }
}

/// `-m pkttype --pkt-type TYPE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Pkttype {
    pub pkt_type: Neg<PktType>,
}

const PKTTYPE: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "pkttype",
    availability: Availability::Both,
    options: &[OptionSpec::value("pkt-type", PKTTYPE).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(PKTTYPE, "pkt-type") {
        return None;
    }
    let opt = b.get(PKTTYPE)?;
    match PktType::parse(opt.value()) {
        Some(t) => Some(MatchKind::Pkttype(Pkttype { pkt_type: b.neg(opt, t) })),
        None => {
            b.bad_value(opt, "`unicast`, `broadcast`, `multicast` or `otherhost`");
            None
        }
    }
}

impl Pkttype {
    pub fn save(&self, out: &mut String) {
        super::save::save_opt_value(out, self.pkt_type.invert, "pkt-type", self.pkt_type.value.name());
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_aliases_in_any_case() {
        assert_eq!(v4("-m pkttype ! --pkt-type BCAST"), "-m pkttype ! --pkt-type broadcast");
        assert_eq!(v4("-m pkttype --pkt-type host"), "-m pkttype --pkt-type unicast");
        assert_eq!(v4("-m pkttype --pkt-type otherhost"), "-m pkttype --pkt-type otherhost");
        assert_eq!(v6("-m pkttype --pkt-type mcast"), "-m pkttype --pkt-type multicast");
        same(Family::Ipv4, "-m pkttype --pkt-type Multicast", "-m pkttype --pkt-type mcast");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m pkttype").contains("`--pkt-type`"));
        assert!(err4("-m pkttype --pkt-type outgoing").contains("`unicast`, `broadcast`"));
        assert!(err4("-m pkttype --pkt-type multi").contains("`unicast`, `broadcast`"));
        assert!(err4("-m pkttype --pkt-type 0").contains("`unicast`, `broadcast`"));
    }
}
