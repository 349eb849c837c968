//! Rebuilding the index rows of every live resource (`carnet reindex`), after a change of
//! the search parameters or of the extraction. Batches of resources are re-indexed in one
//! transaction each; `progress` is told how far it went.

use serde_json::Value;

use super::context::Services;
use super::error::InteractionError;
use super::write::{IndexTarget, index_resource};
use crate::storage::StorageError;
use crate::storage::versions;

/// Resources per transaction.
const BATCH: i64 = 500;

/// Re-indexes every live resource; returns how many. `progress(done, total)` after each batch.
pub fn reindex(services: &Services, progress: &dyn Fn(u64, u64)) -> Result<u64, InteractionError> {
    let total = services.store.read(versions::count_live)?;
    let total = u64::try_from(total).unwrap_or(0);
    let mut done = 0u64;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = services.store.read(|conn| {
            let cursor = after.as_ref().map(|(t, i)| (t.as_str(), i.as_str()));
            versions::live_page(conn, cursor, BATCH)
        })?;
        let Some(last) = page.last() else { break };
        after = Some((last.res_type.clone(), last.res_id.clone()));
        services.store.write(|conn| {
            for row in &page {
                let text = row.content.as_deref().unwrap_or("{}");
                let value: Value = serde_json::from_str(text).map_err(|e| {
                    StorageError::Corrupt(format!("{}/{}: {e}", row.res_type, row.res_id))
                })?;
                let creator = versions::creator(conn, &row.res_type, &row.res_id)?;
                index_resource(
                    conn,
                    services,
                    IndexTarget {
                        res_type: &row.res_type,
                        id: &row.res_id,
                        replacing: true,
                        version_time: row.last_updated,
                        creator: creator.as_deref(),
                    },
                    &value,
                )?;
            }
            Ok::<_, InteractionError>(())
        })?;
        done += page.len() as u64;
        progress(done, total.max(done));
    }
    Ok(done)
}
