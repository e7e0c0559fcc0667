//! Analyses over exact packet sets ([`crate::space`]): the facts `ipt lint` reports, as library
//! functions.

pub mod accepts;
pub mod effect;
pub mod unreachable;

#[cfg(test)]
mod tests;
