//! `-m hashlimit` (libxt_hashlimit, revision 3): a token bucket per group of packets (per source
//! address, per destination port, ...), in packets or in bytes per unit of time.

use std::fmt;

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::xtopt::parse_plen;
use super::{Availability, MatchSpec};
use crate::model::{Family, MatchKind, num};

/// The kernel's unit for packet rates: `avg` is the time between packets in 1/1000000 s.
pub const SCALE: u64 = 1_000_000;
/// The default burst.
pub const DEFAULT_BURST: u64 = 5;
/// The default garbage collection interval, in ms.
pub const DEFAULT_GC_INTERVAL: u32 = 1000;
/// The largest burst of a packet rate.
pub const MAX_BURST: u64 = 1_000_000;
/// The kernel keeps 254 bytes of a name.
pub const MAX_NAME: usize = 254;
/// Byte rates: the kernel's cost unit is 16 bytes.
const BYTE_SHIFT: u32 = 4;

/// What a bucket is kept for: any of the source and destination address and port (none: one
/// bucket for the rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HashMode(pub u8);

/// For `ipt parse`: the names, as a list.
impl serde::Serialize for HashMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::save::serialize_names(self, s)
    }
}

impl HashMode {
    pub const DSTIP: u8 = 1 << 0;
    pub const DSTPORT: u8 = 1 << 1;
    pub const SRCIP: u8 = 1 << 2;
    pub const SRCPORT: u8 = 1 << 3;
    /// In the order iptables prints them.
    const NAMES: [(&'static str, u8); 4] =
        [("srcip", Self::SRCIP), ("srcport", Self::SRCPORT), ("dstip", Self::DSTIP), ("dstport", Self::DSTPORT)];

    /// `srcip,dstport`: names separated by `,` or `|`, exactly spelled; empty names are skipped.
    pub fn parse(text: &str) -> Result<HashMode, String> {
        let mut mode = 0;
        for name in text.split([',', '|']).filter(|n| !n.is_empty()) {
            match HashMode::NAMES.iter().find(|(n, _)| *n == name) {
                Some(&(_, bit)) => mode |= bit,
                None => return Err(name.to_string()),
            }
        }
        Ok(HashMode(mode))
    }
}

impl fmt::Display for HashMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = HashMode::NAMES.iter().filter(|&&(_, b)| self.0 & b != 0).map(|&(n, _)| n).collect();
        f.write_str(&names.join(","))
    }
}

/// `-m hashlimit`, as the kernel holds it (`struct hashlimit_cfg3` and the name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Hashlimit {
    /// `--hashlimit-above` (or `! --hashlimit-upto`): match packets over the rate.
    pub above: bool,
    /// The rate is in bytes (`10kb/s`): `avg` is a cost, not a time.
    pub bytes: bool,
    /// For packets, the time between packets in 1/1000000 s (divided by the unit's seconds
    /// with `--hashlimit-rate-match`); for bytes, the kernel's cost of 16 bytes.
    pub avg: u64,
    /// In packets (for byte rates, in multiples of the rate's bytes; 0 when not given).
    pub burst: u64,
    pub mode: HashMode,
    pub name: Box<str>,
    /// `--hashlimit-htable-size` (0: the kernel's default).
    pub size: u32,
    /// `--hashlimit-htable-max` (0: the kernel's default).
    pub max: u32,
    /// `--hashlimit-htable-gcinterval`, in ms.
    pub gc_interval: u32,
    /// `--hashlimit-htable-expire`, in ms (by default the rate's unit, or 15 s or 60 s for
    /// bytes).
    pub expire: u32,
    /// `--hashlimit-srcmask`: prefix length of the source address in the key (`None`: the
    /// whole address, 32 or 128 bits, as the kernel's default).
    pub srcmask: Option<u8>,
    /// `--hashlimit-dstmask`, likewise.
    pub dstmask: Option<u8>,
    /// `--hashlimit-rate-match`: match on the measured rate, without limiting.
    pub rate_match: bool,
    /// `--hashlimit-rate-interval`, in seconds (0 without `--hashlimit-rate-match`).
    pub interval: u32,
}

