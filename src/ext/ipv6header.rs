//! `-m ipv6header` (libip6t_ipv6header, IPv6): which extension headers the packet has.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// Headers by mask bit, with the names iptables-save prints, in its order.
const HEADERS: [(u8, u8, &str); 8] = [
    (0, 0x80, "hop-by-hop"),
    (60, 0x40, "ipv6-opts"),
    (43, 0x20, "ipv6-route"),
    (44, 0x10, "ipv6-frag"),
    (51, 0x08, "ah"),
    (50, 0x04, "esp"),
    (59, 0x02, "ipv6-nonxt"),
    (255, 0x01, "protocol"),
];

/// The names iptables knows besides `/etc/protocols`.
const NAMES: [(&str, u8); 18] = [
    ("hop-by-hop", 0),
    ("protocol", 255),
    ("hop", 0),
    ("dst", 60),
    ("route", 43),
    ("frag", 44),
    ("auth", 51),
    ("esp", 50),
    ("none", 59),
    ("prot", 255),
    ("0", 0),
    ("60", 60),
    ("43", 43),
    ("44", 44),
    ("51", 51),
    ("50", 50),
    ("59", 59),
    ("255", 255),
];

/// `-m ipv6header --header LIST [--soft]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ipv6Header {
    /// Bit 0x80 hop-by-hop, 0x40 destination options, 0x20 routing, 0x10 fragment, 0x08 AH,
    /// 0x04 ESP, 0x02 no next header, 0x01 any other protocol.
    pub headers: u8,
    /// `! --header`.
    pub invert: bool,
    /// `--soft`: match if any of the headers is present (all of them, exactly, otherwise).
    pub soft: bool,
}

const HEADER: u8 = 0;
const SOFT: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "ipv6header",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("header", HEADER).invertible(), OptionSpec::flag("soft", SOFT)],
    build,
};

/// The names and aliases `/etc/protocols` (netbase 6.4) gives the header protocols, in their
/// exact case (`getprotobyname` compares it); another protocol name is no header either way.
const PROTOCOL_NAMES: [(&str, u8); 14] = [
    ("ip", 0),
    ("IP", 0),
    ("hopopt", 0),
    ("HOPOPT", 0),
    ("ipv6-route", 43),
    ("IPv6-Route", 43),
    ("ipv6-frag", 44),
    ("IPv6-Frag", 44),
    ("esp", 50),
    ("IPSEC-ESP", 50),
    ("ah", 51),
    ("IPSEC-AH", 51),
    ("ipv6-nonxt", 59),
    ("IPv6-NoNxt", 59),
];

/// A header name: from `/etc/protocols`, then iptables' own names. `Err(true)` for a protocol
/// that is no extension header.
fn header_proto(name: &str) -> Result<u8, bool> {
    if let Some(&(_, p)) =
        PROTOCOL_NAMES.iter().chain(&[("ipv6-opts", 60), ("IPv6-Opts", 60)]).find(|(n, _)| *n == name)
    {
        return Ok(p);
    }
    if crate::model::Proto::parse_number(name).is_some() && !NAMES.iter().any(|(n, _)| *n == name) {
        return Err(true);
    }
    NAMES.iter().find(|&&(n, _)| n == name).map(|&(_, p)| p).ok_or(false)
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(HEADER, "header") {
        return None;
    }
    let opt = b.get(HEADER)?;
    let mut headers = 0u8;
    for name in opt.value().split(',').filter(|n| !n.is_empty()) {
        match header_proto(name) {
            Ok(proto) => {
                let bit = HEADERS.iter().find(|&&(p, _, _)| p == proto).map_or(0, |&(_, bit, _)| bit);
                headers |= bit;
            }
            Err(true) => {
                b.bad_value(opt, format!("extension headers (`{name}` is a protocol, but no extension header)"));
                return None;
            }
            Err(false) => {
                b.bad_value(
                    opt,
                    format!("header names such as hop, dst, route, frag, auth, esp, none, prot (`{name}` is none)"),
                );
                return None;
            }
        }
    }
    if headers == 0 {
        b.bad_value(opt, "at least one header name");
        return None;
    }
    Some(MatchKind::Ipv6Header(Ipv6Header { headers, invert: opt.invert, soft: b.has(SOFT) }))
}

impl Ipv6Header {
    pub fn save(&self, out: &mut String) {
        let names: Vec<&str> =
            HEADERS.iter().filter(|&&(_, bit, _)| self.headers & bit != 0).map(|&(_, _, n)| n).collect();
        out.push_str(if self.invert { " ! --header " } else { " --header " });
        out.push_str(&names.join(","));
        if self.soft {
            out.push_str(" --soft");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err6, same, v6};
    use crate::model::Family;

    #[test]
    fn saves_protocol_names() {
        assert_eq!(
            v6("-m ipv6header ! --header prot,none,esp,auth,frag,route,dst,hop --soft"),
            "-m ipv6header ! --header hop-by-hop,ipv6-opts,ipv6-route,ipv6-frag,ah,esp,ipv6-nonxt,protocol --soft"
        );
        assert_eq!(v6("-m ipv6header --header ipv6-frag,,ip"), "-m ipv6header --header hop-by-hop,ipv6-frag");
        same(Family::Ipv6, "-m ipv6header --header 43", "-m ipv6header --header route");
        same(Family::Ipv6, "-m ipv6header --header IPv6-Route,HOPOPT", "-m ipv6header --header ipv6-route,hop");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err6("-m ipv6header").contains("`--header`"));
        assert!(err6("-m ipv6header --header tcp").contains("no extension header"));
        assert!(err6("-m ipv6header --header ipsec-esp").contains("header"));
        assert!(err6("-m ipv6header --header bogus").contains("`bogus` is none"));
        assert!(err6("-m ipv6header --header ,").contains("at least one"));
        assert!(err6("-m ipv6header --header HOP").contains("`HOP` is none"));
    }
}
