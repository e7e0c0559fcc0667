//! `-j SYNPROXY` (libxt_SYNPROXY): answer TCP handshakes for a server, and pass on only
//! connections that complete, with the TCP options given here.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `-j SYNPROXY`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Synproxy {
    pub sack_perm: bool,
    pub timestamp: bool,
    /// The window scale to announce (the kernel keeps 8 bits of what is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wscale: Option<u8>,
    /// The MSS to announce (the kernel keeps 16 bits of what is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    pub ecn: bool,
}

const SACK_PERM: u8 = 0;
const TIMESTAMP: u8 = 1;
const WSCALE: u8 = 2;
const MSS: u8 = 3;
const ECN: u8 = 4;

pub static SPEC: TargetSpec = TargetSpec {
    name: "SYNPROXY",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("sack-perm", SACK_PERM),
        OptionSpec::flag("timestamp", TIMESTAMP),
        OptionSpec::value("wscale", WSCALE),
        OptionSpec::value("mss", MSS),
        OptionSpec::flag("ecn", ECN),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut s =
        Synproxy { sack_perm: b.has(SACK_PERM), timestamp: b.has(TIMESTAMP), ecn: b.has(ECN), ..Synproxy::default() };
    // both are read as 32-bit numbers and stored in narrower fields
    for (id, bits) in [(WSCALE, 8), (MSS, 16)] {
        let Some(opt) = b.get(id) else { continue };
        let value = b.number(opt, 0, u32::MAX as u64)?;
        let kept = value & ((1 << bits) - 1);
        if kept != value {
            b.warn(
                opt.value_span(),
                format!("`--{} {value}` is kept as {kept}: the kernel stores {bits} bits", opt.name),
                format!("give a value below {}", 1u64 << bits),
            );
        }
        if id == WSCALE {
            s.wscale = Some(kept as u8);
        } else {
            s.mss = Some(kept as u16);
        }
    }
    Some(TargetKind::Synproxy(s))
}

impl Synproxy {
    pub fn save(&self, out: &mut String) {
        if self.sack_perm {
            out.push_str(" --sack-perm");
        }
        if self.timestamp {
            out.push_str(" --timestamp");
        }
        if let Some(w) = self.wscale {
            out.push_str(&format!(" --wscale {w}"));
        }
        if let Some(m) = self.mss {
            out.push_str(&format!(" --mss {m}"));
        }
        if self.ecn {
            out.push_str(" --ecn");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, warnings4};

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(save4("-p tcp -j SYNPROXY"), "-p tcp -j SYNPROXY");
        assert_eq!(
            save4("-p tcp -j SYNPROXY --ecn --sack-perm --timestamp --wscale 1 --mss 1"),
            "-p tcp -j SYNPROXY --sack-perm --timestamp --wscale 1 --mss 1 --ecn"
        );
        assert_eq!(
            save6("-p tcp -j SYNPROXY --mss 1440 --wscale 7 --sack-perm --timestamp"),
            "-p tcp -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1440"
        );
        assert_eq!(save4("-p tcp -j SYNPROXY --wscale 0 --mss 0"), "-p tcp -j SYNPROXY --wscale 0 --mss 0");
    }

    #[test]
    fn values_are_cut_to_the_kernel_fields() {
        assert_eq!(save4("-p tcp -j SYNPROXY --wscale 256 --mss 70000"), "-p tcp -j SYNPROXY --wscale 0 --mss 4464");
        assert_eq!(save4("-p tcp -j SYNPROXY --mss 65536"), "-p tcp -j SYNPROXY --mss 0");
        assert!(warnings4("-p tcp -j SYNPROXY --wscale 256")[0].contains("kept as 0"));
        assert!(err4("-p tcp -j SYNPROXY --mss 4294967296").contains("0-4294967295"));
        assert!(err4("-p tcp -j SYNPROXY --ecn --ecn").contains("given twice"));
    }
}
