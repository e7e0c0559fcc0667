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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub name: ChainName,
    /// The hook and policy of a built-in chain; `None` for a user chain.
    pub builtin: Option<Builtin>,
    /// The counters of the policy (`[packets:bytes]` on the declaration).
    pub counters: Counters,
    pub rules: Vec<Rule>,
    /// The declaration (`:NAME ...` or `-N NAME`); empty for a built-in chain never declared.
    #[serde(skip)]
    pub span: Span,
    /// `#` lines right before the declaration (kept by `ipt fmt`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Box<str>>,
}

/// What makes a chain built-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Builtin {
    pub hook: Hook,
    pub policy: Policy,
}

impl Chain {
    pub fn user(name: ChainName, span: Span) -> Chain {
        Chain { name, builtin: None, counters: Counters::default(), rules: Vec::new(), span, comments: Vec::new() }
    }

    pub fn builtin(hook: Hook) -> Chain {
        Chain {
            name: hook.as_str().into(),
            builtin: Some(Builtin { hook, policy: Policy::Accept }),
            counters: Counters::default(),
            rules: Vec::new(),
            span: Span::default(),
            comments: Vec::new(),
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
