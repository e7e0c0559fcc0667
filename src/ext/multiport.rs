//! `-m multiport` (libxt_multiport, revision 1): up to 15 ports or ranges (a range counts
//! twice), as source, destination, or either.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::port::PortError;
use crate::model::{MatchKind, PortRange, Proto};

/// Which port a `-m multiport` list is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `--sports`
    Source,
    /// `--dports`
    Destination,
    /// `--ports`: source or destination.
    Either,
}

/// `-m multiport --dports 22,80,8000:8080`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Multiport {
    pub direction: Direction,
    pub invert: bool,
    pub ports: Vec<PortRange>,
}

/// The kernel's limit: 15 slots, a range taking two.
pub const MAX_SLOTS: usize = 15;

const SPORTS: u8 = 0;
const DPORTS: u8 = 1;
const PORTS: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "multiport",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("source-ports", SPORTS).invertible(),
        OptionSpec::value("sports", SPORTS).invertible(),
        OptionSpec::value("destination-ports", DPORTS).invertible(),
        OptionSpec::value("dports", DPORTS).invertible(),
        OptionSpec::value("ports", PORTS).invertible(),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut given = b.opts.iter().filter(|o| [SPORTS, DPORTS, PORTS].contains(&o.id));
    let Some(opt) = given.next() else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "one of `--sports`, `--dports` and `--ports`".into(),
        });
        return None;
    };
    if let Some(second) = given.next() {
        b.fail(
            second.span,
            "`-m multiport` takes only one of `--sports`, `--dports` and `--ports`",
            "use a second `-m multiport` for the other direction",
        );
        return None;
    }
    let proto = match opt.proto {
        Some((p, false)) if Proto(p).has_ports() => Proto(p),
        Some((_, true)) => {
            b.fail(
                opt.span,
                "`-m multiport` cannot follow `! -p`",
                "give a protocol: `-p tcp`, `-p udp`, `-p udplite`, `-p sctp` or `-p dccp`",
            );
            return None;
        }
        _ => {
            b.fail(
                opt.span,
                "`-m multiport` needs `-p tcp`, `-p udp`, `-p udplite`, `-p sctp` or `-p dccp` before it",
                "put the `-p` option before the multiport options",
            );
            return None;
        }
    };
    let proto_name = proto.name().unwrap_or("tcp");
    let mut ports = Vec::new();
    let mut slots = 0;
    for part in opt.value().split(',') {
        let range = match part.split_once(':') {
            None => PortRange::parse_port(part, proto_name).map(PortRange::single),
            Some((lo, hi)) => match (PortRange::parse_port(lo, proto_name), PortRange::parse_port(hi, proto_name)) {
                (Ok(lo), Ok(hi)) if lo < hi => Ok(PortRange { lo, hi }),
                (Ok(lo), Ok(hi)) => Err(PortError::Reversed(lo, hi)),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        };
        match range {
            Ok(r) => {
                slots += if r.lo == r.hi { 1 } else { 2 };
                ports.push(r);
            }
            Err(PortError::Unknown(name)) => {
                b.bad_value(
                    opt,
                    format!("a list of ports and ranges (`{name}` is not a port or {proto_name} service)"),
                );
                return None;
            }
            Err(PortError::Reversed(lo, hi)) => {
                b.bad_value(opt, format!("ranges low:high with low below high (`{lo}:{hi}` is not)"));
                return None;
            }
        }
    }
    if slots > MAX_SLOTS {
        b.bad_value(opt, format!("at most {MAX_SLOTS} ports, a range counting as two (this list needs {slots})"));
        return None;
    }
    let direction = match opt.id {
        SPORTS => Direction::Source,
        DPORTS => Direction::Destination,
        _ => Direction::Either,
    };
    Some(MatchKind::Multiport(Box::new(Multiport { direction, invert: opt.invert, ports })))
}

impl Multiport {
    pub fn save(&self, out: &mut String) {
        let name = match self.direction {
            Direction::Source => "sports",
            Direction::Destination => "dports",
            Direction::Either => "ports",
        };
        let list: Vec<String> = self.ports.iter().map(PortRange::to_string).collect();
        save_opt_value(out, self.invert, name, list.join(","));
    }
}
