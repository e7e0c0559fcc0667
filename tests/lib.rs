//! The default test tier: everything that needs only a Rust toolchain. Each topic is a module
//! under `tests/suite/`; the CLI tests run the real `ipt` binary.

#[path = "suite/mod.rs"]
mod suite;
