use super::live_rules;
use super::missing_established_accept::accepts_established;
use crate::lint::{Context, Finding, RuleAt};

crate::declare_lint! {
    /// ## What it does
    /// Finds a built-in chain whose accept for established connections comes after 10 or more
    /// rules.
    ///
    /// ## Why is this bad?
    /// Nearly every packet belongs to an established connection, and each one is tested
    /// against every rule before that accept: the firewall spends its time on rules meant for
    /// the first packet of a connection.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -s 192.0.2.1 -j DROP
    /// ... (ten more rules)
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A INPUT -s 192.0.2.1 -j DROP
    /// ... (the other rules)
    /// ```
    pub static LINT = "IPT401", "late-established-accept", Performance, check;
}

/// How many rules may come first.
const EARLY: usize = 10;

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        for (c, chain) in table.chains.iter().enumerate() {
            if !chain.is_builtin() {
                continue;
            }
            let live = live_rules(chain, table.family);
            let Some(at) = live.iter().position(accepts_established) else { continue };
            if at >= EARLY {
                found.push(
                    Finding::new(
                        Some(RuleAt { table: t, chain: c, rule: at }),
                        chain.rules[at].span,
                        format!("established connections are accepted only after {at} rules of `{}`", chain.name),
                        "every packet of a connection is tested against the rules above first",
                    )
                    .help("move this rule to the top of the chain"),
                );
            }
        }
    }
}
