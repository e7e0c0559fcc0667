//! Layer-4 protocols: `-p tcp`, `-p 47`, `-p ipv6-icmp`.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{netdb, num};

/// An IP protocol number. (Protocol 0, `all`, means "any" and is not a `Proto`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Proto(pub u8);

/// The names iptables knows without `/etc/protocols` (`xtables_chain_protos`), which are also
/// the names iptables-save prints; any other protocol is printed as its number.
const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("esp", 50),
    ("ah", 51),
    ("mobility-header", 135),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("dccp", 33),
    ("ipcomp", 108),
    ("all", 0),
];

impl Proto {
    /// `-p all` (or `-p 0`): every protocol.
    pub const ALL: Proto = Proto(0);
    pub const ICMP: Proto = Proto(1);
    pub const TCP: Proto = Proto(6);
    pub const UDP: Proto = Proto(17);
    pub const DCCP: Proto = Proto(33);
    pub const ICMPV6: Proto = Proto(58);
    pub const SCTP: Proto = Proto(132);
    pub const UDPLITE: Proto = Proto(136);

    /// Reads `-p`'s value as iptables does: lowercased, then as [`Proto::parse_exact`] reads
    /// it (so `tcp` and `TCP` are 6, but `ospfigp` is no protocol: `/etc/protocols` spells that
    /// alias of `ospf` `OSPFIGP`). `Some(0)` is `all`.
    pub fn parse_number(text: &str) -> Option<u8> {
        let lower: std::borrow::Cow<'_, str> =
            if text.bytes().any(|b| b.is_ascii_uppercase()) { text.to_ascii_lowercase().into() } else { text.into() };
        Proto::parse_exact(&lower)
    }

    /// A protocol as `xtables_parse_protocol` reads one (`XTTYPE_PROTOCOL`: `--ctproto`,
    /// `--proto`): a number 0-255, or a name or alias exactly as `/etc/protocols` or iptables'
    /// own list writes it (`TCP` is 6, `Tcp` is nothing).
    pub fn parse_exact(text: &str) -> Option<u8> {
        if let Some(n) = num::uint(text, 0, 255) {
            return Some(n as u8);
        }
        CHAIN_PROTOS.iter().chain(netdb::PROTOCOLS).find(|(name, _)| *name == text).map(|&(_, n)| n)
    }

    /// The name iptables-save prints, if it prints a name.
    pub fn name(self) -> Option<&'static str> {
        CHAIN_PROTOS.iter().find(|&&(_, n)| n == self.0).map(|&(name, _)| name)
    }

    /// The name of the match module iptables loads for this protocol's options (`-p tcp
    /// --dport 22` loads `-m tcp`): the protocol's name from `/etc/protocols` or iptables' list.
    pub fn module_name(self) -> Option<&'static str> {
        self.name().or_else(|| netdb::PROTOCOLS.iter().find(|&&(_, n)| n == self.0).map(|&(name, _)| name))
    }

    /// Protocols with ports: tcp, udp, udplite, sctp, dccp.
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::TCP | Proto::UDP | Proto::UDPLITE | Proto::SCTP | Proto::DCCP)
    }
}

impl fmt::Display for Proto {
    /// As iptables-save 1.8.9 prints it: iptables' own name, else the name in `/etc/protocols`,
    /// else the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.module_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for Proto {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_numbers_and_case_like_iptables() {
        assert_eq!(Proto::parse_number("tcp"), Some(6));
        assert_eq!(Proto::parse_number("TCP"), Some(6));
        assert_eq!(Proto::parse_number("6"), Some(6));
        assert_eq!(Proto::parse_number("gre"), Some(47));
        assert_eq!(Proto::parse_number("icmpv6"), Some(58));
        assert_eq!(Proto::parse_number("all"), Some(0));
        assert_eq!(Proto::parse_number("bogus"), None);
        // checked on a kernel: aliases are compared as `/etc/protocols` writes them
        assert_eq!(Proto::parse_number("OSPFIGP"), None);
        assert_eq!(Proto::parse_number("ipsec-esp"), None);
        assert_eq!(Proto::parse_exact("TCP"), Some(6));
        assert_eq!(Proto::parse_exact("IPv6-ICMP"), Some(58));
        assert_eq!(Proto::parse_exact("Tcp"), None);
        assert_eq!(Proto::parse_exact("ALL"), None);
        assert_eq!(Proto::parse_exact("all"), Some(0));
        assert_eq!(Proto(58).to_string(), "ipv6-icmp");
        assert_eq!(Proto(47).to_string(), "gre");
        assert_eq!(Proto(44).to_string(), "ipv6-frag");
        assert_eq!(Proto(200).to_string(), "200");
    }
}
