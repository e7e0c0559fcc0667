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
//! per rule rather than a scan of all earlier rules. The index holds the hulls of the rules'
//! conditions ([`Conditions`], compiled field by field without building a box), and a rule's
//! exact set is built only when the index finds an earlier rule that may overlap it: in a chain
//! with no deciding rule before it (most of kube-proxy's 40k chains) a rule costs its conditions
//! and one check that they match some packet.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use crate::model::{Chain, Table, TargetKind};
use crate::space::field::{CUBE_FIELDS, RANGE_FIELDS};
use crate::space::{Conditions, PacketSet, Space};

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
    let anywhere = (Domain::of(&anywhere), anywhere);
    let hooks: Vec<(crate::model::Hook, (Domain, Space))> = table
        .name
        .hooks()
        .iter()
        .map(|&h| {
            let space = Space::at(table.family, Some(h));
            (h, (Domain::of(&space), space))
        })
        .collect();
    let space_of = |chain: &Chain| hooks.iter().find(|(h, _)| Some(*h) == chain.hook()).map_or(&anywhere, |(_, s)| s);
    crate::threads::over_chains(table, threads, |chains| {
        chains
            .map(|i| {
                let (domain, space) = space_of(&table.chains[i]);
                (i, unreachable_in(&table.chains[i], space, domain))
            })
            .filter(|(_, r)| !r.unreachable.is_empty() || !r.gave_up.is_empty())
            .collect()
    })
}

/// The unreachable rules of one chain, with packets as `space` describes them.
///
/// Each rule's conditions are compiled field by field first ([`Conditions`]), which is cheap;
/// its exact set is built only when an earlier deciding rule may overlap it, and an earlier
/// rule's set only when a later rule asks for it. The findings are those of comparing every
/// rule's exact set with every earlier deciding rule's ([`cover`] only ever uses the rules whose
/// sets meet what is left, and the index returns all of those).
pub fn unreachable(chain: &Chain, space: &Space) -> ChainReport {
    unreachable_in(chain, space, &Domain::of(space))
}

/// [`unreachable`], with the hulls of `space`'s universe worked out once for all chains.
fn unreachable_in(chain: &Chain, space: &Space, domain: &Domain) -> ChainReport {
    let mut report = ChainReport::default();
    let sets = Sets { chain, space, cells: (0..chain.rules.len()).map(|_| OnceCell::new()).collect() };
    let mut index = Index::new(domain);
    for (k, rule) in chain.rules.iter().enumerate() {
        let conditions = space.conditions(rule);
        if space.matches_nothing(&conditions) {
            // covered by nothing: no earlier rule needed
            report.unreachable.push(Unreachable { rule: k, cover: Vec::new(), verdict_differs: false });
            continue;
        }
        let candidates = index.candidates(&conditions);
        if !candidates.is_empty() {
            let over = space.over(&conditions);
            match cover(&over, &candidates, |c| sets.get(c)) {
                Outcome::Covered(cover) => {
                    let verdict_differs = cover.iter().any(|&c| chain.rules[c].target.kind != rule.target.kind);
                    report.unreachable.push(Unreachable { rule: k, cover, verdict_differs });
                }
                Outcome::GaveUp => report.gave_up.push(k),
                Outcome::Reachable => {}
            }
            // the set is known now: keep it in case a later rule asks
            if decides(&rule.target.kind) && conditions.is_exact() {
                let _ = sets.cells[k].set(over);
            }
        }
        if decides(&rule.target.kind) && conditions.is_exact() {
            index.insert(k, &conditions);
        }
    }
    report
}

/// The exact sets of the chain's deciding rules, each built the first time a later rule needs it.
struct Sets<'a> {
    chain: &'a Chain,
    space: &'a Space,
    cells: Vec<OnceCell<PacketSet>>,
}

impl Sets<'_> {
    /// The set of rule `c`, which must be a deciding rule of exact conditions.
    fn get(&self, c: usize) -> &PacketSet {
        self.cells[c].get_or_init(|| self.space.rule(&self.chain.rules[c]).over)
    }
}

enum Outcome {
    Covered(Vec<usize>),
    Reachable,
    GaveUp,
}

