//! The packet asked about: what the question gives, and the defaults ipt takes for the rest
//! (each one said in words, in [`Query::assumed`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::routes::{self, Route};
use super::{Backend, addr_text};
use crate::model::{Family, Proto};

/// The conntrack state a packet starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CtBase {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl CtBase {
    pub fn parse(text: &str) -> Option<CtBase> {
        Some(match text.to_ascii_lowercase().as_str() {
            "new" => CtBase::New,
            "established" => CtBase::Established,
            "related" => CtBase::Related,
            "invalid" => CtBase::Invalid,
            "untracked" => CtBase::Untracked,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CtBase::New => "new",
            CtBase::Established => "established",
            CtBase::Related => "related",
            CtBase::Invalid => "invalid",
            CtBase::Untracked => "untracked",
        }
    }

    /// The state value of [`crate::space::state`] (no NAT bits).
    pub fn value(self) -> u128 {
        match self {
            CtBase::Established => 0,
            CtBase::Related => 4,
            CtBase::New => 8,
            CtBase::Invalid => 12,
            CtBase::Untracked => 13,
        }
    }
}

/// The question, as given (a command line's options).
#[derive(Clone, Debug, Default)]
pub struct Ask {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    /// A protocol name or number.
    pub proto: Option<String>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// `TYPE[/CODE]`, by number or name.
    pub icmp_type: Option<String>,
    /// `SYN,ACK`, `none`, ...
    pub tcp_flags: Option<String>,
    pub in_iface: Option<String>,
    pub out_iface: Option<String>,
    pub state: Option<CtBase>,
    pub mark: Option<u32>,
    /// TTL (IPv4) or hop limit (IPv6) on arrival.
    pub ttl: Option<u8>,
    pub local: Vec<IpAddr>,
    pub routes: Vec<Route>,
    /// `LINE=yes|no`.
    pub assume: BTreeMap<u32, bool>,
    pub backend: Backend,
}

/// The question with every default taken.
#[derive(Clone, Debug)]
pub struct Query {
    pub family: Family,
    pub proto: u8,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    pub tcp_flags: Option<u8>,
    pub in_iface: Option<String>,
    pub out_iface: Option<String>,
    pub state: CtBase,
    pub mark: u32,
    /// TTL (IPv4) or hop limit (IPv6) as the packet starts out.
    pub ttl: u8,
    /// The source is this host.
    pub src_local: bool,
    /// The destination is this host.
    pub dst_local: bool,
    pub local: Vec<IpAddr>,
    pub routes: Vec<Route>,
    pub assume: BTreeMap<u32, bool>,
    pub backend: Backend,
    pub assumed: Vec<String>,
}

/// Why a question cannot be asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("`--src {src}` and `--dst {dst}` are not of one family")]
    MixedFamilies { src: String, dst: String },
    #[error("unknown protocol `{0}` (a name like tcp, udp, icmp, icmpv6, or a number 0-255)")]
    BadProto(String),
    #[error("`{0}`: {1}")]
    BadIcmp(String, String),
    #[error("unknown TCP flag `{0}` (FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, or `none`)")]
    BadFlag(String),
    #[error("`{option}` applies only to {protos}")]
    NotForProto { option: &'static str, protos: &'static str },
}

pub(super) const FLAG_NAMES: [(&str, u8); 8] = [
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ECE", 0x40),
    ("CWR", 0x80),
];

fn parse_flags(text: &str) -> Result<u8, QueryError> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(0);
    }
    let mut bits = 0;
    for word in text.split(',') {
        let word = word.trim();
        let bit = FLAG_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(word))
            .map(|&(_, b)| b)
            // harness letters: S, SA, A, F, R, P
            .or_else(|| {
                (!word.is_empty() && word.len() <= 8 && word.chars().all(|c| "FSRPAUEC".contains(c))).then(|| {
                    word.chars().map(|c| FLAG_NAMES["FSRPAUEC".find(c).expect("checked")].1).fold(0, |a, b| a | b)
                })
            })
            .ok_or_else(|| QueryError::BadFlag(word.to_string()))?;
        bits |= bit;
    }
    Ok(bits)
}

pub(super) fn flags_text(bits: u8) -> Vec<&'static str> {
    FLAG_NAMES.iter().filter(|&&(_, b)| bits & b != 0).map(|&(n, _)| n).collect()
}

