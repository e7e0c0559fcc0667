use super::target_text;
use super::unreachable_rule::findings;
use crate::lint::{Context, Finding};

crate::declare_lint! {
    /// ## What it does
    /// Finds rules whose every packet earlier rules already decide with the same verdict: the
    /// rule changes nothing.
    ///
    /// ## Why is this bad?
    /// It costs a test for every packet that gets that far, and it misleads: removing the
    /// earlier rule would not make this one take over as its author expects, or the earlier
    /// rule is broader than intended.
    ///
    /// The analysis is the one of `unreachable-rule`: exact, and silent where a match cannot be
    /// decided.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -s 198.51.100.0/24 -j ACCEPT
    /// -A INPUT -s 198.51.100.7 -p tcp --dport 22 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -s 198.51.100.0/24 -j ACCEPT
    /// ```
    pub static LINT = "IPT201", "redundant-rule", Suspicious, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (at, u) in findings(cx, |u| !u.verdict_differs && !u.cover.is_empty()) {
        let chain = &cx.ruleset.tables[at.table].chains[at.chain];
        let rule = &chain.rules[at.rule];
        let what = target_text(&rule.target.kind);
        let mut finding = Finding::new(
            Some(at),
            rule.span,
            format!(
                "this rule changes nothing: earlier rules of `{}` already apply `{what}` to all of its packets",
                chain.name
            ),
            "redundant",
        )
        .help("remove it, or narrow the earlier rules if they catch more than they should");
        for &c in &u.cover {
            finding = finding.related(chain.rules[c].span, format!("`{what}` here first"));
        }
        found.push(finding);
    }
}
