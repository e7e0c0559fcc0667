use super::live_rules;
use crate::lint::{Context, Finding, RuleAt};
use crate::model::{Chain, Family, TargetKind};

crate::declare_lint! {
    /// ## What it does
    /// Finds jumps to a user chain whose rules only return (or only count): the jump changes
    /// nothing.
    ///
    /// ## Why is this bad?
    /// It looks like the packet is filtered there, but every packet comes back unchanged:
    /// usually the chain's real rules were lost, or the returns were meant to be accepts.
    ///
    /// An empty chain, or one whose only rule is `-j RETURN`, is left alone: Docker's
    /// `DOCKER-USER` and similar chains are placeholders where people add their own rules.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -j TRUSTED
    /// -A TRUSTED -s 198.51.100.0/24 -j RETURN
    /// -A TRUSTED -j RETURN
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -j TRUSTED
    /// -A TRUSTED -s 198.51.100.0/24 -j ACCEPT
    /// -A TRUSTED -j RETURN
    /// ```
    pub static LINT = "IPT203", "jump-only-returns", Suspicious, check;
}

/// A chain with at least one rule besides a lone `-j RETURN`, whose rules all return or count.
fn only_returns(chain: &Chain, family: Family) -> bool {
    let live = live_rules(chain, family);
    let placeholder = live.is_empty()
        || live.len() == 1 && matches!(live[0].target.kind, TargetKind::Return) && live[0].is_unconditional(family);
    !placeholder && live.iter().all(|r| matches!(r.target.kind, TargetKind::Return | TargetKind::Continue))
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        let useless: Vec<bool> =
            table.chains.iter().map(|c| !c.is_builtin() && only_returns(c, table.family)).collect();
        if !useless.contains(&true) {
            // no chain to report a jump to: no need to look at the jumps
            continue;
        }
        for (c, chain) in table.chains.iter().enumerate() {
            for (r, rule) in live_rules(chain, table.family).iter().enumerate() {
                let TargetKind::Jump(name) = &rule.target.kind else { continue };
                let Some(to) = cx.chain_index(t, name) else { continue };
                if !useless[to] {
                    continue;
                }
                found.push(
                    Finding::new(
                        Some(RuleAt { table: t, chain: c, rule: r }),
                        rule.target.span,
                        format!("`-j {name}` does nothing: every rule of `{name}` only returns"),
                        "every packet comes back unchanged",
                    )
                    .related(table.chains[to].span, "the chain")
                    .help(format!("give `{name}` rules that accept or drop, or remove the jump")),
                );
            }
        }
    }
}
