//! Property: for generated rulesets that load, `parse(fmt(model)) == model`, and `fmt` of `fmt`
//! output is unchanged.
//!
//! The generator writes dumps the way people do (implicit protocol matches, old spellings like `--set-mark`, host masks left out, counters here and there), so that
//! the canonical form `fmt` prints differs from the input and the round trip means something.

use ipt::load::{LoadOptions, load};
use ipt::model::{Family, Ruleset};
use ipt::source::Source;
use proptest::prelude::*;
use proptest::sample::select;

fn v4_addr() -> impl Strategy<Value = String> {
    let octets = (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255);
    let mask = prop_oneof![
        Just(String::new()),
        (0u8..=32).prop_map(|n| format!("/{n}")),
        select(&["/255.255.0.0", "/255.0.255.0", "/0.0.0.0", "/255.255.255.255"][..]).prop_map(str::to_string),
    ];
    (octets, mask).prop_map(|((a, b, c, d), m)| format!("{a}.{b}.{c}.{d}{m}"))
}

fn v6_addr() -> impl Strategy<Value = String> {
    let groups = proptest::collection::vec(0u16..=0xffff, 8);
    let shape = 0..4usize;
    let mask = prop_oneof![Just(String::new()), (0u8..=128).prop_map(|n| format!("/{n}"))];
    (groups, shape, mask).prop_map(|(g, shape, m)| {
        let text = match shape {
            0 => g.iter().map(|x| format!("{x:x}")).collect::<Vec<_>>().join(":"),
            1 => format!("2001:db8::{:x}", g[0]),
            2 => format!("{:x}::", g[0]),
            _ => format!("::ffff:{}.{}.0.1", g[1] & 0xff, g[2] & 0xff),
        };
        format!("{text}{m}")
    })
}

fn neg() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just(""), 1 => Just("! ")]
}

fn port() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u16..=65535).prop_map(|p| p.to_string()),
        (0u16..=1000, 0u16..=2000).prop_map(|(a, b)| format!("{a}:{}", a + b)),
        (1u16..=1000).prop_map(|a| format!(":{a}")),
        (1000u16..=65535).prop_map(|a| format!("{a}:")),
        select(&["domain", "https", "snmp"][..]).prop_map(str::to_string),
    ]
}

/// Matches on the packet's layer 4, with the `-p` they need.
fn l4(family: Family) -> impl Strategy<Value = String> {
    let icmp = if family == Family::Ipv4 {
        select(&["-p icmp --icmp-type echo-request", "-p icmp -m icmp --icmp-type 3/4", "-p icmp ! --icmp-type 8"][..])
    } else {
        select(&["-p ipv6-icmp --icmpv6-type echo-request", "-p icmpv6 -m icmp6 --icmpv6-type 1/4", "-p 58"][..])
    };
    prop_oneof![
        (neg(), port(), neg(), port()).prop_map(|(n1, p1, n2, p2)| format!("-p tcp {n1}--dport {p1} {n2}--sport {p2}")),
        (neg(), port()).prop_map(|(n, p)| format!("-p udp {n}--dport {p}")),
        (neg(), port()).prop_map(|(n, p)| format!("-p udp -m udp {n}--sport {p}")),
        select(
            &[
                "-p tcp --syn",
                "-p tcp ! --syn",
                "-p tcp --tcp-flags SYN,RST SYN",
                "-p tcp -m tcp --tcp-flags ALL NONE",
                "-p tcp --tcp-option 2",
                "-p sctp --dport 5000",
                "-p dccp --sport 1:2",
            ][..]
        )
        .prop_map(str::to_string),
        icmp.prop_map(str::to_string),
        // `! -p all` never matches: iptables refuses it
        (neg(), select(&["tcp", "udp", "6", "17", "47", "esp", "gre"][..])).prop_map(|(n, p)| format!("{n}-p {p}")),
        Just("-p all".to_string()),
        (
            select(&["tcp", "udp"][..]),
            proptest::collection::vec(multiport_port(), 1..5),
            neg(),
            select(&["dports", "sports", "ports"][..])
        )
            .prop_map(|(p, ports, n, which)| format!("-p {p} -m multiport {n}--{which} {}", ports.join(","))),
    ]
}