/// Whether the candidates (earlier deciding rules, ascending) cover `set`, and by which.
fn cover<'s>(set: &PacketSet, candidates: &[usize], sets: impl Fn(usize) -> &'s PacketSet + Copy) -> Outcome {
    let mut rest = set.clone();
    let mut used = Vec::new();
    for &c in candidates {
        if rest.is_empty() {
            break;
        }
        let s = sets(c);
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
fn covers<'s>(set: &PacketSet, by: &[usize], sets: impl Fn(usize) -> &'s PacketSet) -> bool {
    let mut rest = set.clone();
    for &c in by {
        match rest.subtract_bounded(sets(c), MAX_BOXES) {
            Ok(r) => rest = r,
            Err(_) => return false,
        }
        if rest.is_empty() {
            return true;
        }
    }
    rest.is_empty()
}

/// [`unreachable`] without its shortcuts, for tests: every rule's exact set built, and compared
/// with every earlier deciding rule of exact conditions that matches some packet.
#[cfg(test)]
pub(super) fn unreachable_by_scan(chain: &Chain, space: &Space) -> ChainReport {
    let sets: Vec<crate::space::RuleSpace> = chain.rules.iter().map(|r| space.rule(r)).collect();
    let mut report = ChainReport::default();
    for (k, rule) in chain.rules.iter().enumerate() {
        let candidates: Vec<usize> = (0..k)
            .filter(|&j| decides(&chain.rules[j].target.kind) && sets[j].exact && !sets[j].over.is_empty())
            .collect();
        match cover(&sets[k].over, &candidates, |c| &sets[c].over) {
            Outcome::Covered(cover) => {
                let verdict_differs = cover.iter().any(|&c| chain.rules[c].target.kind != rule.target.kind);
                report.unreachable.push(Unreachable { rule: k, cover, verdict_differs });
            }
            Outcome::GaveUp => report.gave_up.push(k),
            Outcome::Reachable => {}
        }
    }
    report
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

/// The hull of a rule's conditions in one field (by position), which holds the hull of its
/// exact set there; `None` when the conditions leave the field whole.
fn narrowed_hull(conditions: &Conditions, field: usize) -> Option<(u128, u128)> {
    match field.checked_sub(RANGE_FIELDS.len()) {
        None => conditions.range_hull(RANGE_FIELDS[field]),
        Some(i) => conditions.cube_hull(CUBE_FIELDS[i]),
    }
}

const FIELDS: usize = RANGE_FIELDS.len() + CUBE_FIELDS.len();

/// The order in which fields are tried as the index key: those rules most often differ in
/// (addresses, ports, interfaces, marks) first, so that the candidates shrink early and later
/// fields are scanned only up to that count.
const KEY_ORDER: [usize; FIELDS] = [13, 12, 5, 4, 2, 3, 16, 17, 6, 11, 9, 10, 15, 14, 18, 19, 8, 7, 0, 1];

/// The universe's hull in every field: a rule spanning it narrows nothing there.
struct Domain([Option<(u128, u128)>; FIELDS]);

impl Domain {
    fn of(space: &Space) -> Domain {
        Domain(std::array::from_fn(|f| hull(space.universe(), f)))
    }
}

/// The deciding rules seen so far, by the hull of their conditions in every field.
///
/// A rule's hull in a field holds its exact set's, so two rules whose sets meet have hulls that
/// meet in every field: [`Index::candidates`] returns every earlier rule whose set may meet a
/// rule's (and perhaps some that do not, which [`cover`] skips).
struct Index<'a> {
    all: Vec<usize>,
    /// One per field, made at the first insertion (most chains have no deciding rule).
    fields: Vec<FieldIndex>,
    domain: &'a Domain,
}

/// One field's index: rules bucketed by the width of their hull (`hi - lo < 2^class`), each
/// bucket ordered by `lo`, so that the rules whose hull can meet `[lo, hi]` are those of each
/// bucket with a `lo` in `[lo - 2^class + 1, hi]`; and the rules that leave the field whole.
#[derive(Default)]
struct FieldIndex {
    classes: BTreeMap<u32, BTreeMap<(u128, usize), u128>>,
    whole: Vec<usize>,
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

    /// The rules whose hull meets `[lo, hi]`, or `false` once there are more than `cap`.
    fn query(&self, lo: u128, hi: u128, cap: usize, out: &mut Vec<usize>) -> bool {
        if self.whole.len() > cap {
            return false;
        }
        out.extend_from_slice(&self.whole);
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

impl Index<'_> {
    fn new(domain: &Domain) -> Index<'_> {
        Index { all: Vec::new(), fields: Vec::new(), domain }
    }

    fn insert(&mut self, rule: usize, conditions: &Conditions) {
        if self.fields.is_empty() {
            self.fields = (0..FIELDS).map(|_| FieldIndex::default()).collect();
        }
        self.all.push(rule);
        for (f, index) in self.fields.iter_mut().enumerate() {
            match narrowed_hull(conditions, f) {
                Some((lo, hi)) => {
                    index.classes.entry(class(lo, hi)).or_default().insert((lo, rule), hi);
                }
                None => index.whole.push(rule),
            }
        }
    }

    /// Every earlier deciding rule whose set may meet the set of `conditions` (which match
    /// some packet), ascending: those whose hull meets the rule's in the field where the
    /// fewest do.
    fn candidates(&self, conditions: &Conditions) -> Vec<usize> {
        if self.all.is_empty() {
            return Vec::new();
        }
        let mut best: Option<Vec<usize>> = None;
        for f in KEY_ORDER {
            let Some((lo, hi)) = narrowed_hull(conditions, f) else { continue };
            if self.domain.0[f] == Some((lo, hi)) {
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
