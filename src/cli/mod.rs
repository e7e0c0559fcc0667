//! The `ipt` command: each subcommand reads its files, runs the library, prints, and says how it
//! went as an exit status (0 clean, 1 findings, 2 bad usage or unreadable input).

mod apply;
pub mod args;
mod check;
mod explain;
mod fmt;
mod input;
mod lint;
mod output;
mod parse;
mod sarif;
mod translate;

pub use args::Cli;
pub use input::{ReadError, read_source, read_source_to_rewrite};

use std::process::ExitCode;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: nothing to report at the failing level.
    Clean,
    /// 1: a file would not load, or has findings.
    Findings,
    /// 2: unreadable input or bad usage.
    Trouble,
}

impl Status {
    pub fn worst(self, other: Status) -> Status {
        use Status::*;
        match (self, other) {
            (Trouble, _) | (_, Trouble) => Trouble,
            (Findings, _) | (_, Findings) => Findings,
            _ => Clean,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(match status {
            Status::Clean => 0,
            Status::Findings => 1,
            Status::Trouble => 2,
        })
    }
}

/// Lets go of a big model without freeing it piece by piece: the process ends soon, and freeing
/// a large ruleset takes a sixth of `ipt check`'s time. (rustc does the same with its own data.)
fn leak<T>(value: T) {
    std::mem::forget(value);
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Status {
    // `ipt check` promises a peak memory of at most 4 × the file, which glibc's malloc keeps and
    // mimalloc does not; `ipt explain` is mostly the same load, which glibc's heap in 2 MiB pages
    // (`memory::HeapRoom`) makes faster than mimalloc; the other commands allocate more after
    // loading, and are faster with mimalloc (src/allocator.rs)
    if !matches!(cli.command, args::Command::Check(_) | args::Command::Explain(_)) {
        crate::allocator::favour_speed();
    }
    let out = output::Output::new(cli.color);
    match cli.command {
        args::Command::Check(a) => check::run(&a, &out),
        args::Command::Fmt(a) => fmt::run(&a, &out),
        args::Command::Parse(a) => parse::run(&a, &out),
        args::Command::Translate(a) => translate::run(&a, &out),
        args::Command::Apply(a) => apply::run(&a, &out),
        args::Command::Confirm => apply::confirm_command(),
        args::Command::Explain(a) => explain::run(&a, &out),
        args::Command::Lint(a) => lint::run(&a, &out),
        args::Command::Rule(a) => lint::rule(&a),
        args::Command::RollbackWatchdog(a) => apply::watchdog(&a),
    }
}
