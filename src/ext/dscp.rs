//! `-m dscp` (libxt_dscp): the DSCP field (the upper six bits of the TOS or traffic class).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The largest DSCP.
pub const MAX_DSCP: u8 = 0x3f;

/// Class names and their DSCP, in the order iptables tries them.
pub const CLASSES: [(&str, u8); 22] = [
    ("CS0", 0x00),
    ("CS1", 0x08),
    ("CS2", 0x10),
    ("CS3", 0x18),
    ("CS4", 0x20),
    ("CS5", 0x28),
    ("CS6", 0x30),
    ("CS7", 0x38),
    ("BE", 0x00),
    ("AF11", 0x0a),
    ("AF12", 0x0c),
    ("AF13", 0x0e),
    ("AF21", 0x12),
    ("AF22", 0x14),
    ("AF23", 0x16),
    ("AF31", 0x1a),
    ("AF32", 0x1c),
    ("AF33", 0x1e),
    ("AF41", 0x22),
    ("AF42", 0x24),
    ("AF43", 0x26),
    ("EF", 0x2e),
];

/// `class_to_dscp`: the first class whose name, in any case, begins the text (`ef`, `AF11x`).
pub fn class_to_dscp(text: &str) -> Option<u8> {
    CLASSES
        .iter()
        .find(|(name, _)| {
            text.len() >= name.len() && text.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })
        .map(|&(_, dscp)| dscp)
}

/// `-m dscp --dscp N` or `--dscp-class NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Dscp {
    pub dscp: Neg<u8>,
}

const DSCP: u8 = 0;
const CLASS: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "dscp",
    availability: Availability::Both,
    options: &[OptionSpec::value("dscp", DSCP).invertible(), OptionSpec::value("dscp-class", CLASS).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.exclusive(&[DSCP, CLASS]) {
        return None;
    }
    let Some(opt) = b.opts.first() else {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--dscp` or `--dscp-class`".into() });
        return None;
    };
    let dscp = if opt.id == DSCP {
        b.number(opt, 0, MAX_DSCP as u64)? as u8
    } else {
        match class_to_dscp(opt.value()) {
            Some(d) => d,
            None => {
                let names: Vec<&str> = CLASSES.iter().map(|(n, _)| *n).collect();
                b.bad_value(opt, format!("a class: {}", names.join(", ")));
                return None;
            }
        }
    };
    Some(MatchKind::Dscp(Dscp { dscp: b.neg(opt, dscp) }))
}

impl Dscp {
    pub fn save(&self, out: &mut String) {
        super::save::save_opt_value(out, self.dscp.invert, "dscp", format_args!("0x{:02x}", self.dscp.value));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_numbers_and_classes() {
        assert_eq!(v4("-m dscp --dscp 46"), "-m dscp --dscp 0x2e");
        assert_eq!(v4("-m dscp ! --dscp-class af11"), "-m dscp ! --dscp 0x0a");
        assert_eq!(v4("-m dscp --dscp-class EFx"), "-m dscp --dscp 0x2e");
        assert_eq!(v6("-m dscp --dscp-class BE"), "-m dscp --dscp 0x00");
        same(Family::Ipv4, "-m dscp --dscp-class CS1", "-m dscp --dscp 8");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m dscp").contains("`--dscp` or `--dscp-class`"));
        assert!(err4("-m dscp --dscp 64").contains("0-63"));
        assert!(err4("-m dscp --dscp-class AF1").contains("a class"));
        assert!(err4("-m dscp --dscp 1 --dscp-class EF").contains("cannot be used together"));
    }
}
