//! One code path for both backends: `Conn` borrows a SQLite or PostgreSQL connection, and
//! `on_conn!` runs the same diesel expression on whichever it holds (each arm is compiled
//! for its own backend). `Store` hands out connections, plain or inside a transaction.

#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;
use diesel::connection::Connection;

use std::sync::Arc;

use super::error::StorageError;
use super::pool::{Backend, BackendKind, PooledConn};
use super::prepared::PreparedShapes;

/// A borrowed connection of either backend, with the process's bounded set of search
/// statements it may keep prepared (`prepared`).
pub struct Conn<'a> {
    pub(crate) link: Link<'a>,
    pub(crate) prepared: &'a PreparedShapes,
}

/// The connection itself.
pub enum Link<'a> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(&'a mut PgConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of `$conn`.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match &mut $conn.link {
            #[cfg(feature = "sqlite")]
            $crate::storage::conn::Link::Sqlite(connection) => {
                let $c: &mut diesel::SqliteConnection = &mut **connection;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::storage::conn::Link::Postgres(connection) => {
                let $c: &mut diesel::PgConnection = &mut **connection;
                $body
            }
        }
    };
}
pub(crate) use on_conn;

/// The first of `rows`. Keyed lookups load their row instead of asking diesel for
/// `.first()`, whose `LIMIT` is a bound value: the bundled SQLite reads that value when it
/// compiles the statement, so binding it again expires the cached statement and every run
/// compiled it anew.
pub(crate) fn first_row<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// Pages of SQLite's log between checkpoints while serving (SQLite's default).
#[cfg(feature = "sqlite")]
const SERVING_CHECKPOINT_PAGES: u32 = 1_000;
/// Pages of SQLite's log between checkpoints during a bulk load (`Store::bulk_load`).
#[cfg(feature = "sqlite")]
const BULK_LOAD_CHECKPOINT_PAGES: u32 = 4_000;

/// The database: a pool of one backend, with read and transactional write access.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    prepared: Arc<PreparedShapes>,
}

/// Errors inside a transaction: either the database's or the caller's own.
enum TxError<E> {
    Database(diesel::result::Error),
    Caller(E),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(error: diesel::result::Error) -> Self {
        TxError::Database(error)
    }
}

impl Store {
    pub fn new(backend: Backend) -> Store {
        Store {
            backend,
            prepared: Arc::new(PreparedShapes::default()),
        }
    }

    pub fn open(url: &str, pool_size: u32) -> Result<Store, StorageError> {
        Ok(Store::new(Backend::open(url, pool_size)?))
    }

    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    pub fn migrate(&self) -> Result<usize, StorageError> {
        self.backend.migrate()
    }

    /// Refreshes the planner's statistics after a bulk load (PostgreSQL `ANALYZE`: until
    /// autovacuum gets to it, stale counts can make it drive a search from its least
    /// selective criterion). SQLite plans by rules (see `storage::search`) and needs none.
    pub fn analyze(&self) -> Result<(), StorageError> {
        match self.backend.get()? {
            #[cfg(feature = "sqlite")]
            super::pool::PooledConn::Sqlite(_) => Ok(()),
            #[cfg(feature = "postgres")]
            super::pool::PooledConn::Postgres(mut conn) => {
                diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ANALYZE")?;
                Ok(())
            }
        }
    }

    fn conn<'a>(&'a self, link: Link<'a>) -> Conn<'a> {
        Conn {
            link,
            prepared: &self.prepared,
        }
    }

    /// Runs `work` on a connection outside any explicit transaction (single statements are
    /// atomic; use `write` for anything that changes data).
    pub fn read<T, E: From<StorageError>>(
        &self,
        work: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        match self.backend.get()? {
            #[cfg(feature = "sqlite")]
            PooledConn::Sqlite(mut c) => work(&mut self.conn(Link::Sqlite(&mut c))),
            #[cfg(feature = "postgres")]
            PooledConn::Postgres(mut c) => work(&mut self.conn(Link::Postgres(&mut c))),
        }
    }

