//! Runs of rules merged into one, where that is exact.
//!
//! A run is a maximal sequence of adjacent rules of one chain that are the same but for the
//! values of some equality tests ("points": one address, port, protocol or interface name, so
//! two different tuples of values never match the same packet). Then:
//! - if they also share their statements and verdict, the run becomes one rule testing the
//!   tuple against an anonymous set (`ip saddr { a, b }`, `ip saddr . tcp dport { a . 22, ... }`);
//! - if they differ only in a plain verdict, one verdict map
//!   (`ip daddr . meta l4proto . th dport vmap { ... : jump KUBE-SVC-X }`).
//!
//! Exact because a packet has one value for each tested field, so it matches at most one rule of
//! the run, and a miss falls through to the rule after the run as it would after the last rule.
//! A tuple that repeats an earlier one is unreachable when the verdict ends the chain (it is
//! dropped), but not after a `jump` (the packet comes back and meets the second rule too): the
//! run ends before it. The tested fields are ones a chain cannot change under a packet (addresses,
//! ports, protocol, interfaces). A rule with a side-effecting test (limit, quota, numgen) is never
//! merged: merging would change how often that test runs.

use super::ir::{Expr, Key, Rule, Value, Verdict, Vmap};
use rustc_hash::FxHashSet as HashSet;

/// Inlines each chain that one unconditional `jump` calls and nothing else: the jump's rule is
/// replaced by the chain's rules. Exact when the chain has no `return` and no `goto` (which
/// would leave the caller, not the chain, once inlined): a packet meets the same rules in the
/// same order, and goes on after them as it would after the jump.
pub fn inline(table: &mut super::ir::Table) {
    use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
    let mut calls: HashMap<&str, usize> = HashMap::default();
    for rule in table.chains.iter().flat_map(|c| &c.rules) {
        for callee in rule.callees() {
            *calls.entry(callee).or_default() += 1;
        }
    }
    let leaves_no_way_out = |c: &super::ir::Chain| {
        c.base.is_none()
            && c.rules.iter().all(|r| {
                let mut verdicts =
                    r.verdict.iter().chain(r.vmap.iter().flat_map(|v| v.elements.iter().map(|(_, v)| v)));
                verdicts.all(|v| !matches!(v, Verdict::Return | Verdict::Goto(_)))
            })
    };
    let candidates: HashSet<&str> = table
        .chains
        .iter()
        .filter(|c| calls.get(c.name.as_str()) == Some(&1) && leaves_no_way_out(c))
        .map(|c| c.name.as_str())
        .collect();
    // the chains an unconditional jump will be replaced by (each has that one caller)
    let inlined: HashSet<String> = table
        .chains
        .iter()
        .flat_map(|c| c.rules.iter().filter_map(|r| inline_target(r, &c.name, &candidates)))
        .map(str::to_string)
        .collect();
    if inlined.is_empty() {
        return;
    }
    let mut bodies: HashMap<String, Vec<Rule>> = HashMap::default();
    let mut kept = Vec::with_capacity(table.chains.len() - inlined.len());
    for chain in std::mem::take(&mut table.chains) {
        if inlined.contains(&chain.name) {
            bodies.insert(chain.name, chain.rules);
        } else {
            kept.push(chain);
        }
    }
    let names: HashSet<&str> = inlined.iter().map(String::as_str).collect();
    for chain in &mut kept {
        // most chains call none of them: leave their rules where they are
        if !chain.rules.iter().any(|r| inline_target(r, &chain.name, &names).is_some()) {
            continue;
        }
        let rules = std::mem::take(&mut chain.rules);
        chain.rules = expand(rules, &chain.name, &names, &mut bodies);
    }
    table.chains = kept;
}

