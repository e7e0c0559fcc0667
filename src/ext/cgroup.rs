//! `-m cgroup` (libxt_cgroup, revision 2): the control group of the packet's socket, by path
//! (cgroup v2) or by net_cls class id. The kernel wants exactly one of them, and an existing
//! path.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The kernel keeps 511 bytes of a path.
pub const MAX_PATH: usize = 511;

/// `-m cgroup`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Cgroup {
    /// `--path PATH`: a cgroup v2 path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Neg<Box<str>>>,
    /// `--cgroup ID`: a net_cls class id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classid: Option<Neg<u32>>,
}

const CLASSID: u8 = 0;
const PATH: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "cgroup",
    availability: Availability::Both,
    options: &[OptionSpec::value("path", PATH).invertible(), OptionSpec::value("cgroup", CLASSID).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Cgroup::default();
    if let Some(opt) = b.get(PATH) {
        let text = opt.value();
        let mut cut = text.len().min(MAX_PATH);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        m.path = Some(b.neg(opt, text[..cut].into()));
    }
    if let Some(opt) = b.get(CLASSID) {
        let id = b.number(opt, 0, u32::MAX as u64)? as u32;
        m.classid = Some(b.neg(opt, id));
    }
    Some(MatchKind::Cgroup(Box::new(m)))
}

impl Cgroup {
    pub fn save(&self, out: &mut String) {
        if let Some(p) = &self.path {
            if p.invert {
                out.push_str(" !");
            }
            out.push_str(" --path");
            save_string(out, &p.value);
        }
        if let Some(c) = &self.classid {
            super::save::save_opt_value(out, c.invert, "cgroup", c.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, saved_in};
    use crate::model::Family;

    fn out(rule: &str) -> Result<String, String> {
        saved_in(Family::Ipv4, "filter", "OUTPUT", rule)
    }

    #[test]
    fn saves_path_quoted_and_classid() {
        assert_eq!(out("-m cgroup ! --cgroup 0x10").as_deref(), Ok("-m cgroup ! --cgroup 16"));
        assert_eq!(out("-m cgroup --path /").as_deref(), Ok("-m cgroup --path \"/\""));
        assert_eq!(out("-m cgroup ! --path user.slice").as_deref(), Ok("-m cgroup ! --path \"user.slice\""));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m cgroup --cgroup -1").contains("0-4294967295"));
        assert!(err4("-m cgroup --cgroup 1 --cgroup 2").contains("given twice"));
    }
}
