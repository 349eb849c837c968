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
use diesel::connection::{
    AnsiTransactionManager, Connection, SimpleConnection, TransactionManager,
};

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
        // The first writer of a batch works in the transaction itself: there is nothing of
        // anyone else's to keep if it fails (the transaction is rolled back), and SQLite
        // keeps no statement journal for it. Later writers work in savepoints.
        let first = !batch.open;
        if first {
            AnsiTransactionManager::begin_transaction_sql(&mut batch.connection, "BEGIN IMMEDIATE")
                .map_err(StorageError::from)?;
            batch.open = true;
        }
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            if first {
                work(&mut batch.connection).map_err(SavepointError::Caller)
            } else {
                batch
                    .connection
                    .transaction(|c| work(c).map_err(SavepointError::Caller))
            }
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
        if first && outcome.is_err() {
            // Its work is undone with the transaction; the epoch's failure is its own.
            self.finish(&mut batch, false);
            return outcome;
        }
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

    /// Makes the writer checkpoint the log inside the commit that takes it past `pages`
    /// pages (SQLite's `wal_autocheckpoint`; 1,000 by default).
    pub fn checkpoint_every(&self, pages: u32) -> Result<(), StorageError> {
        self.run(|c| {
            c.batch_execute(&format!("PRAGMA wal_autocheckpoint = {pages};"))
                .map_err(StorageError::from)
        })
    }

    /// Tells the writers that one more is coming (an ordered writer waiting for its turn,
    /// `carnet import`): until it arrives, or withdraws, the holder leaves the commit to it,
    /// so that a stream of writers shares commits. Withdraw it once the writer's work is
    /// done (before `run` returns): a writer that still counts itself as coming never
    /// commits.
    pub fn announce(&self) -> Announcement<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        Announcement {
            commit: self,
            live: true,
        }
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

/// A writer announced as coming (`GroupCommit::announce`).
pub struct Announcement<'a> {
    commit: &'a GroupCommit,
    live: bool,
}

impl Announcement<'_> {
    /// The writer has arrived and done its work (call it inside `run`'s work, or after it):
    /// it no longer holds the commit back.
    pub fn withdraw(&mut self) {
        if self.live {
            self.live = false;
            self.commit.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Announcement<'_> {
    /// A writer that never arrived: if writers left their commit to it, commit for them.
    fn drop(&mut self) {
        if !self.live {
            return;
        }
        let Ok(mut batch) = self.commit.lock() else {
            self.withdraw();
            return;
        };
        self.withdraw();
        if batch.open && self.commit.waiting.load(Ordering::SeqCst) == 0 {
            let committed =
                AnsiTransactionManager::commit_transaction(&mut batch.connection).is_ok();
            self.commit.finish(&mut batch, committed);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn writer(dir: &tempfile::TempDir) -> GroupCommit {
        let path = dir.path().join("group.db");
        let mut connection = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        connection
            .batch_execute("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER PRIMARY KEY);")
            .unwrap();
        GroupCommit::new(connection)
    }

    fn insert(value: i64) -> impl FnOnce(&mut SqliteConnection) -> Result<(), StorageError> {
        move |c| {
            diesel::sql_query(format!("INSERT INTO t (v) VALUES ({value})"))
                .execute(c)
                .map(|_| ())
                .map_err(StorageError::from)
        }
    }

    fn values(commit: &GroupCommit) -> i64 {
        commit
            .run(|c| {
                diesel::sql_query("SELECT COUNT(*) AS n FROM t")
                    .get_result::<Count>(c)
                    .map(|row| row.n)
                    .map_err(StorageError::from)
            })
            .unwrap()
    }

    #[test]
    fn a_failed_writer_leaves_nothing_and_the_next_batch_works() {
        let dir = tempfile::tempdir().unwrap();
        let commit = writer(&dir);
        commit.run(insert(1)).unwrap();
        // Writes a row, then fails: the row must not stay.
        let failed = commit.run(|c| {
            insert(2)(c)?;
            insert(1)(c)
        });
        assert!(failed.is_err());
        commit.run(insert(3)).unwrap();
        assert_eq!(values(&commit), 2);
    }

    #[test]
    fn an_announced_writer_shares_the_commit_and_one_that_never_comes_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let commit = Arc::new(writer(&dir));
        let mut coming = commit.announce();
        let first = {
            let commit = commit.clone();
            // Leaves its commit to the writer announced, so it waits for it.
            std::thread::spawn(move || commit.run(insert(1)))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !first.is_finished(),
            "the first writer waits for the announced one"
        );
        commit
            .run(|c| {
                insert(2)(c)?;
                coming.withdraw();
                Ok::<_, StorageError>(())
            })
            .unwrap();
        first.join().unwrap().unwrap();
        assert_eq!(values(&commit), 2);
        // Announced, then gone without writing: the waiting writer is committed anyway.
        let gone = commit.announce();
        let waiting = {
            let commit = commit.clone();
            std::thread::spawn(move || commit.run(insert(3)))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(gone);
        waiting.join().unwrap().unwrap();
        assert_eq!(values(&commit), 3);
    }

    #[test]
    fn concurrent_writers_keep_their_own_work_when_others_fail() {
        let dir = tempfile::tempdir().unwrap();
        let commit = Arc::new(writer(&dir));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let commit = commit.clone();
                std::thread::spawn(move || {
                    let mut kept = 0;
                    for i in 0..50 {
                        let value = t * 1000 + i;
                        // Every fifth writer fails after its insert.
                        let outcome = commit.run(|c| {
                            insert(value)(c)?;
                            if i % 5 == 0 {
                                return Err(StorageError::Busy);
                            }
                            Ok(())
                        });
                        if outcome.is_ok() {
                            kept += 1;
                        }
                    }
                    kept
                })
            })
            .collect();
        let kept: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(kept, 8 * 40);
        assert_eq!(values(&commit), kept);
    }
}
