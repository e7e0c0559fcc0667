//! `PacketBox`: a product of one value set per header field.

use super::field::{CUBE_FIELDS, CubeField, RANGE_FIELDS, RangeField};
use super::{Cubes, Ranges};
use crate::model::Family;

/// The packets whose every field lies in that field's set. Every field is non-empty (an empty
/// field would make the box empty, and boxes never are).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PacketBox {
    pub(super) ranges: [Ranges; RANGE_FIELDS.len()],
    pub(super) cubes: [Cubes; CUBE_FIELDS.len()],
}

/// One packet: a value per field (see [`super::field`] for each one's meaning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Point {
    pub ranges: [u128; RANGE_FIELDS.len()],
    pub cubes: [u128; CUBE_FIELDS.len()],
}

impl Point {
    pub fn get(&self, field: RangeField) -> u128 {
        self.ranges[field.index()]
    }

    pub fn get_cube(&self, field: CubeField) -> u128 {
        self.cubes[field.index()]
    }
}

impl PacketBox {
    /// Every value of every field's domain.
    pub fn full(family: Family) -> PacketBox {
        PacketBox {
            ranges: RANGE_FIELDS.map(|f| Ranges::full(f.max())),
            cubes: CUBE_FIELDS.map(|f| Cubes::full(f.width(family))),
        }
    }

    /// The one packet `p`.
    pub fn point(p: &Point) -> PacketBox {
        PacketBox {
            ranges: RANGE_FIELDS.map(|f| Ranges::point(p.get(f))),
            cubes: CUBE_FIELDS.map(|f| Cubes::point(p.get_cube(f))),
        }
    }

    /// The box with one field's value unknown: every value of its domain.
    pub fn unknown_range(mut self, field: RangeField) -> PacketBox {
        self.ranges[field.index()] = Ranges::full(field.max());
        self
    }

    /// The box with one mask field's value unknown: every value of its domain.
    pub fn unknown_cube(mut self, field: CubeField, family: Family) -> PacketBox {
        self.cubes[field.index()] = Cubes::full(field.width(family));
        self
    }

    pub fn range(&self, field: RangeField) -> &Ranges {
        &self.ranges[field.index()]
    }

    pub fn cube(&self, field: CubeField) -> &Cubes {
        &self.cubes[field.index()]
    }

    /// Narrows one field to its intersection with `set`; false when that leaves it empty.
    pub fn narrow_range(&mut self, field: RangeField, set: &Ranges) -> bool {
        let slot = &mut self.ranges[field.index()];
        *slot = slot.intersect(set);
        !slot.is_empty()
    }

    /// Narrows one mask field to its intersection with `set`; false when that leaves it empty.
    pub fn narrow_cube(&mut self, field: CubeField, set: &Cubes) -> bool {
        let slot = &mut self.cubes[field.index()];
        *slot = slot.intersect(set);
        !slot.is_empty()
    }

    /// The box with one field narrowed to its intersection with `set`; `None` when empty.
    pub fn with_range(mut self, field: RangeField, set: &Ranges) -> Option<PacketBox> {
        let narrowed = self.ranges[field.index()].intersect(set);
        (!narrowed.is_empty()).then(|| {
            self.ranges[field.index()] = narrowed;
            self
        })
    }

    /// The box with one mask field narrowed to its intersection with `set`; `None` when empty.
    pub fn with_cube(mut self, field: CubeField, set: &Cubes) -> Option<PacketBox> {
        let narrowed = self.cubes[field.index()].intersect(set);
        (!narrowed.is_empty()).then(|| {
            self.cubes[field.index()] = narrowed;
            self
        })
    }

    pub fn intersects(&self, other: &PacketBox) -> bool {
        self.ranges.iter().zip(&other.ranges).all(|(a, b)| a.intersects(b))
            && self.cubes.iter().zip(&other.cubes).all(|(a, b)| a.intersects(b))
    }

    pub fn intersect(&self, other: &PacketBox) -> Option<PacketBox> {
        if !self.intersects(other) {
            return None;
        }
        Some(PacketBox {
            ranges: std::array::from_fn(|i| self.ranges[i].intersect(&other.ranges[i])),
            cubes: std::array::from_fn(|i| self.cubes[i].intersect(&other.cubes[i])),
        })
    }

    /// `self ⊆ other`.
    pub fn is_subset(&self, other: &PacketBox) -> bool {
        self.ranges.iter().zip(&other.ranges).all(|(a, b)| a.is_subset(b))
            && self.cubes.iter().zip(&other.cubes).all(|(a, b)| a.is_subset(b))
    }

    /// `self \ other`, as disjoint boxes pushed onto `out`: field by field, the part of `self`
    /// outside `other` in that field (and inside it in the fields before).
    pub fn subtract_into(self, other: &PacketBox, out: &mut Vec<PacketBox>) {
        if !self.intersects(other) {
            out.push(self);
            return;
        }
        let mut rest = self;
        for i in 0..RANGE_FIELDS.len() {
            let outside = rest.ranges[i].subtract(&other.ranges[i]);
            if !outside.is_empty() {
                let inside = rest.ranges[i].intersect(&other.ranges[i]);
                let mut part = rest.clone();
                part.ranges[i] = outside;
                out.push(part);
                rest.ranges[i] = inside;
            }
        }
        for i in 0..CUBE_FIELDS.len() {
            let outside = rest.cubes[i].subtract(&other.cubes[i]);
            if !outside.is_empty() {
                let inside = rest.cubes[i].intersect(&other.cubes[i]);
                let mut part = rest.clone();
                part.cubes[i] = outside;
                out.push(part);
                rest.cubes[i] = inside;
            }
        }
    }

    pub fn contains(&self, p: &Point) -> bool {
        self.ranges.iter().zip(&p.ranges).all(|(s, &v)| s.contains(v))
            && self.cubes.iter().zip(&p.cubes).all(|(s, &v)| s.contains(v))
    }

    /// The packet with every field at its smallest value.
    pub fn min_point(&self) -> Point {
        Point {
            ranges: std::array::from_fn(|i| self.ranges[i].min().unwrap_or(0)),
            cubes: std::array::from_fn(|i| self.cubes[i].min().unwrap_or(0)),
        }
    }

    /// A packet with every field chosen by `pick` (a bound in, a number below it out).
    pub fn pick_point(&self, pick: &mut impl FnMut(u128) -> u128) -> Point {
        Point {
            ranges: std::array::from_fn(|i| self.ranges[i].pick(pick).unwrap_or(0)),
            cubes: std::array::from_fn(|i| self.cubes[i].pick(pick).unwrap_or(0)),
        }
    }
}
