//! The context an extension's `build` function reads its options from and reports problems to.

use super::opts::Opt;
use crate::load::LoadError;
use crate::model::{Family, Neg, Proto, num};
use crate::source::Span;

/// Everything an extension needs to turn its options into its typed value.
pub struct Build<'s, 'a> {
    /// The options given to this extension, in order.
    pub opts: &'s [Opt<'a>],
    /// The extension as written, from its name (`-m tcp`, `-j LOG`) to its last option.
    pub span: Span,
    /// Its name alone (`-m tcp`).
    pub name_span: Span,
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

    /// Reports something iptables accepts but that deserves a word (a warning).
    pub fn warn(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(LoadError::ExtensionWarning { span, message: message.into(), help: Some(help.into()) });
    }

    /// The option's value as a C number in `min..=max` (`xtables_strtoui`), or a report.
    pub fn number(&mut self, opt: &Opt<'_>, min: u64, max: u64) -> Option<u64> {
        let value = num::uint(opt.value(), min, max);
        if value.is_none() {
            self.bad_value(opt, format!("a number {min}-{max}"));
        }
        value
    }

    /// Reports a missing mandatory option (`XTOPT_MAND`); returns the option when given.
    pub fn require(&mut self, id: u8, name: &str) -> Option<&'s Opt<'a>> {
        let opt = self.get(id);
        if opt.is_none() {
            self.report(LoadError::MissingOption { span: self.span, needs: format!("`--{name}`") });
        }
        opt
    }

    /// Reports every option of `ids` after the first one given (iptables' `.excl`): true when
    /// at most one was given.
    pub fn at_most_one(&mut self, ids: &[u8]) -> bool {
        let opts: &'s [Opt<'a>] = self.opts;
        let mut given = opts.iter().filter(|o| ids.contains(&o.id));
        let Some(first) = given.next() else { return true };
        let mut alone = true;
        for other in given {
            self.fail(
                other.span,
                format!("`--{}` cannot be used together with `--{}`", other.name, first.name),
                "keep one of them",
            );
            alone = false;
        }
        alone
    }

    /// The text of a string option the kernel keeps at most `max` bytes of (iptables cuts it
    /// silently), warning when it is cut.
    pub fn kept(&mut self, opt: &Opt<'_>, max: usize) -> Box<str> {
        let text = opt.value();
        if text.len() > max {
            self.warn(
                opt.value_span(),
                format!("`--{}` is {} bytes long: the kernel keeps {max}", opt.name, text.len()),
                "iptables cuts it silently; shorten it",
            );
        }
        crate::ext::log::cut(text, max).into()
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