const UPTO: u8 = 0;
const ABOVE: u8 = 1;
const MODE: u8 = 3;
const SRCMASK: u8 = 4;
const DSTMASK: u8 = 5;
const NAME: u8 = 6;
const BURST: u8 = 7;
const SIZE: u8 = 8;
const MAX: u8 = 9;
const GCINT: u8 = 10;
const EXPIRE: u8 = 11;
const RATEMATCH: u8 = 12;
const INTERVAL: u8 = 13;

pub static SPEC: MatchSpec = MatchSpec {
    name: "hashlimit",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("hashlimit-upto", UPTO).invertible(),
        OptionSpec::value("hashlimit-above", ABOVE).invertible(),
        // the name of revision 0, an alias of `--hashlimit-upto`
        OptionSpec::value("hashlimit", UPTO).invertible(),
        OptionSpec::value("hashlimit-srcmask", SRCMASK),
        OptionSpec::value("hashlimit-dstmask", DSTMASK),
        OptionSpec::value("hashlimit-burst", BURST),
        OptionSpec::value("hashlimit-htable-size", SIZE),
        OptionSpec::value("hashlimit-htable-max", MAX),
        OptionSpec::value("hashlimit-htable-gcinterval", GCINT),
        OptionSpec::value("hashlimit-htable-expire", EXPIRE),
        OptionSpec::value("hashlimit-mode", MODE),
        OptionSpec::value("hashlimit-name", NAME),
        OptionSpec::flag("hashlimit-rate-match", RATEMATCH),
        OptionSpec::value("hashlimit-rate-interval", INTERVAL),
    ],
    build,
};

/// C's `atoll`: blanks, a sign, digits; 0 when there are none. Saturates like glibc.
fn atoll(text: &str) -> i64 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = &t[..t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len())];
    match digits.parse::<i64>() {
        Ok(v) if negative => -v,
        Ok(v) => v,
        Err(_) if digits.is_empty() => 0,
        Err(_) if negative => i64::MIN,
        Err(_) => i64::MAX,
    }
}

/// `k` and `m` after a number multiply it by 1024 and 1024².
fn factor(unit: Option<u8>) -> u64 {
    match unit {
        Some(b'm') => 1024 * 1024,
        Some(b'k') => 1024,
        _ => 1,
    }
}

/// The kernel's cost of a byte rate: `u32::MAX / (bytes / 16 + 1)`, the division in 32 bits.
/// `None` where iptables divides by zero.
fn bytes_to_cost(bytes: u64) -> Option<u64> {
    let r = (bytes >> BYTE_SHIFT) as u32;
    r.checked_add(1).map(|d| (u32::MAX / d) as u64)
}

/// The bytes per second a cost stands for.
fn cost_to_bytes(cost: u64) -> u64 {
    let r = (u32::MAX as u64).checked_div(cost).unwrap_or(u32::MAX as u64);
    r.wrapping_sub(1) << BYTE_SHIFT
}

/// A rate and the seconds of its unit (`udata->mult`): packets `N[/unit]` or bytes `N[k|m]b/s`.
enum Rate {
    Packets { avg: u64, unit: u32 },
    Bytes { cost: u64 },
}