fn is_loopback(a: IpAddr) -> bool {
    a.is_loopback()
}

impl Query {
    /// Takes the defaults `docs/explain.md` lists, saying each in words.
    pub fn new(ask: Ask) -> Result<Query, QueryError> {
        let mut assumed = Vec::new();
        let family = match (ask.src, ask.dst) {
            (Some(s), Some(d)) if s.is_ipv4() != d.is_ipv4() => {
                return Err(QueryError::MixedFamilies { src: addr_text(s), dst: addr_text(d) });
            }
            (Some(a), _) | (None, Some(a)) => {
                if a.is_ipv4() {
                    Family::Ipv4
                } else {
                    Family::Ipv6
                }
            }
            (None, None) => {
                assumed.push("the packet is IPv4 (no address given)".to_string());
                Family::Ipv4
            }
        };
        let icmp_proto = if family == Family::Ipv4 { Proto::ICMP.0 } else { Proto::ICMPV6.0 };
        let proto = match &ask.proto {
            Some(p) => match p.to_ascii_lowercase().as_str() {
                "icmp" | "icmpv6" | "ipv6-icmp" => icmp_proto,
                other => Proto::parse_number(other).ok_or_else(|| QueryError::BadProto(p.clone()))?,
            },
            None if ask.icmp_type.is_some() => icmp_proto,
            None => {
                assumed.push("the protocol is tcp".to_string());
                Proto::TCP.0
            }
        };
        let has_ports = crate::space::field::PORT_PROTOS.contains(&proto);
        if !has_ports && (ask.sport.is_some() || ask.dport.is_some()) {
            return Err(QueryError::NotForProto {
                option: "--sport/--dport",
                protos: "tcp, udp, udplite, sctp and dccp",
            });
        }
        if proto != icmp_proto && ask.icmp_type.is_some() {
            return Err(QueryError::NotForProto { option: "--icmp-type", protos: "icmp and icmpv6" });
        }
        if proto != Proto::TCP.0 && ask.tcp_flags.is_some() {
            return Err(QueryError::NotForProto { option: "--tcp-flags", protos: "tcp" });
        }
        let (sport, dport) = if has_ports {
            let sport = ask.sport.unwrap_or_else(|| {
                assumed.push("the source port is 40000".to_string());
                40000
            });
            let dport = ask.dport.unwrap_or_else(|| {
                let port = if proto == Proto::UDP.0 { 53 } else { 80 };
                assumed.push(format!("the destination port is {port}"));
                port
            });
            (Some(sport), Some(dport))
        } else {
            (None, None)
        };
        let icmp = if proto == icmp_proto {
            let names =
                if family == Family::Ipv4 { crate::ext::icmp::ICMP_NAMES } else { crate::ext::icmp::ICMPV6_NAMES };
            match &ask.icmp_type {
                Some(text) => {
                    let t = crate::ext::icmp::parse_icmp_type(text, names)
                        .map_err(|e| QueryError::BadIcmp(text.clone(), e))?;
                    Some((t.kind, t.code_min))
                }
                None => {
                    assumed.push("the ICMP message is an echo request".to_string());
                    Some((if family == Family::Ipv4 { 8 } else { 128 }, 0))
                }
            }
        } else {
            None
        };
        let tcp_flags = if proto == Proto::TCP.0 {
            Some(match &ask.tcp_flags {
                Some(text) => parse_flags(text)?,
                None => {
                    assumed.push("the TCP flags are SYN (the first packet of a connection)".to_string());
                    0x02
                }
            })
        } else {
            None
        };
        if let Some(CtBase::Established | CtBase::Related) = ask.state {
            assumed.push("the connection's mark is 0 and it has no NAT (ipt cannot see the connection)".to_string());
        }
        let state = ask.state.unwrap_or_else(|| {
            let state = lone_packet_state(family, proto, tcp_flags, icmp);
            assumed
                .push(format!("the conntrack state is {} (what conntrack gives such a lone packet)", state.as_str()));
            state
        });
        let is_local_addr = |a: IpAddr| is_loopback(a) || ask.local.contains(&a);
        let src_local = ask.src.is_some_and(is_local_addr);
        let group = |d: IpAddr| match d {
            IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast(),
            IpAddr::V6(v6) => v6.is_multicast(),
        };
        let dst_local = match ask.dst {
            Some(d) if is_local_addr(d) => true,
            Some(d) if group(d) && !src_local => {
                assumed.push(format!(
                    "{} is a multicast or broadcast address this host receives (it is delivered here, never forwarded)",
                    addr_text(d)
                ));
                true
            }
            Some(d) if ask.local.is_empty() && !src_local && ask.out_iface.is_none() => {
                assumed.push(format!("{} is this host's address (no --local given)", addr_text(d)));
                true
            }
            Some(_) => false,
            None => {
                assumed.push("the destination is this host (no --dst given): tests of it are undecided".to_string());
                true
            }
        };
        if ask.src.is_none() && !src_local {
            assumed.push("the source is another host (no --src given): tests of it are undecided".to_string());
        }
        let mut in_iface = ask.in_iface.clone();
        if src_local {
            if in_iface.is_some() {
                assumed.push("--in-iface is ignored: the packet is generated here".to_string());
            }
            in_iface = None;
        } else if in_iface.is_none() {
            match ask.src.and_then(|s| routes::lookup(&ask.routes, s)).and_then(|r| r.dev.clone()) {
                Some(dev) => {
                    assumed.push(format!("it arrives on {dev}, where the route back to its source goes"));
                    in_iface = Some(dev);
                }
                None => assumed.push("the input interface is unknown: `-i` tests are undecided".to_string()),
            }
        }
        let mark = ask.mark.unwrap_or(0);
        let ttl = ask.ttl.unwrap_or_else(|| {
            // neighbour discovery must arrive with hop limit 255, MLD with 1
            let ttl = match (family, icmp) {
                (Family::Ipv6, Some((133..=137, _))) => 255,
                (Family::Ipv6, Some((130..=132 | 143, _))) => 1,
                _ => 64,
            };
            let name = if family == Family::Ipv4 { "TTL" } else { "hop limit" };
            assumed.push(format!("the {name} is {ttl} as it starts out"));
            ttl
        });
        Ok(Query {
            family,
            proto,
            src: ask.src,
            dst: ask.dst,
            sport,
            dport,
            icmp,
            tcp_flags,
            in_iface,
            out_iface: ask.out_iface,
            state,
            mark,
            ttl,
            src_local,
            dst_local,
            local: ask.local,
            routes: ask.routes,
            assume: ask.assume,
            backend: ask.backend,
            assumed,
        })
    }

