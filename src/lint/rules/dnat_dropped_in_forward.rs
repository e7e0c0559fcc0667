use std::net::IpAddr;

use super::live_rules;
use crate::analysis::accepts::{MAX_BOXES, Walker, minus};
use crate::analysis::effect::{Effect, effect, widen};
use crate::ext::nat::{Nat, NatRange};
use crate::lint::{Context, Finding, RuleAt};
use crate::model::{Chain, Family, Hook, Policy, Rule, Table, TableName, TargetKind};
use crate::space::field::{ABSENT_PORT, CubeField, RangeField};
use crate::space::{Cubes, PacketSet, Ranges, Space};

crate::declare_lint! {
    /// ## What it does
    /// Finds a DNAT in the nat table's PREROUTING whose new connections the filter table's
    /// FORWARD chain then drops, every one of them.
    ///
    /// ## Why is this bad?
    /// Port forwarding takes two rules: the DNAT that rewrites the destination, and a FORWARD
    /// rule that lets the rewritten connection through. With only the first, the forward
    /// silently does nothing: connections time out, and the DNAT looks right.
    ///
    /// ipt follows the first packet of each connection the DNAT may translate (everything its
    /// conditions may match, `-m limit` and the like counted as matching), with the
    /// destination address and port it is translated to, conntrack state `NEW` with the `DNAT`
    /// status, any output interface, and the mark, TOS, TTL and length any value (other tables
    /// may change them on the way). FORWARD must certainly drop all of it: a rule that might
    /// accept some (an `ACCEPT`, a queue, a match ipt cannot decide) keeps the lint quiet. The
    /// user chains FORWARD jumps or goes to are followed: what they might accept keeps it
    /// quiet, what they return goes on in FORWARD (after a `-g`, to its policy). A related
    /// connection (an FTP data connection) is not looked at.
    ///
    /// If the translated address is one of the host's own, the connection goes to INPUT, not
    /// FORWARD, and the finding is wrong: ipt cannot know the host's addresses.
    ///
    /// ## Example
    /// ```text
    /// *nat
    /// -A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
    /// COMMIT
    /// *filter
    /// :FORWARD DROP [0:0]
    /// -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// COMMIT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// *nat
    /// -A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
    /// COMMIT
    /// *filter
    /// :FORWARD DROP [0:0]
    /// -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
    /// COMMIT
    /// ```
    pub static LINT = "IPT103", "dnat-dropped-in-forward", Correctness, check;
}

/// Conntrack state values ([`crate::space::state`]): `NEW` with any NAT status, and `NEW`
/// with the `DNAT` status (with `SNAT` or not).
const NEW_ANY: (u128, u128) = (8, 11);
const NEW_DNAT: [(u128, u128); 2] = [(9, 9), (11, 11)];

