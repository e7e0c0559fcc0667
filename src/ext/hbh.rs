//! `-m hbh` and `-m dst` (libip6t_hbh, libip6t_dst, IPv6): the hop-by-hop and destination
//! options headers: their length and the options they carry.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::save::save_opt_value;
use super::xtopt::c_strtoul;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The most options `--hbh-opts` lists (`IP6T_OPTS_OPTSNR`).
pub const MAX_OPTS: usize = 16;

/// One option of the list: its type, and its length (`None`: any length).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct HeaderOpt {
    pub kind: u8,
    /// 255, as iptables stores "any length", is `None`.
    pub len: Option<u8>,
}

/// `-m hbh` or `-m dst`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Opts {
    /// `--hbh-len N`: the header's length field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<Neg<u32>>,
    /// `--hbh-opts TYPE[:LEN],...`; `None` when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opts: Option<Vec<HeaderOpt>>,
}

const LEN: u8 = 0;
const OPTS: u8 = 1;

pub static HBH_SPEC: MatchSpec = MatchSpec {
    name: "hbh",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("hbh-len", LEN).invertible(), OptionSpec::value("hbh-opts", OPTS)],
    build: build_hbh,
};

pub static DST_SPEC: MatchSpec = MatchSpec {
    name: "dst",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("dst-len", LEN).invertible(), OptionSpec::value("dst-opts", OPTS)],
    build: build_dst,
};

fn build_hbh(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b).map(|o| MatchKind::Hbh(Box::new(o)))
}

fn build_dst(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b).map(|o| MatchKind::Dst(Box::new(o)))
}

/// `parse_opts_num`: a whole C number (its low 8 bits are kept).
fn opts_num(text: &str) -> Option<u8> {
    let (v, len) = c_strtoul(text, 0);
    (len > 0 && len == text.len() && v != u64::MAX).then_some(v as u8)
}

fn parse_opts(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<Vec<HeaderOpt>> {
    let tokens: Vec<&str> = opt.value().split(',').collect();
    if tokens.len() > MAX_OPTS {
        b.bad_value(opt, format!("at most {MAX_OPTS} options (there are {})", tokens.len()));
        return None;
    }
    let mut opts = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let (kind, len) = match token.split_once(':') {
            Some((k, l)) => (k, Some(l)),
            None => (*token, None),
        };
        if len.is_some() && i == MAX_OPTS - 1 {
            b.bad_value(opt, format!("at most {} options when the last has a length", MAX_OPTS - 1));
            return None;
        }
        let Some(kind) = opts_num(kind) else {
            b.bad_value(opt, format!("option types `TYPE[:LEN]` separated by `,` (`{kind}` is no number)"));
            return None;
        };
        let len = match len {
            None => None,
            Some(_) if kind == 0 => {
                b.bad_value(opt, "no length for option type 0 (Pad1 has none)");
                return None;
            }
            Some(l) => match opts_num(l) {
                // 255 is what iptables stores for "any length"
                Some(255) => None,
                Some(n) => Some(n),
                None => {
                    b.bad_value(opt, format!("a length after `:` (`{l}` is no number)"));
                    return None;
                }
            },
        };
        opts.push(HeaderOpt { kind, len });
    }
    Some(opts)
}

fn build(b: &mut Build<'_, '_>) -> Option<Opts> {
    let mut m = Opts::default();
    let mut ok = true;
    if let Some(opt) = b.get(LEN) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(v) => m.len = Some(b.neg(opt, v as u32)),
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(OPTS) {
        match parse_opts(b, opt) {
            Some(opts) => m.opts = Some(opts),
            None => ok = false,
        }
    }
    ok.then_some(m)
}

impl Opts {
    /// Writes the options with the module's prefix (`hbh` or `dst`).
    pub fn save(&self, out: &mut String, prefix: &str) {
        if let Some(l) = &self.len {
            save_opt_value(out, l.invert, &format!("{prefix}-len"), l.value);
        }
        if let Some(opts) = &self.opts {
            let list: Vec<String> = opts
                .iter()
                .map(|o| match o.len {
                    Some(len) => format!("{}:{len}", o.kind),
                    None => o.kind.to_string(),
                })
                .collect();
            out.push_str(&format!(" --{prefix}-opts {}", list.join(",")));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err6, same, v6};
    use crate::model::Family;

    #[test]
    fn saves_length_and_options() {
        assert_eq!(v6("-m hbh"), "-m hbh");
        assert_eq!(v6("-m hbh --hbh-opts 1:2,0x05,194:255 ! --hbh-len 0"), "-m hbh ! --hbh-len 0 --hbh-opts 1:2,5,194");
        assert_eq!(v6("-m dst --dst-len 8 --dst-opts 257:1"), "-m dst --dst-len 8 --dst-opts 1:1");
        same(Family::Ipv6, "-m dst --dst-opts 3:255", "-m dst --dst-opts 3");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err6("-m hbh --hbh-opts 0:1").contains("Pad1"));
        assert!(err6("-m hbh --hbh-opts 256:1").contains("Pad1"));
        assert!(err6("-m hbh --hbh-opts 1,").contains("`` is no number"));
        assert!(err6("-m hbh --hbh-opts 1:x").contains("`x` is no number"));
        let many: Vec<String> = (1..=17).map(|i| i.to_string()).collect();
        assert!(err6(&format!("-m dst --dst-opts {}", many.join(","))).contains("at most 16"));
        assert!(err6("-m dst ! --dst-opts 1").contains("cannot come before"));
    }
}
