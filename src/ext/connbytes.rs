//! `-m connbytes` (libxt_connbytes): how many packets or bytes (or bytes per packet) the
//! connection has carried so far, in one direction or both.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// `--connbytes-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnbytesMode {
    Packets,
    Bytes,
    Avgpkt,
}

/// `--connbytes-dir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnbytesDir {
    Original,
    Reply,
    Both,
}

/// `-m connbytes`, as the kernel holds it: a negated range is stored reversed (`from > to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Connbytes {
    pub from: u64,
    /// 18446744073709551615 when no upper bound was given.
    pub to: u64,
    pub mode: ConnbytesMode,
    pub dir: ConnbytesDir,
}

const CONNBYTES: u8 = 0;
const DIR: u8 = 1;
const MODE: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "connbytes",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("connbytes", CONNBYTES).invertible(),
        OptionSpec::value("connbytes-dir", DIR),
        OptionSpec::value("connbytes-mode", MODE),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = true;
    let mut range = None;
    if let Some(opt) = b.get(CONNBYTES) {
        match b.uint_range(opt, u64::MAX) {
            Some((from, to)) => {
                let to = to.unwrap_or(u64::MAX);
                if to < from {
                    b.bad_value(opt, format!("a range `from:to` with from at most to ({from} is above {to})"));
                    ok = false;
                } else {
                    range = Some(if opt.invert { (to, from) } else { (from, to) });
                }
            }
            None => ok = false,
        }
    }
    let mut dir = None;
    if let Some(opt) = b.get(DIR) {
        dir = match opt.value() {
            "original" => Some(ConnbytesDir::Original),
            "reply" => Some(ConnbytesDir::Reply),
            "both" => Some(ConnbytesDir::Both),
            _ => {
                b.bad_value(opt, "`original`, `reply` or `both`");
                ok = false;
                None
            }
        };
    }
    let mut mode = None;
    if let Some(opt) = b.get(MODE) {
        mode = match opt.value() {
            "packets" => Some(ConnbytesMode::Packets),
            "bytes" => Some(ConnbytesMode::Bytes),
            "avgpkt" => Some(ConnbytesMode::Avgpkt),
            _ => {
                b.bad_value(opt, "`packets`, `bytes` or `avgpkt`");
                ok = false;
                None
            }
        };
    }
    ok &= b.mandatory(CONNBYTES, "connbytes") & b.mandatory(DIR, "connbytes-dir") & b.mandatory(MODE, "connbytes-mode");
    let (Some((from, to)), Some(dir), Some(mode), true) = (range, dir, mode, ok) else { return None };
    Some(MatchKind::Connbytes(Box::new(Connbytes { from, to, mode, dir })))
}

impl Connbytes {
    pub fn save(&self, out: &mut String) {
        let (from, to) = if self.from > self.to {
            out.push_str(" !");
            (self.to, self.from)
        } else {
            (self.from, self.to)
        };
        out.push_str(&format!(" --connbytes {from}"));
        if to != 0 && to < u64::MAX {
            out.push_str(&format!(":{to}"));
        }
        out.push_str(match self.mode {
            ConnbytesMode::Packets => " --connbytes-mode packets",
            ConnbytesMode::Bytes => " --connbytes-mode bytes",
            ConnbytesMode::Avgpkt => " --connbytes-mode avgpkt",
        });
        out.push_str(match self.dir {
            ConnbytesDir::Original => " --connbytes-dir original",
            ConnbytesDir::Reply => " --connbytes-dir reply",
            ConnbytesDir::Both => " --connbytes-dir both",
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_ranges_as_iptables_prints_them() {
        let tail = " --connbytes-mode bytes --connbytes-dir both";
        let with = |r: &str| format!("-m connbytes --connbytes {r} --connbytes-dir both --connbytes-mode bytes");
        assert_eq!(v4(&with("10")), format!("-m connbytes --connbytes 10{tail}"));
        assert_eq!(v4(&with("10:20")), format!("-m connbytes --connbytes 10:20{tail}"));
        assert_eq!(v4(&with("0:0")), format!("-m connbytes --connbytes 0{tail}"));
        assert_eq!(v4(&with("5:5")), format!("-m connbytes --connbytes 5:5{tail}"));
        assert_eq!(v4(&with(":5")), format!("-m connbytes --connbytes 0:5{tail}"));
        assert_eq!(v4(&with("5:")), format!("-m connbytes --connbytes 5{tail}"));
        assert_eq!(
            v4("-m connbytes ! --connbytes 10 --connbytes-dir reply --connbytes-mode packets"),
            "-m connbytes ! --connbytes 10 --connbytes-mode packets --connbytes-dir reply"
        );
        // a negated range of one value stays the same range, and is printed without `!`
        assert_eq!(
            v6("-m connbytes ! --connbytes 5:5 --connbytes-dir original --connbytes-mode avgpkt"),
            "-m connbytes --connbytes 5:5 --connbytes-mode avgpkt --connbytes-dir original"
        );
        same(Family::Ipv4, &with("5"), &with("5:18446744073709551615"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(
            err4("-m connbytes --connbytes 20:10 --connbytes-dir both --connbytes-mode bytes")
                .contains("20 is above 10")
        );
        assert!(err4("-m connbytes --connbytes 10 --connbytes-dir Both --connbytes-mode bytes").contains("`original`"));
        assert!(err4("-m connbytes --connbytes 10 --connbytes-dir both --connbytes-mode pkts").contains("`packets`"));
        assert!(err4("-m connbytes --connbytes 10 --connbytes-mode bytes").contains("`--connbytes-dir`"));
        assert!(err4("-m connbytes --connbytes-dir both --connbytes-mode bytes").contains("`--connbytes`"));
    }
}
