//! `-j ULOG` (libipt_ULOG): the old IPv4 netlink logging, removed from Linux 3.17. iptables
//! 1.8.9 still parses it (and the kernel refuses to load it); use NFLOG instead.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `ULOG_PREFIX_LEN` less the final NUL.
pub const MAX_PREFIX: usize = 31;

/// `-j ULOG`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ulog {
    /// The netlink group, 1-32 (1 by default).
    pub nlgroup: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Box<str>>,
    /// How many bytes to copy (0, the default, copies the whole packet).
    pub cprange: u64,
    /// How many packets to queue before sending them, 1-50 (1 by default).
    pub qthreshold: u64,
}

const NLGROUP: u8 = 0;
const PREFIX: u8 = 1;
const CPRANGE: u8 = 2;
const QTHRESHOLD: u8 = 3;

pub static SPEC: TargetSpec = TargetSpec {
    name: "ULOG",
    availability: Availability::Ipv4,
    options: &[
        OptionSpec::value("ulog-nlgroup", NLGROUP),
        OptionSpec::value("ulog-prefix", PREFIX),
        OptionSpec::value("ulog-cprange", CPRANGE),
        OptionSpec::value("ulog-qthreshold", QTHRESHOLD),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut ulog = Ulog { nlgroup: 1, prefix: None, cprange: 0, qthreshold: 1 };
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            NLGROUP => match b.number(opt, 1, 32) {
                Some(g) => ulog.nlgroup = g as u8,
                None => ok = false,
            },
            PREFIX => match super::log::prefix(b, opt, MAX_PREFIX) {
                Some(p) => ulog.prefix = Some(p),
                None => ok = false,
            },
            CPRANGE => match b.number(opt, 0, u64::MAX) {
                Some(c) => ulog.cprange = c,
                None => ok = false,
            },
            _ => match b.number(opt, 1, 50) {
                Some(q) => ulog.qthreshold = q,
                None => ok = false,
            },
        }
    }
    ok.then(|| TargetKind::Ulog(Box::new(ulog)))
}

impl Ulog {
    pub fn save(&self, out: &mut String) {
        if let Some(prefix) = &self.prefix {
            out.push_str(" --ulog-prefix");
            save_string(out, prefix);
        }
        if self.nlgroup != 1 {
            out.push_str(&format!(" --ulog-nlgroup {}", self.nlgroup));
        }
        // printed as an unsigned int
        if self.cprange != 0 {
            out.push_str(&format!(" --ulog-cprange {}", self.cprange as u32));
        }
        if self.qthreshold != 1 {
            out.push_str(&format!(" --ulog-qthreshold {}", self.qthreshold as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4};

    #[test]
    fn defaults_are_left_out() {
        assert_eq!(save4("-j ULOG"), "-j ULOG");
        assert_eq!(save4("-j ULOG --ulog-nlgroup 1 --ulog-qthreshold 1 --ulog-cprange 0"), "-j ULOG");
        assert_eq!(
            save4("-j ULOG --ulog-nlgroup 2 --ulog-prefix x --ulog-cprange 100 --ulog-qthreshold 10"),
            "-j ULOG --ulog-prefix x --ulog-nlgroup 2 --ulog-cprange 100 --ulog-qthreshold 10"
        );
        assert_eq!(save4("-j ULOG --ulog-cprange 4294967296"), "-j ULOG --ulog-cprange 0");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j ULOG --ulog-nlgroup 33").contains("1-32"));
        assert!(err4("-j ULOG --ulog-nlgroup 0").contains("1-32"));
        assert!(err4("-j ULOG --ulog-qthreshold 51").contains("1-50"));
        assert!(err4("-j ULOG --ulog-prefix \"\"").contains("at least one character"));
        assert!(err6("-j ULOG").contains("IPv4 extension"));
    }
}
