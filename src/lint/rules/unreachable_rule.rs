use super::{first_dead_rule, target_text};
use crate::analysis::unreachable::Unreachable;
use crate::lint::{Context, Finding, RuleAt};

crate::declare_lint! {
    /// ## What it does
    /// Finds rules that no packet reaches because earlier rules of the chain already accept,
    /// drop or reject every packet they match, with a different verdict: alone or together
    /// (`--dport 0:1023` and `--dport 1024:65535` cover a rule on any TCP port).
    ///
    /// ## Why is this bad?
    /// The rule says what should happen to some packets, and something else happens to them:
    /// the later rule is dead, and whoever wrote it believes it works.
    ///
    /// The analysis is exact over addresses, interfaces, protocols, ports, ICMP types, TCP
    /// flags, conntrack states, marks and the other fields ipt models. An earlier rule with a
    /// match ipt cannot decide (`-m limit`, `-m recent`, `-m set`, ...) covers nothing, and
    /// only ACCEPT, DROP and REJECT count as deciding, so every finding is certain. Rules after
    /// a rule with no condition are left to `rule-after-unconditional-verdict`.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -p tcp --dport 0:1023 -j DROP
    /// -A INPUT -p tcp --dport 1024:65535 -j DROP
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// -A INPUT -p tcp --dport 0:1023 -j DROP
    /// -A INPUT -p tcp --dport 1024:65535 -j DROP
    /// ```
    pub static LINT = "IPT101", "unreachable-rule", Correctness, check;
}

/// The findings of the unreachable-rule analysis that pass `keep`, outside the rules after an
/// unconditional verdict.
pub fn findings<'a>(cx: &'a Context<'_>, keep: impl Fn(&Unreachable) -> bool) -> Vec<(RuleAt, &'a Unreachable)> {
    let mut out = Vec::new();
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        for (c, report) in cx.unreachable(t) {
            let dead = first_dead_rule(&table.chains[*c], table.family).unwrap_or(usize::MAX);
            for u in report.unreachable.iter().filter(|u| u.rule < dead && keep(u)) {
                out.push((RuleAt { table: t, chain: *c, rule: u.rule }, u));
            }
        }
    }
    out
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (at, u) in findings(cx, |u| u.verdict_differs || u.cover.is_empty()) {
        let chain = &cx.ruleset.tables[at.table].chains[at.chain];
        let rule = &chain.rules[at.rule];
        let mut finding = if u.cover.is_empty() {
            Finding::new(
                Some(at),
                rule.span,
                "this rule matches no packet at all",
                "its conditions contradict each other",
            )
            .help("fix the conditions, or remove the rule")
        } else {
            Finding::new(
                Some(at),
                rule.span,
                format!("no packet reaches this rule: earlier rules of `{}` decide all of it", chain.name),
                format!("`{}` never applies", target_text(&rule.target.kind)),
            )
            .help("move it above the rules that catch its packets, or remove it")
        };
        for &c in &u.cover {
            let by = &chain.rules[c];
            let verb = match target_text(&by.target.kind).as_str() {
                "-j ACCEPT" => "accepts",
                "-j DROP" => "drops",
                _ => "rejects",
            };
            finding = finding.related(by.span, format!("{verb} some of its packets first"));
        }
        found.push(finding);
    }
}
