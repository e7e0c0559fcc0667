//! `-j TOS` (libxt_TOS, revision 1): change bits of the IPv4 TOS byte or IPv6 traffic class:
//! `tos = (tos & !mask) ^ value`, whichever spelling is used.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// The TOS names iptables knows, with their values (`IPTOS_*`).
const SYMBOLS: &[(&str, u8)] = &[
    ("Minimize-Delay", 0x10),
    ("Maximize-Throughput", 0x08),
    ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02),
    ("Normal-Service", 0x00),
];

/// A symbolic name sets only the low six bits: the precedence bits are zeroed too, but the two
/// ECN bits are left alone.
const SYMBOL_MASK: u8 = 0x3f;

/// `tos = (tos & !mask) ^ value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tos {
    pub value: u8,
    pub mask: u8,
}

const SET_TOS: u8 = 0;
const AND_TOS: u8 = 1;
const OR_TOS: u8 = 2;
const XOR_TOS: u8 = 3;

pub static SPEC: TargetSpec = TargetSpec {
    name: "TOS",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("set-tos", SET_TOS),
        OptionSpec::value("and-tos", AND_TOS),
        OptionSpec::value("or-tos", OR_TOS),
        OptionSpec::value("xor-tos", XOR_TOS),
    ],
    build,
};

/// `--set-tos`: `value[/mask]` in numbers 0-255 (mask 0xff by default), or a symbolic name in
/// any case (mask 0x3f).
pub fn parse_set_tos(text: &str) -> Result<Tos, &'static str> {
    let Some((value, rest)) = num::uint_prefix(text, 0, 255) else {
        return SYMBOLS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|&(_, value)| Tos { value, mask: SYMBOL_MASK })
            .ok_or("a number 0-255 with an optional `/mask`, or a name: Minimize-Delay, Maximize-Throughput, Maximize-Reliability, Minimize-Cost, Normal-Service");
    };
    let mask = match rest {
        "" => 0xff,
        _ => rest.strip_prefix('/').and_then(|m| num::uint(m, 0, 255)).ok_or("`value/mask`, both numbers 0-255")?,
    };
    Ok(Tos { value: value as u8, mask: mask as u8 })
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let ok = b.at_most_one(&[SET_TOS, AND_TOS, OR_TOS, XOR_TOS]);
    let Some(opt) = b.opts.first() else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "one of `--set-tos`, `--and-tos`, `--or-tos`, `--xor-tos`".into(),
        });
        return None;
    };
    let tos = match opt.id {
        SET_TOS => match parse_set_tos(opt.value()) {
            Ok(t) => t,
            Err(expected) => {
                b.bad_value(opt, expected);
                return None;
            }
        },
        id => {
            let bits = b.number(opt, 0, 255)? as u8;
            match id {
                AND_TOS => Tos { value: 0, mask: !bits },
                OR_TOS => Tos { value: bits, mask: bits },
                _ => Tos { value: bits, mask: 0 },
            }
        }
    };
    ok.then_some(TargetKind::Tos(tos))
}

impl Tos {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --set-tos 0x{:02x}/0x{:02x}", self.value, self.mask));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4};

    fn saved(options: &str) -> String {
        save4(&format!("-j TOS {options}")).trim_start_matches("-j TOS ").to_string()
    }

    #[test]
    fn every_spelling_is_value_and_mask() {
        assert_eq!(saved("--set-tos 0x10"), "--set-tos 0x10/0xff");
        assert_eq!(saved("--set-tos 16"), "--set-tos 0x10/0xff");
        assert_eq!(saved("--set-tos 0/0"), "--set-tos 0x00/0x00");
        assert_eq!(saved("--and-tos 0x3f"), "--set-tos 0x00/0xc0");
        assert_eq!(saved("--and-tos 0"), "--set-tos 0x00/0xff");
        assert_eq!(saved("--or-tos 0x10"), "--set-tos 0x10/0x10");
        assert_eq!(saved("--xor-tos 0x12"), "--set-tos 0x12/0x00");
        assert_eq!(target4("-j TOS --or-tos 0xff"), target4("-j TOS --set-tos 0xff/0xff"));
    }

    #[test]
    fn names_keep_the_ecn_bits() {
        assert_eq!(saved("--set-tos Minimize-Delay"), "--set-tos 0x10/0x3f");
        assert_eq!(saved("--set-tos minimize-delay"), "--set-tos 0x10/0x3f");
        assert_eq!(saved("--set-tos Normal-Service"), "--set-tos 0x00/0x3f");
        assert_eq!(save6("-j TOS --set-tos Minimize-Cost"), "-j TOS --set-tos 0x02/0x3f");
        assert_ne!(target4("-j TOS --set-tos Minimize-Delay"), target4("-j TOS --set-tos 0x10"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j TOS").contains("one of `--set-tos`"));
        assert!(err4("-j TOS --set-tos 0x100").contains("a number 0-255"));
        assert!(err4("-j TOS --set-tos foo").contains("Minimize-Delay"));
        assert!(err4("-j TOS --set-tos 16x").contains("value/mask"));
        assert!(err4("-j TOS --set-tos 0x10/0x3f0").contains("value/mask"));
        assert!(err4("-j TOS --set-tos Normal-Service/0xff").contains("a number 0-255"));
        assert!(err4("-j TOS --and-tos 256").contains("0-255"));
        assert!(err4("-j TOS --set-tos 1 --or-tos 2").contains("cannot be used together"));
    }
}
