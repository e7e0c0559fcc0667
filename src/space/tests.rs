//! The algebra on real rules: each rule loaded by the real loader, then compared as sets.

use super::field::{ABSENT_PORT, CubeField, RangeField};
use super::{PacketSet, Point, RuleSpace, Space};
use crate::load::{LoadOptions, read};
use crate::model::{Family, Hook, Rule};
use crate::source::Source;

/// The rules of `-A FORWARD` lines (in the filter table of `family`), each loaded.
fn rules(family: Family, lines: &[&str]) -> Vec<Rule> {
    let body: String = lines.iter().map(|l| format!("-A FORWARD {l}\n")).collect();
    let source = Source::new("test.rules", format!("*filter\n{body}COMMIT\n"));
    let loaded = read(&source, &LoadOptions { family: Some(family), ..Default::default() });
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(loaded.loads(), "{lines:?}: {errors:?}");
    loaded.ruleset.tables.into_iter().flat_map(|t| t.chains).flat_map(|c| c.rules).collect()
}

fn space4(lines: &[&str]) -> Vec<RuleSpace> {
    let space = Space::new(Family::Ipv4);
    rules(Family::Ipv4, lines).iter().map(|r| space.rule(r)).collect()
}

fn set4(line: &str) -> PacketSet {
    space4(&[line]).remove(0).over
}

fn set6(line: &str) -> PacketSet {
    let space = Space::new(Family::Ipv6);
    space.rule(&rules(Family::Ipv6, &[line])[0]).over
}

fn same(a: &PacketSet, b: &PacketSet) -> bool {
    a.is_subset(b) && b.is_subset(a)
}

fn all4() -> PacketSet {
    Space::new(Family::Ipv4).universe().clone()
}

#[test]
fn negation_is_the_complement_within_the_universe() {
    for (pos, neg) in [
        ("-s 10.0.0.0/8", "! -s 10.0.0.0/8"),
        ("-s 10.1.2.3/255.0.255.0", "! -s 10.1.2.3/255.0.255.0"),
        ("-p tcp", "! -p tcp"),
        ("-i eth+", "! -i eth+"),
        ("-o eth0", "! -o eth0"),
        ("-f", "! -f"),
        ("-m mark --mark 0x4000/0x4000", "-m mark ! --mark 0x4000/0x4000"),
        ("-m conntrack --ctstate NEW,DNAT", "-m conntrack ! --ctstate NEW,DNAT"),
        ("-m state --state ESTABLISHED", "-m state ! --state ESTABLISHED"),
        ("-m iprange --dst-range 10.0.0.5-10.0.0.200", "-m iprange ! --dst-range 10.0.0.5-10.0.0.200"),
        ("-m length --length 100:200", "-m length ! --length 100:200"),
        ("-m ttl --ttl-eq 64", "-m ttl ! --ttl-eq 64"),
        ("-m dscp --dscp 10", "-m dscp ! --dscp 10"),
        ("-m tos --tos 0x10/0x3f", "-m tos ! --tos 0x10/0x3f"),
        ("-m addrtype --dst-type LOCAL,BROADCAST", "-m addrtype ! --dst-type LOCAL,BROADCAST"),
        ("-m pkttype --pkt-type broadcast", "-m pkttype ! --pkt-type broadcast"),
    ] {
        let (a, b) = (set4(pos), set4(neg));
        assert!(!a.is_empty() && !b.is_empty(), "{pos}");
        assert!(!a.intersects(&b), "{pos} and {neg} overlap");
        assert!(same(&a.union(&b), &all4()), "{pos} or {neg} is not everything");
    }
}