/// The chain an unconditional `jump` rule (nothing but the jump, and maybe a comment) calls,
/// when it is one of `candidates`.
fn inline_target<'a>(rule: &'a Rule, chain: &str, candidates: &rustc_hash::FxHashSet<&str>) -> Option<&'a str> {
    match &rule.verdict {
        Some(Verdict::Jump(callee))
            if rule.exprs.is_empty()
                && rule.stmts.is_empty()
                && rule.vmap.is_none()
                && callee != chain
                && candidates.contains(callee.as_str()) =>
        {
            Some(callee)
        }
        _ => None,
    }
}

/// A chain's rules with each inlined jump replaced by its chain's rules, themselves expanded.
fn expand(
    rules: Vec<Rule>,
    chain: &str,
    inlined: &rustc_hash::FxHashSet<&str>,
    bodies: &mut rustc_hash::FxHashMap<String, Vec<Rule>>,
) -> Vec<Rule> {
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        let Some(callee) = inline_target(&rule, chain, inlined).map(str::to_string) else {
            out.push(rule);
            continue;
        };
        let body = bodies.remove(&callee).expect("an inlined chain has one caller");
        let mut body = expand(body, &callee, inlined, bodies);
        if let (Some(comment), Some(first)) = (rule.comment, body.first_mut()) {
            first.comment = Some(match first.comment.take() {
                Some(own) => format!("{comment}; {own}"),
                None => comment,
            });
        }
        out.extend(body);
    }
    out
}

/// Whether a test is on a field no rule of a filter chain changes (so a packet that failed it
/// once in a chain fails it again further down).
fn immutable(expr: &Expr) -> bool {
    match expr {
        Expr::Cmp { key, .. } => {
            matches!(key, Key::Addr { .. } | Key::L4proto | Key::Port { .. } | Key::Iifname | Key::Oifname)
        }
        Expr::Text(t) => t.starts_with("ip frag-off & 0x1fff "),
        _ => false,
    }
}

/// Drops a rule that repeats an earlier rule of the chain whose verdict ends the chain
/// (accept, drop), when all its tests are on fields that cannot change in between: a packet
/// that reaches the repeat has already passed the first. (The first-fragment drop rules ipt
/// writes for `-m tcp` repeat so.)
fn drop_repeats(chain_rules: &mut Vec<Rule>) {
    let mut seen: HashSet<(&[Expr], &Verdict)> = HashSet::default();
    let mut repeats = Vec::new();
    for (i, rule) in chain_rules.iter().enumerate() {
        let Some(verdict @ (Verdict::Accept | Verdict::Drop)) = &rule.verdict else { continue };
        if !rule.stmts.is_empty() || rule.vmap.is_some() || !rule.exprs.iter().all(immutable) {
            continue;
        }
        if !seen.insert((&rule.exprs, verdict)) {
            repeats.push(i);
        }
    }
    for i in repeats.into_iter().rev() {
        chain_rules.remove(i);
    }
}

/// Merges the runs of one chain's rules.
pub fn rules(chain_rules: &mut Vec<Rule>) {
    drop_repeats(chain_rules);
    if chain_rules.len() < 2 {
        return;
    }
    // the merged runs, by their first rule; most rules are in none, and are not copied
    let mut merged: Vec<(usize, usize, Rule)> = Vec::new();
    let mut shapes: Vec<Option<Option<Vec<Expr>>>> = vec![None; chain_rules.len()];
    let mut i = 0;
    while i < chain_rules.len() {
        let end = run_end(chain_rules, &mut shapes, i);
        if end - i >= 2 {
            let run: Vec<(&Rule, &Vec<Expr>)> = (i..end)
                .map(|k| (&chain_rules[k], shapes[k].as_ref().and_then(Option::as_ref).expect("a run has shapes")))
                .collect();
            if let Some(rule) = merge(&run) {
                merged.push((i, end, rule));
            }
        }
        i = end;
    }
    if merged.is_empty() {
        return;
    }
    let rules = std::mem::take(chain_rules);
    let mut out = Vec::with_capacity(rules.len());
    let mut runs = merged.into_iter().peekable();
    let mut skip_to = 0;
    for (k, rule) in rules.into_iter().enumerate() {
        if k < skip_to {
            continue;
        }
        match runs.peek() {
            Some((start, _, _)) if *start == k => {
                let (_, end, rule) = runs.next().expect("peeked");
                out.push(rule);
                skip_to = end;
            }
            _ => out.push(rule),
        }
    }
    *chain_rules = out;
}

