//! The walk: hook by hook, table by table, rule by rule, with the packet changing as targets
//! change it (marks, NAT, conntrack's view), and the routing decisions between hooks.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;

use super::conditions;
use super::packet::{CtBase, Query, flags_text};
use super::routes;
use super::{Backend, Choice, Event, Fate, FinalPacket, Path, RuleEvent, addr_text};
use crate::ext::nat::Nat;
use crate::model::{Chain, ChainFinder, Family, Hook, Rule, Ruleset, Table, TableName, TargetKind};
use crate::space::field::{ABSENT_FLAGS, ABSENT_ICMP, ABSENT_MAC, ABSENT_PORT, CubeField, RangeField};
use crate::space::{PacketBox, PacketSet, Point, Space, names};

/// The walk met an undecided rule whose outcome this run has no choice for.
pub struct NeedChoice {
    pub line: u32,
}

/// An interface as a hook sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfaceVal {
    /// The hook has none (no output interface before routing, no input one for local packets).
    None,
    Known(String),
    /// There is one, but the question did not say which.
    Unknown,
}

impl IfaceVal {
    fn name(&self) -> Option<String> {
        match self {
            IfaceVal::Known(n) => Some(n.clone()),
            _ => None,
        }
    }
}

/// The packet as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkt {
    pub family: Family,
    pub proto: u8,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub icmp: Option<(u8, u8)>,
    pub tcp_flags: Option<u8>,
    pub in_iface: IfaceVal,
    pub out_iface: IfaceVal,
    pub mark: u32,
    pub connmark: u32,
    pub tos: u8,
    pub ttl: u8,
    pub length: u16,
    /// The conntrack state value ([`crate::space::state`]).
    pub ct: u128,
    /// Whether the source and destination are this host's.
    pub src_local: bool,
    pub dst_local: bool,
}

impl Pkt {
    pub fn src_text(&self) -> String {
        self.src.map_or_else(|| "not given".to_string(), addr_text)
    }

    pub fn dst_text(&self) -> String {
        match self.dst {
            Some(a) => addr_text(a),
            None if self.dst_local => "this host (address not given)".to_string(),
            None => "not given".to_string(),
        }
    }

    pub fn ports_text(&self) -> String {
        match (self.sport, self.dport) {
            (Some(s), Some(d)) => format!("the source port is {s}, the destination port {d}"),
            _ => "the packet has no ports".to_string(),
        }
    }

    pub fn flags_text(&self) -> String {
        match self.tcp_flags {
            Some(0) => "none".to_string(),
            Some(f) => flags_text(f).join(","),
            None => "none (not TCP)".to_string(),
        }
    }

    pub fn state_text(&self) -> String {
        let bits = crate::space::state::ct_bits(self.ct);
        let mut names = Vec::new();
        for (name, bit) in [
            ("NEW", crate::ext::conntrack::CtStates::NEW),
            ("ESTABLISHED", crate::ext::conntrack::CtStates::ESTABLISHED),
            ("RELATED", crate::ext::conntrack::CtStates::RELATED),
            ("INVALID", crate::ext::conntrack::CtStates::INVALID),
            ("UNTRACKED", crate::ext::conntrack::CtStates::UNTRACKED),
            ("SNAT", crate::ext::conntrack::CtStates::SNAT),
            ("DNAT", crate::ext::conntrack::CtStates::DNAT),
        ] {
            if bits & bit != 0 {
                names.push(name);
            }
        }
        names.join(",")
    }

    /// The address types `-m addrtype` sees, as bits of [`crate::ext::addrtype::NAMES`]. An
    /// IPv4 address has one routing type; IPv6 tests the address's own kind (unicast,
    /// multicast) and its route (local) apart, so a local unicast address is both.
    fn addr_types(&self, a: Option<IpAddr>, local: bool) -> Option<u128> {
        let t = self.addr_type(a, local)?;
        // ip6tables judges UNICAST from the address (`__ipv6_addr_type`), which gives an
        // IPv4-mapped address (::ffff:a.b.c.d) no UNICAST bit (docs/dev/addrtype6.md)
        if let Some(IpAddr::V6(v6)) = a
            && v6.to_ipv4_mapped().is_some()
        {
            return Some(if local { 1 << 2 } else { 0 });
        }
        let bits = 1u128 << t;
        let unicast_v6 = matches!(a, Some(IpAddr::V6(v6)) if !v6.is_multicast() && !v6.is_unspecified());
        Some(if local && unicast_v6 { bits | 1 << 1 } else { bits })
    }

    fn addr_type(&self, a: Option<IpAddr>, local: bool) -> Option<usize> {
        // bit numbers of crate::ext::addrtype::NAMES
        const UNSPEC: usize = 0;
        const UNICAST: usize = 1;
        const LOCAL: usize = 2;
        const BROADCAST: usize = 3;
        const MULTICAST: usize = 5;
        // what the address is decides before whose it is: `__inet_dev_addr_type` gives the zero
        // network and the limited broadcast BROADCAST, multicast MULTICAST
        match a {
            Some(IpAddr::V4(v4)) if v4.is_unspecified() || v4.is_broadcast() => return Some(BROADCAST),
            Some(IpAddr::V4(v4)) if v4.is_multicast() => return Some(MULTICAST),
            Some(IpAddr::V6(v6)) if v6.is_multicast() => return Some(MULTICAST),
            Some(IpAddr::V6(v6)) if v6.is_unspecified() => return Some(UNSPEC),
            _ => {}
        }
        if local {
            return Some(LOCAL);
        }
        a.map(|_| UNICAST)
    }

