//! Random (ruleset, packet) pairs for comparing `ipt explain` with the kernel: only what the trace
//! harness can send (from client, server or fwhost; tcp, udp, icmp; v4 and v6; the harness's
//! addresses and interfaces) and only tests explain decides exactly for a fully given packet.
//! Every built-in chain of every table used is declared (iptables-nft creates only those), user
//! chains form no loop, and a target is only put where the kernel allows it.
//!
//! A case is a function of (seed, index) alone, so one failing case can be made again.

use super::explain_vs_kernel::{Frag, HarnessPacket, Origin};
use super::rng::Rng;

/// The harness's addresses of one family.
struct Addrs {
    client: &'static str,
    client2: &'static str,
    fw_client: &'static str,
    server: &'static str,
    server2: &'static str,
    fw_server: &'static str,
    net: &'static str,
    net2: &'static str,
    lo: &'static str,
    /// Addresses for NAT targets: elsewhere on server's side, on client's side.
    snat_to: [&'static str; 2],
    /// The full-length prefix and shorter ones.
    plens: [u32; 4],
    /// `-p` for ICMP, its match and option.
    icmp: (&'static str, &'static str, &'static str),
    /// Address ranges for `-m iprange`.
    ranges: [&'static str; 4],
}

const V4: Addrs = Addrs {
    client: "192.0.2.2",
    client2: "192.0.2.66",
    fw_client: "192.0.2.1",
    server: "198.51.100.2",
    server2: "198.51.100.77",
    fw_server: "198.51.100.1",
    net: "203.0.113.10",
    net2: "203.0.113.77",
    lo: "127.0.0.1",
    snat_to: ["198.51.100.9", "192.0.2.9"],
    plens: [32, 24, 16, 8],
    icmp: ("icmp", "icmp", "--icmp-type"),
    ranges: [
        "192.0.2.1-192.0.2.10",
        "198.51.100.1-198.51.100.2",
        "203.0.113.0-203.0.113.50",
        "192.0.2.50-198.51.100.1",
    ],
};

const V6: Addrs = Addrs {
    client: "2001:db8:1::2",
    client2: "2001:db8:1::66",
    fw_client: "2001:db8:1::1",
    server: "2001:db8:2::2",
    server2: "2001:db8:2::77",
    fw_server: "2001:db8:2::1",
    net: "2001:db8:3::10",
    net2: "2001:db8:3::77",
    lo: "::1",
    snat_to: ["2001:db8:2::9", "2001:db8:1::9"],
    plens: [128, 64, 48, 32],
    icmp: ("ipv6-icmp", "icmp6", "--icmpv6-type"),
    ranges: [
        "2001:db8:1::1-2001:db8:1::10",
        "2001:db8:2::1-2001:db8:2::2",
        "2001:db8:3::-2001:db8:3::50",
        "2001:db8:1::50-2001:db8:2::1",
    ],
};

/// The network of `addr/plen`, written as iptables-save writes it.
fn network(addr: &str, plen: u32) -> String {
    if let Ok(a) = addr.parse::<std::net::Ipv4Addr>() {
        let mask = if plen == 0 { 0 } else { u32::MAX << (32 - plen) };
        format!("{}/{plen}", std::net::Ipv4Addr::from(u32::from(a) & mask))
    } else {
        let a: std::net::Ipv6Addr = addr.parse().expect("an address");
        let mask = if plen == 0 { 0 } else { u128::MAX << (128 - plen) };
        format!("{}/{plen}", std::net::Ipv6Addr::from(u128::from(a) & mask))
    }
}

fn packet(rng: &mut Rng) -> HarnessPacket {
    let family = if rng.chance(30) { 6 } else { 4 };
    let origin = *rng.pick(&[Origin::Client, Origin::Server, Origin::Fwhost]);
    packet_from(rng, family, origin)
}

/// A packet of `family` starting at `origin`: its protocol, addresses, ports, flags and mark.
fn packet_from(rng: &mut Rng, family: u8, origin: Origin) -> HarnessPacket {
    let a = if family == 4 { &V4 } else { &V6 };
    let proto = rng.weighted(&[(4, "tcp"), (2, "udp"), (2, "icmp")]).to_string();
    let (src, dst) = match origin {
        Origin::Client => (
            *rng.pick(&[a.client, a.client, a.client2, a.net2]),
            *rng.pick(&[a.fw_client, a.fw_server, a.server, a.net, a.net]),
        ),
        Origin::Server => (
            *rng.pick(&[a.server, a.server, a.server2, a.net2]),
            *rng.pick(&[a.fw_server, a.fw_client, a.client, a.net]),
        ),
        Origin::Fwhost => {
            // not 127.0.0.1: the harness's raw socket cannot send to it (sendto: EINVAL); ::1 works
            let lo = if family == 6 { a.lo } else { a.fw_server };
            let dst = *rng.pick(&[a.server, a.client, a.net, a.net, a.fw_client, a.fw_server, lo]);
            let src = if dst == a.lo { a.lo } else { *rng.pick(&[a.fw_client, a.fw_server]) };
            (src, dst)
        }
    };
    let sport = *rng.pick(&[40000, 40000, 1024, 53, 5353]);
    let dport = if proto == "udp" { *rng.pick(&[53, 123, 161, 5353]) } else { *rng.pick(&[22, 80, 443, 8080, 25]) };
    let flags = rng.weighted(&[
        (8, "S"),
        (2, "SA"),
        (2, "A"),
        (1, "PA"),
        (1, "R"),
        (1, "RA"),
        (1, "F"),
        (1, "FA"),
        (1, "none"),
        (1, "SF"),
    ]);
    let icmp_type = if rng.chance(75) {
        if family == 4 { 8 } else { 128 }
    } else if family == 4 {
        0
    } else {
        129
    };
    let mark = (origin == Origin::Fwhost && rng.chance(20)).then(|| rng.pick(&["0x1", "0x7"]).to_string());
    let p = HarnessPacket {
        origin,
        family,
        proto,
        src: src.into(),
        dst: dst.into(),
        sport,
        dport,
        flags: flags.to_string(),
        icmp_type,
        icmp_code: 0,
        mark,
        frag: None,
    };
    // what the `# packet:` line says, read back: the fields of other protocols take their defaults
    HarnessPacket::parse(&p.to_line()).expect("a generated packet line reads back")
}

/// The built-in chains of a table.
fn builtins(table: &str) -> &'static [&'static str] {
    match table {
        "raw" => &["PREROUTING", "OUTPUT"],
        "mangle" => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        _ => &["INPUT", "FORWARD", "OUTPUT"],
    }
}

/// Whether the packet may meet chains of this hook (it gets more rules there).
fn visited(p: &HarnessPacket, hook: &str) -> bool {
    match p.origin {
        Origin::Fwhost => !matches!(hook, "FORWARD"),
        _ => hook != "OUTPUT",
    }
}

/// A user chain: its name, and the built-in chain whose hook it runs on (only that chain and user
/// chains of the same owner jump to it, so every target in it is valid where it runs).
struct UserChain {
    name: String,
    owner: &'static str,
}

/// What a rule may use where it is.
struct Place<'a> {
    table: &'a str,
    hook: &'a str,
    /// User chains this rule may jump or go to.
    callees: Vec<&'a str>,
    builtin: bool,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    /// The packet the next rule is written for (its addresses and ports are likelier).
    p: &'a HarnessPacket,
    /// Every packet of the case: with several, each rule is written for one of them.
    pool: &'a [HarnessPacket],
    a: &'static Addrs,
    log: u32,
    /// More constructs, for `ipt translate`'s equivalence (NAT with ports and ranges, every
    /// REJECT type, ...). Off, the generator makes exactly what it made for explain.
    ext: bool,
    /// Nothing that switches conntrack on (no state, conntrack or CONNMARK), and `-f` for IPv4:
    /// fragments reach the chains as they are (translate's first-fragment guard).
    stateless: bool,
}

impl Gen<'_> {
    fn addr(&mut self) -> String {
        let a = self.a;
        let pool =
            [self.p.src.as_str(), self.p.dst.as_str(), a.client, a.fw_client, a.server, a.fw_server, a.net, a.lo];
        let addr = if self.rng.chance(50) { *self.rng.pick(&pool[..2]) } else { *self.rng.pick(&pool) };
        let plen = *self.rng.pick(&a.plens);
        network(addr, plen)
    }

