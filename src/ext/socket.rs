//! `-m socket` (libxt_socket, revision 3): the packet belongs to a local socket (for transparent
//! proxying). The kernel takes it only in PREROUTING and INPUT.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// `-m socket` and its flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Socket {
    /// `--transparent`: only sockets with IP_TRANSPARENT.
    pub transparent: bool,
    /// `--nowildcard`: also listening sockets bound to the wildcard address.
    pub nowildcard: bool,
    /// `--restore-skmark`: set the packet's mark to the socket's.
    pub restore_skmark: bool,
}

const TRANSPARENT: u8 = 0;
const NOWILDCARD: u8 = 1;
const RESTORE_SKMARK: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "socket",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("transparent", TRANSPARENT),
        OptionSpec::flag("nowildcard", NOWILDCARD),
        OptionSpec::flag("restore-skmark", RESTORE_SKMARK),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    Some(MatchKind::Socket(Socket {
        transparent: b.has(TRANSPARENT),
        nowildcard: b.has(NOWILDCARD),
        restore_skmark: b.has(RESTORE_SKMARK),
    }))
}

impl Socket {
    pub fn save(&self, out: &mut String) {
        for (on, name) in [
            (self.transparent, " --transparent"),
            (self.nowildcard, " --nowildcard"),
            (self.restore_skmark, " --restore-skmark"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::saved_in;
    use crate::model::Family;

    fn pre(rule: &str) -> Result<String, String> {
        saved_in(Family::Ipv4, "mangle", "PREROUTING", rule)
    }

    #[test]
    fn saves_flags_in_order() {
        assert_eq!(pre("-m socket").as_deref(), Ok("-m socket"));
        assert_eq!(
            pre("-m socket --restore-skmark --nowildcard --transparent").as_deref(),
            Ok("-m socket --transparent --nowildcard --restore-skmark")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(pre("-m socket --transparent --transparent").is_err_and(|e| e.contains("given twice")));
        assert!(pre("-m socket ! --transparent").is_err_and(|e| e.contains("cannot come before")));
    }
}
