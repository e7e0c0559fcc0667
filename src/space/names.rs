//! Interface names as numbers, so that iptables' name tests are intervals.
//!
//! A name is 0 to 15 non-zero bytes (`IFNAMSIZ` less the NUL; the empty name is "no interface",
//! what the kernel compares in `PREROUTING`/`INPUT` for `-o` and in `OUTPUT` for `-i`). Names are
//! numbered in lexicographic pre-order: a name comes right before every longer name that starts
//! with it. Then `-i eth0` is one number, and `-i eth+` (every name starting with `eth`,
//! `eth` itself included) is the interval from `eth`'s number over its whole subtree. Every number
//! of the domain is a name and every name has a number, so the encoding adds no packet that
//! cannot exist and loses none: negation and difference stay exact.
//!
//! The kernel also refuses names with `/`, `:` or white space, and `.` and `..`; the domain keeps
//! them (any byte but NUL), as iptables' own comparison does: a rule can only name them, never
//! meet them, so keeping them never hides a finding about names a host can have.

/// The longest name.
const MAX_LEN: u32 = 15;
/// Bytes a name may hold: 1 to 255.
const ALPHABET: u128 = 255;

/// How many names of at most `depth` bytes extend a given name, itself included:
/// `1 + 255 + 255^2 + ... + 255^depth`.
const fn subtree(depth: u32) -> u128 {
    let mut size = 1;
    let mut d = 0;
    while d < depth {
        size = 1 + ALPHABET * size;
        d += 1;
    }
    size
}

/// The largest name number (the domain is `0..=MAX`).
pub const MAX: u128 = subtree(MAX_LEN) - 1;

/// The number of a name of at most 15 bytes, none of them NUL; `None` for any other text.
pub fn rank(name: &[u8]) -> Option<u128> {
    if name.len() > MAX_LEN as usize {
        return None;
    }
    let mut r = 0u128;
    for (i, &b) in name.iter().enumerate() {
        if b == 0 {
            return None;
        }
        r += 1 + (b as u128 - 1) * subtree(MAX_LEN - 1 - i as u32);
    }
    Some(r)
}

/// Every name that starts with `prefix` (the prefix itself included), as an interval.
pub fn prefix_interval(prefix: &[u8]) -> Option<(u128, u128)> {
    let lo = rank(prefix)?;
    Some((lo, lo + subtree(MAX_LEN - prefix.len() as u32) - 1))
}

/// The name of a number (numbers above [`MAX`] have none).
pub fn unrank(mut r: u128) -> Option<Vec<u8>> {
    if r > MAX {
        return None;
    }
    let mut name = Vec::new();
    let mut depth = MAX_LEN;
    while r > 0 {
        r -= 1;
        depth -= 1;
        let size = subtree(depth);
        name.push((r / size + 1) as u8);
        r %= size;
    }
    Some(name)
}

/// The numbers a pattern of `-i`/`-o` matches: `eth0` exactly, `eth+` by prefix, `+` all.
pub fn pattern_interval(pattern: &str) -> Option<(u128, u128)> {
    match pattern.strip_suffix('+') {
        Some(prefix) => prefix_interval(prefix.as_bytes()),
        None => rank(pattern.as_bytes()).map(|r| (r, r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_name_order_and_round_trip() {
        let names: [&[u8]; 9] = [
            b"",
            b"\x01",
            b"a",
            b"eth",
            b"eth0",
            b"eth0.100",
            b"eth1",
            b"lo",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ];
        let ranks: Vec<u128> = names.iter().map(|n| rank(n).unwrap_or(u128::MAX)).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        assert_eq!(ranks[0], 0);
        assert_eq!(ranks[8], MAX, "the last name is the largest number");
        for (name, r) in names.iter().zip(&ranks) {
            assert_eq!(unrank(*r).as_deref(), Some(*name));
        }
        assert_eq!(rank(b"0123456789abcdef"), None);
        assert_eq!(rank(b"a\0b"), None);
        assert_eq!(unrank(MAX + 1), None);
    }

    #[test]
    fn a_wildcard_is_the_interval_of_its_subtree() {
        let (lo, hi) = pattern_interval("eth+").unwrap_or((1, 0));
        for name in ["eth", "eth0", "eth0.100", "ethernet-long-1"] {
            let r = rank(name.as_bytes()).unwrap_or(0);
            assert!(lo <= r && r <= hi, "{name}");
        }
        for name in ["", "et", "etg", "eti", "lo", "eu"] {
            let r = rank(name.as_bytes()).unwrap_or(lo);
            assert!(r < lo || r > hi, "{name}");
        }
        // the last name of the subtree is followed by the next sibling
        assert_eq!(unrank(hi + 1).as_deref(), Some(&b"eti"[..]));
        assert_eq!(pattern_interval("+"), Some((0, MAX)));
        assert_eq!(pattern_interval("eth0"), rank(b"eth0").map(|r| (r, r)));
        // the full-length prefix is just itself
        let full = "abcdefghijklmno";
        assert_eq!(pattern_interval(&format!("{full}+")), pattern_interval(full));
    }
}
