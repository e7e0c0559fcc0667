//! Addresses with masks: `-s 10.0.0.0/8`, `-d 2001:db8::/32`, `-s 10.0.0.0/255.0.255.0`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

use super::num;

/// An address and its mask, as the kernel holds them: the address already masked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Net {
    V4 {
        addr: Ipv4Addr,
        mask: Ipv4Addr,
    },
    /// Boxed, so that the common IPv4 rule does not pay for IPv6's size.
    V6(Box<V6Net>),
    /// A host or network name, which iptables resolves (through DNS or `/etc/networks`) only when
    /// it loads the rule: kept verbatim, with its mask if any. (Boxed as a thin pointer, so that
    /// a `Net` is 16 bytes: every rule holds two.)
    Name(Box<String>),
}

/// An IPv6 address and mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct V6Net {
    pub addr: Ipv6Addr,
    pub mask: Ipv6Addr,
}

impl Net {
    /// An IPv6 address with its mask.
    pub fn v6(addr: Ipv6Addr, mask: Ipv6Addr) -> Net {
        Net::V6(Box::new(V6Net { addr, mask }))
    }
}

/// Why an address does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// The mask part is neither a prefix length nor a mask written as an address.
    BadMask(String),
    /// Empty text, or one that cannot be a host name.
    BadAddress(String),
}

impl Net {
    /// Parses one element of an address list for `-s`/`-d` (`-s a,b` is split by the caller):
    /// the address is masked, as iptables does. Returns `None` for "any" (a zero mask, which
    /// iptables treats as matching everything, whatever the address).
    pub fn parse(text: &str) -> Result<Option<Net>, AddrError> {
        let net = Net::parse_unmasked(text)?;
        Ok((!net.is_any()).then(|| net.masked()))
    }

    /// Parses `addr[/mask]` keeping the address as written (conntrack's `--ctorigsrc` and
    /// friends do not mask it). A name with a zero mask is `0.0.0.0/0`.
    pub fn parse_unmasked(text: &str) -> Result<Net, AddrError> {
        match plain_v4(text) {
            Some(net) => Ok(net),
            None => Net::parse_any(text),
        }
    }

    /// [`Net::parse_unmasked`] for every form iptables reads.
    fn parse_any(text: &str) -> Result<Net, AddrError> {
        let text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (host, mask) = match text.rfind('/') {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        // the common `a.b.c.d` first: Rust reads it as iptables does when no part has a leading
        // zero (which Rust refuses and iptables reads as octal)
        if let Some(addr) = host.parse::<Ipv4Addr>().ok().or_else(|| parse_v4(host)).or_else(|| inet_aton(host)) {
            let mask = match mask {
                None => Ipv4Addr::from(u32::MAX),
                Some(m) => parse_v4_mask(m).ok_or_else(|| AddrError::BadMask(m.to_string()))?,
            };
            return Ok(Net::V4 { addr, mask });
        }
        if let Ok(addr) = host.parse::<Ipv6Addr>() {
            let mask = match mask {
                None => Ipv6Addr::from(u128::MAX),
                Some(m) => parse_v6_mask(m).ok_or_else(|| AddrError::BadMask(m.to_string()))?,
            };
            return Ok(Net::v6(addr, mask));
        }
        // A name: a zero mask makes iptables ignore it ("any/0").
        if let Some(m) = mask
            && (num::uint(m, 0, 0).is_some() || m == "0.0.0.0" || m == "::")
        {
            return Ok(Net::any_v4());
        }
        if !is_host_name(host) {
            return Err(AddrError::BadAddress(text.to_string()));
        }
        if let Some(m) = mask
            && parse_v4_mask(m).is_none()
            && parse_v6_mask(m).is_none()
        {
            return Err(AddrError::BadMask(m.to_string()));
        }
        Ok(Net::Name(Box::new(text.to_string())))
    }

    /// The address with the mask applied to it.
    pub fn masked(self) -> Net {
        match self {
            Net::V4 { addr, mask } => Net::V4 { addr: Ipv4Addr::from(u32::from(addr) & u32::from(mask)), mask },
            Net::V6(v6) => Net::v6(Ipv6Addr::from(u128::from(v6.addr) & u128::from(v6.mask)), v6.mask),
            name => name,
        }
    }

    /// The same address with an all-ones mask (one host).
    pub fn with_full_mask(self) -> Net {
        match self {
            Net::V4 { addr, .. } => Net::V4 { addr, mask: Ipv4Addr::from(u32::MAX) },
            Net::V6(v6) => Net::v6(v6.addr, Ipv6Addr::from(u128::MAX)),
            name => name,
        }
    }

    /// "Anything": `0.0.0.0/0` or `::/0`.
    pub fn any(family: super::Family) -> Net {
        match family {
            super::Family::Ipv4 => Net::any_v4(),
            super::Family::Ipv6 => Net::v6(Ipv6Addr::UNSPECIFIED, Ipv6Addr::UNSPECIFIED),
        }
    }

    /// "Anything": `0.0.0.0/0`.
    pub fn any_v4() -> Net {
        Net::V4 { addr: Ipv4Addr::UNSPECIFIED, mask: Ipv4Addr::UNSPECIFIED }
    }

    /// Whether the mask is zero, so that every address matches.
    pub fn is_any(&self) -> bool {
        match self {
            Net::V4 { mask, .. } => mask.is_unspecified(),
            Net::V6(v6) => v6.mask.is_unspecified(),
            Net::Name(_) => false,
        }
    }

    /// The family the address belongs to, when it says (a name does not).
    pub fn family(&self) -> Option<super::Family> {
        match self {
            Net::V4 { .. } => Some(super::Family::Ipv4),
            Net::V6(_) => Some(super::Family::Ipv6),
            Net::Name(_) => None,
        }
    }

    /// The prefix length when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u32> {
        match self {
            Net::V4 { mask, .. } => contiguous(u32::from(*mask).leading_ones(), u32::from(*mask).count_ones()),
            Net::V6(v6) => contiguous(u128::from(v6.mask).leading_ones(), u128::from(v6.mask).count_ones()),
            Net::Name(_) => None,
        }
    }
}

