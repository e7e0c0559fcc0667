//! `-m length` (libxt_length): the length of the packet (the layer-3 payload with its header).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// `-m length --length min[:max]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Length {
    /// `(min, max)`, inclusive; iptables 1.8.9 does not check `min <= max`.
    pub length: Neg<(u16, u16)>,
}

const LENGTH: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "length",
    availability: Availability::Both,
    options: &[OptionSpec::value("length", LENGTH).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(LENGTH, "length") {
        return None;
    }
    let opt = b.get(LENGTH)?;
    let (min, max) = b.uint_range(opt, u16::MAX as u64)?;
    let range = (min as u16, max.unwrap_or(min) as u16);
    Some(MatchKind::Length(Length { length: b.neg(opt, range) }))
}

impl Length {
    pub fn save(&self, out: &mut String) {
        let (min, max) = self.length.value;
        let text = if min == max { min.to_string() } else { format!("{min}:{max}") };
        super::save::save_opt_value(out, self.length.invert, "length", text);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_ranges() {
        assert_eq!(v4("-m length --length 100"), "-m length --length 100");
        assert_eq!(v4("-m length ! --length 0x10:"), "-m length ! --length 16:65535");
        assert_eq!(v4("-m length --length :1500"), "-m length --length 0:1500");
        assert_eq!(v4("-m length --length 200:100"), "-m length --length 200:100");
        assert_eq!(v6("-m length --length 60:60"), "-m length --length 60");
        same(Family::Ipv4, "-m length --length 5:5", "-m length --length 5");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m length").contains("`--length`"));
        assert!(err4("-m length --length 65536").contains("0-65535"));
        assert!(err4("-m length --length 1:2:3").contains("two numbers at most"));
        assert!(err4("-m length --length 1-2").contains("0-65535"));
    }
}
