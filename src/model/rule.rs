use serde::Serialize;

use super::{Counters, Iface, Match, Neg, Net, Proto, Target};
use crate::source::{Line, Span};

/// One rule: what it matches and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The 1-based line it came from.
    pub line: Line,
    /// The whole rule line.
    #[serde(skip)]
    pub span: Span,
    /// `[packets:bytes]` before the rule, as `iptables-save -c` writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counters: Option<Box<Counters>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<Neg<Net>>,
    /// `-i` and `-o` are rare in dumps: boxed, so that a rule without them stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<Box<Neg<Iface>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_iface: Option<Box<Neg<Iface>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<Neg<Proto>>,
    /// `-f` (second and later fragments) or `! -f` (first fragments and unfragmented packets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<Neg<()>>,
    /// `-m` matches, in order.
    pub matches: Box<[Match]>,
    /// `"target": "ACCEPT"`, with `"options"` for a target that has them.
    #[serde(flatten)]
    pub target: Target,
    /// `#` lines right before the rule (kept by `ipt fmt`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub comments: Box<[Box<str>]>,
}

impl Rule {
    /// The same rule specification (what `-D` and `-C` compare): everything but counters,
    /// comments and position.
    pub fn same_spec(&self, other: &Rule) -> bool {
        self.src == other.src
            && self.dst == other.dst
            && self.in_iface == other.in_iface
            && self.out_iface == other.out_iface
            && self.proto == other.proto
            && self.fragment == other.fragment
            && self.matches == other.matches
            && self.target == other.target
    }

    /// The protocol the rule requires (`-p tcp`, not `! -p tcp`).
    pub fn protocol(&self) -> Option<Proto> {
        self.proto.as_ref().filter(|p| !p.invert).map(|p| p.value)
    }
}
