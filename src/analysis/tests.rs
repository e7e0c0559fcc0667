//! The unreachable-rule analysis: hand-picked chains, a differential property test against a
//! brute-force walk of a small packet space, and sampled packets on fixtures.

use proptest::prelude::*;

use super::unreachable::{ChainReport, decides, unreachable, unreachable_by_scan, unreachable_in_table};
use crate::load::{LoadOptions, read};
use crate::model::{Chain, Family, Ruleset};
use crate::source::Source;
use crate::space::{Packet, Space};

/// A filter table with a user chain `C` holding `lines` (so that every target is allowed).
fn chain(lines: &[String]) -> Chain {
    let body: String = lines.iter().map(|l| format!("-A C {l}\n")).collect();
    let source = Source::new("test.rules", format!("*filter\n:C - [0:0]\n{body}COMMIT\n"));
    let loaded = read(&source, &LoadOptions { family: Some(Family::Ipv4), ..Default::default() });
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.loads(), "{lines:?}: {errors:?}");
    loaded.ruleset.tables.into_iter().flat_map(|t| t.chains).find(|c| &*c.name == "C").unwrap_or_else(|| {
        panic!("no chain C");
    })
}

fn report(lines: &[&str]) -> ChainReport {
    let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    unreachable(&chain(&lines), &Space::new(Family::Ipv4))
}

/// `(rule, cover, verdict_differs)` of each finding.
fn findings(lines: &[&str]) -> Vec<(usize, Vec<usize>, bool)> {
    let r = report(lines);
    assert!(r.gave_up.is_empty());
    r.unreachable.into_iter().map(|u| (u.rule, u.cover, u.verdict_differs)).collect()
}

#[test]
fn several_rules_cover_a_later_one_together() {
    let f = findings(&[
        "-p tcp --dport 0:1023 -j ACCEPT",
        "-p udp -j DROP",
        "-p tcp --dport 1024:65535 -j ACCEPT",
        "-p tcp -j DROP",
        "-p tcp ! -f -j ACCEPT",
    ]);
    // `-p tcp` also matches later fragments, which have no ports: rule 3 is reachable
    assert_eq!(f, vec![(4, vec![0, 2], false)]);
    let f = findings(&[
        "-p tcp --dport 0:1023 -j ACCEPT",
        "-p tcp --dport 1024:65535 -j ACCEPT",
        "-p tcp --dport 22 -j ACCEPT",
    ]);
    assert_eq!(f, vec![(2, vec![0], false)], "the cover is minimal");
    let f = findings(&[
        "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        "-m conntrack --ctstate NEW -j ACCEPT",
        "-m conntrack --ctstate INVALID -j DROP",
        "-m state --state UNTRACKED -j DROP",
        "-s 10.0.0.0/8 -j LOG",
    ]);
    assert_eq!(f, vec![(4, vec![0, 1, 2, 3], true)]);
}

#[test]
fn only_accept_drop_and_reject_decide() {
    let f =
        findings(&["-p tcp -j LOG", "-p tcp -j RETURN", "-p tcp -j MARK --set-mark 1", "-p tcp --dport 22 -j ACCEPT"]);
    assert!(f.is_empty());
    let f = findings(&["-p tcp -j REJECT --reject-with tcp-reset", "-p tcp --dport 22 -j ACCEPT"]);
    assert_eq!(f, vec![(1, vec![0], true)]);
    // after an unconditional verdict, everything is unreachable
    let f = findings(&["-j DROP", "-s 10.0.0.1 -j ACCEPT", "-j DROP"]);
    assert_eq!(f, vec![(1, vec![0], true), (2, vec![0], false)]);
}

