//! `-m devgroup` (libxt_devgroup): the device group of the incoming or outgoing interface. Groups
//! have names in `/etc/iproute2/group`; ipt knows the one every install has, `0 default`.

use serde::Serialize;

use super::build::Build;
use super::mark::MarkMask;
use super::opts::{Opt, OptionSpec};
use super::xtopt::{parse_val_mask, val_mask_text};
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// iproute2's `/etc/iproute2/group` as installed.
pub const GROUP_NAMES: &[(&str, u32)] = &[("default", 0)];

/// `-m devgroup`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Devgroup {
    /// `--src-group group[/mask]`: of the incoming interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Neg<MarkMask>>,
    /// `--dst-group group[/mask]`: of the outgoing interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<Neg<MarkMask>>,
}

const SRC: u8 = 0;
const DST: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "devgroup",
    availability: Availability::Both,
    options: &[OptionSpec::value("src-group", SRC).invertible(), OptionSpec::value("dst-group", DST).invertible()],
    build,
};

/// Reads a `value[/mask]` or a name of `names`, reporting what is wrong.
pub fn val_mask(b: &mut Build<'_, '_>, opt: &Opt<'_>, names: &[(&str, u32)], file: &str) -> Option<MarkMask> {
    match parse_val_mask(opt.value(), names) {
        Ok((value, mask)) => Some(MarkMask { value, mask }),
        Err(why) => {
            let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            let expected = match why {
                "name" => format!(
                    "a number, `value/mask`, or a name of {file} (ipt knows the standard `{}`)",
                    known.join("`, `")
                ),
                _ => "`value/mask`, two numbers 0-4294967295".to_string(),
            };
            b.bad_value(opt, expected);
            None
        }
    }
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Devgroup::default();
    let mut ok = true;
    for (id, slot) in [(SRC, &mut m.src), (DST, &mut m.dst)] {
        if let Some(opt) = b.get(id) {
            match val_mask(b, opt, GROUP_NAMES, "/etc/iproute2/group") {
                Some(v) => *slot = Some(b.neg(opt, v)),
                None => ok = false,
            }
        }
    }
    if ok && m.src.is_none() && m.dst.is_none() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--src-group` or `--dst-group`".into(),
        });
        return None;
    }
    ok.then(|| MatchKind::Devgroup(Box::new(m)))
}

impl Devgroup {
    pub fn save(&self, out: &mut String) {
        for (name, group) in [("src-group", &self.src), ("dst-group", &self.dst)] {
            if let Some(g) = group {
                let text = val_mask_text(g.value.value, g.value.mask, GROUP_NAMES);
                super::save::save_opt_value(out, g.invert, name, text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, same, saved_in, v4};
    use crate::model::Family;

    #[test]
    fn prints_names_and_hex() {
        assert_eq!(v4("-m devgroup --src-group 0"), "-m devgroup --src-group default");
        assert_eq!(
            saved_in(Family::Ipv4, "filter", "FORWARD", "-m devgroup ! --src-group 0x10/0xff --dst-group 3").as_deref(),
            Ok("-m devgroup ! --src-group 0x10/0xff --dst-group 0x3")
        );
        assert_eq!(
            saved_in(Family::Ipv6, "filter", "OUTPUT", "-m devgroup --dst-group 0/0xfffffffe").as_deref(),
            Ok("-m devgroup --dst-group 0x0/0xfffffffe")
        );
        same(Family::Ipv4, "-m devgroup --src-group default", "-m devgroup --src-group 0/0xffffffff");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m devgroup").contains("`--src-group` or `--dst-group`"));
        assert!(err4("-m devgroup --src-group foo").contains("/etc/iproute2/group"));
        assert!(err4("-m devgroup --src-group DEFAULT").contains("/etc/iproute2/group"));
        assert!(err4("-m devgroup --src-group 5x").contains("/etc/iproute2/group"));
        assert!(err4("-m devgroup --src-group 5/").contains("two numbers"));
        assert!(err4("-m devgroup --src-group 5/6x").contains("two numbers"));
    }
}
