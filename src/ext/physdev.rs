//! `-m physdev` (libxt_physdev): the bridge ports a bridged packet came in on or goes out of.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt;
use super::{Availability, MatchSpec};
use crate::model::{Iface, MatchKind, Neg};

/// `-m physdev`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Physdev {
    /// `--physdev-in NAME`: a bridge port name, `eth+` for a prefix. An empty name (which
    /// iptables takes) compares no byte of the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physdev_in: Option<Neg<Box<str>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physdev_out: Option<Neg<Box<str>>>,
    /// `--physdev-is-in`: the packet came in on a bridge port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_in: Option<Neg<()>>,
    /// `--physdev-is-out`: the packet goes out on a bridge port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_out: Option<Neg<()>>,
    /// `--physdev-is-bridged`: the packet is being bridged (not routed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_bridged: Option<Neg<()>>,
}

const IN: u8 = 0;
const OUT: u8 = 1;
const IS_IN: u8 = 2;
const IS_OUT: u8 = 3;
const IS_BRIDGED: u8 = 4;

pub static SPEC: MatchSpec = MatchSpec {
    name: "physdev",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("physdev-in", IN).invertible(),
        OptionSpec::value("physdev-out", OUT).invertible(),
        OptionSpec::flag("physdev-is-in", IS_IN).invertible(),
        OptionSpec::flag("physdev-is-out", IS_OUT).invertible(),
        OptionSpec::flag("physdev-is-bridged", IS_BRIDGED).invertible(),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Physdev::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            IN | OUT => {
                let name = opt.value();
                if name.len() > Iface::MAX {
                    b.bad_value(
                        opt,
                        format!("an interface name of at most 15 characters (this one has {})", name.len()),
                    );
                    ok = false;
                    continue;
                }
                let slot = if opt.id == IN { &mut m.physdev_in } else { &mut m.physdev_out };
                *slot = Some(b.neg(opt, name.into()));
            }
            IS_IN => m.is_in = Some(b.neg(opt, ())),
            IS_OUT => m.is_out = Some(b.neg(opt, ())),
            IS_BRIDGED => m.is_bridged = Some(b.neg(opt, ())),
            _ => {}
        }
    }
    if ok && b.opts.is_empty() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs:
                "one of `--physdev-in`, `--physdev-out`, `--physdev-is-in`, `--physdev-is-out`, `--physdev-is-bridged`"
                    .into(),
        });
        return None;
    }
    ok.then_some(MatchKind::Physdev(Box::new(m)))
}

fn save_flag(out: &mut String, name: &str, flag: &Option<Neg<()>>) {
    if let Some(f) = flag {
        save_opt(out, f.invert, name);
    }
}

fn save_name(out: &mut String, name: &str, dev: &Option<Neg<Box<str>>>) {
    if let Some(d) = dev {
        // printed as it is, even empty or with blanks
        save_opt(out, d.invert, name);
        out.push(' ');
        out.push_str(&d.value);
    }
}

impl Physdev {
    pub fn save(&self, out: &mut String) {
        save_flag(out, "physdev-is-in", &self.is_in);
        save_name(out, "physdev-in", &self.physdev_in);
        save_flag(out, "physdev-is-out", &self.is_out);
        save_name(out, "physdev-out", &self.physdev_out);
        save_flag(out, "physdev-is-bridged", &self.is_bridged);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::saved_in;
    use crate::model::Family;

    fn fwd(family: Family, rule: &str) -> Result<String, String> {
        saved_in(family, "filter", "FORWARD", rule)
    }

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(
            fwd(Family::Ipv4, "-m physdev ! --physdev-out eth+ ! --physdev-is-out --physdev-is-in ! --physdev-in br0 --physdev-is-bridged")
                .as_deref(),
            Ok("-m physdev --physdev-is-in ! --physdev-in br0 ! --physdev-is-out ! --physdev-out eth+ --physdev-is-bridged")
        );
        assert_eq!(fwd(Family::Ipv4, "-m physdev ! --physdev-in \"\"").as_deref(), Ok("-m physdev ! --physdev-in "));
        assert_eq!(
            fwd(Family::Ipv4, "-m physdev --physdev-out \"a b\"").as_deref(),
            Ok("-m physdev --physdev-out a b")
        );
        assert_eq!(
            fwd(Family::Ipv6, "-m physdev --physdev-is-bridged ! --physdev-out veth1").as_deref(),
            Ok("-m physdev ! --physdev-out veth1 --physdev-is-bridged")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        let err = |rule: &str| fwd(Family::Ipv4, rule).unwrap_err();
        assert!(err("-m physdev").contains("one of `--physdev-in`"));
        assert!(err("-m physdev --physdev-in 0123456789abcdef").contains("at most 15 characters"));
        assert!(err("-m physdev --physdev-is-in --physdev-is-in").contains("given twice"));
    }
}
