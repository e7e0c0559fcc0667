//! nft expressions as the kernel runs them (`payload`, `cmp`, `lookup`, ...), built from a rule's
//! libnftables JSON ([`crate::nft`]'s `rule_exprs`) the way nft 1.0.6 builds them, so that nft
//! lists an applied ruleset exactly as one loaded with `nft -f`. What is not covered yet is an
//! [`Unsupported`] naming the fragment: a rule is built whole or refused, never sent half-built.
//!
//! Safe descriptions only: `sys` turns them into libnftnl objects.

use std::net::{Ipv4Addr, Ipv6Addr};

use nftnl::nftnl_sys as sys;
use serde_json::Value as Json;

/// One attribute of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attr {
    U8(u8),
    U32(u32),
    U64(u64),
    Data(Vec<u8>),
    Str(String),
}

/// One kernel expression: its name (`payload`, `cmp`) and attributes (`NFTNL_EXPR_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Low {
    pub name: &'static str,
    pub attrs: Vec<(u32, Attr)>,
}

/// An anonymous set (or verdict map) a rule looks up.
#[derive(Clone, Debug, Default)]
pub struct SetSpec {
    /// `__set%d` or `__map%d`: the kernel numbers it.
    pub name: String,
    /// Unique in the batch: the lookup finds the set by it.
    pub id: u32,
    pub flags: u32,
    pub key_type: u32,
    pub key_len: u32,
    /// `NFT_DATA_VERDICT` for a verdict map.
    pub data_type: Option<u32>,
    /// The length of each field of a concatenation (bytes, unpadded).
    pub fields: Vec<u8>,
    pub udata: Vec<u8>,
    pub elements: Vec<Element>,
}

#[derive(Clone, Debug, Default)]
pub struct Element {
    pub key: Vec<u8>,
    pub key_end: Option<Vec<u8>>,
    pub flags: u32,
    /// A verdict map's verdict, and its chain for jump and goto.
    pub verdict: Option<(i32, Option<String>)>,
    pub udata: Vec<u8>,
}

/// A JSON fragment `ipt apply` cannot build yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

type R<T> = Result<T, Unsupported>;

fn unsupported<T>(what: &Json) -> R<T> {
    Err(Unsupported(what.to_string()))
}

// nft's datatypes (nftables `include/datatype.h`): what `nft list` prints set elements as
const TYPE_NFPROTO: u32 = 2;
const TYPE_INTEGER: u32 = 4;
const TYPE_TCP_FLAG: u32 = 15;
const TYPE_ETHERADDR: u32 = 9;
const TYPE_TIME: u32 = 18;
const TYPE_DSCP: u32 = 36;
const TYPE_CLASSID: u32 = 23;
const TYPE_UID: u32 = 24;
const TYPE_GID: u32 = 25;
const TYPE_CT_DIR: u32 = 27;
const TYPE_ICMP6_TYPE: u32 = 29;
const TYPE_PKTTYPE: u32 = 31;
const TYPE_ICMP_CODE: u32 = 32;
const TYPE_ICMPV6_CODE: u32 = 33;
const TYPE_BOOLEAN: u32 = 39;
const TYPE_IPADDR: u32 = 7;
const TYPE_IP6ADDR: u32 = 8;
const TYPE_INET_PROTOCOL: u32 = 12;
const TYPE_INET_SERVICE: u32 = 13;
const TYPE_ICMP_TYPE: u32 = 14;
const TYPE_MARK: u32 = 19;
const TYPE_CT_STATE: u32 = 26;
const TYPE_CT_STATUS: u32 = 28;
const TYPE_FIB_ADDR: u32 = 38;
const TYPE_IFNAME: u32 = 41;
const TYPE_BITS: u32 = 6;

const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
const REG32_00: u32 = 8;
const NFT_DATA_VERDICT: u32 = 0xffff_ff00;
pub(super) const SET_ANONYMOUS: u32 = 0x1;
const SET_CONSTANT: u32 = 0x2;
const SET_INTERVAL: u32 = 0x4;
const SET_MAP: u32 = 0x8;
pub(super) const SET_CONCAT: u32 = 0x80;
const ELEM_INTERVAL_END: u32 = 0x1;

/// What a key loads, and how its values are written.
#[derive(Clone, Debug)]
struct KeyDesc {
    load: Load,
    len: u32,
    host_order: bool,
    type_id: u32,
}

#[derive(Clone, Debug)]
enum Load {
    Payload {
        base: u32,
        offset: u32,
    },
    Meta(u32),
    /// A conntrack key, and the direction (0 original, 1 reply) for the keys that have one.
    Ct(u32, Option<u8>),
    /// A payload field narrower than its bytes (`ip dscp`): loaded, then masked.
    Masked {
        base: u32,
        offset: u32,
        mask: Vec<u8>,
    },
    /// An Ethernet header field, at this offset of the link-layer header.
    Ether(u32),
    /// `tcp option KIND`: whether the option is present.
    TcpOption(u8),
    /// `fib FLAGS type`: its `NFTA_FIB_F_*` flags.
    Fib(u32),
    /// An IPv6 extension header: its type, and either whether it is there (`exthdr frag
    /// missing`) or a field (offset in the header, then the mask of its bits and how far they
    /// sit from bit 0: `frag frag-off 0`).
    Exthdr6 {
        kind: u8,
        offset: u32,
        present: bool,
        mask: Option<Vec<u8>>,
        shift: u8,
    },
}

impl KeyDesc {
    /// The expressions that put the key in `dreg`: a load, and for some keys a mask or a
    /// dependency test before it.
    fn load(&self, dreg: u32) -> Vec<Low> {
        match self.load {
            Load::Masked { base, offset, ref mask } => {
                let load = Load::Payload { base, offset };
                let k = KeyDesc { load, ..self.clone() };
                vec![k.load_len(dreg, self.len, 0), bitwise_reg(dreg, self.len, mask.clone(), vec![0; mask.len()])]
            }
            Load::Ether(offset) => {
                // nft tests the interface type first: only Ethernet frames have these bytes
                let iiftype = KeyDesc {
                    load: Load::Meta(libc::NFT_META_IIFTYPE as u32),
                    len: 2,
                    host_order: true,
                    type_id: TYPE_INTEGER,
                };
                let load = Load::Payload { base: 0, offset };
                let k = KeyDesc { load, ..self.clone() };
                let mut out = iiftype.load(REG_1);
                out.push(cmp(libc::NFT_CMP_EQ as u32, 1u16.to_ne_bytes().to_vec())); // ARPHRD_ETHER
                out.push(k.load_len(dreg, self.len, 0));
                out
            }
            Load::Exthdr6 { mask: Some(ref mask), .. } => {
                vec![self.load_len(dreg, self.len, 0), bitwise_reg(dreg, self.len, mask.clone(), vec![0; mask.len()])]
            }
            _ => vec![self.load_len(dreg, self.len, 0)],
        }
    }

    /// Loads `len` bytes from `skip` bytes in (a prefix test loads only the prefix's bytes).
    fn load_len(&self, dreg: u32, len: u32, skip: u32) -> Low {
        match self.load {
            Load::Payload { base, offset } => low(
                "payload",
                [
                    (sys::NFTNL_EXPR_PAYLOAD_DREG, Attr::U32(dreg)),
                    (sys::NFTNL_EXPR_PAYLOAD_BASE, Attr::U32(base)),
                    (sys::NFTNL_EXPR_PAYLOAD_OFFSET, Attr::U32(offset + skip)),
                    (sys::NFTNL_EXPR_PAYLOAD_LEN, Attr::U32(len)),
                ],
            ),
            Load::Masked { .. } | Load::Ether(_) => unreachable_load(),
            Load::Meta(key) => {
                low("meta", [(sys::NFTNL_EXPR_META_KEY, Attr::U32(key)), (sys::NFTNL_EXPR_META_DREG, Attr::U32(dreg))])
            }
            Load::Ct(key, dir) => {
                let mut attrs =
                    vec![(sys::NFTNL_EXPR_CT_KEY, Attr::U32(key)), (sys::NFTNL_EXPR_CT_DREG, Attr::U32(dreg))];
                if let Some(dir) = dir {
                    attrs.push((sys::NFTNL_EXPR_CT_DIR, Attr::U8(dir)));
                }
                Low { name: "ct", attrs }
            }
            Load::TcpOption(kind) => low(
                "exthdr",
                [
                    (sys::NFTNL_EXPR_EXTHDR_DREG, Attr::U32(dreg)),
                    (sys::NFTNL_EXPR_EXTHDR_TYPE, Attr::U8(kind)),
                    (sys::NFTNL_EXPR_EXTHDR_OFFSET, Attr::U32(0)),
                    (sys::NFTNL_EXPR_EXTHDR_LEN, Attr::U32(1)),
                    (sys::NFTNL_EXPR_EXTHDR_FLAGS, Attr::U32(1)), // NFT_EXTHDR_F_PRESENT
                    (sys::NFTNL_EXPR_EXTHDR_OP, Attr::U32(1)),    // NFT_EXTHDR_OP_TCPOPT
                ],
            ),
            Load::Exthdr6 { kind, offset, present, .. } => low(
                "exthdr",
                [
                    (sys::NFTNL_EXPR_EXTHDR_DREG, Attr::U32(dreg)),
                    (sys::NFTNL_EXPR_EXTHDR_TYPE, Attr::U8(kind)),
                    (sys::NFTNL_EXPR_EXTHDR_OFFSET, Attr::U32(offset + skip)),
                    (sys::NFTNL_EXPR_EXTHDR_LEN, Attr::U32(len)),
                    (sys::NFTNL_EXPR_EXTHDR_FLAGS, Attr::U32(u32::from(present))), // NFT_EXTHDR_F_PRESENT
                    (sys::NFTNL_EXPR_EXTHDR_OP, Attr::U32(0)),                     // NFT_EXTHDR_OP_IPV6
                ],
            ),
            Load::Fib(flags) => low(
                "fib",
                [
                    (sys::NFTNL_EXPR_FIB_DREG, Attr::U32(dreg)),
                    (sys::NFTNL_EXPR_FIB_RESULT, Attr::U32(3)), // NFT_FIB_RESULT_ADDRTYPE
                    (sys::NFTNL_EXPR_FIB_FLAGS, Attr::U32(flags)),
                ],
            ),
        }
    }

