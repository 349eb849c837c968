//! history: `GET [base]/[type]/[id]/_history`, `[base]/[type]/_history`, `[base]/_history`
//! (FHIR R4 http.html#history) with `_since`, `_at`, `_count` and stable paging: a page
//! cursor is the commit sequence of the last entry served, so new writes never shift pages.

use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::target;
use crate::search::extract::date_range;
use crate::storage::history::{self, HistoryFilter, HistoryScope};
use crate::storage::versions::{self, VersionRow};

/// The page parameter carrying the paging token (history cursors and search tokens alike).
pub const PAGE_PARAMETER: &str = "_page";

/// One page of history, newest first.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub entries: Vec<VersionRow>,
    pub total: i64,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<i64>,
    /// The page size that was applied.
    pub count: usize,
}

/// Whose history: none (system), a type, or a type and an id.
#[derive(Debug, Clone, Copy)]
pub struct HistoryTarget<'a> {
    pub type_name: Option<&'a str>,
    pub id: Option<&'a str>,
}

pub fn history(
    services: &Services,
    _context: &RequestContext,
    target_names: HistoryTarget<'_>,
    parameters: &[(String, String)],
) -> Result<HistoryPage, InteractionError> {
    let res_type = target_names
        .type_name
        .map(|t| target::resource_type(services, t))
        .transpose()?;
    let id = target_names.id.map(target::resource_id).transpose()?;
    let mut since = None;
    let mut at = None;
    let mut count = services.limits.default_page_size;
    let mut cursor = None;
    for (name, value) in parameters {
        match name.as_str() {
            "_since" => since = Some(instant_parameter(name, value)?.0),
            "_at" => at = Some(instant_parameter(name, value)?),
            "_count" => {
                count = value
                    .parse::<usize>()
                    .map_err(|_| bad_parameter(name, value))?
                    .min(services.limits.max_page_size)
            }
            PAGE_PARAMETER => {
                cursor = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| bad_parameter(name, value))?,
                )
            }
            _ => {}
        }
    }
    let scope = match (&res_type, &id) {
        (Some(t), Some(i)) => HistoryScope::Instance(t.as_str(), i.as_str()),
        (Some(t), None) => HistoryScope::Type(t.as_str()),
        _ => HistoryScope::System,
    };
    let filter = HistoryFilter { scope, since, at };
    services.store.read(|conn| {
        if let (Some(t), Some(i)) = (&res_type, &id)
            && versions::current(conn, t.as_str(), i.as_str())?.is_none()
        {
            return Err(InteractionError::NotFound(format!(
                "resource `{t}/{i}` is not known"
            )));
        }
        let total = history::count(conn, &filter)?;
        if count == 0 {
            return Ok(HistoryPage {
                entries: Vec::new(),
                total,
                next_cursor: None,
                count,
            });
        }
        let mut entries = history::page(conn, &filter, cursor, count as i64 + 1)?;
        let next_cursor = if entries.len() > count {
            entries.truncate(count);
            entries.last().map(|row| row.seq)
        } else {
            None
        };
        Ok(HistoryPage {
            entries,
            total,
            next_cursor,
            count,
        })
    })
}

fn instant_parameter(name: &str, value: &str) -> Result<(i64, i64), InteractionError> {
    date_range(value).ok_or_else(|| bad_parameter(name, value))
}

fn bad_parameter(name: &str, value: &str) -> InteractionError {
    InteractionError::invalid(format!("parameter `{name}` has an invalid value `{value}`"))
}
