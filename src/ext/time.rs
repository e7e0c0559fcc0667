//! `-m time` (libxt_time): the time of day, the weekday, the day of the month and the date the
//! packet arrives at, in UTC or (`--kerneltz`) in the kernel's time zone.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::xtopt::c_strtoul;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// Every day of the month (bits 1 to 31).
pub const ALL_MONTHDAYS: u32 = 0xffff_fffe;
/// Every day of the week (bits 1, Monday, to 7, Sunday).
pub const ALL_WEEKDAYS: u8 = 0xfe;
/// The last second of a day.
pub const MAX_DAYTIME: u32 = 24 * 60 * 60 - 1;
/// The default end date, 2038-01-19T03:14:07 (which iptables-save prints).
pub const DEFAULT_DATE_STOP: u32 = i32::MAX as u32;

/// `-m time`, as the kernel holds it (`struct xt_time_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Time {
    /// `--datestart`, in seconds since 1970 (UTC).
    pub date_start: u32,
    /// `--datestop`.
    pub date_stop: u32,
    /// `--timestart`, in seconds since midnight.
    pub daytime_start: u32,
    /// `--timestop`.
    pub daytime_stop: u32,
    /// `--monthdays`: bit N is day N.
    pub monthdays: u32,
    /// `--weekdays`: bit 1 is Monday, bit 7 Sunday.
    pub weekdays: u8,
    /// `--kerneltz` (or `--localtz`): the kernel's time zone instead of UTC.
    pub kerneltz: bool,
    /// `--contiguous`: a time range past midnight is one range, not two.
    pub contiguous: bool,
}

impl Default for Time {
    fn default() -> Time {
        Time {
            date_start: 0,
            date_stop: DEFAULT_DATE_STOP,
            daytime_start: 0,
            daytime_stop: MAX_DAYTIME,
            monthdays: ALL_MONTHDAYS,
            weekdays: ALL_WEEKDAYS,
            kerneltz: false,
            contiguous: false,
        }
    }
}

const DATE_START: u8 = 0;
const DATE_STOP: u8 = 1;
const TIME_START: u8 = 2;
const TIME_STOP: u8 = 3;
const CONTIGUOUS: u8 = 4;
const MONTHDAYS: u8 = 5;
const WEEKDAYS: u8 = 6;
const LOCAL_TZ: u8 = 7;
const UTC: u8 = 8;
const KERNEL_TZ: u8 = 9;

pub static SPEC: MatchSpec = MatchSpec {
    name: "time",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("datestart", DATE_START),
        OptionSpec::value("datestop", DATE_STOP),
        OptionSpec::value("timestart", TIME_START),
        OptionSpec::value("timestop", TIME_STOP),
        OptionSpec::flag("contiguous", CONTIGUOUS),
        OptionSpec::value("weekdays", WEEKDAYS).invertible(),
        OptionSpec::value("monthdays", MONTHDAYS).invertible(),
        OptionSpec::flag("localtz", LOCAL_TZ),
        OptionSpec::flag("utc", UTC),
        OptionSpec::flag("kerneltz", KERNEL_TZ),
    ],
    build,
};

const WEEK_DAYS: [&str; 8] = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `strtoul(s, &e, 10)` stored in an `unsigned int`: the value and the rest of the text.
fn uint10(s: &str) -> (u32, &str) {
    let (v, len) = c_strtoul(s, 10);
    (v as u32, &s[len..])
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `time_parse_date`: `YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`, years 1970-2038, as `mktime` in UTC
/// takes it (month 0 is December before, day 31 of a short month spills into the next).
fn parse_date(text: &str) -> Result<u32, &'static str> {
    const BAD: &str = "a date `YYYY[-MM[-DD[Thh[:mm[:ss]]]]]` from 1970 to 2038";
    let (mut month, mut day, mut hour, mut minute, mut second) = (1, 1, 0, 0, 0);
    let (year, mut rest) = uint10(text);
    // each field: its value, the separator that may follow, its maximum
    let fields: [(&mut u32, char, u32); 5] = [
        (&mut month, '-', 12),
        (&mut day, 'T', 31),
        (&mut hour, ':', 23),
        (&mut minute, ':', 59),
        (&mut second, '\0', 59),
    ];
    if !(rest.is_empty() || rest.starts_with('-')) || !(1970..=2038).contains(&year) {
        return Err(BAD);
    }
    for (slot, next, max) in fields {
        let Some(after) = rest.get(1..) else { break };
        let (v, r) = uint10(after);
        let ends = r.is_empty() || (next != '\0' && r.starts_with(next));
        if !ends || v > max {
            return Err(BAD);
        }
        *slot = v;
        rest = r;
        if rest.is_empty() {
            break;
        }
    }
    let (y, m) = if month == 0 { (year as i64 - 1, 12) } else { (year as i64, month as i64) };
    let secs = days_from_civil(y, m, 1) * 86400
        + (day as i64 - 1) * 86400
        + hour as i64 * 3600
        + minute as i64 * 60
        + second as i64;
    if secs < 0 {
        return Err("a date from 1970-01-01 on");
    }
    Ok(secs as u32)
}

