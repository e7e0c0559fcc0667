//! `Ranges`: a set of integers as sorted, disjoint, non-adjacent inclusive intervals.
//!
//! The operations know nothing of a field's domain: the caller passes the domain's largest value
//! where it matters ([`Ranges::full`], [`Ranges::complement`]).

use smallvec::SmallVec;

/// A set of `u128` values, as sorted inclusive intervals with a gap between any two.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ranges {
    spans: SmallVec<[(u128, u128); 1]>,
}

impl Ranges {
    /// The empty set.
    pub fn empty() -> Ranges {
        Ranges::default()
    }

    /// `0..=max`.
    pub fn full(max: u128) -> Ranges {
        Ranges::interval(0, max)
    }

    /// `lo..=hi`; empty when `lo > hi`.
    pub fn interval(lo: u128, hi: u128) -> Ranges {
        let mut spans = SmallVec::new();
        if lo <= hi {
            spans.push((lo, hi));
        }
        Ranges { spans }
    }

    pub fn point(value: u128) -> Ranges {
        Ranges::interval(value, value)
    }

    /// The union of any intervals, in any order (reversed ones are empty).
    pub fn from_intervals(intervals: impl IntoIterator<Item = (u128, u128)>) -> Ranges {
        let mut all: Vec<(u128, u128)> = intervals.into_iter().filter(|(lo, hi)| lo <= hi).collect();
        all.sort_unstable();
        let mut spans: SmallVec<[(u128, u128); 1]> = SmallVec::new();
        for (lo, hi) in all {
            match spans.last_mut() {
                Some(last) if last.1 == u128::MAX || lo <= last.1 + 1 => last.1 = last.1.max(hi),
                _ => spans.push((lo, hi)),
            }
        }
        Ranges { spans }
    }

    /// The values `v` of `0..=max` for which `keep(v)` holds (for small domains only).
    pub fn from_predicate(max: u128, keep: impl Fn(u128) -> bool) -> Ranges {
        Ranges::from_intervals((0..=max).filter(|&v| keep(v)).map(|v| (v, v)))
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The intervals, in order.
    pub fn intervals(&self) -> &[(u128, u128)] {
        &self.spans
    }

    pub fn contains(&self, value: u128) -> bool {
        let i = self.spans.partition_point(|&(_, hi)| hi < value);
        self.spans.get(i).is_some_and(|&(lo, _)| lo <= value)
    }

    /// The smallest and largest value, if any.
    pub fn hull(&self) -> Option<(u128, u128)> {
        Some((self.spans.first()?.0, self.spans.last()?.1))
    }

    pub fn intersect(&self, other: &Ranges) -> Ranges {
        let (a, b) = (&self.spans, &other.spans);
        let mut spans = SmallVec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                spans.push((lo, hi));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges { spans }
    }

    pub fn intersects(&self, other: &Ranges) -> bool {
        let (a, b) = (&self.spans, &other.spans);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].0.max(b[j].0) <= a[i].1.min(b[j].1) {
                return true;
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        false
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Ranges) -> Ranges {
        let mut spans = SmallVec::new();
        let b = &other.spans;
        let mut j = 0;
        for &(lo, hi) in &self.spans {
            let mut lo = Some(lo);
            // skip the intervals of `other` wholly below this one
            while j < b.len() && b[j].1 < lo.unwrap_or(0) {
                j += 1;
            }
            let mut k = j;
            while let Some(start) = lo {
                match b.get(k) {
                    Some(&(blo, bhi)) if blo <= hi => {
                        if blo > start {
                            spans.push((start, blo - 1));
                        }
                        lo = if bhi >= hi { None } else { Some(bhi + 1) };
                        k += 1;
                    }
                    _ => {
                        spans.push((start, hi));
                        lo = None;
                    }
                }
            }
        }
        Ranges { spans }
    }

    /// `self ⊆ other`.
    pub fn is_subset(&self, other: &Ranges) -> bool {
        self.subtract(other).is_empty()
    }

    /// `0..=max \ self`.
    pub fn complement(&self, max: u128) -> Ranges {
        Ranges::full(max).subtract(self)
    }

    /// The smallest value.
    pub fn min(&self) -> Option<u128> {
        self.spans.first().map(|&(lo, _)| lo)
    }

    /// A value chosen by `pick` (which gets a bound `n` and returns a number below it).
    pub fn pick(&self, pick: &mut impl FnMut(u128) -> u128) -> Option<u128> {
        if self.spans.is_empty() {
            return None;
        }
        let &(lo, hi) = &self.spans[(pick(self.spans.len() as u128) as usize).min(self.spans.len() - 1)];
        let width = hi - lo;
        Some(if width == u128::MAX { pick(u128::MAX) } else { lo + pick(width + 1).min(width) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(spans: &[(u128, u128)]) -> Ranges {
        Ranges::from_intervals(spans.iter().copied())
    }

    #[test]
    fn merges_overlapping_and_adjacent_intervals() {
        assert_eq!(r(&[(5, 9), (1, 3), (4, 4), (20, 30), (25, 40)]).intervals(), &[(1, 9), (20, 40)]);
        assert_eq!(r(&[(3, 1)]), Ranges::empty());
        assert_eq!(r(&[(0, u128::MAX), (5, 6)]).intervals(), &[(0, u128::MAX)]);
    }

    #[test]
    fn intersects_and_subtracts() {
        let a = r(&[(0, 10), (20, 30)]);
        let b = r(&[(5, 25)]);
        assert_eq!(a.intersect(&b).intervals(), &[(5, 10), (20, 25)]);
        assert_eq!(a.subtract(&b).intervals(), &[(0, 4), (26, 30)]);
        assert_eq!(b.subtract(&a).intervals(), &[(11, 19)]);
        assert!(a.intersects(&b));
        assert!(!r(&[(0, 4)]).intersects(&r(&[(5, 9)])));
        assert!(r(&[(6, 8)]).is_subset(&b));
        assert!(!a.is_subset(&b));
        // several holes in one interval
        assert_eq!(
            r(&[(0, 100)]).subtract(&r(&[(10, 20), (30, 40), (100, 200)])).intervals(),
            &[(0, 9), (21, 29), (41, 99)]
        );
    }

    #[test]
    fn complements_at_the_domain_boundaries() {
        assert_eq!(Ranges::point(0).complement(65535).intervals(), &[(1, 65535)]);
        assert_eq!(Ranges::point(65535).complement(65535).intervals(), &[(0, 65534)]);
        assert_eq!(Ranges::full(65535).complement(65535), Ranges::empty());
        assert_eq!(Ranges::empty().complement(7).intervals(), &[(0, 7)]);
        assert_eq!(Ranges::point(u128::MAX).complement(u128::MAX).intervals(), &[(0, u128::MAX - 1)]);
        assert_eq!(Ranges::point(0).complement(u128::MAX).intervals(), &[(1, u128::MAX)]);
        let x = r(&[(0, 0), (7, 9), (u128::MAX, u128::MAX)]);
        assert_eq!(x.complement(u128::MAX).complement(u128::MAX), x);
    }

    #[test]
    fn contains_and_samples() {
        let a = r(&[(3, 5), (9, 9)]);
        assert!(!a.contains(2) && a.contains(3) && a.contains(5) && !a.contains(6) && a.contains(9));
        assert_eq!(a.min(), Some(3));
        assert_eq!(a.hull(), Some((3, 9)));
        let mut state = 7u128;
        for _ in 0..50 {
            let v = a.pick(&mut |n| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 64) % n.max(1)
            });
            assert!(v.is_some_and(|v| a.contains(v)));
        }
    }
}