    /// Runs `work` in one transaction: committed (durably) if it returns `Ok`, rolled back
    /// otherwise. On SQLite the work runs in a savepoint of a shared write transaction that
    /// one fsync commits for a whole burst of writers (group commit, `group_commit.rs`).
    pub fn write<T, E: From<StorageError>>(
        &self,
        work: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_then(work, || ())
    }

    /// Runs `work`, a bulk load (`carnet import`), with SQLite's writer checkpointing its
    /// log every 4,000 pages (16 MB) instead of SQLite's 1,000: the checkpoint runs inside
    /// the commit that crosses the mark, while the next batch waits, and larger ones
    /// rewrite the hot index pages less often (25,000 resources: 1,270-1,470 -> 1,660
    /// resources/s). Not for serving: a larger checkpoint is a longer stall for whoever
    /// waits on that commit. Nothing changes on PostgreSQL.
    pub fn bulk_load<T>(&self, work: impl FnOnce() -> T) -> T {
        #[cfg(feature = "sqlite")]
        if let Backend::Sqlite { writer, .. } = &self.backend {
            let set = |pages: u32| {
                if let Err(e) = writer.checkpoint_every(pages) {
                    log::warn!("SQLite checkpoint interval not set to {pages} pages: {e}");
                }
            };
            set(BULK_LOAD_CHECKPOINT_PAGES);
            let outcome = work();
            set(SERVING_CHECKPOINT_PAGES);
            return outcome;
        }
        work()
    }

    /// Announces a writer that will call `write_then` soon, in order after others (a file
    /// of `carnet import` ready to write): on SQLite, writers before it leave their commit
    /// to it, so that a stream of ordered writers shares commits (and their fsyncs). The
    /// writer must `withdraw` it in its `visible` hook. Nothing on PostgreSQL.
    pub fn announce_writer(&self) -> AnnouncedWriter<'_> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { writer, .. } => AnnouncedWriter(Some(writer.announce())),
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => AnnouncedWriter(None),
        }
    }

    /// `write`, calling `visible` as soon as what `work` wrote (or failed to write) is what
    /// the next writer will see, so that ordered writers (`carnet import`) can follow one
    /// another closely: on SQLite when `work` ends (the next writer joins the same shared
    /// transaction, possibly the same commit), on PostgreSQL once the transaction has
    /// committed or rolled back. Called on every path, errors included.
    pub fn write_then<T, E: From<StorageError>>(
        &self,
        work: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
        visible: impl FnOnce(),
    ) -> Result<T, E> {
        let outcome: Result<T, TxError<E>> = match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { writer, .. } => {
                let mut visible = Some(visible);
                let outcome = writer.run(|c| {
                    let outcome = work(&mut self.conn(Link::Sqlite(c)));
                    if let Some(visible) = visible.take() {
                        visible();
                    }
                    outcome
                });
                if let Some(visible) = visible.take() {
                    visible();
                }
                return outcome;
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => {
                let outcome = pool.get().map_err(StorageError::from).map(|mut c| {
                    c.transaction(|c| {
                        work(&mut self.conn(Link::Postgres(c))).map_err(TxError::Caller)
                    })
                });
                visible();
                outcome?
            }
        };
        outcome.map_err(|e| match e {
            TxError::Database(db) => E::from(StorageError::from(db)),
            TxError::Caller(caller) => caller,
        })
    }
}

/// A writer announced by `Store::announce_writer`; dropping it withdraws it too.
pub struct AnnouncedWriter<'a>(
    #[cfg(feature = "sqlite")] Option<super::group_commit::Announcement<'a>>,
    #[cfg(not(feature = "sqlite"))] Option<std::marker::PhantomData<&'a ()>>,
);

impl AnnouncedWriter<'_> {
    /// The announced writer has done its work: it no longer holds others' commit back.
    pub fn withdraw(&mut self) {
        #[cfg(feature = "sqlite")]
        if let Some(announcement) = &mut self.0 {
            announcement.withdraw();
        }
    }
}
