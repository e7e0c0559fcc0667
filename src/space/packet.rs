//! A sampled packet, in words: `tcp 0.0.0.0:0 -> 10.0.0.1:22 state NEW ...`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::field::{ABSENT_FLAGS, ABSENT_ICMP, ABSENT_MAC, ABSENT_PORT, CubeField, RangeField};
use super::packet_box::Point;
use super::{names, state};
use crate::ext::addrtype::NAMES as ADDR_TYPES;
use crate::model::{Family, Proto};

/// A [`Point`] with its family, to print.
pub struct Packet<'a> {
    pub family: Family,
    pub point: &'a Point,
}

fn addr(family: Family, v: u128) -> String {
    match family {
        Family::Ipv4 => Ipv4Addr::from(v as u32).to_string(),
        Family::Ipv6 => crate::model::addr::Ipv6Text(Ipv6Addr::from(v)).to_string(),
    }
}

fn iface(v: u128) -> String {
    match names::unrank(v) {
        Some(name) if name.is_empty() => "-".to_string(),
        Some(name) => String::from_utf8_lossy(&name).into_owned(),
        None => "?".to_string(),
    }
}

fn types(bits: u128) -> String {
    let names: Vec<&str> =
        ADDR_TYPES.iter().enumerate().filter(|&(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n).collect();
    if names.is_empty() { "none".to_string() } else { names.join(",") }
}

impl fmt::Display for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.point;
        let r = |field: RangeField| p.get(field);
        let c = |field: CubeField| p.get_cube(field);
        let proto = r(RangeField::Proto);
        write!(f, "{}", Proto(proto as u8))?;
        let (src, dst) = (addr(self.family, c(CubeField::Src)), addr(self.family, c(CubeField::Dst)));
        if r(RangeField::Sport) != ABSENT_PORT {
            write!(f, " {src} port {} -> {dst} port {}", r(RangeField::Sport), r(RangeField::Dport))?;
        } else {
            write!(f, " {src} -> {dst}")?;
        }
        if r(RangeField::Icmp) != ABSENT_ICMP {
            write!(f, " type {} code {}", r(RangeField::Icmp) >> 8, r(RangeField::Icmp) & 0xff)?;
        }
        if c(CubeField::TcpFlags) != ABSENT_FLAGS {
            write!(f, " flags {:#04x}", c(CubeField::TcpFlags))?;
        }
        if r(RangeField::Frag) == 1 {
            f.write_str(" fragment")?;
        }
        write!(f, " in {} out {}", iface(r(RangeField::InIface)), iface(r(RangeField::OutIface)))?;
        write!(f, " state {}", state::describe(r(RangeField::CtState)))?;
        write!(f, " mark {:#x} connmark {:#x}", c(CubeField::Mark), c(CubeField::Connmark))?;
        write!(f, " length {} ttl {} tos {:#04x}", r(RangeField::Length), r(RangeField::Ttl), c(CubeField::Tos))?;
        write!(f, " pkttype {}", r(RangeField::Pkttype))?;
        write!(f, " src-type {} dst-type {}", types(c(CubeField::SrcType)), types(c(CubeField::DstType)))?;
        let mac = r(RangeField::MacSrc);
        if mac != ABSENT_MAC {
            let b = (mac as u64).to_be_bytes();
            write!(f, " mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[2], b[3], b[4], b[5], b[6], b[7])?;
        }
        Ok(())
    }
}
