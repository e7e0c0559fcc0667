//! `-m connlimit` (libxt_connlimit, revision 1): the number of connections of the packet's
//! source (or destination) address, grouped by a prefix.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::xtopt::parse_plen;
use super::{Availability, MatchSpec};
use crate::model::{Family, MatchKind};

/// `-m connlimit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Connlimit {
    /// `--connlimit-upto N` (or `! --connlimit-above N`): match at most `limit` connections;
    /// otherwise `--connlimit-above`: more than `limit`.
    pub upto: bool,
    pub limit: u32,
    /// `--connlimit-mask`: the prefix length addresses are grouped by (32 or 128 by default).
    pub mask: u8,
    /// `--connlimit-daddr`: count by destination address (by source otherwise).
    pub daddr: bool,
}

const UPTO: u8 = 0;
const ABOVE: u8 = 1;
const MASK: u8 = 2;
const SADDR: u8 = 3;
const DADDR: u8 = 4;

pub static SPEC: MatchSpec = MatchSpec {
    name: "connlimit",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("connlimit-upto", UPTO).invertible(),
        OptionSpec::value("connlimit-above", ABOVE).invertible(),
        OptionSpec::value("connlimit-mask", MASK),
        OptionSpec::flag("connlimit-saddr", SADDR),
        OptionSpec::flag("connlimit-daddr", DADDR),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[UPTO, ABOVE]);
    ok &= b.exclusive(&[SADDR, DADDR]);
    let full: u8 = if b.family == Family::Ipv4 { 32 } else { 128 };
    let mut mask = full;
    if let Some(opt) = b.get(MASK) {
        match parse_plen(opt.value(), b.family) {
            // a mask that is no prefix becomes all ones in iptables 1.8.9
            Some(len) => mask = if len == u8::MAX { full } else { len },
            None => {
                b.bad_value(opt, format!("a prefix length 0-{full} or a mask"));
                ok = false;
            }
        }
    }
    let Some(opt) = b.get(UPTO).or_else(|| b.get(ABOVE)) else {
        if ok {
            b.report(crate::load::LoadError::MissingOption {
                span: b.span,
                needs: "`--connlimit-upto` or `--connlimit-above`".into(),
            });
        }
        return None;
    };
    let limit = b.number(opt, 0, u32::MAX as u64);
    let upto = (opt.id == UPTO) != opt.invert;
    let (Some(limit), true) = (limit, ok) else { return None };
    Some(MatchKind::Connlimit(Connlimit { upto, limit: limit as u32, mask, daddr: b.has(DADDR) }))
}

impl Connlimit {
    pub fn save(&self, out: &mut String) {
        let op = if self.upto { "upto" } else { "above" };
        let side = if self.daddr { "daddr" } else { "saddr" };
        out.push_str(&format!(" --connlimit-{op} {} --connlimit-mask {} --connlimit-{side}", self.limit, self.mask));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn fills_in_mask_and_side() {
        assert_eq!(
            v4("-m connlimit --connlimit-above 3"),
            "-m connlimit --connlimit-above 3 --connlimit-mask 32 --connlimit-saddr"
        );
        assert_eq!(
            v4("-m connlimit ! --connlimit-above 3 --connlimit-mask 255.255.0.0 --connlimit-daddr"),
            "-m connlimit --connlimit-upto 3 --connlimit-mask 16 --connlimit-daddr"
        );
        assert_eq!(
            v4("-m connlimit ! --connlimit-upto 0x10 --connlimit-mask 255.0.255.0"),
            "-m connlimit --connlimit-above 16 --connlimit-mask 32 --connlimit-saddr"
        );
        assert_eq!(
            v6("-m connlimit --connlimit-upto 1 --connlimit-mask 64"),
            "-m connlimit --connlimit-upto 1 --connlimit-mask 64 --connlimit-saddr"
        );
        same(
            Family::Ipv4,
            "-m connlimit --connlimit-upto 2 --connlimit-saddr",
            "-m connlimit ! --connlimit-above 2 --connlimit-mask 32",
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m connlimit").contains("`--connlimit-upto` or `--connlimit-above`"));
        assert!(err4("-m connlimit --connlimit-mask 24").contains("`--connlimit-upto` or `--connlimit-above`"));
        assert!(err4("-m connlimit --connlimit-upto 1 --connlimit-above 2").contains("cannot be used together"));
        assert!(
            err4("-m connlimit --connlimit-upto 1 --connlimit-saddr --connlimit-daddr")
                .contains("cannot be used together")
        );
        assert!(err4("-m connlimit --connlimit-upto 1 --connlimit-mask foo").contains("0-32"));
        assert!(err4("-m connlimit --connlimit-upto -1").contains("0-4294967295"));
        assert!(err6("-m connlimit --connlimit-upto 1 --connlimit-mask 129").contains("0-128"));
    }
}
