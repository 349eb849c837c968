//! A set of codes as a ValueSet expansion gives it, kept symbolic where a whole system is
//! included: explicit `(system, code)` members, whole systems, and the codes excluded from
//! those whole systems. Union, difference and intersection follow ValueSet `compose`
//! (include: union; exclude: difference; several `valueSet`s in one include: intersection)
//! without ever listing a whole system. Pure.

use std::collections::BTreeSet;

/// `(system, code)`.
pub type Code = (String, String);

/// The members are `codes` ∪ { (s, c) : s ∈ `systems`, (s, c) ∉ `excluded` }. Invariants:
/// no explicit code belongs to a whole system; every excluded code belongs to one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeSet {
    codes: BTreeSet<Code>,
    systems: BTreeSet<String>,
    excluded: BTreeSet<Code>,
}

impl CodeSet {
    /// These explicit codes.
    pub fn of_codes(codes: impl IntoIterator<Item = Code>) -> CodeSet {
        CodeSet {
            codes: codes.into_iter().collect(),
            ..CodeSet::default()
        }
    }

    /// Every code of `system`.
    pub fn whole_system(system: &str) -> CodeSet {
        CodeSet {
            systems: BTreeSet::from([system.to_owned()]),
            ..CodeSet::default()
        }
    }

    /// The explicit members, by system then code.
    pub fn codes(&self) -> &BTreeSet<Code> {
        &self.codes
    }

    /// The systems included whole.
    pub fn systems(&self) -> &BTreeSet<String> {
        &self.systems
    }

    /// The codes left out of the whole systems.
    pub fn excluded(&self) -> &BTreeSet<Code> {
        &self.excluded
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty() && self.systems.is_empty()
    }

    /// The number of explicit codes and exclusions (what a query has to list).
    pub fn listed(&self) -> usize {
        self.codes.len() + self.excluded.len()
    }

    pub fn contains(&self, code: &Code) -> bool {
        self.codes.contains(code)
            || (self.systems.contains(&code.0) && !self.excluded.contains(code))
    }

    /// A set from its parts, the invariants restored: explicit codes of a whole system and
    /// exclusions outside the whole systems are dropped.
    fn from_parts<'c>(
        codes: impl Iterator<Item = &'c Code>,
        systems: BTreeSet<String>,
        excluded: impl Iterator<Item = &'c Code>,
    ) -> CodeSet {
        CodeSet {
            codes: codes.filter(|c| !systems.contains(&c.0)).cloned().collect(),
            excluded: excluded
                .filter(|c| systems.contains(&c.0))
                .cloned()
                .collect(),
            systems,
        }
    }

    /// Every member of either.
    pub fn union(&self, other: &CodeSet) -> CodeSet {
        CodeSet::from_parts(
            self.codes.union(&other.codes),
            self.systems.union(&other.systems).cloned().collect(),
            self.excluded
                .union(&other.excluded)
                .filter(|c| !self.contains(c) && !other.contains(c)),
        )
    }

    /// The members of `self` that are not members of `other`.
    pub fn minus(&self, other: &CodeSet) -> CodeSet {
        // Explicit codes kept; and the codes of a system both include whole that `other`
        // excludes (so they stay members).
        CodeSet::from_parts(
            self.codes
                .iter()
                .filter(|c| !other.contains(c))
                .chain(other.excluded.iter().filter(|c| self.contains(c))),
            self.systems.difference(&other.systems).cloned().collect(),
            self.excluded.iter().chain(other.codes.iter()),
        )
    }

    /// The members of both.
    pub fn intersection(&self, other: &CodeSet) -> CodeSet {
        CodeSet::from_parts(
            self.codes
                .iter()
                .filter(|c| other.contains(c))
                .chain(other.codes.iter().filter(|c| self.contains(c))),
            self.systems.intersection(&other.systems).cloned().collect(),
            self.excluded.union(&other.excluded),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(system: &str, code: &str) -> Code {
        (system.to_owned(), code.to_owned())
    }

    #[test]
    fn algebra_keeps_whole_systems_symbolic() {
        let loinc = CodeSet::whole_system("L");
        let some = CodeSet::of_codes([code("L", "1"), code("S", "9")]);
        let without_one = loinc.minus(&CodeSet::of_codes([code("L", "1")]));
        assert!(!without_one.contains(&code("L", "1")));
        assert!(without_one.contains(&code("L", "2")));
        assert_eq!(without_one.listed(), 1);
        // Union puts back what one side has.
        let back = without_one.union(&some);
        assert!(back.contains(&code("L", "1")) && back.contains(&code("S", "9")));
        assert!(back.excluded().is_empty());
        // Removing a whole system keeps what the other side excluded from it.
        let kept = some.minus(&without_one);
        assert_eq!(kept, CodeSet::of_codes([code("L", "1"), code("S", "9")]));
        let only_one = loinc.minus(&without_one);
        assert_eq!(only_one, CodeSet::of_codes([code("L", "1")]));
        // Intersection.
        let both = without_one.intersection(&some);
        assert_eq!(both, CodeSet::of_codes([]));
        let both = loinc.intersection(&some);
        assert_eq!(both, CodeSet::of_codes([code("L", "1")]));
        assert!(CodeSet::default().is_empty());
    }
}
