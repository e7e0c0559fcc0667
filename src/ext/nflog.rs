//! `-j NFLOG` (libxt_NFLOG): hand the packet to user space over nfnetlink_log (ulogd, tcpdump
//! `nflog:N`), and go on with the next rule.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// The kernel keeps 63 bytes of a prefix (`char prefix[64]`); iptables cuts longer ones silently.
pub const MAX_PREFIX: usize = 63;
/// `XT_NFLOG_DEFAULT_THRESHOLD` (probed: `--nflog-threshold 1` is printed, 0 is not).
pub const DEFAULT_THRESHOLD: u16 = 0;

/// `-j NFLOG`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Nflog {
    /// The netlink group (`--nflog-group`, 0 by default).
    pub group: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Box<str>>,
    /// `--nflog-size`: how many bytes of the packet to copy (the kernel's `len` with
    /// `XT_NFLOG_F_COPY_LEN`); `None` copies the whole packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// `--nflog-range`: the same `len` without the flag, which the kernel ignores ("has never
    /// worked"); iptables still stores and prints it. 0 when not given.
    pub range: u32,
    /// How many packets the kernel queues before sending them (`--nflog-threshold`).
    pub threshold: u16,
}

const GROUP: u8 = 0;
const PREFIX: u8 = 1;
const RANGE: u8 = 2;
const SIZE: u8 = 3;
const THRESHOLD: u8 = 4;

pub static SPEC: TargetSpec = TargetSpec {
    name: "NFLOG",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("nflog-group", GROUP),
        OptionSpec::value("nflog-prefix", PREFIX),
        OptionSpec::value("nflog-range", RANGE),
        OptionSpec::value("nflog-size", SIZE),
        OptionSpec::value("nflog-threshold", THRESHOLD),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut nflog = Nflog { group: 0, prefix: None, size: None, range: 0, threshold: DEFAULT_THRESHOLD };
    let mut ok = b.at_most_one(&[RANGE, SIZE]);
    if let Some(opt) = b.get(GROUP) {
        match b.number(opt, 0, u16::MAX as u64) {
            Some(g) => nflog.group = g as u16,
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(THRESHOLD) {
        match b.number(opt, 0, u16::MAX as u64) {
            Some(t) => nflog.threshold = t as u16,
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(SIZE) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(s) => nflog.size = Some(s as u32),
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(RANGE) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(r) => {
                nflog.range = r as u32;
                b.warn(
                    opt.span,
                    "`--nflog-range` has never worked: the kernel ignores it",
                    "use `--nflog-size` to copy only part of the packet",
                );
            }
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(PREFIX) {
        match super::log::prefix(b, opt, MAX_PREFIX) {
            Some(p) => nflog.prefix = Some(p),
            None => ok = false,
        }
    }
    ok.then(|| TargetKind::Nflog(Box::new(nflog)))
}

impl Nflog {
    pub fn save(&self, out: &mut String) {
        if let Some(prefix) = &self.prefix {
            out.push_str(" --nflog-prefix");
            save_string(out, prefix);
        }
        if self.group != 0 {
            out.push_str(&format!(" --nflog-group {}", self.group));
        }
        match self.size {
            Some(size) => out.push_str(&format!(" --nflog-size {size}")),
            None if self.range != 0 => out.push_str(&format!(" --nflog-range {}", self.range)),
            None => {}
        }
        if self.threshold != DEFAULT_THRESHOLD {
            out.push_str(&format!(" --nflog-threshold {}", self.threshold));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4, warnings4};

    #[test]
    fn defaults_are_left_out() {
        assert_eq!(save4("-j NFLOG"), "-j NFLOG");
        assert_eq!(save4("-j NFLOG --nflog-group 0 --nflog-threshold 0"), "-j NFLOG");
        assert_eq!(target4("-j NFLOG --nflog-threshold 0x0"), target4("-j NFLOG"));
        assert_eq!(save4("-j NFLOG --nflog-threshold 1"), "-j NFLOG --nflog-threshold 1");
    }

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(
            save4("-j NFLOG --nflog-group 2 --nflog-prefix p --nflog-size 64 --nflog-threshold 10"),
            "-j NFLOG --nflog-prefix p --nflog-group 2 --nflog-size 64 --nflog-threshold 10"
        );
        assert_eq!(
            save4(r#"-j NFLOG --nflog-group 5 --nflog-prefix "a b""#),
            r#"-j NFLOG --nflog-prefix "a b" --nflog-group 5"#
        );
        assert_eq!(save4("-j NFLOG --nflog-group 0x10"), "-j NFLOG --nflog-group 16");
        assert_eq!(save6("-j NFLOG --nflog-size 0"), "-j NFLOG --nflog-size 0");
    }

    #[test]
    fn range_is_not_size() {
        assert_eq!(save4("-j NFLOG --nflog-range 100"), "-j NFLOG --nflog-range 100");
        assert_ne!(target4("-j NFLOG --nflog-range 100"), target4("-j NFLOG --nflog-size 100"));
        assert_eq!(target4("-j NFLOG --nflog-range 0"), target4("-j NFLOG"));
        assert!(warnings4("-j NFLOG --nflog-range 100")[0].contains("has never worked"));
        assert!(err4("-j NFLOG --nflog-range 100 --nflog-size 200").contains("cannot be used together"));
    }

    #[test]
    fn long_prefixes_are_cut_to_63_bytes() {
        let long = "x".repeat(70);
        assert_eq!(
            save4(&format!("-j NFLOG --nflog-prefix {long}")),
            format!("-j NFLOG --nflog-prefix {}", "x".repeat(63))
        );
        assert!(warnings4(&format!("-j NFLOG --nflog-prefix {long}"))[0].contains("prefix is 70 bytes"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4(r#"-j NFLOG --nflog-prefix """#).contains("at least one character"));
        assert!(err4("-j NFLOG --nflog-group 65536").contains("0-65535"));
        assert!(err4("-j NFLOG --nflog-size 4294967296").contains("0-4294967295"));
        assert!(err4("-j NFLOG --nflog-group 1 --nflog-group 2").contains("given twice"));
        assert!(err4("-j NFLOG ! --nflog-group 3").contains("cannot come before"));
        assert!(err4("-j NFLOG --nfl 3").contains("unknown option"));
    }
}
