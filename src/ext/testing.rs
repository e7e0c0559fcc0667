//! Helpers for the extensions' unit tests: load one rule, print it back as iptables-save would.

use crate::ext::test_util::load_rule;
use crate::model::{Family, MatchKind};

/// The rule as `iptables-save -t table` prints it (after `-A CHAIN `), or every error message
/// (with its help) when iptables refuses it. `chain` is a built-in chain of the table.
pub fn saved_in(family: Family, table: &str, chain: &str, rule: &str) -> Result<String, String> {
    let outcome = load_rule(family, table, chain, rule);
    if outcome.errors.is_empty() { Ok(outcome.saved) } else { Err(outcome.errors.join("; ")) }
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
    let outcome = load_rule(family, "filter", "INPUT", rule);
    assert!(outcome.errors.is_empty(), "`{rule}` does not load: {:?}", outcome.errors);
    outcome.matches
}

/// Asserts that rules spelled differently load as the same matches.
pub fn same(family: Family, a: &str, b: &str) {
    assert_eq!(matches(family, a), matches(family, b), "`{a}` and `{b}` differ");
}
