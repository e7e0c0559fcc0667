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
use std::borrow::Cow;

/// Replaces jumps by what they would do, where that is exact:
/// - a `jump` to an empty chain does nothing, and one to a chain whose one rule tests nothing
///   (statements, then `accept`, `drop` or nothing) does what that rule does: the calling rule
///   takes its statements and verdict (kube-proxy's KUBE-MARK-MASQ: `meta mark set ...` in
///   each caller, one rule fewer on the way of every packet it marks); a rule left with nothing
///   to do is dropped (its tests have no effect another rule can see: a `limit` or `quota`
///   keeps its count to itself). Exact: the callee's rule runs where the jump was, and a chain
///   without a verdict returns to the rule after the jump.
/// - a chain that only unconditional `jump`s call (nothing but the jump in the rule) is inlined
///   at each, when that adds no rule (called once, or one rule long, or two rules long and
///   called twice). A verdict map it would copy becomes a named map of the table that every
///   copy names; one that cannot be named (keys nft has no type for, ranges) is not copied,
///   and its chain stays. Exact when the chain has no `return` and no `goto` (which would leave
///   the caller, not the chain, once inlined): a packet meets the same rules in the same order,
///   and goes on after them as it would after the jump.
///
/// A chain every reference to which is replaced is dropped; a chain nothing referred to is kept.
pub fn inline(table: &mut super::ir::Table) {
    inline_actions(table);
    inline_chains(table);
}

/// The first half of [`inline`]: jumps to chains of one rule that tests nothing.
fn inline_actions(table: &mut super::ir::Table) {
    use super::ir::Reference;
    // each chain's action: `None` if it is not one, `Some(None)` if it is empty, else its rule
    let actions: Vec<Option<Option<Rule>>> = table
        .chains
        .iter()
        .map(|c| match c.rules.as_slice() {
            _ if c.base.is_some() => None,
            [] => Some(None),
            [one]
                if one.exprs.is_empty()
                    && one.vmap.is_none()
                    && match one.verdict {
                        Some(Verdict::Accept | Verdict::Drop) => true,
                        None => !one.stmts.is_empty(),
                        _ => false,
                    } =>
            {
                Some(Some(one.clone()))
            }
            _ => None,
        })
        .collect();
    if actions.iter().all(Option::is_none) {
        return;
    }
    // the references to the action chains: how many each has, how many the rewritten jumps
    // take away (a chain left with none goes too), and the jumps to rewrite, in order
    let mut had = vec![0usize; table.chains.len()];
    let mut gone = vec![0usize; table.chains.len()];
    let mut jumps: Vec<Reference> = Vec::new();
    for r in super::ir::references_into(&table.chains, |c| actions[c].is_some()) {
        let callee = r.callee as usize;
        had[callee] += 1;
        let rule = &table.chains[r.caller as usize].rules[r.rule as usize];
        if r.element == Reference::VERDICT && r.callee != r.caller && matches!(rule.verdict, Some(Verdict::Jump(_))) {
            gone[callee] += 1;
            jumps.push(r);
        }
    }
    let mut jumps = jumps.into_iter().peekable();
    for (c, chain) in table.chains.iter_mut().enumerate() {
        while jumps.next_if(|j| (j.caller as usize) < c).is_some() {}
        if jumps.peek().is_none_or(|j| j.caller as usize != c) {
            continue;
        }
        let mut r = 0;
        chain.rules.retain_mut(|rule| {
            let at = r;
            r += 1;
            let Some(jump) = jumps.next_if(|j| j.caller as usize == c && j.rule as usize == at) else { return true };
            rule.verdict = None;
            if let Some(Some(action)) = &actions[jump.callee as usize] {
                rule.stmts.extend(action.stmts.iter().cloned());
                rule.verdict = action.verdict.clone();
                // the callee's comment goes with its rule, after the caller's
                if let Some(own) = &action.comment {
                    rule.append_comment(own);
                }
            }
            // a rule that now does nothing: its tests change nothing another rule sees
            !(rule.stmts.is_empty() && rule.verdict.is_none() && rule.vmap.is_none())
        });
    }
    let mut c = 0;
    table.chains.retain(|_| {
        c += 1;
        had[c - 1] == 0 || had[c - 1] > gone[c - 1]
    });
}

