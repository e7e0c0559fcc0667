//! Addresses and prefixes as the targets read them through `getaddrinfo` (iptables'
//! `XTTYPE_HOST` and `XTTYPE_PLENMASK`), which differs from how `-s`/`-d` read addresses:
//! `10.1` is `10.0.0.1` here (`inet_aton`), not `10.1.0.0`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

use crate::model::Family;
use crate::model::addr::{Ipv6Text, inet_aton, is_host_name};

/// An address given to a target: numeric, or a host name iptables resolves when it loads the
/// rule (which ipt cannot do, so it keeps the name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostAddr {
    Ip(IpAddr),
    Name(Box<str>),
}

/// Why a host does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostError {
    /// A numeric address of the other family ("Address family for hostname not supported").
    WrongFamily,
    /// Neither an address nor a possible host name.
    Invalid,
}

impl HostAddr {
    /// The unspecified address of a family (`0.0.0.0` or `::`).
    pub fn unspecified(family: Family) -> HostAddr {
        HostAddr::Ip(match family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        })
    }

    /// `getaddrinfo(text)` for one family: a numeric address (`inet_aton` for IPv4, so `10.1`
    /// is `10.0.0.1` and `010.0.0.1` is `8.0.0.1`), else a host name.
    pub fn parse(text: &str, family: Family) -> Result<HostAddr, HostError> {
        let v4 = inet_aton(text);
        let v6 = text.parse::<Ipv6Addr>().ok();
        match (family, v4, v6) {
            (Family::Ipv4, Some(a), _) => Ok(HostAddr::Ip(IpAddr::V4(a))),
            (Family::Ipv6, _, Some(a)) => Ok(HostAddr::Ip(IpAddr::V6(a))),
            (_, Some(_), _) | (_, _, Some(_)) => Err(HostError::WrongFamily),
            _ if is_host_name(text) => Ok(HostAddr::Name(text.into())),
            _ => Err(HostError::Invalid),
        }
    }
}

impl fmt::Display for HostAddr {
    /// As `xtables_ipaddr_to_numeric` / `xtables_ip6addr_to_numeric` print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAddr::Ip(IpAddr::V4(a)) => write!(f, "{a}"),
            HostAddr::Ip(IpAddr::V6(a)) => write!(f, "{}", Ipv6Text(*a)),
            HostAddr::Name(name) => f.write_str(name),
        }
    }
}

impl Serialize for HostAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The prefix length of a mask given after `/` (`XTTYPE_PLENMASK` in iptables 1.8.9): a C
/// number `0-32` (`0-128`), or a mask written as an address. A mask that is not contiguous
/// becomes all ones: iptables 1.8.9 cannot store it and keeps the full length.
pub fn parse_prefix(text: &str, family: Family) -> Option<u8> {
    let max = match family {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    if let Some(len) = crate::model::num::uint(text, 0, max as u64) {
        return Some(len as u8);
    }
    let (bits, ones, leading) = match family {
        Family::Ipv4 => {
            let m = u32::from(inet_aton(text)?);
            (32, m.count_ones(), m.leading_ones())
        }
        Family::Ipv6 => {
            let m = u128::from(text.parse::<Ipv6Addr>().ok()?);
            (128, m.count_ones(), m.leading_ones())
        }
    };
    Some(if ones == leading { ones as u8 } else { bits })
}

/// The mask of a prefix length, as an address of the family.
pub fn prefix_mask(family: Family, len: u8) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::from(u32::MAX.checked_shl(32 - len as u32).unwrap_or(0))),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::from(u128::MAX.checked_shl(128 - len as u32).unwrap_or(0))),
    }
}

/// `addr & mask`.
pub fn mask_addr(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & u32::MAX.checked_shl(32 - len as u32).unwrap_or(0))),
        IpAddr::V6(a) => {
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & u128::MAX.checked_shl(128 - len as u32).unwrap_or(0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_numeric_or_names() {
        assert_eq!(HostAddr::parse("1.2.3.4", Family::Ipv6), Err(HostError::WrongFamily));
        assert_eq!(HostAddr::parse("::1", Family::Ipv4), Err(HostError::WrongFamily));
        assert_eq!(HostAddr::parse("1.2.3.0/24", Family::Ipv4), Err(HostError::Invalid));
        assert_eq!(HostAddr::parse("localhost", Family::Ipv4), Ok(HostAddr::Name("localhost".into())));
        assert_eq!(HostAddr::parse("2001:DB8::1", Family::Ipv6).unwrap().to_string(), "2001:db8::1");
    }

    #[test]
    fn prefixes_as_iptables_1_8_9_reads_them() {
        assert_eq!(parse_prefix("24", Family::Ipv4), Some(24));
        assert_eq!(parse_prefix("0x10", Family::Ipv4), Some(16));
        assert_eq!(parse_prefix("255.255.0.0", Family::Ipv4), Some(16));
        assert_eq!(parse_prefix("255.0.255.0", Family::Ipv4), Some(32));
        assert_eq!(parse_prefix("33", Family::Ipv4), Some(32), "0.0.0.33 is a mask with holes");
        assert_eq!(parse_prefix("", Family::Ipv4), None);
        assert_eq!(parse_prefix("129", Family::Ipv6), None);
        assert_eq!(parse_prefix("ffff:ffff::", Family::Ipv6), Some(32));
        assert_eq!(parse_prefix("ffff::ff", Family::Ipv6), Some(128));
    }
}