    fn port(&mut self, own: u16) -> u16 {
        if self.rng.chance(50) { own } else { *self.rng.pick(&[22, 53, 80, 123, 443, 8080, 40000]) }
    }

    fn not(&mut self, percent: u64) -> &'static str {
        if self.rng.chance(percent) { "! " } else { "" }
    }

    /// The matches of a rule, and its protocol when it names one (not negated).
    fn matches(&mut self, place: &Place) -> (String, Option<String>) {
        let mut m = String::new();
        let mut proto = None;
        let n = *self.rng.pick(&[0, 1, 1, 2, 2, 3]);
        let mut used = Vec::new();
        let mut kinds =
            vec![(5, "addr"), (6, "proto"), (3, "iface"), (3, "ctstate"), (2, "mark"), (1, "addrtype"), (1, "iprange")];
        if self.ext {
            kinds.push((1, "comment"));
            // nft-mapping.md: addrtype is exact (fib) for IPv4 only
            if self.p.family == 6 {
                kinds.retain(|(_, k)| *k != "addrtype");
            }
        }
        if self.stateless {
            // more protocols, so more transport-header tests for fragments to meet
            kinds.retain(|(_, k)| *k != "ctstate");
            kinds.push((6, "proto"));
            if self.p.family == 4 {
                kinds.push((1, "fragment"));
            }
        }
        for _ in 0..n {
            let kind = *self.rng.weighted(&kinds);
            if used.contains(&kind) {
                continue;
            }
            used.push(kind);
            match kind {
                "addr" => {
                    let dir = *self.rng.pick(&["-s", "-d"]);
                    let neg = self.not(15);
                    let addr = self.addr();
                    m += &format!(" {neg}{dir} {addr}");
                }
                "proto" => {
                    let own = if self.p.proto == "icmp" { self.a.icmp.0 } else { self.p.proto.as_str() };
                    let pr = if self.rng.chance(65) { own } else { *self.rng.pick(&["tcp", "udp", self.a.icmp.0]) };
                    if self.rng.chance(10) {
                        m += &format!(" ! -p {pr}");
                        continue;
                    }
                    m += &format!(" -p {pr}");
                    proto = Some(pr.to_string());
                    m += &self.proto_options(pr);
                }
                "iface" => {
                    let in_ok = matches!(place.hook, "PREROUTING" | "INPUT" | "FORWARD");
                    let out_ok = matches!(place.hook, "FORWARD" | "OUTPUT" | "POSTROUTING");
                    let dir = match (in_ok, out_ok) {
                        (true, true) => *self.rng.pick(&["-i", "-o"]),
                        (true, false) => "-i",
                        _ => "-o",
                    };
                    let neg = self.not(20);
                    let name = *self.rng.pick(&["eth0", "eth1", "lo", "eth+"]);
                    m += &format!(" {neg}{dir} {name}");
                }
                "ctstate" => {
                    let neg = self.not(15);
                    let mut states = vec![
                        "NEW",
                        "NEW",
                        "INVALID",
                        "UNTRACKED",
                        "DNAT",
                        "SNAT",
                        "ESTABLISHED",
                        "RELATED,ESTABLISHED",
                        "NEW,INVALID",
                        "INVALID,UNTRACKED",
                    ];
                    if self.ext {
                        // a state and a status in one option: OR across keys (nft-mapping.md)
                        states.extend(["ESTABLISHED,SNAT", "NEW,DNAT", "RELATED", "RELATED,ESTABLISHED,DNAT"]);
                    }
                    let states = *self.rng.pick(&states);
                    if self.ext && !states.contains("NAT") && self.rng.chance(30) {
                        m += &format!(" -m state {neg}--state {states}");
                    } else {
                        m += &format!(" -m conntrack {neg}--ctstate {states}");
                    }
                }
                "comment" => m += " -m comment --comment \"generated rule\"",
                "fragment" => m += &format!(" {}-f", self.not(40)),
                "mark" => {
                    let neg = self.not(15);
                    let v = *self.rng.pick(&["0x0", "0x1", "0x2", "0x7", "0x102", "0x100/0xf00", "0x2/0xff"]);
                    m += &format!(" -m mark {neg}--mark {v}");
                }
                "addrtype" => {
                    let dir = *self.rng.pick(&["--src-type", "--dst-type"]);
                    let neg = self.not(25);
                    let ty = *self.rng.pick(&["LOCAL", "LOCAL", "UNICAST"]);
                    m += &format!(" -m addrtype {neg}{dir} {ty}");
                }
                _ => {
                    let dir = *self.rng.pick(&["--src-range", "--dst-range"]);
                    let neg = self.not(15);
                    let range = *self.rng.pick(&self.a.ranges);
                    m += &format!(" -m iprange {neg}{dir} {range}");
                }
            }
        }
        (m, proto)
    }

    fn proto_options(&mut self, proto: &str) -> String {
        let mut m = String::new();
        if proto == "tcp" || proto == "udp" {
            let (sport, dport) = (self.p.sport, self.p.dport);
            match *self.rng.pick(&[0, 1, 2, 3, 4, 5, 6]) {
                1 => m += &format!(" {}--dport {}", self.not(15), self.port(dport)),
                2 => m += &format!(" -m {proto} --sport {}", self.port(sport)),
                3 => {
                    let lo = self.port(dport).saturating_sub(*self.rng.pick(&[0, 1, 100]));
                    m += &format!(" --dport {lo}:{}", lo.saturating_add(*self.rng.pick(&[0, 10, 1000])));
                }
                4 => m += &format!(" -m multiport --dports {},{},{}", self.port(dport), self.port(dport), self.port(1)),
                5 => m += &format!(" -m multiport {}--sports {}:{},{}", self.not(10), self.port(sport), 40010, 53),
                6 => m += &format!(" -m multiport --ports {},{}", self.port(sport), self.port(dport)),
                _ => {}
            }
            if proto == "tcp" && self.rng.chance(35) {
                let choices = if self.ext { 8 } else { 5 };
                m += match self.rng.below(choices) {
                    0 => " --syn",
                    1 => " ! --syn",
                    2 => " --tcp-flags SYN,RST,ACK,FIN SYN",
                    3 => " --tcp-flags ACK ACK",
                    4 => " --tcp-flags ALL NONE",
                    5 => " --tcp-flags RST RST",
                    6 => " ! --tcp-flags SYN,ACK SYN,ACK",
                    _ => " --tcp-flags FIN,SYN,RST,PSH,ACK,URG ACK",
                };
            }
        } else if self.rng.chance(60) {
            let (_, module, option) = self.a.icmp;
            let mut types = if self.a.icmp.0 == "icmp" {
                vec!["echo-request", "8", "echo-reply", "0", "8/0"]
            } else {
                vec!["echo-request", "128", "echo-reply", "129", "128/0"]
            };
            if self.ext {
                // the errors that come back (REJECT's, server's port unreachable)
                types.extend(if self.a.icmp.0 == "icmp" {
                    ["destination-unreachable", "3/3", "port-unreachable"]
                } else {
                    ["destination-unreachable", "1/4", "port-unreachable"]
                });
            }
            let ty = *self.rng.pick(&types);
            m += &format!(" -m {module} {}{option} {ty}", self.not(10));
        }
        m
    }

    /// A target for a rule at `place` (with `proto` from its matches).
    fn target(&mut self, place: &Place, proto: Option<&str>) -> String {
        let ports = matches!(proto, Some("tcp" | "udp"));
        let mut options: Vec<(u32, &str)> = vec![(4, "ACCEPT"), (3, "LOG"), (2, "RETURN")];
        if !place.callees.is_empty() {
            options.extend([(6, "jump"), (2, "goto")]);
        }
        match place.table {
            "nat" => match place.hook {
                "PREROUTING" | "OUTPUT" => options.extend([(8, "DNAT"), (2, "REDIRECT")]),
                "POSTROUTING" => options.extend([(6, "SNAT"), (3, "MASQUERADE")]),
                _ => options.push((4, "SNAT")),
            },
            "filter" => options.extend([(4, "DROP"), (3, "REJECT"), (1, "MARK")]),
            "raw" => options.extend([(2, "DROP"), (5, "NOTRACK"), (2, "MARK")]),
            "mangle" => options.extend([(2, "DROP"), (6, "MARK"), (3, "CONNMARK")]),
            _ => options.extend([(2, "DROP"), (2, "MARK")]),
        }
        if place.builtin {
            options.retain(|(_, t)| *t != "RETURN" || self.rng.chance(30));
        }
        if self.stateless {
            options.retain(|(_, t)| *t != "CONNMARK");
        }
        let a = self.a;
        let target = *self.rng.weighted(&options);
        if self.ext
            && let Some(t) = self.target_ext(target, proto)
        {
            return t;
        }
        match target {
            "jump" => format!("-j {}", self.rng.pick(&place.callees)),
            "goto" => format!("-g {}", self.rng.pick(&place.callees)),
            "LOG" => {
                self.log += 1;
                format!("-j LOG --log-prefix \"g{} \"", self.log)
            }
            "REJECT" => {
                let with = if proto == Some("tcp") && self.rng.chance(50) {
                    " --reject-with tcp-reset"
                } else if self.rng.chance(30) {
                    if a.icmp.0 == "icmp" {
                        " --reject-with icmp-host-prohibited"
                    } else {
                        " --reject-with icmp6-adm-prohibited"
                    }
                } else {
                    ""
                };
                format!("-j REJECT{with}")
            }
            "MARK" => {
                let how = *self.rng.pick(&[
                    "--set-xmark 0x2/0xff",
                    "--or-mark 0x100",
                    "--set-mark 0x1",
                    "--and-mark 0xf",
                    "--xor-mark 0x3",
                ]);
                format!("-j MARK {how}")
            }
            "CONNMARK" => {
                let how = *self.rng.pick(&["--set-mark 0x5", "--save-mark", "--restore-mark", "--set-xmark 0x2/0x2"]);
                format!("-j CONNMARK {how}")
            }
            "NOTRACK" => "-j CT --notrack".into(),
            "DNAT" => {
                let to = *self.rng.pick(&[a.server, a.server, a.fw_client, a.client, a.net]);
                let port = *self.rng.pick(&[80, 8080, 22]);
                match (ports && self.rng.chance(60), a.icmp.0 == "icmp") {
                    (true, true) => format!("-j DNAT --to-destination {to}:{port}"),
                    (true, false) => format!("-j DNAT --to-destination [{to}]:{port}"),
                    _ => format!("-j DNAT --to-destination {to}"),
                }
            }
            "REDIRECT" => {
                if ports && self.rng.chance(60) {
                    format!("-j REDIRECT --to-ports {}", self.rng.pick(&[8080, 22]))
                } else {
                    "-j REDIRECT".into()
                }
            }
            "SNAT" => {
                let to = *self.rng.pick(&[a.snat_to[0], a.snat_to[1], a.fw_server]);
                format!("-j SNAT --to-source {to}")
            }
            other => format!("-j {other}"),
        }
    }
}

