//! One packet's path through a ruleset, as the kernel takes it (`ipt explain`).
//!
//! The packet meets hooks as [`NETFILTER.md`'s table says](crate::model::Hook): which ones
//! follows from whether its addresses are this host's. On each hook the tables run in the
//! kernel's order; each rule's conditions are tested on the packet with the same exact packet
//! sets the lint uses ([`crate::space`]), so explain and lint agree on what a rule matches. A
//! condition whose outcome depends on what ipt cannot see (a rate, a set's contents, a field the
//! question left out) is undecided: explain follows both outcomes, as separate paths, unless
//! `--assume` fixes it.
//!
//! The JSON form is documented in `docs/explain.md` (version 1).

mod conditions;
mod human;
mod packet;
pub mod routes;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

pub use human::render;
pub use packet::{Ask, CtBase, Query, QueryError};
pub use routes::Route;

use crate::model::Ruleset;

/// Which iptables the host runs: they order `security` and `nat` differently on INPUT
/// (iptables-nft gives its security chains priority 150, after nat's 100; the legacy tables
/// use 50).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Nft,
    Legacy,
}

/// The whole answer.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub version: u32,
    pub backend: Backend,
    pub packet: packet::PacketJson,
    /// Defaults ipt took, in words.
    pub assumed: Vec<String>,
    pub paths: Vec<Path>,
}

/// One way the packet can go: every undecided test on it given one outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Path {
    pub choices: Vec<Choice>,
    pub hooks: Vec<&'static str>,
    pub events: Vec<Event>,
    pub fate: Fate,
    #[serde(rename = "final")]
    pub final_packet: FinalPacket,
    /// What this path leaves open or had to guess (a NAT range's pick, a target ipt does not
    /// model, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An undecided test and the outcome this path gives it.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub line: u32,
    pub test: String,
    pub holds: bool,
}

/// The packet at the end of its path.
#[derive(Clone, Debug, Serialize)]
pub struct FinalPacket {
    pub src: Option<String>,
    pub dst: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    pub mark: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fate {
    /// Accepted on INPUT: handed to this host.
    Delivered,
    /// Left through POSTROUTING to another host.
    Forwarded,
    /// Generated here, left through POSTROUTING.
    Sent,
    Dropped,
    Rejected,
    /// Handed to user space, whose verdict ipt cannot know.
    Queued,
    /// Through every chain, then thrown away by the IP stack (a loopback source address
    /// leaving by another interface).
    Discarded,
    /// A target ipt does not model decided it.
    Unknown,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Delivered => "delivered",
            Fate::Forwarded => "forwarded",
            Fate::Sent => "sent",
            Fate::Dropped => "dropped",
            Fate::Rejected => "rejected",
            Fate::Queued => "queued",
            Fate::Discarded => "discarded",
            Fate::Unknown => "unknown",
        }
    }
}

/// One step of the path.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A built-in chain entered.
    Chain {
        hook: &'static str,
        table: &'static str,
        chain: String,
        in_iface: Option<String>,
        out_iface: Option<String>,
    },
    /// A rule tested.
    Rule(RuleEvent),
    /// The end of a user chain, back to the caller.
    Return { hook: &'static str, table: &'static str, chain: String },
    /// A built-in chain's policy applied.
    Policy { hook: &'static str, table: &'static str, chain: String, policy: &'static str },
    /// A table not consulted on this hook.
    Skip { hook: &'static str, table: &'static str, why: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleEvent {
    pub hook: &'static str,
    pub table: &'static str,
    pub chain: String,
    pub line: u32,
    pub rule: String,
    pub matched: bool,
    /// Set when `matched` is an outcome this path assumes (an undecided test).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What a NAT target rewrote.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub nat: BTreeMap<&'static str, String>,
    pub conditions: Vec<conditions::Condition>,
}

/// Too many outcomes to follow, or the question cannot be asked of this ruleset.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(
        "more than {max} paths: undecided tests on lines {lines}; fix their outcome with `--assume LINE=yes|no`, or give what the packet leaves out (`--dst`, `--in-iface`, ...)"
    )]
    TooManyPaths { max: usize, lines: String },
}

/// The most paths explain follows before asking for `--assume`.
pub const MAX_PATHS: usize = 16;

/// Explains `query` against `ruleset`.
pub fn explain(ruleset: &Ruleset, query: &Query) -> Result<Explanation, ExplainError> {
    let mut assumed = query.assumed.clone();
    if !ruleset.tables.iter().any(|t| t.family == query.family) {
        let family = match query.family {
            crate::model::Family::Ipv4 => "IPv4",
            crate::model::Family::Ipv6 => "IPv6",
        };
        assumed.push(format!("the input has no {family} table: no rule filters this packet"));
    }
    // every combination of outcomes of the undecided tests met, breadth first
    let mut pending: Vec<BTreeMap<u32, bool>> = vec![BTreeMap::new()];
    let mut paths = Vec::new();
    let mut open_lines = std::collections::BTreeSet::new();
    let chains = walk::ChainIndex::new(ruleset);
    while let Some(choices) = pending.pop() {
        match walk::walk(ruleset, &chains, query, &choices) {
            Ok(path) => {
                paths.push(path);
                if paths.len() > MAX_PATHS {
                    break;
                }
            }
            Err(walk::NeedChoice { line }) => {
                open_lines.insert(line);
                for holds in [false, true] {
                    let mut next = choices.clone();
                    next.insert(line, holds);
                    pending.push(next);
                }
                if pending.len() + paths.len() > MAX_PATHS {
                    break;
                }
            }
        }
    }
    if !pending.is_empty() || paths.len() > MAX_PATHS {
        let lines = open_lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
        return Err(ExplainError::TooManyPaths { max: MAX_PATHS, lines });
    }
    // matched outcomes first, as the rules are written
    paths.sort_by(|a, b| {
        let key = |p: &Path| p.choices.iter().map(|c| (c.line, !c.holds)).collect::<Vec<_>>();
        key(a).cmp(&key(b))
    });
    // an --assume no path needed: its rule was decided, or never tested
    for &line in query.assume.keys() {
        if !paths.iter().any(|p| p.choices.iter().any(|c| c.line == line)) {
            assumed.push(format!("--assume {line}=...: no rule on line {line} was undecided on this packet's way"));
        }
    }
    Ok(Explanation { version: 1, backend: query.backend, packet: query.packet_json(), assumed, paths })
}

/// An address as iptables prints it.
fn addr_text(a: IpAddr) -> String {
    crate::ext::host::HostAddr::Ip(a).to_string()
}