    pub fn src_type_text(&self) -> String {
        self.addr_type(self.src, self.src_local)
            .map_or_else(|| "of an unknown type".to_string(), |t| crate::ext::addrtype::NAMES[t].to_string())
    }

    pub fn dst_type_text(&self) -> String {
        self.addr_type(self.dst, self.dst_local)
            .map_or_else(|| "of an unknown type".to_string(), |t| crate::ext::addrtype::NAMES[t].to_string())
    }

    /// The packet as the exact sets see it: one point, widened to every value of the fields
    /// that are unknown.
    fn packet_set(&self, space: &Space) -> PacketSet {
        let family = self.family;
        let bits = |a: IpAddr| match a {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        let iface = |i: &IfaceVal| match i {
            IfaceVal::None => Some(0),
            IfaceVal::Known(n) => names::rank(n.as_bytes()),
            IfaceVal::Unknown => None,
        };
        let mut ranges = [0u128; 12];
        let mut cubes = [0u128; 8];
        let mut set_r = |f: RangeField, v: u128| ranges[f.index()] = v;
        set_r(RangeField::Proto, u128::from(self.proto));
        set_r(RangeField::Frag, 0);
        set_r(RangeField::InIface, iface(&self.in_iface).unwrap_or(0));
        set_r(RangeField::OutIface, iface(&self.out_iface).unwrap_or(0));
        set_r(RangeField::Sport, self.sport.map_or(ABSENT_PORT, u128::from));
        set_r(RangeField::Dport, self.dport.map_or(ABSENT_PORT, u128::from));
        set_r(RangeField::Icmp, self.icmp.map_or(ABSENT_ICMP, |(t, c)| u128::from(t) << 8 | u128::from(c)));
        set_r(RangeField::CtState, self.ct);
        // a packet that came in: what its destination makes it (the link layer follows it); one
        // generated here keeps PACKET_HOST through OUTPUT and POSTROUTING (xt_pkttype)
        let pkttype = match (&self.in_iface, self.dst) {
            (IfaceVal::None, _) => 0,
            (_, Some(IpAddr::V4(v4))) if v4.is_broadcast() => 1,
            (_, Some(a)) if a.is_multicast() => 2,
            _ => 0,
        };
        set_r(RangeField::Pkttype, pkttype);
        set_r(RangeField::Length, u128::from(self.length));
        set_r(RangeField::Ttl, u128::from(self.ttl));
        set_r(RangeField::MacSrc, ABSENT_MAC);
        let mut set_c = |f: CubeField, v: u128| cubes[f.index()] = v;
        set_c(CubeField::Src, self.src.map_or(0, bits));
        set_c(CubeField::Dst, self.dst.map_or(0, bits));
        set_c(CubeField::TcpFlags, self.tcp_flags.map_or(ABSENT_FLAGS, u128::from));
        set_c(CubeField::Tos, u128::from(self.tos));
        set_c(CubeField::Mark, u128::from(self.mark));
        set_c(CubeField::Connmark, u128::from(self.connmark));
        set_c(CubeField::SrcType, self.addr_types(self.src, self.src_local).unwrap_or(0));
        set_c(CubeField::DstType, self.addr_types(self.dst, self.dst_local).unwrap_or(0));
        let point = Point { ranges, cubes };
        let mut b = PacketBox::point(&point);
        if iface(&self.in_iface).is_none() {
            b = b.unknown_range(RangeField::InIface);
        }
        if iface(&self.out_iface).is_none() {
            b = b.unknown_range(RangeField::OutIface);
        }
        // a MAC is known only to be absent: on lo, or for a packet generated here
        if !matches!(&self.in_iface, IfaceVal::None) && self.in_iface != IfaceVal::Known("lo".into()) {
            b = b.unknown_range(RangeField::MacSrc);
        }
        if self.src.is_none() {
            b = b.unknown_cube(CubeField::Src, family);
            if !self.src_local {
                b = b.unknown_cube(CubeField::SrcType, family);
            }
        }
        if self.dst.is_none() {
            b = b.unknown_cube(CubeField::Dst, family);
            if !self.dst_local {
                b = b.unknown_cube(CubeField::DstType, family);
            }
        }
        PacketSet::from_box(b).intersect(space.universe())
    }
}

/// How a table's chain on a hook ended.
enum Outcome {
    Accept,
    Drop,
    Reject,
    Queue,
    Unknown,
}

/// Each table's chains by name: made the first time a walk jumps in that table, and kept for
/// every walk of one explanation (a kube-proxy host's nat table has some 40 000 chains, and one
/// undecided `-m statistic` makes several walks).
pub struct ChainIndex<'a> {
    ruleset: &'a Ruleset,
    tables: Vec<std::cell::OnceCell<ChainFinder<'a>>>,
}

