//! Unreachable rules within a chain: rules every packet of which an earlier rule has already
//! decided.
//!
//! A rule *decides* the packets it matches only when its target is `ACCEPT`, `DROP` or
//! `REJECT`: nothing after it in the chain sees them. Other targets (a jump, `RETURN`, `LOG`,
//! `MARK`, a NAT target, ...) are taken to decide nothing. That is conservative: a `-j CHAIN`
//! whose chain always ends in a verdict, a `RETURN`, or a `DNAT` (which ends the nat chain) does
//! stop later rules, and this analysis never counts them, so it can miss an unreachable rule
//! behind them but never report a reachable one.
//!
//! Soundness with conditions ipt cannot decide ([`crate::space`]): the rule whose reachability is
//! asked stands for its over-approximation (its decidable conditions only: if even that is
//! covered, so is the rule); an earlier rule stands for its under-approximation, which is empty
//! when it has an undecidable condition (a `-m limit` ACCEPT covers nothing).
//!
//! Cost: each rule is compared only with the earlier deciding rules that can overlap it, found by
//! an index over every field (the field that narrows the candidates most is chosen per rule), so
//! a chain of rules that differ in one field (kube-proxy's service chains) costs about one lookup
//! per rule rather than a scan of all earlier rules.

use std::collections::BTreeMap;

use crate::model::{Chain, Table, TargetKind};
use crate::space::field::{CUBE_FIELDS, RANGE_FIELDS};
use crate::space::{PacketSet, Space};

/// A rule no packet reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreachable {
    /// Its index in the chain's rules.
    pub rule: usize,
    /// Earlier rules (indices, in order) that decide every packet it matches, together: a small
    /// cover, minimal when it has at most [`MINIMIZE_UP_TO`] rules. Empty when the rule matches
    /// no packet at all (`-s 10.0.0.1 -m iprange --src-range 10.0.0.5-10.0.0.9`).
    pub cover: Vec<usize>,
    /// Whether a covering rule's target differs from the rule's own (`ACCEPT` covering a later
    /// `DROP`: likely a bug; the same target: the rule is redundant). Always true for a rule
    /// that decides nothing itself (a `LOG` or a jump nothing reaches).
    pub verdict_differs: bool,
}

/// The findings of one chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Unreachable rules, in order.
    pub unreachable: Vec<Unreachable>,
    /// Rules the analysis gave up on (the remaining set grew past [`MAX_BOXES`] boxes): not
    /// reported unreachable, whether they are or not.
    pub gave_up: Vec<usize>,
}

/// The most boxes the not-yet-covered part of a rule may hold before the analysis gives up on it.
pub const MAX_BOXES: usize = 4096;
/// Covers up to this size are made minimal (no rule can be dropped from them).
pub const MINIMIZE_UP_TO: usize = 16;

/// Whether a target ends the packet's walk of the chain for every packet it matches.
pub fn decides(target: &TargetKind) -> bool {
    matches!(target, TargetKind::Accept | TargetKind::Drop | TargetKind::Reject(_))
}

/// The unreachable rules of every chain of a table, by chain index. Big tables are shared out
/// over the machine's cores, chain by chain (the result is the same).
pub fn unreachable_in_table(table: &Table) -> Vec<(usize, ChainReport)> {
    unreachable_in_table_on(table, crate::threads::count())
}

/// [`unreachable_in_table`] on at most `threads` threads.
pub fn unreachable_in_table_on(table: &Table, threads: usize) -> Vec<(usize, ChainReport)> {
    let anywhere = Space::new(table.family);
    let hooks: Vec<(crate::model::Hook, Space)> =
        table.name.hooks().iter().map(|&h| (h, Space::at(table.family, Some(h)))).collect();
    let space_of = |chain: &Chain| hooks.iter().find(|(h, _)| Some(*h) == chain.hook()).map_or(&anywhere, |(_, s)| s);
    crate::threads::over_chains(table, threads, |chains| {
        chains
            .map(|i| (i, unreachable(&table.chains[i], space_of(&table.chains[i]))))
            .filter(|(_, r)| !r.unreachable.is_empty() || !r.gave_up.is_empty())
            .collect()
    })
}

/// The unreachable rules of one chain, with packets as `space` describes them.
pub fn unreachable(chain: &Chain, space: &Space) -> ChainReport {
    let mut report = ChainReport::default();
    let mut sets: Vec<Option<PacketSet>> = Vec::with_capacity(chain.rules.len());
    let mut index = Index::new(space.universe());
    for (k, rule) in chain.rules.iter().enumerate() {
        let rs = space.rule(rule);
        let candidates = index.candidates(&rs.over);
        match cover(&rs.over, &candidates, &sets) {
            Outcome::Covered(cover) => {
                let verdict_differs = cover.iter().any(|&c| chain.rules[c].target.kind != rule.target.kind);
                report.unreachable.push(Unreachable { rule: k, cover, verdict_differs });
            }
            Outcome::GaveUp => report.gave_up.push(k),
            Outcome::Reachable => {}
        }
        if decides(&rule.target.kind) && rs.exact && !rs.over.is_empty() {
            index.insert(k, &rs.over);
            sets.push(Some(rs.over));
        } else {
            sets.push(None);
        }
    }
    report
}

enum Outcome {
    Covered(Vec<usize>),
    Reachable,
    GaveUp,
}

