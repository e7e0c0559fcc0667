//! `Cubes`: a set of integers as disjoint ternary patterns (`value/mask`), the natural form of
//! what netfilter compares under a mask: `-s 10.0.0.0/255.0.255.0`, `--mark 0x4000/0x4000`,
//! `--tcp-flags SYN,ACK SYN`. A prefix is one pattern; an interval is at most two per bit.
//!
//! The domain is `0..2^width`: a pattern for a narrower field fixes the bits above the width to
//! zero ([`Cubes::full`]), so that every operation stays inside the domain without knowing it.

use smallvec::SmallVec;

/// The values `v` with `v & care == value` (`value` has no bit outside `care`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cube {
    pub value: u128,
    pub care: u128,
}

impl Cube {
    /// `v & mask == value & mask`.
    pub fn masked(value: u128, mask: u128) -> Cube {
        Cube { value: value & mask, care: mask }
    }

    pub fn contains(self, v: u128) -> bool {
        v & self.care == self.value
    }

    pub fn intersect(self, other: Cube) -> Option<Cube> {
        ((self.value ^ other.value) & self.care & other.care == 0)
            .then_some(Cube { value: self.value | other.value, care: self.care | other.care })
    }

    /// `self ⊆ other`.
    pub fn is_subset(self, other: Cube) -> bool {
        other.care & !self.care == 0 && (self.value ^ other.value) & other.care == 0
    }

    /// `self \ other`, as disjoint cubes: one per bit that `other` fixes and `self` leaves free,
    /// the highest bit first (so that a prefix minus a longer prefix gives prefixes, and address
    /// sets stay few patterns).
    fn subtract_into(self, other: Cube, out: &mut SmallVec<[Cube; 1]>) {
        if self.intersect(other).is_none() {
            out.push(self);
            return;
        }
        let mut rest = self;
        let mut free = other.care & !self.care;
        out.reserve(free.count_ones() as usize);
        while free != 0 {
            let bit = 1u128 << (127 - free.leading_zeros());
            free &= !bit;
            out.push(Cube { value: rest.value | (!other.value & bit), care: rest.care | bit });
            rest = Cube { value: rest.value | (other.value & bit), care: rest.care | bit };
        }
    }
}

/// A set of `u128` values as disjoint cubes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cubes {
    cubes: SmallVec<[Cube; 1]>,
}

/// The bits above a `width`-bit domain.
fn above(width: u32) -> u128 {
    u128::MAX.checked_shl(width).unwrap_or(0)
}

impl Cubes {
    pub fn empty() -> Cubes {
        Cubes::default()
    }

    /// Every value of a `width`-bit domain.
    pub fn full(width: u32) -> Cubes {
        Cubes::cube(Cube { value: 0, care: above(width) })
    }

    pub fn cube(cube: Cube) -> Cubes {
        let mut cubes = SmallVec::new();
        cubes.push(Cube { value: cube.value & cube.care, care: cube.care });
        Cubes { cubes }
    }

    /// `v & mask == value & mask` within a `width`-bit domain.
    pub fn masked(value: u128, mask: u128, width: u32) -> Cubes {
        Cubes::cube(Cube::masked(value, mask | above(width)))
    }

    pub fn point(value: u128) -> Cubes {
        Cubes::cube(Cube { value, care: u128::MAX })
    }

    /// `lo..=hi` within a `width`-bit domain, as the prefixes that tile it.
    pub fn interval(lo: u128, hi: u128, width: u32) -> Cubes {
        let mut cubes = SmallVec::new();
        let top = above(width);
        let mut lo = lo;
        while lo <= hi {
            // the largest aligned block at `lo` that stays within `hi`
            let fits = |bits: u32| match bits {
                128 => hi == u128::MAX,
                _ => lo.checked_add((1u128 << bits) - 1).is_some_and(|end| end <= hi),
            };
            let mut size_bits = if lo == 0 { 128 } else { lo.trailing_zeros() };
            while size_bits > 0 && !fits(size_bits) {
                size_bits -= 1;
            }
            let free = if size_bits == 128 { u128::MAX } else { (1u128 << size_bits) - 1 };
            cubes.push(Cube { value: lo, care: !free | top });
            match (lo | free).checked_add(1) {
                Some(next) => lo = next,
                None => break,
            }
        }
        Cubes { cubes }
    }