impl<'a> ChainIndex<'a> {
    pub fn new(ruleset: &'a Ruleset) -> ChainIndex<'a> {
        ChainIndex { ruleset, tables: ruleset.tables.iter().map(|_| std::cell::OnceCell::new()).collect() }
    }

    /// The index of the chain `name` in `table` (one of the ruleset's).
    fn find(&self, table: &Table, name: &str) -> Option<usize> {
        let t = self.ruleset.tables.iter().position(|t| std::ptr::eq(t, table))?;
        self.tables[t].get_or_init(|| ChainFinder::new(&self.ruleset.tables[t])).find(name)
    }
}

struct Walk<'a, 'c> {
    ruleset: &'a Ruleset,
    chains: &'a ChainIndex<'c>,
    query: &'a Query,
    choices: &'a BTreeMap<u32, bool>,
    used: Vec<Choice>,
    events: Vec<Event>,
    hooks: Vec<&'static str>,
    notes: Vec<String>,
    pkt: Pkt,
    spaces: Vec<(Hook, Space)>,
    /// The packet's set for the last hook and packet it was made for (most rules in a row
    /// test the same packet).
    packet_cache: Option<(Hook, Pkt, Rc<PacketSet>)>,
    /// nat ran (or its null binding was made) for the destination and for the source.
    dst_nat_done: bool,
    src_nat_done: bool,
    /// Marked untracked by a raw-table target.
    untracked: bool,
    /// The packet carries a connection already (on its way back in on lo).
    ct_attached: bool,
    /// `--out-iface` given: where the packet leaves, whatever the routes say.
    out_fixed: bool,
}

/// The path of the packet, given outcomes for the undecided rules met so far.
pub fn walk(
    ruleset: &Ruleset,
    chains: &ChainIndex<'_>,
    query: &Query,
    choices: &BTreeMap<u32, bool>,
) -> Result<Path, NeedChoice> {
    let length = default_length(query.family, query.proto);
    let pkt = Pkt {
        family: query.family,
        proto: query.proto,
        src: query.src,
        dst: query.dst,
        sport: query.sport,
        dport: query.dport,
        icmp: query.icmp,
        tcp_flags: query.tcp_flags,
        in_iface: IfaceVal::None,
        out_iface: IfaceVal::None,
        mark: query.mark,
        connmark: 0,
        tos: 0,
        ttl: query.ttl,
        length,
        ct: CtBase::Invalid.value(),
        src_local: query.src_local,
        dst_local: query.dst_local,
    };
    let mut w = Walk {
        ruleset,
        chains,
        query,
        choices,
        used: Vec::new(),
        events: Vec::new(),
        hooks: Vec::new(),
        notes: Vec::new(),
        pkt,
        spaces: Vec::new(),
        packet_cache: None,
        dst_nat_done: false,
        src_nat_done: false,
        untracked: query.state == CtBase::Untracked,
        ct_attached: false,
        out_fixed: query.out_iface.is_some(),
    };
    let fate = w.run()?;
    let pkt = &w.pkt;
    Ok(Path {
        choices: w.used,
        hooks: w.hooks,
        events: w.events,
        fate,
        final_packet: FinalPacket {
            src: pkt.src.map(addr_text).or_else(|| pkt.src_local.then(|| "this host".to_string())),
            dst: pkt.dst.map(addr_text).or_else(|| pkt.dst_local.then(|| "this host".to_string())),
            sport: pkt.sport,
            dport: pkt.dport,
            mark: pkt.mark,
        },
        notes: w.notes,
    })
}

/// The IP length of the packet the kernel test harness sends (a bare TCP header; 16 bytes of
/// payload after a UDP or ICMP header).
fn default_length(family: Family, proto: u8) -> u16 {
    let ip = if family == Family::Ipv4 { 20 } else { 40 };
    let l4 = match proto {
        6 => 20,
        17 | 1 | 58 => 8 + 16,
        _ => 0,
    };
    // `-m length` sees the whole IPv6 packet too (payload length plus the 40-byte header)
    ip + l4
}

impl Walk<'_, '_> {
    fn run(&mut self) -> Result<Fate, NeedChoice> {
        if self.pkt.src_local {
            self.pkt.in_iface = IfaceVal::None;
            self.pkt.out_iface = self.route_out();
            self.start_conntrack_view();
            if let Some(fate) = self.hook(Hook::Output, 1)? {
                return Ok(fate);
            }
            // re-routed after OUTPUT: a DNAT there may have changed the destination
            self.pkt.out_iface = self.route_out();
            if let Some(fate) = self.hook(Hook::Postrouting, 1)? {
                return Ok(fate);
            }
            if !self.pkt.dst_local {
                // seen in a kernel trace: IPv6 lets no loopback source out of another interface
                let loopback_v6 = matches!(self.pkt.src, Some(IpAddr::V6(a)) if a.is_loopback());
                if loopback_v6 && self.pkt.out_iface != IfaceVal::Known("lo".into()) {
                    self.notes.push(
                        "the IPv6 stack discards a packet from ::1 that would leave by another interface than lo, after POSTROUTING"
                            .into(),
                    );
                    return Ok(Fate::Discarded);
                }
                return Ok(Fate::Sent);
            }
            // to itself: out on lo and back in, with its connection (or untracked mark); a
            // packet that went out INVALID has none, and conntrack looks at it again
            self.ct_attached = self.pkt.ct != CtBase::Invalid.value();
            if !self.ct_attached {
                self.start_conntrack_view();
            }
            self.pkt.in_iface = IfaceVal::Known("lo".into());
            self.pkt.out_iface = IfaceVal::None;
            if let Some(fate) = self.hook(Hook::Prerouting, 2)? {
                return Ok(fate);
            }
            if let Some(fate) = self.hook(Hook::Input, 2)? {
                return Ok(fate);
            }
            return Ok(Fate::Delivered);
        }
        self.pkt.in_iface = match &self.query.in_iface {
            Some(i) => IfaceVal::Known(i.clone()),
            None => IfaceVal::Unknown,
        };
        self.pkt.out_iface = IfaceVal::None;
        self.start_conntrack_view();
        if let Some(fate) = self.hook(Hook::Prerouting, 1)? {
            return Ok(fate);
        }
        // ip_route_input_slow: a loopback source or destination on another interface is a
        // martian (with the default route_localnet=0), DNAT to 127.0.0.1 included
        let loopback_v4 = |a: Option<IpAddr>| matches!(a, Some(IpAddr::V4(v4)) if v4.is_loopback());
        if (loopback_v4(self.pkt.src) || loopback_v4(self.pkt.dst)) && self.pkt.in_iface != IfaceVal::Known("lo".into())
        {
            self.notes.push(
                "the routing decision after PREROUTING drops an IPv4 packet with a 127.0.0.0/8 address that came in on another interface than lo (route_localnet is off by default)"
                    .into(),
            );
            return Ok(Fate::Discarded);
        }
        if let Some(kind) = self.route_kind() {
            self.notes.push(format!("the route to its destination is `{kind}`: the routing decision drops it"));
            return Ok(Fate::Discarded);
        }
        if self.pkt.dst_local {
            if let Some(fate) = self.hook(Hook::Input, 1)? {
                return Ok(fate);
            }
            return Ok(Fate::Delivered);
        }
        self.pkt.out_iface = self.route_out();
        self.notes.push("forwarding is assumed on (net.ipv4.ip_forward / net.ipv6.conf.all.forwarding = 1)".into());
        if self.pkt.ttl <= 1 {
            // ip_forward / ip6_forward: time exceeded, before FORWARD
            self.notes.push(format!(
                "its TTL is {} when forwarding would decrement it: the kernel answers time exceeded and drops it before FORWARD",
                self.pkt.ttl
            ));
            return Ok(Fate::Discarded);
        }
        self.pkt.ttl -= 1;
        if let Some(fate) = self.hook(Hook::Forward, 1)? {
            return Ok(fate);
        }
        if let Some(fate) = self.hook(Hook::Postrouting, 1)? {
            return Ok(fate);
        }
        Ok(Fate::Forwarded)
    }

