//! `-m mac` (libxt_mac): the Ethernet source address. The kernel takes it only in PREROUTING,
//! INPUT and FORWARD.

use std::fmt;

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::xtopt::c_strtoul;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// An Ethernet address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `XTTYPE_ETHERMAC`: six parts separated by `:`, each read by `strtoul(.., 16)` in at most
    /// two characters. That takes `0:1:2:3:4:5`, an empty part as 0, and even `-1` (as ff).
    pub fn parse(text: &str) -> Option<MacAddr> {
        let mut bytes = [0u8; 6];
        let mut rest = text;
        for (i, byte) in bytes.iter_mut().enumerate() {
            let (value, len) = c_strtoul(rest, 16);
            if len > 2 {
                return None;
            }
            *byte = value as u8;
            rest = &rest[len..];
            if i < 5 {
                rest = rest.strip_prefix(':')?;
            }
        }
        rest.is_empty().then_some(MacAddr(bytes))
    }
}

impl fmt::Display for MacAddr {
    /// `00:11:22:aa:bb:cc`, as `xtables_print_mac` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `-m mac --mac-source ADDR`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Mac {
    pub source: Neg<MacAddr>,
}

const SOURCE: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "mac",
    availability: Availability::Both,
    options: &[OptionSpec::value("mac-source", SOURCE).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(SOURCE, "mac-source") {
        return None;
    }
    let opt = b.get(SOURCE)?;
    match MacAddr::parse(opt.value()) {
        Some(mac) => Some(MatchKind::Mac(Mac { source: b.neg(opt, mac) })),
        None => {
            b.bad_value(opt, "an Ethernet address `XX:XX:XX:XX:XX:XX` (hex)");
            None
        }
    }
}

impl Mac {
    pub fn save(&self, out: &mut String) {
        super::save::save_opt_value(out, self.source.invert, "mac-source", self.source.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn reads_like_strtoul_and_prints_two_digits() {
        assert_eq!(v4("-m mac ! --mac-source AA:bb:CC:dd:EE:ff"), "-m mac ! --mac-source aa:bb:cc:dd:ee:ff");
        assert_eq!(v4("-m mac --mac-source 0:1:2:3:4:5"), "-m mac --mac-source 00:01:02:03:04:05");
        assert_eq!(v6("-m mac --mac-source 02:00:00:00:00:01"), "-m mac --mac-source 02:00:00:00:00:01");
        let show = |t: &str| MacAddr::parse(t).map(|m| m.to_string());
        assert_eq!(show("00:11::33:44:55").as_deref(), Some("00:11:00:33:44:55"));
        assert_eq!(show("-1:11:22:33:44:55").as_deref(), Some("ff:11:22:33:44:55"));
        assert_eq!(show(" 1:11:22:33:44:55").as_deref(), Some("01:11:22:33:44:55"));
        assert_eq!(show("+f:11:22:33:44:55").as_deref(), Some("0f:11:22:33:44:55"));
        assert_eq!(show("00:11:22:33:44:").as_deref(), Some("00:11:22:33:44:00"));
        assert_eq!(show("0x1:11:22:33:44:55"), None);
        assert_eq!(show("001:11:22:33:44:55"), None);
        assert_eq!(show("00:11:22:33:44"), None);
        assert_eq!(show("00:11:22:33:44:55:66"), None);
        assert_eq!(show("00-11-22-33-44-55"), None);
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m mac").contains("`--mac-source`"));
        assert!(err4("-m mac --mac-source 00:11:22:33:44").contains("an Ethernet address"));
    }
}