/// Whether two rules might be in one run, tested without copying anything: the same number of
/// tests, of the same kinds, and actions that can merge.
fn may_merge(a: &Rule, b: &Rule) -> bool {
    let same_action = a.stmts == b.stmts && a.verdict == b.verdict;
    a.exprs.len() == b.exprs.len()
        && a.vmap.is_none()
        && b.vmap.is_none()
        && (same_action || plain_verdict(a) && plain_verdict(b))
        && a.exprs.iter().zip(&b.exprs).all(|(x, y)| match (x, y) {
            (Expr::Cmp { key: kx, .. }, Expr::Cmp { key: ky, .. }) => {
                std::mem::discriminant(kx) == std::mem::discriminant(ky)
            }
            (Expr::Effect(_), _) | (_, Expr::Effect(_)) => false,
            _ => x == y,
        })
}

/// A rule's tests with `tcp dport` written `th dport` where the rule also tests `meta l4proto`
/// (the same test then), so that tcp and udp rules line up; `None` if it cannot be merged.
fn normal(rule: &Rule) -> Option<Vec<Expr>> {
    if rule.vmap.is_some() || rule.exprs.iter().any(|e| matches!(e, Expr::Effect(_))) {
        return None;
    }
    let proto = rule.exprs.iter().find_map(|e| match e {
        Expr::Cmp { key: Key::L4proto, neg: false, value: Value::One(p) } => Some(p.as_str()),
        _ => None,
    });
    Some(
        rule.exprs
            .iter()
            .map(|e| match e {
                Expr::Cmp { key: Key::Port { proto: p, dst }, neg, value } if Some(*p) == proto => {
                    Expr::Cmp { key: Key::Port { proto: "th", dst: *dst }, neg: *neg, value: value.clone() }
                }
                other => other.clone(),
            })
            .collect(),
    )
}

/// A test whose value may differ within a run.
fn point(expr: &Expr) -> Option<(&Key, &str)> {
    match expr {
        Expr::Cmp { key, neg: false, value: Value::One(v) } => {
            let immutable =
                matches!(key, Key::Addr { .. } | Key::L4proto | Key::Port { .. } | Key::Iifname | Key::Oifname);
            let one = match key {
                Key::Addr { .. } => !v.contains(['/', '-']),
                Key::Port { .. } => !v.contains('-'),
                Key::Iifname | Key::Oifname => !v.contains('*'),
                _ => true,
            };
            (immutable && one).then_some((key, v.as_str()))
        }
        _ => None,
    }
}

/// Whether two rules could be in one run: the same tests but for the values of points.
fn same_shape(a: &[Expr], b: &[Expr]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x == y
                || match (point(x), point(y)) {
                    (Some((kx, _)), Some((ky, _))) => kx == ky,
                    _ => false,
                }
        })
}

fn plain_verdict(rule: &Rule) -> bool {
    rule.stmts.is_empty() && rule.verdict.is_some()
}

