//! The typed model of a ruleset: tables → chains → rules, each rule with typed matches and a typed
//! target. Every node carries the [`Span`](crate::source::Span) of the text it came from; spans
//! never take part in equality. This module knows nothing of the text format: [`crate::load`]
//! builds it and [`crate::fmt`] prints it.

pub mod addr;
mod chain;
mod counters;
mod family;
pub mod iface;
mod matches;
mod neg;
pub mod netdb;
pub mod num;
pub mod port;
mod proto;
mod rule;
mod ruleset;
mod table;
mod target;

pub use addr::Net;
pub use chain::{Builtin, Chain, ChainName, Policy};
pub use counters::Counters;
pub use family::Family;
pub use iface::Iface;
pub use matches::{Match, MatchKind, Verbatim};
pub use neg::Neg;
pub use port::PortRange;
pub use proto::Proto;
pub use rule::Rule;
pub use ruleset::Ruleset;
pub use table::{ChainFinder, Hook, Table, TableName};
pub use target::{Target, TargetKind};

#[cfg(test)]
mod size_tests {
    use std::mem::size_of;

    /// A big dump holds some hundred thousand rules and twice as many matches: these sizes are
    /// most of ipt's memory. Growing one is a choice to make on purpose (box the rare part).
    #[test]
    fn the_model_stays_small() {
        assert_eq!(size_of::<super::Rule>(), 144);
        assert_eq!(size_of::<super::Match>(), 32);
        assert_eq!(size_of::<super::Target>(), 32);
        assert_eq!(size_of::<super::Chain>(), 64);
    }
}
