//! `-m ttl` (libipt_ttl, IPv4) and `-m hl` (libip6t_hl, IPv6): compare the packet's time to
//! live or hop limit with a number.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// How the TTL (hop limit) is compared, as the kernel's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TtlOp {
    /// `--ttl-eq N`.
    Eq,
    /// `! --ttl-eq N`.
    Ne,
    /// `--ttl-lt N`.
    Lt,
    /// `--ttl-gt N`.
    Gt,
}

/// `-m ttl --ttl-eq 64` or `-m hl --hl-lt 2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ttl {
    pub op: TtlOp,
    pub value: u8,
}

impl Ttl {
    /// Whether a packet with this TTL matches.
    pub fn matches(self, ttl: u8) -> bool {
        match self.op {
            TtlOp::Eq => ttl == self.value,
            TtlOp::Ne => ttl != self.value,
            TtlOp::Lt => ttl < self.value,
            TtlOp::Gt => ttl > self.value,
        }
    }

    /// Writes the options with the module's prefix (`ttl` or `hl`).
    pub fn save(&self, out: &mut String, prefix: &str) {
        let (bang, op) = match self.op {
            TtlOp::Eq => ("", "eq"),
            TtlOp::Ne => (" !", "eq"),
            TtlOp::Lt => ("", "lt"),
            TtlOp::Gt => ("", "gt"),
        };
        out.push_str(&format!("{bang} --{prefix}-{op} {}", self.value));
    }
}

const EQ: u8 = 0;
const LT: u8 = 1;
const GT: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "ttl",
    availability: Availability::Ipv4,
    options: &[
        OptionSpec::value("ttl-lt", LT),
        OptionSpec::value("ttl-gt", GT),
        OptionSpec::value("ttl-eq", EQ).invertible(),
        // iptables takes an alias's flags from the first option of its id: `! --ttl 5` is fine
        OptionSpec::value("ttl", EQ).invertible(),
    ],
    build: build_ttl,
};

pub static HL_SPEC: MatchSpec = MatchSpec {
    name: "hl",
    availability: Availability::Ipv6,
    options: &[
        OptionSpec::value("hl-lt", LT),
        OptionSpec::value("hl-gt", GT),
        OptionSpec::value("hl-eq", EQ).invertible(),
        OptionSpec::value("hl", EQ).invertible(),
    ],
    build: build_hl,
};

fn build_ttl(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b, "ttl").map(MatchKind::Ttl)
}

fn build_hl(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b, "hl").map(MatchKind::Hl)
}

fn build(b: &mut Build<'_, '_>, prefix: &str) -> Option<Ttl> {
    if !b.exclusive(&[EQ, LT, GT]) {
        return None;
    }
    let Some(opt) = b.opts.first() else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: format!("one of `--{prefix}-eq`, `--{prefix}-lt`, `--{prefix}-gt`"),
        });
        return None;
    };
    let value = b.number(opt, 0, 255)? as u8;
    let op = match opt.id {
        EQ if opt.invert => TtlOp::Ne,
        EQ => TtlOp::Eq,
        LT => TtlOp::Lt,
        _ => TtlOp::Gt,
    };
    Some(Ttl { op, value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, err6, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_each_comparison() {
        assert_eq!(v4("-m ttl --ttl-eq 64 -j ACCEPT"), "-m ttl --ttl-eq 64 -j ACCEPT");
        assert_eq!(v4("-m ttl ! --ttl-eq 0x40"), "-m ttl ! --ttl-eq 64");
        assert_eq!(v4("-m ttl --ttl 64"), "-m ttl --ttl-eq 64");
        assert_eq!(v4("-m ttl --ttl-lt 1"), "-m ttl --ttl-lt 1");
        assert_eq!(v4("-m ttl --ttl-gt 255"), "-m ttl --ttl-gt 255");
        assert_eq!(v6("-m hl --hl 5"), "-m hl --hl-eq 5");
        assert_eq!(v6("-m hl ! --hl-eq 5"), "-m hl ! --hl-eq 5");
        assert_eq!(v6("-m hl ! --hl 3"), "-m hl ! --hl-eq 3");
        assert_eq!(v4("-m ttl ! --ttl 5"), "-m ttl ! --ttl-eq 5");
        assert_eq!(v4("-m ttl --ttl-e 7"), "-m ttl --ttl-eq 7");
        assert_eq!(v6("-m hl --hl-gt 0"), "-m hl --hl-gt 0");
        same(Family::Ipv4, "-m ttl --ttl 010", "-m ttl --ttl-eq 8");
        assert!(Ttl { op: TtlOp::Ne, value: 3 }.matches(4));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m ttl").contains("one of `--ttl-eq`, `--ttl-lt`, `--ttl-gt`"));
        assert!(err4("-m ttl --ttl-eq 256").contains("a number 0-255"));
        assert!(err4("-m ttl --ttl-eq 1 --ttl-gt 2").contains("cannot be used together"));
        assert!(err4("-m ttl ! --ttl-lt 1").contains("cannot come before `--ttl-lt`"));
        assert!(err4("-m ttl --ttl 1 --ttl-eq 1").contains("given twice"));
        assert!(err4("-m hl --hl-eq 1").contains("IPv6 extension"));
        assert!(err6("-m ttl --ttl-eq 1").contains("IPv4 extension"));
        assert!(err6("-m hl --hl-eq -1").contains("a number 0-255"));
    }
}