#[test]
fn negated_header_fields_stay_among_packets_that_have_them() {
    // `! --dport 22` matches tcp first fragments with another port: not udp, not fragments
    let tcp = set4("-p tcp");
    let dport = set4("-p tcp --dport 22");
    let not_dport = set4("-p tcp ! --dport 22");
    let first_fragments = set4("-p tcp ! -f");
    assert!(!dport.intersects(&not_dport));
    assert!(same(&dport.union(&not_dport), &first_fragments));
    assert!(first_fragments.is_subset(&tcp) && !tcp.is_subset(&first_fragments));
    assert!(set4("-p tcp -f --dport 22").is_empty(), "a later fragment has no ports");
    assert!(set4("-p tcp -f -m multiport ! --dports 22").is_empty());
    // the ICMP type exists only in ICMP, and `any` is every type
    assert!(same(&set4("-p icmp --icmp-type any"), &set4("-p icmp ! -f")));
    assert!(set4("-p icmp ! --icmp-type any").is_empty());
    let unreach = set4("-p icmp --icmp-type destination-unreachable");
    assert!(set4("-p icmp --icmp-type port-unreachable").is_subset(&unreach));
    assert!(same(&unreach.union(&set4("-p icmp ! --icmp-type destination-unreachable")), &set4("-p icmp ! -f")));
    // the tcp flags exist only in tcp
    let syn = set4("-p tcp --syn");
    let not_syn = set4("-p tcp ! --syn");
    assert!(!syn.intersects(&not_syn));
    assert!(same(&syn.union(&not_syn), &first_fragments));
    assert!(set4("-p tcp --tcp-flags SYN,ACK SYN,ACK").is_subset(&not_syn));
    // a MAC test fails on a device without one, `!` or not
    let mac = set4("-m mac --mac-source 00:11:22:33:44:55");
    let not_mac = set4("-m mac ! --mac-source 00:11:22:33:44:55");
    assert!(!mac.intersects(&not_mac) && !same(&mac.union(&not_mac), &all4()));
}

#[test]
fn port_ranges_and_lists_cover_exactly() {
    let low = set4("-p tcp --dport 0:1023");
    let high = set4("-p tcp --dport 1024:65535");
    let tcp = set4("-p tcp -m tcp");
    assert!(same(&low.union(&high), &tcp));
    assert!(tcp.subtract(&low).subtract(&high).is_empty());
    assert!(!tcp.subtract(&set4("-p tcp --dport 1:1023")).subtract(&high).is_empty(), "port 0 is left");
    // multiport: a list, its negation, and --ports (either port)
    let list = set4("-p udp -m multiport --dports 53,67:68,123");
    assert!(same(&list, &set4("-p udp -m multiport --dports 53,67,68,123")));
    assert!(same(&list.union(&set4("-p udp -m multiport ! --dports 53,67:68,123")), &set4("-p udp -m udp")));
    let either = set4("-p tcp -m multiport --ports 22");
    assert!(same(&either, &set4("-p tcp --sport 22").union(&set4("-p tcp --dport 22"))));
    let neither = set4("-p tcp -m multiport ! --ports 22");
    assert!(same(&neither, &set4("-p tcp ! --sport 22 ! --dport 22")));
    assert!(same(&either.union(&neither), &tcp));
    // the boundaries
    assert!(set4("-p tcp --dport 65535").is_subset(&high));
    assert!(set4("-p tcp --dport 0").is_subset(&low));
    assert!(set4("-p tcp ! --dport 0:65535").is_empty());
}

#[test]
fn addresses_prefixes_masks_and_ranges() {
    let net = set4("-s 10.0.0.0/8");
    let halves = set4("-s 10.0.0.0/9").union(&set4("-s 10.128.0.0/9"));
    assert!(same(&net, &halves));
    // a non-contiguous mask: 10.x.2.y
    let odd = set4("-s 10.0.2.0/255.0.255.0");
    assert!(odd.is_subset(&net) && !net.is_subset(&odd));
    assert!(set4("-s 10.7.2.9").is_subset(&odd) && !set4("-s 10.7.3.9").is_subset(&odd));
    // an iprange is the union of the prefixes that tile it
    let range = set4("-m iprange --src-range 10.0.0.5-10.0.0.200");
    assert!(set4("-s 10.0.0.5").is_subset(&range) && set4("-s 10.0.0.200").is_subset(&range));
    assert!(!set4("-s 10.0.0.4").intersects(&range) && !set4("-s 10.0.0.201").intersects(&range));
    assert!(set4("-s 10.0.0.8/29").is_subset(&range));
    assert!(set4("-m iprange --src-range 10.0.0.9-10.0.0.5").is_empty(), "reversed: nothing");
    assert!(same(&set4("-m iprange --src-range 0.0.0.0-255.255.255.255"), &all4()));
    assert!(set4("-s 255.255.255.255").subtract(&set4("! -s 255.255.255.254")).is_empty());
    assert!(set4("-s 0.0.0.0").intersects(&set4("! -s 0.0.0.1")));
}

