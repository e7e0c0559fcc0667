//! `-m icmp` (libipt_icmp, IPv4) and `-m icmp6` (libip6t_icmp6, IPv6): ICMP type and code.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, num};

/// An ICMP type with a range of codes (`0..=255` when no code is given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct IcmpType {
    /// 255 with codes 0-255 is `any` (IPv4 only).
    #[serde(rename = "type")]
    pub kind: u8,
    pub code_min: u8,
    pub code_max: u8,
}

/// `-m icmp --icmp-type T` or `-m icmp6 --icmpv6-type T`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Icmp {
    pub icmp_type: Neg<IcmpType>,
}

impl IcmpType {
    pub const ANY: IcmpType = IcmpType { kind: 255, code_min: 0, code_max: 255 };

    pub fn is_any(self) -> bool {
        self == IcmpType::ANY
    }

    /// Whether a packet of this type and code matches.
    pub fn matches(self, kind: u8, code: u8) -> bool {
        self.is_any() || (kind == self.kind && (self.code_min..=self.code_max).contains(&code))
    }
}

/// `(name, type, code_min, code_max)`: the names iptables accepts for ICMP.
pub const ICMP_NAMES: &[(&str, u8, u8, u8)] = &[
    ("any", 255, 0, 255),
    ("echo-reply", 0, 0, 255),
    ("pong", 0, 0, 255),
    ("destination-unreachable", 3, 0, 255),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 255),
    ("redirect", 5, 0, 255),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 255),
    ("ping", 8, 0, 255),
    ("router-advertisement", 9, 0, 255),
    ("router-solicitation", 10, 0, 255),
    ("time-exceeded", 11, 0, 255),
    ("ttl-exceeded", 11, 0, 255),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 255),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 255),
    ("timestamp-reply", 14, 0, 255),
    ("address-mask-request", 17, 0, 255),
    ("address-mask-reply", 18, 0, 255),
];

/// The names iptables 1.8.9 accepts for ICMPv6 (the MLD names came later).
pub const ICMPV6_NAMES: &[(&str, u8, u8, u8)] = &[
    ("destination-unreachable", 1, 0, 255),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 255),
    ("time-exceeded", 3, 0, 255),
    ("ttl-exceeded", 3, 0, 255),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 255),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 255),
    ("ping", 128, 0, 255),
    ("echo-reply", 129, 0, 255),
    ("pong", 129, 0, 255),
    ("router-solicitation", 133, 0, 255),
    ("router-advertisement", 134, 0, 255),
    ("neighbour-solicitation", 135, 0, 255),
    ("neighbor-solicitation", 135, 0, 255),
    ("neighbour-advertisement", 136, 0, 255),
    ("neighbor-advertisement", 136, 0, 255),
    ("redirect", 137, 0, 255),
];

/// Reads a type as iptables does: a name or any unambiguous prefix of one (any case), or
/// `type`, `type/code` or `type/lo:hi` in numbers, where `type` may be written `type:type`.
pub fn parse_icmp_type(text: &str, names: &[(&str, u8, u8, u8)]) -> Result<IcmpType, String> {
    let lower = text.to_ascii_lowercase();
    let mut found: Option<&(&str, u8, u8, u8)> = None;
    for entry in names.iter().filter(|(name, ..)| name.to_ascii_lowercase().starts_with(&lower)) {
        if let Some(first) = found {
            return Err(format!("ambiguous: `{}` or `{}`?", first.0, entry.0));
        }
        found = Some(entry);
    }
    if let Some(&(_, kind, code_min, code_max)) = found {
        return Ok(IcmpType { kind, code_min, code_max });
    }
    let unknown = || format!("`{text}` is no type name, and not `type[/code]`");
    let (kind, mut rest) = num::uint_prefix(text, 0, 255).ok_or_else(unknown)?;
    // `type:type` is read as a range, and only a range of one type is taken (checked on a
    // kernel: `0:0` and `8:8/0` load, `0:5` does not)
    if let Some(last) = rest.strip_prefix(':') {
        let (last, after) = num::uint_prefix(last, 0, 255).ok_or_else(unknown)?;
        if last != kind {
            return Err("type ranges are not supported".to_string());
        }
        rest = after;
    }
    let kind = kind as u8;
    // type 255 matches every ICMP packet in the kernel, whatever the code
    if kind == 255 && names.iter().any(|(n, ..)| *n == "any") && (rest.is_empty() || rest.starts_with('/')) {
        return Ok(IcmpType::ANY);
    }
    if rest.is_empty() {
        return Ok(IcmpType { kind, code_min: 0, code_max: 255 });
    }
    let code = rest.strip_prefix('/').ok_or_else(unknown)?;
    let (lo, rest) = num::uint_prefix(code, 0, 255).ok_or_else(unknown)?;
    let (hi, rest) = match rest.strip_prefix(':') {
        Some(hi) => num::uint_prefix(hi, 0, 255).ok_or_else(unknown)?,
        None => (lo, rest),
    };
    if !rest.is_empty() {
        return Err(unknown());
    }
    Ok(IcmpType { kind, code_min: lo as u8, code_max: hi as u8 })
}

