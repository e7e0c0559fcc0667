//! `-j SET` (libxt_SET, revision 3): add the packet's addresses or ports to an ipset, delete
//! them, or take the packet's mark, priority or queue from a set entry.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `IPSET_MAXNAMELEN` less the final NUL.
pub const MAX_SET_NAME: usize = 31;
/// `IPSET_DIM_MAX`.
pub const MAX_DIMENSIONS: usize = 6;

/// `-j SET`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct SetTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add: Option<SetRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub del: Option<SetRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<SetRef>,
    /// `--exist`: re-adding an entry resets its timeout instead of failing.
    pub exist: bool,
    /// `--timeout`: the timeout of added entries; `None` is the set's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    pub map_mark: bool,
    pub map_prio: bool,
    pub map_queue: bool,
}

/// A set and, per dimension of its entries, whether it is the packet's source or destination.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SetRef {
    pub name: Box<str>,
    /// `true` for `src`, `false` for `dst`, one per dimension (1-6).
    pub src: Vec<bool>,
}

const ADD: u8 = 0;
const DEL: u8 = 1;
const EXIST: u8 = 2;
const TIMEOUT: u8 = 3;
const MAP: u8 = 4;
const MAP_MARK: u8 = 5;
const MAP_PRIO: u8 = 6;
const MAP_QUEUE: u8 = 7;

// An old-style extension: iptables ignores a `!` before its options, and only the set options
// refuse to be repeated.
pub static SPEC: TargetSpec = TargetSpec {
    name: "SET",
    availability: Availability::Both,
    options: &[
        OptionSpec::two("add-set", ADD).invertible(),
        OptionSpec::two("del-set", DEL).invertible(),
        OptionSpec::flag("exist", EXIST).invertible().multi(),
        OptionSpec::value("timeout", TIMEOUT).invertible().multi(),
        OptionSpec::two("map-set", MAP).invertible(),
        OptionSpec::flag("map-mark", MAP_MARK).invertible().multi(),
        OptionSpec::flag("map-prio", MAP_PRIO).invertible().multi(),
        OptionSpec::flag("map-queue", MAP_QUEUE).invertible().multi(),
    ],
    build,
};

