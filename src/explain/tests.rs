//! Explain on small rulesets: what the kernel harness cannot show (undecided tests, paths,
//! `--assume`, the two backends' order, states a lone packet cannot have).

use super::{Ask, Backend, CtBase, Event, ExplainError, Fate, Query, explain};
use crate::load::{LoadOptions, load};
use crate::source::Source;

fn ruleset(text: &str) -> crate::model::Ruleset {
    let loaded = load(&Source::new("t.rules", text.to_string()), &LoadOptions::default());
    assert!(loaded.loads(), "{:?}", loaded.diagnostics.iter().map(|d| d.code()).collect::<Vec<_>>());
    loaded.ruleset
}

fn incoming() -> Ask {
    Ask {
        src: Some("203.0.113.7".parse().unwrap()),
        dst: Some("192.0.2.1".parse().unwrap()),
        dport: Some(22),
        in_iface: Some("eth0".into()),
        ..Ask::default()
    }
}

/// `(table, chain, line, verdict)` of the matched rules, and the policies, of each path.
/// An IPv6 packet from 2001:db8:1::2 in on eth0 to `dst`, out on eth1, on a host that is
/// 2001:db8:1::1.
fn ipv6_through(dst: &str) -> Ask {
    Ask {
        src: Some("2001:db8:1::2".parse().unwrap()),
        dst: Some(dst.parse().unwrap()),
        local: vec!["2001:db8:1::1".parse().unwrap()],
        in_iface: Some("eth0".into()),
        out_iface: Some("eth1".into()),
        ..Ask::default()
    }
}

fn trail(e: &super::Explanation) -> Vec<(Vec<String>, Fate)> {
    e.paths
        .iter()
        .map(|p| {
            let steps = p
                .events
                .iter()
                .filter_map(|ev| match ev {
                    Event::Rule(r) if r.matched => {
                        Some(format!("{} {} {} {}", r.table, r.chain, r.line, r.verdict.clone().unwrap_or_default()))
                    }
                    Event::Policy { table, chain, policy, .. } => Some(format!("{table} {chain} policy {policy}")),
                    Event::Skip { table, .. } => Some(format!("{table} skipped")),
                    _ => None,
                })
                .collect();
            (steps, p.fate)
        })
        .collect()
}

const LIMIT: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -m limit --limit 1/s -j ACCEPT\n\
                     -A INPUT -p tcp --dport 22 -m recent --name ssh --rcheck -j REJECT\nCOMMIT\n";

#[test]
fn each_undecided_rule_splits_the_path_and_assume_fixes_it() {
    let rules = ruleset(LIMIT);
    let e = explain(&rules, &Query::new(incoming()).unwrap()).unwrap();
    assert_eq!(
        trail(&e),
        [
            (vec!["filter INPUT 3 accept".to_string()], Fate::Delivered),
            (vec!["filter INPUT 4 reject".to_string()], Fate::Rejected),
            (vec!["filter INPUT policy drop".to_string()], Fate::Dropped),
        ]
    );
    assert_eq!(e.paths[1].choices.iter().map(|c| (c.line, c.holds)).collect::<Vec<_>>(), [(3, false), (4, true)]);
    let mut ask = incoming();
    ask.assume.insert(3, false);
    ask.assume.insert(4, false);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter INPUT policy drop".to_string()], Fate::Dropped)]);
    // an --assume that nothing needed is said
    let mut ask = incoming();
    ask.assume.insert(3, true);
    ask.assume.insert(99, true);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(
        e.assumed.last().map(String::as_str),
        Some("--assume 99=...: no rule on line 99 was undecided on this packet's way")
    );
}

#[test]
fn too_many_undecided_rules_ask_for_assume() {
    let mut text = "*filter\n:INPUT ACCEPT [0:0]\n".to_string();
    for i in 0..6 {
        text.push_str(&format!("-A INPUT -m statistic --mode random --probability 0.5 -j MARK --set-mark {i}\n"));
    }
    text.push_str("COMMIT\n");
    let e = explain(&ruleset(&text), &Query::new(incoming()).unwrap());
    assert!(matches!(e, Err(ExplainError::TooManyPaths { max: 16, .. })), "{e:?}");
}