/// multiport takes no open ranges, nor ranges of one port.
fn multiport_port() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u16..=65535).prop_map(|p| p.to_string()),
        (0u16..=1000, 0u16..=2000).prop_map(|(a, b)| format!("{a}:{}", a + 1 + b)),
        select(&["domain", "https"][..]).prop_map(str::to_string),
    ]
}

fn comment_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _:/.,=-]{0,24}".prop_map(|t| format!("\"{t}\"")),
        "[a-zA-Z0-9_:/.,=-]{1,24}",
        Just(r#""say \"hi\"""#.to_string()),
    ]
}

/// LOG and NFLOG refuse an empty prefix.
fn prefix_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _:/.,=-]{1,24}".prop_map(|t| format!("\"{t}\""))
}

/// Matches that do not depend on the protocol; `incoming`: the chain sees only packets that
/// came in on an interface.
fn other_match(family: Family, incoming: bool) -> BoxedStrategy<String> {
    let common = prop_oneof![
        (neg(), select(&["NEW", "ESTABLISHED,RELATED", "INVALID", "NEW,UNTRACKED", "DNAT,SNAT"][..]))
            .prop_map(|(n, s)| format!("-m conntrack {n}--ctstate {s}")),
        select(&["NEW", "RELATED,ESTABLISHED", "INVALID"][..]).prop_map(|s| format!("-m state --state {s}")),
        (neg(), 0u32..=0xffff, prop_oneof![Just(String::new()), (0u32..=0xff).prop_map(|m| format!("/0x{m:x}"))])
            .prop_map(|(n, v, m)| format!("-m mark {n}--mark 0x{v:x}{m}")),
        (neg(), 0u32..=100).prop_map(|(n, v)| format!("-m connmark {n}--mark {v}")),
        comment_text().prop_map(|c| format!("-m comment --comment {c}")),
        (1u32..=1000, select(&["second", "minute", "s", "m/"][..]), 1u32..=100)
            .prop_map(|(n, unit, b)| format!("-m limit --limit {n}/{} --limit-burst {b}", unit.trim_end_matches('/'))),
        (neg(), select(&["LOCAL", "UNICAST", "MULTICAST", "LOCAL,ANYCAST"][..]), select(&["src", "dst"][..]))
            .prop_map(|(n, t, side)| format!("-m addrtype {n}--{side}-type {t}")),
        (neg(), 0u16..=1500, 0u16..=1500).prop_map(|(n, a, b)| format!("-m length {n}--length {a}:{}", a.max(b))),
        (neg(), select(&["unicast", "broadcast", "multicast"][..]))
            .prop_map(|(n, t)| format!("-m pkttype {n}--pkt-type {t}")),
        (neg(), 0u8..=63).prop_map(|(n, d)| format!("-m dscp {n}--dscp {d}")),
        (1u32..=10, 0u32..=9)
            .prop_map(|(every, packet)| format!("-m statistic --mode nth --every {every} --packet {}", packet % every)),
        (0u32..=1000u32).prop_map(|p| format!("-m statistic --mode random --probability 0.{p:03}")),
        (
            1u32..=5000,
            select(&["sec", "minute", "hour"][..]),
            "[a-z]{1,8}",
            select(&["srcip", "dstip,dstport", ""][..])
        )
            .prop_map(|(n, unit, name, mode)| {
                let mode = if mode.is_empty() { String::new() } else { format!(" --hashlimit-mode {mode}") };
                format!("-m hashlimit --hashlimit-above {n}/{unit} --hashlimit-burst 5{mode} --hashlimit-name {name}")
            }),
        ("[a-z]{1,8}", 1u32..=3600).prop_map(|(name, s)| format!("-m recent --name {name} --rcheck --seconds {s}")),
    ];
    let family_specific = if family == Family::Ipv4 {
        prop_oneof![
            (neg(), 1u8..=255).prop_map(|(n, t)| format!("-m ttl {n}--ttl-eq {t}")),
            (0u8..=255).prop_map(|t| format!("-m ttl --ttl-gt {t}")),
            (neg(), 0u8..=255, 0u8..=255)
                .prop_map(|(n, a, b)| format!("-m iprange {n}--src-range 10.0.{a}.1-10.0.{}.2", a.max(b))),
            (neg(), 0u8..=255).prop_map(|(n, t)| format!("-m tos {n}--tos 0x{t:02x}/0xff")),
        ]
        .boxed()
    } else {
        prop_oneof![
            (neg(), 1u8..=255).prop_map(|(n, t)| format!("-m hl {n}--hl-eq {t}")),
            (0u8..=255).prop_map(|t| format!("-m hl --hl-lt {t}")),
            Just("-m ipv6header --header ipv6-frag --soft".to_string()),
        ]
        .boxed()
    };
    let mac = (neg(), select(&["00:11:22:33:44:55", "aa:BB:cc:dd:ee:ff"][..]))
        .prop_map(|(n, m)| format!("-m mac {n}--mac-source {m}"));
    if incoming {
        prop_oneof![4 => common, 1 => family_specific, 1 => mac].boxed()
    } else {
        prop_oneof![4 => common, 1 => family_specific].boxed()
    }
}