/// The end (exclusive) of the longest run that starts at `start`; the shapes of the rules it
/// looks at are worked out then, and kept.
fn run_end(rules: &[Rule], shapes: &mut [Option<Option<Vec<Expr>>>], start: usize) -> usize {
    if start + 1 >= rules.len() || !may_merge(&rules[start], &rules[start + 1]) {
        return start + 1;
    }
    for k in start..rules.len() {
        if shapes[k].is_none() {
            shapes[k] = Some(normal(&rules[k]));
        }
        if k > start + 1 && !may_merge(&rules[start], &rules[k]) {
            break;
        }
    }
    let shapes = &*shapes;
    let Some(Some(first)) = &shapes[start] else { return start + 1 };
    let head = &rules[start];
    let tuple =
        |shape: &'_ Vec<Expr>| -> Vec<String> { shape.iter().filter_map(point).map(|(_, v)| v.to_string()).collect() };
    // a repeat is unreachable only behind a verdict that ends the chain
    let ends =
        |r: &Rule| matches!(r.verdict, Some(Verdict::Accept | Verdict::Drop | Verdict::Return | Verdict::Goto(_)));
    let mut all_end = ends(head);
    let mut tuples: HashSet<Vec<String>> = HashSet::default();
    tuples.insert(tuple(first));
    let mut end = start + 1;
    while end < rules.len() {
        let Some(Some(shape)) = &shapes[end] else { break };
        let rule = &rules[end];
        if !same_shape(first, shape) {
            break;
        }
        let same_action = rule.stmts == head.stmts && rule.verdict == head.verdict;
        if !(same_action || plain_verdict(head) && plain_verdict(rule)) {
            break;
        }
        let t = tuple(shape);
        if tuples.contains(&t) && !(all_end && ends(rule)) {
            break;
        }
        all_end &= ends(rule);
        tuples.insert(t);
        end += 1;
    }
    end
}

