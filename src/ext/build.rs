//! The context an extension's `build` function reads its options from and reports problems to.

use super::opts::Opt;
use crate::load::LoadError;
use crate::model::{Family, Neg, Proto};
use crate::source::Span;

/// Everything an extension needs to turn its options into its typed value.
pub struct Build<'s, 'a> {
    /// The options given to this extension, in order.
    pub opts: &'s [Opt<'a>],
    /// The extension's name as written (`-m tcp`, `-j LOG`).
    pub span: Span,
    /// The rule's `-p`.
    pub proto: Option<Neg<Proto>>,
    /// The family of the table the rule is for.
    pub family: Family,
    pub(crate) problems: &'s mut Vec<LoadError>,
}

impl<'s, 'a> Build<'s, 'a> {
    /// The (last) occurrence of option `id`.
    pub fn get(&self, id: u8) -> Option<&'s Opt<'a>> {
        self.opts.iter().rev().find(|o| o.id == id)
    }

    /// Every occurrence of option `id`, in order.
    pub fn all(&self, id: u8) -> impl Iterator<Item = &'s Opt<'a>> + use<'s, 'a> {
        let opts: &'s [Opt<'a>] = self.opts;
        opts.iter().filter(move |o| o.id == id)
    }

    pub fn has(&self, id: u8) -> bool {
        self.opts.iter().any(|o| o.id == id)
    }

    pub fn report(&mut self, problem: LoadError) {
        self.problems.push(problem);
    }

    /// Reports a value that does not parse: "invalid value `x` for `--opt`: expected ...".
    pub fn bad_value(&mut self, opt: &Opt<'_>, expected: impl Into<String>) {
        self.bad_value_at(opt, opt.value_span(), opt.value(), expected);
    }

    /// Like [`Build::bad_value`], for a part of a value.
    pub fn bad_value_at(&mut self, opt: &Opt<'_>, span: Span, value: &str, expected: impl Into<String>) {
        self.problems.push(LoadError::BadValue {
            span,
            option: format!("--{}", opt.name),
            value: value.to_string(),
            expected: expected.into(),
        });
    }

    /// Reports an extension-specific problem on a span.
    pub fn fail(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(LoadError::Extension { span, message: message.into(), help: Some(help.into()) });
    }

    /// The protocol name used to look up service names (`--dport ssh`): the rule's `-p`.
    pub fn proto_name(&self) -> &'static str {
        self.proto.as_ref().and_then(|p| p.value.name()).unwrap_or("tcp")
    }

    /// Wraps a value with the option's `!` and span.
    pub fn neg<T>(&self, opt: &Opt<'_>, value: T) -> Neg<T> {
        Neg::new(opt.invert, value, opt.span)
    }
}