/// The second half of [`inline`]: chains only unconditional jumps call.
fn inline_chains(table: &mut super::ir::Table) {
    use super::ir::Reference;
    // every reference to each chain, the plain jumps to it, and which chains make plain jumps,
    // by the chains' places
    let references = super::ir::references(&table.chains);
    let n = table.chains.len();
    let mut calls = vec![0usize; n];
    let mut plain = vec![0usize; n];
    let mut jumps_plainly = vec![false; n];
    for r in &references {
        calls[r.callee as usize] += 1;
        let rule = &table.chains[r.caller as usize].rules[r.rule as usize];
        if r.element == Reference::VERDICT && r.callee != r.caller && is_plain_jump(rule) {
            plain[r.callee as usize] += 1;
            jumps_plainly[r.caller as usize] = true;
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
    // inlining at every caller adds no rule: n callers of a k-rule chain become n * k rules
    // where there were n + k; and no verdict map is copied (a second copy of kube-proxy's
    // 10 000 services made the script load a quarter slower): one that would be becomes a
    // named map of the table, which every copy of its rule names (see `expand`)
    let adds_no_rule = |c: &super::ir::Chain, n: usize| {
        n == 1
            || (n * c.rules.len() <= n + c.rules.len()
                && c.rules.iter().all(|r| r.vmap.as_ref().is_none_or(|v| v.name.is_some() || v.nameable())))
    };
    // the chains every reference to is a plain jump, that have no way out and that inlining
    // does not grow
    let inlined: Vec<bool> = (0..n)
        .map(|i| {
            let c = &table.chains[i];
            plain[i] > 0 && plain[i] == calls[i] && leaves_no_way_out(c) && adds_no_rule(c, calls[i])
        })
        .collect();
    if !inlined.contains(&true) {
        return;
    }
    // each chain's plain jumps to an inlined chain, as (chain, rule, callee), in the chains' and
    // their rules' order (a rule has one verdict: one reference of its own at most)
    let targets: Vec<(u32, u32, u32)> = references
        .iter()
        .filter(|r| {
            r.element == Reference::VERDICT
                && r.callee != r.caller
                && inlined[r.callee as usize]
                && is_plain_jump(&table.chains[r.caller as usize].rules[r.rule as usize])
        })
        .map(|r| (r.caller, r.rule, r.callee))
        .collect();
    let starts: Vec<usize> = (0..=n).map(|i| targets.partition_point(|t| (t.0 as usize) < i)).collect();
    // the table's named maps are made only here, below
    debug_assert!(table.maps().is_empty(), "no named map before inlining");
    let mut ex = Expansion {
        targets: &targets,
        starts: &starts,
        names: vec![String::new(); n],
        bodies: std::iter::repeat_with(|| None).take(n).collect(),
        expanded: std::iter::repeat_with(|| None).take(n).collect(),
        left: calls,
        maps: HashSet::default(),
    };
    let mut kept = Vec::with_capacity(n);
    for (i, chain) in std::mem::take(&mut table.chains).into_iter().enumerate() {
        if inlined[i] {
            ex.names[i] = chain.name;
            ex.bodies[i] = Some(chain.rules);
        } else {
            kept.push((i, chain));
        }
    }
    // most chains make no plain jump to an inlined chain: their rules stay where they are
    let expands = |i: usize| jumps_plainly[i] && starts[i] < starts[i + 1];
    for k in 0..kept.len() {
        ex.prefetch(&kept, k, expands);
        let (i, chain) = &mut kept[k];
        if expands(*i) {
            let rules = std::mem::take(&mut chain.rules);
            chain.rules = ex.expand(rules, *i);
        }
    }
    table.chains = kept.into_iter().map(|(_, chain)| chain).collect();
}

/// Whether a rule is a plain `jump`: nothing but the jump, and maybe a comment.
fn is_plain_jump(rule: &Rule) -> bool {
    matches!(rule.verdict, Some(Verdict::Jump(_)))
        && rule.exprs.is_empty()
        && rule.stmts.is_empty()
        && rule.vmap.is_none()
}

/// What [`Expansion::expand`] works with, by the chains' places in the table before inlining:
/// each chain's plain jumps to inlined chains (`targets[starts[c]..starts[c + 1]]`, as (chain,
/// rule, callee)), the inlined chains' names and bodies as read (`bodies`) and once expanded
/// (`expanded`), how many callers each has left to expand, and the names of the table's maps.
struct Expansion<'a> {
    targets: &'a [(u32, u32, u32)],
    starts: &'a [usize],
    names: Vec<String>,
    bodies: Vec<Option<Vec<Rule>>>,
    expanded: Vec<Option<Vec<Rule>>>,
    left: Vec<usize>,
    maps: HashSet<String>,
}

impl Expansion<'_> {
    /// Before the chain at `k` of `kept` is expanded: asks the processor for what the expansions
    /// a few chains on will read, each a block of its own in no order it can guess (on kube-proxy's
    /// dump, 10 000 service chains, each inlining its last endpoint: the time of that loop went
    /// mostly on waiting for memory). Eight on, the rules of the chain and the places of its
    /// callees' bodies; four on, the bodies and the comments of the rules.
    fn prefetch(&self, kept: &[(usize, super::ir::Chain)], k: usize, expands: impl Fn(usize) -> bool) {
        use crate::memory::{prefetch, prefetch_slice};
        if let Some((far, chain)) = kept.get(k + 8)
            && expands(*far)
        {
            prefetch_slice(&chain.rules);
            for &(_, _, callee) in &self.targets[self.starts[*far]..self.starts[*far + 1]] {
                prefetch(&self.bodies[callee as usize]);
            }
        }
        if let Some((near, chain)) = kept.get(k + 4)
            && expands(*near)
        {
            for comment in chain.rules.iter().filter_map(|r| r.comment.as_ref()) {
                prefetch(comment.as_ptr());
            }
            for &(_, _, callee) in &self.targets[self.starts[*near]..self.starts[*near + 1]] {
                if let Some(body) = &self.bodies[callee as usize] {
                    prefetch_slice(body);
                }
            }
        }
    }

    /// Chain `chain`'s rules (as read) with each inlined jump replaced by its chain's rules,
    /// themselves expanded once; the last caller takes the expanded body, the others a copy, in
    /// which a verdict map is the one named map all copies share.
    fn expand(&mut self, rules: Vec<Rule>, chain: usize) -> Vec<Rule> {
        let targets = &self.targets[self.starts[chain]..self.starts[chain + 1]];
        if targets.is_empty() {
            // most inlined chains inline none themselves: their rules stay as they are
            return rules;
        }
        let mut out = Vec::with_capacity(rules.len());
        let mut targets = targets.iter().peekable();
        for (r, rule) in rules.into_iter().enumerate() {
            let Some(&(_, _, callee)) = targets.next_if(|t| t.1 as usize == r) else {
                out.push(rule);
                continue;
            };
            let callee = callee as usize;
            if self.expanded[callee].is_none() {
                let body = self.bodies[callee].take().unwrap_or_default();
                let body = self.expand(body, callee);
                self.expanded[callee] = Some(body);
            }
            let callers_left = &mut self.left[callee];
            *callers_left = callers_left.saturating_sub(1);
            let mut body = if *callers_left == 0 {
                self.expanded[callee].take().unwrap_or_default()
            } else {
                let body = self.expanded[callee].as_mut().expect("expanded above");
                name_maps(body, &self.names[callee], &mut self.maps);
                body.clone()
            };
            // the jump's comment goes first, before the inlined rule's own
            if let (Some(comment), Some(first)) = (rule.comment, body.first_mut()) {
                let own = first.comment.replace(comment);
                if let Some(own) = own {
                    first.append_comment(&own);
                }
            }
            out.extend(body);
        }
        out
    }
}