#[test]
fn undecidable_matches_are_treated_soundly() {
    // an earlier rule with an undecidable match covers nothing
    assert!(findings(&["-p tcp -m limit --limit 5/s -j ACCEPT", "-p tcp --dport 22 -j ACCEPT"]).is_empty());
    assert!(findings(&["-m recent --rcheck --name x -j DROP", "-j ACCEPT"]).is_empty());
    // a later one is unreachable when even its decidable part is covered
    let f = findings(&["-p tcp -j ACCEPT", "-p tcp --dport 22 -m limit --limit 5/s -j DROP"]);
    assert_eq!(f, vec![(1, vec![0], true)]);
    // a host name is resolved at load time: undecidable, in either place
    assert!(findings(&["-s localhost -j DROP", "-s 127.0.0.1 -j ACCEPT"]).is_empty());
}

#[test]
fn a_rule_that_matches_nothing_has_an_empty_cover() {
    let f = findings(&["-s 10.0.0.1 -m iprange --src-range 10.0.0.5-10.0.0.9 -j ACCEPT", "-j ACCEPT"]);
    assert_eq!(f, vec![(0, vec![], false)]);
    let f = findings(&["-m mark --mark 0x1 -m mark --mark 0x2 -j DROP"]);
    assert_eq!(f, vec![(0, vec![], false)]);
}

#[test]
fn negations_and_interfaces_cover_exactly() {
    let f = findings(&["-i eth+ -j ACCEPT", "! -i eth+ -j DROP", "-i lo -j ACCEPT"]);
    assert_eq!(f, vec![(2, vec![1], true)]);
    let f = findings(&["-i eth0 -j ACCEPT", "-i eth1 -j ACCEPT", "-i eth+ -j DROP"]);
    assert!(f.is_empty(), "eth2 and eth itself still reach it");
    let f = findings(&["-s 10.0.0.0/9 -j ACCEPT", "! -s 10.0.0.0/8 -j ACCEPT", "-s 10.128.0.0/9 -j DROP", "-j DROP"]);
    assert_eq!(f, vec![(3, vec![0, 1, 2], true)]);
    let f = findings(&["-p tcp --syn -j ACCEPT", "-p tcp ! --syn -j DROP", "-p tcp --dport 80 -j ACCEPT"]);
    assert_eq!(f, vec![(2, vec![0, 1], true)]);
}

#[test]
fn long_chains_differing_in_one_field_use_the_index() {
    // 1500 services, then a shadowed one, then a catch-all nothing covers
    let mut lines: Vec<String> = (0..1500)
        .map(|i| format!("-d 10.{}.{}.1/32 -p tcp --dport {} -j ACCEPT", i / 256, i % 256, 80 + i % 5))
        .collect();
    lines.push("-d 10.0.7.1/32 -p tcp --dport 82 -j DROP".to_string());
    lines.push("-p tcp -j DROP".to_string());
    let started = std::time::Instant::now();
    let r = unreachable(&chain(&lines), &Space::new(Family::Ipv4));
    assert_eq!(r.unreachable.len(), 1);
    assert_eq!((r.unreachable[0].rule, &r.unreachable[0].cover[..]), (1500, &[7][..]));
    assert!(r.gave_up.is_empty());
    // not a benchmark: a generous bound that only a quadratic scan would break in debug builds
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

// ---- the differential property test --------------------------------------------------------

/// A rule over a tiny space: every condition refers to values of [`PACKETS`], so that every
/// real packet behaves like one of them.
#[derive(Clone, Debug)]
struct TinyRule {
    /// 0: 10.0.0.0, 1: 10.0.0.1, 2: 10.0.0.0/31 (both); with `!`.
    src: Option<(bool, u8)>,
    /// 0: eth0, 1: eth1, 2: eth+; with `!`.
    iface: Option<(bool, u8)>,
    /// tcp or udp (true: tcp); with `!`.
    proto: Option<(bool, bool)>,
    /// Only with a positive protocol: 0: `--dport 10`, 1: `--dport 10:11`, 2: `-m multiport
    /// --dports 10,12`; with `!`.
    dport: Option<(bool, u8)>,
    /// A non-empty subset of {NEW (1), ESTABLISHED (2)}; with `!`.
    state: Option<(bool, u8)>,
    /// `--mark 0x1/0x1`; with `!`.
    mark: Option<bool>,
    /// `-m statistic --mode random --probability 0.5`: undecidable.
    random: bool,
    /// 0: ACCEPT, 1: DROP, 2: REJECT, 3: LOG, 4: RETURN.
    target: u8,
}

/// A packet of the tiny space.
#[derive(Clone, Copy, Debug)]
struct TinyPacket {
    src: u8,   // 0, 1, or 2 (10.0.0.2, outside every condition)
    iface: u8, // eth0, eth1, lo, eth2 (under `eth+`, named by no rule)
    proto: u8, // tcp, udp, icmp
    port: Option<u8>,
    state: u8, // NEW, ESTABLISHED, INVALID
    mark: bool,
}

const TARGETS: [&str; 5] = ["ACCEPT", "DROP", "REJECT", "LOG", "RETURN"];
const PORTS: [u8; 4] = [10, 11, 12, 13];

fn bang(invert: bool) -> &'static str {
    if invert { "! " } else { "" }
}

