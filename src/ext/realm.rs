//! `-m realm` (libipt_realm, IPv4): the routing realm of the packet's route. Realms have names in
//! `/etc/iproute2/rt_realms`; ipt knows the one every install has, `0 cosmos`.

use serde::Serialize;

use super::build::Build;
use super::devgroup::val_mask;
use super::mark::MarkMask;
use super::opts::OptionSpec;
use super::xtopt::val_mask_text;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// iproute2's `/etc/iproute2/rt_realms` as installed.
pub const REALM_NAMES: &[(&str, u32)] = &[("cosmos", 0)];

/// `-m realm --realm value[/mask]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Realm {
    pub realm: Neg<MarkMask>,
}

const REALM: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "realm",
    availability: Availability::Ipv4,
    options: &[OptionSpec::value("realm", REALM).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(REALM, "realm") {
        return None;
    }
    let opt = b.get(REALM)?;
    let realm = val_mask(b, opt, REALM_NAMES, "/etc/iproute2/rt_realms")?;
    Some(MatchKind::Realm(Realm { realm: b.neg(opt, realm) }))
}

impl Realm {
    pub fn save(&self, out: &mut String) {
        let text = val_mask_text(self.realm.value.value, self.realm.value.mask, REALM_NAMES);
        super::save::save_opt_value(out, self.realm.invert, "realm", text);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, v4};

    #[test]
    fn prints_names_and_hex() {
        assert_eq!(v4("-m realm --realm 0"), "-m realm --realm cosmos");
        assert_eq!(v4("-m realm ! --realm 0x10/0xff"), "-m realm ! --realm 0x10/0xff");
        assert_eq!(v4("-m realm --realm 255"), "-m realm --realm 0xff");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m realm").contains("`--realm`"));
        assert!(err4("-m realm --realm foo").contains("rt_realms"));
        assert!(err6("-m realm --realm 1").contains("IPv4 extension"));
    }
}
