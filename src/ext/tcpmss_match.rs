//! `-m tcpmss` (libxt_tcpmss): the MSS option of a TCP SYN. The kernel takes it only on rules
//! with `-p tcp`.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, Proto};

/// `-m tcpmss --mss min[:max]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tcpmss {
    pub mss: Neg<(u16, u16)>,
}

const MSS: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "tcpmss",
    availability: Availability::Both,
    options: &[OptionSpec::value("mss", MSS).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(MSS, "mss") {
        return None;
    }
    let opt = b.get(MSS)?;
    let (min, max) = b.uint_range(opt, u16::MAX as u64)?;
    let max = max.unwrap_or(min);
    if max < min {
        b.bad_value(opt, format!("a range `min:max` with min at most max ({min} is above {max})"));
        return None;
    }
    Some(MatchKind::Tcpmss(Tcpmss { mss: b.neg(opt, (min as u16, max as u16)) }))
}

impl Tcpmss {
    /// The protocol the kernel requires on the rule.
    pub const PROTO: Proto = Proto::TCP;

    pub fn save(&self, out: &mut String) {
        let (min, max) = self.mss.value;
        let text = if min == max { min.to_string() } else { format!("{min}:{max}") };
        super::save::save_opt_value(out, self.mss.invert, "mss", text);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_ranges() {
        assert_eq!(v4("-p tcp -m tcpmss --mss 1400"), "-p tcp -m tcpmss --mss 1400");
        assert_eq!(v4("-p tcp -m tcpmss ! --mss 1000:1500"), "-p tcp -m tcpmss ! --mss 1000:1500");
        assert_eq!(v4("-p tcp -m tcpmss --mss :536"), "-p tcp -m tcpmss --mss 0:536");
        assert_eq!(v4("-p tcp -m tcpmss --mss 1400:1400"), "-p tcp -m tcpmss --mss 1400");
        assert_eq!(v6("-p tcp -m tcpmss --mss 1220:"), "-p tcp -m tcpmss --mss 1220:65535");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p tcp -m tcpmss").contains("`--mss`"));
        assert!(err4("-p tcp -m tcpmss --mss 1500:1000").contains("1500 is above 1000"));
    }
}
