//! `-m rt` (libip6t_rt, IPv6): the routing extension header: its type, segments left, length
//! and the addresses of a type 0 header.

use std::net::Ipv6Addr;

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, MatchSpec};
use crate::model::addr::Ipv6Text;
use crate::model::{MatchKind, Neg};

/// The most addresses `--rt-0-addrs` takes (`IP6T_RT_HOPS`).
pub const MAX_ADDRS: usize = 16;

/// `-m rt`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Rt {
    /// `--rt-type N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rt_type: Option<Neg<u32>>,
    /// `--rt-segsleft lo[:hi]`; the kernel always compares it, so `None` is `0:4294967295`.
    /// iptables-save leaves out the whole range even when negated (which never matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segsleft: Option<Neg<(u32, u32)>>,
    /// `--rt-len N`: the header's length field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<Neg<u32>>,
    /// `--rt-0-res`: the reserved field of a type 0 header is zero.
    pub res: bool,
    /// `--rt-0-addrs A,B,...`: the addresses of a type 0 header.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addrs: Vec<Ipv6Addr>,
    /// `--rt-0-not-strict`: the addresses need not be the whole list.
    pub not_strict: bool,
}

const TYPE: u8 = 0;
const SEGSLEFT: u8 = 1;
const LEN: u8 = 2;
const RES: u8 = 3;
const ADDRS: u8 = 4;
const NOT_STRICT: u8 = 5;

pub static SPEC: MatchSpec = MatchSpec {
    name: "rt",
    availability: Availability::Ipv6,
    options: &[
        OptionSpec::value("rt-type", TYPE).invertible(),
        OptionSpec::value("rt-segsleft", SEGSLEFT).invertible(),
        OptionSpec::value("rt-len", LEN).invertible(),
        OptionSpec::flag("rt-0-res", RES),
        OptionSpec::value("rt-0-addrs", ADDRS),
        OptionSpec::flag("rt-0-not-strict", NOT_STRICT),
    ],
    build,
};

/// The position of an option on the line (iptables checks some of them as it reads them).
fn position(b: &Build<'_, '_>, id: u8) -> Option<usize> {
    b.opts.iter().position(|o| o.id == id)
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut rt = Rt::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            TYPE | LEN => match b.number(opt, 0, u32::MAX as u64) {
                Some(v) => {
                    let slot = if opt.id == TYPE { &mut rt.rt_type } else { &mut rt.len };
                    *slot = Some(b.neg(opt, v as u32));
                }
                None => ok = false,
            },
            SEGSLEFT => match b.uint_range(opt, u32::MAX as u64) {
                Some((lo, hi)) => {
                    let range = (lo as u32, hi.unwrap_or(lo) as u32);
                    if range != (0, u32::MAX) || opt.invert {
                        rt.segsleft = Some(b.neg(opt, range));
                    }
                }
                None => ok = false,
            },
            ADDRS => match parse_addrs(b, opt) {
                Some(addrs) => rt.addrs = addrs,
                None => ok = false,
            },
            _ => {}
        }
    }
    rt.res = b.has(RES);
    rt.not_strict = b.has(NOT_STRICT);
    // checked as iptables reads them: `--rt-type 0` (not negated) must come first
    let type0_at = position(b, TYPE).filter(|_| rt.rt_type.as_ref().is_some_and(|t| t.value == 0 && !t.invert));
    for (id, name) in [(RES, "--rt-0-res"), (ADDRS, "--rt-0-addrs")] {
        if let Some(at) = position(b, id)
            && type0_at.is_none_or(|t| t > at)
        {
            b.fail(
                b.opts[at].span,
                format!("`{name}` needs `--rt-type 0` before it"),
                format!("write `--rt-type 0` before `{name}`"),
            );
            ok = false;
        }
    }
    if let Some(at) = position(b, NOT_STRICT)
        && position(b, ADDRS).is_none_or(|a| a > at)
    {
        b.fail(
            b.opts[at].span,
            "`--rt-0-not-strict` needs `--rt-0-addrs` before it",
            "write `--rt-0-addrs ADDR,...` before `--rt-0-not-strict`",
        );
        ok = false;
    }
    ok.then_some(MatchKind::Rt(Box::new(rt)))
}

