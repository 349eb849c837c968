//! Opening the database: the backend is chosen from the URL scheme (never let SQLite treat
//! a `postgres://` URL as a file name), connection pools, per-connection SQLite set-up,
//! and the embedded migrations of each backend.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;

use super::error::StorageError;
#[cfg(feature = "sqlite")]
use super::group_commit::GroupCommit;
#[cfg(feature = "sqlite")]
use diesel::Connection;

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A pool of connections to one of the two backends. SQLite writes go through one
/// dedicated connection with group commit; its pool serves reads.
#[derive(Clone)]
pub enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite {
        pool: Pool<ConnectionManager<SqliteConnection>>,
        writer: Arc<GroupCommit>,
    },
    #[cfg(feature = "postgres")]
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// A connection checked out of the pool.
pub enum PooledConn {
    #[cfg(feature = "sqlite")]
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    #[cfg(feature = "postgres")]
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn of_url(url: &str) -> Result<BackendKind, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(BackendKind::Postgres)
        } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
            Ok(BackendKind::Sqlite)
        } else {
            Err(StorageError::UnsupportedUrl(url.to_owned()))
        }
    }
}

/// Per-connection SQLite settings: WAL for concurrent readers, a busy timeout instead of
/// immediate lock errors, durable commits (`synchronous = FULL`), foreign keys.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Copy)]
struct SqliteSetup;

#[cfg(feature = "sqlite")]
impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        configure_sqlite(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

#[cfg(feature = "sqlite")]
fn configure_sqlite(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        // The busy timeout first: on a new file, the pool's connections race to switch it to
        // WAL, which needs a moment of exclusive access.
        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;",
    )
}

impl Backend {
    /// Opens a pool for `url` (`sqlite://path/to/file.db` or `postgres://…`), creating the
    /// SQLite file's directory when needed.
    pub fn open(url: &str, pool_size: u32) -> Result<Backend, StorageError> {
        match BackendKind::of_url(url)? {
            BackendKind::Sqlite => open_sqlite(url, pool_size),
            BackendKind::Postgres => open_postgres(url, pool_size),
        }
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    pub fn get(&self) -> Result<PooledConn, StorageError> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { pool, .. } => PooledConn::Sqlite(pool.get()?),
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => PooledConn::Postgres(pool.get()?),
        })
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StorageError> {
        let migration_error =
            |e: Box<dyn std::error::Error + Send + Sync>| StorageError::Migration(e.to_string());
        match self.get()? {
            #[cfg(feature = "sqlite")]
            PooledConn::Sqlite(mut conn) => conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|done| done.len())
                .map_err(migration_error),
            #[cfg(feature = "postgres")]
            PooledConn::Postgres(mut conn) => conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|done| done.len())
                .map_err(migration_error),
        }
    }
}

#[cfg(feature = "sqlite")]
fn open_sqlite(url: &str, pool_size: u32) -> Result<Backend, StorageError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StorageError::Connection(format!("cannot create `{}`: {e}", dir.display()))
        })?;
    }
    // The writer first: it switches a new file to WAL (which needs the file to itself)
    // before the pool's connections open it concurrently.
    let mut writer =
        SqliteConnection::establish(path).map_err(|e| StorageError::Connection(e.to_string()))?;
    configure_sqlite(&mut writer)?;
    let pool = Pool::builder()
        .max_size(pool_size.max(2))
        .connection_timeout(Duration::from_secs(30))
        .connection_customizer(Box::new(SqliteSetup))
        .build(ConnectionManager::<SqliteConnection>::new(path))
        .map_err(|e| StorageError::Connection(e.to_string()))?;
    Ok(Backend::Sqlite {
        pool,
        writer: Arc::new(GroupCommit::new(writer)),
    })
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(url: &str, _pool_size: u32) -> Result<Backend, StorageError> {
    Err(StorageError::UnsupportedUrl(url.to_owned()))
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, pool_size: u32) -> Result<Backend, StorageError> {
    let pool = Pool::builder()
        .max_size(pool_size.max(2))
        .connection_timeout(Duration::from_secs(30))
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(|e| StorageError::Connection(e.to_string()))?;
    Ok(Backend::Postgres(pool))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(url: &str, _pool_size: u32) -> Result<Backend, StorageError> {
    Err(StorageError::UnsupportedUrl(url.to_owned()))
}