/// The first packets of the connections `rule` (a DNAT of `family` in PREROUTING) may
/// translate, as FORWARD sees them; `None` when it translates no new connection.
pub fn translated(rule: &Rule, nat: &Nat, family: Family) -> Option<PacketSet> {
    let mut set = Space::at(family, Some(Hook::Prerouting)).rule(rule).over;
    // the nat table sees the first packet of a connection
    set.narrow_range(RangeField::CtState, &Ranges::interval(NEW_ANY.0, NEW_ANY.1));
    if set.is_empty() {
        return None;
    }
    // the kernel sets the DNAT status only when the destination changes
    let mut changes = false;
    if let Some((lo, hi)) = nat.range.addrs {
        let width = CubeField::Dst.width(family);
        let to = match (lo, hi, family) {
            (IpAddr::V4(lo), IpAddr::V4(hi), Family::Ipv4) => {
                Cubes::interval(u32::from(lo) as u128, u32::from(hi) as u128, width)
            }
            (IpAddr::V6(lo), IpAddr::V6(hi), Family::Ipv6) => Cubes::interval(u128::from(lo), u128::from(hi), width),
            _ => return None,
        };
        changes |= set.boxes().iter().all(|b| !b.cube(CubeField::Dst).intersects(&to));
        set = set
            .replace_cube(CubeField::Dst, &to)
            .replace_cube(CubeField::DstType, &Cubes::full(CubeField::DstType.width(family)));
    }
    if let Some((lo, hi)) = nat.range.ports {
        let to = Ranges::interval(lo as u128, hi as u128);
        let mut with_ports = set.clone();
        with_ports.narrow_range(RangeField::Dport, &Ranges::interval(0, ABSENT_PORT - 1));
        let mut without = set.clone();
        without.narrow_range(RangeField::Dport, &Ranges::point(ABSENT_PORT));
        changes |= without.is_empty() && with_ports.boxes().iter().all(|b| !b.range(RangeField::Dport).intersects(&to));
        set = with_ports.replace_range(RangeField::Dport, &to).union(&without);
    }
    let state = if changes { Ranges::from_intervals(NEW_DNAT) } else { Ranges::interval(NEW_ANY.0, NEW_ANY.1) };
    let set = set.replace_range(RangeField::CtState, &state);
    // routing picks the output interface; mangle may change the mark, TOS and length, and
    // forwarding lowers the TTL
    let set = widen(
        &set,
        &[RangeField::OutIface, RangeField::Ttl, RangeField::Length],
        &[CubeField::Mark, CubeField::Connmark, CubeField::Tos],
        family,
    );
    Some(set.intersect(Space::at(family, Some(Hook::Forward)).universe()))
}

/// How FORWARD drops every packet of a set: the rules that drop some (with what they do), and
/// whether the DROP policy gets the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drops {
    pub rules: Vec<(usize, &'static str)>,
    pub policy: bool,
}

/// Whether the filter table's FORWARD chain certainly drops every packet of `packets`, and
/// how; `None` when some packet might get through (or the analysis gives up).
pub fn forward_drops(filter: &Table, forward_index: usize, packets: PacketSet) -> Option<Drops> {
    let family = filter.family;
    let forward = &filter.chains[forward_index];
    let space = Space::at(family, Some(Hook::Forward));
    let walker = Walker::new(filter, Hook::Forward);
    let policy_drops = forward.builtin.is_some_and(|b| b.policy == Policy::Drop);
    let mut left = packets;
    let mut rules = Vec::new();
    // packets a goto's chain returns go to the policy (a DROP: checked where it happens)
    let mut returned_to_policy = false;
    for (r, rule) in live_rules(forward, family).iter().enumerate() {
        if left.is_empty() {
            break;
        }
        let rs = space.rule(rule);
        if !rs.over.intersects(&left) {
            continue;
        }
        match effect(&rule.target.kind) {
            Effect::Accept | Effect::Unknown => return None,
            kind @ (Effect::Jump(name) | Effect::Goto(name)) => {
                // into the user chain: nothing there may accept, and what may come back goes
                // on after the jump (or, after a goto, to the policy)
                let to = filter.chains.iter().position(|c| *c.name == *name)?;
                let met = left.intersect(&rs.over);
                let found = walker.maybe_accepted(to, met.clone()).ok()?;
                if found.accepted.iter().any(|a| !a.is_empty()) {
                    return None;
                }
                let back = found.to_policy;
                let goto = matches!(kind, Effect::Goto(_));
                if goto && !policy_drops && !back.is_empty() {
                    return None;
                }
                if let Some(under) = rs.under() {
                    let taken = met.intersect(under);
                    if !taken.is_empty() && !taken.is_subset(&back) {
                        let all = left.is_subset(under) && back.is_empty();
                        rules.push((
                            r,
                            if all {
                                "jumps to a chain that drops them"
                            } else {
                                "jumps to a chain that drops some of them"
                            },
                        ));
                    }
                    left = minus(left, under).ok()?;
                    if !goto {
                        left = crate::analysis::accepts::plus(&left, &back).ok()?;
                    } else if !back.is_empty() {
                        returned_to_policy = true;
                    }
                }
                if left.boxes().len() > MAX_BOXES {
                    return None;
                }
            }
            Effect::Return if !policy_drops => return None,
            kind @ (Effect::Drop | Effect::Return) => {
                if let Some(under) = rs.under().filter(|u| u.intersects(&left)) {
                    let all = left.is_subset(under);
                    let verb = match (kind, &rule.target.kind, all) {
                        (Effect::Return, _, true) => "returns them to the DROP policy",
                        (Effect::Return, _, false) => "returns some of them to the DROP policy",
                        (_, TargetKind::Reject(_), true) => "rejects them",
                        (_, TargetKind::Reject(_), false) => "rejects some of them",
                        (_, _, true) => "drops them",
                        (_, _, false) => "drops some of them",
                    };
                    rules.push((r, verb));
                    left = minus(left, under).ok()?;
                }
            }
            Effect::Continue { ranges, cubes } => {
                left = widen(&left, ranges, cubes, family);
                if left.boxes().len() > MAX_BOXES {
                    return None;
                }
            }
        }
    }
    if left.is_empty() && !returned_to_policy {
        Some(Drops { rules, policy: false })
    } else if policy_drops {
        Some(Drops { rules, policy: true })
    } else {
        None
    }
}

