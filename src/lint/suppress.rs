//! `# ipt: allow(IPT101, log-without-prefix)` on the line before a rule silences those lints on
//! that rule; a suppression that silences nothing is itself reported.

use std::collections::HashMap;

use super::{Context, Finding, Lint, RuleAt};
use crate::model::Ruleset;

struct Suppression {
    key: String,
    used: bool,
}

pub struct Suppressions {
    by_rule: HashMap<RuleAt, Vec<Suppression>>,
}

/// The keys of an `ipt: allow(...)` comment (the text after `#`).
fn keys(comment: &str) -> Option<Vec<String>> {
    let rest = comment.trim().strip_prefix("ipt:")?.trim_start().strip_prefix("allow(")?;
    let inner = rest.trim_end().strip_suffix(')')?;
    Some(inner.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect())
}

impl Suppressions {
    pub fn of(ruleset: &Ruleset) -> Suppressions {
        let mut by_rule = HashMap::new();
        for (t, table) in ruleset.tables.iter().enumerate() {
            for (c, chain) in table.chains.iter().enumerate() {
                for (r, rule) in chain.rules.iter().enumerate() {
                    let found: Vec<Suppression> = rule
                        .comments()
                        .iter()
                        .filter_map(|c| keys(c))
                        .flatten()
                        .map(|key| Suppression { key, used: false })
                        .collect();
                    if !found.is_empty() {
                        by_rule.insert(RuleAt { table: t, chain: c, rule: r }, found);
                    }
                }
            }
        }
        Suppressions { by_rule }
    }

    /// Whether a suppression before the rule at `at` names `lint`; marks it used.
    pub fn silences(&mut self, at: RuleAt, lint: &Lint) -> bool {
        let Some(list) = self.by_rule.get_mut(&at) else { return false };
        let mut silenced = false;
        for s in list.iter_mut() {
            if s.key.eq_ignore_ascii_case(lint.code) || s.key.eq_ignore_ascii_case(lint.name) {
                s.used = true;
                silenced = true;
            }
        }
        silenced
    }

    /// A finding for each suppression that silenced nothing, leaving out those of lints that
    /// did not run.
    pub fn unused(&self, context: &Context<'_>, config: &super::Config) -> Vec<Finding> {
        let mut found = Vec::new();
        for (&at, list) in &self.by_rule {
            let rule = context.rule(at);
            for s in list.iter().filter(|s| !s.used) {
                let finding = match super::find(&s.key) {
                    Some(lint) if config.level(lint) == super::Level::Allow => continue,
                    Some(lint) => Finding::new(
                        Some(at),
                        rule.span,
                        format!("`# ipt: allow({})` silences nothing here", s.key),
                        format!("no `{}` finding on this rule", lint.name),
                    )
                    .help("remove the comment, or move it before the rule it is meant for"),
                    None => Finding::new(
                        Some(at),
                        rule.span,
                        format!("`# ipt: allow({})` names no lint", s.key),
                        "the comment before this rule",
                    )
                    .help("`ipt rule --list` lists the codes and names"),
                };
                found.push(finding);
            }
        }
        found.sort_by_key(|f| f.span.start);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::keys;

    #[test]
    fn reads_the_comment_form() {
        assert_eq!(keys(" ipt: allow(IPT101)"), Some(vec!["IPT101".to_string()]));
        assert_eq!(
            keys("ipt:allow(IPT101, log-without-prefix) "),
            Some(vec!["IPT101".into(), "log-without-prefix".into()])
        );
        assert_eq!(keys(" SSH from the office"), None);
        assert_eq!(keys(" ipt: allow IPT101"), None);
    }
}
