//! Reading the text: the pest grammar (`grammar/iptables.pest`) and the lowering of each line's
//! parse tree into a [`Statement`]. Nothing here knows what a table or a match means; that is
//! [`crate::load`]'s work.

mod error;
mod fast;
mod lower;
mod rule_name;
mod statement;

pub use error::SyntaxError;
pub use lower::{parse_line, parse_line_reusing};
pub use rule_name::rule_name;
pub use statement::{Arg, ChainDecl, Counters, LineEnd, Statement, TableHeader};

/// A counter's digits as `iptables-restore -c` reads them (`sscanf`'s `%llu`): a number past
/// 2^64 - 1 is read as 2^64 - 1.
fn counter_value(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}

/// The pest parser for one line of an iptables-save dump.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/iptables.pest"]
pub struct LineParser;
