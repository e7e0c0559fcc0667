//! Numbers as iptables reads them: C's `strtoul` with base 0 (so `0x16` and `026` are 22), as
//! `xtables_strtoul` wraps it.

/// C's `strtoul(s, &end, base)`: leading white space, an optional `+`, and for base 0 a `0x`
/// (hex) or `0` (octal) prefix. Returns the value and the text after the digits, or `None` when
/// there are no digits or the value overflows 64 bits. A leading `-` is refused, as
/// `xtables_strtoul` does.
pub fn strtoul(s: &str, base: u32) -> Option<(u64, &str)> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if t.starts_with('-') {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = match base {
        0 | 16
            if (t.starts_with("0x") || t.starts_with("0X")) && t[2..].starts_with(|c: char| c.is_ascii_hexdigit()) =>
        {
            (16, &t[2..])
        }
        0 if t.starts_with('0') => (8, t),
        0 => (10, t),
        b => (b, t),
    };
    let len = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    if len == 0 {
        return None;
    }
    let value = u64::from_str_radix(&digits[..len], radix).ok()?;
    Some((value, &digits[len..]))
}

/// `xtables_strtoui(s, NULL, &v, min, max)`: the whole text is a number in `min..=max`.
pub fn uint(s: &str, min: u64, max: u64) -> Option<u64> {
    match strtoul(s, 0)? {
        (v, "") if (min..=max).contains(&v) => Some(v),
        _ => None,
    }
}

/// A number followed by more text: `xtables_strtoui(s, &end, &v, min, max)`.
pub fn uint_prefix(s: &str, min: u64, max: u64) -> Option<(u64, &str)> {
    let (v, rest) = strtoul(s, 0)?;
    (min..=max).contains(&v).then_some((v, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_the_way_c_does() {
        assert_eq!(uint("22", 0, 65535), Some(22));
        assert_eq!(uint("0x16", 0, 65535), Some(22));
        assert_eq!(uint("026", 0, 65535), Some(22));
        assert_eq!(uint("0", 0, 65535), Some(0));
        assert_eq!(uint("+5", 0, 65535), Some(5));
        assert_eq!(uint("-1", 0, 65535), None);
        assert_eq!(uint("65536", 0, 65535), None);
        assert_eq!(uint("08", 0, 65535), None, "8 is not an octal digit");
        assert_eq!(uint("", 0, 65535), None);
        assert_eq!(strtoul("0x", 0), Some((0, "x")));
        assert_eq!(strtoul("12:34", 0), Some((12, ":34")));
    }
}
