//! `-m quota` (libxt_quota): matches until a byte count is used up (`!`: after it is).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// `-m quota --quota BYTES`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Quota {
    pub quota: Neg<u64>,
}

const QUOTA: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "quota",
    availability: Availability::Both,
    options: &[OptionSpec::value("quota", QUOTA).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(QUOTA, "quota") {
        return None;
    }
    let opt = b.get(QUOTA)?;
    let bytes = b.number(opt, 0, u64::MAX)?;
    Some(MatchKind::Quota(Box::new(Quota { quota: b.neg(opt, bytes) })))
}

impl Quota {
    pub fn save(&self, out: &mut String) {
        super::save::save_opt_value(out, self.quota.invert, "quota", self.quota.value);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_bytes() {
        assert_eq!(v4("-m quota ! --quota 0x10"), "-m quota ! --quota 16");
        assert_eq!(v6("-m quota --quota 18446744073709551615"), "-m quota --quota 18446744073709551615");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m quota").contains("`--quota`"));
        assert!(err4("-m quota --quota 18446744073709551616").contains("0-18446744073709551615"));
    }
}
