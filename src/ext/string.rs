//! `-m string` (libxt_string, revision 1): a byte pattern in the packet, searched with the
//! Boyer-Moore (`bm`) or Knuth-Pratt-Morris (`kmp`) algorithm between two offsets.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// The longest pattern (`XT_STRING_MAX_PATTERN_SIZE`).
pub const MAX_PATTERN: usize = 128;
/// The kernel keeps 15 bytes of the algorithm's name.
pub const MAX_ALGO: usize = 15;

/// `-m string`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct StringMatch {
    /// The bytes searched for, however they were written (`--string` or `--hex-string`).
    pub pattern: Neg<Vec<u8>>,
    /// `--algo`: `bm` or `kmp` (the kernel refuses others).
    pub algo: Box<str>,
    /// `--from`: the first offset searched.
    pub from: u16,
    /// `--to`: the last offset searched (65535 by default).
    pub to: u16,
    /// `--icase`: ignore case.
    pub icase: bool,
}

const FROM: u8 = 0;
const TO: u8 = 1;
const ALGO: u8 = 2;
const ICASE: u8 = 3;
const STRING: u8 = 4;
const HEX_STRING: u8 = 5;

pub static SPEC: MatchSpec = MatchSpec {
    name: "string",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("from", FROM),
        OptionSpec::value("to", TO),
        OptionSpec::value("algo", ALGO),
        OptionSpec::value("string", STRING).invertible(),
        OptionSpec::value("hex-string", HEX_STRING).invertible(),
        OptionSpec::flag("icase", ICASE),
    ],
    build,
};

