//! Tests a chain's callers have made already, dropped from the chain's rules.
//!
//! A packet enters a user chain only through a `jump` or `goto` (a rule's verdict, or an
//! element of a verdict map), and only after the calling rule's tests held: the map's key
//! equalled the element, and the rule's other tests passed. The tests on fields no chain changes
//! under a packet (addresses, protocol, ports, interfaces: NAT, the one statement that changes
//! them, ends the chain's evaluation) still hold at every rule of the callee. What holds on
//! every way in is the chain's entry knowledge; a rule of the chain that repeats one of those
//! tests needs not make it again.
//!
//! kube-proxy's service chains are the case in point: each is reached only from the service
//! map's element for its address, protocol and port, and its first rule tests all three again
//! (`ip saddr != 10.244.0.0/16 ip daddr 172.30.0.1 meta l4proto tcp tcp dport 80 jump
//! KUBE-MARK-MASQ`): six of its nine kernel expressions, which nft and the kernel parse and
//! load for nothing.
//!
//! Exact: the dropped test holds for every packet that reaches the rule, so the rule matches
//! the same packets. Only rules whose statements need no test before them lose tests (a `dnat
//! to` with a port or a `reject with tcp reset` needs nft to see the protocol test first).

use super::ir::{Expr, Key, Reference, Rule, Table, Value};

/// The transport protocols whose ports nft reads at the same offset as `th sport`/`th dport`.
const PORT_PROTOCOLS: [&str; 5] = ["tcp", "udp", "udplite", "sctp", "dccp"];

/// A field no chain changes under a packet: the keys a known test can be on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Addr { v6: bool, dst: bool },
    L4proto,
    Port { proto: &'static str, dst: bool },
    Iifname,
    Oifname,
}

impl Field {
    fn of(key: &Key) -> Option<Field> {
        Some(match *key {
            Key::Addr { v6, dst } => Field::Addr { v6, dst },
            Key::L4proto => Field::L4proto,
            Key::Port { proto, dst } => Field::Port { proto, dst },
            Key::Iifname => Field::Iifname,
            Key::Oifname => Field::Oifname,
            Key::Other(_) => None?,
        })
    }
}

/// A test's value: a rule's, or a map element's (one value, as text).
#[derive(Clone, Copy)]
enum Operand<'a> {
    Rule(&'a Value),
    Element(&'a str),
}

impl Operand<'_> {
    fn one(&self) -> Option<&str> {
        match self {
            Operand::Rule(Value::One(v)) => Some(v),
            Operand::Rule(Value::Set(_)) => None,
            Operand::Element(v) => Some(v),
        }
    }
}

impl PartialEq for Operand<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Operand::Rule(a), Operand::Rule(b)) => a == b,
            _ => self.one().is_some_and(|a| other.one() == Some(a)),
        }
    }
}

/// One test known to hold: `FIELD VALUE` or `FIELD != VALUE`, borrowed from the table.
#[derive(Clone, Copy, PartialEq)]
struct Fact<'a> {
    field: Field,
    neg: bool,
    value: Operand<'a>,
}

