//! Where and how diagnostics are printed.

use std::io::{IsTerminal, Write};

use super::args::Color;
use crate::diag::{Diagnostic, render_human};

/// Printing settings for one run.
pub struct Output {
    pub color: bool,
    pub width: usize,
}

impl Output {
    pub fn new(color: Color) -> Output {
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
        Output { color, width }
    }

    /// Prints diagnostics to standard error, as rustc does.
    pub fn diagnostics<'a>(&self, diagnostics: impl IntoIterator<Item = &'a Diagnostic>) {
        let mut err = std::io::stderr().lock();
        for d in diagnostics {
            let _ = err.write_all(render_human(d, self.color, self.width).as_bytes());
            let _ = err.write_all(b"\n");
        }
    }

    /// Prints an error that stopped a file from being read.
    pub fn error(&self, error: &dyn miette::Diagnostic) {
        let theme =
            if self.color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
        let mut text = String::new();
        let _ =
            miette::GraphicalReportHandler::new_themed(theme).with_width(self.width).render_report(&mut text, error);
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// The JSON document of `ipt check --format json` and `ipt lint --format json`.
#[derive(serde::Serialize)]
pub struct Report<D> {
    pub files: Vec<FileReport<D>>,
}

/// One file in a [`Report`].
#[derive(serde::Serialize)]
pub struct FileReport<D> {
    pub file: String,
    /// Whether the file would load; `null` when it could not be read.
    pub loads: Option<bool>,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<D>,
}
