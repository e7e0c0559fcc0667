//! `-m set` (libxt_set, revision 4): the packet's addresses or ports are in an ipset. The set
//! must exist when the rule loads; ipt cannot know the sets of the host, and takes any name.

use std::fmt;

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec, Takes};
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The longest set name (`IPSET_MAXNAMELEN` less the NUL).
pub const MAX_NAME: usize = 31;
/// The most dimensions a lookup has (`IPSET_DIM_MAX`).
pub const MAX_DIMS: usize = 6;

/// Which address (or port) of the packet a dimension of the set is looked up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetDir {
    Src,
    Dst,
}

/// `--match-set NAME src,dst`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SetRef {
    pub name: Box<str>,
    /// One to six.
    pub dirs: Vec<SetDir>,
}

impl fmt::Display for SetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dirs: Vec<&str> = self.dirs.iter().map(|d| if *d == SetDir::Src { "src" } else { "dst" }).collect();
        write!(f, "{} {}", self.name, dirs.join(","))
    }
}

/// How a counter of the matching set element is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CounterOp {
    Eq,
    Ne,
    Lt,
    Gt,
}

/// `--packets-eq N` and friends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SetCounter {
    pub op: CounterOp,
    pub value: u64,
}

/// `-m set`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Set {
    pub set: Neg<SetRef>,
    /// `--return-nomatch`: an element marked `nomatch` makes the match true.
    pub return_nomatch: bool,
    /// `! --update-counters`: leave the element's counters alone.
    pub no_update_counters: bool,
    /// `! --update-subcounters`: leave the counters of a list:set's member set alone.
    pub no_update_subcounters: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<SetCounter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<SetCounter>,
}

const MATCH_SET: u8 = 0;
const RETURN_NOMATCH: u8 = 1;
const UPDATE_COUNTERS: u8 = 2;
const PACKETS_EQ: u8 = 3;
const PACKETS_LT: u8 = 4;
const PACKETS_GT: u8 = 5;
const BYTES_EQ: u8 = 6;
const BYTES_LT: u8 = 7;
const BYTES_GT: u8 = 8;
const UPDATE_SUBCOUNTERS: u8 = 9;

pub static SPEC: MatchSpec = MatchSpec {
    name: "set",
    availability: Availability::Both,
    options: &[
        OptionSpec { name: "match-set", id: MATCH_SET, takes: Takes::TwoValues, invert: true, multi: false },
        // deprecated; iptables warns and reads it as `--match-set`
        OptionSpec { name: "set", id: MATCH_SET, takes: Takes::TwoValues, invert: true, multi: false },
        // the flags are read by an old-style parser, which lets them repeat
        OptionSpec::flag("return-nomatch", RETURN_NOMATCH).multi(),
        OptionSpec::flag("update-counters", UPDATE_COUNTERS).invertible().multi(),
        OptionSpec::value("packets-eq", PACKETS_EQ).invertible(),
        OptionSpec::value("packets-lt", PACKETS_LT),
        OptionSpec::value("packets-gt", PACKETS_GT),
        OptionSpec::value("bytes-eq", BYTES_EQ).invertible(),
        OptionSpec::value("bytes-lt", BYTES_LT),
        OptionSpec::value("bytes-gt", BYTES_GT),
        OptionSpec::flag("update-subcounters", UPDATE_SUBCOUNTERS).invertible().multi(),
    ],
    build,
};

/// `parse_dirs`: `src` or `dst` (or anything starting so), separated by `,`, at most six.
fn parse_dirs(text: &str) -> Result<Vec<SetDir>, String> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > MAX_DIMS {
        return Err(format!("at most {MAX_DIMS} of `src` and `dst` (there are {})", parts.len()));
    }
    parts
        .iter()
        .map(|p| {
            if p.starts_with("src") {
                Ok(SetDir::Src)
            } else if p.starts_with("dst") {
                Ok(SetDir::Dst)
            } else {
                Err(format!("`src` and `dst` separated by `,` (`{p}` is neither)"))
            }
        })
        .collect()
}

