//! `-j DSCP` (libxt_DSCP): set the DSCP field (the six high bits of the TOS byte or traffic
//! class), by number or by class name.

use serde::Serialize;

use super::build::Build;
use super::dscp::class_to_dscp;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `-j DSCP --set-dscp N` (0-63).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Dscp {
    pub dscp: u8,
}

const SET_DSCP: u8 = 0;
const SET_CLASS: u8 = 1;

pub static SPEC: TargetSpec = TargetSpec {
    name: "DSCP",
    availability: Availability::Both,
    options: &[OptionSpec::value("set-dscp", SET_DSCP), OptionSpec::value("set-dscp-class", SET_CLASS)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let ok = b.at_most_one(&[SET_DSCP, SET_CLASS]);
    let dscp = if let Some(opt) = b.get(SET_DSCP) {
        b.number(opt, 0, 0x3f)? as u8
    } else if let Some(opt) = b.get(SET_CLASS) {
        match class_to_dscp(opt.value()) {
            Some(d) => d,
            None => {
                b.bad_value(opt, "a class: CS0-CS7, BE, AF11-AF43 or EF");
                return None;
            }
        }
    } else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--set-dscp` or `--set-dscp-class`".into(),
        });
        return None;
    };
    ok.then_some(TargetKind::Dscp(Dscp { dscp }))
}

impl Dscp {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --set-dscp 0x{:02x}", self.dscp));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4};

    #[test]
    fn classes_are_numbers() {
        assert_eq!(save4("-j DSCP --set-dscp 10"), "-j DSCP --set-dscp 0x0a");
        assert_eq!(save4("-j DSCP --set-dscp 0"), "-j DSCP --set-dscp 0x00");
        assert_eq!(save4("-j DSCP --set-dscp-class EF"), "-j DSCP --set-dscp 0x2e");
        assert_eq!(save4("-j DSCP --set-dscp-class af11"), "-j DSCP --set-dscp 0x0a");
        assert_eq!(save6("-j DSCP --set-dscp-class af43"), "-j DSCP --set-dscp 0x26");
        assert_eq!(target4("-j DSCP --set-dscp-class BE"), target4("-j DSCP --set-dscp-class CS0"));
    }

    #[test]
    fn a_class_name_only_has_to_start_the_text() {
        assert_eq!(save4("-j DSCP --set-dscp-class cs10"), "-j DSCP --set-dscp 0x08");
        assert_eq!(save4("-j DSCP --set-dscp-class EFx"), "-j DSCP --set-dscp 0x2e");
        assert!(err4("-j DSCP --set-dscp-class AF1").contains("a class"));
        assert!(err4("-j DSCP --set-dscp-class \"\"").contains("a class"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j DSCP").contains("`--set-dscp` or `--set-dscp-class`"));
        assert!(err4("-j DSCP --set-dscp 64").contains("0-63"));
        assert!(err4("-j DSCP --set-dscp -1").contains("0-63"));
        assert!(err4("-j DSCP --set-dscp 10 --set-dscp-class EF").contains("cannot be used together"));
    }
}
