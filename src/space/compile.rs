//! From a rule's conditions to the set of packets it matches.
//!
//! Each condition (`-s`, `-p`, each option of each `-m`) is one conjunct; the rule's set is the
//! universe narrowed by every conjunct. A conjunct ipt can decide narrows exactly, `!` included
//! (the complement within the field's domain, or within the packets that have the field). A
//! conjunct it cannot decide (`-m limit`, `-m recent`, a host name, `--tcp-option`, a verbatim
//! module, ...) does not narrow, and marks the rule inexact: [`RuleSpace::over`] is then a
//! superset of what the rule matches, and [`RuleSpace::under`] is empty.

use super::field::{ABSENT_FLAGS, ABSENT_PORT, CubeField, PORT_PROTOS, RangeField, icmp_proto};
use super::packet_box::PacketBox;
use super::{Conditions, Cubes, PacketSet, Ranges, names, state};
use crate::ext::addrtype::AddrTypes;
use crate::ext::icmp::Icmp;
use crate::ext::iprange::IpRange;
use crate::ext::multiport::{Direction, Multiport};
use crate::ext::ttl::{Ttl, TtlOp};
use crate::model::{Family, Hook, Iface, MatchKind, Neg, Net, PortRange, Proto, Rule};
use crate::source::Span;

/// The packets one family's rules can meet, at one place in the kernel.
#[derive(Clone, Debug)]
pub struct Space {
    family: Family,
    universe: PacketSet,
}

/// What a rule matches, as far as ipt can tell.
#[derive(Clone, Debug)]
pub struct RuleSpace {
    /// Every packet the rule may match: exactly what it matches when [`RuleSpace::exact`], else
    /// a superset (its decidable conditions only). Use it for "could this packet match?" (the
    /// rule whose reachability is asked, a packet that might take a path).
    pub over: PacketSet,
    /// Whether every condition was decided, so that `over` is exactly what the rule matches.
    pub exact: bool,
    /// The conditions that could not be decided (their spans in the source).
    pub undecided: Vec<Span>,
}

impl RuleSpace {
    /// Packets the rule certainly matches: `over` when exact, else none. Use it for "does this
    /// rule certainly decide these packets?" (an earlier rule that would cover a later one).
    pub fn under(&self) -> Option<&PacketSet> {
        self.exact.then_some(&self.over)
    }
}

impl Space {
    /// Packets of a family anywhere: no interface is known to be absent.
    pub fn new(family: Family) -> Space {
        Space::at(family, None)
    }

