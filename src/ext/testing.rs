//! Helpers for the extensions' unit tests: load one rule, print it back as iptables-save would.

use crate::load::{LoadOptions, load};
use crate::model::{Family, MatchKind};
use crate::source::Source;

fn source(family: Family, table: &str, chain: &str, rule: &str) -> Source {
    let text = format!("*{table}\n:{chain} ACCEPT [0:0]\n-A {chain} {rule}\nCOMMIT\n");
    let name = if family == Family::Ipv4 { "rules.v4" } else { "rules.v6" };
    Source::new(name, text)
}

/// The rule as `iptables-save -t table` prints it (after `-A CHAIN `), or every error message
/// (with its help) when it does not load. `chain` is a built-in chain of the table.
pub fn saved_in(family: Family, table: &str, chain: &str, rule: &str) -> Result<String, String> {
    let loaded = load(&source(family, table, chain, rule), &LoadOptions { family: Some(family) });
    if !loaded.loads() {
        let errors: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity() == crate::diag::Severity::Error)
            .map(|d| format!("{d} ({})", d.help_text().unwrap_or_default()))
            .collect();
        return Err(errors.join("; "));
    }
    let t = &loaded.ruleset.tables[0];
    let chain = t.chains.iter().find(|c| c.name.to_string() == chain).expect("the chain");
    let mut out = String::new();
    crate::fmt::rule_spec(&mut out, &chain.rules[0]);
    Ok(out.trim_start().to_string())
}

/// `iptables-save` of a rule in IPv4 `filter`; panics if it does not load.
pub fn v4(rule: &str) -> String {
    saved_in(Family::Ipv4, "filter", "INPUT", rule).unwrap_or_else(|e| panic!("`{rule}` does not load: {e}"))
}

/// `ip6tables-save` of a rule in IPv6 `filter`; panics if it does not load.
pub fn v6(rule: &str) -> String {
    saved_in(Family::Ipv6, "filter", "INPUT", rule).unwrap_or_else(|e| panic!("`{rule}` does not load: {e}"))
}

/// The error messages of an IPv4 rule that must not load.
pub fn err4(rule: &str) -> String {
    match saved_in(Family::Ipv4, "filter", "INPUT", rule) {
        Ok(saved) => panic!("`{rule}` loads as `{saved}`"),
        Err(e) => e,
    }
}

/// The error messages of an IPv6 rule that must not load.
pub fn err6(rule: &str) -> String {
    match saved_in(Family::Ipv6, "filter", "INPUT", rule) {
        Ok(saved) => panic!("`{rule}` loads as `{saved}`"),
        Err(e) => e,
    }
}

/// The typed matches of a rule (IPv4 `filter`, or IPv6 with `family`).
pub fn matches(family: Family, rule: &str) -> Vec<MatchKind> {
    let loaded = load(&source(family, "filter", "INPUT", rule), &LoadOptions { family: Some(family) });
    assert!(loaded.loads(), "`{rule}` does not load: {:?}", loaded.diagnostics);
    let t = &loaded.ruleset.tables[0];
    let input = t.chains.iter().find(|c| c.name.to_string() == "INPUT").expect("INPUT");
    input.rules[0].matches.iter().map(|m| m.kind.clone()).collect()
}

/// Asserts that rules spelled differently load as the same matches.
pub fn same(family: Family, a: &str, b: &str) {
    assert_eq!(matches(family, a), matches(family, b), "`{a}` and `{b}` differ");
}