impl TinyRule {
    fn text(&self) -> String {
        let mut t = String::new();
        if let Some((inv, s)) = self.src {
            t += &format!("{}-s {} ", bang(inv), ["10.0.0.0/32", "10.0.0.1/32", "10.0.0.0/31"][s as usize]);
        }
        if let Some((inv, i)) = self.iface {
            t += &format!("{}-i {} ", bang(inv), ["eth0", "eth1", "eth+"][i as usize]);
        }
        if let Some((inv, tcp)) = self.proto {
            let p = if tcp { "tcp" } else { "udp" };
            t += &format!("{}-p {p} ", bang(inv));
            if let (false, Some((pinv, d))) = (inv, self.dport) {
                t += &match d {
                    0 => format!("-m {p} {}--dport 10 ", bang(pinv)),
                    1 => format!("-m {p} {}--dport 10:11 ", bang(pinv)),
                    _ => format!("-m multiport {}--dports 10,12 ", bang(pinv)),
                };
            }
        }
        if let Some((inv, s)) = self.state {
            let names: Vec<&str> =
                [(1, "NEW"), (2, "ESTABLISHED")].iter().filter(|(b, _)| s & b != 0).map(|(_, n)| *n).collect();
            t += &format!("-m conntrack {}--ctstate {} ", bang(inv), names.join(","));
        }
        if let Some(inv) = self.mark {
            t += &format!("-m mark {}--mark 0x1/0x1 ", bang(inv));
        }
        if self.random {
            t += "-m statistic --mode random --probability 0.5 ";
        }
        t + "-j " + TARGETS[self.target as usize]
    }

    /// Whether the decidable conditions hold for `p`.
    fn decidable_match(&self, p: &TinyPacket) -> bool {
        // selector 2 is both values 0 and 1 (a /31) or every `eth` name (`eth+`)
        let src = self.src.is_none_or(|(inv, s)| (if s == 2 { p.src < 2 } else { s == p.src }) != inv);
        let iface = self.iface.is_none_or(|(inv, i)| (if i == 2 { p.iface != 2 } else { i == p.iface }) != inv);
        let proto = self.proto.is_none_or(|(inv, tcp)| (p.proto == if tcp { 0 } else { 1 }) != inv);
        let dport = match (self.proto, self.dport) {
            (Some((false, _)), Some((inv, d))) => p.port.is_some_and(|port| {
                let listed = match d {
                    0 => port == 10,
                    1 => port == 10 || port == 11,
                    _ => port == 10 || port == 12,
                };
                listed != inv
            }),
            _ => true,
        };
        let state = self.state.is_none_or(|(inv, s)| {
            let bit = [1, 2, 0][p.state as usize];
            (s & bit != 0) != inv
        });
        let mark = self.mark.is_none_or(|inv| p.mark != inv);
        src && iface && proto && dport && state && mark
    }

