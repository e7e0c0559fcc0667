//! Diagnostics: every problem ipt finds, with where it is and what to do about it.
//!
//! Each phase describes its problems as a `thiserror` enum deriving [`miette::Diagnostic`] (a
//! stable code, a label on the offending token, a help line). A [`Diagnostic`] pairs one such
//! problem with the [`Source`] it points into, so it can be rendered on its own.

mod render;

use std::fmt;

use serde::Serialize;

use crate::source::Source;

pub use render::{JsonDiagnostic, Position, render_human, render_json};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; changes nothing.
    Advice,
    /// The file loads, but something is deprecated, lenient, or not modelled exactly.
    Warning,
    /// The file would not load.
    Error,
}

impl From<miette::Severity> for Severity {
    fn from(severity: miette::Severity) -> Self {
        match severity {
            miette::Severity::Advice => Severity::Advice,
            miette::Severity::Warning => Severity::Warning,
            miette::Severity::Error => Severity::Error,
        }
    }
}

/// One problem in one source.
pub struct Diagnostic {
    source: Source,
    problem: Box<dyn miette::Diagnostic + Send + Sync + 'static>,
}

impl Diagnostic {
    pub fn new(source: &Source, problem: impl miette::Diagnostic + Send + Sync + 'static) -> Diagnostic {
        Diagnostic { source: source.clone(), problem: Box::new(problem) }
    }

    pub fn severity(&self) -> Severity {
        self.problem.severity().map_or(Severity::Error, Severity::from)
    }

    /// The stable code, such as `ipt::load::unknown_option`.
    pub fn code(&self) -> String {
        self.problem.code().map(|c| c.to_string()).unwrap_or_default()
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Where the diagnostic points first (its primary label), as a byte offset.
    pub fn offset(&self) -> Option<usize> {
        let mut labels = self.problem.labels()?;
        let first = labels.next()?;
        Some(first.offset())
    }

    pub fn help_text(&self) -> Option<String> {
        self.problem.help().map(|h| h.to_string())
    }
}

impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostic")
            .field("code", &self.code())
            .field("message", &self.problem.to_string())
            .field("offset", &self.offset())
            .finish()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.problem.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.help()
    }

    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.url()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.problem.labels()
    }
}

/// Counts of diagnostics by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
}

impl std::fmt::Display for Tally {
    /// `1 error, 2 warnings`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        write!(f, "{} error{}, {} warning{}", self.errors, s(self.errors), self.warnings, s(self.warnings))
    }
}

impl Tally {
    pub fn of<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Tally {
        let mut tally = Tally::default();
        for d in diagnostics {
            match d.severity() {
                Severity::Error => tally.errors += 1,
                Severity::Warning => tally.warnings += 1,
                Severity::Advice => {}
            }
        }
        tally
    }
}
