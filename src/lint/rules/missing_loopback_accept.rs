use super::input_policy::{accepts, dropping_inputs, rules_on_hook};
use crate::lint::{Context, Finding};
use crate::model::{Hook, Rule};

crate::declare_lint! {
    /// ## What it does
    /// Finds an INPUT chain that drops by default and has no rule accepting what comes in on
    /// the loopback interface `lo`.
    ///
    /// ## Why is this bad?
    /// Programs on the host talk to each other over `lo` (databases, DNS resolvers, X11,
    /// anything bound to 127.0.0.1): with no accept for it, they time out in ways that are hard
    /// to trace to the firewall.
    ///
    /// ## Example
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -i lo -j ACCEPT
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    pub static LINT = "IPT204", "missing-loopback-accept", Suspicious, check;
}

/// A rule that accepts packets coming in on `lo` by naming it (`-i lo`, `-i l+`), or every
/// packet.
fn accepts_loopback(rule: &Rule) -> bool {
    accepts(rule)
        && match rule.in_iface() {
            Some(i) => !i.invert && i.value.matches("lo"),
            None => rule.matches.is_empty() && rule.src.is_none() && rule.dst.is_none() && rule.proto.is_none(),
        }
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for input in dropping_inputs(cx) {
        let table = &cx.ruleset.tables[input.table];
        if rules_on_hook(cx, input.table, table, Hook::Input).iter().any(|(_, r)| accepts_loopback(r)) {
            continue;
        }
        found.push(
            drop_finding(&input, "no rule accepts what comes in on `lo`")
                .help("accept loopback traffic first: `-A INPUT -i lo -j ACCEPT`"),
        );
    }
}

/// A finding on what makes INPUT drop: the final rule, or the chain's policy.
pub fn drop_finding(input: &super::input_policy::DroppingInput<'_>, message: &str) -> Finding {
    match input.final_rule {
        Some(r) => Finding::new(
            Some(crate::lint::RuleAt { table: input.table, chain: input.chain, rule: r }),
            input.input.rules[r].span,
            format!("`INPUT` drops what it does not accept, and {message}"),
            "everything else is dropped here",
        ),
        None => Finding::new(
            None,
            input.declared_at,
            format!("`INPUT` drops what it does not accept, and {message}"),
            "the DROP policy",
        ),
    }
}
