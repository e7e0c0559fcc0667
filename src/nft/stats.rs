//! `--stats`: rules before and after, and how many rules a worst-case packet is tested against.
//!
//! The worst case of a chain is a packet tested against every one of its rules and then taken
//! by the costliest single jump or goto (into that chain's own worst case). Packets that take
//! several jumps from one chain exist, but in the dispatch chains this measure is about (one
//! rule per service) a packet matches at most one. On one hook the tables' chains add up (an
//! accept in one table's chain does not stop the next table's). A verdict map is one rule.

use rustc_hash::FxHashMap as HashMap;

use super::ir::Script;
use crate::model::{Family, Hook, Table};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub rules_before: usize,
    pub rules_after: usize,
    /// The most rules one packet can be tested against on one hook, in the iptables rulesets.
    pub worst_before: u64,
    /// The same in the nft script.
    pub worst_after: u64,
}

/// The chains each chain's rules may send a packet to (by `jump`, `goto` or a verdict map), by
/// chain name.
type Steps<'a> = HashMap<&'a str, Vec<Vec<&'a str>>>;

fn worst<'a>(chains: &Steps<'a>, chain: &'a str, memo: &mut HashMap<&'a str, u64>) -> u64 {
    if let Some(&w) = memo.get(chain) {
        return w;
    }
    memo.insert(chain, 0); // no loops in a ruleset the kernel loads; this keeps a bad one finite
    let steps = chains.get(chain).map(Vec::as_slice).unwrap_or_default();
    let mut costliest = 0u64;
    for callee in steps.iter().flatten() {
        costliest = costliest.max(worst(chains, callee, memo));
    }
    let w = (steps.len() as u64).saturating_add(costliest);
    memo.insert(chain, w);
    w
}

/// The worst case of each hook of one iptables table.
pub fn iptables_worst(table: &Table) -> Vec<((Family, Hook), u64)> {
    let chains: Steps<'_> = table
        .chains
        .iter()
        .map(|c| (&*c.name, c.rules.iter().map(|r| r.target.kind.chain().into_iter().collect()).collect()))
        .collect();
    let mut memo = HashMap::default();
    table.chains.iter().filter_map(|c| Some(((table.family, c.hook()?), worst(&chains, &c.name, &mut memo)))).collect()
}

fn hook_of(name: &str) -> Option<Hook> {
    Hook::ALL.into_iter().find(|h| h.as_str().eq_ignore_ascii_case(name))
}

/// The worst case per hook of an nft script, keyed by (family, hook).
fn nft_worst(script: &Script) -> HashMap<(super::NftFamily, Hook), u64> {
    let mut per_hook: HashMap<(super::NftFamily, Hook), u64> = HashMap::default();
    for table in &script.tables {
        let chains: Steps<'_> = table
            .chains
            .iter()
            .map(|c| (c.name.as_str(), c.rules.iter().map(|r| r.callees().collect()).collect()))
            .collect();
        let mut memo = HashMap::default();
        for chain in &table.chains {
            if let Some(base) = &chain.base
                && let Some(hook) = hook_of(base.hook)
            {
                *per_hook.entry((table.family, hook)).or_default() += worst(&chains, &chain.name, &mut memo);
            }
        }
    }
    per_hook
}

impl Stats {
    pub fn new(rules_before: usize, before: &[Vec<((Family, Hook), u64)>], script: &Script) -> Stats {
        let mut per_hook: HashMap<(Family, Hook), u64> = HashMap::default();
        for table in before {
            for (hook, w) in table {
                *per_hook.entry(*hook).or_default() += w;
            }
        }
        let rules_after = script.tables.iter().flat_map(|t| &t.chains).map(|c| c.rules.len()).sum();
        Stats {
            rules_before,
            rules_after,
            worst_before: per_hook.values().copied().max().unwrap_or(0),
            worst_after: nft_worst(script).values().copied().max().unwrap_or(0),
        }
    }
}
