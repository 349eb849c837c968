//! Parsed patient records (`consent::RecordFacts`: status, médecin traitant, Consents)
//! kept across requests. An entry is used only when the record's stamp
//! (`storage::record_stamp`: the versions of the Patient and of its live Consents), read in
//! the request's own transaction, is the one it was loaded with: a Consent change takes
//! effect on the very next request, whichever process wrote it, and a request never sees a
//! record older than its snapshot. Bounded: when full, it starts again empty.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::consent::RecordFacts;
use crate::storage::record_stamp::RecordStamp;

/// Most records kept.
const CAPACITY: usize = 20_000;

/// The cache, shared by all requests (held by `Services`).
#[derive(Debug, Default)]
pub struct RecordCache {
    entries: Mutex<HashMap<String, (RecordStamp, Option<RecordFacts>)>>,
}

impl RecordCache {
    /// The record of `patient` loaded at `stamp`, if kept.
    pub(crate) fn get(&self, patient: &str, stamp: &RecordStamp) -> Option<Option<RecordFacts>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(patient)
            .filter(|(kept, _)| kept == stamp)
            .map(|(_, record)| record.clone())
    }

    /// Keeps `record`, loaded at `stamp`.
    pub(crate) fn put(&self, patient: &str, stamp: RecordStamp, record: Option<RecordFacts>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(patient) {
            entries.clear();
        }
        entries.insert(patient.to_owned(), (stamp, record));
    }
}