/// One rule for the run; `None` when no value differs (the same tests throughout: nothing to
/// put in a set).
fn merge(run: &[(&Rule, &Vec<Expr>)]) -> Option<Rule> {
    let (head, first) = run[0];
    // the positions whose values differ somewhere in the run
    let varying: Vec<usize> = (0..first.len()).filter(|&k| run.iter().any(|(_, s)| s[k] != first[k])).collect();
    if varying.is_empty() {
        return None;
    }
    let keys: Vec<Key> =
        varying.iter().map(|&k| point(&first[k]).expect("varying tests are points").0.clone()).collect();
    let values = |shape: &Vec<Expr>| -> Vec<String> {
        varying.iter().map(|&k| point(&shape[k]).expect("varying tests are points").1.to_string()).collect()
    };
    let comments_differ = run.iter().any(|(r, _)| r.comment != head.comment);
    let element = |rule: &Rule, shape: &Vec<Expr>| -> Vec<String> {
        let mut v = values(shape);
        if comments_differ && let Some(c) = &rule.comment {
            let last = v.len() - 1;
            v[last] = format!("{} comment \"{c}\"", v[last]);
        }
        v
    };
    let mut merged = Rule::new(head.origins[0]);
    merged.origins = run.iter().flat_map(|(r, _)| r.origins.iter().copied()).collect();
    merged.stmts = head.stmts.clone();
    merged.comment = if comments_differ { None } else { head.comment.clone() };
    let same_verdict = run.iter().all(|(r, _)| r.verdict == head.verdict);
    let mut seen = HashSet::default();
    let elements: Vec<(Vec<String>, &Rule, &Vec<Expr>)> =
        run.iter().filter(|(_, s)| seen.insert(values(s))).map(|(r, s)| (element(r, s), *r, *s)).collect();
    let common: Vec<Expr> =
        first.iter().enumerate().filter(|(k, _)| !varying.contains(k)).map(|(_, e)| e.clone()).collect();
    if same_verdict {
        merged.verdict = head.verdict.clone();
        let at = varying.first().copied().unwrap_or(0).min(common.len());
        let test = if keys.len() == 1 {
            Expr::Cmp {
                key: keys[0].clone(),
                neg: false,
                value: Value::Set(elements.into_iter().map(|(mut v, _, _)| v.remove(0)).collect()),
            }
        } else {
            Expr::Concat { keys, neg: false, elements: elements.into_iter().map(|(v, _, _)| v).collect() }
        };
        merged.exprs = common;
        merged.exprs.insert(at, test);
    } else {
        merged.exprs = common;
        merged.vmap = Some(Box::new(Vmap {
            keys,
            elements: elements
                .into_iter()
                .map(|(v, r, _)| (v, r.verdict.clone().expect("a verdict map's rules all have a verdict")))
                .collect(),
        }));
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::ir::{Chain, Origin};

    fn rule(line: u32, exprs: Vec<Expr>, verdict: Verdict) -> Rule {
        let mut r = Rule::new(Origin { input: 0, line: crate::source::Line(line) });
        r.exprs = exprs;
        r.verdict = Some(verdict);
        r
    }

    fn cmp(key: Key, v: &str) -> Expr {
        Expr::Cmp { key, neg: false, value: Value::One(v.into()) }
    }

    fn text(chain: &Chain) -> Vec<String> {
        chain
            .rules
            .iter()
            .map(|r| {
                let mut s = String::new();
                r.write(&mut s);
                s
            })
            .collect()
    }

    const DADDR: Key = Key::Addr { v6: false, dst: true };

    fn service(line: u32, addr: &str, proto: &'static str, port: &str, to: &str) -> Rule {
        rule(
            line,
            vec![cmp(DADDR, addr), cmp(Key::L4proto, proto), cmp(Key::Port { proto, dst: true }, port)],
            Verdict::Jump(to.into()),
        )
    }

    #[test]
    fn a_dispatch_chain_becomes_one_verdict_map() {
        let mut chain = Chain {
            name: "KUBE-SERVICES".into(),
            base: None,
            rules: vec![
                service(1, "10.0.0.1", "tcp", "80", "A"),
                service(2, "10.0.0.2", "udp", "53", "B"),
                rule(3, vec![Expr::Text("fib daddr type local".into())], Verdict::Jump("NODEPORTS".into())),
            ],
        };
        rules(&mut chain.rules);
        assert_eq!(
            text(&chain),
            [
                "ip daddr . meta l4proto . th dport vmap { 10.0.0.1 . tcp . 80 : jump A, 10.0.0.2 . udp . 53 : jump B }",
                "fib daddr type local jump NODEPORTS",
            ]
        );
    }

    #[test]
    fn a_repeated_tuple_after_a_jump_ends_the_run() {
        let mut chain = Chain {
            name: "c".into(),
            base: None,
            rules: vec![
                service(1, "10.0.0.1", "tcp", "80", "A"),
                service(2, "10.0.0.2", "tcp", "80", "B"),
                service(3, "10.0.0.1", "tcp", "80", "C"),
            ],
        };
        rules(&mut chain.rules);
        assert_eq!(
            text(&chain),
            [
                "meta l4proto tcp th dport 80 ip daddr vmap { 10.0.0.1 : jump A, 10.0.0.2 : jump B }",
                "ip daddr 10.0.0.1 meta l4proto tcp tcp dport 80 jump C",
            ]
        );
    }

    #[test]
    fn same_verdict_makes_a_set_and_side_effects_are_left_alone() {
        let saddr = Key::Addr { v6: false, dst: false };
        let mut chain = Chain {
            name: "c".into(),
            base: None,
            rules: vec![
                rule(1, vec![cmp(saddr.clone(), "192.0.2.1")], Verdict::Drop),
                rule(2, vec![cmp(saddr.clone(), "192.0.2.2")], Verdict::Drop),
                rule(3, vec![cmp(saddr.clone(), "192.0.2.1")], Verdict::Drop),
                rule(
                    4,
                    vec![cmp(saddr.clone(), "192.0.2.3"), Expr::Effect("limit rate 1/second".into())],
                    Verdict::Drop,
                ),
                rule(5, vec![cmp(saddr, "192.0.2.0/24")], Verdict::Drop),
            ],
        };
        rules(&mut chain.rules);
        assert_eq!(
            text(&chain),
            [
                "ip saddr { 192.0.2.1, 192.0.2.2 } drop",
                "ip saddr 192.0.2.3 limit rate 1/second drop",
                "ip saddr 192.0.2.0/24 drop"
            ]
        );
    }
}
