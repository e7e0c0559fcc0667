//! `Conditions`: what a rule's conditions narrow, field by field, before they meet the universe.
//!
//! A rule names few of the twenty fields (kube-proxy's rules two to six), so its conditions are
//! kept as the fields they narrow, each with its values; every other field is its whole domain.
//! That is enough to tell, without building a box, whether the rule matches any packet at all
//! ([`super::Space::matches_nothing`]) and where its values lie in each field
//! ([`Conditions::range_hull`]): the unreachable-rule analysis decides most rules on those two
//! answers alone. [`super::Space::over`] builds the exact set from them, the very boxes a full box
//! narrowed condition by condition and then met with the universe would give.

use smallvec::SmallVec;

use super::field::{CubeField, RangeField};
use super::packet_box::PacketBox;
use super::{Cubes, Ranges};
use crate::model::Family;
use crate::source::Span;

/// A rule's conditions: a union of disjoint narrowed boxes (one, but for `-m multiport --ports`,
/// which matches by source port or else by destination port), and what could not be decided.
#[derive(Clone, Debug)]
pub struct Conditions {
    pub(super) family: Family,
    pub(super) boxes: SmallVec<[Narrowed; 1]>,
    /// The conditions that could not be decided (their spans in the source).
    pub undecided: Vec<Span>,
}

/// A box given by the fields it narrows: every field not listed is its whole domain. Each
/// listed field holds the domain met with the conditions on it, in their order, exactly as
/// [`PacketBox::narrow_range`] on a full box would leave it; none is empty.
#[derive(Clone, Debug, Default)]
pub(super) struct Narrowed {
    ranges: SmallVec<[(RangeField, Ranges); 3]>,
    cubes: SmallVec<[(CubeField, Cubes); 2]>,
}

impl Narrowed {
    /// Narrows `field` to its intersection with `set`; false when that leaves it empty.
    fn narrow_range(&mut self, field: RangeField, set: &Ranges) -> bool {
        let values = match self.ranges.iter_mut().find(|(f, _)| *f == field) {
            Some((_, values)) => {
                *values = values.intersect(set);
                values
            }
            None => {
                // the whole domain met with `set`: `set` itself when it lies in the domain
                let values = match set.hull() {
                    Some((_, hi)) if hi <= field.max() => set.clone(),
                    _ => Ranges::full(field.max()).intersect(set),
                };
                self.ranges.push((field, values));
                &self.ranges[self.ranges.len() - 1].1
            }
        };
        !values.is_empty()
    }

    /// Narrows mask `field` to its intersection with `set`; false when that leaves it empty.
    fn narrow_cube(&mut self, field: CubeField, set: &Cubes, family: Family) -> bool {
        let values = match self.cubes.iter_mut().find(|(f, _)| *f == field) {
            Some((_, values)) => {
                *values = values.intersect(set);
                values
            }
            None => {
                let width = field.width(family);
                let values = if set.within(width) { set.clone() } else { Cubes::full(width).intersect(set) };
                self.cubes.push((field, values));
                &self.cubes[self.cubes.len() - 1].1
            }
        };
        !values.is_empty()
    }

    /// Whether the box meets `other` (a box of the universe, inside every field's domain).
    pub(super) fn meets(&self, other: &PacketBox) -> bool {
        self.ranges.iter().all(|(f, v)| v.intersects(other.range(*f)))
            && self.cubes.iter().all(|(f, v)| v.intersects(other.cube(*f)))
    }

    /// Whether every packet of `other` (a box inside every field's domain) lies in the box.
    pub(super) fn holds(&self, other: &PacketBox) -> bool {
        self.ranges.iter().all(|(f, v)| other.range(*f).is_subset(v))
            && self.cubes.iter().all(|(f, v)| other.cube(*f).is_subset(v))
    }

    /// The box met with `other`, `None` when they do not meet: `other` with each narrowed
    /// field replaced by the narrowed values met with `other`'s (a field left whole meets
    /// `other`'s as `other`'s own values, which lie in the domain).
    pub(super) fn meet(&self, other: &PacketBox) -> Option<PacketBox> {
        if !self.meets(other) {
            return None;
        }
        let mut out = other.clone();
        for (f, v) in &self.ranges {
            out.ranges[f.index()] = v.intersect(other.range(*f));
        }
        for (f, v) in &self.cubes {
            out.cubes[f.index()] = v.intersect(other.cube(*f));
        }
        Some(out)
    }
}

impl Conditions {
    /// No condition yet: every packet.
    pub(super) fn any(family: Family) -> Conditions {
        let mut boxes = SmallVec::new();
        boxes.push(Narrowed::default());
        Conditions { family, boxes, undecided: Vec::new() }
    }

    /// Whether every condition was decided.
    pub fn is_exact(&self) -> bool {
        self.undecided.is_empty()
    }

    /// Narrows every box's `field` to its intersection with `set` (dropping boxes left empty).
    pub(super) fn narrow_range(&mut self, field: RangeField, set: &Ranges) {
        self.boxes.retain(|b| b.narrow_range(field, set));
    }

    /// Narrows every box's mask `field` to its intersection with `set`.
    pub(super) fn narrow_cube(&mut self, field: CubeField, set: &Cubes) {
        let family = self.family;
        self.boxes.retain(|b| b.narrow_cube(field, set, family));
    }

    /// The union with `other`, whose boxes must not overlap these.
    pub(super) fn extend_disjoint(&mut self, other: Conditions) {
        self.boxes.extend(other.boxes);
    }

    /// The same boxes, with no undecided condition (a branch of a match being compiled).
    pub(super) fn branch(&self) -> Conditions {
        Conditions { family: self.family, boxes: self.boxes.clone(), undecided: Vec::new() }
    }

    /// The smallest and largest value the conditions allow in `field`, before meeting the
    /// universe (so a hull of the rule's exact set in that field lies within it); `None` when
    /// a box leaves the field whole, or there is no box.
    pub fn range_hull(&self, field: RangeField) -> Option<(u128, u128)> {
        self.hull(|b| b.ranges.iter().find(|(f, _)| *f == field).and_then(|(_, v)| v.hull()))
    }

    /// [`Conditions::range_hull`] for a mask field.
    pub fn cube_hull(&self, field: CubeField) -> Option<(u128, u128)> {
        self.hull(|b| b.cubes.iter().find(|(f, _)| *f == field).and_then(|(_, v)| v.hull()))
    }

    fn hull(&self, of: impl Fn(&Narrowed) -> Option<(u128, u128)>) -> Option<(u128, u128)> {
        let mut out: Option<(u128, u128)> = None;
        for b in &self.boxes {
            let (lo, hi) = of(b)?;
            out = Some(out.map_or((lo, hi), |(l, h)| (l.min(lo), h.max(hi))));
        }
        out
    }
}

#[cfg(test)]
impl Conditions {
    /// The boxes as the compiler used to build them: a full box with the narrowed fields set
    /// (not yet met with the universe).
    pub(super) fn full_boxes(&self) -> super::PacketSet {
        let boxes = self
            .boxes
            .iter()
            .map(|n| {
                let mut b = PacketBox::full(self.family);
                for (f, v) in &n.ranges {
                    b.ranges[f.index()] = v.clone();
                }
                for (f, v) in &n.cubes {
                    b.cubes[f.index()] = v.clone();
                }
                b
            })
            .collect();
        super::PacketSet::from_disjoint(boxes)
    }
}