    /// Whether an address is this host's.
    pub fn is_local(&self, a: IpAddr) -> bool {
        is_loopback(a) || self.local.contains(&a) || (self.dst == Some(a) && self.dst_local)
    }

    pub(super) fn packet_json(&self) -> PacketJson {
        PacketJson {
            family: match self.family {
                Family::Ipv4 => "ipv4",
                Family::Ipv6 => "ipv6",
            },
            proto: Proto(self.proto).to_string(),
            src: self.src.map(addr_text),
            dst: self.dst.map(addr_text),
            sport: self.sport,
            dport: self.dport,
            icmp_type: self.icmp.map(|(t, _)| t),
            icmp_code: self.icmp.map(|(_, c)| c),
            tcp_flags: self.tcp_flags.map(flags_text),
            state: self.state.as_str(),
            mark: self.mark,
            in_iface: self.in_iface.clone(),
            out_iface: self.out_iface.clone(),
        }
    }
}

/// What conntrack makes of a packet that starts no known connection (NETFILTER.md): a SYN or
/// a lone ACK is NEW (`tcp_loose`); SYN,ACK, RST, FIN and no flags are INVALID; an ICMP echo
/// request is NEW, an echo reply or an error INVALID; IPv6 neighbour discovery and MLD are
/// UNTRACKED; anything else NEW.
fn lone_packet_state(family: Family, proto: u8, flags: Option<u8>, icmp: Option<(u8, u8)>) -> CtBase {
    if let Some(f) = flags {
        let (syn, ack, rst, fin) = (f & 0x02 != 0, f & 0x10 != 0, f & 0x04 != 0, f & 0x01 != 0);
        return if rst || fin || (syn && ack) || f == 0 || (!syn && !ack) { CtBase::Invalid } else { CtBase::New };
    }
    if let Some((t, _)) = icmp {
        // nf_conntrack_icmpv6_error: neighbour discovery and MLD are never tracked
        if family == Family::Ipv6 && matches!(t, 130..=136 | 143) {
            return CtBase::Untracked;
        }
        let request = match family {
            Family::Ipv4 => matches!(t, 8 | 13 | 15 | 17),
            Family::Ipv6 => matches!(t, 128 | 139),
        };
        return if request { CtBase::New } else { CtBase::Invalid };
    }
    let _ = proto;
    CtBase::New
}

