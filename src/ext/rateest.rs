//! `-j RATEEST` (libxt_RATEEST): feed the packet to a named rate estimator, which
//! `-m rateest` reads.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `char name[IFNAMSIZ]`.
pub const MAX_NAME: usize = 15;
/// Time is counted in microseconds.
const PER_SEC: f64 = 1_000_000.0;

/// `-j RATEEST`: the estimator's name and its timing, as the kernel holds them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Rateest {
    pub name: Box<str>,
    /// The measurement interval is `2^(interval + 2)` quarter seconds: -2 is 250 ms, 3 is 8 s.
    pub interval: i8,
    /// The averaging time constant is `interval * 2^ewma_log` (1-30).
    pub ewma_log: u8,
}

const NAME: u8 = 0;
const INTERVAL: u8 = 1;
const EWMALOG: u8 = 2;

pub static SPEC: TargetSpec = TargetSpec {
    name: "RATEEST",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("rateest-name", NAME),
        OptionSpec::value("rateest-interval", INTERVAL),
        OptionSpec::value("rateest-ewmalog", EWMALOG),
    ],
    build,
};

/// C's `strtod`: the longest prefix that is a decimal floating-point number (blanks, a sign,
/// digits with an optional point, an optional exponent), `inf`/`infinity`/`nan`, or a
/// hexadecimal integer. Returns the value and the rest.
fn strtod(s: &str) -> Option<(f64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let negative = b.first() == Some(&b'-');
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &t[i..];
    for (word, value) in [("infinity", f64::INFINITY), ("inf", f64::INFINITY), ("nan", f64::NAN)] {
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word) {
            return Some((sign(value), &rest[word.len()..]));
        }
    }
    if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        let len = hex.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(hex.len());
        if len > 0 {
            let value = hex[..len].chars().fold(0.0, |acc, c| acc * 16.0 + c.to_digit(16).unwrap_or(0) as f64);
            return Some((sign(value), &hex[len..]));
        }
    }
    let start = i;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
        if mantissa == 0 {
            return None;
        }
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if digits(&mut j) > 0 {
            i = j;
        }
    }
    let value: f64 = t[start..i].parse().ok()?;
    Some((sign(value), &t[i..]))
}

/// A time as RATEEST reads it, in microseconds: a number, then `s`/`sec`/`secs`,
/// `ms`/`msec`/`msecs` or `us`/`usec`/`usecs` in any case (none means microseconds). The
/// `double` is stored in an `unsigned int` the way x86-64 converts it.
fn parse_time(text: &str) -> Option<u32> {
    let (t, unit) = strtod(text)?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "us" | "usec" | "usecs" => 1.0,
        "s" | "sec" | "secs" => PER_SEC,
        "ms" | "msec" | "msecs" => PER_SEC / 1000.0,
        _ => return None,
    };
    let t = t * scale;
    // cvttsd2si to 64 bits, then the low 32 bits; out of range gives the "indefinite" value
    Some(if t.is_finite() && t.abs() < 9.2e18 { t as i64 as u32 } else { 0 })
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let name = b.require(NAME, "rateest-name");
    let interval = b.require(INTERVAL, "rateest-interval");
    let ewmalog = b.require(EWMALOG, "rateest-ewmalog");
    let mut times = [0u32; 2];
    for (slot, opt) in times.iter_mut().zip([interval, ewmalog]) {
        let Some(opt) = opt else { continue };
        match parse_time(opt.value()) {
            Some(t) => *slot = t,
            None => {
                b.bad_value(opt, "a time such as `250ms` or `1s` (units s, ms, us)");
                return None;
            }
        }
    }
    let (name, interval, ewmalog) = (name?, interval?, ewmalog?);
    let [interval_us, ewma_us] = times;
    // the smallest power of two quarter seconds that covers the interval
    let Some(step) = (0..=5u32).find(|&i| interval_us as u64 <= (1u64 << i) * 250_000) else {
        b.bad_value(interval, "an interval of at most 8 seconds");
        return None;
    };
    // the largest weight whose averaging time stays within the ewmalog
    let log = (1..32u32)
        .find(|&e| {
            let w = 1.0 - 1.0 / (1u64 << e) as f64;
            interval_us as f64 / -w.ln() > ewma_us as f64
        })
        .unwrap_or(32)
        - 1;
    if log == 0 || log >= 31 {
        b.bad_value(ewmalog, "an averaging time longer than the interval (and below 2^31 intervals)");
        return None;
    }
    let name = b.kept(name, MAX_NAME);
    Some(TargetKind::Rateest(Box::new(Rateest { name, interval: step as i8 - 2, ewma_log: log as u8 })))
}

/// RATEEST's way of printing microseconds: `%.1fs`, `%.1fms`, or `%uus`.
fn time_text(us: u32) -> String {
    let t = us as f64;
    if t >= PER_SEC {
        format!("{:.1}s", t / PER_SEC)
    } else if t >= PER_SEC / 1000.0 {
        format!("{:.1}ms", t / (PER_SEC / 1000.0))
    } else {
        format!("{us}us")
    }
}