/// Where a rule stands: the table and chain decide which targets and matches load.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Filter,
    NatPre,
    NatPost,
    Mangle,
    Raw,
    /// A user chain in the filter table.
    User,
    /// A user chain in another table.
    OtherUser,
}

fn target(place: Place, family: Family, later_chains: Vec<String>) -> BoxedStrategy<String> {
    let basic = select(&["-j ACCEPT", "-j RETURN", ""][..]).prop_map(str::to_string);
    let log = (prefix_text(), 0u8..=7).prop_map(|(p, l)| format!("-j LOG --log-prefix {p} --log-level {l}"));
    let nflog = (0u16..=10, prefix_text()).prop_map(|(g, p)| format!("-j NFLOG --nflog-group {g} --nflog-prefix {p}"));
    let mut options: Vec<BoxedStrategy<String>> = vec![basic.boxed(), log.boxed(), nflog.boxed()];
    if !later_chains.is_empty() {
        let chains = later_chains.clone();
        options.push(
            (select(chains), any::<bool>())
                .prop_map(|(c, goto)| format!("-{} {c}", if goto { 'g' } else { 'j' }))
                .boxed(),
        );
    }
    let v4 = family == Family::Ipv4;
    match place {
        Place::Filter | Place::User => {
            options.push(Just("-j DROP".to_string()).boxed());
            let with = if v4 {
                select(
                    &["icmp-port-unreachable", "icmp-host-prohibited", "icmp-admin-prohibited", "icmp-net-unreachable"]
                        [..],
                )
            } else {
                select(&["icmp6-port-unreachable", "icmp6-adm-prohibited", "icmp6-addr-unreachable", "no-route"][..])
            };
            options.push(with.prop_map(|w| format!("-j REJECT --reject-with {w}")).boxed());
            options.push(Just("-p tcp -j REJECT --reject-with tcp-reset".to_string()).boxed());
        }
        Place::NatPre => {
            let to = if v4 {
                (0u8..=255, 1u16..=1000, 0u16..=1000)
                    .prop_map(|(o, p, n)| format!("-p tcp -j DNAT --to-destination 192.0.2.{o}:{p}-{}", p + n))
                    .boxed()
            } else {
                (0u16..=0xffff).prop_map(|g| format!("-p tcp -j DNAT --to-destination [2001:db8::{g:x}]:80")).boxed()
            };
            options.push(to);
            options.push((1u16..=65535).prop_map(|p| format!("-p udp -j REDIRECT --to-ports {p}")).boxed());
        }
        Place::NatPost => {
            options.push(Just("-j MASQUERADE".to_string()).boxed());
            options.push(Just("-p tcp -j MASQUERADE --to-ports 1024-65535 --random".to_string()).boxed());
            let to =
                if v4 { "-j SNAT --to-source 198.51.100.1-198.51.100.9" } else { "-j SNAT --to-source 2001:db8::1" };
            options.push(Just(to.to_string()).boxed());
        }
        Place::Mangle => {
            options.push((0u32..=0xffff).prop_map(|m| format!("-j MARK --set-mark 0x{m:x}")).boxed());
            options.push(
                (0u32..=0xff, 0u32..=0xff).prop_map(|(m, k)| format!("-j MARK --set-xmark 0x{m:x}/0x{k:x}")).boxed(),
            );
            options.push(Just("-j CONNMARK --save-mark".to_string()).boxed());
            options.push((0u8..=63).prop_map(|d| format!("-j DSCP --set-dscp {d}")).boxed());
            options.push(Just("-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400".to_string()).boxed());
            options.push(Just("-j DROP".to_string()).boxed());
        }
        Place::Raw => {
            options.push(Just("-j CT --notrack".to_string()).boxed());
            options.push(Just("-j NOTRACK".to_string()).boxed());
            options.push(Just("-j DROP".to_string()).boxed());
        }
        Place::OtherUser => {}
    }
    proptest::strategy::Union::new(options).boxed()
}