#[test]
fn an_unknown_input_interface_makes_i_undecided() {
    let rules = ruleset("*filter\n:INPUT DROP [0:0]\n-A INPUT -i eth0 -j ACCEPT\nCOMMIT\n");
    let mut ask = incoming();
    ask.in_iface = None;
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(e.paths.len(), 2);
    let Event::Rule(r) = &e.paths[0].events[1] else { panic!("{:?}", e.paths[0].events) };
    assert_eq!((r.conditions[0].test.as_str(), r.conditions[0].holds), ("-i eth0", None));
}

const SECURITY_AND_NAT: &str = "*nat\n:INPUT ACCEPT [0:0]\n-A INPUT -j LOG\nCOMMIT\n\
                                *security\n:INPUT ACCEPT [0:0]\n-A INPUT -j LOG\nCOMMIT\n";

#[test]
fn the_backends_order_security_and_nat_on_input_differently() {
    let rules = ruleset(SECURITY_AND_NAT);
    let order = |backend| {
        let mut ask = incoming();
        ask.backend = backend;
        let steps = trail(&explain(&rules, &Query::new(ask).unwrap()).unwrap()).remove(0).0;
        steps.into_iter().filter(|s| s.contains("INPUT") && !s.contains("policy")).collect::<Vec<_>>()
    };
    assert_eq!(order(Backend::Nft), ["nat INPUT 3 continue", "security INPUT 7 continue"]);
    assert_eq!(order(Backend::Legacy), ["security INPUT 7 continue", "nat INPUT 3 continue"]);
}

#[test]
fn nat_sees_only_the_first_packet_of_a_connection() {
    let rules =
        ruleset("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j DNAT --to-destination 198.51.100.2\nCOMMIT\n");
    let mut ask = incoming();
    ask.state = Some(CtBase::Established);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["nat skipped".to_string()], Fate::Delivered)]);
    let e = explain(&rules, &Query::new(incoming()).unwrap()).unwrap();
    assert_eq!(e.paths[0].final_packet.dst.as_deref(), Some("198.51.100.2"));
    assert_eq!(e.paths[0].hooks, ["PREROUTING", "FORWARD", "POSTROUTING"]);
}

#[test]
fn return_in_a_built_in_chain_and_the_end_of_a_goto_apply_the_policy() {
    let rules = ruleset(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:x - [0:0]\n-A INPUT -p tcp -j RETURN\n-A INPUT -j ACCEPT\n\
         -A FORWARD -g x\n-A FORWARD -j DROP\nCOMMIT\n",
    );
    let e = explain(&rules, &Query::new(incoming()).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter INPUT 5 return".into(), "filter INPUT policy drop".into()], Fate::Dropped)]);
    let mut ask = incoming();
    ask.local = vec!["192.0.2.99".parse().unwrap()];
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(
        trail(&e),
        [(vec!["filter FORWARD 7 goto:x".into(), "filter FORWARD policy accept".into()], Fate::Forwarded)]
    );
}

#[test]
fn a_family_without_tables_filters_nothing() {
    let rules = ruleset("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 192.0.2.0/24 -j ACCEPT\nCOMMIT\n");
    let ask = Ask { src: Some("2001:db8::1".parse().unwrap()), ..Ask::default() };
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec![], Fate::Delivered)]);
    assert_eq!(e.assumed.last().map(String::as_str), Some("the input has no IPv6 table: no rule filters this packet"));
}