    /// A value in network byte order (what an ordering compares, after a `byteorder`).
    fn value_be(&self, v: &Json) -> R<Vec<u8>> {
        let mut out = self.value(v)?;
        if self.host_order {
            out.reverse();
        }
        Ok(out)
    }

    fn int(&self, n: u64) -> Vec<u8> {
        let bytes = n.to_be_bytes();
        let mut v = bytes[8 - self.len as usize..].to_vec();
        if self.host_order {
            v.reverse();
        }
        v
    }

    /// A value of this key's type, as the kernel compares it.
    fn value(&self, v: &Json) -> R<Vec<u8>> {
        if let Load::Exthdr6 { shift, .. } = self.load
            && shift > 0
            && let Some(n) = v.as_u64()
        {
            // a field narrower than its bytes: its bits, where they sit in the loaded bytes
            if n >> (8 * self.len - u32::from(shift)) != 0 {
                return unsupported(v);
            }
            return Ok(self.int(n << shift));
        }
        if self.type_id == TYPE_DSCP
            && let Some(n) =
                v.as_u64().or_else(|| v.as_str().and_then(|s| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()))
        {
            // the six DSCP bits, where they sit in the loaded bytes
            if n > 63 {
                return unsupported(v);
            }
            return Ok(self.int(n << if self.len == 1 { 2 } else { 6 }));
        }
        if let Some(n) = v.as_u64() {
            if self.len > 8 || (self.len < 8 && n >> (8 * self.len) != 0) {
                return unsupported(v);
            }
            return Ok(self.int(n));
        }
        if let Some(list) = v.as_array() {
            // flags: their union
            let mut n = 0;
            for one in list {
                let Some(s) = one.as_str() else { return unsupported(v) };
                n |= self.symbol(s).ok_or_else(|| Unsupported(v.to_string()))?;
            }
            return Ok(self.int(n));
        }
        if let Some(b) = v.as_bool() {
            return Ok(self.int(u64::from(b)));
        }
        let Some(s) = v.as_str() else { return unsupported(v) };
        match self.type_id {
            TYPE_ETHERADDR => {
                let bytes: Vec<u8> = s.split(':').filter_map(|b| u8::from_str_radix(b, 16).ok()).collect();
                if bytes.len() != 6 || s.split(':').count() != 6 {
                    return unsupported(v);
                }
                Ok(bytes)
            }
            TYPE_TIME => {
                let ms = s.strip_suffix("ms").and_then(|n| n.parse::<u64>().ok());
                ms.map(|n| self.int(n)).ok_or_else(|| Unsupported(v.to_string()))
            }
            TYPE_CLASSID => {
                let (major, minor) = s.split_once(':').ok_or_else(|| Unsupported(v.to_string()))?;
                let hex = |x: &str| u64::from_str_radix(x, 16).map_err(|_| Unsupported(v.to_string()));
                Ok(self.int((hex(major)? << 16) | hex(minor)?))
            }
            TYPE_IPADDR => s.parse::<Ipv4Addr>().map(|a| a.octets().to_vec()).map_err(|_| Unsupported(v.to_string())),
            TYPE_IP6ADDR => s.parse::<Ipv6Addr>().map(|a| a.octets().to_vec()).map_err(|_| Unsupported(v.to_string())),
            TYPE_IFNAME => {
                if s.len() >= 16 {
                    return unsupported(v);
                }
                let mut out = s.as_bytes().to_vec();
                out.resize(16, 0);
                Ok(out)
            }
            _ => self.symbol(s).map(|n| self.int(n)).ok_or_else(|| Unsupported(v.to_string())),
        }
    }

    fn symbol(&self, s: &str) -> Option<u64> {
        let table: &[(&str, u64)] = match self.type_id {
            TYPE_INET_PROTOCOL => &[
                ("icmp", 1),
                ("igmp", 2),
                ("tcp", 6),
                ("udp", 17),
                ("gre", 47),
                ("esp", 50),
                ("ah", 51),
                ("icmpv6", 58),
                ("sctp", 132),
                ("udplite", 136),
            ],
            TYPE_CT_STATE => &[("invalid", 1), ("established", 2), ("related", 4), ("new", 8), ("untracked", 64)],
            TYPE_CT_STATUS => &[
                ("expected", 1),
                ("seen-reply", 2),
                ("assured", 4),
                ("confirmed", 8),
                ("snat", 16),
                ("dnat", 32),
                ("dying", 512),
            ],
            TYPE_ICMP_TYPE => &[
                ("echo-reply", 0),
                ("destination-unreachable", 3),
                ("source-quench", 4),
                ("redirect", 5),
                ("echo-request", 8),
                ("router-advertisement", 9),
                ("router-solicitation", 10),
                ("time-exceeded", 11),
                ("parameter-problem", 12),
                ("timestamp-request", 13),
                ("timestamp-reply", 14),
            ],
            TYPE_TCP_FLAG => {
                &[("fin", 1), ("syn", 2), ("rst", 4), ("psh", 8), ("ack", 16), ("urg", 32), ("ecn", 64), ("cwr", 128)]
            }
            TYPE_PKTTYPE => &[("host", 0), ("unicast", 0), ("broadcast", 1), ("multicast", 2), ("other", 3)],
            TYPE_CT_DIR => &[("original", 0), ("reply", 1)],
            TYPE_NFPROTO => &[("ipv4", 2), ("ipv6", 10)],
            TYPE_ICMP6_TYPE => &[
                ("destination-unreachable", 1),
                ("packet-too-big", 2),
                ("time-exceeded", 3),
                ("parameter-problem", 4),
                ("echo-request", 128),
                ("echo-reply", 129),
                ("mld-listener-query", 130),
                ("mld-listener-report", 131),
                ("mld-listener-done", 132),
                ("nd-router-solicit", 133),
                ("nd-router-advert", 134),
                ("nd-neighbor-solicit", 135),
                ("nd-neighbor-advert", 136),
                ("nd-redirect", 137),
            ],
            TYPE_FIB_ADDR => &[
                ("unspec", 0),
                ("unicast", 1),
                ("local", 2),
                ("broadcast", 3),
                ("anycast", 4),
                ("multicast", 5),
                ("blackhole", 6),
                ("unreachable", 7),
                ("prohibit", 8),
            ],
            _ => &[],
        };
        table.iter().find(|(name, _)| *name == s).map(|(_, n)| *n)
    }
}

/// `load_len` is called by `load` with these turned into plain payload loads first.
fn unreachable_load() -> Low {
    Low { name: "payload", attrs: Vec::new() }
}

fn low<const N: usize>(name: &'static str, attrs: [(u32, Attr); N]) -> Low {
    Low { name, attrs: attrs.into() }
}