/// `parse_bytes`, then `parse_rate`; `Err` with what is wrong.
fn parse_rate(text: &str) -> Result<Rate, String> {
    if let Some(at) = text.find("b/s").filter(|&at| at > 0) {
        let r = atoll(text);
        if r != 0 {
            if r < 0 {
                return Err("a positive number of bytes".into());
            }
            let bytes = (r as u64).wrapping_mul(factor(text.as_bytes().get(at - 1).copied()));
            return match bytes_to_cost(bytes) {
                Some(cost) => Ok(Rate::Bytes { cost }),
                None => Err("a byte rate the kernel can count (this one is too high)".into()),
            };
        }
    }
    let unit = match text.split_once('/') {
        None => 1,
        Some((_, "")) => return Err("a unit after `/`".into()),
        Some((_, u)) => match crate::ext::limit::unit_seconds(u) {
            Some(seconds) => seconds as u32,
            None => return Err(format!("a unit `second`, `minute`, `hour` or `day` (`{u}` is none)")),
        },
    };
    let r = atoll(text);
    if r <= 0 {
        return Err("a rate above zero, such as `10/second` or `1mb/s`".into());
    }
    match SCALE * unit as u64 / r as u64 {
        0 => Err("a rate of at most 1000000/second".into()),
        avg => Ok(Rate::Packets { avg, unit }),
    }
}