/// The packet as asked, in the JSON.
#[derive(Clone, Debug, Serialize)]
pub struct PacketJson {
    pub family: &'static str,
    pub proto: String,
    pub src: Option<String>,
    pub dst: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_flags: Option<Vec<&'static str>>,
    pub state: &'static str,
    pub mark: u32,
    pub in_iface: Option<String>,
    pub out_iface: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(src: &str, dst: Option<&str>) -> Ask {
        Ask { src: Some(src.parse().unwrap()), dst: dst.map(|d| d.parse().unwrap()), ..Ask::default() }
    }

    #[test]
    fn the_short_question_takes_stated_defaults() {
        let mut a = ask("10.0.0.2", None);
        a.dport = Some(22);
        let q = Query::new(a).unwrap();
        assert_eq!((q.proto, q.sport, q.dport, q.tcp_flags, q.state), (6, Some(40000), Some(22), Some(2), CtBase::New));
        assert!(q.dst_local && !q.src_local);
        assert_eq!(
            q.assumed,
            [
                "the protocol is tcp",
                "the source port is 40000",
                "the TCP flags are SYN (the first packet of a connection)",
                "the conntrack state is new (what conntrack gives such a lone packet)",
                "the destination is this host (no --dst given): tests of it are undecided",
                "the input interface is unknown: `-i` tests are undecided",
                "the TTL is 64 as it starts out",
            ]
        );
    }

    #[test]
    fn a_lone_packet_gets_the_state_conntrack_gives_it() {
        let state = |flags: &str| {
            let mut a = ask("192.0.2.2", Some("192.0.2.1"));
            a.tcp_flags = Some(flags.into());
            Query::new(a).unwrap().state
        };
        assert_eq!(state("SYN"), CtBase::New);
        assert_eq!(state("ACK"), CtBase::New);
        assert_eq!(state("PSH,ACK"), CtBase::New);
        assert_eq!(state("SYN,ACK"), CtBase::Invalid);
        assert_eq!(state("RST"), CtBase::Invalid);
        assert_eq!(state("FIN,ACK"), CtBase::Invalid);
        assert_eq!(state("none"), CtBase::Invalid);
        let mut reply = ask("192.0.2.2", Some("192.0.2.1"));
        reply.icmp_type = Some("echo-reply".into());
        assert_eq!(Query::new(reply).unwrap().state, CtBase::Invalid);
    }

    #[test]
    fn neighbour_discovery_is_untracked_and_arrives_with_hop_limit_255() {
        let mut a = ask("fe80::2", Some("ff02::1:ff00:1"));
        a.icmp_type = Some("neighbour-solicitation".into());
        let q = Query::new(a).unwrap();
        assert_eq!((q.state, q.ttl, q.dst_local), (CtBase::Untracked, 255, true));
        let mut mld = ask("fe80::2", Some("ff02::16"));
        mld.icmp_type = Some("143".into());
        let q = Query::new(mld).unwrap();
        assert_eq!((q.state, q.ttl), (CtBase::Untracked, 1));
    }

    #[test]
    fn local_addresses_decide_the_direction() {
        let mut a = ask("192.0.2.1", Some("203.0.113.9"));
        a.local = vec!["192.0.2.1".parse().unwrap()];
        let q = Query::new(a).unwrap();
        assert!(q.src_local && !q.dst_local);
        let mut b = ask("192.0.2.2", Some("203.0.113.9"));
        b.local = vec!["192.0.2.1".parse().unwrap()];
        let q = Query::new(b).unwrap();
        assert!(!q.src_local && !q.dst_local);
    }

    #[test]
    fn bad_questions_are_refused() {
        let mut a = ask("192.0.2.2", Some("2001:db8::1"));
        assert!(matches!(Query::new(a.clone()), Err(QueryError::MixedFamilies { .. })));
        a.dst = None;
        a.proto = Some("icmp".into());
        a.dport = Some(22);
        assert!(matches!(Query::new(a), Err(QueryError::NotForProto { .. })));
    }
}