fn key(j: &Json) -> R<KeyDesc> {
    let payload =
        |base, offset, len, type_id| KeyDesc { load: Load::Payload { base, offset }, len, host_order: false, type_id };
    let masked = |base, offset, len, mask: &[u8], type_id| KeyDesc {
        load: Load::Masked { base, offset, mask: mask.to_vec() },
        len,
        host_order: false,
        type_id,
    };
    const NH: u32 = 1; // NFT_PAYLOAD_NETWORK_HEADER
    const TH: u32 = 2; // NFT_PAYLOAD_TRANSPORT_HEADER
    if let Some(p) = j.get("payload")
        && let (Some(base), Some(offset), Some(len)) = (p["base"].as_str(), p["offset"].as_u64(), p["len"].as_u64())
    {
        // raw bits: only whole bytes for now
        let base = match base {
            "ll" => 0,
            "nh" => NH,
            "th" => TH,
            _ => return unsupported(j),
        };
        // whole bytes only: nft 1.0.6 shifts bits that straddle bytes with the kernel's
        // host-order `>>`, which on a little-endian host moves the wrong bits (its rule for
        // `@nh,4,8 & 0x3f == 0x10` compares a byte that is always 0)
        if offset % 8 != 0 || len % 8 != 0 || len == 0 || len > 64 {
            return unsupported(j);
        }
        return Ok(payload(base, (offset / 8) as u32, (len / 8) as u32, TYPE_INTEGER));
    }
    if let Some(o) = j.get("tcp option") {
        const NAMES: [(&str, u8); 9] = [
            ("eol", 0),
            ("nop", 1),
            ("maxseg", 2),
            ("window", 3),
            ("sack-perm", 4),
            ("sack", 5),
            ("timestamp", 8),
            ("md5sig", 19),
            ("mptcp", 30),
        ];
        let kind = match (o["name"].as_str(), o["base"].as_u64()) {
            (Some(name), _) => NAMES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k),
            (None, Some(base)) if o["offset"].as_u64() == Some(0) && o["len"].as_u64() == Some(8) => {
                u8::try_from(base).ok()
            }
            _ => None,
        };
        let Some(kind) = kind else { return unsupported(j) };
        return Ok(KeyDesc { load: Load::TcpOption(kind), len: 1, host_order: false, type_id: TYPE_BOOLEAN });
    }
    if let Some(p) = j.get("payload") {
        let (Some(proto), Some(field)) = (p["protocol"].as_str(), p["field"].as_str()) else { return unsupported(j) };
        return Ok(match (proto, field) {
            ("ip", "saddr") => payload(NH, 12, 4, TYPE_IPADDR),
            ("ip", "daddr") => payload(NH, 16, 4, TYPE_IPADDR),
            ("ip", "protocol") => payload(NH, 9, 1, TYPE_INET_PROTOCOL),
            ("ip", "ttl") => payload(NH, 8, 1, TYPE_INTEGER),
            ("ip", "dscp") => masked(NH, 1, 1, &[0xfc], TYPE_DSCP),
            ("ip6", "dscp") => masked(NH, 0, 2, &[0x0f, 0xc0], TYPE_DSCP),
            ("ether", "saddr") => KeyDesc { load: Load::Ether(6), len: 6, host_order: false, type_id: TYPE_ETHERADDR },
            ("ether", "daddr") => KeyDesc { load: Load::Ether(0), len: 6, host_order: false, type_id: TYPE_ETHERADDR },
            ("ip", "length") => payload(NH, 2, 2, TYPE_INTEGER),
            ("ip", "frag-off") => payload(NH, 6, 2, TYPE_INTEGER),
            ("ip6", "hoplimit") => payload(NH, 7, 1, TYPE_INTEGER),
            ("ip6", "length") => payload(NH, 4, 2, TYPE_INTEGER),
            ("ip6", "nexthdr") => payload(NH, 6, 1, TYPE_INET_PROTOCOL),
            ("tcp", "flags") => payload(TH, 13, 1, TYPE_TCP_FLAG),
            ("icmp", "code") => payload(TH, 1, 1, TYPE_ICMP_CODE),
            ("icmpv6", "type") => payload(TH, 0, 1, TYPE_ICMP6_TYPE),
            ("icmpv6", "code") => payload(TH, 1, 1, TYPE_ICMPV6_CODE),
            ("ip6", "saddr") => payload(NH, 8, 16, TYPE_IP6ADDR),
            ("ip6", "daddr") => payload(NH, 24, 16, TYPE_IP6ADDR),
            ("tcp" | "udp" | "th" | "sctp" | "udplite" | "dccp", "sport") => payload(TH, 0, 2, TYPE_INET_SERVICE),
            ("tcp" | "udp" | "th" | "sctp" | "udplite" | "dccp", "dport") => payload(TH, 2, 2, TYPE_INET_SERVICE),
            ("icmp", "type") => payload(TH, 0, 1, TYPE_ICMP_TYPE),
            _ => return unsupported(j),
        });
    }
    if let Some(m) = j.get("meta") {
        let meta = |key, len, host_order, type_id| KeyDesc { load: Load::Meta(key), len, host_order, type_id };
        return Ok(match m["key"].as_str() {
            Some("l4proto") => meta(libc::NFT_META_L4PROTO as u32, 1, false, TYPE_INET_PROTOCOL),
            Some("mark") => meta(libc::NFT_META_MARK as u32, 4, true, TYPE_MARK),
            Some("iifname") => meta(libc::NFT_META_IIFNAME as u32, 16, true, TYPE_IFNAME),
            Some("oifname") => meta(libc::NFT_META_OIFNAME as u32, 16, true, TYPE_IFNAME),
            Some("nfproto") => meta(libc::NFT_META_NFPROTO as u32, 1, true, TYPE_NFPROTO),
            Some("skuid") => meta(libc::NFT_META_SKUID as u32, 4, true, TYPE_UID),
            Some("skgid") => meta(libc::NFT_META_SKGID as u32, 4, true, TYPE_GID),
            Some("pkttype") => meta(libc::NFT_META_PKTTYPE as u32, 1, true, TYPE_PKTTYPE),
            Some("nftrace") => meta(libc::NFT_META_NFTRACE as u32, 1, true, TYPE_INTEGER),
            Some("priority") => meta(libc::NFT_META_PRIORITY as u32, 4, true, TYPE_CLASSID),
            Some("length") => meta(libc::NFT_META_LEN as u32, 4, true, TYPE_INTEGER),
            _ => return unsupported(j),
        });
    }
    if let Some(e) = j.get("exthdr") {
        const FRAGMENT: u8 = 44; // NEXTHDR_FRAGMENT
        return Ok(match (e["name"].as_str(), e["field"].as_str()) {
            (Some("frag"), None) => KeyDesc {
                load: Load::Exthdr6 { kind: FRAGMENT, offset: 0, present: true, mask: None, shift: 0 },
                len: 1,
                host_order: false,
                type_id: TYPE_BOOLEAN,
            },
            // the 13-bit offset, above the two reserved bits and the more-fragments bit
            (Some("frag"), Some("frag-off")) => KeyDesc {
                load: Load::Exthdr6 {
                    kind: FRAGMENT,
                    offset: 2,
                    present: false,
                    mask: Some(vec![0xff, 0xf8]),
                    shift: 3,
                },
                len: 2,
                host_order: false,
                type_id: TYPE_INTEGER,
            },
            _ => return unsupported(j),
        });
    }
    if let Some(f) = j.get("fib") {
        let Some(flags) = f["flags"].as_array() else { return unsupported(j) };
        let mut bits = 0;
        for flag in flags {
            bits |= match flag.as_str() {
                Some("saddr") => 1,
                Some("daddr") => 2,
                Some("mark") => 4,
                Some("iif") => 8,
                Some("oif") => 16,
                _ => return unsupported(j),
            };
        }
        if f["result"].as_str() != Some("type") {
            return unsupported(j);
        }
        return Ok(KeyDesc { load: Load::Fib(bits), len: 4, host_order: true, type_id: TYPE_FIB_ADDR });
    }
    if let Some(c) = j.get("ct") {
        let ct = |key, type_id| KeyDesc { load: Load::Ct(key, None), len: 4, host_order: true, type_id };
        let dir = match c["dir"].as_str() {
            None => None,
            Some("original") => Some(0),
            Some("reply") => Some(1),
            Some(_) => return unsupported(j),
        };
        let with_dir =
            |key: i32, len, host_order, type_id| KeyDesc { load: Load::Ct(key as u32, dir), len, host_order, type_id };
        return Ok(match (c["key"].as_str(), dir) {
            (Some("state"), None) => ct(libc::NFT_CT_STATE as u32, TYPE_CT_STATE),
            (Some("status"), None) => ct(libc::NFT_CT_STATUS as u32, TYPE_CT_STATUS),
            (Some("mark"), None) => ct(libc::NFT_CT_MARK as u32, TYPE_MARK),
            (Some("expiration"), None) => ct(libc::NFT_CT_EXPIRATION as u32, TYPE_TIME),
            (Some("direction"), None) => KeyDesc {
                load: Load::Ct(libc::NFT_CT_DIRECTION as u32, None),
                len: 1,
                host_order: true,
                type_id: TYPE_CT_DIR,
            },
            (Some("protocol"), Some(_)) => with_dir(libc::NFT_CT_PROTOCOL, 1, false, TYPE_INET_PROTOCOL),
            (Some("proto-src"), Some(_)) => with_dir(libc::NFT_CT_PROTO_SRC, 2, false, TYPE_INET_SERVICE),
            (Some("proto-dst"), Some(_)) => with_dir(libc::NFT_CT_PROTO_DST, 2, false, TYPE_INET_SERVICE),
            (Some("ip saddr"), Some(_)) => with_dir(libc::NFT_CT_SRC_IP, 4, false, TYPE_IPADDR),
            (Some("ip daddr"), Some(_)) => with_dir(libc::NFT_CT_DST_IP, 4, false, TYPE_IPADDR),
            (Some("ip6 saddr"), Some(_)) => with_dir(libc::NFT_CT_SRC_IP6, 16, false, TYPE_IP6ADDR),
            (Some("ip6 daddr"), Some(_)) => with_dir(libc::NFT_CT_DST_IP6, 16, false, TYPE_IP6ADDR),
            (Some("zone"), _) => with_dir(libc::NFT_CT_ZONE, 2, true, TYPE_INTEGER),
            _ => return unsupported(j),
        });
    }
    unsupported(j)
}