/// `NAME src,dst,...`: each flag only has to start with `src` or `dst`.
fn parse_set(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<SetRef> {
    let name = opt.value();
    if name.len() > MAX_SET_NAME {
        b.bad_value(opt, format!("a set name of at most {MAX_SET_NAME} characters"));
        return None;
    }
    let flags: Vec<&str> = opt.value2().split(',').collect();
    if flags.len() > MAX_DIMENSIONS {
        b.bad_value_at(opt, opt.value2_span(), opt.value2(), format!("at most {MAX_DIMENSIONS} of `src` and `dst`"));
        return None;
    }
    let mut src = Vec::with_capacity(flags.len());
    for flag in flags {
        if flag.starts_with("src") {
            src.push(true);
        } else if flag.starts_with("dst") {
            src.push(false);
        } else {
            b.bad_value_at(opt, opt.value2_span(), opt.value2(), "a comma-separated list of `src` and `dst`");
            return None;
        }
    }
    Some(SetRef { name: name.into(), src })
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut set = SetTarget::default();
    let mut ok = true;
    for opt in b.opts {
        if opt.invert {
            b.warn(opt.span, format!("iptables ignores `!` before `--{}`", opt.name), "remove the `!`");
        }
        match opt.id {
            ADD | DEL | MAP => {
                let Some(r) = parse_set(b, opt) else {
                    ok = false;
                    continue;
                };
                *match opt.id {
                    ADD => &mut set.add,
                    DEL => &mut set.del,
                    _ => &mut set.map,
                } = Some(r);
            }
            EXIST => set.exist = true,
            TIMEOUT => match num::uint(opt.value(), 0, u32::MAX as u64 - 1) {
                Some(t) => set.timeout = Some(t as u32),
                None => {
                    b.bad_value(opt, format!("a number of seconds 0-{}", u32::MAX - 1));
                    ok = false;
                }
            },
            MAP_MARK => set.map_mark = true,
            MAP_PRIO => set.map_prio = true,
            _ => set.map_queue = true,
        }
    }
    if !b.has(ADD) && !b.has(DEL) && !b.has(MAP) {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--add-set`, `--del-set` or `--map-set`".into(),
        });
        return None;
    }
    for (id, name, needed, help) in [
        (EXIST, "exist", ADD, "`--add-set`"),
        (TIMEOUT, "timeout", ADD, "`--add-set`"),
        (MAP_MARK, "map-mark", MAP, "`--map-set`"),
        (MAP_PRIO, "map-prio", MAP, "`--map-set`"),
        (MAP_QUEUE, "map-queue", MAP, "`--map-set`"),
    ] {
        if let Some(opt) = b.get(id)
            && !b.has(needed)
        {
            b.fail(opt.span, format!("`--{name}` goes with {help} only"), format!("add {help} or remove `--{name}`"));
            ok = false;
        }
    }
    if let Some(opt) = b.get(MAP)
        && !(set.map_mark || set.map_prio || set.map_queue)
    {
        b.fail(
            opt.span,
            "`--map-set` needs `--map-mark`, `--map-prio` or `--map-queue`",
            "say what to take from the set entry",
        );
        ok = false;
    }
    ok.then(|| TargetKind::Set(Box::new(set)))
}

impl SetRef {
    fn save(&self, out: &mut String, option: &str) {
        out.push_str(&format!(" --{option} {}", self.name));
        for (i, &src) in self.src.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { "," });
            out.push_str(if src { "src" } else { "dst" });
        }
    }
}

impl SetTarget {
    pub fn save(&self, out: &mut String) {
        if let Some(add) = &self.add {
            add.save(out, "add-set");
        }
        if self.exist {
            out.push_str(" --exist");
        }
        if let Some(t) = self.timeout {
            out.push_str(&format!(" --timeout {t}"));
        }
        if let Some(del) = &self.del {
            del.save(out, "del-set");
        }
        if let Some(map) = &self.map {
            map.save(out, "map-set");
        }
        for (on, flag) in
            [(self.map_mark, " --map-mark"), (self.map_prio, " --map-prio"), (self.map_queue, " --map-queue")]
        {
            if on {
                out.push_str(flag);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, warnings4};

    fn saved(options: &str) -> String {
        save4(&format!("-j SET {options}")).trim_start_matches("-j SET ").to_string()
    }

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(saved("--add-set S4 src"), "--add-set S4 src");
        assert_eq!(saved("--add-set S4 src --exist --timeout 60"), "--add-set S4 src --exist --timeout 60");
        assert_eq!(
            saved("--add-set S4 src --map-set S4N dst --map-prio --map-queue --del-set S4 dst --exist --timeout 3"),
            "--add-set S4 src --exist --timeout 3 --del-set S4 dst --map-set S4N dst --map-prio --map-queue"
        );
        assert_eq!(saved("--add-set=S4 src"), "--add-set S4 src");
        assert_eq!(save6("-j SET --del-set S6 dst"), "-j SET --del-set S6 dst");
    }

    #[test]
    fn flags_only_have_to_start_with_src_or_dst() {
        assert_eq!(saved("--add-set S4 srcfoo,dstbar"), "--add-set S4 src,dst");
        assert_eq!(saved("--add-set S4 src,dst,src,dst,src,dst"), "--add-set S4 src,dst,src,dst,src,dst");
        assert!(err4("-j SET --add-set S4 src,dst,src,dst,src,dst,src").contains("at most 6"));
        assert!(err4("-j SET --add-set S4 src,").contains("`src` and `dst`"));
        assert!(err4("-j SET --add-set S4 \"\"").contains("`src` and `dst`"));
    }

    #[test]
    fn old_style_options_repeat_and_ignore_negation() {
        assert_eq!(saved("--add-set S4 src --timeout 5 --timeout 6"), "--add-set S4 src --timeout 6");
        assert_eq!(saved("--add-set S4 src --exist --exist"), "--add-set S4 src --exist");
        assert_eq!(saved("--map-set S4 src --map-mark --map-mark"), "--map-set S4 src --map-mark");
        assert_eq!(saved("! --add-set S4 src"), "--add-set S4 src");
        assert!(warnings4("-j SET --add-set S4 src ! --exist")[0].contains("ignores `!`"));
        assert!(err4("-j SET --add-set S4 src --add-set S4N dst").contains("given twice"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j SET").contains("`--add-set`, `--del-set` or `--map-set`"));
        assert!(err4("-j SET --add-set S4").contains("two values"));
        assert!(err4("-j SET --add-set S4 -src").contains("two values"));
        assert!(err4("-j SET --add-set S4 src --timeout 4294967295").contains("0-4294967294"));
        assert!(err4("-j SET --del-set S4 src --exist").contains("`--exist` goes with `--add-set` only"));
        assert!(err4("-j SET --del-set S4 src --timeout 3").contains("`--timeout` goes with `--add-set` only"));
        assert!(err4("-j SET --add-set S4 src --map-mark").contains("`--map-mark` goes with `--map-set` only"));
        assert!(err4("-j SET --map-set S4 src").contains("needs `--map-mark`"));
        assert!(err4(&format!("-j SET --add-set {} src", "a".repeat(32))).contains("at most 31"));
        assert_eq!(saved(&format!("--add-set {} src", "a".repeat(31))), format!("--add-set {} src", "a".repeat(31)));
    }
}
