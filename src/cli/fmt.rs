//! `ipt fmt`.

use std::io::Write;

use super::args::FmtArgs;
use super::output::Output;
use super::{Status, read_source, read_source_to_rewrite};
use crate::load::{LoadOptions, load};

pub fn run(args: &FmtArgs, out: &Output) -> Status {
    let options = LoadOptions { family: args.input.family.map(Into::into), ..Default::default() };
    let mut status = Status::Clean;
    for path in &args.files {
        // the file is written while its source lives: a copy, never a mapping
        let read = if args.write { read_source_to_rewrite } else { read_source };
        let source = match read(path) {
            Ok(s) => s,
            Err(e) => {
                out.error(&e);
                status = status.worst(Status::Trouble);
                continue;
            }
        };
        let loaded = load(&source, &options);
        if !loaded.loads() {
            out.diagnostics(loaded.diagnostics.iter().filter(|d| d.severity() == crate::diag::Severity::Error));
            let _ = writeln!(std::io::stderr(), "{}: not formatted: the file does not load", source.name());
            status = status.worst(Status::Findings);
            continue;
        }
        let text = crate::fmt::ruleset(&loaded.ruleset);
        if args.check {
            if text != source.text() {
                let line = first_difference(source.text(), &text);
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: not canonical (first difference at line {line}); run `ipt fmt --write`",
                    source.name()
                );
                status = status.worst(Status::Findings);
            }
        } else if args.write && path != std::path::Path::new("-") {
            if text != source.text()
                && let Err(e) = std::fs::write(path, &text)
            {
                let _ = writeln!(std::io::stderr(), "{}: cannot write: {e}", source.name());
                status = status.worst(Status::Trouble);
            }
        } else {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    status
}

/// The 1-based line where two texts first differ.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or_else(|| a.lines().count().min(b.lines().count())) + 1
}
