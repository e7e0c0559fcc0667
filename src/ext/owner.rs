//! `-m owner` (libxt_owner, revision 1): the user, group or socket of a locally generated packet.
//! The kernel takes it only in OUTPUT and POSTROUTING.

use std::fmt;

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, MatchSpec};
use crate::load::LoadError;
use crate::model::{MatchKind, Neg, num};

/// A user or group: an id range, or a name looked up when the rule loads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OwnerId {
    /// `1000`, `1000-1999` (or `1000:1999`); one id is a range of one.
    Range { min: u32, max: u32 },
    /// A name other than `root`: its id depends on the host that loads the rule.
    Name(Box<str>),
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerId::Range { min, max } if min == max => write!(f, "{min}"),
            OwnerId::Range { min, max } => write!(f, "{min}-{max}"),
            OwnerId::Name(name) => f.write_str(name),
        }
    }
}

impl Serialize for OwnerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `-m owner`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Owner {
    /// `--socket-exists`: the packet has a socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_exists: Option<Neg<()>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<Neg<OwnerId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<Neg<OwnerId>>,
    /// `--suppl-groups`: the socket's supplementary groups count for `--gid-owner`.
    pub suppl_groups: bool,
}

const USER: u8 = 0;
const GROUP: u8 = 1;
const SOCK_EXISTS: u8 = 5;
const SUPPL_GROUPS: u8 = 6;

pub static SPEC: MatchSpec = MatchSpec {
    name: "owner",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("uid-owner", USER).invertible(),
        OptionSpec::value("gid-owner", GROUP).invertible(),
        OptionSpec::flag("socket-exists", SOCK_EXISTS).invertible(),
        OptionSpec::flag("suppl-groups", SUPPL_GROUPS),
    ],
    build,
};

/// The largest id: `-1` (4294967295) means "no id" to the kernel.
const MAX_ID: u64 = u32::MAX as u64 - 1;

/// `owner_parse_range`: `N`, `N-M` or `N:M`, C numbers up to 4294967294 (not checked to be in
/// order: the kernel refuses a reversed range).
fn parse_range(text: &str) -> Option<OwnerId> {
    let (min, rest) = num::uint_prefix(text, 0, MAX_ID)?;
    let max = match rest {
        "" => min,
        _ => num::uint(rest.strip_prefix(['-', ':'])?, 0, MAX_ID)?,
    };
    Some(OwnerId::Range { min: min as u32, max: max as u32 })
}

fn parse_id(b: &mut Build<'_, '_>, opt: &Opt<'_>, kind: &'static str) -> Option<OwnerId> {
    let text = opt.value();
    // iptables looks the name up first; `root` is 0 on every host
    if text == "root" {
        return Some(OwnerId::Range { min: 0, max: 0 });
    }
    if let Some(range) = parse_range(text) {
        return Some(range);
    }
    let plausible = !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && !text.contains([':', ',', ' ', '/']);
    if !plausible {
        b.bad_value(opt, format!("a {kind} name, an id 0-4294967294 or a range `min-max` of ids"));
        return None;
    }
    let file = if kind == "user" { "/etc/passwd" } else { "/etc/group" };
    b.report(LoadError::AccountName { span: opt.value_span(), kind, file, name: text.to_string() });
    Some(OwnerId::Name(text.into()))
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut owner = Owner::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            USER => match parse_id(b, opt, "user") {
                Some(id) => owner.uid = Some(b.neg(opt, id)),
                None => ok = false,
            },
            GROUP => match parse_id(b, opt, "group") {
                Some(id) => owner.gid = Some(b.neg(opt, id)),
                None => ok = false,
            },
            SOCK_EXISTS => owner.socket_exists = Some(b.neg(opt, ())),
            SUPPL_GROUPS => {
                // iptables checks this as it reads it
                if owner.gid.is_none() && ok {
                    b.fail(
                        opt.span,
                        "`--suppl-groups` needs `--gid-owner` before it",
                        "write `--gid-owner GROUP` first",
                    );
                    ok = false;
                }
                owner.suppl_groups = true;
            }
            _ => {}
        }
    }
    if ok && b.opts.is_empty() {
        b.report(LoadError::MissingOption {
            span: b.span,
            needs: "`--uid-owner`, `--gid-owner` or `--socket-exists`".into(),
        });
        return None;
    }
    ok.then(|| MatchKind::Owner(Box::new(owner)))
}

impl Owner {
    pub fn save(&self, out: &mut String) {
        use super::save::{save_opt, save_opt_value};
        if let Some(s) = &self.socket_exists {
            save_opt(out, s.invert, "socket-exists");
        }
        if let Some(u) = &self.uid {
            save_opt_value(out, u.invert, "uid-owner", &u.value);
        }
        if let Some(g) = &self.gid {
            save_opt_value(out, g.invert, "gid-owner", &g.value);
        }
        if self.suppl_groups {
            out.push_str(" --suppl-groups");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, saved_in};
    use crate::model::Family;

    fn out4(rule: &str) -> String {
        saved_in(Family::Ipv4, "filter", "OUTPUT", rule).unwrap_or_else(|e| panic!("`{rule}`: {e}"))
    }

    #[test]
    fn saves_ids_and_ranges() {
        assert_eq!(out4("-m owner --uid-owner root"), "-m owner --uid-owner 0");
        assert_eq!(out4("-m owner ! --gid-owner 0x10:0x20"), "-m owner ! --gid-owner 16-32");
        assert_eq!(out4("-m owner --uid-owner 0-4294967294"), "-m owner --uid-owner 0-4294967294");
        assert_eq!(out4("-m owner --uid-owner 2000-1000"), "-m owner --uid-owner 2000-1000");
        assert_eq!(
            out4("-m owner --gid-owner 0 --suppl-groups --uid-owner 5 ! --socket-exists"),
            "-m owner ! --socket-exists --uid-owner 5 --gid-owner 0 --suppl-groups"
        );
        assert_eq!(
            saved_in(Family::Ipv6, "filter", "OUTPUT", "-m owner --socket-exists").as_deref(),
            Ok("-m owner --socket-exists")
        );
    }

    #[test]
    fn keeps_other_names_with_a_warning() {
        assert_eq!(out4("-m owner --uid-owner www-data"), "-m owner --uid-owner www-data");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m owner").contains("`--uid-owner`, `--gid-owner` or `--socket-exists`"));
        assert!(err4("-m owner --uid-owner 4294967295").contains("0-4294967294"));
        assert!(err4("-m owner --uid-owner -1").contains("0-4294967294"));
        assert!(err4("-m owner --uid-owner 5-").contains("0-4294967294"));
        assert!(err4("-m owner --suppl-groups --gid-owner 0").contains("needs `--gid-owner` before it"));
        assert!(err4("-m owner --gid-owner 0 ! --suppl-groups").contains("cannot come before"));
        assert!(err4("-m owner --uid-owner 0 --uid-owner 1").contains("given twice"));
        assert!(err4("-m owner --pid-owner 1").contains("unknown option"));
    }
}