fn parse_addrs(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<Vec<Ipv6Addr>> {
    let parts: Vec<&str> = opt.value().split(',').collect();
    if parts.len() > MAX_ADDRS {
        b.bad_value(opt, format!("at most {MAX_ADDRS} addresses (there are {})", parts.len()));
        return None;
    }
    let mut addrs = Vec::with_capacity(parts.len());
    for part in parts {
        match part.parse() {
            Ok(a) => addrs.push(a),
            Err(_) => {
                b.bad_value(opt, format!("IPv6 addresses separated by `,` (`{part}` is none)"));
                return None;
            }
        }
    }
    Some(addrs)
}

impl Rt {
    pub fn save(&self, out: &mut String) {
        use super::save::save_opt_value;
        if let Some(t) = &self.rt_type {
            save_opt_value(out, t.invert, "rt-type", t.value);
        }
        if let Some(s) = &self.segsleft
            && s.value != (0, u32::MAX)
        {
            let (lo, hi) = s.value;
            let text = if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") };
            save_opt_value(out, s.invert, "rt-segsleft", text);
        }
        if let Some(l) = &self.len {
            save_opt_value(out, l.invert, "rt-len", l.value);
        }
        if self.res {
            out.push_str(" --rt-0-res");
        }
        if !self.addrs.is_empty() {
            let list: Vec<String> = self.addrs.iter().map(|a| Ipv6Text(*a).to_string()).collect();
            out.push_str(" --rt-0-addrs ");
            out.push_str(&list.join(","));
        }
        if self.not_strict {
            out.push_str(" --rt-0-not-strict");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, v6};

    #[test]
    fn saves_every_field() {
        assert_eq!(v6("-m rt"), "-m rt");
        assert_eq!(
            v6("-m rt ! --rt-type 2 ! --rt-segsleft 3 ! --rt-len 8"),
            "-m rt ! --rt-type 2 ! --rt-segsleft 3 ! --rt-len 8"
        );
        assert_eq!(v6("-m rt --rt-segsleft :7"), "-m rt --rt-segsleft 0:7");
        assert_eq!(v6("-m rt --rt-segsleft 7:"), "-m rt --rt-segsleft 7:4294967295");
        assert_eq!(v6("-m rt --rt-segsleft 5:2"), "-m rt --rt-segsleft 5:2");
        assert_eq!(v6("-m rt ! --rt-segsleft :"), "-m rt");
        assert_eq!(v6("-m rt --rt-len 0x10 --rt-type 4294967295"), "-m rt --rt-type 4294967295 --rt-len 16");
        assert_eq!(
            v6("-m rt --rt-type 0 --rt-0-addrs 2001:db8:0::1,::ffff:1.2.3.4 --rt-0-res --rt-0-not-strict"),
            "-m rt --rt-type 0 --rt-0-res --rt-0-addrs 2001:db8::1,::ffff:1.2.3.4 --rt-0-not-strict"
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err6("-m rt --rt-0-res --rt-type 0").contains("needs `--rt-type 0` before it"));
        assert!(err6("-m rt --rt-type 1 --rt-0-res").contains("needs `--rt-type 0` before it"));
        assert!(err6("-m rt ! --rt-type 0 --rt-0-addrs ::1").contains("needs `--rt-type 0` before it"));
        assert!(
            err6("-m rt --rt-type 0 --rt-0-not-strict --rt-0-addrs ::1").contains("needs `--rt-0-addrs` before it")
        );
        let many: Vec<String> = (1..=17).map(|i| format!("::{i:x}")).collect();
        assert!(err6(&format!("-m rt --rt-type 0 --rt-0-addrs {}", many.join(","))).contains("at most 16"));
        assert!(err6("-m rt --rt-type 0 --rt-0-addrs ::1,").contains("`` is none"));
        assert!(err6("-m rt --rt-segsleft 1:2:3").contains("two numbers at most"));
        assert!(err6("-m rt --rt-type 4294967296").contains("0-4294967295"));
        assert!(err4("-m rt --rt-type 0").contains("IPv6 extension"));
    }
}
