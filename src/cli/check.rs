//! `ipt check`.

use std::io::Write;

use super::args::{CheckArgs, Format};
use super::output::{FileReport, Output, Report};
use super::{Status, read_source};
use crate::diag::{JsonDiagnostic, Severity, Tally, render_json};
use crate::load::{LoadOptions, load};

pub fn run(args: &CheckArgs, out: &Output) -> Status {
    let options = LoadOptions { family: args.input.family.map(Into::into), ..Default::default() };
    let mut status = Status::Clean;
    let mut report = Report { files: Vec::new() };
    for path in &args.files {
        let source = match read_source(path) {
            Ok(s) => s,
            Err(e) => {
                status = status.worst(Status::Trouble);
                match args.format {
                    Format::Human => out.error(&e),
                    Format::Json => report.files.push(FileReport {
                        file: path.display().to_string(),
                        loads: None,
                        errors: 1,
                        warnings: 0,
                        diagnostics: vec![JsonDiagnostic::whole_file(path.display().to_string(), &e)],
                    }),
                }
                continue;
            }
        };
        let loaded = load(&source, &options);
        let tally = Tally::of(&loaded.diagnostics);
        if tally.errors > 0 {
            status = status.worst(Status::Findings);
        }
        let shown = loaded.diagnostics.iter().filter(|d| !args.quiet || d.severity() == Severity::Error);
        match args.format {
            Format::Human => {
                out.diagnostics(shown);
                let verdict = if tally.errors == 0 { "loads" } else { "does not load" };
                let _ = writeln!(std::io::stderr(), "{}: {verdict} ({tally})", source.name());
            }
            Format::Json => report.files.push(FileReport {
                file: source.name().to_string(),
                loads: Some(tally.errors == 0),
                errors: tally.errors,
                warnings: tally.warnings,
                diagnostics: shown.map(render_json).collect(),
            }),
        }
        super::leak(loaded);
    }
    if args.format == Format::Json {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, &report);
        let _ = writeln!(stdout);
    }
    status
}