/// `parse_hex_string`: text with `|hex pairs|` blocks (blanks allowed after a pair and after
/// the opening `|`) and `\c` for a literal character outside them.
pub fn parse_hex_string(text: &str) -> Result<Vec<u8>, String> {
    let s = text.as_bytes();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if s.is_empty() {
        return Err("at least one character".into());
    }
    let mut out = Vec::new();
    let (mut i, mut hex, mut literal) = (0, false, false);
    while i < s.len() {
        if out.len() >= MAX_PATTERN {
            return Err(format!("at most {MAX_PATTERN} bytes"));
        }
        if s[i] == b'\\' && !hex {
            literal = true;
        } else if s[i] == b'\\' {
            return Err("no `\\` inside a `|hex|` block".into());
        } else if s[i] == b'|' {
            if hex {
                hex = false;
            } else {
                hex = true;
                while at(i + 1) == b' ' {
                    i += 1;
                }
            }
            if i + 1 >= s.len() {
                break;
            }
            i += 1;
        }
        if literal {
            if i + 1 >= s.len() {
                return Err("a character after the last `\\`".into());
            }
            out.push(s[i + 1]);
            i += 2;
            literal = false;
        } else if hex {
            if i + 1 >= s.len() {
                return Err("an even number of hex digits".into());
            }
            if i + 2 >= s.len() {
                return Err("a `|` closing the hex block".into());
            }
            let pair = [s[i], s[i + 1]];
            if let Some(&bad) = pair.iter().find(|c| !c.is_ascii_hexdigit()) {
                return Err(format!("hex digits (`{}` is none)", bad as char));
            }
            let digits = std::str::from_utf8(&pair).unwrap_or("0");
            out.push(u8::from_str_radix(digits, 16).unwrap_or(0));
            i += if at(i + 2) == b' ' { 3 } else { 2 };
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[STRING, HEX_STRING]);
    let mut pattern = None;
    if let Some(opt) = b.get(STRING) {
        if opt.value().len() > MAX_PATTERN {
            b.bad_value(opt, format!("a string of at most {MAX_PATTERN} bytes (this one has {})", opt.value().len()));
            ok = false;
        } else {
            pattern = Some(b.neg(opt, opt.value().as_bytes().to_vec()));
        }
    }
    if let Some(opt) = b.get(HEX_STRING) {
        match parse_hex_string(opt.value()) {
            Ok(bytes) => pattern = Some(b.neg(opt, bytes)),
            Err(expected) => {
                b.bad_value(opt, format!("a pattern with `|hex|` blocks: {expected}"));
                ok = false;
            }
        }
    }
    let mut offsets = [0, u16::MAX];
    for (i, id) in [FROM, TO].into_iter().enumerate() {
        if let Some(opt) = b.get(id) {
            match b.number(opt, 0, u16::MAX as u64) {
                Some(v) => offsets[i] = v as u16,
                None => ok = false,
            }
        }
    }
    let algo = b.get(ALGO).map(|o| o.value());
    if !b.has(STRING) && !b.has(HEX_STRING) {
        if ok {
            b.report(crate::load::LoadError::MissingOption {
                span: b.span,
                needs: "`--string` or `--hex-string`".into(),
            });
        }
        return None;
    }
    ok &= b.mandatory(ALGO, "algo");
    let (Some(pattern), Some(algo), true) = (pattern, algo, ok) else { return None };
    let mut cut = algo.len().min(MAX_ALGO);
    while !algo.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(MatchKind::String(Box::new(StringMatch {
        pattern,
        algo: algo[..cut].into(),
        from: offsets[0],
        to: offsets[1],
        icase: b.has(ICASE),
    })))
}

/// Whether iptables-save writes the pattern as `--hex-string`: it has a byte that is not
/// printable ASCII, or ends with `\`.
fn needs_hex(bytes: &[u8]) -> bool {
    bytes.iter().any(|&c| !(0x20..0x7f).contains(&c)) || bytes.last() == Some(&b'\\')
}

impl StringMatch {
    pub fn save(&self, out: &mut String) {
        if self.pattern.invert {
            out.push_str(" !");
        }
        let bytes = &self.pattern.value;
        if needs_hex(bytes) {
            out.push_str(" --hex-string \"|");
            for c in bytes {
                out.push_str(&format!("{c:02x}"));
            }
            out.push_str("|\"");
        } else {
            out.push_str(" --string \"");
            for &c in bytes {
                if c == b'"' || c == b'\\' {
                    out.push('\\');
                }
                out.push(c as char);
            }
            out.push('"');
        }
        out.push_str(" --algo ");
        out.push_str(&self.algo);
        if self.from != 0 {
            out.push_str(&format!(" --from {}", self.from));
        }
        if self.to != u16::MAX {
            out.push_str(&format!(" --to {}", self.to));
        }
        if self.icase {
            out.push_str(" --icase");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_hex_blocks_and_literals() {
        assert_eq!(parse_hex_string("|41 42|C"), Ok(b"ABC".to_vec()));
        assert_eq!(parse_hex_string("a\\|b"), Ok(b"a|b".to_vec()));
        assert_eq!(parse_hex_string("| 0d0a|"), Ok(b"\r\n".to_vec()));
        assert_eq!(parse_hex_string("abc|"), Ok(b"abc".to_vec()));
        assert!(parse_hex_string("|41").is_err());
        assert!(parse_hex_string("|4|").is_err());
        assert!(parse_hex_string("|4g|").is_err());
        assert!(parse_hex_string("|41\\|").is_err());
        assert!(parse_hex_string("a\\").is_err());
        assert!(parse_hex_string("").is_err());
    }

    #[test]
    fn saves_printable_patterns_as_strings() {
        assert_eq!(v4("-m string --string foo --algo bm"), "-m string --string \"foo\" --algo bm");
        assert_eq!(
            v4("-m string ! --hex-string \"|66 6f|o\" --algo kmp --from 0x10 --to 100 --icase"),
            "-m string ! --string \"foo\" --algo kmp --from 16 --to 100 --icase"
        );
        assert_eq!(v4(r#"-m string --string "say \"hi\"" --algo bm"#), r#"-m string --string "say \"hi\"" --algo bm"#);
        assert_eq!(v4("-m string --hex-string \"|0d0a|\" --algo bm"), "-m string --hex-string \"|0d0a|\" --algo bm");
        assert_eq!(v4("-m string --string \"a\\\\\" --algo bm"), "-m string --hex-string \"|615c|\" --algo bm");
        assert_eq!(v6("-m string --string x --algo bm --to 65535 --from 0"), "-m string --string \"x\" --algo bm");
        same(Family::Ipv4, "-m string --string AB --algo bm", "-m string --hex-string |4142| --algo bm");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m string --algo bm").contains("`--string` or `--hex-string`"));
        assert!(err4("-m string --string foo").contains("`--algo`"));
        assert!(err4("-m string --string a --hex-string |41| --algo bm").contains("cannot be used together"));
        assert!(err4(&format!("-m string --string {} --algo bm", "x".repeat(129))).contains("at most 128 bytes"));
        assert!(err4("-m string --hex-string |4| --algo bm").contains("`|`"));
        assert!(err4("-m string --string a --algo bm --from 65536").contains("0-65535"));
    }
}
