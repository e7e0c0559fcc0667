//! `-m tos` (libxt_tos, revision 1): the IPv4 type of service or IPv6 traffic class byte, under
//! a mask.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, num};

/// `value/mask`: matches when `tos & mask == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TosMask {
    pub value: u8,
    pub mask: u8,
}

/// The names iptables knows (any case); with a name the mask is 0x3f.
pub const TOS_NAMES: [(&str, u8); 5] = [
    ("Minimize-Delay", 0x10),
    ("Maximize-Throughput", 0x08),
    ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02),
    ("Normal-Service", 0x00),
];

impl TosMask {
    /// `XTTYPE_TOSMASK`: `value[/mask]` in C numbers (mask 0xff by default), or a name (with
    /// the mask `name_mask`). `Err` names what is wrong.
    pub fn parse(text: &str, name_mask: u8) -> Result<TosMask, &'static str> {
        if let Some((value, rest)) = num::uint_prefix(text, 0, 255) {
            let mask = match rest {
                "" => 0xff,
                _ => match rest.strip_prefix('/').and_then(|m| num::uint(m, 0, 255)) {
                    Some(m) => m,
                    None => return Err("numeric"),
                },
            };
            return Ok(TosMask { value: value as u8, mask: mask as u8 });
        }
        match TOS_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)) {
            Some(&(_, value)) => Ok(TosMask { value, mask: name_mask }),
            None => Err("name"),
        }
    }
}

/// Reports a value `TosMask::parse` refused.
pub fn bad_tos(b: &mut Build<'_, '_>, opt: &Opt<'_>, why: &str) {
    let expected = if why == "numeric" {
        "`value[/mask]`, two numbers 0-255".to_string()
    } else {
        let names: Vec<&str> = TOS_NAMES.iter().map(|(n, _)| *n).collect();
        format!("a number 0-255, `value/mask`, or one of {}", names.join(", "))
    };
    b.bad_value(opt, expected);
}

/// `-m tos --tos value[/mask]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tos {
    pub tos: Neg<TosMask>,
}

const TOS: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "tos",
    availability: Availability::Both,
    options: &[OptionSpec::value("tos", TOS).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(TOS, "tos") {
        return None;
    }
    let opt = b.get(TOS)?;
    match TosMask::parse(opt.value(), 0x3f) {
        Ok(t) => Some(MatchKind::Tos(Tos { tos: b.neg(opt, t) })),
        Err(why) => {
            bad_tos(b, opt, why);
            None
        }
    }
}

impl Tos {
    pub fn save(&self, out: &mut String) {
        let TosMask { value, mask } = self.tos.value;
        super::save::save_opt_value(out, self.tos.invert, "tos", format_args!("0x{value:02x}/0x{mask:02x}"));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_numbers_and_names() {
        assert_eq!(v4("-m tos --tos 0x10"), "-m tos --tos 0x10/0xff");
        assert_eq!(v4("-m tos ! --tos minimize-delay"), "-m tos ! --tos 0x10/0x3f");
        assert_eq!(v4("-m tos --tos 16/0x3f"), "-m tos --tos 0x10/0x3f");
        assert_eq!(v4("-m tos --tos 0xff/0"), "-m tos --tos 0xff/0x00");
        assert_eq!(v6("-m tos --tos Normal-Service"), "-m tos --tos 0x00/0x3f");
        same(Family::Ipv4, "-m tos --tos Minimize-Cost", "-m tos --tos 2/63");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m tos").contains("`--tos`"));
        assert!(err4("-m tos --tos 256").contains("one of Minimize-Delay"));
        assert!(err4("-m tos --tos 16abc").contains("two numbers 0-255"));
        assert!(err4("-m tos --tos 0x10/").contains("two numbers 0-255"));
        assert!(err4("-m tos --tos lowdelay").contains("one of Minimize-Delay"));
    }
}
