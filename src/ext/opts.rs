//! How an extension declares its options (iptables' `struct xt_option_entry`), and one parsed
//! occurrence of an option.

use crate::source::Span;
use crate::syntax::Arg;

/// How many values an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// A flag: `--syn`.
    Nothing,
    /// One value: `--dport 22`.
    Value,
    /// Two values: `--tcp-flags SYN,ACK SYN`, `--match-set name src`.
    TwoValues,
}

/// One option of an extension. Aliases share an `id`.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub id: u8,
    pub takes: Takes,
    /// Whether `!` may come before it.
    pub invert: bool,
    /// Whether it may be given more than once.
    pub multi: bool,
}

impl OptionSpec {
    pub const fn flag(name: &'static str, id: u8) -> OptionSpec {
        OptionSpec { name, id, takes: Takes::Nothing, invert: false, multi: false }
    }

    pub const fn value(name: &'static str, id: u8) -> OptionSpec {
        OptionSpec { name, id, takes: Takes::Value, invert: false, multi: false }
    }

    pub const fn two(name: &'static str, id: u8) -> OptionSpec {
        OptionSpec { name, id, takes: Takes::TwoValues, invert: false, multi: false }
    }

    pub const fn invertible(mut self) -> OptionSpec {
        self.invert = true;
        self
    }

    pub const fn multi(mut self) -> OptionSpec {
        self.multi = true;
        self
    }
}

/// One option as written on a rule line.
#[derive(Clone, Debug)]
pub struct Opt<'a> {
    pub id: u8,
    /// The canonical name of the option that matched (the spelling in the spec).
    pub name: &'static str,
    pub invert: bool,
    pub values: smallvec::SmallVec<[Arg<'a>; 2]>,
    /// The option name as written (`--dport`, or an abbreviation).
    pub name_span: Span,
    /// From the `!` (if any) to the last value.
    pub span: Span,
    /// The rule's `-p` when this option was read (number, negated): some extensions check it
    /// at that moment, as iptables does.
    pub proto: Option<(u8, bool)>,
}

impl<'a> Opt<'a> {
    /// The first value ("" for a flag).
    pub fn value(&self) -> &str {
        self.values.first().map_or("", |a| &a.text)
    }

    /// The second value ("" when there is none).
    pub fn value2(&self) -> &str {
        self.values.get(1).map_or("", |a| &a.text)
    }

    pub fn value_span(&self) -> Span {
        self.values.first().map_or(self.name_span, |a| a.span)
    }

    pub fn value2_span(&self) -> Span {
        self.values.get(1).map_or(self.value_span(), |a| a.span)
    }
}