    /// Whether every cube lies in a `width`-bit domain, with the bits above it cared for (as
    /// every cube made by these functions for that width does): then the set met with
    /// [`Cubes::full`] is the set itself, cube for cube.
    pub fn within(&self, width: u32) -> bool {
        let top = above(width);
        self.cubes.iter().all(|c| c.care & top == top && c.value & top == 0)
    }

    /// The union of any cubes (made disjoint).
    pub fn union(&self, other: &Cubes) -> Cubes {
        let mut all = self.clone();
        all.cubes.extend(other.subtract(self).cubes);
        all
    }

    pub fn is_empty(&self) -> bool {
        self.cubes.is_empty()
    }

    pub fn cubes(&self) -> &[Cube] {
        &self.cubes
    }

    pub fn contains(&self, v: u128) -> bool {
        self.cubes.iter().any(|c| c.contains(v))
    }

    pub fn intersect(&self, other: &Cubes) -> Cubes {
        // room for the usual result, a subset of the longer side's cubes, at once
        let mut cubes = SmallVec::with_capacity(self.cubes.len().max(other.cubes.len()));
        for a in &self.cubes {
            for b in &other.cubes {
                if let Some(c) = a.intersect(*b) {
                    cubes.push(c);
                }
            }
        }
        Cubes { cubes }
    }

    pub fn intersects(&self, other: &Cubes) -> bool {
        self.cubes.iter().any(|a| other.cubes.iter().any(|b| a.intersect(*b).is_some()))
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Cubes) -> Cubes {
        let mut current = self.cubes.clone();
        for b in &other.cubes {
            if current.is_empty() {
                break;
            }
            let mut next = SmallVec::new();
            for a in current {
                a.subtract_into(*b, &mut next);
            }
            current = next;
        }
        Cubes { cubes: current }
    }

    /// `self ⊆ other`.
    pub fn is_subset(&self, other: &Cubes) -> bool {
        self.cubes.iter().all(|a| other.cubes.iter().any(|b| a.is_subset(*b))) || self.subtract(other).is_empty()
    }

    /// Every value of a `width`-bit domain not in `self`.
    pub fn complement(&self, width: u32) -> Cubes {
        Cubes::full(width).subtract(self)
    }

    /// The smallest value of the first cube (free bits zero).
    pub fn min(&self) -> Option<u128> {
        self.cubes.iter().map(|c| c.value).min()
    }

    /// The smallest and largest value.
    pub fn hull(&self) -> Option<(u128, u128)> {
        let lo = self.cubes.iter().map(|c| c.value).min()?;
        let hi = self.cubes.iter().map(|c| c.value | !c.care).max()?;
        Some((lo, hi))
    }

