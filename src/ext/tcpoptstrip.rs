//! `-j TCPOPTSTRIP` (libxt_TCPOPTSTRIP): remove TCP options, by kind, from TCP packets.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// The option names iptables knows, with their kinds.
const NAMES: &[(&str, u8)] =
    &[("wscale", 3), ("mss", 2), ("sack-permitted", 4), ("sack", 5), ("timestamp", 8), ("md5", 19)];

/// `-j TCPOPTSTRIP [--strip-options KIND,...]`: the kinds to strip, in increasing order
/// (none strips nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Tcpoptstrip {
    pub options: Vec<u8>,
}

const STRIP: u8 = 0;

pub static SPEC: TargetSpec = TargetSpec {
    name: "TCPOPTSTRIP",
    availability: Availability::Both,
    options: &[OptionSpec::value("strip-options", STRIP)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut strip = Tcpoptstrip::default();
    if let Some(opt) = b.get(STRIP) {
        for item in opt.value().split(',') {
            let kind = NAMES
                .iter()
                .find(|(name, _)| *name == item)
                .map(|&(_, kind)| kind as u64)
                .or_else(|| num::uint(item, 0, 255));
            let Some(kind) = kind else {
                b.bad_value(opt, format!("TCP option kinds 2-255 or names: mss, wscale, sack-permitted, sack, timestamp, md5 (`{item}` is none)"));
                return None;
            };
            if kind < 2 {
                b.bad_value(opt, "TCP option kinds from 2 (0 and 1 are the end and no-op markers)");
                return None;
            }
            if strip.options.contains(&(kind as u8)) {
                b.bad_value(opt, format!("each option once (`{item}` is there twice)"));
                return None;
            }
            strip.options.push(kind as u8);
        }
        strip.options.sort_unstable();
    }
    Some(TargetKind::Tcpoptstrip(strip))
}

impl Tcpoptstrip {
    pub fn save(&self, out: &mut String) {
        if self.options.is_empty() {
            return;
        }
        let kinds: Vec<String> = self.options.iter().map(u8::to_string).collect();
        out.push_str(" --strip-options ");
        out.push_str(&kinds.join(","));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4};

    fn saved(options: &str) -> String {
        save4(&format!("-p tcp -j TCPOPTSTRIP {options}"))
            .trim_start_matches("-p tcp -j TCPOPTSTRIP")
            .trim()
            .to_string()
    }

    #[test]
    fn kinds_print_as_sorted_numbers() {
        assert_eq!(saved("--strip-options mss"), "--strip-options 2");
        assert_eq!(
            saved("--strip-options mss,wscale,sack-permitted,sack,timestamp,md5"),
            "--strip-options 2,3,4,5,8,19"
        );
        assert_eq!(saved("--strip-options wscale,mss"), "--strip-options 2,3");
        assert_eq!(saved("--strip-options 255,254,2"), "--strip-options 2,254,255");
        assert_eq!(saved("--strip-options 0x13,010"), "--strip-options 8,19");
        assert_eq!(
            save6("-p tcp -j TCPOPTSTRIP --strip-options sack-permitted,md5"),
            "-p tcp -j TCPOPTSTRIP --strip-options 4,19"
        );
        assert_eq!(saved(""), "");
        assert_eq!(
            target4("-p tcp -j TCPOPTSTRIP --strip-options mss"),
            target4("-p tcp -j TCPOPTSTRIP --strip-options 2")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options 0").contains("from 2"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options 1,2").contains("from 2"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options 256").contains("`256` is none"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options MSS").contains("`MSS` is none"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options 2,").contains("`` is none"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options mss,mss").contains("twice"));
        assert!(err4("-p tcp -j TCPOPTSTRIP --strip-options 2,mss").contains("twice"));
    }
}