impl Gen<'_> {
    /// The extended forms of a target (for `ipt translate`), or None for the plain one. Every
    /// NAT form here gives the same mapping on every run: no `--random`, and a source port range
    /// either holds every port the packets use or is one port (nf_nat picks a random port in a
    /// range that does not hold the original one, for SNAT).
    fn target_ext(&mut self, target: &str, proto: Option<&str>) -> Option<String> {
        let a = self.a;
        let v4 = a.icmp.0 == "icmp";
        let ports = matches!(proto, Some("tcp" | "udp"));
        Some(match target {
            "LOG" => {
                self.log += 1;
                let options = *self.rng.pick(&["", " --log-level 7", " --log-tcp-sequence --log-ip-options"]);
                format!("-j LOG --log-prefix \"g{} \"{options}", self.log)
            }
            "REJECT" => {
                let mut with = if v4 {
                    vec![
                        "icmp-net-unreachable",
                        "icmp-host-unreachable",
                        "icmp-port-unreachable",
                        "icmp-proto-unreachable",
                        "icmp-net-prohibited",
                        "icmp-host-prohibited",
                        "icmp-admin-prohibited",
                    ]
                } else {
                    vec![
                        "icmp6-no-route",
                        "icmp6-adm-prohibited",
                        "icmp6-addr-unreachable",
                        "icmp6-port-unreachable",
                        "icmp6-policy-fail",
                        "icmp6-reject-route",
                    ]
                };
                if proto == Some("tcp") {
                    with.extend(["tcp-reset", "tcp-reset"]);
                }
                if self.rng.chance(25) {
                    "-j REJECT".into()
                } else {
                    format!("-j REJECT --reject-with {}", self.rng.pick(&with))
                }
            }
            "DNAT" => {
                let range = if v4 { "198.51.100.77-198.51.100.78" } else { "2001:db8:2::77-2001:db8:2::78" };
                let to = *self.rng.pick(&[a.server, a.server, a.server2, a.fw_client, a.client, a.net, range]);
                let port = ports && self.rng.chance(60);
                let port = if port { Some(*self.rng.pick(&["80", "8080", "22", "8080-8081", "80-90"])) } else { None };
                match port {
                    Some(port) if v4 => format!("-j DNAT --to-destination {to}:{port}"),
                    Some(port) if to != range => format!("-j DNAT --to-destination [{to}]:{port}"),
                    _ => format!("-j DNAT --to-destination {to}"),
                }
            }
            "SNAT" => {
                let range = if v4 { "198.51.100.9-198.51.100.10" } else { "2001:db8:2::9-2001:db8:2::10" };
                let to = *self.rng.pick(&[a.snat_to[0], a.snat_to[1], a.fw_server, range]);
                let port = if ports && self.rng.chance(50) { Some(*self.rng.pick(&["2000", "1-65535"])) } else { None };
                match port {
                    Some(port) if v4 => format!("-j SNAT --to-source {to}:{port}"),
                    Some(port) if to != range => format!("-j SNAT --to-source [{to}]:{port}"),
                    _ => format!("-j SNAT --to-source {to}"),
                }
            }
            "MASQUERADE" if ports && self.rng.chance(50) => {
                format!("-j MASQUERADE --to-ports {}", self.rng.pick(&["2000", "1-65535"]))
            }
            "REDIRECT" if ports && self.rng.chance(60) => {
                format!("-j REDIRECT --to-ports {}", self.rng.pick(&["8080", "22", "8080-8090"]))
            }
            _ => return None,
        })
    }
}