#[test]
fn ipv6_addresses_are_128_bits() {
    let net = set6("-s 2001:db8::/32");
    assert!(same(&net, &set6("-s 2001:db8::/33").union(&set6("-s 2001:db8:8000::/33"))));
    assert!(set6("-s 2001:db8::1").is_subset(&net));
    assert!(!set6("-s 2001:db9::1").intersects(&net));
    let all = Space::new(Family::Ipv6).universe().clone();
    assert!(same(
        &set6("-s ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
            .union(&set6("! -s ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        &all
    ));
    assert!(set6("! -d ::/0").is_empty() || same(&set6("! -d ::/0"), &all), "`::/0` is no condition at all");
    let range = set6("-m iprange --dst-range 2001:db8::fffe-2001:db8::1:1");
    assert!(set6("-d 2001:db8::ffff").is_subset(&range) && set6("-d 2001:db8::1:0").is_subset(&range));
    assert!(!set6("-d 2001:db8::1:2").intersects(&range));
    // ICMPv6 has its own protocol number, and no `any` of its own
    assert!(set6("-p ipv6-icmp --icmpv6-type echo-request").is_subset(&set6("-p ipv6-icmp")));
    assert!(!set6("-p ipv6-icmp --icmpv6-type echo-request").intersects(&set6("-p icmp")));
}

#[test]
fn interfaces_by_name_and_prefix() {
    let eth = set4("-i eth+");
    let eth0 = set4("-i eth0");
    assert!(eth0.is_subset(&eth));
    let rest = eth.subtract(&eth0);
    assert!(!rest.is_empty() && set4("-i eth1").is_subset(&rest) && set4("-i eth").is_subset(&rest));
    assert!(set4("-i eth0.100").is_subset(&rest));
    assert!(!set4("-i et").intersects(&eth) && !set4("-i lo").intersects(&eth));
    assert!(same(&set4("-i +"), &all4()));
    assert!(set4("! -i +").is_empty());
    // INPUT has no output interface: `-o` matches nothing there, except `+` (iptables refuses
    // `-o` in INPUT, but a user chain called from INPUT only can hold it)
    let input = Space::at(Family::Ipv4, Some(Hook::Input));
    let r = rules(Family::Ipv4, &["-o eth0", "-o +", "! -o eth0"]);
    assert!(input.rule(&r[0]).over.is_empty());
    assert!(same(&input.rule(&r[1]).over, input.universe()));
    assert!(same(&input.rule(&r[2]).over, input.universe()));
}

#[test]
fn marks_states_and_undecidable_matches() {
    let bit = set4("-m mark --mark 0x4000/0x4000");
    assert!(set4("-m mark --mark 0x4001").is_subset(&bit));
    assert!(!set4("-m mark --mark 0x0").intersects(&bit));
    assert!(set4("-m mark --mark 0x1/0x0").is_empty(), "value outside the mask: no mark matches");
    assert!(same(&set4("-m mark --mark 0x0/0x0"), &all4()));
    assert!(same(&set4("-m mark --mark 0x0/0xffffffff").union(&set4("-m mark ! --mark 0x0")), &all4()));
    let states = set4("-m conntrack --ctstate NEW").union(&set4("-m conntrack --ctstate ESTABLISHED,RELATED"));
    let all_states = states.union(&set4("-m conntrack --ctstate INVALID,UNTRACKED"));
    assert!(same(&all_states, &all4()));
    assert!(same(&set4("-m state --state NEW"), &set4("-m conntrack --ctstate NEW")));
    assert!(set4("-m conntrack --ctstate SNAT").is_subset(&set4("-m conntrack --ctstate NEW,ESTABLISHED,RELATED")));
    // undecidable: the over-approximation drops the condition, the under-approximation is none
    let limited = &space4(&["-p tcp -m limit --limit 5/s"])[0];
    assert!(!limited.exact && limited.under().is_none() && limited.undecided.len() == 1);
    assert!(same(&limited.over, &set4("-p tcp")));
    let exact = &space4(&["-p tcp -m comment --comment hi"])[0];
    assert!(exact.exact && exact.under().is_some_and(|u| same(u, &set4("-p tcp"))));
    let option = &space4(&["-p tcp --dport 22 --tcp-option 2"])[0];
    assert!(!option.exact && same(&option.over, &set4("-p tcp --dport 22")));
    let host = &space4(&["-m conntrack --ctorigdst 10.0.0.1"])[0];
    assert!(!host.exact);
}

#[test]
fn samples_lie_in_the_set_and_nowhere_else() {
    let a = set4("-s 10.0.0.0/8 -p tcp ! --dport 22 -i eth+ -m conntrack --ctstate NEW -m mark ! --mark 0x1/0x1");
    let p: Point = a.sample().unwrap_or(Point { ranges: [0; 12], cubes: [0; 8] });
    assert!(a.contains(&p));
    assert_eq!(p.get_cube(CubeField::Src), 0x0a00_0000);
    assert_ne!(p.get(RangeField::Dport), 22);
    assert_ne!(p.get(RangeField::Dport), ABSENT_PORT);
    let samples = a.samples(200, 42);
    assert_eq!(samples.len(), 200);
    assert!(samples.iter().all(|p| a.contains(p)));
    let distinct: std::collections::HashSet<_> = samples.iter().collect();
    assert!(distinct.len() > 100, "samples spread: {}", distinct.len());
    let b = set4("-s 10.0.0.0/8 -p tcp --dport 22");
    assert!(samples.iter().all(|p| !b.contains(p)));
    assert!(PacketSet::empty().sample().is_none());
    let text = super::Packet { family: Family::Ipv4, point: &p }.to_string();
    assert!(text.starts_with("tcp 10.0.0.0 port 0 -> 0.0.0.0 port 0 flags 0x00 in eth out - state NEW"), "{text}");
}

#[test]
fn replacing_a_field_rewrites_every_packet_and_keeps_the_boxes_disjoint() {
    use super::{Cubes, Ranges};
    // two boxes that differ only in the destination: one box once it is replaced
    let a = set4("-d 10.0.0.1 -p tcp --dport 80").union(&set4("-d 10.0.0.2 -p tcp --dport 80"));
    assert_eq!(a.boxes().len(), 2);
    let to = Cubes::masked(0xc0a8_0005, 0xffff_ffff, 32);
    let b = a.replace_cube(CubeField::Dst, &to);
    assert_eq!(b.boxes().len(), 1);
    assert!(same(&b, &set4("-d 192.168.0.5 -p tcp --dport 80")));
    // boxes that overlap once replaced are merged into disjoint ones, covering the same packets
    let c = set4("-p tcp --dport 22").union(&set4("-p tcp --dport 80 -m mark --mark 0x1"));
    let d = c.replace_range(RangeField::Dport, &Ranges::point(8080));
    for (i, x) in d.boxes().iter().enumerate() {
        assert!(d.boxes()[i + 1..].iter().all(|y| !x.intersects(y)), "box {i} overlaps a later one");
    }
    assert!(same(&d, &set4("-p tcp --dport 8080")));
    let marks = set4("-p udp -m mark --mark 0x5").replace_cube(CubeField::Mark, &Cubes::full(32));
    assert!(same(&marks, &set4("-p udp")));
    assert!(c.replace_range(RangeField::Dport, &Ranges::empty()).is_empty());
    assert!(PacketSet::empty().replace_range(RangeField::Dport, &Ranges::point(1)).is_empty());
}

/// Every rule of every loadable fixture, with its table's family and its chain's hook.
fn fixture_rules() -> Vec<(Family, Option<Hook>, Rule)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in ["valid", "space", "lint"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let loaded = read(&Source::new(path.display().to_string(), text), &LoadOptions::default());
            for table in loaded.ruleset.tables {
                for chain in table.chains {
                    let hook = chain.hook();
                    out.extend(chain.rules.into_iter().map(|r| (table.family, hook, r)));
                }
            }
        }
    }
    out
}

#[test]
fn sets_built_from_the_narrowed_fields_equal_full_boxes_met_with_the_universe() {
    let mut lines: Vec<(Family, Option<Hook>, Rule)> = fixture_rules();
    let extra4 = [
        "-s 10.0.0.1 -m iprange --src-range 10.0.0.5-10.0.0.9 -j ACCEPT",
        "-p tcp -m multiport --ports 22,80:90 ! -s 10.0.0.0/8 -j DROP",
        "-f -p udp -j DROP",
        "! -p tcp -m mark ! --mark 0x4/0x6 -j ACCEPT",
        "-p icmp --icmp-type echo-request -m length --length 0:100 -j ACCEPT",
        "-m addrtype --src-type LOCAL ! --dst-type UNICAST -m conntrack --ctstate NEW -j DROP",
        "-m mark --mark 0x1 -m mark --mark 0x2 -j DROP",
        "-i eth+ ! -o lo -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT",
    ];
    for r in rules(Family::Ipv4, &extra4) {
        lines.push((Family::Ipv4, None, r));
    }
    assert!(lines.len() > 200, "only {} rules: the fixtures moved?", lines.len());
    for (family, hook, rule) in &lines {
        let space = Space::at(*family, *hook);
        let conditions = space.conditions(rule);
        let over = space.over(&conditions);
        // the compiler before the shortcut: full boxes narrowed, then met with the universe
        let reference = conditions.full_boxes().intersect(space.universe());
        assert_eq!(over, reference, "{rule:?}");
        assert_eq!(space.matches_nothing(&conditions), over.is_empty(), "{rule:?}");
        assert_eq!(space.rule(rule).over, over);
        // each narrowed field's hull holds the exact set's
        for b in over.boxes() {
            for f in super::field::RANGE_FIELDS {
                if let (Some((lo, hi)), Some((blo, bhi))) = (conditions.range_hull(f), b.range(f).hull()) {
                    assert!(lo <= blo && bhi <= hi, "{rule:?} {f:?}");
                }
            }
            for f in super::field::CUBE_FIELDS {
                if let (Some((lo, hi)), Some((blo, bhi))) = (conditions.cube_hull(f), b.cube(f).hull()) {
                    assert!(lo <= blo && bhi <= hi, "{rule:?} {f:?}");
                }
            }
        }
    }
    let nothing = lines.iter().filter(|(f, h, r)| Space::at(*f, *h).rule(r).over.is_empty()).count();
    assert!(nothing >= 2, "the rules that match nothing are gone");
}

#[test]
fn deciding_a_packet_on_the_conditions_agrees_with_the_exact_set() {
    use super::PacketBox;
    let mut lines: Vec<(Family, Option<Hook>, Rule)> = fixture_rules();
    for r in rules(
        Family::Ipv4,
        &["-p tcp -m multiport --ports 22,80:90 -j DROP", "-p tcp -m multiport ! --ports 22 -j DROP"],
    ) {
        lines.push((Family::Ipv4, None, r));
    }
    // packets: points of the universe, the same with a field unknown, and whole sets of packets
    // (a port from either side of a `--ports` list, every TCP packet, the universe)
    let packets = |space: &Space| -> Vec<PacketSet> {
        let family = space.family();
        let mut out = Vec::new();
        for p in space.universe().samples(12, 7) {
            let point = PacketBox::point(&p);
            out.push(PacketSet::from_box(point.clone()));
            out.push(PacketSet::from_box(point.clone().unknown_cube(CubeField::Dst, family)));
            out.push(PacketSet::from_box(point.clone().unknown_cube(CubeField::Src, family)));
            out.push(PacketSet::from_box(point.clone().unknown_range(RangeField::InIface)));
            out.push(PacketSet::from_box(point.unknown_range(RangeField::Sport)));
        }
        if family == Family::Ipv4 {
            for line in ["-p tcp --sport 22", "-p tcp --sport 22:23 --dport 85", "-p tcp", "-d 10.0.0.0/8"] {
                out.push(set4(line));
            }
        }
        out.push(space.universe().clone());
        out.into_iter().map(|s| s.intersect(space.universe())).filter(|s| !s.is_empty()).collect()
    };
    let mut seen = [0usize; 3];
    for (family, hook, rule) in &lines {
        let space = Space::at(*family, *hook);
        let conditions = space.conditions(rule);
        let over = space.over(&conditions);
        for packet in packets(&space) {
            let reference = if packet.is_subset(&over) {
                Some(true)
            } else if !packet.intersects(&over) {
                Some(false)
            } else {
                None
            };
            assert_eq!(space.decide(&conditions, &packet), reference, "{rule:?} on {packet:?}");
            seen[reference.map_or(2, usize::from)] += 1;
        }
    }
    // every answer came up
    assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
}
