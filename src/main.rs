//! The `ipt` binary: parse the command line, run the library, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ipt::cli::Cli::parse();
    ipt::cli::run(cli).into()
}