/// `-A FORWARD ... -j ACCEPT` for the translated connections, as far as the DNAT tells.
fn accept_example(rule: &Rule, range: &NatRange) -> String {
    let mut out = String::from("-A FORWARD");
    match range.addrs {
        Some((lo, hi)) if lo == hi => out.push_str(&format!(" -d {lo}")),
        Some((lo, hi)) => out.push_str(&format!(" -m iprange --dst-range {lo}-{hi}")),
        None => {}
    }
    if let Some(proto) = rule.proto.as_ref().filter(|p| !p.invert) {
        out.push_str(&format!(" -p {}", proto.value));
        if let Some((lo, hi)) = range.ports {
            if lo == hi {
                out.push_str(&format!(" --dport {lo}"));
            } else {
                out.push_str(&format!(" --dport {lo}:{hi}"));
            }
        }
    }
    out.push_str(" -j ACCEPT");
    out
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        if table.name != TableName::Nat {
            continue;
        }
        // the table iptables-restore loads last is the one in force
        let filter = cx.ruleset.tables.iter().rev().find(|f| f.family == table.family && f.name == TableName::Filter);
        let Some(filter) = filter else { continue };
        let Some(forward_index) = filter.chains.iter().position(|c| c.hook() == Some(Hook::Forward)) else { continue };
        let forward = &filter.chains[forward_index];
        let graph = &cx.graphs[t];
        for (c, chain) in table.chains.iter().enumerate() {
            for (r, rule) in chain.rules.iter().enumerate() {
                let TargetKind::Dnat(nat) = &rule.target.kind else { continue };
                // only PREROUTING's walk reaches it: its packets come from outside
                if graph.hooks_of(c, r) != Hook::Prerouting.bit() {
                    continue;
                }
                let Some(packets) = translated(rule, nat, table.family) else { continue };
                let Some(drops) = forward_drops(filter, forward_index, packets) else { continue };
                found.push(finding(RuleAt { table: t, chain: c, rule: r }, rule, nat, filter, forward, &drops));
            }
        }
    }
}