/// `byteorder reg 1 = hton(reg 1, LEN, LEN)`.
fn hton(len: u32) -> Low {
    low(
        "byteorder",
        [
            (sys::NFTNL_EXPR_BYTEORDER_SREG, Attr::U32(REG_1)),
            (sys::NFTNL_EXPR_BYTEORDER_DREG, Attr::U32(REG_1)),
            (sys::NFTNL_EXPR_BYTEORDER_OP, Attr::U32(1)), // NFT_BYTEORDER_HTON
            (sys::NFTNL_EXPR_BYTEORDER_LEN, Attr::U32(len)),
            (sys::NFTNL_EXPR_BYTEORDER_SIZE, Attr::U32(len)),
        ],
    )
}

fn cmp(op: u32, data: Vec<u8>) -> Low {
    low(
        "cmp",
        [
            (sys::NFTNL_EXPR_CMP_SREG, Attr::U32(REG_1)),
            (sys::NFTNL_EXPR_CMP_OP, Attr::U32(op)),
            (sys::NFTNL_EXPR_CMP_DATA, Attr::Data(data)),
        ],
    )
}

fn bitwise(len: u32, mask: Vec<u8>, xor: Vec<u8>) -> Low {
    bitwise_reg(REG_1, len, mask, xor)
}

fn bitwise_reg(reg: u32, len: u32, mask: Vec<u8>, xor: Vec<u8>) -> Low {
    low(
        "bitwise",
        [
            (sys::NFTNL_EXPR_BITWISE_SREG, Attr::U32(reg)),
            (sys::NFTNL_EXPR_BITWISE_DREG, Attr::U32(reg)),
            (sys::NFTNL_EXPR_BITWISE_LEN, Attr::U32(len)),
            (sys::NFTNL_EXPR_BITWISE_MASK, Attr::Data(mask)),
            (sys::NFTNL_EXPR_BITWISE_XOR, Attr::Data(xor)),
        ],
    )
}

fn cmp_op(op: &str) -> Option<u32> {
    Some(match op {
        "==" => libc::NFT_CMP_EQ,
        "!=" => libc::NFT_CMP_NEQ,
        "<" => libc::NFT_CMP_LT,
        "<=" => libc::NFT_CMP_LTE,
        ">" => libc::NFT_CMP_GT,
        ">=" => libc::NFT_CMP_GTE,
        _ => return None,
    } as u32)
}

/// Builds one rule's expressions; the anonymous sets it needs are pushed onto `sets`, with ids
/// from `next_id`.
pub struct Builder<'a> {
    pub sets: &'a mut Vec<SetSpec>,
    pub next_id: &'a mut u32,
    pub out: Vec<Low>,
    pub family: crate::nft::ir::NftFamily,
    /// The `meta nfproto` tests this rule already holds (inet tables): nft tests the family
    /// once, before the first IPv4 or IPv6 header field a rule reads.
    pub families: Vec<u8>,
}

impl<'a> Builder<'a> {
    /// A builder of one rule (or of one named map) of a table of `family`: its sets go to `sets`,
    /// numbered from `next_id` on.
    pub fn new(sets: &'a mut Vec<SetSpec>, next_id: &'a mut u32, family: crate::nft::ir::NftFamily) -> Builder<'a> {
        Builder { sets, next_id, out: Vec::new(), family, families: Vec::new() }
    }
}

/// `jump CHAIN` (for the fault a test injects).
pub fn jump_to(chain: &str) -> Low {
    low(
        "immediate",
        [
            (sys::NFTNL_EXPR_IMM_DREG, Attr::U32(REG_VERDICT)),
            (sys::NFTNL_EXPR_IMM_VERDICT, Attr::U32(libc::NFT_JUMP as u32)),
            (sys::NFTNL_EXPR_IMM_CHAIN, Attr::Str(chain.to_string())),
        ],
    )
}

