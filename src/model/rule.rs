use serde::Serialize;

use super::{Counters, Family, Iface, Match, Neg, Net, Proto, Target};
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

    /// Whether the kernel sees no condition at all in the rule (`unconditional()` in
    /// `ip_tables.c`): no match, and no address, interface, protocol or fragment test that
    /// narrows anything. `-s 0.0.0.0/0` narrows nothing, nor does `-p all` in IPv4; anything
    /// negated does, and so do `-i +` (the kernel keeps the name `+`) and IPv6's `-p all`
    /// (ip6tables flags every `-p`). Checked on a real kernel.
    pub fn is_unconditional(&self, family: Family) -> bool {
        let any_proto = |p: &Neg<Proto>| family == Family::Ipv4 && !p.invert && p.value == Proto::ALL;
        let any_net = |n: &Option<Neg<Net>>| n.as_ref().is_none_or(|n| !n.invert && n.value.is_any());
        self.matches.is_empty()
            && self.fragment.is_none()
            && any_net(&self.src)
            && any_net(&self.dst)
            && self.in_iface.is_none()
            && self.out_iface.is_none()
            && self.proto.as_ref().is_none_or(any_proto)
    }
}
