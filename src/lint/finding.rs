//! A lint's finding, and the diagnostic it becomes.

use std::fmt;

use miette::LabeledSpan;

use super::{Level, Lint, RuleAt};
use crate::source::Span;

/// What a lint found, before its level and code are attached.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The rule it is about, for `# ipt: allow(...)` before that rule.
    pub at: Option<RuleAt>,
    /// The primary place.
    pub span: Span,
    /// Lowercase, no trailing period, iptables tokens in backticks.
    pub message: String,
    /// The label on the primary place.
    pub label: String,
    /// Other places that explain the finding (the rules that cover this one, ...).
    pub related: Vec<(Span, String)>,
    /// What to do instead.
    pub help: Option<String>,
}

impl Finding {
    pub fn new(at: Option<RuleAt>, span: Span, message: impl Into<String>, label: impl Into<String>) -> Finding {
        Finding { at, span, message: message.into(), label: label.into(), related: Vec::new(), help: None }
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Finding {
        self.related.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }
}

/// A finding with its lint and level, as a miette diagnostic.
#[derive(Debug)]
pub struct LintDiagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub finding: Finding,
}

impl LintDiagnostic {
    pub fn new(lint: &'static Lint, level: Level, finding: Finding) -> LintDiagnostic {
        LintDiagnostic { code: lint.code, name: lint.name, level, finding }
    }
}

impl fmt::Display for LintDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for LintDiagnostic {}

impl miette::Diagnostic for LintDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("{}({})", self.code, self.name)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.level == Level::Error { miette::Severity::Error } else { miette::Severity::Warning })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.finding.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(Some(self.finding.label.clone()), self.finding.span);
        let related =
            self.finding.related.iter().map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), *span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}