    /// Before conntrack has seen the packet (the raw table), `-m conntrack` sees no connection.
    fn start_conntrack_view(&mut self) {
        self.pkt.ct = if self.untracked { CtBase::Untracked.value() } else { CtBase::Invalid.value() };
    }

    /// `blackhole`, `unreachable` or `prohibit` when that is the route to a destination that
    /// is not this host's.
    fn route_kind(&self) -> Option<&'static str> {
        if self.pkt.dst_local {
            return None;
        }
        let route = self.pkt.dst.and_then(|d| routes::lookup(&self.query.routes, d))?;
        route.kind.drops()
    }

    /// The interface the packet leaves by, for its current destination.
    fn route_out(&self) -> IfaceVal {
        if self.out_fixed {
            return self.query.out_iface.clone().map_or(IfaceVal::Unknown, IfaceVal::Known);
        }
        if self.pkt.dst_local {
            return IfaceVal::Known("lo".into());
        }
        match self.pkt.dst.and_then(|d| routes::lookup(&self.query.routes, d)).and_then(|r| r.dev.clone()) {
            Some(dev) => IfaceVal::Known(dev),
            None => IfaceVal::Unknown,
        }
    }

    /// The space of a hook, made once.
    fn space(&mut self, hook: Hook) -> usize {
        if let Some(i) = self.spaces.iter().position(|(h, _)| *h == hook) {
            return i;
        }
        self.spaces.push((hook, Space::at(self.pkt.family, Some(hook))));
        self.spaces.len() - 1
    }

    /// The packet as a set in the hook's space.
    fn packet_set(&mut self, hook: Hook, space: usize) -> Rc<PacketSet> {
        if let Some((h, p, set)) = &self.packet_cache
            && *h == hook
            && *p == self.pkt
        {
            return Rc::clone(set);
        }
        let set = Rc::new(self.pkt.packet_set(&self.spaces[space].1));
        self.packet_cache = Some((hook, self.pkt.clone(), Rc::clone(&set)));
        set
    }

