use serde::Serialize;

use crate::source::Span;

/// A value that a rule may match or, with `!`, not match: `-s 10.0.0.0/8` or `! -s 10.0.0.0/8`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Neg<T> {
    /// Written with `!`.
    pub invert: bool,
    pub value: T,
    /// The option and its value in the source.
    #[serde(skip)]
    pub span: Span,
}

impl<T> Neg<T> {
    pub fn new(invert: bool, value: T, span: Span) -> Neg<T> {
        Neg { invert, value, span }
    }

    /// Writes `" ! NAME VALUE"` or `" NAME VALUE"`, as iptables-save does.
    pub fn save(&self, out: &mut String, name: &str, value: impl std::fmt::Display) {
        use std::fmt::Write;
        if self.invert {
            out.push_str(" !");
        }
        let _ = write!(out, " {name} {value}");
    }
}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}
