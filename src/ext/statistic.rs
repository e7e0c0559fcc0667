//! `-m statistic` (libxt_statistic): match packets at random, with a probability, or every Nth.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// The kernel's scale for a probability: 1.0 is 2³¹.
pub const PROBABILITY_SCALE: f64 = 2147483648.0;

/// How packets are picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum StatisticMode {
    /// `--mode random --probability P`: `probability` is P × 2³¹.
    Random { probability: u32 },
    /// `--mode nth --every N --packet P`: `every` is N − 1, as the kernel holds it.
    Nth { every: u32, packet: u32 },
}

/// `-m statistic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Statistic {
    #[serde(flatten)]
    pub mode: StatisticMode,
    /// `! --probability` or `! --every`: match the packets not picked.
    pub invert: bool,
}

const MODE: u8 = 0;
const PROBABILITY: u8 = 1;
const EVERY: u8 = 2;
const PACKET: u8 = 3;

pub static SPEC: MatchSpec = MatchSpec {
    name: "statistic",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("mode", MODE),
        OptionSpec::value("probability", PROBABILITY).invertible(),
        OptionSpec::value("every", EVERY).invertible(),
        OptionSpec::value("packet", PACKET),
    ],
    build,
};

/// C's `strtod` over the whole text: blanks, a sign, a decimal or `0x` hexadecimal number with
/// an exponent, `inf` or `nan`.
pub fn strtod(text: &str) -> Option<f64> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let value = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => parse_hex_float(hex)?,
        None if body.starts_with(['+', '-']) => return None,
        None => body.parse::<f64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// `h.hhh[p±d]`.
fn parse_hex_float(text: &str) -> Option<f64> {
    let (mantissa, exp) = match text.find(['p', 'P']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int.chars() {
        value = value * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let exp: i32 = match exp {
        Some(e) => e.parse().ok()?,
        None => 0,
    };
    Some(value * 2f64.powi(exp))
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(MODE, "mode") {
        return None;
    }
    let mode_opt = b.get(MODE)?;
    let nth = match mode_opt.value() {
        "random" => false,
        "nth" => true,
        _ => {
            b.bad_value(mode_opt, "`random` or `nth`");
            return None;
        }
    };
    let mut ok = b.exclusive(&[PROBABILITY, EVERY]) && b.exclusive(&[PROBABILITY, PACKET]);
    let invert = b.opts.iter().any(|o| o.invert);
    let mut probability = 0;
    if let Some(opt) = b.get(PROBABILITY) {
        match strtod(opt.value()) {
            // NaN passes iptables' range check and becomes 0
            Some(p) if p.is_nan() => probability = 0,
            Some(p) if (0.0..=1.0).contains(&p) => probability = (PROBABILITY_SCALE * p).round() as u32,
            _ => {
                b.bad_value(opt, "a probability from 0 to 1");
                ok = false;
            }
        }
    }
    let mut every = 0;
    if let Some(opt) = b.get(EVERY) {
        match b.number(opt, 1, u32::MAX as u64) {
            Some(n) => every = n as u32 - 1,
            None => ok = false,
        }
    }
    let mut packet = 0;
    if let Some(opt) = b.get(PACKET) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(p) => packet = p as u32,
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    if !nth && !b.has(PROBABILITY) {
        b.fail(b.span, "`--mode random` needs `--probability`", "add `--probability P` (0 to 1)");
        return None;
    }
    if nth && !b.has(EVERY) && !b.has(PACKET) {
        b.fail(b.span, "`--mode nth` needs `--every` and `--packet`", "add `--every N --packet P` (P from 0 to N-1)");
        return None;
    }
    if packet > every {
        let span = b.get(PACKET).map_or(b.span, |o| o.span);
        b.fail(span, "`--packet P` must be from 0 to N-1 for `--every N`", "lower `--packet`");
        return None;
    }
    if !(b.needs(EVERY, PACKET, "packet") && b.needs(PACKET, EVERY, "every")) {
        return None;
    }
    let mode = if nth { StatisticMode::Nth { every, packet } } else { StatisticMode::Random { probability } };
    Some(MatchKind::Statistic(Statistic { mode, invert }))
}

impl Statistic {
    pub fn save(&self, out: &mut String) {
        let bang = if self.invert { " !" } else { "" };
        match self.mode {
            StatisticMode::Random { probability } => out.push_str(&format!(
                " --mode random{bang} --probability {:.11}",
                probability as f64 / PROBABILITY_SCALE
            )),
            StatisticMode::Nth { every, packet } => {
                out.push_str(&format!(" --mode nth{bang} --every {} --packet {packet}", every as u64 + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_floats_like_strtod() {
        assert_eq!(strtod(" 0.5"), Some(0.5));
        assert_eq!(strtod("0x1p-2"), Some(0.25));
        assert_eq!(strtod("1e-3"), Some(0.001));
        assert_eq!(strtod(".5"), Some(0.5));
        assert!(strtod("nan").is_some_and(f64::is_nan));
        assert_eq!(strtod("0.5x"), None);
        assert_eq!(strtod(""), None);
    }

    #[test]
    fn saves_the_probability_as_the_kernel_rounds_it() {
        assert_eq!(
            v4("-m statistic --mode random --probability 0.5"),
            "-m statistic --mode random --probability 0.50000000000"
        );
        assert_eq!(
            v4("-m statistic --mode random --probability 0.1"),
            "-m statistic --mode random --probability 0.10000000009"
        );
        assert_eq!(
            v4("-m statistic --mode random --probability 1e-3"),
            "-m statistic --mode random --probability 0.00100000016"
        );
        assert_eq!(
            v4("-m statistic --mode random ! --probability 1"),
            "-m statistic --mode random ! --probability 1.00000000000"
        );
        assert_eq!(
            v4("-m statistic --mode random --probability nan"),
            "-m statistic --mode random --probability 0.00000000000"
        );
        assert_eq!(
            v4("-m statistic --mode nth ! --every 3 --packet 2"),
            "-m statistic --mode nth ! --every 3 --packet 2"
        );
        assert_eq!(v6("-m statistic --mode nth --every 1 --packet 0"), "-m statistic --mode nth --every 1 --packet 0");
        same(
            Family::Ipv4,
            "-m statistic --mode random --probability 0x1p-2",
            "-m statistic --mode random --probability .25",
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m statistic --probability 0.5").contains("`--mode`"));
        assert!(err4("-m statistic --mode Random --probability 0.5").contains("`random` or `nth`"));
        assert!(err4("-m statistic --mode random").contains("needs `--probability`"));
        assert!(err4("-m statistic --mode random --probability 1.5").contains("from 0 to 1"));
        assert!(err4("-m statistic --mode nth").contains("needs `--every` and `--packet`"));
        assert!(err4("-m statistic --mode nth --every 3").contains("`--every` also needs `--packet`"));
        assert!(err4("-m statistic --mode nth --packet 0").contains("`--packet` also needs `--every`"));
        assert!(err4("-m statistic --mode nth --every 3 --packet 3").contains("from 0 to N-1"));
        assert!(err4("-m statistic --mode nth --every 0 --packet 0").contains("1-4294967295"));
        assert!(
            err4("-m statistic --mode random --probability 0.5 --every 2 --packet 1")
                .contains("cannot be used together")
        );
        assert!(err4("-m statistic ! --mode random --probability 0.5").contains("cannot come before"));
    }
}
