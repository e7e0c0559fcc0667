//! What a rule's target does to a packet's walk through the filter table, for the analyses
//! that follow packets from rule to rule ([`super::accepts`], the DNAT lint).
//!
//! The match is exhaustive, with no `_` arm: a new target cannot ship without saying what it
//! does. Anything ipt cannot vouch for (a queue to user space, a verbatim target, a target of
//! another table) is [`Effect::Unknown`]: it may accept, drop, or go on.

use crate::model::{Family, TargetKind};
use crate::space::field::{CubeField, RangeField};
use crate::space::{Cubes, PacketSet, Ranges};

/// What happens to a packet a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect<'a> {
    /// `ACCEPT`: the table lets it through.
    Accept,
    /// `DROP` or `REJECT`: it goes no further.
    Drop,
    /// `-j CHAIN`.
    Jump(&'a str),
    /// `-g CHAIN`.
    Goto(&'a str),
    /// `RETURN`: back to the calling chain, or to the policy in a built-in chain.
    Return,
    /// It goes on to the next rule, with these fields perhaps changed (`-j MARK` changes the
    /// mark that later `-m mark` tests see).
    Continue { ranges: &'static [RangeField], cubes: &'static [CubeField] },
    /// Anything may happen: accepted, dropped, changed or sent on.
    Unknown,
}

const NOTHING: Effect<'static> = Effect::Continue { ranges: &[], cubes: &[] };

/// What `kind` does to the packets its rule matches.
pub fn effect(kind: &TargetKind) -> Effect<'_> {
    use TargetKind as T;
    match kind {
        T::Accept => Effect::Accept,
        T::Drop | T::Reject(_) => Effect::Drop,
        T::Jump(chain) => Effect::Jump(chain),
        T::Goto(chain) => Effect::Goto(chain),
        T::Return => Effect::Return,
        // they look, count, log, copy or tag what ipt does not model, and the packet goes on
        T::Continue
        | T::Log(_)
        | T::Nflog(_)
        | T::Ulog(_)
        | T::Trace
        | T::Audit(_)
        | T::Led(_)
        | T::Rateest(_)
        | T::Idletimer(_)
        | T::Tee(_)
        | T::Tcpoptstrip(_)
        | T::Classify(_)
        | T::Secmark(_)
        | T::Connsecmark(_)
        | T::Set(_)
        | T::Checksum => NOTHING,
        T::Mark(_) | T::Hmark(_) => Effect::Continue { ranges: &[], cubes: &[CubeField::Mark] },
        // `--restore-mark` sets the mark, `--set-mark` and `--save-mark` the connmark
        T::Connmark(_) => Effect::Continue { ranges: &[], cubes: &[CubeField::Mark, CubeField::Connmark] },
        T::Tos(_) | T::Dscp(_) => Effect::Continue { ranges: &[], cubes: &[CubeField::Tos] },
        T::Ttl(_) | T::Hl(_) => Effect::Continue { ranges: &[RangeField::Ttl], cubes: &[] },
        // it may add an MSS option, which makes the packet longer
        T::Tcpmss(_) => Effect::Continue { ranges: &[RangeField::Length], cubes: &[] },
        T::Queue
        | T::Nfqueue(_)
        | T::Synproxy(_)
        | T::Clusterip(_)
        | T::Dnat(_)
        | T::Snat(_)
        | T::Masquerade(_)
        | T::Redirect(_)
        | T::Netmap(_)
        | T::Tproxy(_)
        | T::Ct(_)
        | T::Notrack
        | T::Verbatim(_) => Effect::Unknown,
    }
}

/// `set` with the fields a [`Effect::Continue`] target may change set to any value: every
/// packet the set holds, as it may be after the target.
pub fn widen(set: &PacketSet, ranges: &[RangeField], cubes: &[CubeField], family: Family) -> PacketSet {
    let mut out = set.clone();
    for &field in ranges {
        out = out.replace_range(field, &Ranges::full(field.max()));
    }
    for &field in cubes {
        out = out.replace_cube(field, &Cubes::full(field.width(family)));
    }
    out
}
