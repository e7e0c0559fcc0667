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
    /// 1-based line of the primary label.
    pub line: u32,
    /// 1-based column (in characters) of the primary label.
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
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
    let (line, column, end_line, end_column) =
        labels.first().map_or((0, 0, 0, 0), |l| (l.line, l.column, l.end_line, l.end_column));
    JsonDiagnostic {
        file: source.name().to_string(),
        severity: diagnostic.severity(),
        code: diagnostic.code(),
        message: diagnostic.to_string(),
        line,
        column,
        end_line,
        end_column,
        labels,
        help: diagnostic.help_text(),
    }
}