/// Makes each anonymous verdict map of `rules` that can be named a named map of the table,
/// called after the chain the rules come from (`chain`, `chain.1`, ... where a name is taken).
fn name_maps(rules: &mut [Rule], chain: &str, maps: &mut rustc_hash::FxHashSet<String>) {
    for rule in rules {
        let Some(vmap) = &mut rule.vmap else { continue };
        if vmap.name.is_some() || !vmap.nameable() {
            continue;
        }
        let name =
            (0..).map(|i| if i == 0 { chain.to_string() } else { format!("{chain}.{i}") }).find(|n| !maps.contains(n));
        let name = name.expect("a free name");
        maps.insert(name.clone());
        // named in place when no other rule holds the map (kube-proxy's: 10 000 elements)
        std::sync::Arc::make_mut(vmap).name = Some(name);
    }
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
    if chain_rules.len() < 2 {
        return;
    }
    drop_repeats(chain_rules);
    if chain_rules.len() < 2 {
        return;
    }
    // the merged runs, by their first rule; most rules are in none, and are not copied
    let mut merged: Vec<(usize, usize, Rule)> = Vec::new();
    let mut shapes: Vec<Option<Option<Shape<'_>>>> = vec![None; chain_rules.len()];
    let mut i = 0;
    while i < chain_rules.len() {
        let end = run_end(chain_rules, &mut shapes, i);
        if end - i >= 2 {
            let run: Vec<(&Rule, &Shape<'_>)> = (i..end)
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
fn normal(rule: &Rule) -> Option<Shape<'_>> {
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
                    Cow::Owned(Expr::Cmp { key: Key::Port { proto: "th", dst: *dst }, neg: *neg, value: value.clone() })
                }
                other => Cow::Borrowed(other),
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
fn same_shape(a: &[Cow<'_, Expr>], b: &[Cow<'_, Expr>]) -> bool {
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

/// A rule's tests as [`normal`] gives them: most borrowed from the rule, a rewritten one owned.
type Shape<'r> = Vec<Cow<'r, Expr>>;

/// The values of a rule's points (borrowed: a dispatch chain's run has thousands of rules).
type Tuple<'a> = smallvec::SmallVec<[&'a str; 4]>;

fn tuple<'a>(shape: &'a [Cow<'_, Expr>]) -> Tuple<'a> {
    shape.iter().filter_map(|e| point(e)).map(|(_, v)| v).collect()
}

/// The end (exclusive) of the longest run that starts at `start`; the shapes of the rules it
/// looks at are worked out then, and kept.
fn run_end<'r>(rules: &'r [Rule], shapes: &mut [Option<Option<Shape<'r>>>], start: usize) -> usize {
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
    // a repeat is unreachable only behind a verdict that ends the chain
    let ends =
        |r: &Rule| matches!(r.verdict, Some(Verdict::Accept | Verdict::Drop | Verdict::Return | Verdict::Goto(_)));
    let mut all_end = ends(head);
    let mut tuples: HashSet<Tuple<'_>> = HashSet::default();
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
fn merge<'a>(run: &[(&Rule, &'a Shape<'_>)]) -> Option<Rule> {
    let (head, first) = run[0];
    // the positions whose values differ somewhere in the run
    let varying: Vec<usize> = (0..first.len()).filter(|&k| run.iter().any(|(_, s)| s[k] != first[k])).collect();
    if varying.is_empty() {
        return None;
    }
    let keys: Vec<Key> =
        varying.iter().map(|&k| point(&first[k]).expect("varying tests are points").0.clone()).collect();
    let values = |shape: &'a Shape<'_>| -> Tuple<'a> {
        varying.iter().map(|&k| point(&shape[k]).expect("varying tests are points").1).collect()
    };
    let comments_differ = run.iter().any(|(r, _)| r.comment != head.comment);
    let element = |rule: &Rule, shape: &'a Shape<'_>| -> Vec<String> {
        let mut v: Vec<String> = values(shape).into_iter().map(str::to_string).collect();
        if comments_differ && let Some(c) = &rule.comment {
            let last = &mut v[varying.len() - 1];
            last.reserve(c.len() + 11);
            last.push_str(" comment \"");
            last.push_str(c);
            last.push('"');
        }
        v
    };
    let mut merged = Rule::new(head.origins[0]);
    merged.origins = run.iter().flat_map(|(r, _)| r.origins.iter().copied()).collect();
    merged.stmts = head.stmts.clone();
    merged.comment = if comments_differ { None } else { head.comment.clone() };
    let same_verdict = run.iter().all(|(r, _)| r.verdict == head.verdict);
    let mut seen = HashSet::default();
    let elements: Vec<(Vec<String>, &Rule, &Shape<'_>)> =
        run.iter().filter(|(_, s)| seen.insert(values(s))).map(|(r, s)| (element(r, s), *r, *s)).collect();
    let common: Vec<Expr> =
        first.iter().enumerate().filter(|(k, _)| !varying.contains(k)).map(|(_, e)| e.as_ref().clone()).collect();
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
        merged.vmap = Some(std::sync::Arc::new(Vmap {
            keys,
            elements: elements
                .into_iter()
                .map(|(v, r, _)| (v, r.verdict.clone().expect("a verdict map's rules all have a verdict")))
                .collect(),
            name: None,
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
        chain.rule_texts()
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

    fn table(chains: Vec<Chain>) -> crate::nft::ir::Table {
        crate::nft::ir::Table { family: crate::nft::ir::NftFamily::Ip, name: "t".into(), chains }
    }

    fn chain(name: &str, rules: Vec<Rule>) -> Chain {
        Chain { name: name.into(), base: None, rules }
    }

    fn tested(line: u32, port: &str, verdict: Verdict) -> Rule {
        rule(line, vec![cmp(Key::Port { proto: "tcp", dst: true }, port)], verdict)
    }

    fn listing(t: &crate::nft::ir::Table) -> Vec<(String, Vec<String>)> {
        t.chains.iter().map(|c| (c.name.clone(), text(c))).collect()
    }

    #[test]
    fn jumps_to_an_empty_chain_go_and_jumps_to_a_plain_verdict_become_it() {
        let jump = |c: &str| Verdict::Jump(c.into());
        let mut limited = tested(1, "1", jump("NOTHING"));
        limited.exprs.push(Expr::Effect("limit rate 1/second".into()));
        let mut t = table(vec![
            chain("NOTHING", vec![]),
            chain("REFUSE", vec![rule(9, vec![], Verdict::Drop)]),
            chain("UNUSED", vec![]),
            chain("IN", vec![limited, tested(2, "23", jump("REFUSE")), rule(3, vec![], jump("NOTHING"))]),
        ]);
        inline(&mut t);
        assert_eq!(
            listing(&t),
            [("UNUSED".to_string(), vec![]), ("IN".to_string(), vec!["tcp dport 23 drop".to_string()])]
        );
    }

    #[test]
    fn a_jump_to_a_chain_of_statements_becomes_the_statements() {
        let jump = |c: &str| Verdict::Jump(c.into());
        let mut mark = rule(9, vec![], jump("X"));
        mark.verdict = None;
        mark.stmts.push("meta mark set meta mark | 0x4000".into());
        let mut logged = rule(10, vec![], Verdict::Drop);
        logged.stmts.push("log".into());
        logged.comment = Some("refused".into());
        let mut t = table(vec![
            chain("MARK", vec![mark]),
            chain("LOGDROP", vec![logged]),
            chain(
                "IN",
                vec![tested(1, "22", jump("MARK")), tested(2, "23", jump("LOGDROP")), tested(3, "24", jump("MARK"))],
            ),
        ]);
        inline(&mut t);
        assert_eq!(
            listing(&t),
            [(
                "IN".to_string(),
                vec![
                    "tcp dport 22 meta mark set meta mark | 0x4000".to_string(),
                    "tcp dport 23 log drop comment \"refused\"".to_string(),
                    "tcp dport 24 meta mark set meta mark | 0x4000".to_string(),
                ]
            )]
        );
        // a chain whose one rule tests something, or ends in `return`, stays
        for body in [tested(9, "80", Verdict::Accept), rule(9, vec![], Verdict::Return)] {
            let mut t = table(vec![chain("C", vec![body]), chain("IN", vec![tested(1, "22", jump("C"))])]);
            let before = listing(&t);
            inline(&mut t);
            assert_eq!(listing(&t), before);
        }
    }

    #[test]
    fn a_short_chain_only_plain_jumps_call_is_copied_into_each_unless_it_has_a_way_out() {
        let jump = |c: &str| Verdict::Jump(c.into());
        let guard = || chain("GUARD", vec![tested(1, "22", Verdict::Accept), tested(2, "23", Verdict::Drop)]);
        let mut t = table(vec![
            guard(),
            chain("A", vec![rule(3, vec![], jump("GUARD"))]),
            chain("B", vec![rule(4, vec![], jump("GUARD"))]),
        ]);
        inline(&mut t);
        let both = vec!["tcp dport 22 accept".to_string(), "tcp dport 23 drop".to_string()];
        assert_eq!(listing(&t), [("A".to_string(), both.clone()), ("B".to_string(), both)]);
        // a third caller would add a rule; a conditional caller, a `return` or a `goto` keeps the chain
        for callers in [
            vec![rule(3, vec![], jump("GUARD")), rule(4, vec![], jump("GUARD")), rule(5, vec![], jump("GUARD"))],
            vec![rule(3, vec![], jump("GUARD")), tested(4, "80", jump("GUARD"))],
            vec![rule(3, vec![], jump("GUARD")), rule(4, vec![], Verdict::Goto("GUARD".into()))],
        ] {
            let mut t = table(vec![guard(), chain("A", callers)]);
            let before = listing(&t);
            inline(&mut t);
            assert_eq!(listing(&t), before);
        }
        let returns = chain("GUARD", vec![tested(1, "22", Verdict::Return), tested(2, "23", Verdict::Drop)]);
        let mut t = table(vec![returns, chain("A", vec![rule(3, vec![], jump("GUARD"))])]);
        let before = listing(&t);
        inline(&mut t);
        assert_eq!(listing(&t), before);
    }

    #[test]
    fn inlined_chains_inline_in_turn_and_keep_the_jumps_comments() {
        let jump = |c: &str| Verdict::Jump(c.into());
        let noted = |mut r: Rule, note: &str| {
            r.comment = Some(note.into());
            r
        };
        let mut t = table(vec![
            chain("LEAF1", vec![noted(tested(1, "22", Verdict::Accept), "own")]),
            chain("LEAF2", vec![tested(2, "23", Verdict::Drop), tested(3, "24", Verdict::Accept)]),
            chain("INNER", vec![tested(4, "25", Verdict::Drop)]),
            chain("MID", vec![rule(5, vec![], jump("INNER"))]),
            chain("SHARED", vec![tested(6, "26", Verdict::Accept)]),
            // callees called once
            chain(
                "A",
                vec![
                    noted(rule(7, vec![], jump("LEAF1")), "call"),
                    tested(8, "80", Verdict::Accept),
                    rule(9, vec![], jump("LEAF2")),
                ],
            ),
            // MID inlines INNER, and SHARED has two callers
            chain("B", vec![rule(10, vec![], jump("MID")), rule(11, vec![], jump("SHARED"))]),
            chain("C", vec![rule(12, vec![], jump("SHARED"))]),
        ]);
        inline(&mut t);
        let texts = |rules: &[&str]| rules.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        assert_eq!(
            listing(&t),
            [
                (
                    "A".to_string(),
                    texts(&[
                        "tcp dport 22 accept comment \"call; own\"",
                        "tcp dport 80 accept",
                        "tcp dport 23 drop",
                        "tcp dport 24 accept"
                    ])
                ),
                ("B".to_string(), texts(&["tcp dport 25 drop", "tcp dport 26 accept"])),
                ("C".to_string(), texts(&["tcp dport 26 accept"])),
            ]
        );
    }

    #[test]
    fn a_verdict_map_copied_into_several_callers_becomes_one_named_map() {
        let jump = |c: &str| Verdict::Jump(c.into());
        let dispatch = |name: &str| {
            let mut rules = vec![service(1, "10.0.0.1", "tcp", "80", "A"), service(2, "10.0.0.2", "udp", "53", "B")];
            super::rules(&mut rules);
            chain(name, rules)
        };
        let mut t = table(vec![
            chain("A", vec![tested(7, "8080", Verdict::Accept)]),
            chain("B", vec![tested(8, "5353", Verdict::Accept)]),
            dispatch("SERVICES"),
            chain("PRE", vec![rule(3, vec![], jump("SERVICES"))]),
            chain("OUT", vec![rule(4, vec![], jump("SERVICES")), tested(5, "22", Verdict::Drop)]),
        ]);
        inline(&mut t);
        let named = "ip daddr . meta l4proto . th dport vmap @SERVICES".to_string();
        assert_eq!(
            listing(&t),
            [
                ("A".to_string(), vec!["tcp dport 8080 accept".to_string()]),
                ("B".to_string(), vec!["tcp dport 5353 accept".to_string()]),
                ("PRE".to_string(), vec![named.clone()]),
                ("OUT".to_string(), vec![named, "tcp dport 22 drop".to_string()]),
            ]
        );
        // one map, shared by both rules
        let maps = t.maps();
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0].elements.len(), 2);
        let (pre, out) = (&t.chains[2].rules[0], &t.chains[3].rules[0]);
        assert!(std::sync::Arc::ptr_eq(pre.vmap.as_ref().unwrap(), out.vmap.as_ref().unwrap()));
        // a map whose key has no nft type ipt writes is not copied: its chain stays
        let mut untyped = dispatch("SERVICES");
        let vmap = untyped.rules[0].vmap.as_mut().unwrap();
        *vmap = std::sync::Arc::new(Vmap { keys: vec![Key::Other("meta mark".into())], ..(**vmap).clone() });
        let mut t = table(vec![
            untyped,
            chain("PRE", vec![rule(3, vec![], jump("SERVICES"))]),
            chain("OUT", vec![rule(4, vec![], jump("SERVICES"))]),
        ]);
        let before = listing(&t);
        inline(&mut t);
        assert_eq!(listing(&t), before);
        // with one caller, the map is moved, not named
        let mut t = table(vec![dispatch("SERVICES"), chain("PRE", vec![rule(3, vec![], jump("SERVICES"))])]);
        inline(&mut t);
        assert!(t.maps().is_empty());
        assert_eq!(
            listing(&t),
            [(
                "PRE".to_string(),
                vec!["ip daddr . meta l4proto . th dport vmap { 10.0.0.1 . tcp . 80 : jump A, 10.0.0.2 . udp . 53 : jump B }"
                    .to_string()]
            )]
        );
    }
}