impl Builder<'_> {
    pub fn statement(&mut self, j: &Json) -> R<()> {
        if self.family == crate::nft::ir::NftFamily::Inet {
            for nfproto in header_families(j) {
                if !self.families.contains(&nfproto) {
                    self.families.push(nfproto);
                    self.out.push(low(
                        "meta",
                        [
                            (sys::NFTNL_EXPR_META_KEY, Attr::U32(libc::NFT_META_NFPROTO as u32)),
                            (sys::NFTNL_EXPR_META_DREG, Attr::U32(REG_1)),
                        ],
                    ));
                    self.out.push(cmp(libc::NFT_CMP_EQ as u32, vec![nfproto]));
                }
            }
        }
        let Some((kind, body)) = j.as_object().and_then(|o| o.iter().next()) else { return unsupported(j) };
        match kind.as_str() {
            "match" => self.matches(j, body),
            "accept" | "drop" | "return" | "jump" | "goto" => {
                let (code, chain) = verdict(j)?;
                let mut attrs = vec![
                    (sys::NFTNL_EXPR_IMM_DREG, Attr::U32(REG_VERDICT)),
                    (sys::NFTNL_EXPR_IMM_VERDICT, Attr::U32(code as u32)),
                ];
                if let Some(chain) = chain {
                    attrs.push((sys::NFTNL_EXPR_IMM_CHAIN, Attr::Str(chain)));
                }
                self.out.push(Low { name: "immediate", attrs });
                Ok(())
            }
            "counter" if body.is_null() => {
                self.out.push(low("counter", []));
                Ok(())
            }
            "notrack" => {
                self.out.push(low("notrack", []));
                Ok(())
            }
            "vmap" => self.vmap(j, body),
            "quota" => {
                let Some(bytes) = body["val"].as_u64() else { return unsupported(j) };
                if body["val_unit"].as_str() != Some("bytes") {
                    return unsupported(j);
                }
                let inv = body["inv"].as_bool() == Some(true);
                self.out.push(low(
                    "quota",
                    [
                        (sys::NFTNL_EXPR_QUOTA_BYTES, Attr::U64(bytes)),
                        (sys::NFTNL_EXPR_QUOTA_FLAGS, Attr::U32(u32::from(inv))), // NFT_QUOTA_F_INV
                    ],
                ));
                Ok(())
            }
            "limit" => self.limit(j, body),
            "log" => self.log(j, body),
            "reject" => self.reject(j, body),
            "mangle" => self.mangle(j, body),
            "dnat" | "snat" => self.nat(j, kind, body),
            "masquerade" | "redirect" => self.masq(j, kind, body),
            _ => unsupported(j),
        }
    }

    fn matches(&mut self, j: &Json, m: &Json) -> R<()> {
        let (Some(op), left, right) = (m["op"].as_str(), &m["left"], &m["right"]) else { return unsupported(j) };
        if let Some(ng) = left.get("numgen") {
            return self.numgen(j, ng, op, right);
        }
        if let Some(and) = left.get("&") {
            // KEY & MASK OP VALUE
            let (Some(k), Some(mask)) = (and.get(0), and.get(1)) else { return unsupported(j) };
            let k = key(k)?;
            let Some(op) = cmp_op(op) else { return unsupported(j) };
            let mask = k.value(mask)?;
            self.out.extend(k.load(REG_1));
            self.out.push(bitwise(k.len, mask, vec![0; k.len as usize]));
            self.out.push(cmp(op, k.value(right)?));
            return Ok(());
        }
        if left.get("concat").is_some() {
            return self.lookup(j, left, right, op, None);
        }
        let k = key(left)?;
        if right.get("set").is_some() {
            return self.lookup(j, left, right, op, None);
        }
        if let Some(p) = right.get("prefix") {
            return self.prefix(j, &k, op, p);
        }
        if let Some(range) = right.get("range") {
            let (Some(lo), Some(hi)) = (range.get(0), range.get(1)) else { return unsupported(j) };
            let neg = match op {
                "==" => false,
                "!=" => true,
                _ => return unsupported(j),
            };
            self.out.extend(k.load(REG_1));
            if !neg {
                // nft writes `KEY LO-HI` as two comparisons, of network-order bytes
                let (lo, hi) = if k.host_order && k.len > 1 {
                    self.out.push(hton(k.len));
                    (k.value_be(lo)?, k.value_be(hi)?)
                } else {
                    (k.value(lo)?, k.value(hi)?)
                };
                self.out.push(cmp(libc::NFT_CMP_GTE as u32, lo));
                self.out.push(cmp(libc::NFT_CMP_LTE as u32, hi));
                return Ok(());
            }
            if k.host_order && k.len > 1 {
                return unsupported(j);
            }
            self.out.push(low(
                "range",
                [
                    (sys::NFTNL_EXPR_RANGE_SREG, Attr::U32(REG_1)),
                    (sys::NFTNL_EXPR_RANGE_OP, Attr::U32(if neg { 1 } else { 0 })),
                    (sys::NFTNL_EXPR_RANGE_FROM_DATA, Attr::Data(k.value(lo)?)),
                    (sys::NFTNL_EXPR_RANGE_TO_DATA, Attr::Data(k.value(hi)?)),
                ],
            ));
            return Ok(());
        }
        let bitmask = matches!(k.type_id, TYPE_CT_STATE | TYPE_CT_STATUS);
        match op {
            "in" | "!" if bitmask => {
                // any of the flags set (`in`), or none of them (`!`)
                let v = k.value(right)?;
                self.out.extend(k.load(REG_1));
                self.out.push(bitwise(k.len, v, vec![0; k.len as usize]));
                let cmp_op = if op == "in" { libc::NFT_CMP_NEQ } else { libc::NFT_CMP_EQ } as u32;
                self.out.push(cmp(cmp_op, vec![0; k.len as usize]));
                Ok(())
            }
            "==" | "!=" => {
                let Some(cmp_op) = cmp_op(op) else { return unsupported(j) };
                if k.type_id == TYPE_IFNAME
                    && let Some(s) = right.as_str()
                    && let Some(prefix) = s.strip_suffix('*')
                    && !prefix.ends_with('\\')
                {
                    // a wildcard: compare the bytes before the `*` only
                    if prefix.is_empty() {
                        return unsupported(j);
                    }
                    self.out.extend(k.load(REG_1));
                    self.out.push(cmp(cmp_op, prefix.as_bytes().to_vec()));
                    return Ok(());
                }
                self.out.extend(k.load(REG_1));
                self.out.push(cmp(cmp_op, k.value(right)?));
                Ok(())
            }
            "<" | ">" | "<=" | ">=" => {
                self.out.extend(k.load(REG_1));
                let v = if k.host_order && k.len > 1 {
                    self.out.push(hton(k.len));
                    k.value_be(right)?
                } else {
                    k.value(right)?
                };
                self.out.push(cmp(cmp_op(op).unwrap_or_default(), v));
                Ok(())
            }
            _ => unsupported(j),
        }
    }

    /// `ADDR/LEN`: as nft 1.0.6 builds it, a prefix of whole bytes loads only those bytes and
    /// compares them; any other (and any conntrack key) loads the whole address, masks it, then
    /// compares (`nft --debug=netlink`: `ip saddr 172.16.0.0/12` loads 4 bytes, `/24` 3).
    fn prefix(&mut self, j: &Json, k: &KeyDesc, op: &str, p: &Json) -> R<()> {
        let (Some(len), Some(cmp_op)) = (p["len"].as_u64(), cmp_op(op)) else { return unsupported(j) };
        if !matches!(op, "==" | "!=") || len == 0 || !matches!(k.type_id, TYPE_IPADDR | TYPE_IP6ADDR) {
            return unsupported(j);
        }
        let addr = k.value(&p["addr"])?;
        match k.load {
            Load::Payload { .. } if len % 8 == 0 => {
                let bytes = (len / 8) as u32;
                self.out.push(k.load_len(REG_1, bytes, 0));
                self.out.push(cmp(cmp_op, addr[..bytes as usize].to_vec()));
            }
            Load::Payload { .. } | Load::Ct(..) => {
                let mask: Vec<u8> = (0..u64::from(k.len))
                    .map(|i| {
                        let bits = len.saturating_sub(i * 8).min(8) as u32;
                        if bits == 0 { 0 } else { 0xffu8 << (8 - bits) }
                    })
                    .collect();
                let data: Vec<u8> = addr.iter().zip(&mask).map(|(a, m)| a & m).collect();
                self.out.extend(k.load(REG_1));
                self.out.push(bitwise(k.len, mask, vec![0; k.len as usize]));
                self.out.push(cmp(cmp_op, data));
            }
            _ => return unsupported(j),
        }
        Ok(())
    }

    /// Loads the keys (one, or a concatenation into consecutive 32-bit registers).
    fn load_keys(&mut self, j: &Json, left: &Json) -> R<Vec<KeyDesc>> {
        let keys: Vec<KeyDesc> = match left.get("concat").and_then(Json::as_array) {
            Some(list) => list.iter().map(key).collect::<R<_>>()?,
            None => vec![key(left)?],
        };
        if keys.is_empty() {
            return unsupported(j);
        }
        if keys.len() > 1 && keys.iter().any(|k| matches!(k.load, Load::Ether(_))) {
            return unsupported(j);
        }
        let mut reg32 = 0;
        for k in &keys {
            self.out.extend(k.load(if reg32 == 0 { REG_1 } else { REG32_00 + reg32 }));
            reg32 += k.len.div_ceil(4);
        }
        Ok(keys)
    }

    fn lookup(&mut self, j: &Json, left: &Json, right: &Json, op: &str, _: Option<()>) -> R<()> {
        let neg = match op {
            "==" => false,
            "!=" => true,
            _ => return unsupported(j),
        };
        let Some(items) = right["set"].as_array() else { return unsupported(j) };
        let keys = self.load_keys(j, left)?;
        let mut set = new_set(&mut *self.next_id, &keys, false);
        let mut ranges = Vec::new();
        for item in items {
            let (values, comment) = element_parts(item);
            ranges.push((encode(&keys, values)?, comment));
        }
        fill(&mut set, &keys, ranges, |_| None);
        let mut attrs = vec![
            (sys::NFTNL_EXPR_LOOKUP_SREG, Attr::U32(REG_1)),
            (sys::NFTNL_EXPR_LOOKUP_SET, Attr::Str(set.name.clone())),
            (sys::NFTNL_EXPR_LOOKUP_SET_ID, Attr::U32(set.id)),
        ];
        if neg {
            attrs.push((sys::NFTNL_EXPR_LOOKUP_FLAGS, Attr::U32(1))); // NFT_LOOKUP_F_INV
        }
        self.out.push(Low { name: "lookup", attrs });
        self.sets.push(set);
        Ok(())
    }

    fn vmap(&mut self, j: &Json, v: &Json) -> R<()> {
        if let Some(name) = v["data"].as_str().and_then(|d| d.strip_prefix('@')) {
            // a named map of the table (made before the rules: [`Builder::named_map`])
            self.load_keys(j, &v["key"])?;
            self.out.push(low(
                "lookup",
                [
                    (sys::NFTNL_EXPR_LOOKUP_SREG, Attr::U32(REG_1)),
                    (sys::NFTNL_EXPR_LOOKUP_DREG, Attr::U32(REG_VERDICT)),
                    (sys::NFTNL_EXPR_LOOKUP_SET, Attr::Str(name.to_string())),
                ],
            ));
            return Ok(());
        }
        let Some(items) = v["data"]["set"].as_array() else { return unsupported(j) };
        let keys = self.load_keys(j, &v["key"])?;
        let mut set = new_set(&mut *self.next_id, &keys, true);
        let mut ranges = Vec::new();
        let mut verdicts = Vec::new();
        for item in items {
            let (Some(value), Some(v)) = (item.get(0), item.get(1)) else { return unsupported(j) };
            let (values, comment) = element_parts(value);
            ranges.push((encode(&keys, values)?, comment));
            verdicts.push(verdict(v)?);
        }
        fill(&mut set, &keys, ranges, |i| verdicts.get(i).cloned());
        self.out.push(low(
            "lookup",
            [
                (sys::NFTNL_EXPR_LOOKUP_SREG, Attr::U32(REG_1)),
                (sys::NFTNL_EXPR_LOOKUP_DREG, Attr::U32(REG_VERDICT)),
                (sys::NFTNL_EXPR_LOOKUP_SET, Attr::Str(set.name.clone())),
                (sys::NFTNL_EXPR_LOOKUP_SET_ID, Attr::U32(set.id)),
            ],
        ));
        self.sets.push(set);
        Ok(())
    }

    /// The set of a named verdict map, `map NAME { type ... : verdict; elements = { ... } }`,
    /// from the map's elements written as an anonymous one (`{"vmap": {"key": ..., "data":
    /// {"set": [...]}}}`): the same set, named, neither anonymous nor constant, as nft makes it.
    pub fn named_map(&mut self, name: &str, anonymous: &Json) -> R<SetSpec> {
        self.vmap(anonymous, &anonymous["vmap"])?;
        self.out.clear();
        let Some(mut set) = self.sets.pop() else { return unsupported(anonymous) };
        set.name = name.to_string();
        set.flags &= !(SET_ANONYMOUS | SET_CONSTANT);
        Ok(set)
    }

    fn numgen(&mut self, j: &Json, ng: &Json, op: &str, right: &Json) -> R<()> {
        let (Some(modulus), Some(n), Some(op)) = (ng["mod"].as_u64(), right.as_u64(), cmp_op(op)) else {
            return unsupported(j);
        };
        let kind = match ng["mode"].as_str() {
            Some("inc") => 0,
            Some("random") => 1,
            _ => return unsupported(j),
        };
        let (Ok(modulus), Ok(n)) = (u32::try_from(modulus), u32::try_from(n)) else { return unsupported(j) };
        self.out.push(low(
            "numgen",
            [
                (sys::NFTNL_EXPR_NG_DREG, Attr::U32(REG_1)),
                (sys::NFTNL_EXPR_NG_MODULUS, Attr::U32(modulus)),
                (sys::NFTNL_EXPR_NG_TYPE, Attr::U32(kind)),
                (sys::NFTNL_EXPR_NG_OFFSET, Attr::U32(ng["offset"].as_u64().unwrap_or(0) as u32)),
            ],
        ));
        if op == libc::NFT_CMP_EQ as u32 || op == libc::NFT_CMP_NEQ as u32 {
            self.out.push(cmp(op, n.to_ne_bytes().to_vec()));
        } else {
            // an ordering compares bytes: nft turns the number to network order first
            self.out.push(low(
                "byteorder",
                [
                    (sys::NFTNL_EXPR_BYTEORDER_SREG, Attr::U32(REG_1)),
                    (sys::NFTNL_EXPR_BYTEORDER_DREG, Attr::U32(REG_1)),
                    (sys::NFTNL_EXPR_BYTEORDER_OP, Attr::U32(1)), // NFT_BYTEORDER_HTON
                    (sys::NFTNL_EXPR_BYTEORDER_LEN, Attr::U32(4)),
                    (sys::NFTNL_EXPR_BYTEORDER_SIZE, Attr::U32(4)),
                ],
            ));
            self.out.push(cmp(op, n.to_be_bytes().to_vec()));
        }
        Ok(())
    }

    fn limit(&mut self, j: &Json, l: &Json) -> R<()> {
        let (Some(rate), Some(burst)) = (l["rate"].as_u64(), l["burst"].as_u64()) else { return unsupported(j) };
        let unit = match l["per"].as_str() {
            Some("second") => 1,
            Some("minute") => 60,
            Some("hour") => 3600,
            Some("day") => 86400,
            Some("week") => 604800,
            _ => return unsupported(j),
        };
        if l["burst_unit"].as_str() != Some("packets") || l.get("inv").is_some() {
            return unsupported(j);
        }
        self.out.push(low(
            "limit",
            [
                (sys::NFTNL_EXPR_LIMIT_RATE, Attr::U64(rate)),
                (sys::NFTNL_EXPR_LIMIT_UNIT, Attr::U64(unit)),
                (sys::NFTNL_EXPR_LIMIT_BURST, Attr::U32(burst as u32)),
                (sys::NFTNL_EXPR_LIMIT_TYPE, Attr::U32(0)), // NFT_LIMIT_PKTS
                (sys::NFTNL_EXPR_LIMIT_FLAGS, Attr::U32(0)),
            ],
        ));
        Ok(())
    }

    fn log(&mut self, j: &Json, l: &Json) -> R<()> {
        let Some(fields) = l.as_object() else { return unsupported(j) };
        let mut attrs = Vec::new();
        for (name, v) in fields {
            match (name.as_str(), v) {
                ("prefix", Json::String(p)) => attrs.push((sys::NFTNL_EXPR_LOG_PREFIX, Attr::Str(p.clone()))),
                ("group", Json::Number(n)) => {
                    attrs.push((sys::NFTNL_EXPR_LOG_GROUP, Attr::U32(n.as_u64().unwrap_or_default() as u32)))
                }
                ("snaplen", Json::Number(n)) => {
                    attrs.push((sys::NFTNL_EXPR_LOG_SNAPLEN, Attr::U32(n.as_u64().unwrap_or_default() as u32)))
                }
                ("queue-threshold", Json::Number(n)) => {
                    attrs.push((sys::NFTNL_EXPR_LOG_QTHRESHOLD, Attr::U32(n.as_u64().unwrap_or_default() as u32)))
                }
                ("flags", flags) => {
                    let list: Vec<&Json> = match flags {
                        Json::Array(a) => a.iter().collect(),
                        one => vec![one],
                    };
                    let mut bits = 0;
                    for f in list {
                        // NF_LOG_TCPSEQ, NF_LOG_TCPOPT, NF_LOG_IPOPT, NF_LOG_UID, NF_LOG_MACDECODE
                        bits |= match f.as_str() {
                            Some("tcp sequence") => 0x01,
                            Some("tcp options") => 0x02,
                            Some("ip options") => 0x04,
                            Some("skuid") => 0x08,
                            Some("ether") => 0x20,
                            Some("all") => 0x2f,
                            _ => return unsupported(j),
                        };
                    }
                    attrs.push((sys::NFTNL_EXPR_LOG_FLAGS, Attr::U32(bits)));
                }
                ("level", Json::String(level)) => {
                    let levels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];
                    let Some(n) = levels.iter().position(|x| x == level) else { return unsupported(j) };
                    attrs.push((sys::NFTNL_EXPR_LOG_LEVEL, Attr::U32(n as u32)));
                }
                _ => return unsupported(j),
            }
        }
        self.out.push(Low { name: "log", attrs });
        Ok(())
    }

    /// Built here, not with `nftnl`'s `Verdict::Reject`: in an `ip` table that one sends the
    /// icmpx code number as the ICMP code.
    fn reject(&mut self, j: &Json, r: &Json) -> R<()> {
        let (kind, code) = match (r["type"].as_str(), r["expr"].as_str()) {
            (Some("tcp reset"), None) => (1, 0), // NFT_REJECT_TCP_RST
            (Some("icmp"), Some(e)) => {
                let codes = [
                    ("net-unreachable", 0),
                    ("host-unreachable", 1),
                    ("prot-unreachable", 2),
                    ("port-unreachable", 3),
                    ("net-prohibited", 9),
                    ("host-prohibited", 10),
                    ("admin-prohibited", 13),
                ];
                let Some((_, c)) = codes.iter().find(|(n, _)| *n == e) else { return unsupported(j) };
                (0, *c) // NFT_REJECT_ICMP_UNREACH
            }
            (Some("icmpv6"), Some(e)) => {
                let codes = [
                    ("no-route", 0),
                    ("admin-prohibited", 1),
                    ("addr-unreachable", 3),
                    ("port-unreachable", 4),
                    ("policy-fail", 5),
                    ("reject-route", 6),
                ];
                let Some((_, c)) = codes.iter().find(|(n, _)| *n == e) else { return unsupported(j) };
                (0, *c)
            }
            _ => return unsupported(j),
        };
        self.out.push(low(
            "reject",
            [(sys::NFTNL_EXPR_REJECT_TYPE, Attr::U32(kind)), (sys::NFTNL_EXPR_REJECT_CODE, Attr::U8(code))],
        ));
        Ok(())
    }

    /// `meta mark set N`, `meta mark set meta mark & M ^ X`, `ct mark set meta mark` and back.
    fn mangle(&mut self, j: &Json, m: &Json) -> R<()> {
        let target = key(&m["key"])?;
        let value = &m["value"];
        if let Load::Meta(k) = target.load
            && (k == libc::NFT_META_NFTRACE as u32 || k == libc::NFT_META_PRIORITY as u32)
        {
            self.imm(REG_1, target.value(value)?);
            self.out.push(low(
                "meta",
                [(sys::NFTNL_EXPR_META_KEY, Attr::U32(k)), (sys::NFTNL_EXPR_META_SREG, Attr::U32(REG_1))],
            ));
            return Ok(());
        }
        if let Some(p) = m["key"].get("payload") {
            return self.header_write(j, p, value);
        }
        if let Load::Ct(k, dir) = target.load
            && k == libc::NFT_CT_ZONE as u32
        {
            // `ct [original|reply] zone set N`
            self.imm(REG_1, target.value(value)?);
            let mut attrs = vec![(sys::NFTNL_EXPR_CT_KEY, Attr::U32(k)), (sys::NFTNL_EXPR_CT_SREG, Attr::U32(REG_1))];
            if let Some(dir) = dir {
                attrs.push((sys::NFTNL_EXPR_CT_DIR, Attr::U8(dir)));
            }
            self.out.push(Low { name: "ct", attrs });
            return Ok(());
        }
        if target.type_id != TYPE_MARK {
            return unsupported(j);
        }
        if let Some(xor) = value.get("^") {
            let (Some(and), Some(flip)) = (xor.get(0).and_then(|a| a.get("&")), xor.get(1)) else {
                return unsupported(j);
            };
            let (Some(src), Some(mask)) = (and.get(0), and.get(1)) else { return unsupported(j) };
            let src = key(src)?;
            if src.type_id != TYPE_MARK {
                return unsupported(j);
            }
            self.out.extend(src.load(REG_1));
            self.out.push(bitwise(4, src.value(mask)?, src.value(flip)?));
        } else if value.is_u64() {
            self.out.push(low(
                "immediate",
                [
                    (sys::NFTNL_EXPR_IMM_DREG, Attr::U32(REG_1)),
                    (sys::NFTNL_EXPR_IMM_DATA, Attr::Data(target.value(value)?)),
                ],
            ));
        } else {
            let src = key(value)?;
            if src.type_id != TYPE_MARK {
                return unsupported(j);
            }
            self.out.extend(src.load(REG_1));
        }
        self.out.push(match target.load {
            Load::Meta(k) => {
                low("meta", [(sys::NFTNL_EXPR_META_KEY, Attr::U32(k)), (sys::NFTNL_EXPR_META_SREG, Attr::U32(REG_1))])
            }
            Load::Ct(k, None) => {
                low("ct", [(sys::NFTNL_EXPR_CT_KEY, Attr::U32(k)), (sys::NFTNL_EXPR_CT_SREG, Attr::U32(REG_1))])
            }
            _ => return unsupported(j),
        });
        Ok(())
    }

    fn nat(&mut self, j: &Json, kind: &str, n: &Json) -> R<()> {
        use crate::nft::ir::NftFamily;
        let v6 = match (self.family, n["family"].as_str()) {
            (NftFamily::Ip, None | Some("ip")) => false,
            (NftFamily::Ip6, None | Some("ip6")) => true,
            (NftFamily::Inet, Some("ip")) => false,
            (NftFamily::Inet, Some("ip6")) => true,
            _ => return unsupported(j),
        };
        let addr = if v6 {
            KeyDesc { load: Load::Meta(0), len: 16, host_order: false, type_id: TYPE_IP6ADDR }
        } else {
            KeyDesc { load: Load::Meta(0), len: 4, host_order: false, type_id: TYPE_IPADDR }
        };
        let port = KeyDesc { load: Load::Meta(0), len: 2, host_order: false, type_id: TYPE_INET_SERVICE };
        let mut attrs = vec![
            (sys::NFTNL_EXPR_NAT_TYPE, Attr::U32(if kind == "snat" { 0 } else { 1 })),
            (sys::NFTNL_EXPR_NAT_FAMILY, Attr::U32(if v6 { libc::NFPROTO_IPV6 } else { libc::NFPROTO_IPV4 } as u32)),
        ];
        let mut flags = 0;
        // registers: address(es) from 1, port(s) after them
        let mut reg = REG_1;
        if let Some(a) = n.get("addr") {
            let (lo, hi) = ends(a);
            self.imm(reg, addr.value(lo)?);
            attrs.push((sys::NFTNL_EXPR_NAT_REG_ADDR_MIN, Attr::U32(reg)));
            if let Some(hi) = hi {
                self.imm(reg + 1, addr.value(hi)?);
                attrs.push((sys::NFTNL_EXPR_NAT_REG_ADDR_MAX, Attr::U32(reg + 1)));
                reg += 1;
            }
            reg += 1;
        } else {
            return unsupported(j);
        }
        if let Some(p) = n.get("port") {
            let (lo, hi) = ends(p);
            self.imm(reg, port.value(lo)?);
            attrs.push((sys::NFTNL_EXPR_NAT_REG_PROTO_MIN, Attr::U32(reg)));
            if let Some(hi) = hi {
                self.imm(reg + 1, port.value(hi)?);
                attrs.push((sys::NFTNL_EXPR_NAT_REG_PROTO_MAX, Attr::U32(reg + 1)));
            }
            flags |= 2; // NF_NAT_RANGE_PROTO_SPECIFIED
        }
        flags |= nat_flags(j, n)?;
        if flags != 0 {
            attrs.push((sys::NFTNL_EXPR_NAT_FLAGS, Attr::U32(flags)));
        }
        self.out.push(Low { name: "nat", attrs });
        Ok(())
    }

    fn masq(&mut self, j: &Json, kind: &str, n: &Json) -> R<()> {
        let port = KeyDesc { load: Load::Meta(0), len: 2, host_order: false, type_id: TYPE_INET_SERVICE };
        let (min, max, flags_attr, name) = if kind == "masquerade" {
            (sys::NFTNL_EXPR_MASQ_REG_PROTO_MIN, sys::NFTNL_EXPR_MASQ_REG_PROTO_MAX, sys::NFTNL_EXPR_MASQ_FLAGS, "masq")
        } else {
            (
                sys::NFTNL_EXPR_REDIR_REG_PROTO_MIN,
                sys::NFTNL_EXPR_REDIR_REG_PROTO_MAX,
                sys::NFTNL_EXPR_REDIR_FLAGS,
                "redir",
            )
        };
        let mut attrs = Vec::new();
        let mut flags = 0;
        if !n.is_null() {
            if n.get("addr").is_some() || n.get("family").is_some() {
                return unsupported(j);
            }
            if let Some(p) = n.get("port") {
                let (lo, hi) = ends(p);
                self.imm(REG_1, port.value(lo)?);
                attrs.push((min, Attr::U32(REG_1)));
                if let Some(hi) = hi {
                    self.imm(REG_1 + 1, port.value(hi)?);
                    attrs.push((max, Attr::U32(REG_1 + 1)));
                }
                flags |= 2;
            }
            flags |= nat_flags(j, n)?;
        }
        if flags != 0 {
            attrs.push((flags_attr, Attr::U32(flags)));
        }
        self.out.push(Low { name, attrs });
        Ok(())
    }

    /// `ip ttl set N`, `ip dscp set N` (the 16-bit word around the field, with the IPv4 header
    /// checksum fixed up), `ip6 hoplimit set N`, `ip6 dscp set N` (no checksum), as nft writes them.
    fn header_write(&mut self, j: &Json, p: &Json, value: &Json) -> R<()> {
        let Some(n) =
            value.as_u64().or_else(|| value.as_str().and_then(|s| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()))
        else {
            return unsupported(j);
        };
        let (Ok(n), field) = (u8::try_from(n), (p["protocol"].as_str(), p["field"].as_str())) else {
            return unsupported(j);
        };
        let (offset, mask, xor, csum): (u32, Vec<u8>, Vec<u8>, bool) = match field {
            (Some("ip"), Some("ttl")) => (8, vec![0x00, 0xff], vec![n, 0], true),
            (Some("ip"), Some("dscp")) if n < 64 => (0, vec![0xff, 0x03], vec![0, n << 2], true),
            (Some("ip6"), Some("dscp")) if n < 64 => {
                let v = u16::from(n) << 6;
                (0, vec![0xf0, 0x3f], v.to_be_bytes().to_vec(), false)
            }
            (Some("ip6"), Some("hoplimit")) => {
                self.imm(REG_1, vec![n]);
                self.out.push(payload_write(7, 1, false));
                return Ok(());
            }
            _ => return unsupported(j),
        };
        let word =
            KeyDesc { load: Load::Payload { base: 1, offset }, len: 2, host_order: false, type_id: TYPE_INTEGER };
        self.out.extend(word.load(REG_1));
        self.out.push(bitwise(2, mask, xor));
        self.out.push(payload_write(offset, 2, csum));
        Ok(())
    }

    fn imm(&mut self, reg: u32, data: Vec<u8>) {
        self.out.push(low(
            "immediate",
            [(sys::NFTNL_EXPR_IMM_DREG, Attr::U32(reg)), (sys::NFTNL_EXPR_IMM_DATA, Attr::Data(data))],
        ));
    }
}

