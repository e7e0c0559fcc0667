use super::live_rules;
use crate::lint::{Context, Finding, RuleAt};

crate::declare_lint! {
    /// ## What it does
    /// Finds runs of 5 or more consecutive rules that are the same but for one value: the
    /// source address, a port, an interface.
    ///
    /// ## Why is this bad?
    /// Each packet is tested against every rule of the run in turn. One rule with a list does
    /// the same with one lookup: `-m multiport --dports` for up to 15 ports, an ipset
    /// (`-m set --match-set`) for addresses, which stays fast with thousands of entries.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -s 192.0.2.1/32 -j DROP
    /// -A INPUT -s 192.0.2.7/32 -j DROP
    /// -A INPUT -s 192.0.2.9/32 -j DROP
    /// -A INPUT -s 192.0.2.20/32 -j DROP
    /// -A INPUT -s 192.0.2.33/32 -j DROP
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// # ipset create blocked hash:ip; ipset add blocked 192.0.2.1 ...
    /// -A INPUT -m set --match-set blocked src -j DROP
    /// ```
    pub static LINT = "IPT402", "rules-differ-in-one-field", Performance, check;
}

/// The shortest run worth a finding.
const RUN: usize = 5;

/// The index of the one word in which two rules differ, if they differ in exactly one.
fn one_difference(a: &[&str], b: &[&str]) -> Option<usize> {
    if a.len() != b.len() {
        return None;
    }
    let mut diff = a.iter().zip(b).enumerate().filter(|(_, (x, y))| x != y).map(|(i, _)| i);
    let first = diff.next()?;
    diff.next().is_none().then_some(first)
}

/// What two rules that differ in one value have in common: which options they have, their
/// match modules and their target. Cheap to compare, so only runs of equal shapes are printed
/// and compared word by word.
fn shape(rule: &crate::model::Rule) -> (usize, [bool; 6], Vec<&str>, Option<&str>) {
    let present = [
        rule.src.is_some(),
        rule.dst.is_some(),
        rule.in_iface().is_some(),
        rule.out_iface().is_some(),
        rule.proto.is_some(),
        rule.fragment().is_some(),
    ];
    (rule.matches.len(), present, rule.matches.iter().map(|m| m.kind.name()).collect(), rule.target.kind.name())
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        for (c, chain) in table.chains.iter().enumerate() {
            let live = live_rules(chain, table.family);
            let mut start = 0;
            while start + RUN <= live.len() {
                let first = shape(&live[start]);
                let end = start + 1 + live[start + 1..].iter().take_while(|r| shape(r) == first).count();
                if end - start >= RUN {
                    report_runs(t, c, &live[start..end], start, found);
                }
                start = end;
            }
        }
    }
}

/// The runs of rules that differ in one word, within rules of one shape.
fn report_runs(t: usize, c: usize, live: &[crate::model::Rule], offset: usize, found: &mut Vec<Finding>) {
    let specs: Vec<String> = live
        .iter()
        .map(|r| {
            let mut s = String::new();
            crate::fmt::rule_spec(&mut s, r);
            s
        })
        .collect();
    let words: Vec<Vec<&str>> = specs.iter().map(|s| s.split_whitespace().collect()).collect();
    let mut start = 0;
    while start + 1 < words.len() {
        let Some(field) = one_difference(&words[start], &words[start + 1]) else {
            start += 1;
            continue;
        };
        let mut end = start + 2;
        while end < words.len() && one_difference(&words[start], &words[end]) == Some(field) {
            end += 1;
        }
        // a difference in the target or its options cannot become one rule's list
        let target_at = words[start].iter().position(|w| *w == "-j" || *w == "-g").unwrap_or(usize::MAX);
        if end - start >= RUN && field > 0 && field < target_at {
            let option = words[start][field - 1];
            found.push(
                Finding::new(
                    Some(RuleAt { table: t, chain: c, rule: offset + start }),
                    live[start].span,
                    format!("{} rules in a row differ only in `{option}`", end - start),
                    format!("the first of {}", end - start),
                )
                .related(live[end - 1].span, "the last")
                .help(match option {
                    "-s" | "-d" => "match the addresses with one ipset rule (`-m set --match-set NAME src`)",
                    "--dport" | "--sport" => "match the ports with `-m multiport --dports` (15 per rule) or an ipset",
                    _ => "match the values with one rule: a multiport list or an ipset",
                }),
            );
        }
        start = end - 1;
    }
}
