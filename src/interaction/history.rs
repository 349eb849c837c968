//! history: `GET [base]/[type]/[id]/_history`, `[base]/[type]/_history`, `[base]/_history`
//! (FHIR R4 http.html#history) with `_since`, `_at`, `_count` and stable paging: a page
//! cursor is the commit sequence of the last entry served, so new writes never shift pages.

use std::collections::HashMap;

use super::access::{self, Gate, TypeGrant};
use super::context::{RequestContext, Services};
use super::error::InteractionError;
use super::target;
use crate::audit::AccessAction;
use crate::auth::Permission;
use crate::consent::Decision;
use crate::search::extract::date_range;
use crate::search::query_string::join_pairs;
use crate::storage::history::{self, HistoryFilter, HistoryScope};
use crate::storage::versions::{self, VersionRow};

/// The page parameter carrying the paging token (history cursors and search tokens alike).
pub const PAGE_PARAMETER: &str = "_page";

/// One page of history, newest first.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub entries: Vec<VersionRow>,
    /// All versions of all pages; absent when the subject's access is restricted in ways
    /// only checked version by version (a count would reveal what they may not see).
    pub total: Option<i64>,
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
    context: &RequestContext,
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
    let access = HistoryAccess::of(
        services,
        context,
        res_type.as_ref().map(|t| t.as_str()),
        id.is_some(),
    )?;
    let filter = HistoryFilter {
        scope,
        since,
        at,
        types: access.types.as_deref(),
    };
    services.store.read(|conn| {
        if let (Some(t), Some(i)) = (&res_type, &id)
            && versions::current(conn, t.as_str(), i.as_str())?.is_none()
        {
            return Err(InteractionError::NotFound(format!(
                "resource `{t}/{i}` is not known"
            )));
        }
        let mut gate = Gate::open(conn, services, context)?;
        let consent_applies = !gate.is_system();
        let total = if access.restricted.is_empty() && !consent_applies {
            Some(history::count(conn, &filter)?)
        } else {
            None
        };
        let query_string = join_pairs(parameters);
        if count == 0 {
            gate.audit(
                AccessAction::Query,
                &Decision::permit(Vec::new()),
                &[],
                Vec::new(),
                Some(query_string),
            );
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
        entries.retain(|row| access.permits(services, row));
        if consent_applies {
            let had_entries = !entries.is_empty();
            entries = access::history::visible_versions(conn, &mut gate, entries)?;
            // The history of one resource the subject may not see is answered like a
            // missing resource.
            if let (Some(t), Some(i), true, true) =
                (&res_type, &id, had_entries, entries.is_empty())
            {
                return Err(access::hidden(t.as_str(), i.as_str()));
            }
        }
        let trail = access::history::trail_of_versions(&gate, &entries);
        gate.audit_query(trail, Some(query_string));
        Ok(HistoryPage {
            entries,
            total,
            next_cursor,
            count,
        })
    })
}

/// What the scopes let the subject see of a history: the types (`None`: all), and the
/// grants of the types whose versions must be checked one by one.
struct HistoryAccess {
    types: Option<Vec<String>>,
    restricted: HashMap<String, TypeGrant>,
}

impl HistoryAccess {
    /// Instance history needs `r` on the type; type and system history need `s` (SMART
    /// v2). A system history covers the types the scopes allow (403 when none).
    fn of(
        services: &Services,
        context: &RequestContext,
        res_type: Option<&str>,
        instance: bool,
    ) -> Result<Self, InteractionError> {
        let permission = if instance {
            Permission::Read
        } else {
            Permission::Search
        };
        let principal = &context.principal;
        let mut restricted = HashMap::new();
        if let Some(t) = res_type {
            let grant = access::require(services, principal, t, permission)?;
            if !grant.is_unrestricted() {
                restricted.insert(t.to_owned(), grant);
            }
            return Ok(Self {
                types: None,
                restricted,
            });
        }
        let mut types = Vec::new();
        let mut all = true;
        for t in services.schema.resource_types() {
            match access::require(services, principal, t, permission) {
                Ok(grant) => {
                    types.push(t.to_owned());
                    if !grant.is_unrestricted() {
                        restricted.insert(t.to_owned(), grant);
                    }
                }
                Err(_) => all = false,
            }
        }
        if types.is_empty() {
            return Err(InteractionError::Forbidden(
                "the access token's scopes do not allow the history of any resource type"
                    .to_owned(),
            ));
        }
        Ok(Self {
            types: (!all).then_some(types),
            restricted,
        })
    }

    /// Whether a version may be shown: a deletion (no content) only without restriction.
    fn permits(&self, services: &Services, row: &VersionRow) -> bool {
        match self.restricted.get(&row.res_type) {
            None => true,
            Some(grant) => row
                .content
                .as_deref()
                .is_some_and(|json| grant.permits_json(services, &row.res_id, json)),
        }
    }
}

fn instant_parameter(name: &str, value: &str) -> Result<(i64, i64), InteractionError> {
    date_range(value).ok_or_else(|| bad_parameter(name, value))
}

fn bad_parameter(name: &str, value: &str) -> InteractionError {
    InteractionError::invalid(format!("parameter `{name}` has an invalid value `{value}`"))
}