/// `payload write reg 1 => LEN @ network header + OFFSET`, with the IPv4 header checksum (at
/// offset 10) fixed up when `csum`.
fn payload_write(offset: u32, len: u32, csum: bool) -> Low {
    low(
        "payload",
        [
            (sys::NFTNL_EXPR_PAYLOAD_SREG, Attr::U32(REG_1)),
            (sys::NFTNL_EXPR_PAYLOAD_BASE, Attr::U32(1)),
            (sys::NFTNL_EXPR_PAYLOAD_OFFSET, Attr::U32(offset)),
            (sys::NFTNL_EXPR_PAYLOAD_LEN, Attr::U32(len)),
            (sys::NFTNL_EXPR_PAYLOAD_CSUM_TYPE, Attr::U32(u32::from(csum))), // NFT_PAYLOAD_CSUM_INET
            (sys::NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, Attr::U32(if csum { 10 } else { 0 })),
            (sys::NFTNL_EXPR_PAYLOAD_FLAGS, Attr::U32(0)),
        ],
    )
}

/// The families (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10) whose network header a statement reads,
/// in the order it reads them.
fn header_families(j: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    fn walk(j: &Json, out: &mut Vec<u8>) {
        match j {
            Json::Object(o) => {
                if let Some(p) = o.get("payload") {
                    let family = match p["protocol"].as_str() {
                        Some("ip") => Some(2),
                        Some("ip6") => Some(10),
                        _ => None,
                    };
                    if let Some(f) = family
                        && !out.contains(&f)
                    {
                        out.push(f);
                    }
                }
                o.values().for_each(|v| walk(v, out));
            }
            Json::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(j, &mut out);
    out
}

/// `random` 4, `fully-random` 16, `persistent` 8 (`NF_NAT_RANGE_*`).
fn nat_flags(j: &Json, n: &Json) -> R<u32> {
    let mut flags = 0;
    let list: Vec<&Json> = match &n["flags"] {
        Json::Null => Vec::new(),
        Json::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    for f in list {
        flags |= match f.as_str() {
            Some("random") => 4,
            Some("persistent") => 8,
            Some("fully-random") => 16,
            _ => return unsupported(j),
        };
    }
    Ok(flags)
}

/// A value or `{"range": [lo, hi]}`.
fn ends(v: &Json) -> (&Json, Option<&Json>) {
    match v.get("range") {
        Some(r) => (&r[0], Some(&r[1])),
        None => (v, None),
    }
}

fn verdict(j: &Json) -> R<(i32, Option<String>)> {
    let Some((kind, body)) = j.as_object().and_then(|o| o.iter().next()) else { return unsupported(j) };
    Ok(match kind.as_str() {
        "accept" => (1, None), // NF_ACCEPT
        "drop" => (0, None),   // NF_DROP
        "return" => (libc::NFT_RETURN, None),
        "jump" | "goto" => {
            let Some(target) = body["target"].as_str() else { return unsupported(j) };
            (if kind == "jump" { libc::NFT_JUMP } else { libc::NFT_GOTO }, Some(target.to_string()))
        }
        _ => return unsupported(j),
    })
}

/// A set element's values (one, or a concatenation) and its comment.
fn element_parts(item: &Json) -> (Vec<&Json>, Option<&str>) {
    let (val, comment) = match item.get("elem") {
        Some(e) => (&e["val"], e["comment"].as_str()),
        None => (item, None),
    };
    match val.get("concat").and_then(Json::as_array) {
        Some(list) => (list.iter().collect(), comment),
        None => (vec![val], comment),
    }
}

/// Each field's low and high end (equal for a single value), unpadded.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

fn encode(keys: &[KeyDesc], values: Vec<&Json>) -> R<Fields> {
    if values.len() != keys.len() {
        return Err(Unsupported(format!("{values:?}")));
    }
    let mut out = Vec::with_capacity(keys.len());
    for (k, v) in keys.iter().zip(values) {
        if let Some(p) = v.get("prefix") {
            let (Some(len), true) = (p["len"].as_u64(), matches!(k.type_id, TYPE_IPADDR | TYPE_IP6ADDR)) else {
                return unsupported(v);
            };
            let lo = k.value(&p["addr"])?;
            let mut hi = lo.clone();
            for (i, byte) in hi.iter_mut().enumerate() {
                let bits = (i as u64) * 8;
                if bits + 8 <= len {
                    continue;
                }
                let keep = len.saturating_sub(bits) as u32;
                *byte |= 0xffu8.checked_shr(keep).unwrap_or(0);
            }
            out.push((lo, hi));
        } else if let Some(r) = v.get("range") {
            out.push((k.value(&r[0])?, k.value(&r[1])?));
        } else {
            let one = k.value(v)?;
            out.push((one.clone(), one));
        }
    }
    Ok(out)
}

fn pad(field: &[u8]) -> Vec<u8> {
    let mut v = field.to_vec();
    v.resize(field.len().div_ceil(4) * 4, 0);
    v
}

fn new_set(next_id: &mut u32, keys: &[KeyDesc], map: bool) -> SetSpec {
    *next_id += 1;
    let concat = keys.len() > 1;
    let key_type = keys.iter().fold(0, |t, k| (t << TYPE_BITS) | k.type_id);
    let key_len = if concat { keys.iter().map(|k| k.len.div_ceil(4) * 4).sum() } else { keys[0].len };
    let mut udata = Vec::new();
    if !concat {
        // NFTNL_UDATA_SET_KEYBYTEORDER: how nft prints the elements back
        udata.extend([0u8, 4]);
        udata.extend(if keys[0].host_order { 1u32 } else { 2u32 }.to_ne_bytes());
    }
    SetSpec {
        name: if map { "__map%d" } else { "__set%d" }.to_string(),
        id: *next_id,
        flags: SET_ANONYMOUS | SET_CONSTANT | if map { SET_MAP } else { 0 },
        key_type: if key_type == 0 { TYPE_INTEGER } else { key_type },
        key_len,
        data_type: map.then_some(NFT_DATA_VERDICT),
        fields: if concat { keys.iter().map(|k| k.len as u8).collect() } else { Vec::new() },
        udata,
        elements: Vec::new(),
    }
}

fn comment_udata(comment: Option<&str>) -> Vec<u8> {
    let Some(c) = comment else { return Vec::new() };
    // NFTNL_UDATA_SET_ELEM_COMMENT, with the NUL, as nft writes it
    let mut v = vec![0u8, (c.len() + 1).min(255) as u8];
    v.extend(c.as_bytes().iter().take(254));
    v.push(0);
    v
}

/// Fills a set with its elements: as they are when no element is a range; as intervals when
/// one is (start elements and interval ends for one key, `key`/`key_end` for a concatenation).
fn fill(
    set: &mut SetSpec,
    keys: &[KeyDesc],
    elements: Vec<(Fields, Option<&str>)>,
    verdict: impl Fn(usize) -> Option<(i32, Option<String>)>,
) {
    let ranged = elements.iter().any(|(fields, _)| fields.iter().any(|(lo, hi)| lo != hi));
    if !ranged {
        for (i, (fields, comment)) in elements.iter().enumerate() {
            let key =
                if keys.len() > 1 { fields.iter().flat_map(|(lo, _)| pad(lo)).collect() } else { fields[0].0.clone() };
            set.elements.push(Element {
                key,
                verdict: verdict(i),
                udata: comment_udata(*comment),
                ..Element::default()
            });
        }
        return;
    }
    set.flags |= SET_INTERVAL;
    if keys.len() > 1 {
        set.flags |= SET_CONCAT;
        for (i, (fields, comment)) in elements.iter().enumerate() {
            let key = fields.iter().flat_map(|(lo, _)| pad(lo)).collect();
            let end = fields.iter().flat_map(|(_, hi)| pad(hi)).collect();
            set.elements.push(Element {
                key,
                key_end: Some(end),
                verdict: verdict(i),
                udata: comment_udata(*comment),
                ..Element::default()
            });
        }
        return;
    }
    let mut ranges: Vec<Interval> = elements
        .into_iter()
        .enumerate()
        .map(|(i, (mut f, c))| {
            let (lo, hi) = f.remove(0);
            (i, lo, hi, c)
        })
        .collect();
    ranges.sort_by(|a, b| a.1.cmp(&b.1));
    let zero = vec![0u8; ranges.first().map_or(0, |r| r.1.len())];
    if ranges.first().is_some_and(|r| r.1 != zero) {
        set.elements.push(Element { key: zero, flags: ELEM_INTERVAL_END, ..Element::default() });
    }
    for (n, (i, lo, hi, comment)) in ranges.iter().enumerate() {
        set.elements.push(Element {
            key: lo.clone(),
            verdict: verdict(*i),
            udata: comment_udata(*comment),
            ..Element::default()
        });
        if let Some(next) = increment(hi)
            && ranges.get(n + 1).is_none_or(|r| r.1 != next)
        {
            set.elements.push(Element { key: next, flags: ELEM_INTERVAL_END, ..Element::default() });
        }
    }
}

/// An element's index, its low and high ends, and its comment.
type Interval<'a> = (usize, Vec<u8>, Vec<u8>, Option<&'a str>);

/// The big-endian number after `v`; `None` past the largest.
fn increment(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = v.to_vec();
    for byte in out.iter_mut().rev() {
        if *byte == 0xff {
            *byte = 0;
        } else {
            *byte += 1;
            return Some(out);
        }
    }
    None
}