    fn decides(&self) -> bool {
        self.target <= 2
    }
}

/// Every packet of the tiny space: tcp and udp with each port or as a later fragment (no
/// port), and icmp.
fn packets() -> Vec<TinyPacket> {
    let mut all = Vec::new();
    for src in 0..3 {
        for iface in 0..4 {
            for proto in 0..3 {
                let ports: Vec<Option<u8>> =
                    if proto < 2 { PORTS.iter().map(|&p| Some(p)).chain([None]).collect() } else { vec![None] };
                for port in ports {
                    for state in 0..3 {
                        for mark in [false, true] {
                            all.push(TinyPacket { src, iface, proto, port, state, mark });
                        }
                    }
                }
            }
        }
    }
    all
}

fn tiny_rule() -> impl Strategy<Value = TinyRule> {
    (
        proptest::option::of((any::<bool>(), 0u8..3)),
        proptest::option::weighted(0.3, (any::<bool>(), 0u8..3)),
        proptest::option::of((any::<bool>(), any::<bool>())),
        proptest::option::of((any::<bool>(), 0u8..3)),
        proptest::option::weighted(0.4, (any::<bool>(), 1u8..4)),
        proptest::option::weighted(0.3, any::<bool>()),
        proptest::bool::weighted(0.15),
        0u8..5,
    )
        .prop_map(|(src, iface, proto, dport, state, mark, random, target)| TinyRule {
            src,
            iface,
            proto,
            dport,
            state,
            mark,
            random,
            target,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// lint's unreachable set equals a brute-force walk of every packet of the tiny space, and
    /// every reported cover decides every packet that could match the rule.
    #[test]
    fn unreachable_equals_brute_force(rules in proptest::collection::vec(tiny_rule(), 1..9)) {
        let lines: Vec<String> = rules.iter().map(TinyRule::text).collect();
        let report = unreachable(&chain(&lines), &Space::new(Family::Ipv4));
        prop_assert!(report.gave_up.is_empty());
        let packets = packets();
        // a packet reaches rule k when no earlier deciding rule certainly matched it; rule k is
        // reachable when such a packet may match it
        let certain = |j: usize, p: &TinyPacket| rules[j].decides() && !rules[j].random && rules[j].decidable_match(p);
        let expected: Vec<usize> = (0..rules.len())
            .filter(|&k| !packets.iter().any(|p| rules[k].decidable_match(p) && !(0..k).any(|j| certain(j, p))))
            .collect();
        let found: Vec<usize> = report.unreachable.iter().map(|u| u.rule).collect();
        prop_assert_eq!(&found, &expected, "rules:\n{}", lines.join("\n"));
        for u in &report.unreachable {
            for p in packets.iter().filter(|p| rules[u.rule].decidable_match(p)) {
                prop_assert!(u.cover.iter().any(|&j| j < u.rule && certain(j, p)), "cover {:?} of {} misses {:?}", u.cover, u.rule, p);
            }
        }
    }
}

// ---- the shortcuts against the plain scan ----------------------------------------------------

/// Rule bodies that exercise every shortcut: rules no earlier rule can meet (other addresses,
/// ports, interfaces), rules that match nothing, undecidable ones, overlapping ones, several
/// boxes (`--ports`), negations and hulls that span a field.
const BODIES: [&str; 28] = [
    "-d 10.0.0.1/32 -p tcp -m tcp --dport 80",
    "-d 10.0.0.1/32 -p tcp -m tcp --dport 443",
    "-d 10.0.0.2/32 -p tcp -m tcp --dport 80",
    "-d 10.0.0.0/30 -p tcp",
    "-d 10.0.0.0/30",
    "! -d 10.0.0.1/32 -p udp",
    "-s 10.0.0.1/32 -m iprange --src-range 10.0.0.5-10.0.0.9",
    "-m mark --mark 0x1 -m mark --mark 0x2",
    "-s 10.244.0.0/16",
    "! -s 10.244.0.0/16 -d 10.0.0.1/32 -p tcp -m tcp --dport 80",
    "-p tcp -m multiport --ports 80,443",
    "-p tcp -m multiport ! --ports 80,443",
    "-p tcp -m tcp --dport 1:1000",
    "-p tcp -m tcp ! --dport 80",
    "-p tcp -m tcp --tcp-flags SYN,ACK SYN",
    "-p tcp",
    "-f",
    "-f -p tcp",
    "-i eth+",
    "-i eth0 -o eth1",
    "! -i eth0",
    "-m conntrack --ctstate NEW",
    "-m conntrack --ctstate RELATED,ESTABLISHED",
    "-m statistic --mode random --probability 0.5",
    "-m limit --limit 5/s -p tcp",
    "-m addrtype --dst-type LOCAL",
    "-m mark --mark 0x4000/0x4000",
    "",
];

const SCAN_TARGETS: [&str; 7] = ["ACCEPT", "DROP", "REJECT", "LOG", "RETURN", "MARK --set-xmark 0x1/0x1", "D"];

/// A user chain `C` of the given rule bodies and targets, next to a chain `D` to jump to.
fn scan_chain(rules: &[(usize, usize)]) -> Chain {
    let body: String = rules.iter().map(|&(b, t)| format!("-A C {} -j {}\n", BODIES[b], SCAN_TARGETS[t])).collect();
    let source = Source::new("test.rules", format!("*filter\n:C - [0:0]\n:D - [0:0]\n{body}COMMIT\n"));
    let loaded = read(&source, &LoadOptions { family: Some(Family::Ipv4), ..Default::default() });
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.loads(), "{rules:?}: {errors:?}");
    loaded.ruleset.tables.into_iter().flat_map(|t| t.chains).find(|c| &*c.name == "C").expect("chain C")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Skipping the rules no earlier deciding rule can meet, building sets lazily and choosing
    /// candidates by the conditions' hulls change no finding, no cover and no give-up: the
    /// report equals the plain scan's, which builds every set and compares every pair.
    #[test]
    fn shortcuts_give_the_plain_scans_report(
        rules in proptest::collection::vec((0..BODIES.len(), 0..SCAN_TARGETS.len()), 1..24),
    ) {
        let chain = scan_chain(&rules);
        let space = Space::new(Family::Ipv4);
        prop_assert_eq!(unreachable(&chain, &space), unreachable_by_scan(&chain, &space));
    }

    /// The same on the tiny rules of the brute-force test.
    #[test]
    fn shortcuts_give_the_plain_scans_report_on_tiny_rules(rules in proptest::collection::vec(tiny_rule(), 1..12)) {
        let lines: Vec<String> = rules.iter().map(TinyRule::text).collect();
        let chain = chain(&lines);
        let space = Space::new(Family::Ipv4);
        prop_assert_eq!(unreachable(&chain, &space), unreachable_by_scan(&chain, &space));
    }
}

#[test]
fn shortcuts_give_the_plain_scans_report_on_every_fixture_chain() {
    let mut chains = 0;
    let mut found = 0;
    for (name, ruleset) in fixture_rulesets() {
        for table in &ruleset.tables {
            for chain in &table.chains {
                let space = Space::at(table.family, chain.hook());
                let fast = unreachable(chain, &space);
                assert_eq!(fast, unreachable_by_scan(chain, &space), "{name}: {}", chain.name);
                chains += 1;
                found += fast.unreachable.len();
            }
        }
    }
    assert!(chains > 100 && found > 10, "{chains} chains, {found} findings: the fixtures moved?");
}

#[test]
fn shortcuts_give_the_plain_scans_report_on_a_service_chain() {
    // kube-proxy's shape: services by address and port, some rejected, some repeated, then
    // catch-alls
    let mut lines: Vec<String> = Vec::new();
    for i in 0..300 {
        let target = match i % 4 {
            0 => "REJECT",
            1 => "ACCEPT",
            _ => "LOG",
        };
        lines.push(format!("-d 10.0.{}.{}/32 -p tcp -m tcp --dport {} -j {target}", i / 100, i % 100, 80 + i % 3));
        if i % 37 == 0 {
            lines.push(format!("-d 10.0.{}.0/24 -p tcp -m multiport --dports 80,81 -j DROP", i / 100));
        }
    }
    lines.push("-p tcp -m tcp --dport 80:82 -d 10.0.0.0/16 -j DROP".into());
    lines.push("-d 10.0.0.0/16 -j ACCEPT".into());
    let chain = chain(&lines);
    let space = Space::new(Family::Ipv4);
    let fast = unreachable(&chain, &space);
    assert!(fast.unreachable.len() > 100, "{}", fast.unreachable.len());
    assert_eq!(fast, unreachable_by_scan(&chain, &space));
}

// ---- sampled packets on fixtures -------------------------------------------------------------

/// Every fixture that loads, and the unreachable-rule fixture.
fn fixture_rulesets() -> Vec<(String, Ruleset)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<std::path::PathBuf> = ["valid", "space", "lint"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let source = Source::new(p.display().to_string(), text);
            Some((p.display().to_string(), read(&source, &LoadOptions::default()).ruleset))
        })
        .collect()
}

