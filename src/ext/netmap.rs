//! `-j NETMAP` (libipt_NETMAP, libip6t_NETMAP): map a whole network onto another, keeping the
//! host part of each address (nat table).

use std::net::IpAddr;

use serde::Serialize;

use super::build::Build;
use super::host::{HostAddr, HostError, mask_addr, parse_prefix};
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::load::LoadError;
use crate::model::TargetKind;

/// `-j NETMAP --to ADDR[/MASK]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Netmap {
    /// The network's first address (the address given, masked), or a host name.
    pub addr: HostAddr,
    /// The prefix length. iptables 1.8.9 turns a mask that is not a prefix into a full one.
    pub prefix: u8,
}

const TO: u8 = 0;

pub static SPEC: TargetSpec =
    TargetSpec { name: "NETMAP", availability: Availability::Both, options: &[OptionSpec::value("to", TO)], build };

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let opt = b.require(TO, "to")?;
    let family = b.family;
    let full = match family {
        crate::model::Family::Ipv4 => 32,
        crate::model::Family::Ipv6 => 128,
    };
    // `XTTYPE_HOSTMASK`: the host, then what follows the first `/`
    let (host, mask) = match opt.value().split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (opt.value(), None),
    };
    let addr = match HostAddr::parse(host, family) {
        Ok(a) => a,
        Err(HostError::WrongFamily) => {
            b.bad_value(opt, format!("an {family} address (this is another family's)"));
            return None;
        }
        Err(HostError::Invalid) => {
            b.bad_value(opt, format!("an {family} address or host name, with an optional `/prefix` or `/mask`"));
            return None;
        }
    };
    let prefix = match mask {
        None => full,
        Some(m) => match parse_prefix(m, family) {
            Some(p) => {
                let is_len = crate::model::num::uint(m, 0, full as u64).is_some();
                if !is_len && p == full && !is_full_mask(m) {
                    b.warn(
                        opt.value_span(),
                        format!("`/{m}` is not a prefix: iptables 1.8.9 maps to the single address instead"),
                        "write the network as `ADDRESS/LEN`",
                    );
                }
                p
            }
            None => {
                b.bad_value(opt, format!("a prefix length 0-{full} or a network mask after `/`"));
                return None;
            }
        },
    };
    if let HostAddr::Name(name) = &addr {
        b.report(LoadError::HostName { span: opt.value_span(), name: name.to_string() });
    }
    let addr = match addr {
        HostAddr::Ip(ip) => HostAddr::Ip(mask_addr(ip, prefix)),
        name => name,
    };
    Some(TargetKind::Netmap(Box::new(Netmap { addr, prefix })))
}

/// Whether a mask written as an address is all ones.
fn is_full_mask(text: &str) -> bool {
    crate::model::addr::inet_aton(text).is_some_and(|a| a.to_bits() == u32::MAX)
        || text.parse::<std::net::Ipv6Addr>().is_ok_and(|a| a.to_bits() == u128::MAX)
}

impl Netmap {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --to {}/{}", self.addr, self.prefix));
    }

    /// The first and last address of the network mapped to (`None` for a host name).
    pub fn range(&self) -> Option<(IpAddr, IpAddr)> {
        let HostAddr::Ip(first) = self.addr else { return None };
        let last = match first {
            IpAddr::V4(a) => IpAddr::V4((a.to_bits() | u32::MAX.checked_shr(self.prefix as u32).unwrap_or(0)).into()),
            IpAddr::V6(a) => IpAddr::V6((a.to_bits() | u128::MAX.checked_shr(self.prefix as u32).unwrap_or(0)).into()),
        };
        Some((first, last))
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6, target4};

    #[test]
    fn saves_the_network() {
        assert_eq!(save4("-j NETMAP --to 10.0.0.0/24"), "-j NETMAP --to 10.0.0.0/24");
        assert_eq!(save4("-j NETMAP --to 10.0.0.5/24"), "-j NETMAP --to 10.0.0.0/24");
        assert_eq!(save4("-j NETMAP --to 10.0.0.1"), "-j NETMAP --to 10.0.0.1/32");
        assert_eq!(save4("-j NETMAP --to 10.0.0.0/0"), "-j NETMAP --to 0.0.0.0/0");
        assert_eq!(save4("-j NETMAP --to 10.0.0.1/255.255.0.0"), "-j NETMAP --to 10.0.0.0/16");
        assert_eq!(save6("-j NETMAP --to 2001:db8::5/64"), "-j NETMAP --to 2001:db8::/64");
        assert_eq!(save6("-j NETMAP --to 2001:db8::/ffff:ffff:ffff:ffff::"), "-j NETMAP --to 2001:db8::/64");
        assert_eq!(save6("-j NETMAP --to ::ffff:1.2.3.4/120"), "-j NETMAP --to ::ffff:1.2.3.0/120");
        assert_eq!(save6("-j NETMAP --to ::1/0"), "-j NETMAP --to ::/0");
    }

    #[test]
    fn reads_addresses_like_getaddrinfo() {
        assert_eq!(save4("-j NETMAP --to 10.1/16"), "-j NETMAP --to 10.0.0.0/16");
        assert_eq!(save4("-j NETMAP --to 10.1"), "-j NETMAP --to 10.0.0.1/32");
        assert_eq!(save4("-j NETMAP --to 010.0.0.1"), "-j NETMAP --to 8.0.0.1/32");
        assert_eq!(save4("-j NETMAP --to 0x0a000001/24"), "-j NETMAP --to 10.0.0.0/24");
        assert_eq!(save4("-j NETMAP --to 1.2.3.4/0x10"), "-j NETMAP --to 1.2.0.0/16");
        assert_eq!(save4("-j NETMAP --to 1.2.3.4/010"), "-j NETMAP --to 1.0.0.0/8");
    }

    #[test]
    fn masks_with_holes_become_full() {
        assert_eq!(save4("-j NETMAP --to 10.0.0.0/255.0.255.0"), "-j NETMAP --to 10.0.0.0/32");
        assert_eq!(save4("-j NETMAP --to 10.0.0.1/33"), "-j NETMAP --to 10.0.0.1/32");
        assert_eq!(save6("-j NETMAP --to 2001:db8::1/ffff::ff"), "-j NETMAP --to 2001:db8::1/128");
        assert_eq!(target4("-j NETMAP --to 10.0.0.1/33"), target4("-j NETMAP --to 10.0.0.1"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j NETMAP").contains("`--to`"));
        assert!(err4("-j NETMAP --to 10.0.0.1/").contains("prefix length 0-32"));
        assert!(err4("-j NETMAP --to 10.0.0.1-10.0.0.5").contains("host name"));
        assert!(err4("-j NETMAP --to ::1").contains("another family"));
        assert!(err6("-j NETMAP --to 1.2.3.0/24").contains("another family"));
        assert!(err6("-j NETMAP --to 2001:db8::1/129").contains("prefix length 0-128"));
        assert!(err6("-j NETMAP --to 2001:db8::1/255.255.0.0").contains("prefix length 0-128"));
    }
}
