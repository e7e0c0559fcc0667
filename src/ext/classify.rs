//! `-j CLASSIFY` (libxt_CLASSIFY): set the packet's priority, which selects a traffic control
//! class (`MAJOR:MINOR`, in hexadecimal).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `-j CLASSIFY --set-class MAJOR:MINOR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Classify {
    pub major: u16,
    pub minor: u16,
}

const SET_CLASS: u8 = 0;

pub static SPEC: TargetSpec = TargetSpec {
    name: "CLASSIFY",
    availability: Availability::Both,
    options: &[OptionSpec::value("set-class", SET_CLASS)],
    build,
};

/// C's `sscanf(s, "%x", &u)`: blanks, a sign, an optional `0x`, hex digits; the value is
/// `strtoul`'s (all ones on overflow, negated for `-`) cut to 32 bits. Returns the rest.
fn scan_hex(s: &str) -> Option<(u32, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (prefixed, s) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let len = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
    if len == 0 {
        // `0x` alone reads as 0 (glibc cannot push the `x` back)
        return prefixed.then_some((0, s));
    }
    let value = u64::from_str_radix(&s[..len], 16).unwrap_or(u64::MAX);
    let value = if negative { value.wrapping_neg() } else { value };
    Some((value as u32, &s[len..]))
}

/// `MAJOR:MINOR` as `sscanf("%x:%x")` reads it (what follows the minor is ignored); each part
/// keeps its low 16 bits.
pub fn parse_class(text: &str) -> Option<Classify> {
    let (major, rest) = scan_hex(text)?;
    let (minor, _) = scan_hex(rest.strip_prefix(':')?)?;
    Some(Classify { major: major as u16, minor: minor as u16 })
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let opt = b.require(SET_CLASS, "set-class")?;
    match parse_class(opt.value()) {
        Some(c) => Some(TargetKind::Classify(c)),
        None => {
            b.bad_value(opt, "`MAJOR:MINOR` in hexadecimal, such as `1:10`");
            None
        }
    }
}

impl Classify {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --set-class {:04x}:{:04x}", self.major, self.minor));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    fn saved(class: &str) -> String {
        save4(&format!("-j CLASSIFY --set-class {class}")).trim_start_matches("-j CLASSIFY --set-class ").to_string()
    }

    #[test]
    fn classes_are_hexadecimal() {
        assert_eq!(saved("1:10"), "0001:0010");
        assert_eq!(saved("a:b"), "000a:000b");
        assert_eq!(saved("0x10:0x20"), "0010:0020");
        assert_eq!(saved("ffff:ffff"), "ffff:ffff");
        assert_eq!(save6("-j CLASSIFY --set-class ABCD:EF"), "-j CLASSIFY --set-class abcd:00ef");
    }

    #[test]
    fn reads_like_sscanf() {
        assert_eq!(saved("10000:1"), "0000:0001");
        assert_eq!(saved("123456789:1"), "6789:0001");
        assert_eq!(saved("-1:1"), "ffff:0001");
        assert_eq!(saved("1:+2"), "0001:0002");
        assert_eq!(saved("\" 1: 2\""), "0001:0002");
        assert_eq!(saved("1:2junk"), "0001:0002");
        assert_eq!(saved("0x:1"), "0000:0001");
        assert_eq!(saved("1:fffffffffffffffffffffff"), "0001:ffff");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j CLASSIFY").contains("`--set-class`"));
        assert!(err4("-j CLASSIFY --set-class 10").contains("MAJOR:MINOR"));
        assert!(err4("-j CLASSIFY --set-class 1:").contains("MAJOR:MINOR"));
        assert!(err4("-j CLASSIFY --set-class g:1").contains("MAJOR:MINOR"));
        assert!(err4("-j CLASSIFY --set-class \"1 :2\"").contains("MAJOR:MINOR"));
    }
}