const ICMP_TYPE: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "icmp",
    availability: Availability::Ipv4,
    options: &[OptionSpec::value("icmp-type", ICMP_TYPE).invertible()],
    build: build_icmp,
};

pub static SPEC6: MatchSpec = MatchSpec {
    name: "icmp6",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("icmpv6-type", ICMP_TYPE).invertible()],
    build: build_icmp6,
};

fn build_icmp(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build_with(b, ICMP_NAMES, "icmp-type").map(MatchKind::Icmp)
}

fn build_icmp6(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build_with(b, ICMPV6_NAMES, "icmpv6-type").map(MatchKind::Icmp6)
}

fn build_with(b: &mut Build<'_, '_>, names: &[(&str, u8, u8, u8)], option: &str) -> Option<Icmp> {
    let Some(opt) = b.get(ICMP_TYPE) else {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: format!("`--{option}`") });
        return None;
    };
    match parse_icmp_type(opt.value(), names) {
        Ok(t) => Some(Icmp { icmp_type: b.neg(opt, t) }),
        Err(why) => {
            b.bad_value(opt, format!("an ICMP type name or number ({why})"));
            None
        }
    }
}

impl Icmp {
    /// `name` is `icmp-type` or `icmpv6-type`.
    pub fn save(&self, out: &mut String, name: &str) {
        let t = self.icmp_type.value;
        let text = if t.is_any() && name == "icmp-type" {
            "any".to_string()
        } else if t.code_min == 0 && t.code_max == 255 {
            t.kind.to_string()
        } else if t.code_min == t.code_max {
            format!("{}/{}", t.kind, t.code_min)
        } else {
            // iptables-save prints only the low code here and so loses the range; ipt keeps it
            format!("{}/{}:{}", t.kind, t.code_min, t.code_max)
        };
        save_opt_value(out, self.icmp_type.invert, name, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_prefixes_and_numbers() {
        assert_eq!(parse_icmp_type("echo-request", ICMP_NAMES), Ok(IcmpType { kind: 8, code_min: 0, code_max: 255 }));
        assert_eq!(parse_icmp_type("PORT-UNREACH", ICMP_NAMES), Ok(IcmpType { kind: 3, code_min: 3, code_max: 3 }));
        assert!(parse_icmp_type("echo", ICMP_NAMES).unwrap_err().starts_with("ambiguous"));
        assert_eq!(parse_icmp_type("3/4", ICMP_NAMES), Ok(IcmpType { kind: 3, code_min: 4, code_max: 4 }));
        assert_eq!(parse_icmp_type("any", ICMP_NAMES), Ok(IcmpType::ANY));
        assert!(parse_icmp_type("3:4", ICMP_NAMES).is_err());
    }

    #[test]
    fn a_range_of_one_type_is_that_type() {
        assert_eq!(parse_icmp_type("0:0", ICMP_NAMES), Ok(IcmpType { kind: 0, code_min: 0, code_max: 255 }));
        assert_eq!(parse_icmp_type("0x3:03/1", ICMP_NAMES), Ok(IcmpType { kind: 3, code_min: 1, code_max: 1 }));
        assert_eq!(parse_icmp_type("255:255", ICMP_NAMES), Ok(IcmpType::ANY));
        assert_eq!(parse_icmp_type("3:4", ICMP_NAMES), Err("type ranges are not supported".to_string()));
        assert!(parse_icmp_type("3:", ICMP_NAMES).unwrap_err().contains("no type name"));
        assert!(parse_icmp_type("3:3:3", ICMP_NAMES).unwrap_err().contains("no type name"));
    }
}
