//! Rendering diagnostics for people (miette's graphical report) and for tools (JSON).

use miette::{GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use super::{Diagnostic, Severity};

/// Renders diagnostics the way rustc does: message, file:line:column, the line with a label
/// under the offending token, and the help. `color` adds ANSI colours; `width` wraps the text.
pub fn render_human(diagnostic: &Diagnostic, color: bool, width: usize) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, diagnostic);
    out
}

/// A diagnostic as JSON: the schema of `ipt check --format json`.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub severity: Severity,
    pub code: String,
    pub message: String,
    /// Where the primary label is; `None` for a diagnostic about a whole file.
    #[serde(flatten)]
    pub at: Option<Position>,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
}

/// Where a diagnostic starts and ends: 1-based lines, and columns in characters.
#[derive(Debug, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl JsonDiagnostic {
    /// An error about a whole file, such as one that cannot be read.
    pub fn whole_file(file: String, problem: &dyn miette::Diagnostic) -> JsonDiagnostic {
        JsonDiagnostic {
            file,
            severity: Severity::Error,
            code: problem.code().map(|c| c.to_string()).unwrap_or_default(),
            message: problem.to_string(),
            at: None,
            labels: Vec::new(),
            help: problem.help().map(|h| h.to_string()),
        }
    }
}

/// One labelled span of a [`JsonDiagnostic`].
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub text: Option<String>,
}

/// The JSON form of a diagnostic.
pub fn render_json(diagnostic: &Diagnostic) -> JsonDiagnostic {
    use miette::Diagnostic as _;
    let source = diagnostic.source();
    let labels: Vec<JsonLabel> = diagnostic
        .labels()
        .into_iter()
        .flatten()
        .map(|label| {
            let start = label.offset() as u32;
            let end = (label.offset() + label.len()) as u32;
            let (line, column) = source.line_col(start);
            let (end_line, end_column) = source.line_col(end);
            JsonLabel { line, column, end_line, end_column, text: label.label().map(str::to_string) }
        })
        .collect();
    let at = labels.first().map(|l| Position {
        line: l.line,
        column: l.column,
        end_line: l.end_line,
        end_column: l.end_column,
    });
    JsonDiagnostic {
        file: source.name().to_string(),
        severity: diagnostic.severity(),
        code: diagnostic.code(),
        message: diagnostic.to_string(),
        at,
        labels,
        help: diagnostic.help_text(),
    }
}
