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
pub use table::{Hook, Table, TableName};
pub use target::{Target, TargetKind};

#[cfg(test)]
mod size_tests {
    #[test]
    fn print_sizes() {
        eprintln!("Rule {}", std::mem::size_of::<super::Rule>());
        eprintln!("Match {}", std::mem::size_of::<super::Match>());
        eprintln!("MatchKind {}", std::mem::size_of::<super::MatchKind>());
        eprintln!("Target {}", std::mem::size_of::<super::Target>());
        eprintln!("Neg<Net> {}", std::mem::size_of::<super::Neg<super::Net>>());
        eprintln!("Net {}", std::mem::size_of::<super::Net>());
        eprintln!("Neg<Iface> {}", std::mem::size_of::<super::Neg<super::Iface>>());
        eprintln!("Chain {}", std::mem::size_of::<super::Chain>());
        eprintln!("Tcp {}", std::mem::size_of::<crate::ext::tcp::Tcp>());
        eprintln!("Diagnostic {}", std::mem::size_of::<crate::diag::Diagnostic>());
    }
}
