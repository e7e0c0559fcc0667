//! `-j TRACE` (libxt_TRACE): mark the packet so that every rule it meets from here on is
//! logged (raw table). It has no options.

use super::{Availability, TargetSpec};
use crate::model::TargetKind;

pub static SPEC: TargetSpec =
    TargetSpec { name: "TRACE", availability: Availability::Both, options: &[], build: |_| Some(TargetKind::Trace) };

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn has_no_options() {
        assert_eq!(save4("-j TRACE"), "-j TRACE");
        assert_eq!(save6("-p tcp -j TRACE"), "-p tcp -j TRACE");
        assert!(err4("-j TRACE --foo").contains("unknown option `--foo`"));
    }
}
