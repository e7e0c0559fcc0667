use serde::Serialize;

use super::{Counters, Family, Iface, Match, Neg, Net, Proto, Target};
use crate::source::{Line, Span};

/// One rule: what it matches and what it does.
///
/// Parts that few rules have (counters, interfaces, `-f`, `#` comments) live in one box, so that
/// the common rule stays small: a big dump holds a hundred thousand rules.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The 1-based line it came from.
    pub line: Line,
    /// The whole rule line.
    pub span: Span,
    pub src: Option<Neg<Net>>,
    pub dst: Option<Neg<Net>>,
    pub proto: Option<Neg<Proto>>,
    /// `-m` matches, in order.
    pub matches: Box<[Match]>,
    pub target: Target,
    /// `None` when the rule has none of the rare parts (never an empty box: rules compare by
    /// value).
    rare: Option<Box<Rare>>,
}

/// Rules are equal when they mean the same: where they stand and how a `!` was written do not
/// count (spans never do, see [`Span`]).
impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.line == other.line
            && self.src == other.src
            && self.dst == other.dst
            && self.proto == other.proto
            && self.matches == other.matches
            && self.target == other.target
            && self.counters() == other.counters()
            && self.in_iface() == other.in_iface()
            && self.out_iface() == other.out_iface()
            && self.fragment() == other.fragment()
            && self.comments() == other.comments()
    }
}

impl Eq for Rule {}

/// The parts of a rule that few rules have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rare {
    counters: Option<Counters>,
    in_iface: Option<Neg<Iface>>,
    out_iface: Option<Neg<Iface>>,
    fragment: Option<Neg<()>>,
    comments: Box<[Box<str>]>,
    old_negations: Box<[Span]>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.counters.is_none()
            && self.in_iface.is_none()
            && self.out_iface.is_none()
            && self.fragment.is_none()
            && self.comments.is_empty()
            && self.old_negations.is_empty()
    }
}

/// The JSON of a rule: the fields in their documented order, the rare ones flat among them.
#[derive(Serialize)]
struct RuleJson<'a> {
    line: Line,
    #[serde(skip_serializing_if = "Option::is_none")]
    counters: Option<&'a Counters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<&'a Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst: Option<&'a Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_iface: Option<&'a Neg<Iface>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_iface: Option<&'a Neg<Iface>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proto: Option<&'a Neg<Proto>>,
    /// `-f` (second and later fragments) or `! -f` (first fragments and unfragmented packets).
    #[serde(skip_serializing_if = "Option::is_none")]
    fragment: Option<&'a Neg<()>>,
    matches: &'a [Match],
    /// `"target": "ACCEPT"`, with `"options"` for a target that has them.
    #[serde(flatten)]
    target: &'a Target,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    comments: &'a [Box<str>],
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RuleJson {
            line: self.line,
            counters: self.counters(),
            src: self.src.as_ref(),
            dst: self.dst.as_ref(),
            in_iface: self.in_iface(),
            out_iface: self.out_iface(),
            proto: self.proto.as_ref(),
            fragment: self.fragment(),
            matches: &self.matches,
            target: &self.target,
            comments: self.comments(),
        }
        .serialize(serializer)
    }
}

impl Rule {
    /// A rule with no parts but its line, span, matches and target.
    pub fn new(line: Line, span: Span, matches: Box<[Match]>, target: Target) -> Rule {
        Rule { line, span, src: None, dst: None, proto: None, matches, target, rare: None }
    }

    /// `[packets:bytes]` before the rule, as `iptables-save -c` writes it.
    pub fn counters(&self) -> Option<&Counters> {
        self.rare.as_ref()?.counters.as_ref()
    }

    /// `-i`.
    pub fn in_iface(&self) -> Option<&Neg<Iface>> {
        self.rare.as_ref()?.in_iface.as_ref()
    }

    /// `-o`.
    pub fn out_iface(&self) -> Option<&Neg<Iface>> {
        self.rare.as_ref()?.out_iface.as_ref()
    }

    /// `-f` (second and later fragments) or `! -f` (first fragments and unfragmented packets).
    pub fn fragment(&self) -> Option<&Neg<()>> {
        self.rare.as_ref()?.fragment.as_ref()
    }

    /// `#` lines right before the rule (kept by `ipt fmt`).
    pub fn comments(&self) -> &[Box<str>] {
        self.rare.as_ref().map_or(&[], |r| &r.comments)
    }

    pub fn set_counters(&mut self, counters: Option<Counters>) {
        self.change_rare(|r| r.counters = counters);
    }

    pub fn set_in_iface(&mut self, iface: Option<Neg<Iface>>) {
        self.change_rare(|r| r.in_iface = iface);
    }

    pub fn set_out_iface(&mut self, iface: Option<Neg<Iface>>) {
        self.change_rare(|r| r.out_iface = iface);
    }

    pub fn set_fragment(&mut self, fragment: Option<Neg<()>>) {
        self.change_rare(|r| r.fragment = fragment);
    }

    /// Each `!` written after its option (`-s ! 10.0.0.1`), as iptables before 1.4.3 wrote
    /// them (not part of what the rule matches).
    pub fn old_negations(&self) -> &[Span] {
        self.rare.as_ref().map_or(&[], |r| &r.old_negations)
    }

    pub fn set_old_negations(&mut self, spans: Box<[Span]>) {
        self.change_rare(|r| r.old_negations = spans);
    }

    pub fn set_comments(&mut self, comments: Box<[Box<str>]>) {
        self.change_rare(|r| r.comments = comments);
    }

    /// Changes the rare parts, boxing them only while one is there.
    fn change_rare(&mut self, change: impl FnOnce(&mut Rare)) {
        let mut rare = self.rare.take().unwrap_or_default();
        change(&mut rare);
        if !rare.is_empty() {
            self.rare = Some(rare);
        }
    }

    /// The same rule specification (what `-D` and `-C` compare): everything but counters,
    /// comments and position.
    pub fn same_spec(&self, other: &Rule) -> bool {
        self.src == other.src
            && self.dst == other.dst
            && self.in_iface() == other.in_iface()
            && self.out_iface() == other.out_iface()
            && self.proto == other.proto
            && self.fragment() == other.fragment()
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
            && self.fragment().is_none()
            && any_net(&self.src)
            && any_net(&self.dst)
            && self.in_iface().is_none()
            && self.out_iface().is_none()
            && self.proto.as_ref().is_none_or(any_proto)
    }
}
