//! What a lint sees: the ruleset, its source, and what the kernel's walk of each table found.

use rustc_hash::FxHashMap as HashMap;

use crate::analysis::unreachable::{ChainReport, unreachable_in_table};
use crate::check::Graph;
use crate::model::{Chain, Rule, Ruleset, Table};
use crate::source::Source;

/// Where a rule is: its table, chain and position, as indices into the ruleset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RuleAt {
    pub table: usize,
    pub chain: usize,
    pub rule: usize,
}

/// The input of every lint.
pub struct Context<'a> {
    pub source: &'a Source,
    pub ruleset: &'a Ruleset,
    /// The kernel's walk of each table (see [`crate::check::Graph`]), by table index.
    pub graphs: Vec<Graph>,
    /// Each table's chains by name.
    chains: Vec<HashMap<&'a str, usize>>,
    /// The unreachable rules of each table, found once for the lints that report them.
    unreachable: std::cell::OnceCell<Vec<Vec<(usize, ChainReport)>>>,
}

impl<'a> Context<'a> {
    pub fn new(source: &'a Source, ruleset: &'a Ruleset) -> Context<'a> {
        let chains =
            ruleset.tables.iter().map(|t| t.chains.iter().enumerate().map(|(i, c)| (&*c.name, i)).collect()).collect();
        let graphs = ruleset.tables.iter().map(Graph::new).collect();
        Context { source, ruleset, graphs, chains, unreachable: std::cell::OnceCell::new() }
    }

    /// The unreachable rules of table `table` ([`crate::analysis::unreachable`]), by chain.
    pub fn unreachable(&self, table: usize) -> &[(usize, ChainReport)] {
        &self.unreachable.get_or_init(|| self.ruleset.tables.iter().map(unreachable_in_table).collect())[table]
    }

    /// The index of the chain called `name` in table `table`.
    pub fn chain_index(&self, table: usize, name: &str) -> Option<usize> {
        self.chains[table].get(name).copied()
    }

    /// Every rule with where it is.
    pub fn rules(&self) -> impl Iterator<Item = (RuleAt, &'a Table, &'a Chain, &'a Rule)> + '_ {
        self.ruleset.tables.iter().enumerate().flat_map(move |(t, table)| {
            table.chains.iter().enumerate().flat_map(move |(c, chain)| {
                chain
                    .rules
                    .iter()
                    .enumerate()
                    .map(move |(r, rule)| (RuleAt { table: t, chain: c, rule: r }, table, chain, rule))
            })
        })
    }

    /// Where a chain is declared; the table's header for a built-in chain the file never
    /// declares (iptables-restore creates it, with an ACCEPT policy).
    pub fn chain_span(table: &Table, chain: &Chain) -> crate::source::Span {
        if chain.span.is_empty() { table.span } else { chain.span }
    }

    pub fn rule(&self, at: RuleAt) -> &'a Rule {
        &self.ruleset.tables[at.table].chains[at.chain].rules[at.rule]
    }
}
