//! The checks libxtables' option engine (`xtoptions.c`) makes for every extension that declares
//! its options in a `struct xt_option_entry` table: integer values in a range, `lo:hi` ranges
//! (`XTTYPE_UINT*RC`), mandatory options (`XTOPT_MAND`) and options that exclude each other
//! (`.excl`). Each reports through the [`Build`] and returns `None` (or `false`) when it did.

use super::build::Build;
use super::opts::Opt;
use crate::model::addr::inet_aton;
use crate::model::num;

impl Build<'_, '_> {
    /// `XTTYPE_UINT*RC` as iptables 1.8.9 reads it: `n`, `lo:hi`, `lo:` (up to `max`) or `:hi`
    /// (from 0), each a C number up to `max`. The second value is `None` when only one was
    /// given (each extension decides what that means). iptables 1.8.9 does not check that
    /// `lo <= hi`.
    pub fn uint_range(&mut self, opt: &Opt<'_>, max: u64) -> Option<(u64, Option<u64>)> {
        let text = opt.value();
        let mut parts = text.split(':');
        let first = parts.next().unwrap_or_default();
        let second = parts.next();
        if parts.next().is_some() {
            self.bad_value(opt, "a number or a range `lo:hi` (two numbers at most)");
            return None;
        }
        let read = |part: &str, empty: u64| if part.is_empty() { Some(empty) } else { num::uint(part, 0, max) };
        let lo = read(first, 0);
        let hi = second.map(|s| read(s, max));
        match (lo, hi) {
            (Some(lo), None) if second.is_none() => Some((lo, None)),
            (Some(lo), Some(Some(hi))) => Some((lo, Some(hi))),
            _ => {
                self.bad_value(opt, format!("a number 0-{max} or a range `lo:hi` of them"));
                None
            }
        }
    }

    /// `XTOPT_MAND`, as a test: [`Build::require`] without the option.
    pub fn mandatory(&mut self, id: u8, name: &str) -> bool {
        self.require(id, name).is_some()
    }

