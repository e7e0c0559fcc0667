//! `-j IDLETIMER` (libxt_IDLETIMER, revision 1): start or restart a timer, named by a label,
//! that notifies user space (sysfs) when no packet has hit it for a while.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `MAX_IDLETIMER_LABEL_SIZE` less the final NUL.
pub const MAX_LABEL: usize = 27;

/// `-j IDLETIMER --timeout SECONDS --label NAME [--alarm]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Idletimer {
    pub timeout: u32,
    pub label: Box<str>,
    /// `--alarm`: an alarm timer, which also runs while the system sleeps.
    pub alarm: bool,
}

const TIMEOUT: u8 = 0;
const LABEL: u8 = 1;
const ALARM: u8 = 2;

pub static SPEC: TargetSpec = TargetSpec {
    name: "IDLETIMER",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("timeout", TIMEOUT),
        OptionSpec::value("label", LABEL),
        OptionSpec::flag("alarm", ALARM),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let timeout = b.require(TIMEOUT, "timeout");
    let label = b.require(LABEL, "label");
    let timeout = b.number(timeout?, 0, u32::MAX as u64)? as u32;
    let label = b.kept(label?, MAX_LABEL);
    Some(TargetKind::Idletimer(Box::new(Idletimer { timeout, label, alarm: b.has(ALARM) })))
}

impl Idletimer {
    pub fn save(&self, out: &mut String) {
        // the label is printed with %s: not quoted
        out.push_str(&format!(" --timeout {} --label {}", self.timeout, self.label));
        if self.alarm {
            out.push_str(" --alarm");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn saves_timeout_and_label() {
        assert_eq!(save4("-j IDLETIMER --timeout 10 --label foo"), "-j IDLETIMER --timeout 10 --label foo");
        assert_eq!(
            save4("-j IDLETIMER --label x --alarm --timeout 0x10"),
            "-j IDLETIMER --timeout 16 --label x --alarm"
        );
        assert_eq!(save4("-j IDLETIMER --timeout 10 --label \"a b\""), "-j IDLETIMER --timeout 10 --label a b");
        assert_eq!(
            save6("-j IDLETIMER --timeout 7 --label six --alarm"),
            "-j IDLETIMER --timeout 7 --label six --alarm"
        );
        let long = "l".repeat(28);
        assert_eq!(
            save4(&format!("-j IDLETIMER --timeout 10 --label {long}")),
            format!("-j IDLETIMER --timeout 10 --label {}", "l".repeat(27))
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j IDLETIMER --timeout 10").contains("`--label`"));
        assert!(err4("-j IDLETIMER --label foo").contains("`--timeout`"));
        assert!(err4("-j IDLETIMER --timeout 4294967296 --label a").contains("0-4294967295"));
        assert!(err4("-j IDLETIMER --timeout 10 --label a --alarm --alarm").contains("given twice"));
        assert!(err4("-j IDLETIMER --timeout 10 --label foo --send_nl_msg").contains("unknown option"));
    }
}
