//! Deferred search rows. The AuditEvents of reads and searches (one per patient whose
//! data an answer holds) are stored durably before the answer with their version, current
//! row, compartment, labels and facts, but without their rows in the `search_*` tables:
//! those go to the backlog (`storage::index_backlog`) and are written here, off the
//! request's path, by the `DeferredIndexer` thread, and by any search that may read them
//! (`catch_up_for`) before it runs. A search thus never misses an AuditEvent stored before
//! it began, and a resource still in the backlog is not a match of any search (the search
//! SQL leaves it out), so that no search sees an event with part of its values.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::context::Services;
use super::error::InteractionError;
use crate::search::extract::{IndexEntry, extract, retain_indexed};
use crate::search::query::SearchQuery;
use crate::storage::index::{DeferredValues, SearchRows};
use crate::storage::index_backlog::{self, DEFERRABLE_TYPES};
use crate::storage::versions::CurrentRow;
use crate::storage::{Conn, StorageError, index};

/// Resources whose rows one transaction of the indexer writes: small, so that the writers
/// of requests never wait long behind it.
const INDEXER_BATCH: i64 = 8;
/// Resources whose rows one transaction of a catch-up writes.
const CATCH_UP_BATCH: i64 = 500;
/// How often the indexer looks at the backlog when nothing wakes it (what an earlier run
/// or another process left).
const POLL: Duration = Duration::from_secs(1);
/// While requests were audited within this time, the indexer is under load: it rests
/// `RESTING` times as long as each of its batches took, so that it takes about a fifth of
/// the writer and of a processor, and requests keep the rest.
const QUIET: Duration = Duration::from_millis(100);
const RESTING: u32 = 4;
/// Backlog beyond which the indexer writes without resting.
pub const SOFT_LIMIT: i64 = 40_000;
/// Backlog beyond which new AuditEvents get their search rows at once, as other resources
/// do: the backlog, and the time a catch-up may take, stay bounded.
const HARD_LIMIT: i64 = 120_000;

/// What the writers of deferred rows share: one of them writes at a time, the indexer is
/// woken when there is work, and how much is waiting (as this process counted it).
#[derive(Debug, Default)]
pub struct DeferredIndex {
    turn: Mutex<()>,
    signal: Mutex<Signal>,
    changed: Condvar,
    /// Resources this process added to the backlog and that are not known written.
    waiting: AtomicI64,
}

#[derive(Debug, Default)]
struct Signal {
    woken: bool,
    stopped: bool,
    /// When resources were last added.
    last_added: Option<Instant>,
}

impl DeferredIndex {
    /// Tells the indexer that about `count` resources joined the backlog.
    pub fn added(&self, count: usize) {
        self.waiting
            .fetch_add(i64::try_from(count).unwrap_or(i64::MAX), Ordering::Relaxed);
        let mut signal = self.signal();
        signal.woken = true;
        signal.last_added = Some(Instant::now());
        drop(signal);
        self.changed.notify_all();
    }

    /// Whether new AuditEvents may leave their search rows to the backlog: not when it
    /// holds more than `HARD_LIMIT` resources.
    pub fn search_rows(&self) -> SearchRows {
        if self.waiting.load(Ordering::Relaxed) > HARD_LIMIT {
            SearchRows::Now
        } else {
            SearchRows::Deferred
        }
    }

    fn written(&self, count: usize) {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        // Never below zero: what an earlier process left is not counted.
        let _ = self
            .waiting
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some((w - count).max(0))
            });
    }

    /// How long the indexer rests after a batch that took `took`: `RESTING` times as long
    /// under load and below `SOFT_LIMIT`, else not at all.
    fn rest_after(&self, took: Duration) -> Option<Duration> {
        if self.waiting.load(Ordering::Relaxed) >= SOFT_LIMIT {
            return None;
        }
        let last = self.signal().last_added?;
        (last.elapsed() < QUIET).then(|| took * RESTING)
    }

    fn signal(&self) -> MutexGuard<'_, Signal> {
        self.signal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn turn(&self) -> MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until woken, stopped, or `POLL` has passed; whether to go on.
    fn wait(&self) -> bool {
        let mut signal = self.signal();
        if !signal.woken && !signal.stopped {
            signal = self
                .changed
                .wait_timeout(signal, POLL)
                .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
        }
        signal.woken = false;
        !signal.stopped
    }

    fn stopped(&self) -> bool {
        self.signal().stopped
    }

    fn stop(&self) {
        self.signal().stopped = true;
        self.changed.notify_all();
    }
}

/// Writes the deferred search rows before `query` runs, if it may read some: only those of
/// the resources in the compartments of the patients the search is bound to, when it is
/// (a compartment search of `compartment`, or `AuditEvent?patient=…`: a patient reading
/// their trail does not wait for everyone's), else all of them.
pub fn catch_up_for(
    services: &Services,
    query: &SearchQuery,
    compartment: Option<&[String]>,
) -> Result<(), InteractionError> {
    if !reads_deferred_rows(query) {
        return Ok(());
    }
    match bounding_compartments(services, query, compartment) {
        Some(patients) => catch_up_within(services, &patients).map(drop),
        None => catch_up(services).map(drop),
    }
}

