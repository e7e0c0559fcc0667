//! `--stats`: rules before and after, and how many rules a worst-case packet is tested against.
//!
//! The worst case of a chain is a packet tested against every one of its rules and then taken
//! by the costliest single jump or goto (into that chain's own worst case). Packets that take
//! several jumps from one chain exist, but in the dispatch chains this measure is about (one
//! rule per service) a packet matches at most one. On one hook the tables' chains add up (an
//! accept in one table's chain does not stop the next table's). A verdict map is one rule.

use std::collections::HashMap;

use super::ir::{Script, Verdict};
use crate::model::{Family, Hook, Table, TargetKind};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub rules_before: usize,
    pub rules_after: usize,
    /// The most rules one packet can be tested against on one hook, in the iptables rulesets.
    pub worst_before: u64,
    /// The same in the nft script.
    pub worst_after: u64,
}

/// A rule, for the worst case: where it may jump (and come back from) or go to.
struct Step<'a> {
    jumps: Vec<&'a str>,
    gotos: Vec<&'a str>,
}

fn worst<'a>(chains: &HashMap<&'a str, Vec<Step<'a>>>, chain: &'a str, memo: &mut HashMap<&'a str, u64>) -> u64 {
    if let Some(&w) = memo.get(chain) {
        return w;
    }
    memo.insert(chain, 0); // no loops in a ruleset the kernel loads; this keeps a bad one finite
    let steps = chains.get(chain).map(Vec::as_slice).unwrap_or_default();
    let mut costliest = 0u64;
    for step in steps {
        for callee in step.jumps.iter().chain(&step.gotos) {
            costliest = costliest.max(worst(chains, callee, memo));
        }
    }
    let w = (steps.len() as u64).saturating_add(costliest);
    memo.insert(chain, w);
    w
}

/// The worst case of each hook of one iptables table.
pub fn iptables_worst(table: &Table) -> Vec<((Family, Hook), u64)> {
    let chains: HashMap<&str, Vec<Step<'_>>> = table
        .chains
        .iter()
        .map(|c| {
            let steps = c
                .rules
                .iter()
                .map(|r| match &r.target.kind {
                    TargetKind::Jump(t) => Step { jumps: vec![t], gotos: vec![] },
                    TargetKind::Goto(t) => Step { jumps: vec![], gotos: vec![t] },
                    _ => Step { jumps: vec![], gotos: vec![] },
                })
                .collect();
            (&*c.name, steps)
        })
        .collect();
    let mut memo = HashMap::new();
    table.chains.iter().filter_map(|c| Some(((table.family, c.hook()?), worst(&chains, &c.name, &mut memo)))).collect()
}

fn hook_of(name: &str) -> Option<Hook> {
    Hook::ALL.into_iter().find(|h| h.as_str().eq_ignore_ascii_case(name))
}

/// The worst case per hook of an nft script, keyed by (family, hook).
fn nft_worst(script: &Script) -> HashMap<(super::NftFamily, Hook), u64> {
    let mut per_hook: HashMap<(super::NftFamily, Hook), u64> = HashMap::new();
    for table in &script.tables {
        let chains: HashMap<&str, Vec<Step<'_>>> = table
            .chains
            .iter()
            .map(|c| {
                let steps = c
                    .rules
                    .iter()
                    .map(|r| {
                        let mut jumps = Vec::new();
                        let mut gotos = Vec::new();
                        let verdicts =
                            r.verdict.iter().chain(r.vmap.iter().flat_map(|v| v.elements.iter().map(|(_, v)| v)));
                        for v in verdicts {
                            match v {
                                Verdict::Jump(c) => jumps.push(c.as_str()),
                                Verdict::Goto(c) => gotos.push(c.as_str()),
                                _ => {}
                            }
                        }
                        Step { jumps, gotos }
                    })
                    .collect();
                (c.name.as_str(), steps)
            })
            .collect();
        let mut memo = HashMap::new();
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
        let mut per_hook: HashMap<(Family, Hook), u64> = HashMap::new();
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
