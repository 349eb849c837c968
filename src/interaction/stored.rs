//! The answer of interactions that return one resource version: its identity, version,
//! time, and the stored JSON text (served as is, never re-serialised from typed models).

use crate::storage::versions::{CurrentRow, VersionRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResource {
    pub res_type: String,
    pub id: String,
    pub version_id: i64,
    /// Milliseconds since the epoch.
    pub last_updated: i64,
    /// The resource JSON, with `id` and `meta` set by the server.
    pub json: String,
}

impl StoredResource {
    /// `Type/id` of the resource.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.res_type, self.id)
    }

    pub(crate) fn from_current(row: CurrentRow) -> Option<StoredResource> {
        Some(StoredResource {
            json: row.content?,
            res_type: row.res_type,
            id: row.res_id,
            version_id: row.version_id,
            last_updated: row.last_updated,
        })
    }

    pub(crate) fn from_version(row: VersionRow) -> Option<StoredResource> {
        Some(StoredResource {
            json: row.content?,
            res_type: row.res_type,
            id: row.res_id,
            version_id: row.version_id,
            last_updated: row.last_updated,
        })
    }
}