fn contiguous(leading: u32, ones: u32) -> Option<u32> {
    (leading == ones).then_some(ones)
}

impl fmt::Display for Net {
    /// As iptables-save prints it: `addr/len`, or `addr/mask` for a mask that is not contiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.prefix_len()) {
            (Net::V4 { addr, .. }, Some(len)) => write!(f, "{addr}/{len}"),
            (Net::V4 { addr, mask }, None) => write!(f, "{addr}/{mask}"),
            (Net::V6(v6), Some(len)) => write!(f, "{}/{len}", Ipv6Text(v6.addr)),
            (Net::V6(v6), None) => write!(f, "{}/{}", Ipv6Text(v6.addr), Ipv6Text(v6.mask)),
            (Net::Name(name), _) => f.write_str(name),
        }
    }
}

/// An address as `xtables_ipaddr_to_numeric` + `xtables_ipmask_to_numeric` print it (in
/// conntrack's options, for one): like [`Net`]'s own text, but with no `/32` or `/128`.
pub struct NetNumeric<'a>(pub &'a Net);

impl fmt::Display for NetNumeric<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.0.prefix_len()) {
            (Net::V4 { addr, .. }, Some(32)) => write!(f, "{addr}"),
            (Net::V6(v6), Some(128)) => write!(f, "{}", Ipv6Text(v6.addr)),
            (net, _) => net.fmt(f),
        }
    }
}

impl Serialize for Net {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The form nearly every address of a dump has, `a.b.c.d` or `a.b.c.d/n` in plain decimal (no
/// leading zero, which iptables reads as octal), read in one pass over the bytes; `None` for
/// anything else, which [`Net::parse_any`] reads. (Rust's own reader and the search for `/` took
/// some 500 instructions an address, on 60 000 addresses of the 10k kube dump.)
fn plain_v4(text: &str) -> Option<Net> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let addr = quad(bytes, &mut at)?;
    let bits = match bytes.get(at) {
        None => 32,
        Some(b'/') => {
            at += 1;
            let bits = number(bytes, &mut at, 32)?;
            (at == bytes.len()).then_some(bits)?
        }
        Some(_) => return None,
    };
    Some(Net::V4 { addr: Ipv4Addr::from(addr), mask: Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0)) })
}