    /// `.excl`: reports every pair of the given options that are both present; `false` if any.
    pub fn exclusive(&mut self, ids: &[u8]) -> bool {
        // a few options at most: counted on the stack (statistic asks this of every rule)
        let given: smallvec::SmallVec<[&Opt<'_>; 4]> = ids.iter().filter_map(|&id| self.get(id)).collect();
        if given.len() < 2 {
            return true;
        }
        let (first, second) = (given[0], given[1]);
        let others: Vec<String> = given[1..].iter().map(|o| format!("`--{}`", o.name)).collect();
        self.fail(
            second.span,
            format!("`--{}` cannot be used together with {}", first.name, others.join(", ")),
            "keep only one of them",
        );
        false
    }

    /// `.also`: option `id` needs option `other`; `false` (reported) when it is alone.
    pub fn needs(&mut self, id: u8, other: u8, other_name: &str) -> bool {
        match (self.get(id), self.has(other)) {
            (Some(opt), false) => {
                self.fail(
                    opt.span,
                    format!("`--{}` also needs `--{other_name}`", opt.name),
                    format!("add `--{other_name}`"),
                );
                false
            }
            _ => true,
        }
    }
}

/// A numeric host of the family, as `getaddrinfo` reads one (IPv4 in `inet_aton`'s forms).
pub fn host_addr(text: &str, family: crate::model::Family) -> Option<std::net::IpAddr> {
    match family {
        crate::model::Family::Ipv4 => inet_aton(text).map(std::net::IpAddr::V4),
        crate::model::Family::Ipv6 => text.parse::<std::net::Ipv6Addr>().ok().map(std::net::IpAddr::V6),
    }
}

/// What to say about a host that is not an address of the family.
fn host_expected(text: &str, family: crate::model::Family) -> String {
    use crate::model::Family;
    let other = match family {
        Family::Ipv4 => text.parse::<std::net::Ipv6Addr>().is_ok(),
        Family::Ipv6 => inet_aton(text).is_some(),
    };
    if other {
        format!("an {family} address (this table is {family})")
    } else {
        format!("an {family} address (ipt does not resolve host names here; write the address)")
    }
}

/// `XTTYPE_HOST` without name resolution: one address of the table's family, as `getaddrinfo`
/// reads a numeric host (IPv4 in `inet_aton`'s forms, so `255.255.0` is `255.255.0.0` and `24`
/// is `0.0.0.24`). ipt does not resolve host names: they are refused with a word on why.
pub fn parse_host(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<std::net::IpAddr> {
    let addr = host_addr(opt.value(), b.family);
    if addr.is_none() {
        let expected = host_expected(opt.value(), b.family);
        b.bad_value(opt, expected);
    }
    addr
}

/// `XTTYPE_HOSTMASK` as iptables 1.8.9 reads it: `host[/prefix]` or `host/mask`, the address
/// kept unmasked. A mask that is no prefix (`255.0.255.0`, or `33` read as `0.0.0.33`) becomes
/// all ones, as 1.8.9 does. A host name is kept as written, with a warning: iptables resolves
/// it when the rule loads.
pub fn parse_hostmask(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<crate::model::Net> {
    use crate::model::{Family, Net};
    let text = opt.value();
    let (host, mask) = match text.split_once('/') {
        Some((h, m)) => (h, Some(m)),
        None => (text, None),
    };
    let family = b.family;
    if host_addr(host, family).is_none()
        && crate::model::addr::is_host_name(host)
        && mask.is_none_or(|m| {
            num::uint(m, 0, if family == Family::Ipv4 { 32 } else { 128 }).is_some() || host_addr(m, family).is_some()
        })
    {
        b.report(crate::load::LoadError::HostName { span: opt.value_span(), name: text.to_string() });
        return Some(Net::Name(Box::new(text.to_string())));
    }
    let Some(addr) = host_addr(host, family) else {
        let expected = host_expected(host, family);
        b.bad_value_at(opt, opt.value_span(), host, expected);
        return None;
    };
    let bits: u32 = if family == Family::Ipv4 { 32 } else { 128 };
    let prefix = match mask {
        None => bits,
        Some(m) => match num::uint(m, 0, bits as u64) {
            Some(p) => p as u32,
            None => match host_addr(m, family) {
                Some(std::net::IpAddr::V4(a)) => {
                    contiguous(u32::from(a).leading_ones(), u32::from(a).count_ones(), bits)
                }
                Some(std::net::IpAddr::V6(a)) => {
                    contiguous(u128::from(a).leading_ones(), u128::from(a).count_ones(), bits)
                }
                None => {
                    b.bad_value(opt, format!("an address with a prefix length 0-{bits} or a mask"));
                    return None;
                }
            },
        },
    };
    Some(match addr {
        std::net::IpAddr::V4(a) => {
            Net::V4 { addr: a, mask: std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix).unwrap_or(0)) }
        }
        std::net::IpAddr::V6(a) => {
            Net::v6(a, std::net::Ipv6Addr::from(u128::MAX.checked_shl(128 - prefix).unwrap_or(0)))
        }
    })
}

/// The prefix length of a mask, or the whole address when it is no prefix.
fn contiguous(leading: u32, ones: u32, bits: u32) -> u32 {
    if leading == ones { ones } else { bits }
}

/// `XTTYPE_PLEN`: a prefix length, or a mask written as an address (a mask that is not a
/// prefix becomes 255, which the kernel refuses).
pub fn parse_plen(text: &str, family: crate::model::Family) -> Option<u8> {
    let bits = if family == crate::model::Family::Ipv4 { 32 } else { 128 };
    if let Some(n) = num::uint(text, 0, bits) {
        return Some(n as u8);
    }
    let (ones, total) = match family {
        crate::model::Family::Ipv4 => {
            (u32::from(inet_aton(text)?).leading_ones(), u32::from(inet_aton(text)?).count_ones())
        }
        crate::model::Family::Ipv6 => {
            let m = u128::from(text.parse::<std::net::Ipv6Addr>().ok()?);
            (m.leading_ones(), m.count_ones())
        }
    };
    Some(if ones == total { ones as u8 } else { u8::MAX })
}

/// `xtables_parse_val_mask`: `value[/mask]` in C numbers (mask all ones by default), or a name
/// of the `names` map (iproute2's files); `Err` says what is wrong.
pub fn parse_val_mask(text: &str, names: &[(&str, u32)]) -> Result<(u32, u32), &'static str> {
    let max = u32::MAX as u64;
    let by_name = || names.iter().find(|(n, _)| *n == text).map(|&(_, v)| (v, u32::MAX)).ok_or("name");
    match num::uint_prefix(text, 0, max) {
        None => by_name(),
        Some((v, "")) => Ok((v as u32, u32::MAX)),
        Some((_, rest)) if !rest.starts_with('/') => by_name(),
        Some((v, rest)) => match num::uint_prefix(&rest[1..], 0, max) {
            Some((m, "")) => Ok((v as u32, m as u32)),
            Some(_) => Err("garbage"),
            None => Err("mask"),
        },
    }
}

