//! Ports and port ranges: `--dport 22`, `--dport 1024:65535`, `--dport ssh`.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{netdb, num};

/// An inclusive port range; a single port has `lo == hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

/// Why a port (range) does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortError {
    /// Neither a number 0-65535 nor a service name for the protocol.
    Unknown(String),
    /// `a:b` with `a > b`.
    Reversed(u16, u16),
}

impl PortRange {
    pub const ALL: PortRange = PortRange { lo: 0, hi: u16::MAX };

    pub fn single(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }

    /// `xtables_parse_port`: a number (C syntax) or a service name of `/etc/services` for the
    /// protocol (`tcp`, `udp`, ...).
    pub fn parse_port(text: &str, proto: &str) -> Result<u16, PortError> {
        if let Some(n) = num::uint(text, 0, 65535) {
            return Ok(n as u16);
        }
        netdb::SERVICES
            .iter()
            .find(|&&(name, p, _)| name == text && p == proto)
            .map(|&(_, _, port)| port)
            .ok_or_else(|| PortError::Unknown(text.to_string()))
    }

    /// `a`, `a:b`, `:b` (from 0) or `a:` (to 65535), as the tcp and udp matches read them.
    pub fn parse(text: &str, proto: &str) -> Result<PortRange, PortError> {
        match text.split_once(':') {
            None => Ok(PortRange::single(PortRange::parse_port(text, proto)?)),
            Some((lo, hi)) => {
                let lo = if lo.is_empty() { 0 } else { PortRange::parse_port(lo, proto)? };
                let hi = if hi.is_empty() { u16::MAX } else { PortRange::parse_port(hi, proto)? };
                if lo > hi {
                    return Err(PortError::Reversed(lo, hi));
                }
                Ok(PortRange { lo, hi })
            }
        }
    }

    /// `getaddrinfo(NULL, name)`'s service lookup, which the newer extensions use: a decimal
    /// number (cut to 16 bits, as glibc does), or a service name of any protocol.
    ///
    /// glibc reads the number with `strtoul(name, &end, 10)` (blanks and a sign first; the empty
    /// text is 0) and keeps it in an `int`: a number that overflows, or is negative there
    /// (`2147483648`, `-1`), is looked up as a name instead, and fails.
    pub fn parse_service(text: &str) -> Result<u16, PortError> {
        let unknown = || PortError::Unknown(text.to_string());
        let t = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
        let (negative, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if text.is_empty() {
            return Ok(0);
        }
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n: u64 = digits.parse().map_err(|_| unknown())?;
            let n = if negative { n.wrapping_neg() } else { n };
            return if (n as u32 as i32) < 0 { Err(unknown()) } else { Ok(n as u16) };
        }
        netdb::SERVICES
            .iter()
            .find(|&&(name, _, _)| name == text)
            .map(|&(_, _, port)| port)
            .ok_or_else(|| PortError::Unknown(text.to_string()))
    }

    /// `XTTYPE_PORTRC` (udp, conntrack, ...): `a`, `a:b`, `:b`, `a:`, ports by
    /// [`PortRange::parse_service`].
    pub fn parse_service_range(text: &str) -> Result<PortRange, PortError> {
        let mut parts = text.split(':');
        let lo_text = parts.next().unwrap_or_default();
        let hi_text = parts.next();
        if parts.next().is_some() {
            return Err(PortError::Unknown(text.to_string()));
        }
        let lo = if lo_text.is_empty() { 0 } else { PortRange::parse_service(lo_text)? };
        let hi = match hi_text {
            None => lo,
            Some("") => u16::MAX,
            Some(h) => PortRange::parse_service(h)?,
        };
        // iptables 1.8.9 does not check the order here: `4:3` loads and matches nothing
        Ok(PortRange { lo, hi })
    }

    pub fn is_all(self) -> bool {
        self == PortRange::ALL
    }

    pub fn contains(self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi { write!(f, "{}", self.lo) } else { write!(f, "{}:{}", self.lo, self.hi) }
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ranges_and_names() {
        assert_eq!(PortRange::parse("ssh", "tcp"), Ok(PortRange::single(22)));
        assert_eq!(PortRange::parse("1024:", "tcp"), Ok(PortRange { lo: 1024, hi: 65535 }));
        assert_eq!(PortRange::parse(":1023", "udp"), Ok(PortRange { lo: 0, hi: 1023 }));
        assert_eq!(PortRange::parse("80:22", "tcp"), Err(PortError::Reversed(80, 22)));
        assert_eq!(PortRange::parse("nope", "tcp"), Err(PortError::Unknown("nope".into())));
        assert_eq!(PortRange::parse("0x16", "tcp"), Ok(PortRange::single(22)));
        assert_eq!(PortRange::parse_service_range("65536"), Ok(PortRange::single(0)));
        assert_eq!(PortRange::parse_service_range("ssh:"), Ok(PortRange { lo: 22, hi: 65535 }));
        assert!(PortRange::parse_service_range("0x16").is_err());
        assert_eq!(PortRange::parse_service(" +80"), Ok(80));
        assert_eq!(PortRange::parse_service(""), Ok(0));
        assert_eq!(PortRange::parse_service("4294967297"), Ok(1));
        assert!(PortRange::parse_service("2147483648").is_err());
        assert!(PortRange::parse_service("18446744073709551616").is_err());
        assert!(PortRange::parse_service("-1").is_err());
    }
}