fn parse_counter(b: &mut Build<'_, '_>, opt: &Opt<'_>, op: CounterOp) -> Option<SetCounter> {
    let value = b.number(opt, 0, u64::MAX)?;
    Some(SetCounter { op: if op == CounterOp::Eq && opt.invert { CounterOp::Ne } else { op }, value })
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[PACKETS_EQ, PACKETS_LT, PACKETS_GT]);
    ok &= b.exclusive(&[BYTES_EQ, BYTES_LT, BYTES_GT]);
    let Some(opt) = b.get(MATCH_SET) else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--match-set NAME src|dst[,...]`".into(),
        });
        return None;
    };
    let name = opt.value();
    if name.len() > MAX_NAME {
        b.bad_value(opt, format!("a set name of at most {MAX_NAME} characters (this one has {})", name.len()));
        ok = false;
    }
    let dirs = match parse_dirs(opt.value2()) {
        Ok(dirs) => dirs,
        Err(expected) => {
            b.bad_value_at(opt, opt.value2_span(), opt.value2(), expected);
            return None;
        }
    };
    let set = b.neg(opt, SetRef { name: name.into(), dirs });
    let mut counters = [None, None];
    for (id, op, which) in [
        (PACKETS_EQ, CounterOp::Eq, 0),
        (PACKETS_LT, CounterOp::Lt, 0),
        (PACKETS_GT, CounterOp::Gt, 0),
        (BYTES_EQ, CounterOp::Eq, 1),
        (BYTES_LT, CounterOp::Lt, 1),
        (BYTES_GT, CounterOp::Gt, 1),
    ] {
        if let Some(opt) = b.get(id) {
            match parse_counter(b, opt, op) {
                Some(c) => counters[which] = Some(c),
                None => ok = false,
            }
        }
    }
    let [packets, bytes] = counters;
    // `--update-counters` without `!` changes nothing
    let skip = |id: u8| b.all(id).any(|o| o.invert);
    let m = Set {
        set,
        return_nomatch: b.has(RETURN_NOMATCH),
        no_update_counters: skip(UPDATE_COUNTERS),
        no_update_subcounters: skip(UPDATE_SUBCOUNTERS),
        packets,
        bytes,
    };
    ok.then(|| MatchKind::Set(Box::new(m)))
}

fn save_counter(out: &mut String, name: &str, counter: &Option<SetCounter>) {
    if let Some(c) = counter {
        let (bang, op) = match c.op {
            CounterOp::Eq => ("", "eq"),
            CounterOp::Ne => (" !", "eq"),
            CounterOp::Lt => ("", "lt"),
            CounterOp::Gt => ("", "gt"),
        };
        out.push_str(&format!("{bang} --{name}-{op} {}", c.value));
    }
}

impl Set {
    pub fn save(&self, out: &mut String) {
        if self.set.invert {
            out.push_str(" !");
        }
        out.push_str(&format!(" --match-set {}", self.set.value));
        if self.return_nomatch {
            out.push_str(" --return-nomatch");
        }
        if self.no_update_counters {
            out.push_str(" ! --update-counters");
        }
        if self.no_update_subcounters {
            out.push_str(" ! --update-subcounters");
        }
        save_counter(out, "packets", &self.packets);
        save_counter(out, "bytes", &self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_the_set_and_its_options() {
        assert_eq!(v4("-m set --match-set S4 src,dst,src"), "-m set --match-set S4 src,dst,src");
        assert_eq!(v4("-m set ! --set S4 dstination"), "-m set ! --match-set S4 dst");
        assert_eq!(
            v4(
                "-m set --match-set S4 src --bytes-gt 6 --packets-eq 5 ! --update-subcounters ! --update-counters --return-nomatch"
            ),
            "-m set --match-set S4 src --return-nomatch ! --update-counters ! --update-subcounters --packets-eq 5 --bytes-gt 6"
        );
        assert_eq!(v4("-m set --match-set S4 src ! --packets-eq 0x10"), "-m set --match-set S4 src ! --packets-eq 16");
        assert_eq!(v6("-m set --match-set S6 dst --update-counters"), "-m set --match-set S6 dst");
        same(
            Family::Ipv4,
            "-m set --match-set a src --return-nomatch --return-nomatch",
            "-m set --match-set a src --return-nomatch",
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m set").contains("`--match-set NAME"));
        assert!(err4("-m set --match-set S4").contains("two values"));
        assert!(err4("-m set --match-set S4 -j ACCEPT").contains("two values"));
        assert!(err4("-m set --match-set S4 SRC").contains("`SRC` is neither"));
        assert!(err4("-m set --match-set S4 src,").contains("`` is neither"));
        assert!(err4("-m set --match-set S4 src,src,src,src,src,src,src").contains("at most 6"));
        assert!(err4("-m set --match-set S4 src --match-set S4 dst").contains("given twice"));
        assert!(err4("-m set --match-set a23456789012345678901234567890123 src").contains("at most 31"));
        assert!(err4("-m set --match-set S4 src --packets-eq 1 --packets-lt 2").contains("cannot be used together"));
        assert!(err4("-m set --match-set S4 src ! --packets-lt 2").contains("cannot come before"));
        assert!(err4("-m set --match-set S4 src ! --return-nomatch").contains("cannot come before"));
        assert!(err4("-m set --match-set S4 src --bytes-eq -1").contains("a number"));
    }
}