/// `dir` is the interface option the chain takes (`i`, `o`, both, or none).
fn rule(place: Place, dir: &'static str, family: Family, later_chains: Vec<String>) -> BoxedStrategy<String> {
    let addr = if family == Family::Ipv4 { v4_addr().boxed() } else { v6_addr().boxed() };
    let src = proptest::option::of((neg(), addr.clone())).prop_map(|o| o.map(|(n, a)| format!("{n}-s {a}")));
    let dst = proptest::option::of((neg(), addr)).prop_map(|o| o.map(|(n, a)| format!("{n}-d {a}")));
    let dirs: Vec<char> = dir.chars().collect();
    let iface = if dirs.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::of((neg(), select(dirs), select(&["eth0", "eth+", "lo", "wg0", "br-1a2b", "+"][..])))
            .prop_map(|o| o.map(|(n, d, i)| format!("{n}-{d} {i}")))
            .boxed()
    };
    let counters =
        proptest::option::of((0u64..1_000_000, 0u64..u64::MAX / 2)).prop_map(|o| o.map(|(p, b)| format!("[{p}:{b}]")));
    let l4 = proptest::option::of(l4(family));
    // `-f` at most once, and IPv4 only
    let fragment = if family == Family::Ipv4 {
        proptest::option::of(select(&["-f", "! -f"][..]).prop_map(str::to_string)).boxed()
    } else {
        Just(None).boxed()
    };
    let others = proptest::collection::vec(other_match(family, dir.contains('i')), 0..3);
    let target = target(place, family, later_chains);
    (counters, src, dst, iface, (fragment, l4), others, target)
        .prop_map(|(counters, src, dst, iface, (fragment, l4), others, target)| {
            // a target that names its own protocol replaces the generated layer 4 matches
            let l4 = if target.starts_with("-p ") { None } else { l4 };
            let words: Vec<String> = [src, dst, iface, fragment, l4]
                .into_iter()
                .flatten()
                .chain(others)
                .chain([target])
                .filter(|w| !w.is_empty())
                .collect();
            let spec = words.join(" ");
            match counters {
                Some(c) => format!("{c} {spec}"),
                None => spec,
            }
        })
        .boxed()
}