#[test]
fn ipv6_addrtype_needs_every_kind_and_one_route_type() {
    // match_type6: UNICAST and LOCAL must both hold, and so must MULTICAST and UNICAST (never)
    let rules = ruleset(
        "# Generated by ip6tables-save\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n\
         -A INPUT -m addrtype --dst-type UNICAST,LOCAL -j ACCEPT\n\
         -A FORWARD -m addrtype --dst-type UNICAST,LOCAL -j ACCEPT\n-A FORWARD -m addrtype --src-type MULTICAST,UNICAST -j REJECT\nCOMMIT\n",
    );
    let e = explain(&rules, &Query::new(ipv6_through("2001:db8:1::1")).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter INPUT 5 accept".to_string()], Fate::Delivered)]);
    let e = explain(&rules, &Query::new(ipv6_through("2001:db8:3::1")).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter FORWARD policy drop".to_string()], Fate::Dropped)]);
}

#[test]
fn an_ipv4_mapped_ipv6_address_is_not_unicast() {
    // __ipv6_addr_type gives ::ffff:a.b.c.d IPV6_ADDR_MAPPED and no UNICAST bit
    let rules = ruleset(
        "# Generated by ip6tables-save\n*filter\n:FORWARD DROP [0:0]\n\
         -A FORWARD -m addrtype --dst-type UNICAST -j ACCEPT\nCOMMIT\n",
    );
    let e = explain(&rules, &Query::new(ipv6_through("2001:db8:3::1")).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter FORWARD 4 accept".to_string()], Fate::Forwarded)]);
    let e = explain(&rules, &Query::new(ipv6_through("::ffff:198.51.100.9")).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter FORWARD policy drop".to_string()], Fate::Dropped)]);
}

#[test]
fn connmark_needs_a_connection() {
    // raw runs before conntrack: CONNMARK there does nothing, and an INVALID packet has no
    // connection for -m connmark to test (xt_connmark)
    let rules = ruleset(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j CONNMARK --set-mark 0x1\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j CONNMARK --restore-mark\nCOMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m connmark --mark 0x1 -j DROP\n-A INPUT -m connmark ! --mark 0x1 -j DROP\nCOMMIT\n",
    );
    let mut ask = incoming();
    ask.tcp_flags = Some("SYN,ACK".into());
    ask.mark = Some(3);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e)[0].1, Fate::Delivered);
    assert_eq!(e.paths[0].final_packet.mark, 3);
}

#[test]
fn what_routing_throws_away_is_discarded() {
    // DNAT to 127.0.0.1 from outside: a martian destination (route_localnet is off)
    let rules = ruleset(
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j DNAT --to-destination 127.0.0.1:8080\nCOMMIT\n",
    );
    let e = explain(&rules, &Query::new(incoming()).unwrap()).unwrap();
    assert_eq!(e.paths[0].fate, Fate::Discarded);
    // a blackhole route
    let rules = ruleset("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
    let mut ask = incoming();
    ask.local = vec!["192.0.2.99".parse().unwrap()];
    ask.routes = super::routes::parse("blackhole 192.0.2.0/24\n").unwrap();
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(e.paths[0].fate, Fate::Discarded);
}

#[test]
fn back_in_on_lo_nat_is_done_even_without_chains_on_the_way_out() {
    // iptables-nft with no nat OUTPUT or POSTROUTING chain: the nat core still bound the
    // connection on the way out, so nat PREROUTING is skipped on the way back in (as the kernel
    // trace of fixtures/explain/dnat-back-in-on-lo-does-nothing.rules shows)
    let rules = ruleset(
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 22 -j DNAT --to-destination 192.0.2.1:2222\nCOMMIT\n",
    );
    let ask = Ask {
        src: Some("192.0.2.1".parse().unwrap()),
        dst: Some("192.0.2.1".parse().unwrap()),
        dport: Some(22),
        local: vec!["192.0.2.1".parse().unwrap()],
        ..Ask::default()
    };
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["nat skipped".to_string()], Fate::Delivered)]);
    assert_eq!(e.paths[0].final_packet.dport, Some(22));
}

#[test]
fn a_dnat_with_a_base_shifts_the_port() {
    let rules = ruleset(
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j DNAT --to-destination 198.51.100.2:2000-2999/1000\nCOMMIT\n",
    );
    let mut ask = incoming();
    ask.dport = Some(1005);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(e.paths[0].final_packet.dport, Some(2005));
}