/// `parse_burst`: a number 1-1000000, or with `k` or `m` after it (a size in bytes).
fn parse_burst(text: &str) -> Option<u64> {
    let (v, rest) = num::strtoul(text, 0)?;
    if v == 0 || (rest.is_empty() && v > MAX_BURST) {
        return None;
    }
    Some(v.wrapping_mul(factor(rest.as_bytes().first().copied())))
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[UPTO, ABOVE]);
    let full = if b.family == Family::Ipv4 { 32 } else { 128 };
    let mut h = Hashlimit {
        above: false,
        bytes: false,
        avg: 0,
        burst: DEFAULT_BURST,
        mode: HashMode::default(),
        name: "".into(),
        size: 0,
        max: 0,
        gc_interval: DEFAULT_GC_INTERVAL,
        expire: 0,
        srcmask: None,
        dstmask: None,
        rate_match: b.has(RATEMATCH),
        interval: 0,
    };
    // seconds of the rate's unit (`udata->mult`)
    let mut unit = 1;
    let rate_opt = b.get(UPTO).or_else(|| b.get(ABOVE));
    if let Some(opt) = rate_opt {
        h.above = (opt.id == ABOVE) != opt.invert;
        match parse_rate(opt.value()) {
            Ok(Rate::Packets { avg, unit: u }) => (h.avg, unit) = (avg, u),
            Ok(Rate::Bytes { cost }) => (h.avg, h.bytes, unit) = (cost, true, 15),
            Err(expected) => {
                b.bad_value(opt, expected);
                ok = false;
            }
        }
    }
    let mut burst_bytes = None;
    if let Some(opt) = b.get(BURST) {
        match parse_burst(opt.value()) {
            Some(v) => burst_bytes = Some((v, opt)),
            None => {
                b.bad_value(opt, "a burst 1-1000000 (or bytes, `100kb`, `1mb`, with a byte rate)");
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(MODE) {
        match HashMode::parse(opt.value()) {
            Ok(mode) => h.mode = mode,
            Err(bad) => {
                b.bad_value(opt, format!("names from srcip, srcport, dstip, dstport (`{bad}` is none)"));
                ok = false;
            }
        }
    }
    for (id, slot) in [(SRCMASK, &mut h.srcmask), (DSTMASK, &mut h.dstmask)] {
        if let Some(opt) = b.get(id) {
            match parse_plen(opt.value(), b.family) {
                Some(len) => *slot = (len != full).then_some(len),
                None => {
                    b.bad_value(opt, format!("a prefix length 0-{full} or a mask"));
                    ok = false;
                }
            }
        }
    }
    for (id, slot) in [(SIZE, &mut h.size), (MAX, &mut h.max), (GCINT, &mut h.gc_interval), (EXPIRE, &mut h.expire)] {
        if let Some(opt) = b.get(id) {
            match b.number(opt, 0, u32::MAX as u64) {
                Some(v) => *slot = v as u32,
                None => ok = false,
            }
        }
    }
    if let Some(opt) = b.get(INTERVAL) {
        // `atoi`, above zero
        match i32::try_from(atoll(opt.value())) {
            Ok(v) if v > 0 => h.interval = v as u32,
            _ => {
                b.bad_value(opt, "a number of seconds above zero");
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(NAME) {
        if opt.value().is_empty() {
            b.bad_value(opt, "a name of at least one character");
            ok = false;
        }
        if opt.value().len() > MAX_NAME {
            b.warn(
                opt.value_span(),
                format!("table name is {} bytes long: the kernel keeps {MAX_NAME}", opt.value().len()),
                "iptables cuts it silently, so two long names can name one table; shorten it",
            );
        }
        h.name = truncate(opt.value(), MAX_NAME).into();
    }
    if rate_opt.is_none() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--hashlimit-upto` or `--hashlimit-above`".into(),
        });
        return None;
    }
    ok &= b.mandatory(NAME, "hashlimit-name");
    if !ok {
        return None;
    }
    // the final check
    let expire_given = b.has(EXPIRE);
    if !expire_given {
        h.expire = unit * 1000;
    }
    if h.bytes {
        h.burst = 0;
        if let Some((bytes, opt)) = burst_bytes {
            let per = cost_to_bytes(h.avg);
            if per == 0 {
                b.fail(opt.span, "this byte rate is too high for a burst", "lower the rate or drop the burst");
                return None;
            }
            if bytes < per {
                b.fail(
                    opt.span,
                    format!("the burst cannot be smaller than the rate's {per} bytes"),
                    format!("write at least `--hashlimit-burst {per}`"),
                );
                return None;
            }
            // iptables divides a 32-bit copy of the burst, and rounds up on the whole value
            let mut burst = (bytes as u32 as u64 / per) as u32;
            if bytes % per != 0 {
                burst = burst.wrapping_add(1);
            }
            h.burst = burst as u64;
            if !expire_given {
                h.expire = 60_000;
            }
        }
    } else if let Some((bytes, opt)) = burst_bytes {
        if bytes > MAX_BURST {
            b.bad_value(opt, "a burst 1-1000000 (a size in bytes only goes with a byte rate)");
            return None;
        }
        h.burst = bytes;
    }
    if h.rate_match {
        if !h.bytes {
            h.avg /= unit as u64;
        }
        if h.interval == 0 {
            h.interval = if h.bytes { 1 } else { unit };
        }
    }
    Some(MatchKind::Hashlimit(Box::new(h)))
}

fn truncate(text: &str, max: usize) -> &str {
    let mut cut = text.len().min(max);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// The rate as `N/unit` that reads back exactly (see [`crate::ext::limit::exact_rate`]), and
/// that unit in ms (the default `--hashlimit-htable-expire`).
fn rate_text(avg: u64) -> (String, u64) {
    if avg == 0 {
        return ("inf".to_string(), 0);
    }
    let (n, unit, secs) = crate::ext::limit::exact_rate(avg, SCALE);
    (format!("{n}/{unit}"), secs * 1000)
}

const UNITS: [(&str, u64); 3] = [("m", 1024 * 1024), ("k", 1024), ("", 1)];

impl Hashlimit {
    pub fn save(&self, out: &mut String) {
        out.push_str(if self.above { " --hashlimit-above" } else { " --hashlimit-upto" });
        let quantum = if self.bytes {
            let r = cost_to_bytes(self.avg);
            let (name, thresh) = *UNITS
                .iter()
                .find(|&&(_, t)| t == 1 || (r >= t && bytes_to_cost(r & !(t - 1)) == Some(self.avg)))
                .unwrap_or(&UNITS[2]);
            out.push_str(&format!(" {}{name}b/s", r / thresh));
            if self.burst == 0 {
                15_000
            } else {
                let r = r.wrapping_mul(self.burst);
                let (name, thresh) = *UNITS.iter().find(|&&(_, t)| r >= t).unwrap_or(&UNITS[2]);
                out.push_str(&format!(" --hashlimit-burst {}{name}b", r / thresh));
                60_000
            }
        } else {
            let (text, quantum) = rate_text(self.avg);
            out.push_str(&format!(" {text} --hashlimit-burst {}", self.burst));
            quantum
        };
        if self.mode.0 != 0 {
            out.push_str(&format!(" --hashlimit-mode {}", self.mode));
        }
        // printed as it is, unquoted
        out.push_str(" --hashlimit-name ");
        out.push_str(&self.name);
        if self.size != 0 {
            out.push_str(&format!(" --hashlimit-htable-size {}", self.size));
        }
        if self.max != 0 {
            out.push_str(&format!(" --hashlimit-htable-max {}", self.max));
        }
        if self.gc_interval != DEFAULT_GC_INTERVAL {
            out.push_str(&format!(" --hashlimit-htable-gcinterval {}", self.gc_interval));
        }
        if self.expire as u64 != quantum {
            out.push_str(&format!(" --hashlimit-htable-expire {}", self.expire));
        }
        if let Some(len) = self.srcmask {
            out.push_str(&format!(" --hashlimit-srcmask {len}"));
        }
        if let Some(len) = self.dstmask {
            out.push_str(&format!(" --hashlimit-dstmask {len}"));
        }
        if self.rate_match {
            out.push_str(" --hashlimit-rate-match");
            if self.interval != 1 {
                out.push_str(&format!(" --hashlimit-rate-interval {}", self.interval));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, err6, same, v4, v6};

    #[test]
    fn spellings_of_the_same_limit_are_equal() {
        same(
            Family::Ipv4,
            "-m hashlimit --hashlimit 10 --hashlimit-name a",
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-name a",
        );
        same(
            Family::Ipv4,
            "-m hashlimit ! --hashlimit-above 10/s --hashlimit-name a",
            "-m hashlimit --hashlimit-upto 10/second --hashlimit-burst 5 --hashlimit-name a",
        );
        same(
            Family::Ipv4,
            "-m hashlimit --hashlimit-upto 1/hour --hashlimit-htable-expire 3600000 --hashlimit-srcmask 32 --hashlimit-name a",
            "-m hashlimit --hashlimit-upto 1/h --hashlimit-name a",
        );
        same(
            Family::Ipv4,
            "-m hashlimit --hashlimit-upto 1/s --hashlimit-mode dstport|srcip --hashlimit-name a",
            "-m hashlimit --hashlimit-upto 1/s --hashlimit-mode srcip,dstport --hashlimit-name a",
        );
    }

    #[test]
    fn saves_packet_rates() {
        assert_eq!(
            v4("-m hashlimit ! --hashlimit 7/h --hashlimit-name a"),
            "-m hashlimit --hashlimit-above 7/hour --hashlimit-burst 5 --hashlimit-name a"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 60/min --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-htable-expire 60000"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport \
                --hashlimit-srcmask 255.255.255.0 --hashlimit-htable-size 100 --hashlimit-htable-max 200 \
                --hashlimit-htable-expire 1000 --hashlimit-htable-gcinterval 100 --hashlimit-name all"),
            "-m hashlimit --hashlimit-above 10/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstport \
             --hashlimit-name all --hashlimit-htable-size 100 --hashlimit-htable-max 200 \
             --hashlimit-htable-gcinterval 100 --hashlimit-srcmask 24"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 1k --hashlimit-name \"a b\""),
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 1024 --hashlimit-name a b"
        );
        assert_eq!(
            v6(
                "-m hashlimit --hashlimit-upto 10/sec --hashlimit-srcmask ffff:ffff:ffff:ffff:: --hashlimit-dstmask 128 --hashlimit-name a"
            ),
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-srcmask 64"
        );
    }

    #[test]
    fn saves_byte_rates_and_their_bursts() {
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 5kb/s --hashlimit-burst 11kb --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 5kb/s --hashlimit-burst 15kb --hashlimit-name a"
        );
        assert_eq!(
            v4(
                "-m hashlimit --hashlimit-above 1000b/s --hashlimit-burst 3mb --hashlimit-name a --hashlimit-htable-expire 100"
            ),
            "-m hashlimit --hashlimit-above 992b/s --hashlimit-burst 3mb --hashlimit-name a --hashlimit-htable-expire 100"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 3mb/sec --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 3mb/s --hashlimit-name a"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 1gb/s --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 0b/s --hashlimit-name a"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 1kb/min --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 5 --hashlimit-name a"
        );
    }

    #[test]
    fn rate_match_divides_the_rate_by_its_unit() {
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 10/hour --hashlimit-rate-match --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-htable-expire 3600000 \
             --hashlimit-rate-match --hashlimit-rate-interval 3600"
        );
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 100kb/s --hashlimit-rate-match --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 100kb/s --hashlimit-name a --hashlimit-rate-match"
        );
        assert_eq!(
            v4(
                "-m hashlimit --hashlimit-upto 10/sec --hashlimit-rate-match --hashlimit-rate-interval 5s --hashlimit-name a"
            ),
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name a --hashlimit-rate-match --hashlimit-rate-interval 5"
        );
        // without --hashlimit-rate-match the interval is dropped
        assert_eq!(
            v4("-m hashlimit --hashlimit-upto 10/sec --hashlimit-rate-interval 5 --hashlimit-name a"),
            "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name a"
        );
    }

    #[test]
    fn a_mask_that_is_no_prefix_is_kept_for_the_kernel_to_refuse() {
        // iptables reads `33` as the mask 0.0.0.33, which is no prefix: the kernel refuses 255
        assert!(
            v4("-m hashlimit --hashlimit-upto 1/s --hashlimit-srcmask 33 --hashlimit-name a")
                .ends_with("--hashlimit-srcmask 255")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m hashlimit --hashlimit-name a").contains("`--hashlimit-upto` or `--hashlimit-above`"));
        assert!(err4("-m hashlimit --hashlimit-upto 1/sec").contains("`--hashlimit-name`"));
        assert!(
            err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-above 1/s --hashlimit-name a").contains("together")
        );
        assert!(err4("-m hashlimit --hashlimit 1/s --hashlimit-upto 1/s --hashlimit-name a").contains("given twice"));
        assert!(err4("-m hashlimit --hashlimit-upto 0/sec --hashlimit-name a").contains("above zero"));
        assert!(err4("-m hashlimit --hashlimit-upto 5/ --hashlimit-name a").contains("a unit after"));
        assert!(err4("-m hashlimit --hashlimit-upto 5/week --hashlimit-name a").contains("`week` is none"));
        assert!(
            err4("-m hashlimit --hashlimit-upto 2000000/sec --hashlimit-name a").contains("at most 1000000/second")
        );
        assert!(
            err4("-m hashlimit --hashlimit-upto 5kb/s --hashlimit-burst 1kb --hashlimit-name a").contains("5120 bytes")
        );
        assert!(err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-burst 0 --hashlimit-name a").contains("1-1000000"));
        assert!(
            err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-burst 2mb --hashlimit-name a").contains("1-1000000")
        );
        assert!(
            err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-mode none --hashlimit-name a")
                .contains("`none` is none")
        );
        assert!(
            err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-mode SRCIP --hashlimit-name a").contains("`SRCIP`")
        );
        assert!(err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-name \"\"").contains("at least one character"));
        assert!(err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-srcmask foo --hashlimit-name a").contains("0-32"));
        assert!(err4("-m hashlimit --hashlimit-upto 1/s --hashlimit-rate-match --hashlimit-rate-interval 0 --hashlimit-name a").contains("above zero"));
        assert!(
            err6("-m hashlimit --hashlimit-upto 1/s --hashlimit-srcmask 255.255.0.0 --hashlimit-name a")
                .contains("0-128")
        );
    }
}