/// The patients in whose compartments lies every deferrable resource `query` may read the
/// rows of, when known: for each deferrable type it reads, it reads only the rows of its
/// own matches, and those are in the compartment of the compartment search's patient (its
/// SQL keeps to it), or in those the query names (`SearchQuery::compartments_bounding`).
fn bounding_compartments(
    services: &Services,
    query: &SearchQuery,
    compartment: Option<&[String]>,
) -> Option<Vec<String>> {
    let mut bound = Vec::new();
    for res_type in DEFERRABLE_TYPES
        .iter()
        .filter(|t| query.may_read_index_of(t))
    {
        match compartment {
            Some(_) if query.reads_index_of_others(res_type) => return None,
            Some(patients) => bound.extend_from_slice(patients),
            None => {
                let params = services.registry.patient_compartment_params(res_type);
                bound.extend(query.compartments_bounding(res_type, params)?);
            }
        }
    }
    Some(bound)
}

/// Whether `query` may read the search rows of a deferrable type.
fn reads_deferred_rows(query: &SearchQuery) -> bool {
    DEFERRABLE_TYPES.iter().any(|t| query.may_read_index_of(t))
}

/// Writes every deferred search row stored before this call; returns how many resources'.
pub fn catch_up(services: &Services) -> Result<usize, InteractionError> {
    drain(services, None)
}

/// Writes the deferred search rows, stored before this call, of the resources in the
/// compartment of one of `patients`; returns how many resources'.
pub fn catch_up_within(
    services: &Services,
    patients: &[String],
) -> Result<usize, InteractionError> {
    drain(services, Some(patients))
}

/// A batch of the backlog read by `drain`, with its values extracted.
type Extracted = Result<(Vec<CurrentRow>, Vec<Vec<IndexEntry>>), InteractionError>;

/// Writes the backlog (of the compartments of `patients` when given) batch by batch, in id
/// order, until a read finds fewer than a batch (all of a compartment's at once, written
/// in batches). A thread reads and extracts the next batch while this one writes the last:
/// extraction is about half a batch's work, and the writer is shared with the requests.
fn drain(services: &Services, patients: Option<&[String]>) -> Result<usize, InteractionError> {
    let _turn = services.deferred_index.turn();
    let (batches, received) = std::sync::mpsc::sync_channel::<Extracted>(1);
    thread::scope(|scope| {
        scope.spawn(move || {
            for res_type in DEFERRABLE_TYPES {
                let mut after: Option<String> = None;
                loop {
                    let read = services.store.read(|conn| match patients {
                        Some(patients) => index_backlog::pending_in(conn, res_type, patients),
                        None => index_backlog::pending_after(
                            conn,
                            res_type,
                            after.as_deref(),
                            CATCH_UP_BATCH,
                        ),
                    });
                    let mut rows = match read {
                        Ok(rows) => rows,
                        Err(error) => {
                            let _ = batches.send(Err(error.into()));
                            return;
                        }
                    };
                    let complete = patients.is_some() || rows.len() < CATCH_UP_BATCH as usize;
                    after = rows.last().map(|row| row.res_id.clone());
                    while !rows.is_empty() {
                        let rest = rows.split_off(rows.len().min(CATCH_UP_BATCH as usize));
                        let batch = std::mem::replace(&mut rows, rest);
                        let extracted = values_of(services, &batch)
                            .map(|values| (batch, values))
                            .map_err(InteractionError::from);
                        let failed = extracted.is_err();
                        // The writer stopped (it failed), or this did: the reader stops.
                        if batches.send(extracted).is_err() || failed {
                            return;
                        }
                    }
                    if complete {
                        break;
                    }
                }
            }
        });
        let mut written = 0;
        for batch in received {
            let (rows, values) = batch?;
            written += write_extracted(services, &rows, &values)?;
        }
        Ok(written)
    })
}

/// `catch_up_for` inside the caller's write transaction (a conditional write, whose search
/// runs there): the rows are written in that transaction.
pub fn catch_up_in(
    conn: &mut Conn<'_>,
    services: &Services,
    query: &SearchQuery,
) -> Result<(), InteractionError> {
    if !reads_deferred_rows(query) {
        return Ok(());
    }
    loop {
        let pending = index_backlog::pending(conn, CATCH_UP_BATCH)?;
        if pending.is_empty() {
            return Ok(());
        }
        let values = values_of(services, &pending)?;
        index::write_deferred(conn, &deferred_values(&pending, &values))?;
    }
}