fn finding(
    at: RuleAt,
    rule: &Rule,
    nat: &Nat,
    filter: &crate::model::Table,
    forward: &Chain,
    drops: &Drops,
) -> Finding {
    let to = nat.range.to_string();
    let (to_text, host) = match nat.range.addrs {
        Some((lo, _)) => (format!("`{to}`"), format!("`{lo}`")),
        None => (format!("port `{}`", to.trim_start_matches(':')), "the destination".to_string()),
    };
    let mut finding = Finding::new(
        Some(at),
        rule.span,
        format!("`FORWARD` drops every new connection this DNAT sends to {to_text} ({})", filter.family),
        format!(
            "if {host} is this host's own address, INPUT decides instead (ipt cannot know the host's addresses)"
        ),
    )
    .help(format!(
        "accept the translated connections in `FORWARD` before anything drops them: `-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT`, or `{}`",
        accept_example(rule, &nat.range)
    ));
    for &(r, verb) in &drops.rules {
        finding = finding.related(forward.rules[r].span, verb);
    }
    if drops.policy {
        let label =
            if drops.rules.is_empty() { "the DROP policy drops them" } else { "the DROP policy drops the rest" };
        finding = finding.related(Context::chain_span(filter, forward), label);
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::LINT;
    use crate::lint::rules::findings_on;

    const NAT: &str = "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80\nCOMMIT\n";

    /// The labels of the findings on `NAT` with a filter table whose FORWARD is `forward`.
    fn labels(forward: &str) -> Vec<Vec<String>> {
        let text = format!("{NAT}*filter\n{forward}COMMIT\n");
        findings_on(&LINT, &text).into_iter().map(|f| f.related.into_iter().map(|(_, l)| l).collect()).collect()
    }

    #[test]
    fn user_chains_forward_jumps_to_are_followed() {
        // a chain that drops them, or returns them to the DROP policy
        let drops = ":FORWARD DROP [0:0]\n:fw - [0:0]\n-A FORWARD -j fw\n-A fw -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A fw -p tcp -j DROP\n";
        assert_eq!(labels(drops), [["jumps to a chain that drops them"]]);
        let returns = ":FORWARD DROP [0:0]\n:fw - [0:0]\n-A FORWARD -j fw\n-A fw -p udp -j ACCEPT\n";
        assert_eq!(labels(returns), [["the DROP policy drops them"]]);
        let goto = ":FORWARD DROP [0:0]\n:fw - [0:0]\n-A FORWARD -g fw\n-A FORWARD -j ACCEPT\n-A fw -j LOG\n";
        assert_eq!(labels(goto), [["the DROP policy drops them"]]);
        // but a chain that might accept them keeps the lint quiet, as does a goto's return
        // to an ACCEPT policy
        let accepts = ":FORWARD DROP [0:0]\n:fw - [0:0]\n-A FORWARD -j fw\n-A fw -d 192.168.1.10 -j ACCEPT\n";
        assert!(labels(accepts).is_empty());
        let limited = ":FORWARD DROP [0:0]\n:fw - [0:0]\n-A FORWARD -j fw\n-A fw -m limit --limit 1/s -j ACCEPT\n";
        assert!(labels(limited).is_empty());
        let open = ":FORWARD ACCEPT [0:0]\n:fw - [0:0]\n-A FORWARD -g fw\n-A fw -j LOG\n";
        assert!(labels(open).is_empty());
    }

    #[test]
    fn a_drop_policy_with_no_accept_drops_the_forwarded_connections() {
        assert_eq!(labels(":FORWARD DROP [0:0]\n"), [["the DROP policy drops them"]]);
        let established =
            ":FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -j LOG\n";
        assert_eq!(labels(established), [["the DROP policy drops them"]]);
        // the accept is for another interface, address or port
        for other in ["-i eth1", "-d 192.168.1.11", "-p tcp --dport 8080", "-p udp"] {
            let forward = format!(":FORWARD DROP [0:0]\n-A FORWARD {other} -j ACCEPT\n");
            assert_eq!(labels(&forward).len(), 1, "{other}");
        }
        // a final rule drops them under an ACCEPT policy, two rules drop them together
        let split = ":FORWARD ACCEPT [0:0]\n-A FORWARD -s 10.0.0.0/8 -j DROP\n-A FORWARD ! -s 10.0.0.0/8 -j REJECT\n";
        assert_eq!(labels(split), [["drops some of them", "rejects them"]]);
    }

    #[test]
    fn an_accept_that_might_take_them_keeps_it_quiet() {
        for accept in [
            "-m conntrack --ctstate DNAT -j ACCEPT",
            "-m conntrack --ctstate NEW -j ACCEPT",
            "-d 192.168.1.10 -p tcp --dport 80 -j ACCEPT",
            "-d 192.168.1.0/24 -j ACCEPT",
            "-o eth1 -j ACCEPT",
            "-m limit --limit 1/s -j ACCEPT",
            "-m mark --mark 0x1 -j ACCEPT",
            "-j NFQUEUE --queue-num 1",
        ] {
            let forward = format!(":FORWARD DROP [0:0]\n-A FORWARD {accept}\n");
            assert!(labels(&forward).is_empty(), "{accept}");
        }
        // an ACCEPT policy, and a drop ipt cannot decide, let some through
        assert!(labels(":FORWARD ACCEPT [0:0]\n").is_empty());
        assert!(labels(":FORWARD ACCEPT [0:0]\n-A FORWARD -m limit --limit 1/s -j DROP\n").is_empty());
    }

    #[test]
    fn jumps_and_gotos_are_followed_to_their_end() {
        // (before user chains were followed, any jump kept the lint quiet)
        let forward = ":FORWARD DROP [0:0]\n:USER - [0:0]\n-A FORWARD -j USER\n-A USER -j RETURN\n";
        assert_eq!(labels(forward), [["the DROP policy drops them"]]);
        let goto = ":FORWARD DROP [0:0]\n:USER - [0:0]\n-A FORWARD -p tcp -g USER\n-A USER -j DROP\n";
        assert_eq!(labels(goto), [["jumps to a chain that drops them"]]);
        // a jump that no translated packet takes changes nothing
        let udp = ":FORWARD DROP [0:0]\n:USER - [0:0]\n-A FORWARD -p udp -j USER\n-A USER -j ACCEPT\n";
        assert_eq!(labels(udp).len(), 1);
    }

    #[test]
    fn a_mark_set_before_a_mark_drop_is_not_trusted() {
        // the packets with mark 0x1 that the first drop leaves are marked 0x2 and get through:
        // the drop of mark 0x1 after the MARK drops none of them
        let remark = ":FORWARD ACCEPT [0:0]\n-A FORWARD -m mark ! --mark 0x1 -j DROP\n-A FORWARD -j MARK --set-xmark 0x2/0xffffffff\n-A FORWARD -m mark --mark 0x1 -j DROP\n";
        assert!(labels(remark).is_empty());
        let without = remark.replace("-A FORWARD -j MARK --set-xmark 0x2/0xffffffff\n", "");
        assert_eq!(labels(&without), [["drops some of them", "drops them"]]);
    }

    #[test]
    fn a_translation_that_may_keep_the_destination_may_lack_the_dnat_status() {
        // `-d 192.168.1.10` to itself: the tuple may not change, so no DNAT status is certain
        let text = "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d 192.168.1.0/24 -p tcp -j DNAT --to-destination 192.168.1.10\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m conntrack ! --ctstate DNAT -j ACCEPT\nCOMMIT\n";
        assert!(findings_on(&LINT, text).is_empty());
        let moved = text.replace("-d 192.168.1.0/24", "-d 203.0.113.1");
        assert_eq!(findings_on(&LINT, &moved).len(), 1);
    }

    #[test]
    fn only_prerouting_dnats_of_the_same_family_count() {
        let v6 = "# Generated by ip6tables-save\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        assert!(findings_on(&LINT, &format!("{NAT}{v6}")).is_empty(), "the IPv6 FORWARD is not IPv4's");
        let output = "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j DNAT --to-destination 192.168.1.10\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        assert!(findings_on(&LINT, output).is_empty());
    }

    /// Random FORWARD chains of decidable rules: whenever the analysis says FORWARD drops every
    /// translated connection, each sampled one is dropped when the chain is run on it, MARK
    /// included.
    #[test]
    fn every_sampled_translated_packet_is_dropped_when_the_lint_says_so() {
        use super::{forward_drops, translated};
        use crate::model::{Family, Policy, TargetKind};
        use crate::space::Space;
        use crate::space::field::CubeField;
        let conds = [
            "",
            "-p tcp",
            "-p udp",
            "-p tcp --dport 80",
            "-p tcp ! --dport 80",
            "-d 192.168.1.10",
            "! -d 192.168.1.0/24",
            "-i eth0",
            "-o eth1",
            "-m conntrack --ctstate DNAT",
            "-m conntrack --ctstate NEW",
            "-m conntrack --ctstate ESTABLISHED",
            "-m mark --mark 0x1",
            "-m mark ! --mark 0x2",
            "-m mark --mark 0x2",
        ];
        let targets = [
            "-j ACCEPT",
            "-j DROP",
            "-j REJECT",
            "-j LOG",
            "-j MARK --set-xmark 0x1/0xffffffff",
            "-j MARK --set-xmark 0x2/0xffffffff",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut checked = 0;
        for _ in 0..2000 {
            let policy = if next(2) == 0 { "DROP" } else { "ACCEPT" };
            let mut forward = format!(":FORWARD {policy} [0:0]\n");
            for _ in 0..next(6) {
                forward.push_str(&format!(
                    "-A FORWARD {} {}\n",
                    conds[next(conds.len())],
                    targets[next(targets.len())]
                ));
            }
            let dnat = ["-p tcp --dport 8080", "-i eth0 -p udp", "-d 192.168.1.10 -p tcp"][next(3)];
            let to = ["192.168.1.10:80", "192.168.1.10", "10.1.1.1"][next(3)];
            let text = format!(
                "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING {dnat} -j DNAT --to-destination {to}\nCOMMIT\n*filter\n{forward}COMMIT\n"
            );
            let source = crate::source::Source::new("t.rules", text.clone());
            let loaded = crate::load::read(&source, &crate::load::LoadOptions::default());
            assert!(loaded.loads(), "{text}");
            let nat_rule = &loaded.ruleset.tables[0].chains[0].rules[0];
            let TargetKind::Dnat(nat) = &nat_rule.target.kind else { panic!("{text}") };
            let Some(packets) = translated(nat_rule, nat, Family::Ipv4) else { continue };
            let filter = &loaded.ruleset.tables[1];
            let index = filter.chains.iter().position(|c| &*c.name == "FORWARD").expect("FORWARD");
            let chain = &filter.chains[index];
            if forward_drops(filter, index, packets.clone()).is_none() {
                continue;
            }
            let space = Space::at(Family::Ipv4, Some(crate::model::Hook::Forward));
            let sets: Vec<_> = chain.rules.iter().map(|r| space.rule(r)).collect();
            for mut p in packets.samples(64, checked as u64) {
                let mut verdict = None;
                for (rule, set) in chain.rules.iter().zip(&sets) {
                    assert!(set.exact);
                    if !set.over.contains(&p) {
                        continue;
                    }
                    match &rule.target.kind {
                        TargetKind::Accept => verdict = Some(Policy::Accept),
                        TargetKind::Drop | TargetKind::Reject(_) => verdict = Some(Policy::Drop),
                        TargetKind::Mark(_) => {
                            let v = if source.slice(rule.span).contains("0x1/") { 1 } else { 2 };
                            p.cubes[CubeField::Mark.index()] = v;
                        }
                        _ => {}
                    }
                    if verdict.is_some() {
                        break;
                    }
                }
                let verdict = verdict.or(chain.builtin.map(|b| b.policy));
                assert_eq!(verdict, Some(Policy::Drop), "{text}: {p:?}");
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} packets checked");
    }
}