    /// Packets of a family as a chain on `hook` sees them (`None`: a user chain, anywhere):
    /// no output interface before routing (PREROUTING, INPUT), no input interface for locally
    /// generated packets (OUTPUT).
    pub fn at(family: Family, hook: Option<Hook>) -> Space {
        let mut base = PacketBox::full(family);
        let none = Ranges::point(0);
        let restrict = |b: PacketBox, field| b.clone().with_range(field, &none).unwrap_or(b);
        base = match hook {
            Some(Hook::Prerouting | Hook::Input) => restrict(base, RangeField::OutIface),
            Some(Hook::Output) => restrict(base, RangeField::InIface),
            _ => base,
        };
        if family == Family::Ipv4 {
            // an IPv4 address has exactly one routing type (`inet_addr_type`)
            let single = (0..12).map(|i| Cubes::point(1 << i)).fold(Cubes::empty(), |acc, c| acc.union(&c));
            for field in [CubeField::SrcType, CubeField::DstType] {
                base = base.clone().with_cube(field, &single).unwrap_or(base);
            }
        }
        Space { family, universe: PacketSet::from_disjoint(universe_pieces(family, &base)) }
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// Every packet that can exist here, with the fields' dependencies (ports only in the first
    /// fragment of a protocol with ports, ...) built in. Every set this space makes is a subset.
    pub fn universe(&self) -> &PacketSet {
        &self.universe
    }

    /// The packets `rule` matches.
    pub fn rule(&self, rule: &Rule) -> RuleSpace {
        let conditions = self.conditions(rule);
        RuleSpace { exact: conditions.is_exact(), over: self.over(&conditions), undecided: conditions.undecided }
    }

    /// What `rule`'s conditions narrow, field by field, before meeting the universe: cheap to
    /// build, and enough for [`Space::matches_nothing`] and the fields' hulls.
    pub fn conditions(&self, rule: &Rule) -> Conditions {
        let mut c = Conjuncts { family: self.family, set: Conditions::any(self.family) };
        if let Some(src) = &rule.src {
            c.net(CubeField::Src, src);
        }
        if let Some(dst) = &rule.dst {
            c.net(CubeField::Dst, dst);
        }
        if let Some(i) = rule.in_iface() {
            c.iface(RangeField::InIface, i);
        }
        if let Some(o) = rule.out_iface() {
            c.iface(RangeField::OutIface, o);
        }
        if let Some(p) = &rule.proto {
            c.proto(p);
        }
        if let Some(f) = rule.fragment() {
            // `-f`: second and later fragments; `! -f`: the others (IPv4 only)
            c.range(RangeField::Frag, &Ranges::point(u128::from(!f.invert)));
        }
        for m in rule.matches.iter() {
            c.matches(&m.kind, m.span);
        }
        c.set
    }

    /// The packets of the universe the conditions allow: [`RuleSpace::over`]. Each narrowed box
    /// meets each of the universe's pieces (most of which a `-p` already misses).
    pub fn over(&self, conditions: &Conditions) -> PacketSet {
        let mut boxes = Vec::new();
        for a in &conditions.boxes {
            for b in self.universe.boxes() {
                if let Some(c) = a.meet(b) {
                    boxes.push(c);
                }
            }
        }
        PacketSet::from_disjoint(boxes)
    }

    /// Whether the packets of `packet` (a subset of the universe) meet the conditions: all of
    /// them (`Some(true)`), none (`Some(false)`) or some (`None`); the undecided conditions are
    /// the caller's to look at. The same answer as comparing `packet` with [`Space::over`], since
    /// `packet` lies in the universe. A box lies in one box of the conditions exactly when each
    /// of its fields does; only a union of several (`-m multiport --ports`) can hold it without
    /// one of them holding it, and only then is [`Space::over`] built.
    pub fn decide(&self, conditions: &Conditions, packet: &PacketSet) -> Option<bool> {
        let boxes = packet.boxes();
        if boxes.iter().all(|p| conditions.boxes.iter().any(|c| c.holds(p))) {
            return Some(true);
        }
        if !boxes.iter().any(|p| conditions.boxes.iter().any(|c| c.meets(p))) {
            return Some(false);
        }
        (conditions.boxes.len() > 1 && packet.is_subset(&self.over(conditions))).then_some(true)
    }

    /// Whether the conditions allow no packet of the universe: [`Space::over`] is empty. Builds
    /// no box.
    pub fn matches_nothing(&self, conditions: &Conditions) -> bool {
        !conditions.boxes.iter().any(|a| self.universe.boxes().iter().any(|b| a.meets(b)))
    }
}

/// The universe cut by protocol and fragment, so that the absent values of the port, ICMP and
/// TCP flag fields go with exactly the packets that lack those headers.
fn universe_pieces(family: Family, base: &PacketBox) -> Vec<PacketBox> {
    let present_port = Ranges::interval(0, ABSENT_PORT - 1);
    let absent_port = Ranges::point(ABSENT_PORT);
    let present_icmp = Ranges::interval(0, super::field::ABSENT_ICMP - 1);
    let absent_icmp = Ranges::point(super::field::ABSENT_ICMP);
    let present_flags = Cubes::masked(0, ABSENT_FLAGS, CubeField::TcpFlags.width(family));
    let absent_flags = Cubes::point(ABSENT_FLAGS);
    let icmp = icmp_proto(family) as u128;
    let tcp = Proto::TCP.0 as u128;
    let other_ports =
        Ranges::from_intervals(PORT_PROTOS.iter().filter(|&&p| p != Proto::TCP.0).map(|&p| (p as u128, p as u128)));
    let with_headers =
        Ranges::from_intervals(PORT_PROTOS.iter().map(|&p| (p as u128, p as u128)).chain([(icmp, icmp)]));
    let piece = |proto: &Ranges, frag: &Ranges, ports: &Ranges, icmp: &Ranges, flags: &Cubes| {
        base.clone()
            .with_range(RangeField::Proto, proto)?
            .with_range(RangeField::Frag, frag)?
            .with_range(RangeField::Sport, ports)?
            .with_range(RangeField::Dport, ports)?
            .with_range(RangeField::Icmp, icmp)?
            .with_cube(CubeField::TcpFlags, flags)
    };
    let first = Ranges::point(0);
    let any_frag = Ranges::full(1);
    [
        piece(&Ranges::point(tcp), &first, &present_port, &absent_icmp, &present_flags),
        piece(&other_ports, &first, &present_port, &absent_icmp, &absent_flags),
        piece(&Ranges::point(icmp), &first, &absent_port, &present_icmp, &absent_flags),
        piece(&with_headers.complement(255), &any_frag, &absent_port, &absent_icmp, &absent_flags),
        piece(&with_headers, &Ranges::point(1), &absent_port, &absent_icmp, &absent_flags),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A rule's set being narrowed, conjunct by conjunct.
struct Conjuncts {
    family: Family,
    set: Conditions,
}

/// Every port (the port fields' present values).
fn ports() -> Ranges {
    Ranges::interval(0, ABSENT_PORT - 1)
}

/// `[!] lo:hi` among present ports.
fn port_range(r: &Neg<PortRange>) -> Ranges {
    let set = Ranges::interval(r.value.lo as u128, r.value.hi as u128);
    if r.invert { ports().subtract(&set) } else { set }
}

/// `value` or its complement within `within`.
fn negate(set: Ranges, invert: bool, within: &Ranges) -> Ranges {
    if invert { within.subtract(&set) } else { set.intersect(within) }
}

impl Conjuncts {
    fn range(&mut self, field: RangeField, set: &Ranges) {
        self.set.narrow_range(field, set);
    }

    fn cube(&mut self, field: CubeField, set: &Cubes) {
        self.set.narrow_cube(field, set);
    }

    fn undecided(&mut self, span: Span) {
        self.set.undecided.push(span);
    }

    fn width(&self, field: CubeField) -> u32 {
        field.width(self.family)
    }

    fn net(&mut self, field: CubeField, net: &Neg<Net>) {
        let set = match (&net.value, self.family) {
            (Net::V4 { addr, mask }, Family::Ipv4) => {
                Cubes::masked(u32::from(*addr) as u128, u32::from(*mask) as u128, self.width(field))
            }
            (Net::V6(v6), Family::Ipv6) => Cubes::masked(u128::from(v6.addr), u128::from(v6.mask), 128),
            // a host name is resolved when the rule loads; an address of the other family does
            // not load
            _ => return self.undecided(net.span),
        };
        let set = if net.invert { set.complement(self.width(field)) } else { set };
        self.cube(field, &set);
    }

    fn iface(&mut self, field: RangeField, iface: &Neg<Iface>) {
        let Some((lo, hi)) = names::pattern_interval(iface.value.as_str()) else {
            return self.undecided(iface.span);
        };
        self.range(field, &negate(Ranges::interval(lo, hi), iface.invert, &Ranges::full(names::MAX)));
    }

    fn proto(&mut self, p: &Neg<Proto>) {
        let n = p.value.0 as u128;
        let set = match (n, p.invert, self.family) {
            // IPv4 skips the test for protocol 0, `!` or not; IPv6 matches every protocol with
            // `-p all`, and `! -p all` only refuses protocol 0
            (0, _, Family::Ipv4) | (0, false, Family::Ipv6) => return,
            (_, invert, _) => negate(Ranges::point(n), invert, &Ranges::full(255)),
        };
        self.range(RangeField::Proto, &set);
    }

    /// The packets that carry ports (a first fragment of a protocol with ports).
    fn with_ports(&mut self) {
        self.range(RangeField::Sport, &ports());
    }

    fn port(&mut self, field: RangeField, r: &Option<Neg<PortRange>>) {
        if let Some(r) = r {
            self.range(field, &port_range(r));
        }
    }

    fn matches(&mut self, m: &MatchKind, span: Span) {
        match m {
            MatchKind::Tcp(t) => {
                self.with_ports();
                // the flags field is present in exactly the TCP packets with ports
                self.cube(CubeField::TcpFlags, &Cubes::masked(0, ABSENT_FLAGS, self.width(CubeField::TcpFlags)));
                self.port(RangeField::Sport, &t.sport);
                self.port(RangeField::Dport, &t.dport);
                if let Some(f) = &t.flags {
                    let w = self.width(CubeField::TcpFlags);
                    let (comp, mask) = (f.value.comp as u128, f.value.mask as u128);
                    // `flags & mask == comp`: nothing matches a comp with bits outside the mask
                    let set =
                        if comp & !mask != 0 { Cubes::empty() } else { Cubes::masked(comp, mask | ABSENT_FLAGS, w) };
                    let set = if f.invert { Cubes::masked(0, ABSENT_FLAGS, w).subtract(&set) } else { set };
                    self.cube(CubeField::TcpFlags, &set);
                }
                if let Some(o) = &t.option {
                    self.undecided(o.span);
                }
            }
            MatchKind::Udp(u) => {
                self.with_ports();
                self.port(RangeField::Sport, &u.sport);
                self.port(RangeField::Dport, &u.dport);
            }
            MatchKind::Sctp(s) => {
                self.with_ports();
                self.port(RangeField::Sport, &s.sport);
                self.port(RangeField::Dport, &s.dport);
                if let Some(c) = &s.chunks {
                    self.undecided(c.span);
                }
            }
            MatchKind::Dccp(d) => {
                self.with_ports();
                self.port(RangeField::Sport, &d.sport);
                self.port(RangeField::Dport, &d.dport);
                if let Some(t) = &d.types {
                    self.undecided(t.span);
                }
                if let Some(o) = &d.option {
                    self.undecided(o.span);
                }
            }
            MatchKind::Multiport(mp) => self.multiport(mp),
            MatchKind::Icmp(i) => self.icmp(i, true),
            MatchKind::Icmp6(i) => self.icmp(i, false),
            MatchKind::Comment(_) => {}
            MatchKind::State(s) => self.range(RangeField::CtState, &state::state(s.state.value.0, s.state.invert)),
            MatchKind::Conntrack(ct) => {
                if let Some(s) = &ct.state {
                    self.range(RangeField::CtState, &state::ctstate(s.value.0, s.invert));
                }
                // the connection's tuples, status, expiry and direction are not packet fields
                let spans = [
                    ct.proto.as_ref().map(|x| x.span),
                    ct.orig_src.as_ref().map(|x| x.span),
                    ct.orig_dst.as_ref().map(|x| x.span),
                    ct.repl_src.as_ref().map(|x| x.span),
                    ct.repl_dst.as_ref().map(|x| x.span),
                    ct.orig_src_port.as_ref().map(|x| x.span),
                    ct.orig_dst_port.as_ref().map(|x| x.span),
                    ct.repl_src_port.as_ref().map(|x| x.span),
                    ct.repl_dst_port.as_ref().map(|x| x.span),
                    ct.status.as_ref().map(|x| x.span),
                    ct.expire.as_ref().map(|x| x.span),
                ];
                for s in spans.into_iter().flatten() {
                    self.undecided(s);
                }
                if ct.dir.is_some() {
                    self.undecided(span);
                }
            }
            MatchKind::Mark(mk) | MatchKind::Connmark(mk) => {
                let field = if matches!(m, MatchKind::Mark(_)) { CubeField::Mark } else { CubeField::Connmark };
                let w = self.width(field);
                let mm = mk.mark.value;
                // `mark & mask == value`: nothing matches a value with bits outside the mask
                let set = if mm.value & !mm.mask != 0 {
                    Cubes::empty()
                } else {
                    Cubes::masked(mm.value as u128, mm.mask as u128, w)
                };
                let set = if mk.mark.invert { set.complement(w) } else { set };
                self.cube(field, &set);
                if field == CubeField::Connmark {
                    // xt_connmark: no connection (INVALID, UNTRACKED), no match, `!` or not
                    self.range(RangeField::CtState, &Ranges::interval(0, 11));
                }
            }
            MatchKind::Iprange(r) => {
                for (field, range) in [(CubeField::Src, &r.src), (CubeField::Dst, &r.dst)] {
                    if let Some(range) = range {
                        self.iprange(field, range);
                    }
                }
            }
            MatchKind::Pkttype(p) => {
                let set = negate(Ranges::point(p.pkt_type.value as u128), p.pkt_type.invert, &Ranges::full(7));
                self.range(RangeField::Pkttype, &set);
            }
            MatchKind::Mac(mac) => {
                let [a, b, c, d, e, f] = mac.source.value.0;
                let v = u64::from_be_bytes([0, 0, a, b, c, d, e, f]) as u128;
                // not an Ethernet device: no match, `!` or not
                let set =
                    negate(Ranges::point(v), mac.source.invert, &Ranges::interval(0, super::field::ABSENT_MAC - 1));
                self.range(RangeField::MacSrc, &set);
            }
            MatchKind::Length(l) => {
                let (min, max) = l.length.value;
                let set = negate(Ranges::interval(min as u128, max as u128), l.length.invert, &Ranges::full(65535));
                self.range(RangeField::Length, &set);
            }
            MatchKind::Ttl(t) | MatchKind::Hl(t) => self.range(RangeField::Ttl, &ttl(*t)),
            MatchKind::Tos(t) => {
                let set = Cubes::masked(t.tos.value.value as u128, t.tos.value.mask as u128, 8);
                let set = if t.tos.value.value & !t.tos.value.mask != 0 { Cubes::empty() } else { set };
                self.cube(CubeField::Tos, &if t.tos.invert { set.complement(8) } else { set });
            }
            MatchKind::Dscp(d) => {
                let set = Cubes::masked((d.dscp.value as u128) << 2, 0xfc, 8);
                let set = if d.dscp.value > 0x3f { Cubes::empty() } else { set };
                self.cube(CubeField::Tos, &if d.dscp.invert { set.complement(8) } else { set });
            }
            MatchKind::Addrtype(a) if !a.limit_iface_in && !a.limit_iface_out => {
                for (field, types) in [(CubeField::SrcType, &a.src), (CubeField::DstType, &a.dst)] {
                    if let Some(t) = types {
                        self.cube(field, &addr_types(t.value, t.invert, self.family));
                    }
                }
            }
            // everything else depends on state ipt cannot see (rates, lists, payload, time,
            // sockets, sets, routes, ...)
            _ => self.undecided(span),
        }
    }

    fn multiport(&mut self, mp: &Multiport) {
        self.with_ports();
        let list = Ranges::from_intervals(mp.ports.iter().map(|r| (r.lo as u128, r.hi as u128)));
        let outside = ports().subtract(&list);
        match (mp.direction, mp.invert) {
            (Direction::Source, invert) => self.range(RangeField::Sport, &negate(list, invert, &ports())),
            (Direction::Destination, invert) => self.range(RangeField::Dport, &negate(list, invert, &ports())),
            // neither port in the list
            (Direction::Either, true) => {
                self.range(RangeField::Sport, &outside);
                self.range(RangeField::Dport, &outside);
            }
            // the source port in the list, or else the destination port
            (Direction::Either, false) => {
                let mut by_source = self.clone_set();
                by_source.range(RangeField::Sport, &list);
                self.range(RangeField::Sport, &outside);
                self.range(RangeField::Dport, &list);
                let mut set = by_source.set;
                set.undecided = std::mem::take(&mut self.set.undecided);
                set.extend_disjoint(std::mem::replace(&mut self.set, Conditions::any(self.family)));
                self.set = set;
            }
        }
    }

    fn clone_set(&self) -> Conjuncts {
        Conjuncts { family: self.family, set: self.set.branch() }
    }

    fn icmp(&mut self, i: &Icmp, v4: bool) {
        let t = i.icmp_type.value;
        let present = Ranges::interval(0, super::field::ABSENT_ICMP - 1);
        // only IPv4's `any` (255, codes 0-255) is special: IPv6 compares type 255 as any other
        let set = if v4 && t.is_any() {
            present.clone()
        } else {
            let kind = (t.kind as u128) << 8;
            Ranges::interval(kind | t.code_min as u128, kind | t.code_max as u128)
        };
        self.range(RangeField::Icmp, &negate(set, i.icmp_type.invert, &present));
    }

    fn iprange(&mut self, field: CubeField, range: &Neg<IpRange>) {
        use std::net::IpAddr;
        let w = self.width(field);
        let (lo, hi) = match (range.value.min, range.value.max, self.family) {
            (IpAddr::V4(a), IpAddr::V4(b), Family::Ipv4) => (u32::from(a) as u128, u32::from(b) as u128),
            (IpAddr::V6(a), IpAddr::V6(b), Family::Ipv6) => (u128::from(a), u128::from(b)),
            _ => return self.undecided(range.span),
        };
        let set = Cubes::interval(lo, hi, w);
        self.cube(field, &if range.invert { set.complement(w) } else { set });
    }
}

/// `--ttl-eq`, `--ttl-lt`, ... as a set of TTLs.
fn ttl(t: Ttl) -> Ranges {
    let v = t.value as u128;
    match t.op {
        TtlOp::Eq => Ranges::point(v),
        TtlOp::Ne => Ranges::point(v).complement(255),
        TtlOp::Lt if v == 0 => Ranges::empty(),
        TtlOp::Lt => Ranges::interval(0, v - 1),
        TtlOp::Gt => Ranges::interval(v + 1, 255),
    }
}

/// The type sets `-m addrtype` with `types` matches (with `!`, the others).
///
/// IPv4 (`match_type` in `xt_addrtype.c`): the address's one routing type is among `types`.
/// IPv6 (`match_type6`): every one of MULTICAST, UNICAST and UNSPEC in `types` holds of the
/// address, and when `types` has LOCAL, ANYCAST or UNREACHABLE, its route is one of those;
/// the other names are not tested at all.
fn addr_types(types: AddrTypes, invert: bool, family: Family) -> Cubes {
    let mask = types.0 as u128 & 0xfff;
    let matched = match family {
        // no common bit: one pattern, every bit of the mask zero
        Family::Ipv4 => Cubes::masked(0, mask, 12).complement(12),
        Family::Ipv6 => {
            // bits of crate::ext::addrtype::NAMES
            const KIND: u128 = 1 << 0 | 1 << 1 | 1 << 5; // UNSPEC, UNICAST, MULTICAST
            const ROUTE: u128 = 1 << 2 | 1 << 4 | 1 << 7; // LOCAL, ANYCAST, UNREACHABLE
            let kind = mask & KIND;
            let all_kinds = Cubes::masked(kind, kind, 12);
            let route = mask & ROUTE;
            if route == 0 {
                all_kinds
            } else {
                let some_route = (0..12)
                    .filter(|b| route & (1 << b) != 0)
                    .fold(Cubes::empty(), |acc, b| acc.union(&Cubes::masked(1 << b, 1 << b, 12)));
                all_kinds.intersect(&some_route)
            }
        }
    };
    if invert { matched.complement(12) } else { matched }
}
