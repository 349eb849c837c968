//! Group commit for SQLite: writers share one open transaction on a dedicated connection,
//! each inside its own savepoint, and the last writer of a burst commits for all of them,
//! so that one fsync makes a whole batch durable. No writer returns before the commit that
//! holds its work (or learns that the commit failed). SQLite serialises writers anyway; this
//! turns N fsyncs into one.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use diesel::SqliteConnection;
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

use super::error::StorageError;

/// Most writers in one commit.
const MAX_BATCH: usize = 128;
/// How many failed commits are remembered for late waiters.
const FAILURE_MEMORY: usize = 64;

struct Batch {
    connection: SqliteConnection,
    /// A transaction is open and holds the work of `members` writers.
    open: bool,
    members: usize,
    /// Increases at each commit; writers wait for the end of their epoch.
    epoch: u64,
    /// Recent epochs whose commit failed.
    failed: VecDeque<u64>,
}

/// The single SQLite writer connection and its batching state.
pub struct GroupCommit {
    batch: Mutex<Batch>,
    committed: Condvar,
    /// Writers waiting for the lock: while there are some, the holder leaves the commit to them.
    waiting: AtomicUsize,
}

/// Errors inside a writer's savepoint.
enum SavepointError<E> {
    Database(diesel::result::Error),
    Caller(E),
}

impl<E> From<diesel::result::Error> for SavepointError<E> {
    fn from(error: diesel::result::Error) -> Self {
        SavepointError::Database(error)
    }
}

impl GroupCommit {
    pub fn new(connection: SqliteConnection) -> GroupCommit {
        GroupCommit {
            batch: Mutex::new(Batch {
                connection,
                open: false,
                members: 0,
                epoch: 0,
                failed: VecDeque::new(),
            }),
            committed: Condvar::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Batch>, StorageError> {
        self.batch.lock().map_err(|_| {
            log::error!("the SQLite writer was poisoned by a panic");
            StorageError::Busy
        })
    }

    /// Runs `work` in the shared transaction and returns once its commit is durable.
    pub fn run<T, E: From<StorageError>>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let locked = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let mut batch = locked?;
        if !batch.open {
            AnsiTransactionManager::begin_transaction_sql(&mut batch.connection, "BEGIN IMMEDIATE")
                .map_err(StorageError::from)?;
            batch.open = true;
        }
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            batch
                .connection
                .transaction(|c| work(c).map_err(SavepointError::Caller))
        }));
        let outcome = match attempt {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(SavepointError::Caller(e))) => Err(e),
            Ok(Err(SavepointError::Database(e))) => Err(E::from(StorageError::from(e))),
            Err(_) => {
                // A panic left the savepoint open: the whole batch is abandoned.
                log::error!("a writer panicked inside the shared SQLite transaction");
                self.finish(&mut batch, false);
                return Err(E::from(StorageError::Busy));
            }
        };
        batch.members += 1;
        let my_epoch = batch.epoch;
        if self.waiting.load(Ordering::SeqCst) == 0 || batch.members >= MAX_BATCH {
            let committed =
                AnsiTransactionManager::commit_transaction(&mut batch.connection).is_ok();
            self.finish(&mut batch, committed);
            return if committed {
                outcome
            } else {
                Err(E::from(StorageError::Busy))
            };
        }
        while batch.epoch == my_epoch {
            batch = match self.committed.wait(batch) {
                Ok(guard) => guard,
                Err(_) => return Err(E::from(StorageError::Busy)),
            };
        }
        if batch.failed.contains(&my_epoch) {
            return Err(E::from(StorageError::Busy));
        }
        outcome
    }

    /// Ends the current epoch (rolling back when it did not commit) and wakes its writers.
    fn finish(&self, batch: &mut Batch, committed: bool) {
        if !committed {
            if let Err(e) = AnsiTransactionManager::rollback_transaction(&mut batch.connection) {
                log::error!("rollback of a failed SQLite batch failed: {e}");
            }
            batch.failed.push_back(batch.epoch);
            if batch.failed.len() > FAILURE_MEMORY {
                batch.failed.pop_front();
            }
        }
        batch.open = false;
        batch.members = 0;
        batch.epoch += 1;
        self.committed.notify_all();
    }
}
