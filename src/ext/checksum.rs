//! `-j CHECKSUM` (libxt_CHECKSUM): fill in the checksum of packets that have none yet (for
//! virtual machines' DHCP replies). `--checksum-fill` is its only option, and mandatory.

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

const FILL: u8 = 0;

pub static SPEC: TargetSpec = TargetSpec {
    name: "CHECKSUM",
    availability: Availability::Both,
    options: &[OptionSpec::flag("checksum-fill", FILL)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    b.require(FILL, "checksum-fill").map(|_| TargetKind::Checksum)
}

/// What iptables-save prints after `-j CHECKSUM`.
pub fn save(out: &mut String) {
    out.push_str(" --checksum-fill");
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn fill_is_mandatory() {
        assert_eq!(save4("-j CHECKSUM --checksum-fill"), "-j CHECKSUM --checksum-fill");
        assert_eq!(save6("-p udp -j CHECKSUM --checksum-fill"), "-p udp -j CHECKSUM --checksum-fill");
        assert!(err4("-j CHECKSUM").contains("`--checksum-fill`"));
        assert!(err4("-j CHECKSUM --checksum-fill --checksum-fill").contains("given twice"));
    }
}