/// One generated case: the rules file (with its `# packet:` line first) and the packet.
pub struct Case {
    pub name: String,
    pub rules: String,
    pub packet: HarnessPacket,
}

pub fn generate(seed: u64, index: u64) -> Case {
    let mut rng = Rng::new(seed, index);
    let p = packet(&mut rng);
    let a = if p.family == 4 { &V4 } else { &V6 };
    let tables = pick_tables(&mut rng, &[]);
    let mut text =
        format!("# packet: {}\n# generated by tests/tier/explain_gen.rs: seed {seed}, case {index}\n", p.to_line());
    let mut g = Gen { rng: &mut rng, p: &p, pool: std::slice::from_ref(&p), a, log: 0, ext: false, stateless: false };
    for table in tables {
        text += &table_text(&mut g, table, &|chain| visited(&p, chain), &Extra::default());
    }
    // the name ends in the family: ipt reads `*6.rules` as IPv6 (ufw's before6.rules), so a
    // bare `gen-1-16.rules` would be an IPv6 file by its name whatever its packet
    Case { name: format!("gen-{seed}-{index}-v{}", p.family), rules: text, packet: p }
}

/// Which tables a case has (each by chance; `always` whatever the dice say; filter if none).
fn pick_tables(rng: &mut Rng, always: &[&'static str]) -> Vec<&'static str> {
    let mut tables: Vec<&str> = Vec::new();
    for (table, percent) in [("raw", 40), ("mangle", 50), ("nat", 60), ("filter", 85), ("security", 15)] {
        if rng.chance(percent) || always.contains(&table) {
            tables.push(table);
        }
    }
    if tables.is_empty() {
        tables.push("filter");
    }
    tables
}

/// Chains and rules a table gets besides the random ones (the kube-proxy shapes).
#[derive(Default)]
struct Extra {
    /// `:CHAIN - [0:0]` lines.
    declare: String,
    /// Rules before the random ones, and after them.
    first: String,
    last: String,
}

/// One table section: every built-in chain declared with a policy, a few user chains, random
/// rules (`visited` says which built-in chains the case's packets meet: they get more).
fn table_text(g: &mut Gen, table: &'static str, visited: &dyn Fn(&str) -> bool, extra: &Extra) -> String {
    let chains = builtins(table);
    let mut users = Vec::new();
    for k in 1..=*g.rng.pick(&[0, 0, 1, 1, 2, 3]) {
        let owner = loop {
            let c = *g.rng.pick(chains);
            if visited(c) || g.rng.chance(20) {
                break c;
            }
        };
        users.push(UserChain { name: format!("c{k}"), owner });
    }
    let mut text = format!("*{table}\n");
    for chain in chains {
        let policy = match table {
            "filter" if g.rng.chance(30) => "DROP",
            "raw" | "mangle" | "security" if g.rng.chance(8) => "DROP",
            _ => "ACCEPT",
        };
        text += &format!(":{chain} {policy} [0:0]\n");
    }
    for u in &users {
        text += &format!(":{} - [0:0]\n", u.name);
    }
    text += &extra.declare;
    let mut rules = extra.first.clone();
    for chain in chains {
        let callees: Vec<&str> = users.iter().filter(|u| u.owner == *chain).map(|u| u.name.as_str()).collect();
        let place = Place { table, hook: chain, callees, builtin: true };
        let n = if visited(chain) { *g.rng.pick(&[0, 1, 2, 3, 4]) } else { *g.rng.pick(&[0, 0, 1]) };
        for _ in 0..n {
            g.for_one_packet();
            let (m, proto) = g.matches(&place);
            let t = g.target(&place, proto.as_deref());
            rules += &format!("-A {chain}{m} {t}\n");
        }
    }
    for (k, u) in users.iter().enumerate() {
        // only chains declared after this one, with the same owner: no loops
        let callees: Vec<&str> =
            users[k + 1..].iter().filter(|v| v.owner == u.owner).map(|v| v.name.as_str()).collect();
        let place = Place { table, hook: u.owner, callees, builtin: false };
        for _ in 0..*g.rng.pick(&[1, 1, 2, 3]) {
            g.for_one_packet();
            let (m, proto) = g.matches(&place);
            let t = g.target(&place, proto.as_deref());
            rules += &format!("-A {}{m} {t}\n", u.name);
        }
    }
    text += &rules;
    text += &extra.last;
    text += "COMMIT\n";
    text
}

impl Gen<'_> {
    /// With several packets, the next rule is written for one of them.
    fn for_one_packet(&mut self) {
        if self.pool.len() > 1 {
            self.p = &self.pool[self.rng.below(self.pool.len())];
        }
    }
}

// ---------------------------------------------------------------- many packets, for translate

/// A ruleset for `ipt translate`'s equivalence: one family, the extended constructs, several
/// packets that take every way through fwhost (in, through, out, to itself), and sometimes
/// kube-proxy's shapes.
pub struct ManyCase {
    pub family: u8,
    /// The rules file: a `# Generated by ip6tables-save` line before each table (so that ipt
    /// reads the family whatever the file's name), as iptables-save writes it.
    pub rules: String,
    pub packets: Vec<HarnessPacket>,
    /// Whether it has kube-proxy's dispatch chains.
    pub kube: bool,
    /// Whether nothing in it switches conntrack on (see [`Gen::stateless`]).
    pub stateless: bool,
}

/// The line in a rules file that tells the translate harness not to switch conntrack on for its
/// nat table (tests/tier/translate_kernel.rs, `switch_conntrack_on`).
pub const CONNTRACK_OFF: &str = "# conntrack: off";

/// Seeds the dice of what came with fragments (stateless cases, fragment packets) apart from the
/// case's own: a stateful case has the rules and packets it had before, and fragments after them.
const FRAGMENT_DICE: u64 = 0x6672_6167_6d65_6e74;

pub fn generate_many(seed: u64, index: u64) -> ManyCase {
    let mut rng = Rng::new(seed, index);
    let mut side = Rng::new(seed ^ FRAGMENT_DICE, index);
    let stateless = side.chance(40);
    let family = if rng.chance(40) { 6 } else { 4 };
    let a = if family == 4 { &V4 } else { &V6 };
    let mut packets = Vec::new();
    // every way through fwhost: in (and through, by the destination's dice), back from server,
    // out of fwhost (to others or to itself)
    for origin in [Origin::Client, Origin::Client, Origin::Client, Origin::Server, Origin::Fwhost, Origin::Fwhost] {
        packets.push(packet_from(&mut rng, family, origin));
    }
    for _ in 0..*rng.pick(&[2, 4, 6]) {
        let origin = *rng.pick(&[Origin::Client, Origin::Server, Origin::Fwhost]);
        packets.push(packet_from(&mut rng, family, origin));
    }
    // kube-proxy's rules need conntrack
    let kube = rng.chance(25) && !stateless;
    let services = if kube { kube_services(&mut rng, a) } else { Vec::new() };
    for svc in services.iter().filter(|s| !s.duplicate).take(4) {
        let to_svc = |origin: Origin, dst: &str, dport: u16| {
            let src = match origin {
                Origin::Client => a.client,
                _ => a.fw_server,
            };
            let line =
                format!("--from {} --proto {} --src {src} --dst {dst} --dport {dport}", origin.name(), svc.proto);
            HarnessPacket::parse(&line).expect("a service packet line reads back")
        };
        packets.push(to_svc(Origin::Client, &svc.ip, svc.port));
        packets.push(to_svc(if rng.chance(50) { Origin::Fwhost } else { Origin::Client }, &svc.ip, svc.port));
        if let Some(node_port) = svc.node_port {
            packets.push(to_svc(Origin::Client, a.fw_client, node_port));
        }
    }
    if let Some(svc) = services.first() {
        // the service's address, another port: no element of the map
        let line = format!("--from client --proto {} --src {} --dst {} --dport 9", svc.proto, a.client, svc.ip);
        packets.push(HarnessPacket::parse(&line).expect("a service packet line reads back"));
    }
    let mut tables = pick_tables(&mut rng, if kube { &["nat", "filter"] } else { &[] });
    // a stateless case has no nat table, or an empty one (iptables-save shows it once the nat
    // module is loaded): no rule in it switches conntrack on, and the harness must not either
    let empty_nat = stateless && side.chance(30);
    if stateless {
        tables.retain(|t| *t != "nat");
        if tables.is_empty() {
            tables.push("filter");
        }
    }
    let tool = if family == 4 { "iptables-save" } else { "ip6tables-save" };
    let mut text = String::new();
    if empty_nat {
        text += &format!("{CONNTRACK_OFF}\n");
    }
    let mut g = Gen { rng: &mut rng, p: &packets[0], pool: &packets, a, log: 0, ext: true, stateless };
    for table in tables {
        // before every table, as iptables-save writes it (ipt reads a section's family from it)
        text +=
            &format!("# Generated by {tool} (tests/tier/explain_gen.rs generate_many: seed {seed}, case {index})\n");
        if table == "nat" && kube {
            text += &kube_nat(&services, a);
            continue;
        }
        let extra = if table == "filter" && kube { kube_filter(&services) } else { Extra::default() };
        text += &table_text(&mut g, table, &|_| true, &extra);
    }
    if empty_nat {
        text +=
            &format!("# Generated by {tool} (tests/tier/explain_gen.rs generate_many: seed {seed}, case {index})\n");
        text += "*nat\n";
        for chain in builtins("nat") {
            text += &format!(":{chain} ACCEPT [0:0]\n");
        }
        text += "COMMIT\n";
    }
    // packets again as fragments (made after the rules: each looks like its packet, whose rules
    // it meets): every packet where fragments reach the chains as they are, a few in half the
    // stateful cases (where conntrack reassembles them first)
    let twins: Vec<HarnessPacket> = if stateless {
        packets.clone()
    } else if side.chance(50) {
        (0..*side.pick(&[1, 2, 2, 3])).map(|_| side.pick(&packets).clone()).collect()
    } else {
        Vec::new()
    };
    for mut p in twins {
        p.frag = Some(*side.pick(&[Frag::Later, Frag::Later, Frag::Both, Frag::Both, Frag::First]));
        packets.push(p);
    }
    ManyCase { family, rules: text, packets, kube, stateless }
}

/// A Kubernetes service as kube-proxy writes it.
struct Service {
    ip: String,
    proto: &'static str,
    port: u16,
    /// (address, port) of each endpoint; none: kube-proxy REJECTs in filter.
    endpoints: Vec<(&'static str, u16)>,
    node_port: Option<u16>,
    /// Same address, protocol and port as an earlier service: its rules are unreachable.
    duplicate: bool,
}

fn kube_services(rng: &mut Rng, a: &Addrs) -> Vec<Service> {
    let mut services: Vec<Service> = Vec::new();
    for k in 0..2 + rng.below(6) {
        let (ip, proto, port, duplicate) = match services.get(rng.below(services.len().max(1))) {
            Some(s) if rng.chance(15) => (s.ip.clone(), s.proto, s.port, true),
            _ => {
                let ip = if a.icmp.0 == "icmp" {
                    format!("203.0.113.{}", 20 + k)
                } else {
                    format!("2001:db8:3::{}", 20 + k)
                };
                let proto = *rng.weighted(&[(3, "tcp"), (1, "udp")]);
                let port = if proto == "udp" { 53 } else { *rng.pick(&[80, 443, 8080]) };
                (ip, proto, port, false)
            }
        };
        let endpoints = (0..*rng.pick(&[0, 1, 1, 1, 2]))
            .map(|_| (*rng.pick(&[a.server, a.server, a.server2, a.client, a.fw_client]), *rng.pick(&[8080, 80, 53])))
            .collect::<Vec<_>>();
        // addrtype is exact for IPv4 only: node ports go through it
        let node_port = (a.icmp.0 == "icmp" && !endpoints.is_empty() && rng.chance(40)).then_some(30000 + k as u16);
        services.push(Service { ip, proto, port, endpoints, node_port, duplicate });
    }
    services
}

/// kube-proxy's nat table: KUBE-SERVICES is a run of `-d IP -p P --dport N -j KUBE-SVC-X` rules
/// (the optimiser's verdict map), KUBE-SEP chains DNAT, KUBE-POSTROUTING masquerades what
/// KUBE-MARK-MASQ marked.
fn kube_nat(services: &[Service], a: &Addrs) -> String {
    let plen = a.plens[0];
    let mut declare = String::new();
    let mut rules = String::new();
    for chain in ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"] {
        declare += &format!(":{chain} - [0:0]\n");
    }
    rules += "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n";
    rules += "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n";
    rules += "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n";
    rules += "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n";
    rules += "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n";
    rules += "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n";
    rules += "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE\n";
    let mut dispatch = String::new();
    let mut node_ports = String::new();
    for (k, svc) in services.iter().enumerate().filter(|(_, s)| !s.endpoints.is_empty()) {
        let (ip, p, port) = (&svc.ip, svc.proto, svc.port);
        let name = format!("ns/svc{k}:p");
        declare += &format!(":KUBE-SVC-{k} - [0:0]\n");
        dispatch += &format!(
            "-A KUBE-SERVICES -d {ip}/{plen} -p {p} -m comment --comment \"{name} cluster IP\" -m {p} --dport {port} -j KUBE-SVC-{k}\n"
        );
        if let Some(node_port) = svc.node_port {
            node_ports += &format!(
                "-A KUBE-NODEPORTS -p {p} -m comment --comment \"{name}\" -m {p} --dport {node_port} -j KUBE-SVC-{k}\n"
            );
        }
        rules += &format!(
            "-A KUBE-SVC-{k} ! -s {} -d {ip}/{plen} -p {p} -m comment --comment \"{name} cluster IP\" -m {p} --dport {port} -j KUBE-MARK-MASQ\n",
            if a.icmp.0 == "icmp" { "10.244.0.0/16" } else { "fd00:10:244::/64" }
        );
        for (e, (addr, eport)) in svc.endpoints.iter().enumerate() {
            declare += &format!(":KUBE-SEP-{k}-{e} - [0:0]\n");
            // no statistic (a random choice is not the same twice): the first endpoint takes
            // client2's connections, the last the others
            let from = if e + 1 < svc.endpoints.len() {
                format!(" -s {}/{plen}", if a.icmp.0 == "icmp" { "192.0.2.66" } else { "2001:db8:1::66" })
            } else {
                String::new()
            };
            rules += &format!("-A KUBE-SVC-{k}{from} -m comment --comment \"{name} -> {addr}\" -j KUBE-SEP-{k}-{e}\n");
            rules +=
                &format!("-A KUBE-SEP-{k}-{e} -s {addr}/{plen} -m comment --comment \"{name}\" -j KUBE-MARK-MASQ\n");
            let to = if a.icmp.0 == "icmp" { format!("{addr}:{eport}") } else { format!("[{addr}]:{eport}") };
            rules += &format!(
                "-A KUBE-SEP-{k}-{e} -p {p} -m comment --comment \"{name}\" -m {p} -j DNAT --to-destination {to}\n"
            );
        }
    }
    rules += &dispatch;
    if a.icmp.0 == "icmp" {
        rules += "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n";
    }
    rules += &node_ports;
    let mut text = "*nat\n".to_string();
    for chain in builtins("nat") {
        text += &format!(":{chain} ACCEPT [0:0]\n");
    }
    text + &declare + &rules + "COMMIT\n"
}

/// kube-proxy's filter table: services without endpoints are rejected, its forward rules.
fn kube_filter(services: &[Service]) -> Extra {
    let mut extra = Extra {
        declare: ":KUBE-SERVICES - [0:0]\n:KUBE-FORWARD - [0:0]\n".into(),
        first: "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
                -A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
                -A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
                -A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
            .into(),
        last: "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n\
               -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
            .into(),
    };
    for (k, svc) in services.iter().enumerate().filter(|(_, s)| s.endpoints.is_empty()) {
        let (ip, p, port) = (&svc.ip, svc.proto, svc.port);
        let plen = if ip.contains(':') { 128 } else { 32 };
        extra.last += &format!(
            "-A KUBE-SERVICES -d {ip}/{plen} -p {p} -m comment --comment \"ns/svc{k}:p has no endpoints\" -m {p} --dport {port} -j REJECT --reject-with {}\n",
            if plen == 32 { "icmp-port-unreachable" } else { "icmp6-port-unreachable" }
        );
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_depends_only_on_seed_and_index() {
        assert_eq!(generate(7, 3).rules, generate(7, 3).rules);
        assert_ne!(generate(7, 3).rules, generate(7, 4).rules);
        assert_ne!(generate(7, 3).rules, generate(8, 3).rules);
    }

    #[test]
    fn a_case_names_its_packet_first() {
        let case = generate(1, 1);
        let line = case.rules.lines().next().expect("a line");
        assert_eq!(HarnessPacket::from_rules(line), Ok(case.packet));
    }

    #[test]
    fn networks_are_written_without_host_bits() {
        assert_eq!(network("192.0.2.66", 24), "192.0.2.0/24");
        assert_eq!(network("2001:db8:1::2", 48), "2001:db8:1::/48");
        assert_eq!(network("198.51.100.2", 32), "198.51.100.2/32");
    }
}
