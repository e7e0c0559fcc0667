//! Helpers for the extensions' unit tests: load one rule through the real loader and look at
//! its target, its iptables-save text and its diagnostics.

use crate::diag::Severity;
use crate::load::{LoadOptions, read};
use crate::model::{Family, MatchKind, TableName, TargetKind};
use crate::source::Source;

/// One rule, loaded.
pub struct Outcome {
    /// The target, when the rule loaded.
    pub target: Option<TargetKind>,
    /// The matches, when the rule loaded.
    pub matches: Vec<MatchKind>,
    /// The rule as `ipt fmt` prints it, without `-A CHAIN`.
    pub saved: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Loads `-A CHAIN RULE` into `table` of `family`.
pub fn load_rule(family: Family, table: &str, chain: &str, rule: &str) -> Outcome {
    let builtin = TableName::parse(table).and_then(|t| t.builtin(chain)).is_some();
    let declare = if builtin { String::new() } else { format!(":{chain} - [0:0]\n") };
    let text = format!("*{table}\n{declare}-A {chain} {rule}\nCOMMIT\n");
    let source = Source::new("test.rules", text);
    // what iptables itself refuses; where the kernel takes a target is crate::check's business
    let loaded = read(&source, &LoadOptions { family: Some(family), ..Default::default() });
    let describe = |d: &crate::diag::Diagnostic| match d.help_text() {
        Some(help) => format!("{d} ({help})"),
        None => d.to_string(),
    };
    let errors = loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Error).map(describe).collect();
    let warnings = loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Warning).map(describe).collect();
    let rule = loaded.ruleset.tables.first().and_then(|t| t.chain(chain)).and_then(|c| c.rules.first());
    let mut saved = String::new();
    if let Some(rule) = rule {
        crate::fmt::rule_spec(&mut saved, rule);
    }
    Outcome {
        target: rule.map(|r| r.target.kind.clone()),
        matches: rule.map(|r| r.matches.iter().map(|m| m.kind.clone()).collect()).unwrap_or_default(),
        saved: saved.trim_start().to_string(),
        errors,
        warnings,
    }
}

fn loaded(family: Family, rule: &str) -> Outcome {
    let outcome = load_rule(family, "filter", "INPUT", rule);
    assert!(outcome.errors.is_empty(), "`{rule}` should load, but: {:?}", outcome.errors);
    outcome
}

/// The target of an IPv4 rule that must load.
pub fn target4(rule: &str) -> TargetKind {
    loaded(Family::Ipv4, rule).target.expect("a rule")
}

/// The target of an IPv6 rule that must load.
pub fn target6(rule: &str) -> TargetKind {
    loaded(Family::Ipv6, rule).target.expect("a rule")
}

/// How an IPv4 rule that must load is saved (without `-A CHAIN `).
pub fn save4(rule: &str) -> String {
    loaded(Family::Ipv4, rule).saved
}

/// How an IPv6 rule that must load is saved (without `-A CHAIN `).
pub fn save6(rule: &str) -> String {
    loaded(Family::Ipv6, rule).saved
}

/// The warnings of an IPv4 rule that must load.
pub fn warnings4(rule: &str) -> Vec<String> {
    loaded(Family::Ipv4, rule).warnings
}

fn refused(family: Family, rule: &str) -> String {
    let outcome = load_rule(family, "filter", "INPUT", rule);
    assert!(!outcome.errors.is_empty(), "`{rule}` should be refused, but saved as `{}`", outcome.saved);
    outcome.errors.join("\n")
}

/// The errors of an IPv4 rule that must not load, joined by newlines.
pub fn err4(rule: &str) -> String {
    refused(Family::Ipv4, rule)
}

/// The errors of an IPv6 rule that must not load, joined by newlines.
pub fn err6(rule: &str) -> String {
    refused(Family::Ipv6, rule)
}
