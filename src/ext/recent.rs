//! `-m recent` (libxt_recent, revision 1): a named list of recently seen addresses that a rule
//! adds to (`--set`), looks up (`--rcheck`, `--update`) or removes from (`--remove`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::xtopt::parse_host;
use super::{Availability, MatchSpec};
use crate::model::addr::Ipv6Text;
use crate::model::{Family, MatchKind, Neg};

/// The list used when `--name` is not given.
pub const DEFAULT_NAME: &str = "DEFAULT";
/// The kernel's name buffer holds 199 bytes and a NUL; iptables cuts longer names.
pub const MAX_NAME: usize = 199;

/// What the rule does with the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecentCommand {
    /// `--set`: add the address (or refresh it); always matches.
    Set,
    /// `--rcheck`: match when the address is on the list.
    Rcheck,
    /// `--update`: like `--rcheck`, and refresh the last-seen time.
    Update,
    /// `--remove`: match when the address is on the list, and take it off.
    Remove,
}

impl RecentCommand {
    fn name(self) -> &'static str {
        match self {
            RecentCommand::Set => "set",
            RecentCommand::Rcheck => "rcheck",
            RecentCommand::Update => "update",
            RecentCommand::Remove => "remove",
        }
    }
}

/// Which address of the packet goes on the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecentSide {
    /// `--rsource` (the default).
    Source,
    /// `--rdest`.
    Dest,
}

/// `-m recent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Recent {
    /// The command, with `!` inverting the match.
    pub command: Neg<RecentCommand>,
    /// `--seconds N`: only entries seen in the last N seconds (0: not given).
    pub seconds: u32,
    /// `--reap`: purge entries older than `seconds`.
    pub reap: bool,
    /// `--hitcount N`: only entries seen at least N times (0: not given).
    pub hitcount: u32,
    /// `--rttl`: the packet's TTL must also equal the one recorded.
    pub rttl: bool,
    /// `--name`, `DEFAULT` when not given.
    pub name: Box<str>,
    /// `--mask`: applied to the address before the lookup; all ones by default.
    pub mask: IpAddr,
    pub side: RecentSide,
}

const SET: u8 = 0;
const RCHECK: u8 = 1;
const UPDATE: u8 = 2;
const REMOVE: u8 = 3;
const SECONDS: u8 = 4;
const REAP: u8 = 5;
const HITCOUNT: u8 = 6;
const RTTL: u8 = 7;
const NAME: u8 = 8;
const RSOURCE: u8 = 9;
const RDEST: u8 = 10;
const MASK: u8 = 11;

pub static SPEC: MatchSpec = MatchSpec {
    name: "recent",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("set", SET).invertible(),
        OptionSpec::flag("rcheck", RCHECK).invertible(),
        OptionSpec::flag("update", UPDATE).invertible(),
        OptionSpec::flag("remove", REMOVE).invertible(),
        OptionSpec::value("seconds", SECONDS),
        OptionSpec::flag("reap", REAP),
        OptionSpec::value("hitcount", HITCOUNT),
        OptionSpec::flag("rttl", RTTL),
        OptionSpec::value("name", NAME),
        OptionSpec::flag("rsource", RSOURCE),
        OptionSpec::flag("rdest", RDEST),
        OptionSpec::value("mask", MASK),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[SET, RCHECK, UPDATE, REMOVE]);
    ok &= b.exclusive(&[SET, RTTL]) && b.exclusive(&[REMOVE, RTTL]);
    ok &= b.needs(REAP, SECONDS, "seconds");
    let command = b.opts.iter().find_map(|o| {
        let command = match o.id {
            SET => RecentCommand::Set,
            RCHECK => RecentCommand::Rcheck,
            UPDATE => RecentCommand::Update,
            REMOVE => RecentCommand::Remove,
            _ => return None,
        };
        Some(b.neg(o, command))
    });
    let Some(command) = command else {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "one of `--set`, `--rcheck`, `--update`, `--remove`".into(),
        });
        return None;
    };
    let seconds = match b.get(SECONDS) {
        Some(opt) => b.number(opt, 1, u32::MAX as u64),
        None => Some(0),
    };
    let hitcount = match b.get(HITCOUNT) {
        Some(opt) => b.number(opt, 0, u32::MAX as u64),
        None => Some(0),
    };
    let mask = match b.get(MASK) {
        Some(opt) => parse_host(b, opt),
        None => Some(all_ones(b.family)),
    };
    let (Some(seconds), Some(hitcount), Some(mask), true) = (seconds, hitcount, mask, ok) else {
        return None;
    };
    let mut name: &str = b.get(NAME).map_or(DEFAULT_NAME, |o| o.value());
    if let Some(opt) = b.get(NAME)
        && name.len() > MAX_NAME
    {
        b.warn(
            opt.value_span(),
            format!("list name is {} bytes long: the kernel keeps {MAX_NAME}", name.len()),
            "iptables cuts it silently, so two long names can name one list; shorten it",
        );
    }
    if name.len() > MAX_NAME {
        let mut cut = MAX_NAME;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = &name[..cut];
    }
    // the last of `--rsource` and `--rdest` wins
    let side = match b.opts.iter().rev().find(|o| o.id == RSOURCE || o.id == RDEST) {
        Some(o) if o.id == RDEST => RecentSide::Dest,
        _ => RecentSide::Source,
    };
    Some(MatchKind::Recent(Box::new(Recent {
        command,
        seconds: seconds as u32,
        reap: b.has(REAP),
        hitcount: hitcount as u32,
        rttl: b.has(RTTL),
        name: name.into(),
        mask,
        side,
    })))
}

