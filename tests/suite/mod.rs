mod cli;
mod fixtures;
mod save_vectors;
pub mod support;
mod targets_extra;
