//! `-m ecn` (libxt_ecn): the ECN bits of the IP header and the ECE and CWR flags of TCP. The
//! kernel takes the TCP flags only on rules with `-p tcp`.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::{save_opt, save_opt_value};
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// `-m ecn`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ecn {
    /// `--ecn-tcp-ece`: the TCP ECE flag is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ece: Option<Neg<()>>,
    /// `--ecn-tcp-cwr`: the TCP CWR flag is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwr: Option<Neg<()>>,
    /// `--ecn-ip-ect N`: the IP header's ECN field is N (0-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_ect: Option<Neg<u8>>,
}

const CWR: u8 = 0;
const ECE: u8 = 1;
const IP_ECT: u8 = 2;

pub static SPEC: MatchSpec = MatchSpec {
    name: "ecn",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("ecn-tcp-cwr", CWR).invertible(),
        OptionSpec::flag("ecn-tcp-ece", ECE).invertible(),
        OptionSpec::value("ecn-ip-ect", IP_ECT).invertible(),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Ecn::default();
    for opt in b.opts {
        match opt.id {
            CWR => m.cwr = Some(b.neg(opt, ())),
            ECE => m.ece = Some(b.neg(opt, ())),
            _ => {
                let ect = b.number(opt, 0, 3)? as u8;
                m.ip_ect = Some(b.neg(opt, ect));
            }
        }
    }
    if b.opts.is_empty() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--ecn-tcp-cwr`, `--ecn-tcp-ece` or `--ecn-ip-ect`".into(),
        });
        return None;
    }
    Some(MatchKind::Ecn(Box::new(m)))
}

impl Ecn {
    /// Whether the match reads TCP flags (and so needs `-p tcp`).
    pub fn uses_tcp(&self) -> bool {
        self.ece.is_some() || self.cwr.is_some()
    }

    pub fn save(&self, out: &mut String) {
        if let Some(e) = &self.ece {
            save_opt(out, e.invert, "ecn-tcp-ece");
        }
        if let Some(c) = &self.cwr {
            save_opt(out, c.invert, "ecn-tcp-cwr");
        }
        if let Some(i) = &self.ip_ect {
            save_opt_value(out, i.invert, "ecn-ip-ect", i.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(
            v4("-p tcp -m ecn ! --ecn-ip-ect 2 ! --ecn-tcp-cwr --ecn-tcp-ece"),
            "-p tcp -m ecn --ecn-tcp-ece ! --ecn-tcp-cwr ! --ecn-ip-ect 2"
        );
        assert_eq!(v6("-m ecn --ecn-ip-ect 0x3"), "-m ecn --ecn-ip-ect 3");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m ecn").contains("`--ecn-tcp-cwr`"));
        assert!(err4("-m ecn --ecn-ip-ect 4").contains("0-3"));
        assert!(err4("-m ecn --ecn-tcp-cwr --ecn-tcp-cwr").contains("given twice"));
    }
}
