//! Search in SQL: a typed `SearchQuery` becomes one `SELECT` over `current_resources` with
//! a predicate per criterion, its count, its sort and its page; `_include`/`_revinclude`
//! follow `search_reference` from the page. The ValueSets and hierarchies of `:in`,
//! `:not-in`, `:above` and `:below` are resolved first, once, into code lists. Knows nothing of consent: the caller narrows
//! the query before it comes here.

mod access;
mod composite;
mod include;
mod keyset;
mod predicate;
mod special;
pub(crate) mod sql;
mod terminology;

pub use access::{
    AccessAlternative, AccessFilter, Condition, FactMatch, RecordCondition, RecordsFilter,
};
pub use include::included;
pub use keyset::{Cursor, SortValue};
pub use sql::FoundRow;

use keyset::{SortColumn, SortKind};
pub(crate) use predicate::Dialect;
use predicate::{Aliases, criterion};
use sql::{Sql, load_count, load_found};

use super::conn::{Conn, Link};
use super::error::StorageError;
use super::index_backlog;
use crate::search::query::{Column, Criterion, Include, Match, SearchQuery, SortKey};
use crate::search::registry::SearchParamType;

/// Where a page starts. Pages after the first start strictly after (or end strictly
/// before) the boundary row of the page next to them, on the full sort order (`keyset`):
/// resources created, changed or deleted between two pages never make another match
/// repeat or vanish. An offset serves first pages (and internal lookups).
#[derive(Debug, Clone, PartialEq)]
pub enum PagePosition {
    Offset(i64),
    /// The page after this row.
    After(Cursor),
    /// The page before this row.
    Before(Cursor),
}

/// Which page to load.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub position: PagePosition,
    /// Page size; 0 loads no rows (a count only).
    pub count: i64,
    pub with_total: bool,
    /// When the search's first page was read, on its later pages: AuditEvents written
    /// since then are not matches. An AuditEvent is never changed, so this reads them as
    /// they were when the search began; without it, paging through a record that holds
    /// the requester's own trail would find, after each page, the event of that page.
    pub first_read: Option<i64>,
}

/// One page of matches.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub rows: Vec<FoundRow>,
    /// All matches, when asked for.
    pub total: Option<i64>,
    /// Whether there are more matches beyond this page in the direction it was read
    /// (after it, or before it for `PagePosition::Before`).
    pub has_more: bool,
    /// The boundaries of the page, for the links to its neighbours.
    pub first: Option<Cursor>,
    pub last: Option<Cursor>,
}

/// The `resource_fact` kind of a resource's care date (the clinical date its consent
/// decisions read), which `start`/`end` of `$everything` test.
pub const CARE_DATE_KIND: &str = "date";

const SELECT: &str =
    "SELECT r.res_type, r.res_id, r.version_id, r.last_updated, r.content FROM current_resources r";

/// The resource type of the audit trail.
const AUDIT_EVENT: &str = "AuditEvent";

/// The `WHERE` of a query, and the cheaper count it allows.
struct Filter {
    /// Live resources of the types searched, matching every criterion (and the access
    /// filter).
    sql: Sql,
    /// When the query is one criterion that drives the search, of the types searched, and
    /// nothing else restricts it (no access filter): the key query of that criterion. Index
    /// rows exist for live current versions only (a deletion clears them), so its distinct
    /// keys are the matches, and counting them reads the lookup index alone instead of a
    /// resource row per match.
    keys_alone: Option<Sql>,
}

impl Filter {
    /// Leaves out the AuditEvents written at or after `first_read` (`PageRequest`).
    fn without_audit_since(mut self, first_read: i64) -> Filter {
        self.sql
            .push(" AND NOT (r.res_type = ")
            .text(AUDIT_EVENT)
            .push(" AND r.last_updated >= ")
            .int(first_read)
            .push(")");
        // The rows the count reads must be the resources, whose time is known.
        self.keys_alone = None;
        self
    }

