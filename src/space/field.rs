//! The header fields a packet set is made of, and each one's domain.
//!
//! Fields compared as numbers or ranges are [`RangeField`]s (held as [`Ranges`](super::Ranges));
//! fields compared under a mask are [`CubeField`]s (held as [`Cubes`](super::Cubes)).
//!
//! A field that a packet may lack has one more value, `ABSENT`, above its real values: ports
//! exist only in the first fragment (or an unfragmented packet) of tcp, udp, udplite, sctp and
//! dccp; ICMP type and code only in ICMP (ICMPv6) ones; TCP flags only in TCP ones; a source MAC
//! only on an Ethernet device. The [universe](super::Space::universe) ties the absent values to
//! the protocol and fragment fields, so that a port test implies its protocols without naming
//! them, and negating a port test (`! --dport 22`) stays among packets that have ports.

use crate::model::{Family, Proto};

/// Fields held as intervals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RangeField {
    /// The layer-4 protocol (IPv6: the upper-layer one, after extension headers), 0-255.
    Proto,
    /// 1 for a second or later fragment (`-f`), 0 otherwise.
    Frag,
    /// `-i`: the input interface's name number ([`names`](super::names)); 0 is none.
    InIface,
    /// `-o`: the output interface's name number; 0 is none.
    OutIface,
    /// Source port, or [`ABSENT_PORT`].
    Sport,
    /// Destination port, or [`ABSENT_PORT`].
    Dport,
    /// ICMP(v6) `type << 8 | code`, or [`ABSENT_ICMP`].
    Icmp,
    /// The conntrack state, one of [`CT_STATES`] values ([`ct_bits`](super::state::ct_bits)).
    CtState,
    /// The packet type the kernel gives `-m pkttype` (`PACKET_HOST` = 0 ...), 0-7.
    Pkttype,
    /// `-m length`: the IP length, 0-65535.
    Length,
    /// TTL (IPv4) or hop limit (IPv6), 0-255.
    Ttl,
    /// The Ethernet source address, or [`ABSENT_MAC`] (not an Ethernet device).
    MacSrc,
}

/// Fields held as ternary patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CubeField {
    /// Source address (32 bits in IPv4, 128 in IPv6).
    Src,
    /// Destination address.
    Dst,
    /// The TCP flag byte (bits 0-7), or [`ABSENT_FLAGS`] (bit 8).
    TcpFlags,
    /// The TOS / traffic class byte (the DSCP is its upper six bits).
    Tos,
    /// The packet mark (`-m mark`).
    Mark,
    /// The connection mark (`-m connmark`).
    Connmark,
    /// The routing types of the source address (`-m addrtype --src-type`), one bit per type of
    /// [`crate::ext::addrtype::NAMES`].
    SrcType,
    /// The routing types of the destination address.
    DstType,
}

pub const RANGE_FIELDS: [RangeField; 12] = [
    RangeField::Proto,
    RangeField::Frag,
    RangeField::InIface,
    RangeField::OutIface,
    RangeField::Sport,
    RangeField::Dport,
    RangeField::Icmp,
    RangeField::CtState,
    RangeField::Pkttype,
    RangeField::Length,
    RangeField::Ttl,
    RangeField::MacSrc,
];

pub const CUBE_FIELDS: [CubeField; 8] = [
    CubeField::Src,
    CubeField::Dst,
    CubeField::TcpFlags,
    CubeField::Tos,
    CubeField::Mark,
    CubeField::Connmark,
    CubeField::SrcType,
    CubeField::DstType,
];

/// A port field's value for a packet without ports.
pub const ABSENT_PORT: u128 = 1 << 16;
/// The ICMP field's value for a packet that is not ICMP.
pub const ABSENT_ICMP: u128 = 1 << 16;
/// The TCP flags field's value for a packet that is not TCP.
pub const ABSENT_FLAGS: u128 = 1 << 8;
/// The MAC field's value for a packet that came in on no Ethernet device.
pub const ABSENT_MAC: u128 = 1 << 48;
/// How many conntrack states a packet can be in ([`super::state`]).
pub const CT_STATES: u128 = 14;

impl RangeField {
    /// The largest value of the domain (the domain is `0..=max`).
    pub fn max(self) -> u128 {
        match self {
            RangeField::Proto | RangeField::Ttl => 255,
            RangeField::Frag => 1,
            RangeField::InIface | RangeField::OutIface => super::names::MAX,
            RangeField::Sport | RangeField::Dport => ABSENT_PORT,
            RangeField::Icmp => ABSENT_ICMP,
            RangeField::CtState => CT_STATES - 1,
            RangeField::Pkttype => 7,
            RangeField::Length => 65535,
            RangeField::MacSrc => ABSENT_MAC,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            RangeField::Proto => "protocol",
            RangeField::Frag => "fragment",
            RangeField::InIface => "in-interface",
            RangeField::OutIface => "out-interface",
            RangeField::Sport => "source port",
            RangeField::Dport => "destination port",
            RangeField::Icmp => "icmp type/code",
            RangeField::CtState => "conntrack state",
            RangeField::Pkttype => "packet type",
            RangeField::Length => "length",
            RangeField::Ttl => "ttl",
            RangeField::MacSrc => "source mac",
        }
    }
}

impl CubeField {
    /// The number of bits of the domain.
    pub fn width(self, family: Family) -> u32 {
        match (self, family) {
            (CubeField::Src | CubeField::Dst, Family::Ipv4) => 32,
            (CubeField::Src | CubeField::Dst, Family::Ipv6) => 128,
            (CubeField::TcpFlags, _) => 9,
            (CubeField::Tos, _) => 8,
            (CubeField::Mark | CubeField::Connmark, _) => 32,
            (CubeField::SrcType | CubeField::DstType, _) => 12,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            CubeField::Src => "source",
            CubeField::Dst => "destination",
            CubeField::TcpFlags => "tcp flags",
            CubeField::Tos => "tos",
            CubeField::Mark => "mark",
            CubeField::Connmark => "connmark",
            CubeField::SrcType => "source address type",
            CubeField::DstType => "destination address type",
        }
    }
}

/// Protocols whose packets carry ports at the start of the transport header.
pub const PORT_PROTOS: [u8; 5] = [Proto::TCP.0, Proto::UDP.0, Proto::UDPLITE.0, Proto::SCTP.0, Proto::DCCP.0];

/// The ICMP protocol of a family.
pub fn icmp_proto(family: Family) -> u8 {
    match family {
        Family::Ipv4 => Proto::ICMP.0,
        Family::Ipv6 => Proto::ICMPV6.0,
    }
}