impl Rateest {
    pub fn save(&self, out: &mut String) {
        let interval = (1_000_000u32 << (self.interval + 2).clamp(0, 5)) / 4;
        let ewma = interval.wrapping_mul(1u32 << self.ewma_log.min(31));
        // the name is printed with %s: not quoted
        out.push_str(&format!(
            " --rateest-name {} --rateest-interval {} --rateest-ewmalog {}",
            self.name,
            time_text(interval),
            time_text(ewma)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::test_util::{err4, save4, save6};

    fn saved(name: &str, interval: &str, ewmalog: &str) -> String {
        save4(&format!("-j RATEEST --rateest-name {name} --rateest-interval {interval} --rateest-ewmalog {ewmalog}"))
            .trim_start_matches("-j RATEEST ")
            .to_string()
    }

    #[test]
    fn reads_times_like_strtod() {
        assert_eq!(parse_time("250ms"), Some(250_000));
        assert_eq!(parse_time("0.25s"), Some(250_000));
        assert_eq!(parse_time("1SEC"), Some(1_000_000));
        assert_eq!(parse_time("3Msecs"), Some(3000));
        assert_eq!(parse_time("1e6"), Some(1_000_000));
        assert_eq!(parse_time("250"), Some(250));
        assert_eq!(parse_time("1000000s"), Some((1e12 as u64 % (1u64 << 32)) as u32));
        assert_eq!(parse_time("1x"), None);
        assert_eq!(parse_time("s"), None);
    }

    #[test]
    fn rounds_to_what_the_kernel_holds() {
        assert_eq!(
            saved("RE1", "250ms", "500ms"),
            "--rateest-name RE1 --rateest-interval 250.0ms --rateest-ewmalog 500.0ms"
        );
        assert_eq!(saved("RE1", "1s", "2s"), "--rateest-name RE1 --rateest-interval 1.0s --rateest-ewmalog 2.0s");
        assert_eq!(
            saved("RE1", "250us", "500us"),
            "--rateest-name RE1 --rateest-interval 250.0ms --rateest-ewmalog 500.0ms"
        );
        assert_eq!(saved("a", "0.5s", "2s"), "--rateest-name a --rateest-interval 500.0ms --rateest-ewmalog 2.0s");
        assert_eq!(saved("a", "8s", "100s"), "--rateest-name a --rateest-interval 8.0s --rateest-ewmalog 64.0s");
        assert_eq!(saved("a", "1s", "1.5s"), "--rateest-name a --rateest-interval 1.0s --rateest-ewmalog 2.0s");
        assert_eq!(saved("a", "1e6", "3s"), "--rateest-name a --rateest-interval 1.0s --rateest-ewmalog 2.0s");
        // the ewmalog overflows 32 bits of microseconds before it is used
        assert_eq!(
            saved("a", "250ms", "1000000s"),
            "--rateest-name a --rateest-interval 250.0ms --rateest-ewmalog 2048.0s"
        );
        assert_eq!(saved("a", "8s", "10000s"), "--rateest-name a --rateest-interval 8.0s --rateest-ewmalog 1024.0s");
        assert_eq!(
            save6("-j RATEEST --rateest-name b --rateest-interval 2s --rateest-ewmalog 9s"),
            "-j RATEEST --rateest-name b --rateest-interval 2.0s --rateest-ewmalog 8.0s"
        );
    }

    #[test]
    fn names_are_cut_and_unquoted() {
        assert_eq!(
            saved("abcdefghijklmnopq", "1s", "3s"),
            "--rateest-name abcdefghijklmno --rateest-interval 1.0s --rateest-ewmalog 2.0s"
        );
        assert_eq!(saved("\"a b\"", "1s", "3s"), "--rateest-name a b --rateest-interval 1.0s --rateest-ewmalog 2.0s");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(
            err4("-j RATEEST --rateest-name a --rateest-interval 9s --rateest-ewmalog 100s")
                .contains("at most 8 seconds")
        );
        assert!(
            err4("-j RATEEST --rateest-name a --rateest-interval 1s --rateest-ewmalog 1s").contains("averaging time")
        );
        assert!(
            err4("-j RATEEST --rateest-name a --rateest-interval 1SEC --rateest-ewmalog 3Msecs")
                .contains("averaging time")
        );
        assert!(
            err4("-j RATEEST --rateest-name a --rateest-interval 1x --rateest-ewmalog 3s").contains("a time such as")
        );
        assert!(err4("-j RATEEST --rateest-name RE1 --rateest-interval 250ms").contains("`--rateest-ewmalog`"));
        assert!(err4("-j RATEEST --rateest-interval 250ms --rateest-ewmalog 500ms").contains("`--rateest-name`"));
    }
}
