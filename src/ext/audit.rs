//! `-j AUDIT` (libxt_AUDIT): write an audit record for the packet, of a given type.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `-j AUDIT --type TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditType {
    Accept,
    Drop,
    Reject,
}

const TYPE: u8 = 0;

pub static SPEC: TargetSpec =
    TargetSpec { name: "AUDIT", availability: Availability::Both, options: &[OptionSpec::value("type", TYPE)], build };

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let opt = b.require(TYPE, "type")?;
    let kind = match opt.value().to_ascii_lowercase().as_str() {
        "accept" => AuditType::Accept,
        "drop" => AuditType::Drop,
        "reject" => AuditType::Reject,
        _ => {
            b.bad_value(opt, "`accept`, `drop` or `reject`");
            return None;
        }
    };
    Some(TargetKind::Audit(kind))
}

impl AuditType {
    pub fn save(&self, out: &mut String) {
        out.push_str(match self {
            AuditType::Accept => " --type accept",
            AuditType::Drop => " --type drop",
            AuditType::Reject => " --type reject",
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn types_in_any_case() {
        assert_eq!(save4("-j AUDIT --type accept"), "-j AUDIT --type accept");
        assert_eq!(save4("-j AUDIT --type Drop"), "-j AUDIT --type drop");
        assert_eq!(save6("-j AUDIT --type REJECT"), "-j AUDIT --type reject");
        assert!(err4("-j AUDIT").contains("`--type`"));
        assert!(err4("-j AUDIT --type foo").contains("`accept`, `drop` or `reject`"));
        assert!(err4("-j AUDIT --type accept --type drop").contains("given twice"));
    }
}