#[test]
fn multicast_is_delivered_here_and_is_of_type_multicast() {
    let rules = ruleset(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n-A INPUT -m addrtype --dst-type MULTICAST -j ACCEPT\nCOMMIT\n",
    );
    let ask = Ask {
        src: Some("192.0.2.7".parse().unwrap()),
        dst: Some("224.0.0.251".parse().unwrap()),
        proto: Some("udp".into()),
        dport: Some(5353),
        in_iface: Some("eth0".into()),
        local: vec!["192.0.2.1".parse().unwrap()],
        ..Ask::default()
    };
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter INPUT 4 accept".to_string()], Fate::Delivered)]);
}

#[test]
fn a_ct_template_gives_raw_a_new_connection_and_wins_over_a_later_notrack() {
    let rules = ruleset(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j CT --zone 1\n-A PREROUTING -m conntrack --ctstate NEW -j MARK --set-mark 0x1\n\
         -A PREROUTING -j CT --notrack\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate NEW -m mark --mark 0x1 -j ACCEPT\nCOMMIT\n",
    );
    let e = explain(&rules, &Query::new(incoming()).unwrap()).unwrap();
    assert_eq!(e.paths[0].fate, Fate::Delivered);
}

#[test]
fn a_packet_out_of_ttl_is_not_forwarded() {
    let rules = ruleset("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
    let mut ask = incoming();
    ask.local = vec!["192.0.2.99".parse().unwrap()];
    ask.ttl = Some(1);
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!((e.paths[0].fate, e.paths[0].events.len()), (Fate::Discarded, 0));
}

#[test]
fn a_packet_generated_here_is_of_type_host() {
    let rules = ruleset("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m pkttype --pkt-type multicast -j DROP\nCOMMIT\n");
    let ask = Ask {
        src: Some("192.0.2.1".parse().unwrap()),
        dst: Some("224.0.0.251".parse().unwrap()),
        proto: Some("udp".into()),
        local: vec!["192.0.2.1".parse().unwrap()],
        out_iface: Some("eth0".into()),
        ..Ask::default()
    };
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    assert_eq!(trail(&e), [(vec!["filter OUTPUT policy accept".to_string()], Fate::Sent)]);
}

#[test]
fn a_packet_that_went_out_invalid_is_looked_at_again_back_in_on_lo() {
    // no connection went with it, so raw's CT --notrack takes effect on the way back in
    let rules = ruleset(
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -i lo -j CT --notrack\nCOMMIT\n\
         *filter\n:INPUT DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT\nCOMMIT\n",
    );
    let ask = Ask {
        src: Some("192.0.2.1".parse().unwrap()),
        dst: Some("192.0.2.1".parse().unwrap()),
        tcp_flags: Some("SYN,ACK".into()),
        local: vec!["192.0.2.1".parse().unwrap()],
        ..Ask::default()
    };
    let e = explain(&rules, &Query::new(ask).unwrap()).unwrap();
    let steps = &trail(&e)[0];
    assert_eq!(steps.1, Fate::Delivered);
    assert!(steps.0.contains(&"filter INPUT 9 accept".to_string()), "{steps:?}");
}

#[test]
fn the_text_shortens_long_runs_of_rules_that_do_not_match() {
    let mut text = "*filter\n:INPUT ACCEPT [0:0]\n".to_string();
    for i in 0..40 {
        text.push_str(&format!("-A INPUT -s 198.51.100.{i} -j DROP\n"));
    }
    text.push_str("COMMIT\n");
    let e = explain(&ruleset(&text), &Query::new(incoming()).unwrap()).unwrap();
    let out = super::render(&e);
    assert!(out.contains("    ... 24 more rules that do not match (`--format json` lists them)\n"), "{out}");
    assert_eq!(out.matches("    no    line ").count(), 16);
    // the JSON keeps every one
    assert_eq!(e.paths[0].events.iter().filter(|ev| matches!(ev, Event::Rule(_))).count(), 40);
}