/// `a.b.c.d` in plain decimal, each part without a leading zero: exactly what `inet_pton` (and
/// Rust's `Ipv4Addr::from_str`) reads, in one pass over the bytes.
pub fn dotted_quad(text: &str) -> Option<Ipv4Addr> {
    let mut at = 0;
    let addr = quad(text.as_bytes(), &mut at)?;
    (at == text.len()).then(|| Ipv4Addr::from(addr))
}

/// The dotted quad at the start of `bytes[*at..]`, `at` moved past it.
fn quad(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut addr = 0u32;
    for i in 0..4 {
        addr = addr << 8 | number(bytes, at, 255)?;
        if i < 3 {
            (bytes.get(*at) == Some(&b'.')).then_some(())?;
            *at += 1;
        }
    }
    Some(addr)
}

/// A decimal number of one to three digits, without a leading zero, at most `max`, at the start
/// of `bytes[*at..]`, `at` moved past it.
fn number(bytes: &[u8], at: &mut usize, max: u32) -> Option<u32> {
    let start = *at;
    let mut value: u32 = 0;
    while let Some(&b @ b'0'..=b'9') = bytes.get(*at) {
        if *at - start == 3 || (*at > start && value == 0) {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
        *at += 1;
    }
    (*at > start && value <= max).then_some(value)
}

/// iptables' own dotted-quad reader: 1 to 4 parts, each a C number 0-255 (`10.1` is
/// `10.1.0.0`, `010` is octal).
pub fn parse_v4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for (i, octet) in octets.iter_mut().enumerate() {
        match parts.next() {
            Some(p) => *octet = num::uint(p, 0, 255)? as u8,
            // fewer than four parts: a network address, the rest zero
            None if i > 0 => break,
            None => return None,
        }
    }
    if parts.next().is_some() || text.ends_with('.') {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// glibc's `inet_aton`, which `getaddrinfo` falls back to when iptables' own reader fails:
/// `a` (32 bits), `a.b` (8.24), `a.b.c` (8.8.16) or `a.b.c.d`, each part a C number.
pub fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u64> = text
        .split('.')
        .map(|p| {
            let (v, rest) = num::strtoul(p, 0)?;
            (rest.is_empty() && !p.starts_with(['+', ' '])).then_some(v)
        })
        .collect::<Option<_>>()?;
    let (last, init) = parts.split_last()?;
    if init.len() > 3 || init.iter().any(|&p| p > 255) || *last >= 1u64 << (8 * (4 - init.len())) {
        return None;
    }
    let value = init.iter().enumerate().fold(*last, |acc, (i, &p)| acc | p << (24 - 8 * i));
    Some(Ipv4Addr::from(value as u32))
}

/// Whether a text can be a host name to resolve: dot-separated labels of letters, digits, `-`
/// and `_`, the last one not all digits.
pub fn is_host_name(text: &str) -> bool {
    let labels: Vec<&str> = text.strip_suffix('.').unwrap_or(text).split('.').collect();
    text.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels.last().is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()))
}

/// A v4 mask: four dotted parts, or a prefix length 0-32.
fn parse_v4_mask(text: &str) -> Option<Ipv4Addr> {
    if let Ok(bits @ 0..=32) = text.parse::<u32>()
        && (text.len() == 1 || !text.starts_with('0'))
    {
        return Some(Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0)));
    }
    if text.matches('.').count() == 3 {
        return parse_v4(text);
    }
    let bits = num::uint(text, 0, 32)? as u32;
    Some(Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0)))
}

/// A v6 mask: an address, or a prefix length 0-128.
fn parse_v6_mask(text: &str) -> Option<Ipv6Addr> {
    if let Ok(mask) = text.parse::<Ipv6Addr>() {
        return Some(mask);
    }
    let bits = num::uint(text, 0, 128)? as u32;
    Some(Ipv6Addr::from(u128::MAX.checked_shl(128 - bits).unwrap_or(0)))
}

/// An IPv6 address as glibc's `inet_ntop` writes it (which iptables-save uses): like RFC 5952,
/// but `::a.b.c.d` and `::ffff:a.b.c.d` keep their dotted tail.
pub struct Ipv6Text(pub Ipv6Addr);

