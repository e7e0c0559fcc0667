//! Chains: built-in ones sit on a hook and have a policy; user chains are reached by jumps.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::{Counters, Hook, Rule};
use crate::source::Span;

/// A chain's name, shared between the chain and the rules that jump to it.
pub type ChainName = Arc<str>;

/// What a built-in chain does with a packet that reaches its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    Accept,
    Drop,
}

impl Policy {
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "ACCEPT" => Some(Policy::Accept),
            "DROP" => Some(Policy::Drop),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A chain and its rules, in order.
///
/// The policy's counters and the `#` lines before the declaration, which few chains have, live
/// in one box: a big dump declares tens of thousands of chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: ChainName,
    /// The hook and policy of a built-in chain; `None` for a user chain.
    pub builtin: Option<Builtin>,
    pub rules: Vec<Rule>,
    /// The declaration (`:NAME ...` or `-N NAME`); empty for a built-in chain never declared.
    pub span: Span,
    /// `None` when the chain has neither (never an empty box: chains compare by value).
    rare: Option<Box<ChainRare>>,
}

/// The parts of a chain that few chains have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ChainRare {
    counters: Counters,
    comments: Vec<Box<str>>,
}

/// The JSON of a chain: its fields in their documented order.
#[derive(Serialize)]
struct ChainJson<'a> {
    name: &'a str,
    builtin: Option<Builtin>,
    counters: Counters,
    rules: &'a [Rule],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    comments: &'a [Box<str>],
}

impl Serialize for Chain {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ChainJson {
            name: &self.name,
            builtin: self.builtin,
            counters: self.counters(),
            rules: &self.rules,
            comments: self.comments(),
        }
        .serialize(serializer)
    }
}

/// What makes a chain built-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Builtin {
    pub hook: Hook,
    pub policy: Policy,
}

impl Chain {
    pub fn user(name: ChainName, span: Span) -> Chain {
        Chain { name, builtin: None, rules: Vec::new(), span, rare: None }
    }

    pub fn builtin(hook: Hook) -> Chain {
        Chain {
            name: hook.as_str().into(),
            builtin: Some(Builtin { hook, policy: Policy::Accept }),
            rules: Vec::new(),
            span: Span::default(),
            rare: None,
        }
    }

    /// The counters of the policy (`[packets:bytes]` on the declaration).
    pub fn counters(&self) -> Counters {
        self.rare.as_ref().map_or_else(Counters::default, |r| r.counters)
    }

    pub fn set_counters(&mut self, counters: Counters) {
        self.change_rare(|r| r.counters = counters);
    }

    /// `#` lines right before the declaration (kept by `ipt fmt`).
    pub fn comments(&self) -> &[Box<str>] {
        self.rare.as_ref().map_or(&[], |r| &r.comments)
    }

    pub fn add_comments(&mut self, comments: Vec<Box<str>>) {
        if !comments.is_empty() {
            self.change_rare(|r| r.comments.extend(comments));
        }
    }

    /// Changes the rare parts, keeping `rare` `None` when they are all empty.
    fn change_rare(&mut self, change: impl FnOnce(&mut ChainRare)) {
        let mut rare = self.rare.take().unwrap_or_default();
        change(&mut rare);
        if *rare != ChainRare::default() {
            self.rare = Some(rare);
        }
    }

    pub fn hook(&self) -> Option<Hook> {
        self.builtin.map(|b| b.hook)
    }

    pub fn policy(&self) -> Option<Policy> {
        self.builtin.map(|b| b.policy)
    }

    pub fn is_builtin(&self) -> bool {
        self.builtin.is_some()
    }
}
