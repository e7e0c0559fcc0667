//! Every lint, one per file. Codes by category: `IPT0xx` about ipt itself, `IPT1xx`
//! correctness, `IPT2xx` suspicious, `IPT3xx` security, `IPT4xx` performance, `IPT5xx` style,
//! `IPT6xx` portability.
//! A code is never reused.

pub mod accept_policy_without_final_drop;
pub mod dnat_dropped_in_forward;
pub mod family_parity;
pub mod input_order_by_backend;
mod input_policy;
pub mod jump_only_returns;
pub mod late_established_accept;
pub mod log_without_prefix;
pub mod missing_established_accept;
pub mod missing_loopback_accept;
pub mod old_negation;
pub mod redundant_rule;
pub mod rule_after_unconditional_verdict;
pub mod rules_differ_in_one_field;
pub mod ssh_lockout;
pub mod state_module;
pub mod unreachable_rule;
pub mod unreached_chain;
pub mod unused_suppression;

use super::Lint;
use crate::model::{Chain, Family, Rule, TargetKind};

/// Every lint, by code.
pub static ALL: &[&Lint] = &[
    &unused_suppression::LINT,
    &unreachable_rule::LINT,
    &rule_after_unconditional_verdict::LINT,
    &dnat_dropped_in_forward::LINT,
    &redundant_rule::LINT,
    &unreached_chain::LINT,
    &jump_only_returns::LINT,
    &missing_loopback_accept::LINT,
    &missing_established_accept::LINT,
    &family_parity::LINT,
    &ssh_lockout::LINT,
    &accept_policy_without_final_drop::LINT,
    &late_established_accept::LINT,
    &rules_differ_in_one_field::LINT,
    &state_module::LINT,
    &log_without_prefix::LINT,
    &input_order_by_backend::LINT,
    &old_negation::LINT,
];

/// A target that ends the packet's way through the table: it is accepted, dropped or rejected.
pub fn decides(kind: &TargetKind) -> bool {
    matches!(kind, TargetKind::Accept | TargetKind::Drop | TargetKind::Reject(_))
}

/// The first rule of a chain the kernel never runs: the one after the first unconditional
/// ACCEPT, DROP, REJECT or RETURN.
pub fn first_dead_rule(chain: &Chain, family: Family) -> Option<usize> {
    let stop = chain.rules.iter().position(|r| {
        (decides(&r.target.kind) || matches!(r.target.kind, TargetKind::Return)) && r.is_unconditional(family)
    })?;
    (stop + 1 < chain.rules.len()).then_some(stop + 1)
}

/// The rules of a chain that run (those before [`first_dead_rule`]).
pub fn live_rules(chain: &Chain, family: Family) -> &[Rule] {
    &chain.rules[..first_dead_rule(chain, family).unwrap_or(chain.rules.len())]
}

/// `-j ACCEPT` and friends as they are written.
pub fn target_text(kind: &TargetKind) -> String {
    match kind {
        TargetKind::Jump(chain) => format!("-j {chain}"),
        TargetKind::Goto(chain) => format!("-g {chain}"),
        TargetKind::Continue => "no target".into(),
        other => format!("-j {}", other.name().unwrap_or("?")),
    }
}

/// The findings of one lint on a ruleset written out, which must load.
#[cfg(test)]
pub(crate) fn findings_on(lint: &Lint, text: &str) -> Vec<super::Finding> {
    let source = crate::source::Source::new("test.rules", text.to_string());
    let loaded = crate::load::read(&source, &crate::load::LoadOptions::default());
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.loads(), "{text}: {errors:?}");
    let context = super::Context::new(&source, &loaded.ruleset);
    let mut found = Vec::new();
    (lint.check)(&context, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::ALL;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes: Vec<&str> = ALL.iter().map(|l| l.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len(), "a code is used twice");
        for lint in ALL {
            assert!(lint.code.len() == 6 && lint.code.starts_with("IPT"), "{}", lint.code);
            assert!(lint.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", lint.name);
        }
    }

    #[test]
    fn every_lint_documents_itself_with_the_fixed_headings() {
        for lint in ALL {
            let docs = lint.docs();
            for heading in ["## What it does", "## Why is this bad?", "## Example", "## Use instead"] {
                assert!(docs.contains(heading), "{} lacks `{heading}`", lint.code);
            }
            assert!(!lint.summary().is_empty(), "{} has no summary", lint.code);
        }
    }
}
