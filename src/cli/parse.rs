//! `ipt parse`.

use std::io::Write;

use super::args::ParseArgs;
use super::output::Output;
use super::{Status, read_source};
use crate::load::{LoadOptions, load};

pub fn run(args: &ParseArgs, out: &Output) -> Status {
    let options = LoadOptions { family: args.input.family.map(Into::into), ..Default::default() };
    let source = match read_source(&args.file) {
        Ok(s) => s,
        Err(e) => {
            out.error(&e);
            return Status::Trouble;
        }
    };
    let loaded = load(&source, &options);
    out.diagnostics(&loaded.diagnostics);
    let mut stdout = std::io::stdout().lock();
    let _ = if args.pretty {
        serde_json::to_writer_pretty(&mut stdout, &loaded.ruleset)
    } else {
        serde_json::to_writer(&mut stdout, &loaded.ruleset)
    };
    let _ = writeln!(stdout);
    if loaded.loads() { Status::Clean } else { Status::Findings }
}
