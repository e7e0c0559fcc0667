//! What a lint sees: the ruleset, its source, and what the kernel's walk of each table found.

use crate::analysis::unreachable::{ChainReport, unreachable_in_table};
use crate::check::Graph;
use crate::model::{Chain, ChainFinder, Rule, Ruleset, Table};
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
    /// Each table's chains by name, by table index.
    chains: Vec<ChainFinder<'a>>,
    /// The unreachable rules of each table, found once for the lints that report them.
    unreachable: std::cell::OnceCell<Vec<Vec<(usize, ChainReport)>>>,
    /// The other family's rules from another input given with this one, and its name.
    pub other: Option<(&'a Ruleset, &'a str)>,
}

impl<'a> Context<'a> {
    pub fn new(source: &'a Source, ruleset: &'a Ruleset) -> Context<'a> {
        Context::with_graphs(source, ruleset, ruleset.tables.iter().map(Graph::new).collect())
    }

    /// A context with the tables' walks already made (one per table, in order).
    pub fn with_graphs(source: &'a Source, ruleset: &'a Ruleset, graphs: Vec<Graph>) -> Context<'a> {
        let chains = ruleset.tables.iter().map(ChainFinder::new).collect();
        Context { source, ruleset, graphs, chains, unreachable: std::cell::OnceCell::new(), other: None }
    }

    /// The unreachable rules of table `table` ([`crate::analysis::unreachable`]), by chain.
    pub fn unreachable(&self, table: usize) -> &[(usize, ChainReport)] {
        &self.unreachable.get_or_init(|| self.ruleset.tables.iter().map(unreachable_in_table).collect())[table]
    }

    /// The index of the chain called `name` in table `table`.
    pub fn chain_index(&self, table: usize, name: &str) -> Option<usize> {
        self.chains[table].find(name)
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

#[cfg(test)]
mod tests {
    use super::Context;
    use crate::load::{LoadOptions, read};
    use crate::source::Source;

    #[test]
    fn chains_are_found_by_their_own_name_or_by_any_equal_text() {
        let text = "*filter\n:WEB - [0:0]\n:WEBX - [0:0]\n-A INPUT -j WEBX\nCOMMIT\n";
        let source = Source::new("test.rules", text.to_string());
        let loaded = read(&source, &LoadOptions::default());
        assert!(loaded.loads());
        let cx = Context::new(&source, &loaded.ruleset);
        let chains = &loaded.ruleset.tables[0].chains;
        let web = chains.iter().position(|c| &*c.name == "WEB").expect("WEB");
        let webx = chains.iter().position(|c| &*c.name == "WEBX").expect("WEBX");
        // the jump's own name, text of another allocation, and a prefix at the same address
        let jump = chains.iter().flat_map(|c| &c.rules).find_map(|r| r.target.kind.chain()).expect("a jump");
        assert_eq!(cx.chain_index(0, jump), Some(webx));
        assert_eq!(cx.chain_index(0, &String::from("WEBX")), Some(webx));
        assert_eq!(cx.chain_index(0, &chains[webx].name[..3]), Some(web));
        assert_eq!(cx.chain_index(0, &chains[webx].name[..2]), None);
    }
}
