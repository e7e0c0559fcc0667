//! `-j CONNSECMARK` (libxt_CONNSECMARK): copy the security mark from the packet to its
//! connection (`--save`) or back (`--restore`).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connsecmark {
    Save,
    Restore,
}

const SAVE: u8 = 0;
const RESTORE: u8 = 1;

pub static SPEC: TargetSpec = TargetSpec {
    name: "CONNSECMARK",
    availability: Availability::Both,
    options: &[OptionSpec::flag("save", SAVE), OptionSpec::flag("restore", RESTORE)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let ok = b.at_most_one(&[SAVE, RESTORE]);
    let mode = match b.opts.first() {
        Some(opt) if opt.id == SAVE => Connsecmark::Save,
        Some(_) => Connsecmark::Restore,
        None => {
            b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--save` or `--restore`".into() });
            return None;
        }
    };
    ok.then_some(TargetKind::Connsecmark(mode))
}

impl Connsecmark {
    pub fn save(&self, out: &mut String) {
        out.push_str(match self {
            Connsecmark::Save => " --save",
            Connsecmark::Restore => " --restore",
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn one_direction() {
        assert_eq!(save4("-j CONNSECMARK --save"), "-j CONNSECMARK --save");
        assert_eq!(save6("-j CONNSECMARK --restore"), "-j CONNSECMARK --restore");
        assert!(err4("-j CONNSECMARK").contains("`--save` or `--restore`"));
        assert!(err4("-j CONNSECMARK --save --restore").contains("cannot be used together"));
        assert!(err4("-j CONNSECMARK --save --save").contains("given twice"));
    }
}
