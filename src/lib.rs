//! ipt: compile and lint Linux firewall rules.
//!
//! The pipeline is the module structure, and data flows one way:
//! [`source`] (named text) → [`syntax`] (the pest grammar, one line at a time) → [`load`] (commands
//! and options given meaning) → [`model`] (typed tables, chains and rules) → [`check`] (what the
//! kernel would refuse) and [`fmt`] (canonical iptables-save text) → [`cli`]; [`model`] →
//! [`space`] (the exact sets of packets rules match) → [`analysis`] (what lint reports).

// pest without its `std` feature (which guards the stack on every rule call and costs a third of
// the parse time) generates code that names `alloc`.
extern crate alloc;

pub mod allocator;
pub mod analysis;
#[cfg(feature = "netlink")]
pub mod apply;
pub mod check;
pub mod cli;
pub mod diag;
pub mod explain;
pub mod ext;
pub mod fmt;
pub mod lint;
pub mod load;
pub mod lockout;
mod memory;
pub mod model;
pub mod nft;
pub mod source;
pub mod space;
pub mod syntax;
mod threads;