    /// `SELECT COUNT(*) AS n …` of the matches.
    fn count(&self) -> Sql {
        match &self.keys_alone {
            Some(keys) => {
                let mut count = Sql::new(
                    "SELECT COUNT(*) AS n FROM (SELECT DISTINCT k.res_type, k.res_id FROM (",
                );
                count.append(keys.clone()).push(") k) d");
                count
            }
            None => {
                let mut count = Sql::new("SELECT COUNT(*) AS n FROM current_resources r");
                count.append(self.sql.clone());
                count
            }
        }
    }
}

/// The `WHERE` of a query: live resources of the types searched, matching every criterion.
fn where_clause(
    query: &SearchQuery,
    filter: &AccessFilter,
    dialect: Dialect,
    terms: terminology::Terms,
    now_ms: i64,
) -> Result<Filter, StorageError> {
    let mut sql = Sql::new(" WHERE NOT r.is_deleted");
    if let Some(patients) = &filter.patients {
        sql.push(" AND EXISTS (SELECT 1 FROM resource_compartment pc WHERE pc.res_type = r.res_type AND pc.res_id = r.res_id AND pc.patient_id IN (");
        if patients.is_empty() {
            sql.push("NULL");
        }
        sql.texts(patients.iter().cloned());
        sql.push("))");
    }
    let types: Vec<&String> = match &query.resource_type {
        Some(t) => vec![t],
        None => query.types.iter().collect(),
    };
    if !types.is_empty() {
        sql.push(" AND r.res_type IN (");
        sql.texts(types.iter().map(|t| (*t).clone()));
        sql.push(")");
    }
    // A resource whose search rows are deferred is not a match until they are written: no
    // search sees it with part of its values (`storage::index_backlog`).
    let deferrable = types.is_empty()
        || types
            .iter()
            .any(|t| index_backlog::DEFERRABLE_TYPES.contains(&t.as_str()));
    if deferrable {
        sql.push(" AND NOT EXISTS (SELECT 1 FROM index_backlog b WHERE b.res_type = r.res_type AND b.res_id = r.res_id)");
    }
    let mut aliases = Aliases::new(dialect);
    aliases.restrict_links(filter.records.clone());
    aliases.set_terms(terms);
    aliases.set_types(
        "r",
        query
            .resource_type
            .iter()
            .chain(query.types.iter())
            .cloned()
            .collect(),
    );
    // The most selective criterion first: it drives the search (see `Aliases`).
    let mut criteria: Vec<&Criterion> = query.criteria.iter().collect();
    criteria.sort_by_key(|c| selectivity_rank(c));
    // The one criterion of the query, when it is the lookup that drives the search.
    let lone = criteria.len() == 1;
    let mut drives_alone = false;
    for c in criteria {
        let predicate = criterion(c, "r", &mut aliases, now_ms)?;
        drives_alone = lone
            && aliases
                .driver_of("r")
                .is_some_and(|keys| predicate == predicate::driven_by("r", keys));
        sql.push(" AND ").append(predicate);
    }
    let unfiltered =
        filter.patients.is_none() && filter.alternatives.is_none() && filter.records.is_none();
    let of_types_searched =
        !types.is_empty() && aliases.types_of("r").iter().eq(types.iter().copied());
    let keys_alone = if drives_alone && unfiltered && of_types_searched {
        aliases.driver_of("r").cloned()
    } else {
        None
    };
    sql.append(access::scope_and_records_clause(
        filter,
        "r",
        &mut aliases,
        now_ms,
    )?);
    Ok(Filter { sql, keys_alone })
}

/// How few rows a criterion is likely to match, without statistics (lower: fewer): ids
/// and references to one resource, then identifiers and exact values, then strings, then
/// the rest (codes shared by many resources, dates, numbers); negations, chains and
/// reverse chains never drive.
fn selectivity_rank(criterion: &Criterion) -> u8 {
    let Criterion::Param(param) = criterion else {
        return 9;
    };
    match (&param.matcher, param.column) {
        (_, Column::Id) => 0,
        (Match::Reference(_), _) => 1,
        (Match::Token { not: false, .. }, _) if param.code == "identifier" => 2,
        (Match::Uri { .. } | Match::ReferenceIdentifier(_) | Match::OfType(_), _) => 3,
        (Match::String { .. }, _) => 4,
        (
            Match::Token { not: false, .. }
            | Match::TokenText(_)
            | Match::TokenIn { not: false, .. }
            | Match::TokenSubsumption { .. },
            _,
        ) => 5,
        (
            Match::Date(_)
            | Match::Number(_)
            | Match::Quantity(_)
            | Match::Composite(_)
            | Match::Near(_),
            _,
        ) => 6,
        // Text rows have no index on their words: a scan of the type's rows.
        (Match::Text { .. }, _) => 7,
        _ => 8,
    }
}

