//! Where the kernel lets each target and match stand: which tables, which hooks (a user chain
//! counts as every hook it is reached from), which protocol. These are the checks of the
//! kernel's `checkentry` functions, which `iptables-restore --test` never runs.

use crate::model::{Hook, MatchKind, Proto, TableName, TargetKind};

/// A restriction on where an extension loads.
pub struct Place {
    pub name: &'static str,
    /// The tables it loads in; empty for any.
    pub tables: &'static [TableName],
    /// The hooks it loads in (a bit per [`Hook`]); 0 for any.
    pub hooks: u8,
    /// Why, for the help line.
    pub help: &'static str,
}

const fn hooks(list: &[Hook]) -> u8 {
    let mut mask = 0;
    let mut i = 0;
    while i < list.len() {
        mask |= 1 << list[i] as u8;
        i += 1;
    }
    mask
}

use Hook::*;
use TableName::*;

const DNAT: Place = Place {
    name: "DNAT",
    tables: &[Nat],
    hooks: hooks(&[Prerouting, Output]),
    help: "DNAT rewrites the destination before routing: put it in nat PREROUTING (incoming) or nat OUTPUT (local)",
};
const REDIRECT: Place = Place {
    name: "REDIRECT",
    tables: &[Nat],
    hooks: hooks(&[Prerouting, Output]),
    help: "REDIRECT rewrites the destination before routing: put it in nat PREROUTING or nat OUTPUT",
};
const SNAT: Place = Place {
    name: "SNAT",
    tables: &[Nat],
    hooks: hooks(&[Input, Postrouting]),
    help: "SNAT rewrites the source after routing: put it in nat POSTROUTING (or nat INPUT)",
};
const MASQUERADE: Place = Place {
    name: "MASQUERADE",
    tables: &[Nat],
    hooks: hooks(&[Postrouting]),
    help: "MASQUERADE picks the source address of the outgoing interface: put it in nat POSTROUTING",
};
const REJECT: Place = Place {
    name: "REJECT",
    tables: &[Filter],
    hooks: 0,
    help: "REJECT loads only in the filter table; to refuse packets earlier, DROP them in raw or mangle",
};

/// Where a target may stand, if anywhere is not fine.
pub fn target_place(kind: &TargetKind) -> Option<&'static Place> {
    match kind {
        TargetKind::Dnat(_) => Some(&DNAT),
        TargetKind::Snat(_) => Some(&SNAT),
        TargetKind::Masquerade(_) => Some(&MASQUERADE),
        TargetKind::Redirect(_) => Some(&REDIRECT),
        TargetKind::Reject(_) => Some(&REJECT),
        _ => None,
    }
}

const LIMIT_IFACE_IN: Place = Place {
    name: "addrtype --limit-iface-in",
    tables: &[],
    hooks: hooks(&[Prerouting, Input, Forward]),
    help: "a packet going out has no input interface to look the address up on",
};
const LIMIT_IFACE_OUT: Place = Place {
    name: "addrtype --limit-iface-out",
    tables: &[],
    hooks: hooks(&[Forward, Output, Postrouting]),
    help: "a packet coming in has no output interface yet",
};

/// Where a match may stand, if anywhere is not fine.
pub fn match_place(kind: &MatchKind) -> Option<&'static Place> {
    match kind {
        MatchKind::Addrtype(a) if a.limit_iface_in => Some(&LIMIT_IFACE_IN),
        MatchKind::Addrtype(a) if a.limit_iface_out => Some(&LIMIT_IFACE_OUT),
        _ => None,
    }
}

/// The protocol a match needs on the rule (`-p tcp` for `-m tcp`, not negated).
pub fn match_protocol(kind: &MatchKind) -> Option<Proto> {
    match kind {
        MatchKind::Tcp(_) => Some(Proto::TCP),
        MatchKind::Udp(_) => Some(Proto::UDP),
        MatchKind::Icmp(_) => Some(Proto::ICMP),
        MatchKind::Icmp6(_) => Some(Proto::ICMPV6),
        _ => None,
    }
}
