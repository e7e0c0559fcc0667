use super::{first_dead_rule, target_text};
use crate::lint::{Context, Finding, RuleAt};

crate::declare_lint! {
    /// ## What it does
    /// Finds rules after a rule with no condition that accepts, drops, rejects or returns:
    /// no packet ever reaches them.
    ///
    /// ## Why is this bad?
    /// They look like part of the policy, but they never run: a rule appended after the final
    /// `-j DROP` of a chain (by a script, or by hand) has no effect at all.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -j DROP
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// -A INPUT -j DROP
    /// ```
    pub static LINT = "IPT102", "rule-after-unconditional-verdict", Correctness, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        for (c, chain) in table.chains.iter().enumerate() {
            let Some(first) = first_dead_rule(chain, table.family) else { continue };
            let stop = &chain.rules[first - 1];
            let dead = chain.rules.len() - first;
            let what = if dead == 1 {
                "this rule never runs".to_string()
            } else {
                format!("this rule and the {} after it never run", dead - 1)
            };
            found.push(
                Finding::new(
                    Some(RuleAt { table: t, chain: c, rule: first }),
                    chain.rules[first].span,
                    format!("{what} (`{}`)", chain.name),
                    "never reached",
                )
                .related(
                    stop.span,
                    format!("every packet stops here: `{}` with no condition", target_text(&stop.target.kind)),
                )
                .help("move the rules before the unconditional one, or remove them"),
            );
        }
    }
}
