//! The conntrack state of a packet, as one of 14 values.
//!
//! `xt_conntrack` computes a bit set per packet: one base bit (`INVALID` when there is no
//! connection, `UNTRACKED`, or the connection's `ESTABLISHED`, `RELATED` or `NEW`), and for a
//! tracked connection also `SNAT` and `DNAT` when its source or destination is rewritten. A
//! `--ctstate` mask matches when it shares a bit with that set. `xt_state` (`-m state`) sees
//! only the base bit. So a packet's state is a value of 0-13:
//! `base * 4 + snat * 2 + dnat` for the tracked bases ESTABLISHED (0), RELATED (1) and NEW (2),
//! then 12 for INVALID and 13 for UNTRACKED.

use super::Ranges;
use super::field::CT_STATES;
use crate::ext::conntrack::CtStates;

const TRACKED: [u16; 3] = [CtStates::ESTABLISHED, CtStates::RELATED, CtStates::NEW];

/// The base state bit of a state value.
pub fn base_bit(state: u128) -> u16 {
    match state {
        0..12 => TRACKED[(state / 4) as usize],
        12 => CtStates::INVALID,
        _ => CtStates::UNTRACKED,
    }
}

/// The bit set `xt_conntrack` tests for a state value.
pub fn ct_bits(state: u128) -> u16 {
    let nat = match state {
        0..12 => (if state & 2 != 0 { CtStates::SNAT } else { 0 }) | (if state & 1 != 0 { CtStates::DNAT } else { 0 }),
        _ => 0,
    };
    base_bit(state) | nat
}

/// `-m conntrack [!] --ctstate MASK`.
pub fn ctstate(mask: u16, invert: bool) -> Ranges {
    Ranges::from_predicate(CT_STATES - 1, |s| (ct_bits(s) & mask != 0) != invert)
}

/// `-m state [!] --state MASK` (iptables stores `!` as the complement of the mask).
pub fn state(mask: u16, invert: bool) -> Ranges {
    let mask = if invert { !mask } else { mask };
    Ranges::from_predicate(CT_STATES - 1, |s| base_bit(s) & mask != 0)
}

/// The names of a state value: `NEW`, `ESTABLISHED,SNAT`, ...
pub fn describe(state: u128) -> String {
    CtStates(ct_bits(state)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_split_as_the_kernel_tests_them() {
        let est_rel = ctstate(CtStates::ESTABLISHED | CtStates::RELATED, false);
        assert_eq!(est_rel.intervals(), &[(0, 7)]);
        assert_eq!(ctstate(CtStates::NEW, false).intervals(), &[(8, 11)]);
        assert_eq!(ctstate(CtStates::NEW, true).intervals(), &[(0, 7), (12, 13)]);
        // DNAT matches every tracked state whose destination was rewritten
        assert_eq!(ctstate(CtStates::DNAT, false).intervals(), &[(1, 1), (3, 3), (5, 5), (7, 7), (9, 9), (11, 11)]);
        // -m state never sees the NAT bits, and its `!` complements the mask
        assert_eq!(state(CtStates::NEW, true), ctstate(CtStates::NEW, true));
        assert_eq!(state(CtStates::SNAT, false), Ranges::empty());
        assert_eq!(describe(3), "ESTABLISHED,SNAT,DNAT");
        assert_eq!(describe(13), "UNTRACKED");
    }
}
