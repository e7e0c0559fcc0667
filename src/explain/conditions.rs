//! Testing one rule on the packet, condition by condition, in the kernel's order: the address,
//! interface, protocol and fragment tests first, then each `-m` match; the first that fails
//! ends the rule (later ones are not tested, as in the kernel).
//!
//! Each condition is compiled to its exact packet set ([`crate::space`]) and compared with the
//! packet: the packet is a point, or a box when some of its fields are unknown (an address or
//! an interface the question left out). The condition holds when the box lies inside its set,
//! fails when the box misses it, and is undecided otherwise, or when the condition itself
//! depends on what ipt cannot see.

use serde::Serialize;

use super::walk::Pkt;
use crate::model::{Match, MatchKind, Rule, Target, TargetKind};
use crate::space::{PacketSet, Space};

/// One condition of a rule, tested.
#[derive(Clone, Debug, Serialize)]
pub struct Condition {
    /// The condition as iptables-save writes it (`-p tcp`, `-m tcp --dport 22`).
    pub test: String,
    /// `null` when undecided.
    pub holds: Option<bool>,
    pub why: String,
}

/// What a condition reads, for the `why`.
enum Part<'r> {
    Src,
    Dst,
    InIface,
    OutIface,
    Proto,
    Fragment,
    Match(&'r Match),
}

/// Tests a rule's conditions: whether it matches (`None`: undecided) and each condition tested,
/// up to the first that fails.
pub fn test(space: &Space, packet: &PacketSet, pkt: &Pkt, rule: &Rule) -> (Option<bool>, Vec<Condition>) {
    let mut conditions = Vec::new();
    let mut outcome = Some(true);
    let bare = || Rule::new(rule.line, rule.span, Box::new([]), Target { span: rule.span, kind: TargetKind::Continue });
    // the parts in the kernel's order, each made only when the ones before it did not fail
    let count = 6 + rule.matches.len();
    for step in 0..count {
        let mut r = bare();
        let mut text = String::new();
        let part = match step {
            0 => match &rule.src {
                Some(src) => {
                    src.save(&mut text, "-s", &src.value);
                    r.src = Some(src.clone());
                    Part::Src
                }
                None => continue,
            },
            1 => match &rule.dst {
                Some(dst) => {
                    dst.save(&mut text, "-d", &dst.value);
                    r.dst = Some(dst.clone());
                    Part::Dst
                }
                None => continue,
            },
            2 => match rule.in_iface() {
                Some(i) => {
                    i.save(&mut text, "-i", i.value);
                    r.set_in_iface(Some(i.clone()));
                    Part::InIface
                }
                None => continue,
            },
            3 => match rule.out_iface() {
                Some(o) => {
                    o.save(&mut text, "-o", o.value);
                    r.set_out_iface(Some(o.clone()));
                    Part::OutIface
                }
                None => continue,
            },
            4 => match &rule.proto {
                Some(p) => {
                    p.save(&mut text, "-p", p.value);
                    r.proto = Some(p.clone());
                    Part::Proto
                }
                None => continue,
            },
            5 => match rule.fragment() {
                Some(f) => {
                    text.push_str(if f.invert { " ! -f" } else { " -f" });
                    r.set_fragment(Some(f.clone()));
                    Part::Fragment
                }
                None => continue,
            },
            _ => {
                let m = &rule.matches[step - 6];
                text.push_str(" -m ");
                text.push_str(m.kind.name());
                m.kind.save(&mut text);
                r.matches = Box::new([m.clone()]);
                Part::Match(m)
            }
        };
        // an address test on a known address needs no set
        let direct = match (&part, &r.src, &r.dst) {
            (Part::Src, Some(net), _) => pkt.src.and_then(|a| net_holds(net, a)),
            (Part::Dst, _, Some(net)) => pkt.dst.and_then(|a| net_holds(net, a)),
            _ => None,
        };
        let (holds, exact) = match direct {
            Some(h) => (Some(h), true),
            None => {
                let conditions = space.conditions(&r);
                let exact = conditions.is_exact();
                (if exact { space.decide(&conditions, packet) } else { None }, exact)
            }
        };
        let why = if exact { why(&part, pkt) } else { UNSEEN.to_string() };
        let why = match holds {
            None if exact => format!("{why}: unknown, so undecided"),
            _ => why,
        };
        conditions.push(Condition { test: text.trim_start().to_string(), holds, why });
        match holds {
            Some(false) => return (Some(false), conditions),
            None => outcome = None,
            Some(true) => {}
        }
    }
    (outcome, conditions)
}

