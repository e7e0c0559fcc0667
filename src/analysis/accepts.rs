//! Which packets a chain accepts: for certain ([`Walker::certainly_accepted`]), or perhaps
//! ([`Walker::maybe_accepted`]), following packets from rule to rule and into the user chains
//! they jump to.
//!
//! Both walks are sound in their own direction. The certain walk keeps the packets that are,
//! at each rule, either accepted already or there unchanged; a rule that might do anything else
//! to a packet (drop it, jump with a condition ipt cannot decide, change its mark) takes the
//! packet out. An `ACCEPT` ipt cannot decide keeps it in: accepted there or further on, it is
//! accepted. The perhaps walk keeps every packet that might still be in the chain, counts as
//! accepted whatever an `ACCEPT` or an unknown target might take, and takes out only what a
//! rule certainly decides.
//!
//! Either walk gives up (`Err(GaveUp)`) when a set grows past [`MAX_BOXES`] boxes or the walk
//! past [`BUDGET`] rules; its caller then reports nothing.

use std::cell::Cell;

use rustc_hash::FxHashMap as HashMap;

use super::effect::{Effect, effect, widen};
use crate::lint::rules::live_rules;
use crate::model::{Hook, Table};
use crate::space::{PacketSet, Space};

/// The most boxes a set may hold before a walk gives up.
pub const MAX_BOXES: usize = 4096;
/// The most rules a walk looks at (over every chain it enters, as often as it enters them).
pub const BUDGET: usize = 200_000;
/// The deepest a walk follows jumps (the kernel allows more, but no real table nests so deep).
pub const MAX_DEPTH: usize = 32;

/// A walk gave up: a set grew too big, or there were too many rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GaveUp;

/// `a \ b`, or [`GaveUp`] when it grows too big.
pub fn minus(a: PacketSet, b: &PacketSet) -> Result<PacketSet, GaveUp> {
    if !a.intersects(b) {
        return Ok(a);
    }
    a.subtract_bounded(b, MAX_BOXES).map_err(|_| GaveUp)
}

/// `a ∪ b`, or [`GaveUp`] when it grows too big.
pub fn plus(a: &PacketSet, b: &PacketSet) -> Result<PacketSet, GaveUp> {
    let sum = if a.is_empty() { b.clone() } else { a.union(b) };
    if sum.boxes().len() > MAX_BOXES { Err(GaveUp) } else { Ok(sum) }
}

/// Packets a rule certainly accepts.
#[derive(Clone, Debug)]
pub struct Accepted {
    /// The accepting rule: its chain and its index there.
    pub chain: usize,
    pub rule: usize,
    /// Packets it accepts for certain (a part of what the walk started with).
    pub packets: PacketSet,
}

/// What the perhaps walk found.
#[derive(Clone, Debug, Default)]
pub struct MaybeAccepted {
    /// Packets some rule might accept (the pieces may overlap).
    pub accepted: Vec<PacketSet>,
    /// Packets that might reach the end of the chain (or a `RETURN` in it): the policy's.
    pub to_policy: PacketSet,
}

/// Walks the chains of one table, with packets as a built-in chain of one hook sees them.
pub struct Walker<'a> {
    table: &'a Table,
    space: Space,
    chains: HashMap<&'a str, usize>,
    budget: Cell<usize>,
}