/// Writes the search rows of `pending` in one transaction (their values extracted before
/// it); returns how many resources'.
fn write_rows(services: &Services, pending: &[CurrentRow]) -> Result<usize, InteractionError> {
    if pending.is_empty() {
        return Ok(0);
    }
    let values = values_of(services, pending)?;
    write_extracted(services, pending, &values)
}

/// Writes the search rows of `rows`, whose `values` are extracted, in one transaction;
/// returns how many resources'.
fn write_extracted(
    services: &Services,
    rows: &[CurrentRow],
    values: &[Vec<IndexEntry>],
) -> Result<usize, InteractionError> {
    let resources = deferred_values(rows, values);
    services
        .store
        .write(|conn| index::write_deferred(conn, &resources))?;
    services.deferred_index.written(rows.len());
    Ok(rows.len())
}

/// `rows` with their `values`, as `index::write_deferred` takes them.
fn deferred_values<'a>(
    rows: &'a [CurrentRow],
    values: &'a [Vec<IndexEntry>],
) -> Vec<DeferredValues<'a>> {
    rows.iter()
        .zip(values)
        .map(|(row, entries)| DeferredValues {
            res_type: &row.res_type,
            res_id: &row.res_id,
            entries,
        })
        .collect()
}

/// The search values of each of `rows`, extracted from its current version.
fn values_of(
    services: &Services,
    rows: &[CurrentRow],
) -> Result<Vec<Vec<IndexEntry>>, StorageError> {
    rows.iter()
        .map(|row| {
            let text = row.content.as_deref().unwrap_or("{}");
            let value: Value = serde_json::from_str(text).map_err(|e| {
                StorageError::Corrupt(format!("{}/{}: {e}", row.res_type, row.res_id))
            })?;
            let mut entries = extract(&services.registry, &row.res_type, &value);
            retain_indexed(&services.registry, &row.res_type, &mut entries);
            Ok(entries)
        })
        .collect()
}

/// The thread writing deferred search rows in the background, in small transactions, when
/// woken and every `POLL`; it stops when this handle is dropped.
#[derive(Debug)]
pub struct DeferredIndexer {
    index: Arc<DeferredIndex>,
}

impl DeferredIndexer {
    pub fn start(services: Services) -> DeferredIndexer {
        let index = services.deferred_index.clone();
        let spawned = thread::Builder::new()
            .name("carnet-deferred-index".to_owned())
            .spawn(move || run(&services));
        if let Err(error) = spawned {
            log::error!(
                "could not start the deferred indexer (searches of AuditEvents will write their rows): {error}"
            );
        }
        DeferredIndexer { index }
    }
}

impl Drop for DeferredIndexer {
    fn drop(&mut self) {
        self.index.stop();
    }
}

/// The indexer's loop: each time it is woken, drain the backlog batch by batch, resting
/// between batches while requests are being audited (not beyond `SOFT_LIMIT`).
fn run(services: &Services) {
    let index = &services.deferred_index;
    while index.wait() {
        loop {
            if index.stopped() {
                return;
            }
            let started = Instant::now();
            let batch = {
                let _turn = index.turn();
                services
                    .store
                    .read(|conn| index_backlog::pending(conn, INDEXER_BATCH))
                    .map_err(InteractionError::from)
                    .and_then(|pending| write_rows(services, &pending))
            };
            match batch {
                Ok(0) => break,
                Ok(_) => {
                    if let Some(rest) = index.rest_after(started.elapsed()) {
                        thread::sleep(rest);
                    }
                }
                Err(error) => {
                    log::error!("deferred search rows not written (retried later): {error}");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indexer_rests_under_load_until_the_soft_limit() {
        let index = DeferredIndex::default();
        let took = Duration::from_millis(2);
        // Nothing audited yet: no load, no rest.
        assert_eq!(index.rest_after(took), None);
        index.added(20);
        assert_eq!(index.rest_after(took), Some(took * RESTING));
        // Beyond the soft limit it writes without resting.
        index.added(usize::try_from(SOFT_LIMIT).expect("small"));
        assert_eq!(index.rest_after(took), None);
        index.written(usize::try_from(SOFT_LIMIT).expect("small"));
        assert_eq!(index.rest_after(took), Some(took * RESTING));
    }

    #[test]
    fn beyond_the_hard_limit_new_events_are_indexed_at_once() {
        let index = DeferredIndex::default();
        assert_eq!(index.search_rows(), SearchRows::Deferred);
        index.added(usize::try_from(HARD_LIMIT).expect("small") + 1);
        assert_eq!(index.search_rows(), SearchRows::Now);
        // Never counted below zero: what an earlier process left is not known here.
        index.written(usize::try_from(HARD_LIMIT).expect("small") * 3);
        assert_eq!(index.search_rows(), SearchRows::Deferred);
        index.added(usize::try_from(HARD_LIMIT).expect("small"));
        assert_eq!(index.search_rows(), SearchRows::Deferred);
    }
}