impl fmt::Display for Ipv6Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.0.segments();
        // the longest run of zero words, at least two long (the first one on ties)
        let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
        for (i, &w) in words.iter().enumerate() {
            if w == 0 {
                let run = cur.map_or((i, 1), |(s, l)| (s, l + 1));
                cur = Some(run);
                if run.1 > best.1 {
                    best = run;
                }
            } else {
                cur = None;
            }
        }
        let zero_run = (best.1 >= 2).then_some(best);
        let mut i = 0;
        while i < 8 {
            if let Some((start, len)) = zero_run
                && i == start
            {
                f.write_str(if i == 0 { "::" } else { ":" })?;
                i += len;
                continue;
            }
            if i == 6
                && let Some((0, len)) = zero_run
                && (len == 6 || (len == 5 && words[5] == 0xffff))
            {
                let [.., a, b, c, d] = self.0.octets();
                return write!(f, "{a}.{b}.{c}.{d}");
            }
            write!(f, "{:x}", words[i])?;
            if i < 7 {
                f.write_str(":")?;
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_read_as_every_other_form_does() {
        let plain =
            ["0.0.0.0", "10.180.0.1", "255.255.255.255", "172.30.0.1/32", "10.0.0.0/8", "1.2.3.4/0", "9.99.100.7/9"];
        for text in plain {
            assert_eq!(plain_v4(text).map(Ok), Some(Net::parse_any(text)), "{text}");
        }
        // the rest is left to the general reader, which reads them as iptables does
        let other = [
            "",
            "1",
            "1.2",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "256.1.1.1",
            "1.2.3.1000",
            "1.2.3.4/",
            "1.2.3.4/33",
            "1.2.3.4/08",
            "1.2.3.4/255.255.0.0",
            " 1.2.3.4",
            "1.2.3.4 ",
            "1..2.3",
            "1.2.3.4/3/4",
            "0x1.2.3.4",
            "::1",
            "host.example",
            "1.2.3.4/-1",
        ];
        for text in other {
            assert_eq!(plain_v4(text), None, "{text}");
        }
        for text in plain.iter().chain(&other) {
            let host = text.split('/').next().unwrap_or(text);
            assert_eq!(dotted_quad(host), host.parse::<Ipv4Addr>().ok(), "{host}");
        }
    }

    fn show(text: &str) -> String {
        match Net::parse(text) {
            Ok(Some(net)) => net.to_string(),
            Ok(None) => "any".to_string(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn masks_the_address_and_prints_a_prefix() {
        assert_eq!(show("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(show("10.1.2.3"), "10.1.2.3/32");
        assert_eq!(show("10.0.0.0/255.255.0.0"), "10.0.0.0/16");
        assert_eq!(show("10.1.2.3/255.0.255.0"), "10.0.2.0/255.0.255.0");
        assert_eq!(show("10.1"), "10.1.0.0/32");
        assert_eq!(show("0.0.0.0/0"), "any");
        assert_eq!(show("example.com/0"), "any");
        assert_eq!(show("example.com"), "example.com");
        assert_eq!(show("10.0.0.0/33"), "BadMask(\"33\")");
        assert_eq!(show("0x0a000001"), "10.0.0.1/32");
        assert_eq!(show("300.1.1.1"), "BadAddress(\"300.1.1.1\")");
        assert_eq!(show("1.2.3.4-1.2.3.5"), "BadAddress(\"1.2.3.4-1.2.3.5\")");
        assert_eq!(show("fe80::1%eth0"), "BadAddress(\"fe80::1%eth0\")");
        assert_eq!(show("localhost"), "localhost");
    }

    #[test]
    fn prints_ipv6_like_inet_ntop() {
        assert_eq!(show("2001:db8::1"), "2001:db8::1/128");
        assert_eq!(show("2001:db8:0:0:1::/64"), "2001:db8::/64");
        assert_eq!(show("::1"), "::1/128");
        assert_eq!(show("::ffff:1.2.3.4"), "::ffff:1.2.3.4/128");
        assert_eq!(show("::1.2.3.4"), "::1.2.3.4/128");
        assert_eq!(show("1:0:1:0:1:0:1:0"), "1:0:1:0:1:0:1:0/128");
        assert_eq!(show("2001:db8::/ffff:ffff::"), "2001:db8::/32");
        assert_eq!(show("2001:db8::/ffff:0:ffff::"), "2001::/ffff:0:ffff::");
    }
}