    /// The tables on a hook, in the kernel's order.
    fn tables_on(&self, hook: Hook) -> &'static [TableName] {
        use TableName::*;
        match hook {
            Hook::Prerouting => &[Raw, Mangle, Nat],
            Hook::Input => match self.query.backend {
                Backend::Nft => &[Mangle, Filter, Nat, Security],
                Backend::Legacy => &[Mangle, Filter, Security, Nat],
            },
            Hook::Forward => &[Mangle, Filter, Security],
            Hook::Output => &[Raw, Mangle, Nat, Filter, Security],
            Hook::Postrouting => &[Mangle, Nat],
        }
    }

    /// Runs a hook: `Some(fate)` when the packet's path ends there.
    fn hook(&mut self, hook: Hook, pass: u8) -> Result<Option<Fate>, NeedChoice> {
        self.hooks.push(hook.as_str());
        let ruleset = self.ruleset;
        for &name in self.tables_on(hook) {
            if name == TableName::Mangle
                && (pass == 1 || !self.ct_attached)
                && matches!(hook, Hook::Prerouting | Hook::Output)
            {
                // conntrack (priority -200) has now seen the packet
                self.pkt.ct = if self.untracked { CtBase::Untracked.value() } else { self.query.state.value() };
            }
            let Some(table) = ruleset.table(self.pkt.family, name) else { continue };
            // the nat core runs at every nat hook once any nat chain exists, and binds the
            // connection (to itself, without a rule that says otherwise) whether or not this
            // hook has a chain: on its way back in on lo, nat is done (seen in a kernel trace:
            // fixtures/explain/dnat-back-in-on-lo-does-nothing.rules)
            let nat_skip = if name == TableName::Nat { self.nat_skipped(hook) } else { None };
            if name == TableName::Nat && nat_skip.is_none() {
                match hook {
                    Hook::Prerouting | Hook::Output => self.dst_nat_done = true,
                    _ => self.src_nat_done = true,
                }
            }
            let Some(index) = table.chains.iter().position(|c| c.hook() == Some(hook)) else { continue };
            let chain = &table.chains[index];
            if self.query.backend == Backend::Nft && chain.span.is_empty() && chain.rules.is_empty() {
                // iptables-nft makes only the built-in chains a file declares or uses
                continue;
            }
            if let Some(why) = nat_skip {
                self.events.push(Event::Skip { hook: hook.as_str(), table: name.as_str(), why });
                continue;
            }
            self.events.push(Event::Chain {
                hook: hook.as_str(),
                table: name.as_str(),
                chain: chain.name.to_string(),
                in_iface: self.pkt.in_iface.name(),
                out_iface: self.pkt.out_iface.name(),
            });
            match self.chain(hook, table, index)? {
                Outcome::Accept => {}
                Outcome::Drop => return Ok(Some(Fate::Dropped)),
                Outcome::Reject => return Ok(Some(Fate::Rejected)),
                Outcome::Queue => return Ok(Some(Fate::Queued)),
                Outcome::Unknown => return Ok(Some(Fate::Unknown)),
            }
            if name == TableName::Nat && hook == Hook::Prerouting {
                // the routing decision after PREROUTING uses the destination as nat left it
                self.pkt.dst_local = self.pkt.dst.map_or(self.pkt.dst_local, |d| self.query.is_local(d));
            }
        }
        Ok(None)
    }

    /// Why the nat table is not consulted on this hook, if it is not.
    fn nat_skipped(&self, hook: Hook) -> Option<String> {
        let state = crate::space::state::base_bit(self.pkt.ct);
        use crate::ext::conntrack::CtStates;
        if state == CtStates::UNTRACKED {
            return Some("nat is not consulted for an untracked packet".into());
        }
        if state == CtStates::INVALID {
            return Some("nat is not consulted for an INVALID packet".into());
        }
        // the first packet of an expected (RELATED) connection is NAT'd like a NEW one
        if state != CtStates::NEW && state != CtStates::RELATED {
            return Some("nat is consulted only for the first packet of a connection".into());
        }
        let done = match hook {
            Hook::Prerouting | Hook::Output => self.dst_nat_done,
            _ => self.src_nat_done,
        };
        done.then(|| "nat already ran for this connection (on its way out)".into())
    }

    /// Runs a built-in chain and whatever it jumps to.
    fn chain(&mut self, hook: Hook, table: &Table, start: usize) -> Result<Outcome, NeedChoice> {
        let hook_name = hook.as_str();
        let table_name = table.name.as_str();
        // return addresses of `-j` (a `-g` leaves none)
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let (mut c, mut i) = (start, 0usize);
        let mut steps = 0usize;
        loop {
            steps += 1;
            if steps > 1_000_000 {
                self.notes.push("the walk took more than a million steps: a loop ipt did not expect".into());
                return Ok(Outcome::Unknown);
            }
            let chain: &Chain = &table.chains[c];
            let Some(rule) = chain.rules.get(i) else {
                if chain.is_builtin() || stack.is_empty() {
                    return Ok(self.policy(hook, table, start));
                }
                self.events.push(Event::Return { hook: hook_name, table: table_name, chain: chain.name.to_string() });
                (c, i) = stack.pop().expect("checked");
                continue;
            };
            let space = self.space(hook);
            let set = self.packet_set(hook, space);
            let (outcome, conditions) = conditions::test(&self.spaces[space].1, &set, &self.pkt, rule);
            let (matched, assumed) = match outcome {
                Some(m) => (m, false),
                None => {
                    let holds = self.choose(rule)?;
                    (holds, true)
                }
            };
            let mut text = String::new();
            crate::fmt::rule(&mut text, &chain.name, rule);
            let mut event = RuleEvent {
                hook: hook_name,
                table: table_name,
                chain: chain.name.to_string(),
                line: rule.line.0,
                rule: text,
                matched,
                assumed,
                verdict: None,
                target: None,
                nat: BTreeMap::new(),
                conditions,
            };
            if !matched {
                self.events.push(Event::Rule(event));
                i += 1;
                continue;
            }
            event.target = rule.target.kind.name().map(str::to_string);
            let step = self.target(hook, rule, &mut event);
            event.verdict = Some(step.verdict());
            self.events.push(Event::Rule(event));
            match step {
                Step::Continue => i += 1,
                Step::Accept | Step::Nat(_) => return Ok(Outcome::Accept),
                Step::Drop => return Ok(Outcome::Drop),
                Step::Reject => return Ok(Outcome::Reject),
                Step::Queue => return Ok(Outcome::Queue),
                Step::Unknown(_) => return Ok(Outcome::Unknown),
                Step::Return => {
                    if chain.is_builtin() || stack.is_empty() {
                        return Ok(self.policy(hook, table, start));
                    }
                    (c, i) = stack.pop().expect("checked");
                }
                Step::Jump(to) | Step::Goto(to) => {
                    let Some(target) = self.chains.find(table, &to) else {
                        self.notes.push(format!("`{to}` is not a chain of the {table_name} table"));
                        return Ok(Outcome::Unknown);
                    };
                    if matches!(rule.target.kind, TargetKind::Jump(_)) {
                        stack.push((c, i + 1));
                    }
                    (c, i) = (target, 0);
                }
            }
        }
    }

    fn policy(&mut self, hook: Hook, table: &Table, start: usize) -> Outcome {
        let chain = &table.chains[start];
        let policy = chain.policy().unwrap_or(crate::model::Policy::Accept);
        self.events.push(Event::Policy {
            hook: hook.as_str(),
            table: table.name.as_str(),
            chain: chain.name.to_string(),
            policy: match policy {
                crate::model::Policy::Accept => "accept",
                crate::model::Policy::Drop => "drop",
            },
        });
        match policy {
            crate::model::Policy::Accept => Outcome::Accept,
            crate::model::Policy::Drop => Outcome::Drop,
        }
    }

    /// The outcome this path gives an undecided rule.
    fn choose(&mut self, rule: &Rule) -> Result<bool, NeedChoice> {
        let line = rule.line.0;
        let holds = match self.query.assume.get(&line).or_else(|| self.choices.get(&line)) {
            Some(&h) => h,
            None => return Err(NeedChoice { line }),
        };
        if !self.used.iter().any(|c| c.line == line) {
            let mut test = String::new();
            crate::fmt::rule_spec(&mut test, rule);
            self.used.push(Choice { line, test: test.trim_start().to_string(), holds });
        }
        Ok(holds)
    }

    /// What a matched rule's target does to the packet, and where the walk goes next.
    fn target(&mut self, hook: Hook, rule: &Rule, event: &mut RuleEvent) -> Step {
        use TargetKind as T;
        match &rule.target.kind {
            T::Continue => Step::Continue,
            T::Accept => Step::Accept,
            T::Drop => Step::Drop,
            T::Return => Step::Return,
            T::Nfqueue(q) if q.bypass => {
                self.notes.push(format!(
                    "line {}: with --queue-bypass the packet goes on (accepted by this chain) when no program listens on queue {}",
                    rule.line.0, q.queue
                ));
                Step::Queue
            }
            T::Queue | T::Nfqueue(_) => Step::Queue,
            T::Jump(name) => Step::Jump(name.to_string()),
            T::Goto(name) => Step::Goto(name.to_string()),
            T::Reject(_) => Step::Reject,
            T::Mark(x) => {
                self.pkt.mark = x.apply(self.pkt.mark);
                Step::Continue
            }
            // xt_connmark does nothing to a packet without a connection (in raw, INVALID,
            // UNTRACKED)
            T::Connmark(_) if self.pkt.ct >= 12 => Step::Continue,
            T::Connmark(c) => {
                use crate::ext::connmark_target::ConnmarkOp;
                if c.shift.is_some() {
                    self.notes.push(format!("line {}: CONNMARK's shift is not modelled", rule.line.0));
                }
                match c.op {
                    ConnmarkOp::Set(x) => self.pkt.connmark = x.apply(self.pkt.connmark),
                    ConnmarkOp::Save { nfmask, ctmask } => {
                        self.pkt.connmark = (self.pkt.connmark & !ctmask) ^ (self.pkt.mark & nfmask)
                    }
                    ConnmarkOp::Restore { nfmask, ctmask } => {
                        self.pkt.mark = (self.pkt.mark & !nfmask) ^ (self.pkt.connmark & ctmask)
                    }
                }
                Step::Continue
            }
            // xt_CT leaves a packet alone once it has a connection (back in on lo, it has one)
            T::Ct(ct) => {
                if !self.ct_attached {
                    if ct.notrack {
                        self.untracked = true;
                        self.pkt.ct = CtBase::Untracked.value();
                    } else {
                        // a template (zone, helper, ...): the packet now has a NEW connection
                        // as far as the rest of raw can tell, and a later CT leaves it alone
                        self.pkt.ct = CtBase::New.value();
                    }
                    self.ct_attached = true;
                }
                Step::Continue
            }
            T::Notrack => {
                if !self.ct_attached {
                    self.ct_attached = true;
                    self.untracked = true;
                    self.pkt.ct = CtBase::Untracked.value();
                }
                Step::Continue
            }
            T::Tos(t) => {
                self.pkt.tos = (self.pkt.tos & !t.mask) ^ t.value;
                Step::Continue
            }
            T::Dscp(d) => {
                self.pkt.tos = (self.pkt.tos & 0x03) | (d.dscp << 2);
                Step::Continue
            }
            T::Ttl(h) | T::Hl(h) => {
                use crate::ext::ttl_target::HopLimit;
                self.pkt.ttl = match *h {
                    HopLimit::Set(v) => v,
                    HopLimit::Dec(v) => self.pkt.ttl.saturating_sub(v),
                    HopLimit::Inc(v) => self.pkt.ttl.saturating_add(v),
                };
                Step::Continue
            }
            T::Dnat(nat) => self.nat_dst(rule, nat, event, "dnat"),
            T::Redirect(nat) => {
                // to this host: the input interface's address (PREROUTING), or loopback (OUTPUT)
                let addr = if hook == Hook::Output {
                    Some(match self.pkt.family {
                        Family::Ipv4 => IpAddr::from([127, 0, 0, 1]),
                        Family::Ipv6 => IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
                    })
                } else {
                    self.iface_addr(&self.pkt.in_iface.clone())
                };
                let mut local = nat.as_ref().clone();
                local.range.addrs = addr.map(|a| (a, a));
                if addr.is_none() {
                    self.notes.push(format!(
                        "line {}: REDIRECT sends it to the address of its input interface, which the question does not give",
                        rule.line.0
                    ));
                    self.pkt.dst = None;
                    self.pkt.dst_local = true;
                    event.nat.insert("dst", "this host".into());
                }
                let step = self.nat_dst(rule, &local, event, "redirect");
                self.pkt.dst_local = true;
                step
            }
            T::Snat(nat) => self.nat_src(rule, nat, event, "snat"),
            T::Masquerade(nat) => {
                let addr = self.masquerade_addr();
                let mut out = nat.as_ref().clone();
                out.range.addrs = addr.map(|a| (a, a));
                if addr.is_none() {
                    self.notes.push(format!(
                        "line {}: MASQUERADE takes the address of the output interface, which the question does not give (--routes with `src`)",
                        rule.line.0
                    ));
                    self.pkt.src = None;
                    self.pkt.src_local = true;
                    event.nat.insert("src", "the output interface's address".into());
                }
                self.nat_src(rule, &out, event, "masquerade")
            }
            T::Netmap(map) => {
                let crate::ext::host::HostAddr::Ip(net) = map.addr else {
                    return Step::Unknown("NETMAP to a host name".into());
                };
                let to_dst = matches!(hook, Hook::Prerouting | Hook::Output);
                let field = if to_dst { self.pkt.dst } else { self.pkt.src };
                let Some(old) = field else {
                    return Step::Unknown("NETMAP of an address the question does not give".into());
                };
                let mapped = netmap(old, net, map.prefix);
                let bit = if mapped != old && self.pkt.ct < 12 { if to_dst { 1 } else { 2 } } else { 0 };
                self.pkt.ct |= bit;
                if to_dst {
                    self.pkt.dst = Some(mapped);
                    self.pkt.dst_local = self.query.is_local(mapped);
                    event.nat.insert("dst", addr_text(mapped));
                } else {
                    self.pkt.src = Some(mapped);
                    event.nat.insert("src", addr_text(mapped));
                }
                Step::Nat("netmap")
            }
            T::Log(_)
            | T::Nflog(_)
            | T::Ulog(_)
            | T::Trace
            | T::Tcpmss(_)
            | T::Checksum
            | T::Classify(_)
            | T::Secmark(_)
            | T::Connsecmark(_)
            | T::Audit(_)
            | T::Set(_)
            | T::Tee(_)
            | T::Tcpoptstrip(_)
            | T::Idletimer(_)
            | T::Rateest(_)
            | T::Led(_) => Step::Continue,
            other => Step::Unknown(other.name().unwrap_or("?").to_string()),
        }
    }

    /// The address of an interface of this host, from the routes' `src`.
    fn iface_addr(&self, iface: &IfaceVal) -> Option<IpAddr> {
        let IfaceVal::Known(name) = iface else { return None };
        self.query
            .routes
            .iter()
            .filter(|r| r.dev.as_deref() == Some(name.as_str()) && r.dst.is_ipv4() == (self.pkt.family == Family::Ipv4))
            .find_map(|r| r.src)
    }

    /// The source MASQUERADE takes: the preferred source of the route out.
    fn masquerade_addr(&self) -> Option<IpAddr> {
        // an address of the interface it leaves by; the route's preferred source when that
        // route goes out there
        let route = self.pkt.dst.and_then(|d| routes::lookup(&self.query.routes, d));
        let out = self.pkt.out_iface.name();
        let route_src = route.filter(|r| out.is_none() || r.dev == out).and_then(|r| r.src);
        route_src.or_else(|| self.iface_addr(&self.pkt.out_iface.clone()))
    }

    fn nat_dst(&mut self, rule: &Rule, nat: &Nat, event: &mut RuleEvent, verdict: &'static str) -> Step {
        let mut changed = false;
        if let Some((lo, hi)) = nat.range.addrs {
            if lo != hi {
                self.notes.push(format!(
                    "line {}: the kernel picks one address of {}-{} per connection; ipt shows the first",
                    rule.line.0,
                    addr_text(lo),
                    addr_text(hi)
                ));
            }
            changed |= self.pkt.dst != Some(lo);
            self.pkt.dst = Some(lo);
            self.pkt.dst_local = self.query.is_local(lo);
            event.nat.insert("dst", addr_text(lo));
        }
        if let (Some((lo, hi)), Some(port)) = (nat.range.ports, self.pkt.dport) {
            let new = match nat.range.base_port {
                // `/base`: the port's offset from the base, into the range (NF_NAT_RANGE_PROTO_OFFSET)
                Some(base) => {
                    let size = u32::from(hi) - u32::from(lo) + 1;
                    let off = u32::from(port.wrapping_sub(base));
                    (u32::from(lo) + off % size) as u16
                }
                None => pick_port(port, lo, hi),
            };
            changed |= new != port;
            self.pkt.dport = Some(new);
            event.nat.insert("dport", new.to_string());
        }
        if changed && self.pkt.ct < 12 {
            self.pkt.ct |= 1;
        }
        Step::Nat(verdict)
    }

    fn nat_src(&mut self, rule: &Rule, nat: &Nat, event: &mut RuleEvent, verdict: &'static str) -> Step {
        let mut changed = false;
        if let Some((lo, hi)) = nat.range.addrs {
            // a source already in the range is kept; else the kernel picks one by a hash
            let keep = self.pkt.src.filter(|&s| in_addr_range(s, lo, hi));
            let new = keep.unwrap_or(lo);
            if keep.is_none() && lo != hi {
                self.notes.push(format!(
                    "line {}: the kernel picks one address of {}-{} by a hash; ipt shows the first",
                    rule.line.0,
                    addr_text(lo),
                    addr_text(hi)
                ));
            }
            changed |= self.pkt.src != Some(new);
            self.pkt.src = Some(new);
            event.nat.insert("src", addr_text(new));
        }
        if let (Some((lo, hi)), Some(port)) = (nat.range.ports, self.pkt.sport) {
            let new = pick_port(port, lo, hi);
            if new != port && lo != hi {
                self.notes.push(format!(
                    "line {}: the kernel picks a free source port of {lo}-{hi} at random; ipt shows the first",
                    rule.line.0
                ));
            }
            changed |= new != port;
            self.pkt.sport = Some(new);
            event.nat.insert("sport", new.to_string());
        }
        if changed && self.pkt.ct < 12 {
            self.pkt.ct |= 2;
        }
        Step::Nat(verdict)
    }
}

