//! `-j TTL` (libipt_TTL) and `-j HL` (libip6t_HL): set, decrease or increase the IPv4 time to
//! live or the IPv6 hop limit (mangle table).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// What TTL or HL does to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HopLimit {
    /// 0-255.
    Set(u8),
    /// 1-255.
    Dec(u8),
    /// 1-255.
    Inc(u8),
}

const SET: u8 = 0;
const DEC: u8 = 1;
const INC: u8 = 2;

pub static TTL_SPEC: TargetSpec = TargetSpec {
    name: "TTL",
    availability: Availability::Ipv4,
    options: &[OptionSpec::value("ttl-set", SET), OptionSpec::value("ttl-dec", DEC), OptionSpec::value("ttl-inc", INC)],
    build: |b| build(b, "ttl").map(TargetKind::Ttl),
};

pub static HL_SPEC: TargetSpec = TargetSpec {
    name: "HL",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("hl-set", SET), OptionSpec::value("hl-dec", DEC), OptionSpec::value("hl-inc", INC)],
    build: |b| build(b, "hl").map(TargetKind::Hl),
};

fn build(b: &mut Build<'_, '_>, prefix: &str) -> Option<HopLimit> {
    let ok = b.at_most_one(&[SET, DEC, INC]);
    let Some(opt) = b.opts.first() else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: format!("one of `--{prefix}-set`, `--{prefix}-dec`, `--{prefix}-inc`"),
        });
        return None;
    };
    let op = match opt.id {
        SET => HopLimit::Set(b.number(opt, 0, 255)? as u8),
        DEC => HopLimit::Dec(b.number(opt, 1, 255)? as u8),
        _ => HopLimit::Inc(b.number(opt, 1, 255)? as u8),
    };
    ok.then_some(op)
}

impl HopLimit {
    /// `prefix` is `ttl` or `hl`.
    pub fn save(&self, out: &mut String, prefix: &str) {
        let (what, n) = match self {
            HopLimit::Set(n) => ("set", n),
            HopLimit::Dec(n) => ("dec", n),
            HopLimit::Inc(n) => ("inc", n),
        };
        out.push_str(&format!(" --{prefix}-{what} {n}"));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6};

    #[test]
    fn saves_the_operation() {
        assert_eq!(save4("-j TTL --ttl-set 64"), "-j TTL --ttl-set 64");
        assert_eq!(save4("-j TTL --ttl-set 0x40"), "-j TTL --ttl-set 64");
        assert_eq!(save4("-j TTL --ttl-dec 1"), "-j TTL --ttl-dec 1");
        assert_eq!(save4("-j TTL --ttl-inc 255"), "-j TTL --ttl-inc 255");
        assert_eq!(save6("-j HL --hl-set 0"), "-j HL --hl-set 0");
        assert_eq!(save6("-j HL --hl-dec 255"), "-j HL --hl-dec 255");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j TTL").contains("one of `--ttl-set`"));
        assert!(err4("-j TTL --ttl-set 256").contains("0-255"));
        assert!(err4("-j TTL --ttl-dec 0").contains("1-255"));
        assert!(err4("-j TTL --ttl-set 64 --ttl-dec 1").contains("cannot be used together"));
        assert!(err6("-j HL --hl-inc 256").contains("1-255"));
        assert!(err6("-j HL").contains("one of `--hl-set`"));
        assert!(err6("-j TTL --ttl-set 5").contains("IPv4 extension"));
        assert!(err4("-j HL --hl-set 5").contains("IPv6 extension"));
    }
}