impl<'a> Fact<'a> {
    /// The test a rule makes, if a callee can rely on it.
    fn of(expr: &'a Expr) -> Option<Fact<'a>> {
        match expr {
            Expr::Cmp { key, neg, value } => {
                Some(Fact { field: Field::of(key)?, neg: *neg, value: Operand::Rule(value) })
            }
            _ => None,
        }
    }
}

/// Drops from each rule the tests its chain's callers have all made. The table's chains are in
/// [`super::order_chains`]'s order (callees before callers), so each chain's callers are
/// worked out before it; a caller that is not (no order is assumed to be right) counts as
/// knowing nothing, which only keeps tests. `references` are the ways into the chains
/// ([`super::ir::references`]), by the chains' places in the table as it is.
pub fn drop_known_tests(table: &mut Table, references: Vec<Reference>) {
    let drops = known_tests(table, references);
    for (c, r, mut drop) in drops {
        let exprs = &mut table.chains[c as usize].rules[r as usize].exprs;
        exprs.retain(|_| {
            let gone = drop & 1 != 0;
            drop >>= 1;
            !gone
        });
    }
}

/// The tests to drop: (chain, rule, a bit per test of the rule, the first the lowest).
fn known_tests(table: &Table, references: Vec<Reference>) -> Vec<(u32, u32, u64)> {
    // a pass over every rule is memory bound: big tables are read on every core
    let runs = crate::threads::chain_runs(table.chains.iter().map(|c| c.rules.len()), crate::threads::count());
    // every way into each chain, (caller, rule, map element or NONE), chain by chain: those into
    // chain `c` are `ways[starts[c]..starts[c + 1]]` (a counting sort by callee: what a chain
    // knows does not depend on the order of its ways in)
    const NONE: u32 = Reference::VERDICT;
    let mut starts = vec![0usize; table.chains.len() + 1];
    for r in &references {
        starts[r.callee as usize + 1] += 1;
    }
    for c in 1..starts.len() {
        starts[c] += starts[c - 1];
    }
    let mut ways = vec![(0u32, 0u32, 0u32); references.len()];
    let mut next = starts.clone();
    for r in &references {
        let at = &mut next[r.callee as usize];
        ways[*at] = (r.caller, r.rule, r.element);
        *at += 1;
    }
    // what each chain knows on entry, callers first: an index into `lists`, which chains
    // share where a way in adds nothing (an endpoint chain knows what its service chain knew)
    let mut lists: Vec<Vec<Fact<'_>>> = vec![Vec::new()];
    let mut known: Vec<u32> = vec![0; table.chains.len()];
    let (mut facts, mut common) = (Vec::new(), Vec::new());
    for c in (0..table.chains.len()).rev() {
        let start = starts[c];
        let into = &ways[start..starts[c + 1]];
        // the ways into the chains a few further on: their calling rules, then those rules'
        // tests (each an allocation of its own, read in no order the processor can guess)
        if let Some(&(caller, r, _)) = start.checked_sub(16).map(|i| &ways[i]) {
            let rule = table.chains[caller as usize].rules.as_ptr().wrapping_add(r as usize);
            crate::memory::prefetch(rule);
            crate::memory::prefetch(rule.cast::<u8>().wrapping_add(64));
        }
        if let Some(&(caller, r, element)) = start.checked_sub(6).map(|i| &ways[i]) {
            let rule = &table.chains[caller as usize].rules[r as usize];
            crate::memory::prefetch(rule.exprs.as_ptr());
            if let Some(vmap) = &rule.vmap
                && let Some((values, _)) = vmap.elements.get(element as usize)
            {
                crate::memory::prefetch(values.as_ptr());
            }
        }
        if table.chains[c].base.is_some() || into.is_empty() {
            continue;
        }
        common.clear();
        let mut shared = None;
        for (i, &(caller, r, element)) in into.iter().enumerate() {
            let rule = &table.chains[caller as usize].rules[r as usize];
            let element = (element != NONE).then_some(element as usize);
            let entry = &lists[known[caller as usize] as usize];
            facts.clear();
            facts.extend_from_slice(entry);
            facts_of(rule, element, &mut facts);
            if into.len() == 1 && facts.len() == entry.len() {
                shared = Some(known[caller as usize]);
                break;
            }
            if i == 0 {
                common.extend_from_slice(&facts);
            } else {
                common.retain(|f| facts.contains(f));
            }
            if common.is_empty() {
                break;
            }
        }
        known[c] = match shared {
            Some(list) => list,
            None if common.is_empty() => 0,
            None => {
                lists.push(common.clone());
                (lists.len() - 1) as u32
            }
        };
    }
    let (known, lists) = (&known, &lists);
    crate::threads::side_by_side(runs, |chains| {
        let mut drops = Vec::new();
        for c in chains.filter(|&c| known[c] != 0) {
            let known = &lists[known[c] as usize];
            for (r, rule) in table.chains[c].rules.iter().enumerate() {
                if let Some(drop) = known_in(rule, known) {
                    drops.push((c as u32, r as u32, drop));
                }
            }
        }
        drops
    })
    .concat()
}

/// The tests of `rule` that `known` holds (a bit per test, the first the lowest), if any is
/// to go.
fn known_in(rule: &Rule, known: &[Fact<'_>]) -> Option<u64> {
    if rule.exprs.len() > 64 {
        return None;
    }
    let mut drop = 0u64;
    for (i, e) in rule.exprs.iter().enumerate() {
        if Fact::of(e).is_some_and(|f| known.contains(&f)) {
            drop |= 1 << i;
        }
    }
    if drop == 0 || !rule.stmts.iter().all(|s| free_of_context(s)) {
        return None;
    }
    // a `tcp dport` or `tcp flags` left: nft would write the protocol test back in before it
    // (and `ipt apply` should load what `nft -f` loads): keep it
    let left = rule.exprs.iter().enumerate().filter(|(i, _)| drop & (1 << i) == 0).map(|(_, e)| e);
    if needs_protocol(left, rule.vmap.as_deref()) {
        for (i, e) in rule.exprs.iter().enumerate() {
            if matches!(e, Expr::Cmp { key: Key::L4proto, .. }) {
                drop &= !(1 << i);
            }
        }
    }
    (drop != 0).then_some(drop)
}

/// Adds what holds when `rule` sends a packet on (through the map element `element`, if
/// given) to `facts`, which holds what its chain knew on entry.
fn facts_of<'a>(rule: &'a Rule, element: Option<usize>, facts: &mut Vec<Fact<'a>>) {
    facts.extend(rule.exprs.iter().filter_map(Fact::of));
    if let (Some(vmap), Some(e)) = (&rule.vmap, element) {
        for (key, value) in vmap.keys.iter().zip(&vmap.elements[e].0) {
            // an element's comment is written after its last value
            let value = super::ir::element_value(value);
            if let Some(field) = Field::of(key) {
                facts.push(Fact { field, neg: false, value: Operand::Element(value) });
            }
        }
    }
    // `tcp dport 80` is `meta l4proto tcp` and `th dport 80`, and the two give it back
    let protocol = facts.iter().find_map(|f| match f {
        Fact { field: Field::L4proto, neg: false, value } => {
            PORT_PROTOCOLS.iter().copied().find(|p| *value == Operand::Element(p))
        }
        _ => None,
    });
    for i in 0..facts.len() {
        let Fact { field: Field::Port { proto, dst }, neg, value } = facts[i] else { continue };
        let port = |proto| Fact { field: Field::Port { proto, dst }, neg, value };
        let derived = if proto == "th" {
            [protocol.map(port), None]
        } else {
            [Some(Fact { field: Field::L4proto, neg: false, value: Operand::Element(proto) }), Some(port("th"))]
        };
        for fact in derived.into_iter().flatten() {
            if !facts.contains(&fact) {
                facts.push(fact);
            }
        }
    }
}

/// Whether nft takes a statement in a rule without tests before it: setting a mark, a
/// priority or the trace flag, logging, not tracking. (A `dnat to` with a port, a `reject with
/// tcp reset`, a header field set, need to follow the test of the protocol or family.)
fn free_of_context(stmt: &str) -> bool {
    ["meta mark set ", "meta priority set ", "meta nftrace set ", "ct mark set ", "log", "notrack"]
        .iter()
        .any(|p| stmt.starts_with(p))
}

/// Whether a rule tests a header that only one protocol has (`tcp dport`, `tcp flags`,
/// `icmp type`): nft tests the protocol before it, written or not. Tests known to need none:
/// addresses and interfaces, `th` ports, and the IP, meta, conntrack, numgen, limit and quota
/// tests ipt writes as text.
fn needs_protocol<'e>(mut exprs: impl Iterator<Item = &'e Expr>, vmap: Option<&super::ir::Vmap>) -> bool {
    let text_needs = |t: &str| {
        !["ip ", "ip6 ", "meta ", "ct ", "numgen ", "limit ", "quota ", "fib ", "exthdr ", "frag ", "@nh,"]
            .iter()
            .any(|p| t.starts_with(p))
    };
    let key_needs = |k: &Key| match k {
        Key::Port { proto, .. } => *proto != "th",
        Key::Other(t) => text_needs(t),
        Key::Addr { .. } | Key::L4proto | Key::Iifname | Key::Oifname => false,
    };
    exprs.any(|e| match e {
        Expr::Cmp { key, .. } => key_needs(key),
        Expr::Concat { keys, .. } => keys.iter().any(key_needs),
        Expr::Text(t) | Expr::Effect(t) => text_needs(t),
    }) || vmap.is_some_and(|v| v.keys.iter().any(key_needs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::ir::{Chain, NftFamily, Origin, Verdict, Vmap};

    fn rule(exprs: Vec<Expr>, verdict: Verdict) -> Rule {
        let mut r = Rule::new(Origin { input: 0, line: crate::source::Line(1) });
        r.exprs = exprs;
        r.verdict = Some(verdict);
        r
    }

    fn drop_known(t: &mut Table) {
        let references = crate::nft::ir::references(&t.chains);
        drop_known_tests(t, references);
    }

    fn cmp(key: Key, neg: bool, v: &str) -> Expr {
        Expr::Cmp { key, neg, value: Value::One(v.into()) }
    }

    const DADDR: Key = Key::Addr { v6: false, dst: true };
    const SADDR: Key = Key::Addr { v6: false, dst: false };

    fn text(t: &Table, chain: &str) -> Vec<String> {
        t.chains.iter().find(|c| c.name == chain).expect("the chain").rule_texts()
    }

    /// A service chain as kube-proxy writes it, reached from a map, and an endpoint chain it
    /// calls.
    fn services(callers: Vec<Chain>) -> Table {
        let jump = |c: &str| Verdict::Jump(c.into());
        let svc_test = |port: &str| {
            vec![
                cmp(SADDR, true, "10.244.0.0/16"),
                cmp(DADDR, false, "172.30.0.1"),
                cmp(Key::L4proto, false, "tcp"),
                cmp(Key::Port { proto: "tcp", dst: true }, false, port),
            ]
        };
        let mut svc_rules = vec![rule(svc_test("80"), jump("MASQ")), rule(svc_test("81"), jump("MASQ"))];
        let mut to_sep = rule(vec![Expr::Effect("numgen random mod 2 < 1".into())], jump("SEP"));
        to_sep.exprs.push(cmp(DADDR, false, "172.30.0.1"));
        svc_rules.push(to_sep);
        let mut sep_dnat = rule(vec![cmp(Key::L4proto, false, "tcp")], Verdict::Accept);
        sep_dnat.stmts.push("dnat to 10.180.0.1:8080".into());
        sep_dnat.verdict = None;
        let mut chains = vec![
            Chain { name: "MASQ".into(), base: None, rules: vec![] },
            Chain {
                name: "SEP".into(),
                base: None,
                rules: vec![
                    rule(vec![cmp(SADDR, false, "10.180.0.1"), cmp(Key::L4proto, false, "tcp")], jump("MASQ")),
                    sep_dnat,
                ],
            },
            Chain { name: "SVC".into(), base: None, rules: svc_rules },
        ];
        chains.extend(callers);
        Table { family: NftFamily::Ip, name: "t".into(), chains }
    }

    fn dispatch(name: &str, element: &str) -> Chain {
        let mut r = rule(vec![cmp(Key::L4proto, false, "tcp")], Verdict::Accept);
        r.verdict = None;
        r.vmap = Some(std::sync::Arc::new(Vmap {
            keys: vec![DADDR, Key::Port { proto: "th", dst: true }],
            elements: vec![
                (vec!["172.30.0.1".into(), format!("{element} comment \"svc\"")], Verdict::Jump("SVC".into())),
                (vec!["172.30.0.2".into(), "80".into()], Verdict::Jump("OTHER".into())),
            ],
            name: None,
        }));
        Chain { name: name.into(), base: None, rules: vec![r] }
    }

    #[test]
    fn a_chain_reached_from_a_map_element_does_not_test_the_element_again() {
        let mut t = services(vec![dispatch("PRE", "80"), dispatch("OUT", "80")]);
        drop_known(&mut t);
        assert_eq!(
            text(&t, "SVC"),
            [
                "ip saddr != 10.244.0.0/16 jump MASQ",
                // another port: only what is known goes, and the protocol test stays before
                // `tcp dport` (nft would put it back)
                "ip saddr != 10.244.0.0/16 meta l4proto tcp tcp dport 81 jump MASQ",
                "numgen random mod 2 < 1 jump SEP",
            ]
        );
        // known in SEP through SVC: its own tests, what SVC knew, and what the jump to it tested;
        // a rule with a statement keeps its tests
        assert_eq!(text(&t, "SEP"), ["ip saddr 10.180.0.1 jump MASQ", "meta l4proto tcp dnat to 10.180.0.1:8080"]);
    }

    #[test]
    fn only_what_every_caller_tested_is_known() {
        // the second caller's element has another port: the port is tested again, the rest not
        let mut t = services(vec![dispatch("PRE", "80"), dispatch("OUT", "8080")]);
        drop_known(&mut t);
        assert_eq!(
            text(&t, "SVC")[..2],
            [
                "ip saddr != 10.244.0.0/16 meta l4proto tcp tcp dport 80 jump MASQ",
                "ip saddr != 10.244.0.0/16 meta l4proto tcp tcp dport 81 jump MASQ"
            ]
        );
        // a base chain knows nothing, nor does a chain nothing calls
        let mut t = services(vec![]);
        t.chains[2].base = Some(crate::nft::ir::Base {
            kind: "nat",
            hook: "prerouting",
            priority: -100,
            policy: crate::model::Policy::Accept,
        });
        let before = text(&t, "SVC");
        drop_known(&mut t);
        assert_eq!(text(&t, "SVC"), before);
        let mut t = services(vec![]);
        let before = text(&t, "SVC");
        drop_known(&mut t);
        assert_eq!(text(&t, "SVC"), before);
        // a test on a field a chain may change (a mark) is not known to the callee
        let mut t = services(vec![]);
        let mut marked = rule(
            vec![cmp(Key::Other("meta mark".into()), false, "0x1"), cmp(DADDR, false, "172.30.0.1")],
            Verdict::Jump("SVC".into()),
        );
        marked.comment = None;
        t.chains[2].rules[0].exprs.insert(0, cmp(Key::Other("meta mark".into()), false, "0x1"));
        t.chains.push(Chain { name: "IN".into(), base: None, rules: vec![marked] });
        drop_known(&mut t);
        assert_eq!(
            text(&t, "SVC")[0],
            "meta mark 0x1 ip saddr != 10.244.0.0/16 meta l4proto tcp tcp dport 80 jump MASQ"
        );
    }
}