/// `xtables_print_val_mask`: `0xV/0xM`, or the name of `V` (all-ones mask), or `0xV`.
pub fn val_mask_text(value: u32, mask: u32, names: &[(&str, u32)]) -> String {
    if mask != u32::MAX {
        return format!("0x{value:x}/0x{mask:x}");
    }
    match names.iter().find(|&&(_, v)| v == value) {
        Some((name, _)) => name.to_string(),
        None => format!("0x{value:x}"),
    }
}

/// C's `strtoul` in full: leading blanks, a sign (a `-` negates, wrapping), a `0x` prefix for
/// base 16 (and base 0), digits. Returns the value and how many bytes were read (0 when there
/// are no digits). Overflow saturates, as glibc does.
pub fn c_strtoul(text: &str, base: u32) -> (u64, usize) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let negative = bytes.get(i) == Some(&b'-');
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut radix = base;
    let hex_prefix = bytes.get(i) == Some(&b'0')
        && matches!(bytes.get(i + 1), Some(b'x' | b'X'))
        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    if (base == 16 || base == 0) && hex_prefix {
        i += 2;
        radix = 16;
    } else if base == 0 {
        radix = if bytes.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = bytes.get(i).and_then(|&b| (b as char).to_digit(radix)) {
        match value.checked_mul(radix as u64).and_then(|v| v.checked_add(d as u64)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    if overflow {
        return (u64::MAX, i);
    }
    (if negative { value.wrapping_neg() } else { value }, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_reads_short_forms() {
        let show = |t: &str| inet_aton(t).map(|a| a.to_string());
        assert_eq!(show("255.255.255").as_deref(), Some("255.255.0.255"));
        assert_eq!(show("255.255.0").as_deref(), Some("255.255.0.0"));
        assert_eq!(show("24").as_deref(), Some("0.0.0.24"));
        assert_eq!(show("0xffffff00").as_deref(), Some("255.255.255.0"));
        assert_eq!(show("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(show("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(show("256.1.1.1"), None);
        assert_eq!(show("1.2.3.4.5"), None);
        assert_eq!(show("1..2"), None);
        // no digits after the `0x` (glibc 2.36, as iptables' masks are read: checked on a kernel)
        assert_eq!(show("0x"), None);
        assert_eq!(show("08"), None);
        assert_eq!(show(""), None);
    }

    #[test]
    fn strtoul_reads_signs_prefixes_and_stops_at_the_first_non_digit() {
        assert_eq!(c_strtoul("ff:", 16), (255, 2));
        assert_eq!(c_strtoul("-1", 16), (u64::MAX, 2));
        assert_eq!(c_strtoul(" +f", 16), (15, 3));
        assert_eq!(c_strtoul("0x1f", 16), (31, 4));
        assert_eq!(c_strtoul("0xg", 16), (0, 1));
        assert_eq!(c_strtoul(":", 16), (0, 0));
        assert_eq!(c_strtoul("010", 0), (8, 3));
    }
}
