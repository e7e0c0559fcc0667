//! Tables and the hooks their built-in chains sit on.

use std::fmt;
use std::sync::OnceLock;

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use super::{Chain, Family};
use crate::source::Span;

/// The five tables of iptables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableName {
    Raw,
    Mangle,
    Nat,
    Filter,
    Security,
}

/// The netfilter hooks, in the order a forwarded packet meets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl TableName {
    pub const ALL: [TableName; 5] =
        [TableName::Raw, TableName::Mangle, TableName::Nat, TableName::Filter, TableName::Security];

    pub fn parse(name: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Raw => "raw",
            TableName::Mangle => "mangle",
            TableName::Nat => "nat",
            TableName::Filter => "filter",
            TableName::Security => "security",
        }
    }

    /// The built-in chains, in hook order (the order iptables-save lists them).
    pub fn hooks(self) -> &'static [Hook] {
        use Hook::*;
        match self {
            TableName::Raw => &[Prerouting, Output],
            TableName::Mangle => &[Prerouting, Input, Forward, Output, Postrouting],
            TableName::Nat => &[Prerouting, Input, Output, Postrouting],
            TableName::Filter | TableName::Security => &[Input, Forward, Output],
        }
    }

    /// The hook of a built-in chain of this table, by the chain's name.
    pub fn builtin(self, chain: &str) -> Option<Hook> {
        self.hooks().iter().copied().find(|h| h.as_str() == chain)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Hook {
    pub const ALL: [Hook; 5] = [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting];

    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    /// The bit of this hook in a [`HookSet`](crate::model::Hook::bit) mask.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One table of one family: its chains, built-in ones first in hook order, then user chains in
/// name order (as the kernel keeps them and iptables-save prints them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub family: Family,
    pub name: TableName,
    /// The `*table` line.
    #[serde(skip)]
    pub span: Span,
    pub chains: Vec<Chain>,
    /// `#` lines inside the section that belong to no chain or rule (kept by `ipt fmt`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Box<str>>,
}

impl Table {
    /// The chain of that name (a linear search: build a map for many lookups).
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| &*c.name == name)
    }

    /// How many rules the table holds.
    pub fn rule_count(&self) -> usize {
        self.chains.iter().map(|c| c.rules.len()).sum()
    }
}

/// A table's chains found by the name a jump gives. A jump names its chain by the chain's own
/// shared name (the loader makes it so), so the name's address finds the chain without hashing
/// or reading the text; any other name is looked up by its text, in a map made the first time
/// one is.
pub struct ChainFinder<'t> {
    chains: &'t [Chain],
    by_address: HashMap<usize, usize>,
    by_name: OnceLock<HashMap<&'t str, usize>>,
}

impl<'t> ChainFinder<'t> {
    pub fn new(table: &'t Table) -> ChainFinder<'t> {
        let chains = &table.chains[..];
        let by_address = chains.iter().enumerate().map(|(i, c)| (c.name.as_ptr() as usize, i)).collect();
        ChainFinder { chains, by_address, by_name: OnceLock::new() }
    }

    /// The index of the chain called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        // the same address and length: the chain's own name
        if let Some(&i) = self.by_address.get(&(name.as_ptr() as usize))
            && self.chains[i].name.len() == name.len()
        {
            return Some(i);
        }
        let by_name = self.by_name.get_or_init(|| self.chains.iter().enumerate().map(|(i, c)| (&*c.name, i)).collect());
        by_name.get(name).copied()
    }
}