fn section(
    table: &'static str,
    places: &'static [(&'static str, Place, &'static str)],
    family: Family,
) -> BoxedStrategy<String> {
    (0usize..3)
        .prop_flat_map(move |users| {
            let user_names: Vec<String> = (0..users).map(|i| format!("USER-{table}-{i}")).collect();
            let mut chains: Vec<BoxedStrategy<(String, Vec<String>)>> = Vec::new();
            for &(chain, place, dir) in places {
                let later = user_names.clone();
                let rules = proptest::collection::vec(rule(place, dir, family, later), 0..4);
                chains.push(rules.prop_map(move |r| (chain.to_string(), r)).boxed());
            }
            for (i, name) in user_names.iter().enumerate() {
                let later = user_names[i + 1..].to_vec();
                let name = name.clone();
                let place = if table == "filter" { Place::User } else { Place::OtherUser };
                let rules = proptest::collection::vec(rule(place, "", family, later), 0..4);
                chains.push(rules.prop_map(move |r| (name.clone(), r)).boxed());
            }
            let policies = proptest::collection::vec(select(&["ACCEPT", "DROP"][..]), places.len());
            (chains, policies, Just(user_names))
        })
        .prop_map(move |(chains, policies, users)| {
            let mut text = format!("*{table}\n");
            for (&(chain, _, _), policy) in places.iter().zip(&policies) {
                let policy = if table == "nat" { "ACCEPT" } else { policy };
                text.push_str(&format!(":{chain} {policy} [0:0]\n"));
            }
            for user in &users {
                text.push_str(&format!(":{user} - [0:0]\n"));
            }
            for (chain, rules) in chains {
                for r in rules {
                    match r.strip_prefix('[') {
                        Some(rest) => {
                            let (counters, spec) = rest.split_once(' ').expect("counters and a rule");
                            text.push_str(&format!("[{counters} -A {chain} {spec}\n"));
                        }
                        None => text.push_str(&format!("-A {chain} {r}\n")),
                    }
                }
            }
            text.push_str("COMMIT\n");
            text
        })
        .boxed()
}

fn dump(family: Family) -> impl Strategy<Value = String> {
    type Chains = &'static [(&'static str, Place, &'static str)];
    const FILTER: Chains =
        &[("INPUT", Place::Filter, "i"), ("FORWARD", Place::Filter, "io"), ("OUTPUT", Place::Filter, "o")];
    const NAT: Chains = &[("PREROUTING", Place::NatPre, "i"), ("POSTROUTING", Place::NatPost, "o")];
    const MANGLE: Chains = &[("PREROUTING", Place::Mangle, "i"), ("FORWARD", Place::Mangle, "io")];
    const RAW: Chains = &[("PREROUTING", Place::Raw, "i"), ("OUTPUT", Place::Raw, "o")];
    let sections = (
        proptest::option::of(section("raw", RAW, family)),
        proptest::option::of(section("mangle", MANGLE, family)),
        proptest::option::of(section("nat", NAT, family)),
        section("filter", FILTER, family),
    );
    (sections, any::<bool>()).prop_map(|((raw, mangle, nat, filter), header)| {
        let mut text =
            if header { "# Generated by iptables-save v1.8.9 on a test\n".to_string() } else { String::new() };
        for s in [raw, mangle, nat, Some(filter)].into_iter().flatten() {
            text.push_str(&s);
        }
        text
    })
}

fn load_clean(text: &str, family: Family) -> Ruleset {
    let loaded =
        load(&Source::new("generated.rules", text), &LoadOptions { family: Some(family), ..Default::default() });
    let problems: Vec<String> =
        loaded.diagnostics.iter().map(|d| format!("{}: {d} at byte {:?}", d.code(), d.offset())).collect();
    assert!(loaded.loads(), "does not load: {problems:?}\n{text}");
    loaded.ruleset
}

fn round_trip(text: &str, family: Family) {
    let model = load_clean(text, family);
    let printed = ipt::fmt::ruleset(&model);
    let reparsed = load_clean(&printed, family);
    assert_eq!(model, reparsed, "fmt changed the model\n--- input\n{text}--- fmt\n{printed}");
    assert_eq!(ipt::fmt::ruleset(&reparsed), printed, "fmt is not idempotent\n--- input\n{text}");
}

// 256 cases each; `PROPTEST_CASES=N` for more
proptest! {
    #[test]
    fn ipv4_rulesets_survive_fmt(text in dump(Family::Ipv4)) {
        round_trip(&text, Family::Ipv4);
    }

    #[test]
    fn ipv6_rulesets_survive_fmt(text in dump(Family::Ipv6)) {
        round_trip(&text, Family::Ipv6);
    }
}