/// `[!] -s/-d NET` on a known address; `None` for a host name (resolved only when the kernel
/// loads the rule).
fn net_holds(net: &crate::model::Neg<crate::model::Net>, addr: std::net::IpAddr) -> Option<bool> {
    use crate::model::Net;
    use std::net::IpAddr;
    let inside = match (&net.value, addr) {
        (Net::V4 { addr: n, mask }, IpAddr::V4(a)) => u32::from(a) & u32::from(*mask) == u32::from(*n),
        (Net::V6(v6), IpAddr::V6(a)) => u128::from(a) & u128::from(v6.mask) == u128::from(v6.addr),
        (Net::Name(_), _) => return None,
        // another family's address never matches
        _ => false,
    };
    Some(inside != net.invert)
}

const UNSEEN: &str = "depends on what ipt cannot see (rates, history, set contents, time, payload, sockets, ...)";

fn why(part: &Part<'_>, pkt: &Pkt) -> String {
    match part {
        Part::Src => format!("the source is {}", pkt.src_text()),
        Part::Dst => format!("the destination is {}", pkt.dst_text()),
        Part::InIface => match &pkt.in_iface {
            super::walk::IfaceVal::None => "there is no input interface".to_string(),
            super::walk::IfaceVal::Known(n) => format!("the input interface is {n}"),
            super::walk::IfaceVal::Unknown => "the input interface".to_string(),
        },
        Part::OutIface => match &pkt.out_iface {
            super::walk::IfaceVal::None => "there is no output interface yet".to_string(),
            super::walk::IfaceVal::Known(n) => format!("the output interface is {n}"),
            super::walk::IfaceVal::Unknown => "the output interface".to_string(),
        },
        Part::Proto => format!("the protocol is {}", crate::model::Proto(pkt.proto)),
        Part::Fragment => "the packet is not a fragment".to_string(),
        Part::Match(m) => match &m.kind {
            MatchKind::Tcp(_) => format!("{}, flags {}", pkt.ports_text(), pkt.flags_text()),
            MatchKind::Udp(_) | MatchKind::Multiport(_) | MatchKind::Sctp(_) | MatchKind::Dccp(_) => pkt.ports_text(),
            MatchKind::Icmp(_) | MatchKind::Icmp6(_) => match pkt.icmp {
                Some((t, c)) => format!("the ICMP type is {t}, code {c}"),
                None => "the packet is not ICMP".to_string(),
            },
            MatchKind::Conntrack(_) | MatchKind::State(_) => format!("the conntrack state is {}", pkt.state_text()),
            MatchKind::Mark(_) => format!("the mark is {:#x}", pkt.mark),
            MatchKind::Connmark(_) if pkt.ct >= 12 => "the packet has no connection".to_string(),
            MatchKind::Connmark(_) => format!("the connection mark is {:#x}", pkt.connmark),
            MatchKind::Addrtype(_) => {
                format!("the source is {}, the destination {}", pkt.src_type_text(), pkt.dst_type_text())
            }
            MatchKind::Iprange(_) => format!("the source is {}, the destination {}", pkt.src_text(), pkt.dst_text()),
            MatchKind::Length(_) => format!("the length is {}", pkt.length),
            MatchKind::Ttl(_) => format!("the TTL is {}", pkt.ttl),
            MatchKind::Hl(_) => format!("the hop limit is {}", pkt.ttl),
            MatchKind::Tos(_) | MatchKind::Dscp(_) | MatchKind::Ecn(_) => format!("the TOS byte is {:#04x}", pkt.tos),
            MatchKind::Pkttype(_) => match pkt.dst {
                Some(std::net::IpAddr::V4(v4)) if v4.is_broadcast() => "the packet is broadcast".to_string(),
                Some(a) if a.is_multicast() => "the packet is multicast".to_string(),
                _ => "the packet is unicast (to this host's link address)".to_string(),
            },
            MatchKind::Mac(_) => "the source MAC address".to_string(),
            MatchKind::Comment(_) => "a comment always holds".to_string(),
            _ => "the packet's headers".to_string(),
        },
    }
}
