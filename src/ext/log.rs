//! `-j LOG` (libxt_LOG): write a kernel log line for the packet and go on with the next rule.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// The kernel keeps at most 29 bytes of a prefix; iptables cuts longer ones silently.
pub const MAX_PREFIX: usize = 29;
/// `warning`.
pub const DEFAULT_LEVEL: u8 = 4;

/// Syslog levels by name, as iptables accepts them.
const LEVELS: &[(&str, u8)] = &[
    ("alert", 1),
    ("crit", 2),
    ("debug", 7),
    ("emerg", 0),
    ("error", 3),
    ("info", 6),
    ("notice", 5),
    ("panic", 0),
    ("warning", 4),
];

/// `-j LOG`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Log {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Box<str>>,
    pub level: u8,
    pub tcp_sequence: bool,
    pub tcp_options: bool,
    pub ip_options: bool,
    pub uid: bool,
    pub macdecode: bool,
}

const LEVEL: u8 = 0;
const PREFIX: u8 = 1;
const TCPSEQ: u8 = 2;
const TCPOPTS: u8 = 3;
const IPOPTS: u8 = 4;
const UID: u8 = 5;
const MAC: u8 = 6;

pub static SPEC: TargetSpec = TargetSpec {
    name: "LOG",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("log-level", LEVEL),
        OptionSpec::value("log-prefix", PREFIX),
        OptionSpec::flag("log-tcp-sequence", TCPSEQ),
        OptionSpec::flag("log-tcp-options", TCPOPTS),
        OptionSpec::flag("log-ip-options", IPOPTS),
        OptionSpec::flag("log-uid", UID),
        OptionSpec::flag("log-macdecode", MAC),
    ],
    build,
};

/// A syslog level: 0-7 or a name.
pub fn parse_level(text: &str) -> Option<u8> {
    num::uint(text, 0, 7).map(|n| n as u8).or_else(|| LEVELS.iter().find(|(n, _)| *n == text).map(|&(_, l)| l))
}

/// Cuts a string to at most `max` bytes at a character boundary, as the kernel's fixed buffer does.
/// A log prefix (`--log-prefix`, `--nflog-prefix`, `--ulog-prefix`) as iptables reads it:
/// at least one character, no newline, and cut to the `max` bytes the kernel keeps (with a
/// warning). `None` after reporting a value iptables refuses.
pub fn prefix(b: &mut Build<'_, '_>, opt: &super::opts::Opt<'_>, max: usize) -> Option<Box<str>> {
    let text = opt.value();
    if text.is_empty() {
        b.bad_value(opt, "a prefix of at least one character");
        return None;
    }
    if text.contains('\n') {
        b.bad_value(opt, "a prefix without newlines");
        return None;
    }
    if text.len() > max {
        b.report(crate::load::LoadError::PrefixTooLong { span: opt.value_span(), len: text.len(), max });
    }
    Some(cut(text, max).into())
}

pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut log = Log {
        prefix: None,
        level: DEFAULT_LEVEL,
        tcp_sequence: b.has(TCPSEQ),
        tcp_options: b.has(TCPOPTS),
        ip_options: b.has(IPOPTS),
        uid: b.has(UID),
        macdecode: b.has(MAC),
    };
    let mut ok = true;
    if let Some(opt) = b.get(LEVEL) {
        match parse_level(opt.value()) {
            Some(l) => log.level = l,
            None => {
                b.bad_value(opt, "a syslog level 0-7 or emerg, alert, crit, error, warning, notice, info, debug");
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(PREFIX) {
        match prefix(b, opt, MAX_PREFIX) {
            Some(p) => log.prefix = Some(p),
            None => ok = false,
        }
    }
    ok.then(|| TargetKind::Log(Box::new(log)))
}

impl Log {
    pub fn save(&self, out: &mut String) {
        if let Some(prefix) = &self.prefix {
            out.push_str(" --log-prefix");
            save_string(out, prefix);
        }
        if self.level != DEFAULT_LEVEL {
            out.push_str(&format!(" --log-level {}", self.level));
        }
        for (on, name) in [
            (self.tcp_sequence, " --log-tcp-sequence"),
            (self.tcp_options, " --log-tcp-options"),
            (self.ip_options, " --log-ip-options"),
            (self.uid, " --log-uid"),
            (self.macdecode, " --log-macdecode"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }
}