/// `time_parse_minutes`: `hh:mm[:ss]`.
fn parse_daytime(text: &str) -> Option<u32> {
    let (hour, rest) = uint10(text);
    let rest = rest.strip_prefix(':').filter(|_| hour <= 23)?;
    let (minute, rest) = uint10(rest);
    if !(rest.is_empty() || rest.starts_with(':')) || minute > 59 {
        return None;
    }
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let (s, r) = uint10(after);
        if !r.is_empty() || s > 59 {
            return None;
        }
        second = s;
    }
    Some(3600 * hour + 60 * minute + second)
}

/// The comma-separated segments `my_strseg` hands out, each cut to `keep` bytes.
fn segments(text: &str, keep: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (seg, next) = rest.split_once(',').unwrap_or((rest, ""));
        let mut cut = seg.len().min(keep);
        while !seg.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&seg[..cut]);
        if !rest.contains(',') {
            break;
        }
        rest = next;
    }
    out
}

/// `time_parse_monthdays`: numbers 0-31 (two characters of each are read).
fn parse_monthdays(text: &str) -> Result<u32, String> {
    let mut mask = 0u32;
    for day in segments(text, 2) {
        let (v, len) = c_strtoul(day, 0);
        let i = v as u32;
        if len < day.len() && !day[len..].starts_with(',') || i > 31 {
            return Err(day.to_string());
        }
        mask |= 1 << i;
    }
    Ok(mask)
}

/// `time_parse_weekdays`: `Mon`..`Sun` (two letters are compared) or 1-7 (three characters of
/// each are read).
fn parse_weekdays(text: &str) -> Result<u8, String> {
    let mut mask = 0u32;
    for day in segments(text, 3) {
        let (v, len) = c_strtoul(day, 0);
        if len == day.len() {
            let i = v as u32;
            if i == 0 {
                return Err("0 (the week begins with Monday, 1)".into());
            }
            mask |= 1 << (i & 31);
            continue;
        }
        let mut valid = false;
        for (i, name) in WEEK_DAYS.iter().enumerate().skip(1) {
            if day.len() >= 2 && day.as_bytes()[..2] == name.as_bytes()[..2] {
                mask |= 1 << i;
                valid = true;
            }
        }
        if !valid {
            return Err(format!("`{day}`"));
        }
    }
    // the kernel's field is 8 bits
    Ok(mask as u8)
}

fn date(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<u32> {
    parse_date(opt.value()).map_err(|expected| b.bad_value(opt, expected)).ok()
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[UTC, LOCAL_TZ]) && b.exclusive(&[UTC, KERNEL_TZ]);
    let mut t = Time::default();
    for opt in b.opts {
        match opt.id {
            DATE_START | DATE_STOP => match date(b, opt) {
                Some(d) if opt.id == DATE_START => t.date_start = d,
                Some(d) => t.date_stop = d,
                None => ok = false,
            },
            TIME_START | TIME_STOP => match parse_daytime(opt.value()) {
                Some(s) if opt.id == TIME_START => t.daytime_start = s,
                Some(s) => t.daytime_stop = s,
                None => {
                    b.bad_value(opt, "a time of day `hh:mm[:ss]` from 00:00:00 to 23:59:59");
                    ok = false;
                }
            },
            MONTHDAYS => match parse_monthdays(opt.value()) {
                Ok(mask) => t.monthdays = if opt.invert { mask ^ ALL_MONTHDAYS } else { mask },
                Err(bad) => {
                    b.bad_value(opt, format!("days of the month 1-31 separated by `,` (`{bad}` is none)"));
                    ok = false;
                }
            },
            WEEKDAYS => match parse_weekdays(opt.value()) {
                Ok(mask) => t.weekdays = if opt.invert { mask ^ ALL_WEEKDAYS } else { mask },
                Err(bad) => {
                    b.bad_value(opt, format!("weekdays `Mon`..`Sun` or 1-7 separated by `,` ({bad} is none)"));
                    ok = false;
                }
            },
            LOCAL_TZ | KERNEL_TZ => t.kerneltz = true,
            CONTIGUOUS => t.contiguous = true,
            _ => {}
        }
    }
    if ok
        && let Some(opt) = b.get(CONTIGUOUS)
        && t.daytime_start < t.daytime_stop
    {
        b.fail(
            opt.span,
            "`--contiguous` needs a `--timestop` before `--timestart` (a range past midnight)",
            "remove `--contiguous`, or give times that wrap around midnight",
        );
        return None;
    }
    ok.then_some(MatchKind::Time(Box::new(t)))
}

/// `YYYY-MM-DDThh:mm:ss`.
fn date_text(secs: u32) -> String {
    let days = secs as i64 / 86400;
    let rest = secs % 86400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60)
}

