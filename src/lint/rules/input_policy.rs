//! What several lints ask of the filter table's INPUT chain: does it drop by default, and which
//! rules can run on its packets.

use super::live_rules;
use crate::lint::{Context, RuleAt};
use crate::model::{Chain, Hook, Policy, Rule, Table, TableName, TargetKind};

/// The filter table's INPUT chain (by table index), when packets it does not accept are
/// dropped: a DROP policy, or a final rule that drops or rejects everything.
pub struct DroppingInput<'a> {
    pub table: usize,
    pub chain: usize,
    pub input: &'a Chain,
    /// What drops: the policy (`None`) or the final rule.
    pub final_rule: Option<usize>,
    /// Where the chain is declared (see [`Context::chain_span`]).
    pub declared_at: crate::source::Span,
}

pub fn dropping_inputs<'a>(cx: &Context<'a>) -> Vec<DroppingInput<'a>> {
    let mut out = Vec::new();
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        if table.name != TableName::Filter {
            continue;
        }
        let Some((c, input)) = table.chains.iter().enumerate().find(|(_, ch)| ch.hook() == Some(Hook::Input)) else {
            continue;
        };
        let live = live_rules(input, table.family);
        let last_drops = live.last().is_some_and(|r| {
            matches!(r.target.kind, TargetKind::Drop | TargetKind::Reject(_)) && r.is_unconditional(table.family)
        });
        let policy_drops = input.builtin.is_some_and(|b| b.policy == Policy::Drop);
        if last_drops {
            let declared_at = Context::chain_span(table, input);
            out.push(DroppingInput { table: t, chain: c, input, final_rule: Some(live.len() - 1), declared_at });
        } else if policy_drops {
            let declared_at = Context::chain_span(table, input);
            out.push(DroppingInput { table: t, chain: c, input, final_rule: None, declared_at });
        }
    }
    out
}

/// The rules that run on packets of `hook` in `table`: the live rules of the built-in chain and
/// of every user chain the kernel's walk enters from it, with where they are.
pub fn rules_on_hook<'a>(cx: &Context<'a>, t: usize, table: &'a Table, hook: Hook) -> Vec<(RuleAt, &'a Rule)> {
    let graph = &cx.graphs[t];
    let mut out = Vec::new();
    for (c, chain) in table.chains.iter().enumerate() {
        let on_hook = chain.hook() == Some(hook) || (!chain.is_builtin() && graph.chain_hooks(c) & hook.bit() != 0);
        if on_hook {
            for (r, rule) in live_rules(chain, table.family).iter().enumerate() {
                out.push((RuleAt { table: t, chain: c, rule: r }, rule));
            }
        }
    }
    out
}

/// Whether the rule accepts.
pub fn accepts(rule: &Rule) -> bool {
    matches!(rule.target.kind, TargetKind::Accept)
}
