//! `-m udp` (libxt_udp): UDP ports. Loaded implicitly by `-p udp --dport 53`; the kernel takes it
//! only on rules with `-p udp`.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::ports::{parse_port_range, save_ports};
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, PortRange};

/// The options of `-m udp`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Udp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Neg<PortRange>>,
}

const SPORT: u8 = 0;
const DPORT: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "udp",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("source-port", SPORT).invertible(),
        OptionSpec::value("sport", SPORT).invertible(),
        OptionSpec::value("destination-port", DPORT).invertible(),
        OptionSpec::value("dport", DPORT).invertible(),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut udp = Udp::default();
    let mut ok = true;
    if let Some(opt) = b.get(SPORT) {
        ok &= parse_port_range(b, opt, "udp").map(|r| udp.sport = r).is_some();
    }
    if let Some(opt) = b.get(DPORT) {
        ok &= parse_port_range(b, opt, "udp").map(|r| udp.dport = r).is_some();
    }
    ok.then_some(MatchKind::Udp(Box::new(udp)))
}

impl Udp {
    pub fn save(&self, out: &mut String) {
        save_ports(out, "sport", &self.sport);
        save_ports(out, "dport", &self.dport);
    }
}