/// The value a sort key orders by: a column of the resource, or the smallest (largest when
/// descending) indexed value of the parameter.
fn sort_column(key: &SortKey) -> Result<SortColumn, StorageError> {
    let aggregate = if key.descending { "MAX" } else { "MIN" };
    let column = |expression: &str, kind| SortColumn {
        expression: expression.to_owned(),
        descending: key.descending,
        kind,
    };
    let (table, value, kind) = match (key.column, key.param_type) {
        (Column::Id, _) => return Ok(column("r.res_id", SortKind::Text)),
        (Column::LastUpdated, _) => return Ok(column("r.last_updated", SortKind::Int)),
        (_, SearchParamType::String) => ("search_string", "normalized", SortKind::Text),
        (_, SearchParamType::Token) => ("search_token", "code", SortKind::Text),
        (_, SearchParamType::Reference) => ("search_reference", "target_id", SortKind::Text),
        (_, SearchParamType::Date) => (
            "search_date",
            if key.descending { "high" } else { "low" },
            SortKind::Int,
        ),
        (_, SearchParamType::Number) => ("search_number", "low", SortKind::Real),
        (_, SearchParamType::Quantity) => ("search_quantity", "low", SortKind::Real),
        (_, SearchParamType::Uri) => ("search_uri", "value", SortKind::Text),
        _ => {
            return Err(StorageError::Unsupported(format!(
                "sorting by `{}`",
                key.code
            )));
        }
    };
    // The codes come from the registry (never from the request text as such), and only
    // `[A-Za-z0-9_-]` is allowed in them; still refuse anything else rather than splice it.
    let spliceable = |code: &String| {
        code.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if key.index_params.is_empty() || !key.index_params.iter().all(spliceable) {
        return Err(StorageError::Unsupported(format!(
            "sorting by `{}`",
            key.code
        )));
    }
    let params: Vec<String> = key.index_params.iter().map(|p| format!("'{p}'")).collect();
    Ok(column(
        &format!(
            "(SELECT {aggregate}(o.{value}) FROM {table} o WHERE o.res_type = r.res_type AND o.res_id = r.res_id AND o.param IN ({}))",
            params.join(", ")
        ),
        kind,
    ))
}

/// The `_sort` keys of `query` as SQL.
fn sort_columns(query: &SearchQuery) -> Result<Vec<SortColumn>, StorageError> {
    query.result.sort.iter().map(sort_column).collect()
}

pub(crate) fn dialect_of(conn: &Conn<'_>) -> Dialect {
    match &conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(_) => Dialect::Sqlite,
        #[cfg(feature = "postgres")]
        Link::Postgres(_) => Dialect::Postgres,
    }
}

/// Appends ` LIMIT n`. On SQLite the number is written into the statement: its planner
/// reads the value of a bound `LIMIT` (the bundled SQLite 3.53), so that binding one again,
/// even to the same value, expires the statement and every run compiled it anew (a fifth
/// of a search's time). The page sizes are few, and so are the statements prepared. Bound
/// on PostgreSQL, where the page size must not shape a plan kept for every page size.
fn push_limit(sql: &mut Sql, dialect: Dialect, limit: i64) {
    match dialect {
        Dialect::Sqlite => sql.push(&format!(" LIMIT {limit}")),
        Dialect::Postgres => sql.push(" LIMIT ").int(limit),
    };
}

