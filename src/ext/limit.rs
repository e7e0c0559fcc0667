//! `-m limit` (libxt_limit): a token bucket, `--limit RATE --limit-burst N`.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, num};

/// The kernel's unit: `avg` is the time between packets in 1/10000 s.
pub const SCALE: u32 = 10000;
/// The default rate, `3/hour`.
pub const DEFAULT_AVG: u32 = SCALE * 60 * 60 / 3;
/// The default burst.
pub const DEFAULT_BURST: u32 = 5;

/// `-m limit`: at most one packet per `avg` on average, with bursts of `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Limit {
    /// Time between packets, in 1/10000 s.
    pub avg: u32,
    pub burst: u32,
}

const LIMIT: u8 = 0;
const BURST: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "limit",
    availability: Availability::Both,
    options: &[OptionSpec::value("limit", LIMIT), OptionSpec::value("limit-burst", BURST)],
    build,
};

/// Reads `N[/second|/minute|/hour|/day]` (any prefix of the unit) as iptables does (`atoi`).
pub fn parse_rate(text: &str) -> Option<u32> {
    let (count, unit) = match text.split_once('/') {
        Some((c, u)) => (c, Some(u)),
        None => (text, None),
    };
    let mult: u64 = match unit {
        None => 1,
        Some(u) => unit_seconds(u)?,
    };
    let digits: String = count.trim_start().trim_start_matches('+').chars().take_while(char::is_ascii_digit).collect();
    let r: u64 = digits.parse().ok().filter(|&r| r != 0)?;
    let avg = SCALE as u64 * mult / r;
    (avg != 0 && avg <= u32::MAX as u64).then_some(avg as u32)
}

/// The seconds of a rate's unit: `second`, `minute`, `hour` or `day`, or any start of one
/// (`s`, `min`), in any case; not the empty string.
pub fn unit_seconds(unit: &str) -> Option<u64> {
    let is = |name: &str| !unit.is_empty() && name.len() >= unit.len() && name[..unit.len()].eq_ignore_ascii_case(unit);
    [("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)]
        .into_iter()
        .find(|&(name, _)| is(name))
        .map(|(_, s)| s)
}

/// A rate `N/unit` for `avg`, the `scale`ths of a second between packets, that reads back as
/// exactly `avg`: iptables' own `print_rate` spelling (the largest unit that keeps it roughly
/// exact) where it does, else the first unit that does. iptables-save prints `961/minute` as
/// `16/sec`, which reloads as a slightly slower limit; `ipt fmt` never changes a rule so.
/// Returns the count, the unit's name and its seconds.
pub fn exact_rate(avg: u64, scale: u64) -> (u64, &'static str, u64) {
    const UNITS: [(&str, u64); 4] = [("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1)];
    let period = |i: usize| scale * UNITS[i].1;
    let mut i = 1;
    while i < UNITS.len() && !(avg > period(i) || period(i) / avg < period(i) % avg) {
        i += 1;
    }
    let (name, secs) = UNITS[i - 1];
    let printed = (period(i - 1) / avg, name, secs);
    if printed.0 != 0 && scale * secs / printed.0 == avg {
        return printed;
    }
    UNITS
        .iter()
        .rev()
        .flat_map(|&(name, secs)| {
            let n = scale * secs / avg;
            [n, n + 1].map(|n| (n, name, secs))
        })
        .find(|&(n, _, secs)| n != 0 && scale * secs / n == avg)
        .unwrap_or(printed)
}

/// Prints a rate for `--limit` (see [`exact_rate`]).
pub fn rate_text(avg: u32) -> String {
    if avg == 0 {
        return "inf".to_string();
    }
    let (n, unit, _) = exact_rate(avg.into(), SCALE.into());
    format!("{n}/{unit}")
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut limit = Limit { avg: DEFAULT_AVG, burst: DEFAULT_BURST };
    let mut ok = true;
    if let Some(opt) = b.get(LIMIT) {
        match parse_rate(opt.value()) {
            Some(avg) => limit.avg = avg,
            None => {
                b.bad_value(opt, "a rate such as `5/second`, `10/minute`, `3/hour` or `1/day`");
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(BURST) {
        match num::uint(opt.value(), 0, 10000) {
            Some(n) => limit.burst = n as u32,
            None => {
                b.bad_value(opt, "a burst 0-10000");
                ok = false;
            }
        }
    }
    ok.then_some(MatchKind::Limit(limit))
}

impl Limit {
    pub fn save(&self, out: &mut String) {
        out.push_str(" --limit ");
        out.push_str(&rate_text(self.avg));
        if self.burst != DEFAULT_BURST {
            out.push_str(&format!(" --limit-burst {}", self.burst));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_trip_like_iptables() {
        assert_eq!(rate_text(parse_rate("5/minute").unwrap()), "5/min");
        assert_eq!(rate_text(parse_rate("3/hour").unwrap()), "3/hour");
        assert_eq!(rate_text(parse_rate("1/s").unwrap()), "1/sec");
        assert_eq!(rate_text(parse_rate("25/sec").unwrap()), "25/sec");
        // iptables-save prints 16/sec, which reloads as 625, not 624
        assert_eq!(parse_rate("961/minute"), Some(624));
        assert_eq!(parse_rate("16/sec"), Some(625));
        assert_eq!(rate_text(624), "961/min");
        for n in 1..=20_000 {
            for unit in ["second", "minute", "hour", "day"] {
                // above 10000/second the kernel's period is 0: refused
                let Some(avg) = parse_rate(&format!("{n}/{unit}")) else { continue };
                assert_eq!(parse_rate(&rate_text(avg)), Some(avg), "{n}/{unit}");
            }
        }
        assert_eq!(parse_rate("0/sec"), None);
        assert_eq!(parse_rate("5/fortnight"), None);
    }
}
