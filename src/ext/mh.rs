//! `-m mh` (libip6t_mh): the type of an IPv6 Mobility Header, or a range of types. The kernel
//! takes it only on rules with `-p mh` (`-p ipv6-mh`, 135).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, num};

/// The names iptables knows, aliases after their full name.
const NAMES: &[(&str, u8)] = &[
    ("binding-refresh-request", 0),
    ("brr", 0),
    ("home-test-init", 1),
    ("hoti", 1),
    ("careof-test-init", 2),
    ("coti", 2),
    ("home-test", 3),
    ("hot", 3),
    ("careof-test", 4),
    ("cot", 4),
    ("binding-update", 5),
    ("bu", 5),
    ("binding-acknowledgement", 6),
    ("ba", 6),
    ("binding-error", 7),
    ("be", 7),
];

/// `-m mh`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Mh {
    /// The types, lowest and highest; `None` for every type (`0:255`, not negated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<Neg<(u8, u8)>>,
}

const TYPE: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "mh",
    availability: Availability::Ipv6,
    options: &[OptionSpec::value("mh-type", TYPE).invertible()],
    build,
};

/// `name_to_type`: a name, or the start of one (the shortest name wins only when it is
/// written in full), case-insensitively; else a number 0-255.
fn type_of(text: &str) -> Option<u8> {
    let mut found = None;
    for &(name, value) in NAMES {
        if name.len() >= text.len()
            && name[..text.len()].eq_ignore_ascii_case(text)
            && (found.is_none() || name.len() == text.len())
        {
            found = Some(value);
        }
    }
    found.or_else(|| match num::strtoul(text, 0) {
        Some((v, "")) if v <= 255 => Some(v as u8),
        _ => None,
    })
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let Some(opt) = b.get(TYPE) else {
        return Some(MatchKind::Mh(Mh::default()));
    };
    let text = opt.value();
    let range = match text.split_once(':') {
        None => type_of(text).map(|t| (t, t)),
        Some((lo, hi)) => {
            let lo = if lo.is_empty() { Some(0) } else { type_of(lo) };
            let hi = if hi.is_empty() { Some(255) } else { type_of(hi) };
            lo.zip(hi)
        }
    };
    match range {
        Some((lo, hi)) if lo > hi => {
            b.bad_value(opt, "a range from low to high (the lower type first)");
            None
        }
        Some(range) => {
            let types = (range != (0, 255) || opt.invert).then(|| b.neg(opt, range));
            Some(MatchKind::Mh(Mh { types }))
        }
        None => {
            b.bad_value(
                opt,
                "a Mobility Header type 0-255 or a name: binding-refresh-request (brr), home-test-init (hoti), \
                 careof-test-init (coti), home-test (hot), careof-test (cot), binding-update (bu), \
                 binding-acknowledgement (ba), binding-error (be)",
            );
            None
        }
    }
}

impl Mh {
    /// iptables-save prints numbers.
    pub fn save(&self, out: &mut String) {
        let Some(Neg { invert, value: (lo, hi), .. }) = self.types else { return };
        let text = if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") };
        save_opt_value(out, invert, "mh-type", text);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err6, same, v6};
    use crate::model::Family;

    #[test]
    fn saves_numbers_as_ip6tables_save_does() {
        // checked with ip6tables-legacy-save 1.8.9
        assert_eq!(v6("-p mh --mh-type home-test -j ACCEPT"), "-p mobility-header -m mh --mh-type 3 -j ACCEPT");
        assert_eq!(v6("-p mh -m mh ! --mh-type binding-update"), "-p mobility-header -m mh ! --mh-type 5");
        assert_eq!(v6("-p mh -m mh --mh-type bu:7"), "-p mobility-header -m mh --mh-type 5:7");
        assert_eq!(v6("-p mh -m mh --mh-type :"), "-p mobility-header -m mh");
        // ip6tables-save drops this negation, though the kernel keeps it (the rule never
        // matches); ipt prints what the kernel holds
        assert_eq!(v6("-p mh -m mh ! --mh-type 0:255"), "-p mobility-header -m mh ! --mh-type 0:255");
    }

    #[test]
    fn names_prefixes_and_aliases() {
        same(Family::Ipv6, "-p mh -m mh --mh-type binding-acknowledgement", "-p mh -m mh --mh-type ba");
        same(Family::Ipv6, "-p mh -m mh --mh-type HOME-TEST", "-p mh -m mh --mh-type 3");
        // `home-test` is a prefix of `home-test-init` too, but written in full
        same(Family::Ipv6, "-p mh -m mh --mh-type home-test", "-p mh -m mh --mh-type hot");
        // a prefix takes the first name it starts, unless a name is written in full
        same(Family::Ipv6, "-p mh -m mh --mh-type b", "-p mh -m mh --mh-type 0");
        same(Family::Ipv6, "-p mh -m mh --mh-type bu", "-p mh -m mh --mh-type 5");
        same(Family::Ipv6, "-p mh -m mh --mh-type 0x7", "-p mh -m mh --mh-type be");
    }

    #[test]
    fn refuses_what_ip6tables_refuses() {
        assert!(err6("-p mh -m mh --mh-type 256").contains("--mh-type"));
        assert!(err6("-p mh -m mh --mh-type nonsense").contains("--mh-type"));
        assert!(err6("-p mh -m mh --mh-type 7:5").contains("low to high"));
    }
}
