mod cli;
mod docs;
mod fixtures;
mod lint;
mod roundtrip;
mod save_vectors;
pub mod support;
mod targets_extra;