#[test]
fn sampled_packets_of_unreachable_rules_are_decided_earlier() {
    let mut checked = 0;
    for (name, ruleset) in fixture_rulesets() {
        for table in &ruleset.tables {
            for (c, report) in unreachable_in_table(table) {
                let chain = &table.chains[c];
                let space = Space::at(table.family, chain.hook());
                let sets: Vec<_> = chain.rules.iter().map(|r| space.rule(r)).collect();
                for u in &report.unreachable {
                    let samples = sets[u.rule].over.samples(64, u.rule as u64);
                    for p in &samples {
                        let decided = (0..u.rule).find(|&j| {
                            decides(&chain.rules[j].target.kind) && sets[j].under().is_some_and(|s| s.contains(p))
                        });
                        let shown = Packet { family: table.family, point: p };
                        assert!(decided.is_some(), "{name}: {} rule {}: {shown} reaches it", chain.name, u.rule);
                        assert!(
                            u.cover.iter().any(|&j| sets[j].over.contains(p)),
                            "{name}: {} rule {}: no covering rule matches {shown}",
                            chain.name,
                            u.rule
                        );
                    }
                    checked += samples.len();
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} packets checked: the fixture lost its findings?");
}

#[test]
fn a_big_table_gives_the_same_findings_on_any_number_of_threads() {
    use super::unreachable::unreachable_in_table_on;
    // 40 chains of 600 rules: enough to be shared out; every 7th rule repeats an earlier one
    let mut text = String::from("*filter\n");
    for c in 0..40 {
        text.push_str(&format!(":C{c} - [0:0]\n"));
    }
    for c in 0..40 {
        for r in 0..600 {
            let port = if r % 7 == 6 { r - 3 } else { r };
            text.push_str(&format!("-A C{c} -s 10.{c}.{}.0/24 -p tcp --dport {port} -j ACCEPT\n", r % 3));
        }
    }
    text.push_str("COMMIT\n");
    let loaded =
        read(&Source::new("big.rules", text), &LoadOptions { family: Some(Family::Ipv4), ..Default::default() });
    assert!(loaded.loads());
    let table = &loaded.ruleset.tables[0];
    let one = unreachable_in_table_on(table, 1);
    assert!(!one.is_empty(), "the repeats are unreachable");
    for threads in [2, 3, 8] {
        assert_eq!(unreachable_in_table_on(table, threads), one, "{threads} threads");
    }
}