/// Runs `query` and loads the page asked for.
pub fn search(
    conn: &mut Conn<'_>,
    query: &SearchQuery,
    access: &AccessFilter,
    page: PageRequest,
    now_ms: i64,
) -> Result<SearchPage, StorageError> {
    // The terminology of `:in`, `:not-in`, `:above`, `:below`, resolved once for the
    // count and the page.
    let terms = terminology::resolve(conn, &query.criteria)?;
    let dialect = dialect_of(conn);
    let mut filter = where_clause(query, access, dialect, terms, now_ms)?;
    if let Some(first_read) = page.first_read {
        filter = filter.without_audit_since(first_read);
    }
    let count_all = |conn: &mut Conn<'_>| -> Result<Option<i64>, StorageError> {
        if !page.with_total {
            return Ok(None);
        }
        load_count(conn, &filter.count()).map(Some)
    };
    if page.count == 0 {
        let total = count_all(conn)?;
        return Ok(SearchPage {
            rows: Vec::new(),
            total,
            has_more: total.is_some_and(|t| t > 0),
            first: None,
            last: None,
        });
    }
    let keys = sort_columns(query)?;
    let mut select = Sql::new(SELECT);
    select.append(filter.sql.clone());
    let forward = !matches!(page.position, PagePosition::Before(_));
    match &page.position {
        PagePosition::Offset(_) => {}
        PagePosition::After(cursor) | PagePosition::Before(cursor) => {
            if !keyset::fits(&keys, cursor) {
                return Err(StorageError::Unsupported(
                    "a `_page` token from a search with another sort order".to_owned(),
                ));
            }
            select.append(keyset::beyond(&keys, cursor, forward));
        }
    }
    select.push(&keyset::order_by(&keys, forward));
    push_limit(&mut select, dialect, page.count + 1);
    if let PagePosition::Offset(offset) = page.position {
        select.push(" OFFSET ").int(offset);
    }
    let mut rows = load_found(conn, &select)?;
    let has_more = rows.len() as i64 > page.count;
    let total = match (&page.position, has_more) {
        // The last page read from an offset that is not past the end: every match is
        // before it or on it, so they need not be counted again.
        (PagePosition::Offset(offset), false)
            if page.with_total && (*offset == 0 || !rows.is_empty()) =>
        {
            Some(offset + rows.len() as i64)
        }
        _ => count_all(conn)?,
    };
    rows.truncate(page.count as usize);
    if !forward {
        rows.reverse();
    }
    let mut boundary = |row: Option<&FoundRow>| {
        row.map(|row| keyset::cursor_of(conn, &keys, &row.res_type, &row.res_id))
            .transpose()
    };
    let first = boundary(rows.first())?;
    let last = boundary(rows.last())?;
    Ok(SearchPage {
        rows,
        total,
        has_more,
        first,
        last,
    })
}

/// The database's plan for the first page of `query` under `access` (`EXPLAIN QUERY
/// PLAN` on SQLite, `EXPLAIN` on PostgreSQL), one line per step, then the line
/// [`COUNT_PLAN`] and the plan of the search's count (the `total` of a page that does not
/// hold every match).
pub fn explain(
    conn: &mut Conn<'_>,
    query: &SearchQuery,
    access: &AccessFilter,
    count: i64,
    now_ms: i64,
) -> Result<Vec<String>, StorageError> {
    let dialect = dialect_of(conn);
    let keys = sort_columns(query)?;
    let terms = terminology::resolve(conn, &query.criteria)?;
    let filter = where_clause(query, access, dialect, terms, now_ms)?;
    let explain = || {
        Sql::new(match dialect {
            Dialect::Sqlite => "EXPLAIN QUERY PLAN ",
            Dialect::Postgres => "EXPLAIN ",
        })
    };
    let mut select = explain();
    select.push(SELECT).append(filter.sql.clone());
    select.push(&keyset::order_by(&keys, true));
    push_limit(&mut select, dialect, count + 1);
    let mut plan = sql::load_plan(conn, &select)?;
    plan.push(COUNT_PLAN.to_owned());
    let mut total = explain();
    total.append(filter.count());
    plan.extend(sql::load_plan(conn, &total)?);
    Ok(plan)
}

/// The line of [`explain`]'s output between the plan of the page and that of the count.
pub const COUNT_PLAN: &str = "-- count:";