fn daytime_text(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

impl Time {
    pub fn save(&self, out: &mut String) {
        if self.daytime_start != 0 || self.daytime_stop != MAX_DAYTIME {
            out.push_str(&format!(
                " --timestart {} --timestop {}",
                daytime_text(self.daytime_start),
                daytime_text(self.daytime_stop)
            ));
        }
        if self.monthdays != ALL_MONTHDAYS {
            let days: Vec<String> =
                (1..=31).filter(|i| self.monthdays & (1 << i) != 0).map(|i| i.to_string()).collect();
            out.push_str(" --monthdays ");
            out.push_str(&days.join(","));
        }
        if self.weekdays != ALL_WEEKDAYS {
            let days: Vec<&str> = (1..=7).filter(|i| self.weekdays & (1 << i) != 0).map(|i| WEEK_DAYS[i]).collect();
            out.push_str(" --weekdays ");
            out.push_str(&days.join(","));
        }
        // iptables leaves out only 0; the default end (2038) is printed
        if self.date_start != 0 {
            out.push_str(&format!(" --datestart {}", date_text(self.date_start)));
        }
        if self.date_stop != 0 {
            out.push_str(&format!(" --datestop {}", date_text(self.date_stop)));
        }
        if self.kerneltz {
            out.push_str(" --kerneltz");
        }
        if self.contiguous {
            out.push_str(" --contiguous");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::testing::{err4, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn reads_dates_like_mktime() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(date_text(parse_date("2021-02-30").unwrap()), "2021-03-02T00:00:00");
        assert_eq!(date_text(parse_date("2020-").unwrap()), "2019-12-01T00:00:00");
        assert_eq!(date_text(parse_date("2020-01-00").unwrap()), "2019-12-31T00:00:00");
        assert_eq!(date_text(parse_date("2038-12-31T23:59:59").unwrap()), "2038-12-31T23:59:59");
        assert_eq!(date_text(DEFAULT_DATE_STOP), "2038-01-19T03:14:07");
        assert!(parse_date("1970-00").is_err());
        assert!(parse_date("2039").is_err());
        assert!(parse_date("2020-13").is_err());
        assert!(parse_date("2020-01-01 10:00").is_err());
        assert!(parse_date("2020/01/01").is_err());
    }

    #[test]
    fn saves_with_the_2038_end_date() {
        assert_eq!(v4("-m time"), "-m time --datestop 2038-01-19T03:14:07");
        assert_eq!(
            v4("-m time --timestart 9:0 --utc"),
            "-m time --timestart 09:00:00 --timestop 23:59:59 --datestop 2038-01-19T03:14:07"
        );
        assert_eq!(
            v4(
                "-m time --timestart 09:00 --timestop 17:00 --weekdays Monday,Fr --monthdays 1 --datestart 2020 --datestop 2030-01-01 --localtz"
            ),
            "-m time --timestart 09:00:00 --timestop 17:00:00 --monthdays 1 --weekdays Mon,Fri --datestart 2020-01-01T00:00:00 --datestop 2030-01-01T00:00:00 --kerneltz"
        );
        assert_eq!(
            v4("-m time ! --weekdays Sat,Sun"),
            "-m time --weekdays Mon,Tue,Wed,Thu,Fri --datestop 2038-01-19T03:14:07"
        );
        assert_eq!(v4("-m time --weekdays 8"), "-m time --weekdays  --datestop 2038-01-19T03:14:07");
        assert_eq!(v4("-m time --monthdays 0"), "-m time --monthdays  --datestop 2038-01-19T03:14:07");
        assert_eq!(
            v6("-m time --timestart 22:00 --timestop 06:00 --contiguous"),
            "-m time --timestart 22:00:00 --timestop 06:00:00 --datestop 2038-01-19T03:14:07 --contiguous"
        );
        same(Family::Ipv4, "-m time --kerneltz --datestart 1970-01-01", "-m time --localtz --kerneltz");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m time --timestart 24:00").contains("hh:mm[:ss]"));
        assert!(err4("-m time --timestart 9").contains("hh:mm[:ss]"));
        assert!(err4("-m time --weekdays mon").contains("`mon` is none"));
        assert!(err4("-m time --weekdays 0").contains("the week begins with Monday"));
        assert!(err4("-m time --weekdays Mon,,Tue").contains("the week begins with Monday"));
        assert!(err4("-m time --monthdays 32").contains("`32` is none"));
        assert!(err4("-m time --monthdays 08").contains("`08` is none"));
        assert!(err4("-m time --utc --kerneltz").contains("cannot be used together"));
        assert!(err4("-m time --contiguous").contains("`--contiguous`"));
        assert!(err4("-m time --datestart 1969").contains("from 1970 to 2038"));
        assert!(err4("-m time ! --timestart 09:00").contains("cannot come before"));
    }
}
