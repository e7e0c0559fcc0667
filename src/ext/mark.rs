//! `-m mark` (libxt_mark) and `-m connmark` (libxt_connmark): compare the packet's or the
//! connection's mark, under a mask.

use std::fmt;

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, num};

/// `value[/mask]` (mask defaults to all ones): matches when `mark & mask == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MarkMask {
    pub value: u32,
    pub mask: u32,
}

impl MarkMask {
    /// `xtables_parse_mark_mask`: C numbers, `value` or `value/mask`.
    pub fn parse(text: &str) -> Option<MarkMask> {
        let (value, rest) = num::uint_prefix(text, 0, u32::MAX as u64)?;
        let mask = match rest {
            "" => u32::MAX as u64,
            _ => num::uint(rest.strip_prefix('/')?, 0, u32::MAX as u64)?,
        };
        Some(MarkMask { value: value as u32, mask: mask as u32 })
    }

    pub fn matches(self, mark: u32) -> bool {
        mark & self.mask == self.value
    }
}

impl fmt::Display for MarkMask {
    /// `0x1` or `0x1/0xff`, as `xtables_print_mark_mask` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask == u32::MAX {
            write!(f, "0x{:x}", self.value)
        } else {
            write!(f, "0x{:x}/0x{:x}", self.value, self.mask)
        }
    }
}

/// `-m mark --mark V[/M]` or `-m connmark --mark V[/M]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Mark {
    pub mark: Neg<MarkMask>,
}

const MARK: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "mark",
    availability: Availability::Both,
    options: &[OptionSpec::value("mark", MARK).invertible()],
    build: build_mark,
};

pub static CONNMARK_SPEC: MatchSpec = MatchSpec {
    name: "connmark",
    availability: Availability::Both,
    options: &[OptionSpec::value("mark", MARK).invertible()],
    build: build_connmark,
};

fn build_mark(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b).map(MatchKind::Mark)
}

fn build_connmark(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    build(b).map(MatchKind::Connmark)
}

fn build(b: &mut Build<'_, '_>) -> Option<Mark> {
    let Some(opt) = b.get(MARK) else {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--mark`".into() });
        return None;
    };
    match MarkMask::parse(opt.value()) {
        Some(m) => Some(Mark { mark: b.neg(opt, m) }),
        None => {
            b.bad_value(opt, "a mark `value` or `value/mask` (32-bit numbers)");
            None
        }
    }
}

impl Mark {
    pub fn save(&self, out: &mut String) {
        if self.mark.invert {
            out.push_str(" !");
        }
        out.push_str(&format!(" --mark {}", self.mark.value));
    }
}
