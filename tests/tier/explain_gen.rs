//! Random (ruleset, packet) pairs for comparing `ipt explain` with the kernel: only what the trace
//! harness can send (from client, server or fwhost; tcp, udp, icmp; v4 and v6; the harness's
//! addresses and interfaces) and only tests explain decides exactly for a fully given packet.
//! Every built-in chain of every table used is declared (iptables-nft creates only those), user
//! chains form no loop, and a target is only put where the kernel allows it.
//!
//! A case is a function of (seed, index) alone, so one failing case can be made again.

use super::explain_vs_kernel::{HarnessPacket, Origin};

/// SplitMix64: small, fast, good enough, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, index: u64) -> Rng {
        let mut rng = Rng(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `items`, by weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut at = (self.next() % u64::from(total)) as u32;
        for (w, item) in items {
            if at < *w {
                return item;
            }
            at -= w;
        }
        &items[items.len() - 1].1
    }
}

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
    let a = if family == 4 { &V4 } else { &V6 };
    let origin = *rng.pick(&[Origin::Client, Origin::Server, Origin::Fwhost]);
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
    p: &'a HarnessPacket,
    a: &'static Addrs,
    log: u32,
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
        for _ in 0..n {
            let kind = *self.rng.weighted(&[
                (5, "addr"),
                (6, "proto"),
                (3, "iface"),
                (3, "ctstate"),
                (2, "mark"),
                (1, "addrtype"),
                (1, "iprange"),
            ]);
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
                    let states = *self.rng.pick(&[
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
                    ]);
                    m += &format!(" -m conntrack {neg}--ctstate {states}");
                }
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
                m += match *self.rng.pick(&[0, 1, 2, 3, 4]) {
                    0 => " --syn",
                    1 => " ! --syn",
                    2 => " --tcp-flags SYN,RST,ACK,FIN SYN",
                    3 => " --tcp-flags ACK ACK",
                    _ => " --tcp-flags ALL NONE",
                };
            }
        } else if self.rng.chance(60) {
            let (_, module, option) = self.a.icmp;
            let ty = if self.a.icmp.0 == "icmp" {
                *self.rng.pick(&["echo-request", "8", "echo-reply", "0", "8/0"])
            } else {
                *self.rng.pick(&["echo-request", "128", "echo-reply", "129", "128/0"])
            };
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
        let a = self.a;
        match *self.rng.weighted(&options) {
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
    let mut tables: Vec<&str> = Vec::new();
    for (table, percent) in [("raw", 40), ("mangle", 50), ("nat", 60), ("filter", 85), ("security", 15)] {
        if rng.chance(percent) {
            tables.push(table);
        }
    }
    if tables.is_empty() {
        tables.push("filter");
    }
    let mut text =
        format!("# packet: {}\n# generated by tests/tier/explain_gen.rs: seed {seed}, case {index}\n", p.to_line());
    let mut g = Gen { rng: &mut rng, p: &p, a, log: 0 };
    for table in tables {
        let chains = builtins(table);
        let mut users = Vec::new();
        for k in 1..=*g.rng.pick(&[0, 0, 1, 1, 2, 3]) {
            let owner = loop {
                let c = *g.rng.pick(chains);
                if visited(&p, c) || g.rng.chance(20) {
                    break c;
                }
            };
            users.push(UserChain { name: format!("c{k}"), owner });
        }
        text += &format!("*{table}\n");
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
        let mut rules = String::new();
        for chain in chains {
            let callees: Vec<&str> = users.iter().filter(|u| u.owner == *chain).map(|u| u.name.as_str()).collect();
            let place = Place { table, hook: chain, callees, builtin: true };
            let n = if visited(&p, chain) { *g.rng.pick(&[0, 1, 2, 3, 4]) } else { *g.rng.pick(&[0, 0, 1]) };
            for _ in 0..n {
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
                let (m, proto) = g.matches(&place);
                let t = g.target(&place, proto.as_deref());
                rules += &format!("-A {}{m} {t}\n", u.name);
            }
        }
        text += &rules;
        text += "COMMIT\n";
    }
    // the name ends in the family: ipt reads `*6.rules` as IPv6 (ufw's before6.rules), so a
    // bare `gen-1-16.rules` would be an IPv6 file by its name whatever its packet
    Case { name: format!("gen-{seed}-{index}-v{}", p.family), rules: text, packet: p }
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