    /// A value chosen by `pick` (which gets a bound `n` and returns a number below it).
    pub fn pick(&self, pick: &mut impl FnMut(u128) -> u128) -> Option<u128> {
        if self.cubes.is_empty() {
            return None;
        }
        let cube = self.cubes[(pick(self.cubes.len() as u128) as usize).min(self.cubes.len() - 1)];
        Some(cube.value | (pick(u128::MAX) & !cube.care))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of an 8-bit domain in the set, for comparing with a brute-force answer.
    fn values(c: &Cubes) -> Vec<u128> {
        (0..256).filter(|&v| c.contains(v)).collect()
    }

    #[test]
    fn masks_intersect_and_subtract_exactly() {
        let syn = Cubes::masked(0x02, 0x17, 8); // --tcp-flags SYN,RST,ACK,FIN SYN
        let ack = Cubes::masked(0x10, 0x10, 8);
        assert_eq!(values(&syn).len(), 16);
        assert!(!syn.intersects(&ack));
        let not_syn = syn.complement(8);
        assert_eq!(values(&not_syn).len(), 240);
        assert!(values(&not_syn).iter().all(|&v| v & 0x17 != 0x02));
        assert!(ack.is_subset(&not_syn));
        assert!(Cubes::full(8).subtract(&not_syn.union(&syn)).is_empty());
        for v in values(&Cubes::full(8)) {
            assert_eq!(not_syn.contains(v), !syn.contains(v));
        }
        // cube subtraction results are disjoint and exact
        let a = Cubes::masked(0x40, 0xc0, 8);
        let b = Cubes::masked(0x01, 0x0f, 8);
        let d = a.subtract(&b);
        let expected: Vec<u128> = (0..256).filter(|&v| v & 0xc0 == 0x40 && v & 0x0f != 0x01).collect();
        assert_eq!(values(&d), expected);
        let count: usize = d.cubes().iter().map(|c| (0..256).filter(|&v| c.contains(v)).count()).sum();
        assert_eq!(count, expected.len(), "cubes overlap");
    }

    #[test]
    fn intervals_tile_as_prefixes() {
        for (lo, hi) in [(0, 255), (0, 0), (255, 255), (1, 254), (3, 17), (128, 255), (7, 8)] {
            let c = Cubes::interval(lo, hi, 8);
            assert_eq!(values(&c), (lo..=hi).collect::<Vec<_>>(), "{lo}..={hi}");
        }
        assert_eq!(Cubes::interval(0, 255, 8).cubes().len(), 1);
        assert_eq!(Cubes::interval(5, 3, 8), Cubes::empty());
        let all = Cubes::interval(0, u128::MAX, 128);
        assert_eq!(all, Cubes::full(128));
        let top = Cubes::interval(u128::MAX - 3, u128::MAX, 128);
        assert!(top.contains(u128::MAX) && top.contains(u128::MAX - 3) && !top.contains(u128::MAX - 4));
        assert_eq!(top.hull(), Some((u128::MAX - 3, u128::MAX)));
    }

    #[test]
    fn a_set_within_the_domain_is_its_own_meet_with_the_domain() {
        // what lets a rule's first condition on a field skip meeting the whole domain
        for width in [8, 9, 12, 32, 128] {
            let sets = [
                Cubes::masked(0x0a, 0x0f, width),
                Cubes::masked(0x0a, 0x0f, width).complement(width),
                Cubes::interval(3, 200, width),
                Cubes::point(7),
                Cubes::full(width),
                Cubes::empty(),
                Cubes::masked(0x01, 0x03, width).union(&Cubes::masked(0x40, 0xc0, width)),
            ];
            for set in sets {
                if set.within(width) {
                    assert_eq!(Cubes::full(width).intersect(&set), set, "{set:?}");
                }
            }
            assert!(Cubes::masked(0x0a, 0x0f, width).complement(width).within(width));
        }
        // a point cares for every bit; one outside the domain is not within it
        assert!(!Cubes::point(1 << 40).within(32));
        assert!(!Cubes::cube(Cube { value: 0, care: 0 }).within(32));
    }

    #[test]
    fn width_keeps_values_in_the_domain() {
        let v4 = Cubes::full(32);
        assert!(v4.contains(0xffff_ffff) && !v4.contains(1 << 32));
        let not_host = Cubes::masked(0x0a00_0001, 0xffff_ffff, 32).complement(32);
        assert_eq!(not_host.hull(), Some((0, 0xffff_ffff)));
        assert!(!not_host.contains(0x0a00_0001) && not_host.contains(0x0a00_0000));
        assert_eq!(Cubes::full(128).hull(), Some((0, u128::MAX)));
        assert!(Cubes::point(5).complement(128).contains(u128::MAX));
    }
}
