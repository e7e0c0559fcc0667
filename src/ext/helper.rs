//! `-m helper` (libxt_helper): the connection tracking helper of the packet's connection (`ftp`,
//! `sip-5060`, ...).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The kernel keeps 29 bytes of the name.
pub const MAX_NAME: usize = 29;

/// `-m helper --helper NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Helper {
    /// The helper's name, optionally `-PORT` (an empty name matches any helper).
    pub name: Neg<Box<str>>,
}

const HELPER: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "helper",
    availability: Availability::Both,
    options: &[OptionSpec::value("helper", HELPER).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(HELPER, "helper") {
        return None;
    }
    let opt = b.get(HELPER)?;
    let text = opt.value();
    let mut cut = text.len().min(MAX_NAME);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(MatchKind::Helper(Box::new(Helper { name: b.neg(opt, text[..cut].into()) })))
}

impl Helper {
    pub fn save(&self, out: &mut String) {
        if self.name.invert {
            out.push_str(" !");
        }
        out.push_str(" --helper");
        save_string(out, &self.name.value);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_the_name_quoted_when_needed() {
        assert_eq!(v4("-m helper --helper ftp"), "-m helper --helper ftp");
        assert_eq!(v4("-m helper ! --helper \"sip-5060\""), "-m helper ! --helper sip-5060");
        assert_eq!(v4("-m helper --helper \"\""), "-m helper --helper \"\"");
        assert_eq!(v4("-m helper --helper \"a b\""), "-m helper --helper \"a b\"");
        assert_eq!(
            v6("-m helper --helper 0123456789012345678901234567890123"),
            "-m helper --helper 01234567890123456789012345678"
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m helper").contains("`--helper`"));
    }
}
