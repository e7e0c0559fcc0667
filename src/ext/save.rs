//! Helpers for writing options the way iptables-save does.

use std::fmt::Write;

/// `xtables_save_string`: a space, then the value bare when it is only letters, digits, `_` and
/// `-`, otherwise in double quotes with `"`, `\` and `'` escaped by a backslash.
pub fn save_string(out: &mut String, value: &str) {
    out.push(' ');
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// `" ! --name"` or `" --name"`.
pub fn save_opt(out: &mut String, invert: bool, name: &str) {
    if invert {
        out.push_str(" !");
    }
    out.push_str(" --");
    out.push_str(name);
}

/// `" ! --name value"` or `" --name value"`.
pub fn save_opt_value(out: &mut String, invert: bool, name: &str, value: impl std::fmt::Display) {
    save_opt(out, invert, name);
    let _ = write!(out, " {value}");
}

/// Serialises a set that prints as `A,B,C` as the list of its names, for `ipt parse`.
pub fn serialize_names<S: serde::Serializer>(set: impl std::fmt::Display, s: S) -> Result<S::Ok, S::Error> {
    let text = set.to_string();
    s.collect_seq(text.split(',').filter(|name| !name.is_empty()))
}

/// `0x` and lowercase hex, as iptables prints marks and masks.
pub struct Hex(pub u32);

impl std::fmt::Display for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let mut out = String::new();
        save_string(&mut out, "plain_word-1");
        save_string(&mut out, "two words");
        save_string(&mut out, r#"say "hi" it's \ here"#);
        save_string(&mut out, "");
        assert_eq!(out, r#" plain_word-1 "two words" "say \"hi\" it\'s \\ here" """#);
    }
}
