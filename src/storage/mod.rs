//! Storage: the only user of diesel. Resource versions, the current-version table, index
//! rows and history on SQLite or PostgreSQL, chosen by URL. Knows nothing of consent, users
//! or HTTP; callers pass neutral filters.

pub mod accounts;
#[cfg(feature = "postgres")]
mod combined;
mod composite_rows;
mod conn;
mod error;
pub mod first_access;
#[cfg(feature = "sqlite")]
mod group_commit;
pub mod history;
pub mod index;
pub mod index_backlog;
mod index_row;
pub mod outbox;
#[cfg(feature = "postgres")]
mod pg_rows;
mod pool;
mod prepared;
pub mod record_lock;
pub mod record_stamp;
mod schema;
pub mod search;
#[cfg(feature = "sqlite")]
mod sqlite_insert;
pub mod stored_facts;
mod text_position_rows;
pub mod versions;

pub use conn::{AnnouncedWriter, Conn, Store};
pub use error::StorageError;
pub use pool::{Backend, BackendKind};
