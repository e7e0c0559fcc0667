//! `PacketSet`: a union of disjoint boxes, with the set operations the analyses need.

use super::field::{CubeField, RangeField};
use super::packet_box::{PacketBox, Point};
use super::{Cubes, Ranges};

/// A set of packets: the union of its boxes, which never overlap and are never empty (so the
/// set is empty exactly when it has no box).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketSet {
    boxes: Vec<PacketBox>,
}

/// A subtraction gave up: the result would need more boxes than allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyBoxes;

impl PacketSet {
    pub fn empty() -> PacketSet {
        PacketSet::default()
    }

    /// A set of one box.
    pub fn from_box(b: PacketBox) -> PacketSet {
        PacketSet { boxes: vec![b] }
    }

    /// The union of boxes that do not overlap (the caller's promise: the universe's pieces,
    /// a subtraction's results).
    pub(super) fn from_disjoint(boxes: Vec<PacketBox>) -> PacketSet {
        PacketSet { boxes }
    }

    pub fn boxes(&self) -> &[PacketBox] {
        &self.boxes
    }

    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    pub fn contains(&self, p: &Point) -> bool {
        self.boxes.iter().any(|b| b.contains(p))
    }

    pub fn intersects(&self, other: &PacketSet) -> bool {
        self.boxes.iter().any(|a| other.boxes.iter().any(|b| a.intersects(b)))
    }

    pub fn intersect(&self, other: &PacketSet) -> PacketSet {
        let mut boxes = Vec::new();
        for a in &self.boxes {
            for b in &other.boxes {
                if let Some(c) = a.intersect(b) {
                    boxes.push(c);
                }
            }
        }
        PacketSet { boxes }
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &PacketSet) -> PacketSet {
        let mut current = self.boxes.clone();
        for b in &other.boxes {
            if current.is_empty() {
                break;
            }
            let mut next = Vec::with_capacity(current.len() + 1);
            for a in current {
                a.subtract_into(b, &mut next);
            }
            current = next;
        }
        PacketSet { boxes: current }
    }

    /// `self \ other`, or `Err` as soon as the result holds more than `limit` boxes. Takes the
    /// set by value: boxes that `other` does not touch are moved, not copied.
    pub fn subtract_bounded(self, other: &PacketSet, limit: usize) -> Result<PacketSet, TooManyBoxes> {
        let mut current = self.boxes;
        for b in &other.boxes {
            if current.is_empty() {
                break;
            }
            if !current.iter().any(|a| a.intersects(b)) {
                continue;
            }
            let mut next = Vec::with_capacity(current.len() + 1);
            for a in current {
                a.subtract_into(b, &mut next);
            }
            if next.len() > limit {
                return Err(TooManyBoxes);
            }
            current = next;
        }
        Ok(PacketSet { boxes: current })
    }

    /// Narrows every box's `field` to its intersection with `set` (dropping boxes left empty).
    pub fn narrow_range(&mut self, field: RangeField, set: &Ranges) {
        self.boxes.retain_mut(|b| b.narrow_range(field, set));
    }

    /// Narrows every box's mask `field` to its intersection with `set`.
    pub fn narrow_cube(&mut self, field: CubeField, set: &Cubes) {
        self.boxes.retain_mut(|b| b.narrow_cube(field, set));
    }

    /// The set with every packet's `field` replaced by any value of `values` (what a NAT target
    /// does to the destination, or a MARK to the mark): each box gets `values` in that field.
    /// Boxes that differed only there then overlap, so they are merged back into disjoint ones.
    pub fn replace_range(&self, field: RangeField, values: &Ranges) -> PacketSet {
        self.replace_with(|b| b.ranges[field.index()] = values.clone(), values.is_empty())
    }

    /// [`PacketSet::replace_range`] for a mask field.
    pub fn replace_cube(&self, field: CubeField, values: &Cubes) -> PacketSet {
        self.replace_with(|b| b.cubes[field.index()] = values.clone(), values.is_empty())
    }

    fn replace_with(&self, set: impl Fn(&mut PacketBox), empty: bool) -> PacketSet {
        if empty {
            return PacketSet::empty();
        }
        let mut out = PacketSet::empty();
        for b in &self.boxes {
            let mut b = b.clone();
            set(&mut b);
            let piece = PacketSet::from_box(b);
            // most replaced boxes meet nothing already there: no subtraction then
            if out.intersects(&piece) {
                out = out.union(&piece);
            } else {
                out.boxes.extend(piece.boxes);
            }
        }
        out
    }

    /// `self ∪ other` (kept disjoint: `other`'s part outside `self` is added).
    pub fn union(&self, other: &PacketSet) -> PacketSet {
        let mut boxes = self.boxes.clone();
        boxes.extend(other.subtract(self).boxes);
        PacketSet { boxes }
    }

    /// `self ⊆ other`.
    pub fn is_subset(&self, other: &PacketSet) -> bool {
        self.boxes.iter().all(|a| other.boxes.iter().any(|b| a.is_subset(b))) || self.subtract(other).is_empty()
    }

    /// One packet of the set (every field at its smallest value in the first box).
    pub fn sample(&self) -> Option<Point> {
        self.boxes.first().map(PacketBox::min_point)
    }

    /// `n` packets of the set, spread over its boxes and values by a generator seeded with `seed`
    /// (the same seed gives the same packets).
    pub fn samples(&self, n: usize, seed: u64) -> Vec<Point> {
        if self.boxes.is_empty() {
            return Vec::new();
        }
        let mut state = seed as u128 | 1;
        let mut pick = |bound: u128| {
            // a 128-bit LCG; its high half is good enough to spread samples
            state = state.wrapping_mul(0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645).wrapping_add(0x5851_f42d_4c95_7f2d);
            let r = state.rotate_left(64) ^ (state >> 17);
            if bound == 0 { 0 } else { r % bound }
        };
        (0..n)
            .map(|i| {
                let b = &self.boxes[if i == 0 { 0 } else { (pick(self.boxes.len() as u128)) as usize }];
                if i == 0 { b.min_point() } else { b.pick_point(&mut pick) }
            })
            .collect()
    }
}
