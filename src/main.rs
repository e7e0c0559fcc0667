//! The `ipt` binary: parse the command line, run the library, exit with its status.

use std::process::ExitCode;

use clap::Parser;

/// glibc's malloc for `ipt check`, mimalloc for the other commands (src/allocator.rs).
#[global_allocator]
static ALLOCATOR: ipt::allocator::Allocator = ipt::allocator::Allocator;

fn main() -> ExitCode {
    let cli = ipt::cli::Cli::parse();
    ipt::cli::run(cli).into()
}