/// Whether `a` lies in the range `lo`-`hi` (of its family).
fn in_addr_range(a: IpAddr, lo: IpAddr, hi: IpAddr) -> bool {
    match (a, lo, hi) {
        (IpAddr::V4(a), IpAddr::V4(lo), IpAddr::V4(hi)) => (lo..=hi).contains(&a),
        (IpAddr::V6(a), IpAddr::V6(lo), IpAddr::V6(hi)) => (lo..=hi).contains(&a),
        _ => false,
    }
}

/// The kernel keeps a port that is already in the range (and unique), else takes one from it.
fn pick_port(port: u16, lo: u16, hi: u16) -> u16 {
    if (lo..=hi).contains(&port) { port } else { lo }
}

fn netmap(old: IpAddr, net: IpAddr, prefix: u8) -> IpAddr {
    match (old, net) {
        (IpAddr::V4(o), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            IpAddr::V4(((u32::from(o) & !mask) | (u32::from(n) & mask)).into())
        }
        (IpAddr::V6(o), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            IpAddr::V6(((u128::from(o) & !mask) | (u128::from(n) & mask)).into())
        }
        _ => old,
    }
}

/// What a matched rule does next.
enum Step {
    Continue,
    Accept,
    Drop,
    Reject,
    Return,
    Queue,
    Jump(String),
    Goto(String),
    /// A NAT target: ends the nat chain, as ACCEPT does.
    Nat(&'static str),
    /// A target ipt does not model: the path stops there.
    Unknown(String),
}

impl Step {
    fn verdict(&self) -> String {
        match self {
            Step::Continue => "continue".into(),
            Step::Accept => "accept".into(),
            Step::Drop => "drop".into(),
            Step::Reject => "reject".into(),
            Step::Return => "return".into(),
            Step::Queue => "queue".into(),
            Step::Jump(c) => format!("jump:{c}"),
            Step::Goto(c) => format!("goto:{c}"),
            Step::Nat(v) => (*v).into(),
            Step::Unknown(t) => format!("unknown:{t}"),
        }
    }
}
