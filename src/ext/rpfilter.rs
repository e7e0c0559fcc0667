//! `-m rpfilter` (libxt_rpfilter): reverse path filtering, a route lookup of the source address.
//! The kernel takes it only in PREROUTING of the raw and mangle tables.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// `-m rpfilter` and its flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Rpfilter {
    /// `--loose`: the reverse path may use any interface.
    pub loose: bool,
    /// `--validmark`: the lookup uses the packet's mark.
    pub validmark: bool,
    /// `--accept-local`: a local source address passes.
    pub accept_local: bool,
    /// `--invert`: match the packets that fail the test.
    pub invert: bool,
}

const LOOSE: u8 = 0;
const VALIDMARK: u8 = 1;
const ACCEPT_LOCAL: u8 = 2;
const INVERT: u8 = 3;

pub static SPEC: MatchSpec = MatchSpec {
    name: "rpfilter",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("loose", LOOSE),
        OptionSpec::flag("validmark", VALIDMARK),
        OptionSpec::flag("accept-local", ACCEPT_LOCAL),
        OptionSpec::flag("invert", INVERT),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    Some(MatchKind::Rpfilter(Rpfilter {
        loose: b.has(LOOSE),
        validmark: b.has(VALIDMARK),
        accept_local: b.has(ACCEPT_LOCAL),
        invert: b.has(INVERT),
    }))
}

impl Rpfilter {
    pub fn save(&self, out: &mut String) {
        for (on, name) in [
            (self.loose, " --loose"),
            (self.validmark, " --validmark"),
            (self.accept_local, " --accept-local"),
            (self.invert, " --invert"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::saved_in;
    use crate::model::Family;

    fn raw(rule: &str) -> Result<String, String> {
        saved_in(Family::Ipv4, "raw", "PREROUTING", rule)
    }

    #[test]
    fn saves_flags_in_order() {
        assert_eq!(raw("-m rpfilter").as_deref(), Ok("-m rpfilter"));
        assert_eq!(
            raw("-m rpfilter --invert --accept-local --validmark --loose").as_deref(),
            Ok("-m rpfilter --loose --validmark --accept-local --invert")
        );
        assert_eq!(raw("-m rpfilter --inv").as_deref(), Ok("-m rpfilter --invert"));
        assert_eq!(
            saved_in(Family::Ipv6, "raw", "PREROUTING", "-m rpfilter --validmark").as_deref(),
            Ok("-m rpfilter --validmark")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(raw("-m rpfilter --loose --loose").is_err_and(|e| e.contains("given twice")));
        assert!(raw("-m rpfilter ! --loose").is_err_and(|e| e.contains("cannot come before")));
    }
}