/// Whether the candidates (earlier deciding rules, ascending) cover `set`, and by which.
fn cover(set: &PacketSet, candidates: &[usize], sets: &[Option<PacketSet>]) -> Outcome {
    let mut rest = set.clone();
    let mut used = Vec::new();
    for &c in candidates {
        if rest.is_empty() {
            break;
        }
        let Some(s) = &sets[c] else { continue };
        if !rest.intersects(s) {
            continue;
        }
        match rest.subtract_bounded(s, MAX_BOXES) {
            Ok(r) => rest = r,
            Err(_) => return Outcome::GaveUp,
        }
        used.push(c);
    }
    if !rest.is_empty() {
        return Outcome::Reachable;
    }
    if used.len() > 1 && used.len() <= MINIMIZE_UP_TO {
        let mut i = 0;
        while i < used.len() {
            let without: Vec<usize> = used.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &c)| c).collect();
            if covers(set, &without, sets) {
                used.remove(i);
            } else {
                i += 1;
            }
        }
    }
    Outcome::Covered(used)
}

/// Whether the rules `by` together cover `set`.
fn covers(set: &PacketSet, by: &[usize], sets: &[Option<PacketSet>]) -> bool {
    let mut rest = set.clone();
    for &c in by {
        let Some(s) = &sets[c] else { continue };
        match rest.subtract_bounded(s, MAX_BOXES) {
            Ok(r) => rest = r,
            Err(_) => return false,
        }
        if rest.is_empty() {
            return true;
        }
    }
    rest.is_empty()
}

/// The smallest and largest value of a set in one field (by position: range fields first,
/// then mask fields).
fn hull(set: &PacketSet, field: usize) -> Option<(u128, u128)> {
    let mut lo = u128::MAX;
    let mut hi = 0;
    for b in set.boxes() {
        let (l, h) = match field.checked_sub(RANGE_FIELDS.len()) {
            None => b.range(RANGE_FIELDS[field]).hull()?,
            Some(i) => b.cube(CUBE_FIELDS[i]).hull()?,
        };
        lo = lo.min(l);
        hi = hi.max(h);
    }
    (lo <= hi).then_some((lo, hi))
}

const FIELDS: usize = RANGE_FIELDS.len() + CUBE_FIELDS.len();

/// The order in which fields are tried as the index key: those rules most often differ in
/// (addresses, ports, interfaces, marks) first, so that the candidates shrink early and later
/// fields are scanned only up to that count.
const KEY_ORDER: [usize; FIELDS] = [13, 12, 5, 4, 2, 3, 16, 17, 6, 11, 9, 10, 15, 14, 18, 19, 8, 7, 0, 1];

/// The deciding rules seen so far, by the hull of their set in every field.
struct Index {
    all: Vec<usize>,
    fields: Vec<FieldIndex>,
    /// The universe's hull in every field: a set spanning it narrows nothing there.
    domain: Vec<Option<(u128, u128)>>,
}

/// One field's index: rules bucketed by the width of their hull (`hi - lo < 2^class`), each
/// bucket ordered by `lo`, so that the rules whose hull can meet `[lo, hi]` are those of each
/// bucket with a `lo` in `[lo - 2^class + 1, hi]`.
#[derive(Default)]
struct FieldIndex {
    classes: BTreeMap<u32, BTreeMap<(u128, usize), u128>>,
}

fn class(lo: u128, hi: u128) -> u32 {
    128 - (hi - lo).leading_zeros()
}

impl FieldIndex {
    fn window(class: u32, lo: u128) -> u128 {
        match 1u128.checked_shl(class) {
            Some(size) => lo.saturating_sub(size - 1),
            None => 0,
        }
    }

    /// The rules whose hull meets `[lo, hi]`, or `None` once there are more than `cap`.
    fn query(&self, lo: u128, hi: u128, cap: usize, out: &mut Vec<usize>) -> bool {
        for (&c, bucket) in &self.classes {
            for (&(_, rule), &rhi) in bucket.range((Self::window(c, lo), 0)..=(hi, usize::MAX)) {
                if rhi >= lo {
                    if out.len() >= cap {
                        return false;
                    }
                    out.push(rule);
                }
            }
        }
        true
    }
}

impl Index {
    fn new(universe: &PacketSet) -> Index {
        Index {
            all: Vec::new(),
            fields: (0..FIELDS).map(|_| FieldIndex::default()).collect(),
            domain: (0..FIELDS).map(|f| hull(universe, f)).collect(),
        }
    }

    fn insert(&mut self, rule: usize, set: &PacketSet) {
        self.all.push(rule);
        for (f, index) in self.fields.iter_mut().enumerate() {
            if let Some((lo, hi)) = hull(set, f) {
                index.classes.entry(class(lo, hi)).or_default().insert((lo, rule), hi);
            }
        }
    }

    /// Every earlier deciding rule that may overlap `set`, ascending: those whose hull meets
    /// the set's hull in the field where the fewest do.
    fn candidates(&self, set: &PacketSet) -> Vec<usize> {
        if self.all.is_empty() || set.is_empty() {
            return Vec::new();
        }
        let mut best: Option<Vec<usize>> = None;
        for f in KEY_ORDER {
            let Some((lo, hi)) = hull(set, f) else { return Vec::new() };
            if self.domain[f] == Some((lo, hi)) {
                continue;
            }
            let cap = best.as_ref().map_or(self.all.len(), |b| b.len());
            if cap == 0 {
                break;
            }
            let mut found = Vec::new();
            if self.fields[f].query(lo, hi, cap, &mut found) && found.len() < cap {
                best = Some(found);
            }
        }
        let mut chosen = best.unwrap_or_else(|| self.all.clone());
        chosen.sort_unstable();
        chosen
    }
}