impl<'a> Walker<'a> {
    pub fn new(table: &'a Table, hook: Hook) -> Walker<'a> {
        Walker {
            table,
            space: Space::at(table.family, Some(hook)),
            chains: table.chains.iter().enumerate().map(|(i, c)| (&*c.name, i)).collect(),
            budget: Cell::new(BUDGET),
        }
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    fn spend(&self) -> Result<(), GaveUp> {
        let left = self.budget.get().checked_sub(1).ok_or(GaveUp)?;
        self.budget.set(left);
        Ok(())
    }

    /// The packets of `packets` that chain `chain` certainly accepts, by the rule that does.
    pub fn certainly_accepted(&self, chain: usize, packets: PacketSet) -> Result<Vec<Accepted>, GaveUp> {
        let mut out = Vec::new();
        self.certain(chain, packets, 0, &mut out)?;
        Ok(out)
    }

    /// Walks `chain` with `undecided`: packets that are accepted already or here unchanged.
    /// Returns those that certainly come back out of it unchanged (its end, or a `RETURN`).
    fn certain(
        &self,
        chain: usize,
        mut undecided: PacketSet,
        depth: usize,
        out: &mut Vec<Accepted>,
    ) -> Result<PacketSet, GaveUp> {
        let mut returns = PacketSet::empty();
        for (r, rule) in live_rules(&self.table.chains[chain], self.table.family).iter().enumerate() {
            if undecided.is_empty() {
                break;
            }
            self.spend()?;
            let rs = self.space.rule(rule);
            if !rs.over.intersects(&undecided) {
                continue;
            }
            match effect(&rule.target.kind) {
                Effect::Accept => {
                    // what it might not match stays: accepted here or further on, all the same
                    if let Some(under) = rs.under() {
                        let packets = undecided.intersect(under);
                        if !packets.is_empty() {
                            out.push(Accepted { chain, rule: r, packets });
                            undecided = minus(undecided, under)?;
                        }
                    }
                }
                Effect::Continue { ranges: [], cubes: [] } => {}
                kind @ (Effect::Jump(name) | Effect::Goto(name)) => {
                    let to = self.chains.get(name).copied().filter(|_| depth < MAX_DEPTH);
                    let entering = match (to, rs.under()) {
                        (Some(_), Some(under)) => undecided.intersect(under),
                        _ => PacketSet::empty(),
                    };
                    // what might or might not jump is no longer certain of its way
                    undecided = minus(undecided, &rs.over)?;
                    if let Some(to) = to
                        && !entering.is_empty()
                    {
                        let back = self.certain(to, entering, depth + 1, out)?;
                        if matches!(kind, Effect::Jump(_)) {
                            undecided = plus(&undecided, &back)?;
                        } else {
                            returns = plus(&returns, &back)?;
                        }
                    }
                }
                Effect::Return => {
                    if let Some(under) = rs.under() {
                        returns = plus(&returns, &undecided.intersect(under))?;
                    }
                    undecided = minus(undecided, &rs.over)?;
                }
                Effect::Drop | Effect::Unknown | Effect::Continue { .. } => undecided = minus(undecided, &rs.over)?,
            }
        }
        plus(&returns, &undecided)
    }

    /// The packets of `packets` that chain `chain` might accept, and those that might reach
    /// its policy.
    pub fn maybe_accepted(&self, chain: usize, packets: PacketSet) -> Result<MaybeAccepted, GaveUp> {
        let mut found = MaybeAccepted::default();
        found.to_policy = self.maybe(chain, packets, 0, &mut found.accepted)?;
        Ok(found)
    }

    /// Walks `chain` with `alive`: every packet that might be here. Returns those that might
    /// come back out of it.
    fn maybe(
        &self,
        chain: usize,
        mut alive: PacketSet,
        depth: usize,
        accepted: &mut Vec<PacketSet>,
    ) -> Result<PacketSet, GaveUp> {
        let family = self.table.family;
        let mut returns = PacketSet::empty();
        for rule in live_rules(&self.table.chains[chain], family) {
            if alive.is_empty() {
                break;
            }
            self.spend()?;
            let rs = self.space.rule(rule);
            let met = alive.intersect(&rs.over);
            if met.is_empty() {
                continue;
            }
            match effect(&rule.target.kind) {
                Effect::Accept => {
                    accepted.push(met);
                    if let Some(under) = rs.under() {
                        alive = minus(alive, under)?;
                    }
                }
                Effect::Drop => {
                    if let Some(under) = rs.under() {
                        alive = minus(alive, under)?;
                    }
                }
                kind @ (Effect::Jump(name) | Effect::Goto(name)) => {
                    let Some(to) = self.chains.get(name).copied().filter(|_| depth < MAX_DEPTH) else {
                        accepted.push(met);
                        continue;
                    };
                    let back = self.maybe(to, met, depth + 1, accepted)?;
                    if let Some(under) = rs.under() {
                        alive = minus(alive, under)?;
                    }
                    if matches!(kind, Effect::Jump(_)) {
                        alive = plus(&alive, &back)?;
                    } else {
                        returns = plus(&returns, &back)?;
                    }
                }
                Effect::Return => {
                    returns = plus(&returns, &met)?;
                    if let Some(under) = rs.under() {
                        alive = minus(alive, under)?;
                    }
                }
                Effect::Continue { ranges, cubes } => alive = widen(&alive, ranges, cubes, family),
                Effect::Unknown => accepted.push(met),
            }
            if alive.boxes().len() > MAX_BOXES {
                return Err(GaveUp);
            }
        }
        plus(&returns, &alive)
    }
}
