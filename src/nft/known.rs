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
//! KUBE-MARK-MASQ`): six of its ten expressions, which nft and the kernel parse and load for
//! nothing.
//!
//! Exact: the dropped test holds for every packet that reaches the rule, so the rule matches
//! the same packets. Only rules whose statements need no test before them lose tests (a `dnat
//! to` with a port or a `reject with tcp reset` needs nft to see the protocol test first).

use rustc_hash::FxHashMap as HashMap;

use super::ir::{Expr, Key, Rule, Table, Value};

/// The transport protocols whose ports nft reads at the same offset as `th sport`/`th dport`.
const PORT_PROTOCOLS: [&str; 5] = ["tcp", "udp", "udplite", "sctp", "dccp"];

/// Drops from each rule the tests its chain's callers have all made. The table's chains are in
/// [`super::order_chains`]'s order (callees before callers), so each chain's callers are
/// worked out before it; a caller that is not (no order is assumed to be right) counts as
/// knowing nothing, which only keeps tests.
pub fn drop_known_tests(table: &mut Table) {
    let index: HashMap<&str, usize> = table.chains.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
    // every way into each chain: (chain, caller, rule, map element or NONE)
    const NONE: u32 = u32::MAX;
    let mut ways: Vec<(u32, u32, u32, u32)> = Vec::new();
    for (caller, chain) in table.chains.iter().enumerate() {
        for (r, rule) in chain.rules.iter().enumerate() {
            let way =
                |callee: &str, element: u32| index.get(callee).map(|&c| (c as u32, caller as u32, r as u32, element));
            ways.extend(rule.verdict.as_ref().and_then(|v| v.chain()).and_then(|c| way(c, NONE)));
            if let Some(vmap) = &rule.vmap {
                for (e, (_, verdict)) in vmap.elements.iter().enumerate() {
                    ways.extend(verdict.chain().and_then(|c| way(c, e as u32)));
                }
            }
        }
    }
    ways.sort_unstable();
    let mut known: Vec<Vec<Expr>> = vec![Vec::new(); table.chains.len()];
    for c in (0..table.chains.len()).rev() {
        if table.chains[c].base.is_some() {
            continue;
        }
        let start = ways.partition_point(|w| (w.0 as usize) < c);
        let end = ways.partition_point(|w| (w.0 as usize) <= c);
        let mut common: Option<Vec<Expr>> = None;
        for &(_, caller, r, element) in &ways[start..end] {
            let rule = &table.chains[caller as usize].rules[r as usize];
            let element = (element != NONE).then_some(element as usize);
            let facts = facts(&known[caller as usize], rule, element);
            match &mut common {
                None => common = Some(facts),
                Some(common) => common.retain(|e| facts.contains(e)),
            }
            if common.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        known[c] = common.unwrap_or_default();
    }
    for (chain, known) in table.chains.iter_mut().zip(&known) {
        if known.is_empty() {
            continue;
        }
        for rule in chain.rules.iter_mut().filter(|r| r.stmts.iter().all(|s| free_of_context(s))) {
            let mut drop: Vec<bool> = rule.exprs.iter().map(|e| known.contains(e)).collect();
            // a `tcp dport` or `tcp flags` left: nft would write the protocol test back in
            // before it (and `ipt apply` should load what `nft -f` loads): keep it
            let kept = rule.exprs.iter().zip(&drop).filter(|(_, d)| !**d).map(|(e, _)| e);
            if needs_protocol(kept, rule.vmap.as_deref()) {
                for (e, d) in rule.exprs.iter().zip(&mut drop) {
                    *d &= !matches!(e, Expr::Cmp { key: Key::L4proto, .. });
                }
            }
            let mut drop = drop.into_iter();
            rule.exprs.retain(|_| !drop.next().unwrap_or(false));
        }
    }
}

/// What holds when `rule` sends a packet on (through the map element `element`, if given),
/// in a chain entered knowing `entry`.
fn facts(entry: &[Expr], rule: &Rule, element: Option<usize>) -> Vec<Expr> {
    let mut facts: Vec<Expr> = entry.to_vec();
    facts.extend(rule.exprs.iter().filter(|e| kept(e)).cloned());
    if let (Some(vmap), Some(e)) = (&rule.vmap, element) {
        for (key, value) in vmap.keys.iter().zip(&vmap.elements[e].0) {
            // an element's comment is written after its last value
            let value = value.split(" comment ").next().unwrap_or(value);
            facts.push(Expr::Cmp { key: key.clone(), neg: false, value: Value::One(value.to_string()) });
        }
        facts.retain(kept);
    }
    // `tcp dport 80` is `meta l4proto tcp` and `th dport 80`, and the two give it back
    let protocol = facts.iter().find_map(|f| match f {
        Expr::Cmp { key: Key::L4proto, neg: false, value: Value::One(p) } => PORT_PROTOCOLS.iter().find(|&q| q == p),
        _ => None,
    });
    let mut derived = Vec::new();
    for fact in &facts {
        let Expr::Cmp { key: Key::Port { proto, dst }, neg, value } = fact else { continue };
        let port = |proto| Expr::Cmp { key: Key::Port { proto, dst: *dst }, neg: *neg, value: value.clone() };
        if *proto == "th" {
            derived.extend(protocol.map(|p| port(p)));
        } else {
            derived.push(Expr::Cmp { key: Key::L4proto, neg: false, value: Value::One(proto.to_string()) });
            derived.push(port("th"));
        }
    }
    for fact in derived {
        if !facts.contains(&fact) {
            facts.push(fact);
        }
    }
    facts
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

/// Whether a test is one a callee can rely on: on a field no chain changes under a packet.
fn kept(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Cmp { key: Key::Addr { .. } | Key::L4proto | Key::Port { .. } | Key::Iifname | Key::Oifname, .. }
    )
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

    fn cmp(key: Key, neg: bool, v: &str) -> Expr {
        Expr::Cmp { key, neg, value: Value::One(v.into()) }
    }

    const DADDR: Key = Key::Addr { v6: false, dst: true };
    const SADDR: Key = Key::Addr { v6: false, dst: false };

    fn text(t: &Table, chain: &str) -> Vec<String> {
        let chain = t.chains.iter().find(|c| c.name == chain).expect("the chain");
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
        drop_known_tests(&mut t);
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
        drop_known_tests(&mut t);
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
        drop_known_tests(&mut t);
        assert_eq!(text(&t, "SVC"), before);
        let mut t = services(vec![]);
        let before = text(&t, "SVC");
        drop_known_tests(&mut t);
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
        drop_known_tests(&mut t);
        assert_eq!(
            text(&t, "SVC")[0],
            "meta mark 0x1 ip saddr != 10.244.0.0/16 meta l4proto tcp tcp dport 80 jump MASQ"
        );
    }
}
