//! `-m ah` (libipt_ah for IPv4, libip6t_ah for IPv6) and `-m esp` (libxt_esp): the SPI of an
//! IPsec header; in IPv6 also the AH header's length and reserved field. The kernel takes `-m esp`
//! only on rules with `-p esp`, and IPv4's `-m ah` only with `-p ah`; IPv6's `-m ah` finds the
//! header itself (there `-p ah` never matches: ip6tables warns about it).

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, Proto};

/// An SPI range; the kernel always compares it, so `None` in the models is `0:4294967295`.
pub type SpiRange = (u32, u32);

/// Reads `--ahspi`/`--espspi`: `spi` or `lo:hi` (`XTTYPE_UINT32RC`).
fn parse_spis(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<Option<Neg<SpiRange>>> {
    let (lo, hi) = b.uint_range(opt, u32::MAX as u64)?;
    let range = (lo as u32, hi.unwrap_or(lo) as u32);
    Some((range != (0, u32::MAX) || opt.invert).then(|| b.neg(opt, range)))
}

/// iptables-save leaves out the whole range, negated or not (a negated one never matches).
fn save_spis(out: &mut String, name: &str, spis: &Option<Neg<SpiRange>>) {
    if let Some(s) = spis
        && s.value != (0, u32::MAX)
    {
        let (lo, hi) = s.value;
        let text = if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") };
        save_opt_value(out, s.invert, name, text);
    }
}

/// `-m ah`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ah {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spis: Option<Neg<SpiRange>>,
    /// `--ahlen N` (IPv6): the header's length field; 0 and not negated is the same as absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<Neg<u32>>,
    /// `--ahres` (IPv6): the reserved field is zero.
    pub res: bool,
}

/// `-m esp`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Esp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spis: Option<Neg<SpiRange>>,
}

const SPI: u8 = 0;
const LEN: u8 = 1;
const RES: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "ah",
    availability: Availability::Ipv4,
    options: &[OptionSpec::value("ahspi", SPI).invertible()],
    build: build_ah,
};

pub static SPEC6: MatchSpec = MatchSpec {
    name: "ah",
    availability: Availability::Ipv6,
    options: &[
        OptionSpec::value("ahspi", SPI).invertible(),
        OptionSpec::value("ahlen", LEN).invertible(),
        OptionSpec::flag("ahres", RES),
    ],
    build: build_ah,
};

pub static ESP_SPEC: MatchSpec = MatchSpec {
    name: "esp",
    availability: Availability::Both,
    options: &[OptionSpec::value("espspi", SPI).invertible()],
    build: build_esp,
};

fn build_ah(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ah = Ah::default();
    let mut ok = true;
    if let Some(opt) = b.get(SPI) {
        match parse_spis(b, opt) {
            Some(s) => ah.spis = s,
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(LEN) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(v) if v != 0 || opt.invert => ah.len = Some(b.neg(opt, v as u32)),
            Some(_) => {}
            None => ok = false,
        }
    }
    ah.res = b.has(RES);
    ok.then(|| MatchKind::Ah(Box::new(ah)))
}

fn build_esp(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut esp = Esp::default();
    if let Some(opt) = b.get(SPI) {
        esp.spis = parse_spis(b, opt)?;
    }
    Some(MatchKind::Esp(esp))
}

impl Ah {
    /// The protocol the kernel requires on IPv4 rules.
    pub const PROTO: Proto = Proto(51);

    pub fn save(&self, out: &mut String) {
        save_spis(out, "ahspi", &self.spis);
        if let Some(l) = &self.len {
            save_opt_value(out, l.invert, "ahlen", l.value);
        }
        if self.res {
            out.push_str(" --ahres");
        }
    }
}

impl Esp {
    /// The protocol the kernel requires on the rule.
    pub const PROTO: Proto = Proto(50);

    pub fn save(&self, out: &mut String) {
        save_spis(out, "espspi", &self.spis);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_spis() {
        assert_eq!(v4("-p ah -m ah --ahspi 500"), "-p ah -m ah --ahspi 500");
        assert_eq!(v4("-p ah -m ah ! --ahspi 1:0x10"), "-p ah -m ah ! --ahspi 1:16");
        assert_eq!(v4("-p ah -m ah ! --ahspi :"), "-p ah -m ah");
        assert_eq!(v4("-p esp -m esp --espspi 7:"), "-p esp -m esp --espspi 7:4294967295");
        assert_eq!(v6("-p esp -m esp ! --espspi 5:5"), "-p esp -m esp ! --espspi 5");
        assert_eq!(v6("-p ah -m ah --ahres --ahlen 0 --ahspi 9"), "-p ah -m ah --ahspi 9 --ahres");
        assert_eq!(v6("-p ah -m ah ! --ahlen 0"), "-p ah -m ah ! --ahlen 0");
        assert_eq!(v6("-p ah -m ah --ahl 3"), "-p ah -m ah --ahlen 3");
        same(Family::Ipv4, "-p ah -m ah --ahspi 0:4294967295", "-p ah -m ah");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p ah -m ah --ahlen 3").contains("unknown option"));
        assert!(err4("-p ah -m ah --ahres").contains("unknown option"));
        assert!(err4("-p ah -m ah --ahspi 1:2:3").contains("two numbers at most"));
        assert!(err6("-p ah -m ah ! --ahres").contains("cannot come before"));
        assert!(err6("-p esp -m esp --espspi 4294967296").contains("0-4294967295"));
    }
}
