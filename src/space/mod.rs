//! Exact sets of packets: what a rule's conditions match, as a union of boxes, with the set
//! operations the analyses ([`crate::analysis`]) need.
//!
//! # The representation
//!
//! A packet is a point with one value per header field ([`field`]); a [`PacketBox`] is a product
//! of one value set per field; a [`PacketSet`] is a union of disjoint boxes. A field's values are
//! held in one of two exact forms:
//!
//! - [`Ranges`] (sorted intervals) for fields compared by value or range: protocol, fragment,
//!   ports, ICMP type and code (as `type << 8 | code`), conntrack state ([`state`]), packet
//!   type, length, TTL / hop limit, source MAC, and interface names ([`names`]: names numbered
//!   so that `eth+` is an interval and `eth0` a point);
//! - [`Cubes`] (disjoint `value/mask` patterns) for fields compared under a mask: addresses
//!   (prefixes and non-contiguous masks are one pattern, an `-m iprange` range a few), the TCP
//!   flag byte, the TOS byte (DSCP is its upper six bits), mark, connmark, and address types.
//!
//! Both forms are closed under intersection and difference, so `!` is exact: the complement
//! within the field's domain. Fields a packet may lack (ports, ICMP, TCP flags, MAC) have an
//! extra `ABSENT` value, and the [universe](Space::universe) is cut by protocol and fragment so
//! that they are absent in exactly the packets that lack those headers: a port test implies a
//! protocol with ports and a first fragment, and `! --dport 22` stays among packets with ports.
//! Every set made by a [`Space`] is a subset of its universe, so differences never produce a
//! packet that cannot exist.
//!
//! # What cannot be decided
//!
//! Conditions on state ipt cannot see (`limit`, `hashlimit`, `recent`, `string`, `statistic`,
//! `time`, `quota`, `set`, `owner`, `physdev`, conntrack tuples, a host name to resolve, a
//! verbatim module, ...) are *undecidable*. [`Space::rule`] returns a [`RuleSpace`]: its `over`
//! set drops them (a superset of what the rule matches: "could this packet match?"), and
//! `under()` is `None` unless every condition was decided ("does this rule certainly match?").
//! A sound analysis uses `over` for the rule it asks about and `under` for the rules it relies
//! on; [`crate::analysis::unreachable`] does exactly that.
//!
//! # Cost
//!
//! Intersection is pairwise over boxes (and, per field, over intervals or patterns);
//! subtracting a box splits a box into at most one piece per field. Sets of one rule are one to
//! five boxes (the universe's protocol pieces). Subtraction can grow a set; callers that chain
//! many subtractions bound the size ([`PacketSet::subtract_bounded`]).

mod compile;
mod conditions;
mod cubes;
pub mod field;
pub mod names;
mod packet;
mod packet_box;
mod ranges;
mod set;
pub mod state;

pub use compile::{RuleSpace, Space};
pub use conditions::Conditions;
pub use cubes::{Cube, Cubes};
pub use packet::Packet;
pub use packet_box::{PacketBox, Point};
pub use ranges::Ranges;
pub use set::{PacketSet, TooManyBoxes};

#[cfg(test)]
mod tests;