fn all_ones(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::from(u32::MAX)),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::from(u128::MAX)),
    }
}

impl Recent {
    pub fn save(&self, out: &mut String) {
        if self.command.invert {
            out.push_str(" !");
        }
        out.push_str(" --");
        out.push_str(self.command.value.name());
        // iptables prints these with `%d`
        if self.seconds != 0 {
            out.push_str(&format!(" --seconds {}", self.seconds as i32));
        }
        if self.reap {
            out.push_str(" --reap");
        }
        if self.hitcount != 0 {
            out.push_str(&format!(" --hitcount {}", self.hitcount as i32));
        }
        if self.rttl {
            out.push_str(" --rttl");
        }
        // printed as it is, unquoted, even with blanks in it
        out.push_str(" --name ");
        out.push_str(&self.name);
        match self.mask {
            IpAddr::V4(m) => out.push_str(&format!(" --mask {m}")),
            IpAddr::V6(m) => out.push_str(&format!(" --mask {}", Ipv6Text(m))),
        }
        out.push_str(match self.side {
            RecentSide::Source => " --rsource",
            RecentSide::Dest => " --rdest",
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn fills_in_the_defaults() {
        assert_eq!(v4("-m recent --set"), "-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource");
        assert_eq!(
            v6("-m recent --set"),
            "-m recent --set --name DEFAULT --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource"
        );
        same(Family::Ipv4, "-m recent --rcheck", "-m recent --rcheck --name DEFAULT --rsource --mask 255.255.255.255");
        same(Family::Ipv4, "-m recent --rcheck --hitcount 0", "-m recent --rcheck");
        same(Family::Ipv4, "-m recent --rcheck --rdest --rsource", "-m recent --rcheck");
    }

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(
            v4("-m recent ! --update --rttl --hitcount 3 --seconds 30 --name ssh --rdest"),
            "-m recent ! --update --seconds 30 --hitcount 3 --rttl --name ssh --mask 255.255.255.255 --rdest"
        );
        assert_eq!(
            v4("-m recent --update --rttl --reap --seconds 0x10 --mask 255.255.255"),
            "-m recent --update --seconds 16 --reap --rttl --name DEFAULT --mask 255.255.0.255 --rsource"
        );
        assert_eq!(
            v4("-m recent --rcheck --seconds 4294967295"),
            "-m recent --rcheck --seconds -1 --name DEFAULT --mask 255.255.255.255 --rsource"
        );
        assert_eq!(v4("-m recent --set --name \"a b\""), "-m recent --set --name a b --mask 255.255.255.255 --rsource");
        assert_eq!(v4("-m recent --rc --mask 24"), "-m recent --rcheck --name DEFAULT --mask 0.0.0.24 --rsource");
        assert_eq!(
            v6("-m recent --rcheck --mask ffff:ffff::"),
            "-m recent --rcheck --name DEFAULT --mask ffff:ffff:: --rsource"
        );
        let long = "n".repeat(210);
        assert_eq!(
            v4(&format!("-m recent --set --name {long}")),
            format!("-m recent --set --name {} --mask 255.255.255.255 --rsource", &long[..199])
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m recent --name foo").contains("one of `--set`, `--rcheck`, `--update`, `--remove`"));
        assert!(err4("-m recent --set --rcheck").contains("cannot be used together"));
        assert!(err4("-m recent --set --rttl").contains("cannot be used together"));
        assert!(err4("-m recent --remove --rttl").contains("cannot be used together"));
        assert!(err4("-m recent --rcheck --reap").contains("`--reap` also needs `--seconds`"));
        assert!(err4("-m recent --rcheck --seconds 0").contains("a number 1-4294967295"));
        assert!(err4("-m recent --rcheck ! --seconds 5").contains("cannot come before"));
        assert!(err4("-m recent --rcheck --rsource --rsource").contains("given twice"));
        assert!(err4("-m recent --rcheck --mask 2001:db8::").contains("this table is IPv4"));
        assert!(err4("-m recent --rcheck --mask 255.255.255.0/24").contains("does not resolve host names"));
        assert!(err6("-m recent --rcheck --mask 64").contains("this table is IPv6"));
    }
}
