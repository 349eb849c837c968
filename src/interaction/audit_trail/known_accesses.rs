//! The (patient, professional) pairs whose first access is known to be stored in
//! `professional_first_access`, so that later accesses skip the insert that would find
//! them there (one statement less per professional request). A pair is remembered only
//! after the transaction that stored it (or found it) committed; forgetting is always safe.

use std::collections::HashSet;
use std::sync::Mutex;

/// Most pairs kept; when full, it starts again empty.
const CAPACITY: usize = 100_000;

/// The pairs, shared by all requests (held by `Services`).
#[derive(Debug, Default)]
pub struct KnownAccesses {
    pairs: Mutex<HashSet<(String, String)>>,
}

impl KnownAccesses {
    /// Whether `practitioner`'s first access to `patient`'s record is known to be stored.
    pub(crate) fn contains(&self, patient: &str, practitioner: &str) -> bool {
        self.pairs
            .lock()
            .is_ok_and(|pairs| pairs.contains(&(patient.to_owned(), practitioner.to_owned())))
    }

    /// Remembers pairs whose first access is now stored (after their commit).
    pub(crate) fn remember(&self, stored: Vec<(String, String)>) {
        let Ok(mut pairs) = self.pairs.lock() else {
            return;
        };
        if pairs.len() + stored.len() > CAPACITY {
            pairs.clear();
        }
        pairs.extend(stored);
    }
}
