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

/// Tests a rule's conditions: whether it matches (`None`: undecided) and each condition tested.
pub fn test(space: &Space, packet: &PacketSet, pkt: &Pkt, rule: &Rule) -> (Option<bool>, Vec<Condition>) {
    let mut conditions = Vec::new();
    let mut outcome = Some(true);
    let bare = || Rule::new(rule.line, rule.span, Box::new([]), Target { span: rule.span, kind: TargetKind::Continue });
    let mut parts: Vec<(Part<'_>, Rule, String)> = Vec::new();
    if let Some(src) = &rule.src {
        let mut r = bare();
        r.src = Some(src.clone());
        let mut text = String::new();
        src.save(&mut text, "-s", &src.value);
        parts.push((Part::Src, r, text));
    }
    if let Some(dst) = &rule.dst {
        let mut r = bare();
        r.dst = Some(dst.clone());
        let mut text = String::new();
        dst.save(&mut text, "-d", &dst.value);
        parts.push((Part::Dst, r, text));
    }
    if let Some(i) = rule.in_iface() {
        let mut r = bare();
        r.set_in_iface(Some(i.clone()));
        let mut text = String::new();
        i.save(&mut text, "-i", i.value);
        parts.push((Part::InIface, r, text));
    }
    if let Some(o) = rule.out_iface() {
        let mut r = bare();
        r.set_out_iface(Some(o.clone()));
        let mut text = String::new();
        o.save(&mut text, "-o", o.value);
        parts.push((Part::OutIface, r, text));
    }
    if let Some(p) = &rule.proto {
        let mut r = bare();
        r.proto = Some(p.clone());
        let mut text = String::new();
        p.save(&mut text, "-p", p.value);
        parts.push((Part::Proto, r, text));
    }
    if let Some(f) = rule.fragment() {
        let mut r = bare();
        r.set_fragment(Some(f.clone()));
        let text = if f.invert { " ! -f" } else { " -f" }.to_string();
        parts.push((Part::Fragment, r, text));
    }
    for m in rule.matches.iter() {
        let mut r = bare();
        r.matches = Box::new([m.clone()]);
        let mut text = format!(" -m {}", m.kind.name());
        m.kind.save(&mut text);
        parts.push((Part::Match(m), r, text));
    }
    for (part, r, text) in parts {
        let set = space.rule(&r);
        let holds = if !set.exact {
            None
        } else if packet.is_subset(&set.over) {
            Some(true)
        } else if !packet.intersects(&set.over) {
            Some(false)
        } else {
            None
        };
        let why = if set.exact { why(&part, pkt) } else { UNSEEN.to_string() };
        let why = match holds {
            None if set.exact => format!("{why}: unknown, so undecided"),
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
            MatchKind::Connmark(_) => format!("the connection mark is {:#x}", pkt.connmark),
            MatchKind::Addrtype(_) => {
                format!("the source is {}, the destination {}", pkt.src_type_text(), pkt.dst_type_text())
            }
            MatchKind::Iprange(_) => format!("the source is {}, the destination {}", pkt.src_text(), pkt.dst_text()),
            MatchKind::Length(_) => format!("the length is {}", pkt.length),
            MatchKind::Ttl(_) => format!("the TTL is {}", pkt.ttl),
            MatchKind::Hl(_) => format!("the hop limit is {}", pkt.ttl),
            MatchKind::Tos(_) | MatchKind::Dscp(_) | MatchKind::Ecn(_) => format!("the TOS byte is {:#04x}", pkt.tos),
            MatchKind::Pkttype(_) => "the packet is unicast".to_string(),
            MatchKind::Mac(_) => "the source MAC address".to_string(),
            MatchKind::Comment(_) => "a comment always holds".to_string(),
            _ => "the packet's headers".to_string(),
        },
    }
}
