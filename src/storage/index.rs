//! Index rows of the current version of a resource: the search values extracted from it
//! (one table per parameter type, plus the words of `_text`/`_content` and the point of
//! `near`), its patient compartment and its security labels. They
//! are replaced in the transaction that writes the version, and cleared on deletion, so
//! search (and the consent filter) are joins on what is current.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;

#[cfg(feature = "postgres")]
use super::combined::Combined;
use super::composite_rows::{CompositeRow, composite_rows};
use super::conn::{Conn, Link, on_conn};
use super::error::StorageError;
use super::index_backlog::{self, BacklogRow};
use super::schema::{
    index_backlog as index_backlog_table, resource_compartment, resource_fact, resource_label,
    search_composite, search_date, search_number, search_position, search_quantity,
    search_reference, search_string, search_text, search_token, search_token_text,
    search_token_type, search_uri,
};
use super::text_position_rows::{PositionRow, TextRow, position_rows, text_rows};
use crate::search::extract::{IndexEntry, normalize};

/// Rows per INSERT statement of the backlog (PostgreSQL).
#[cfg(feature = "postgres")]
const CHUNK: usize = 500;

/// Everything indexed for one resource version.
#[derive(Debug, Clone, Copy)]
pub struct IndexRows<'a> {
    pub entries: &'a [IndexEntry],
    /// Ids of the patients whose compartment holds the resource.
    pub patients: &'a [String],
    /// `(system, code)` security labels.
    pub labels: &'a [(String, String)],
    /// The time of this version (ms): when a label it newly carries was set. A label the
    /// resource carried already keeps the time it was set.
    pub version_time: i64,
    /// Facts the caller's access rules read, as `(kind, system, code, at)` rows of
    /// `resource_fact`.
    pub facts: &'a [(String, String, String, i64)],
}

struct StringRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    normalized: &'a str,
    exact: &'a str,
}

struct TokenRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    system: &'a str,
    code: &'a str,
}

struct TokenTextRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    normalized: String,
}

struct TokenTypeRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    type_system: &'a str,
    type_code: &'a str,
    value: &'a str,
}

struct ReferenceRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    target_type: &'a str,
    target_id: &'a str,
    version: &'a str,
    url: &'a str,
    identifier_system: &'a str,
    identifier_value: &'a str,
}

struct DateRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    low: i64,
    high: i64,
}

struct NumberRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    value: &'a str,
    low: f64,
    high: f64,
}

struct QuantityRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    value: &'a str,
    low: f64,
    high: f64,
    system: &'a str,
    code: &'a str,
    unit: &'a str,
}

struct UriRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    value: &'a str,
}

struct CompartmentRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    patient_id: &'a str,
}

struct FactRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    kind: &'a str,
    system: &'a str,
    code: &'a str,
    at: i64,
}

struct LabelRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    system: &'a str,
    code: &'a str,
    set_at: i64,
}

mod columns {
    //! The columns of each row struct of this file, for both backends (`index_row`).
    use super::{
        CompartmentRow, DateRow, FactRow, LabelRow, NumberRow, QuantityRow, ReferenceRow,
        StringRow, TokenRow, TokenTextRow, TokenTypeRow, UriRow,
    };
    use crate::storage::index_row::index_row;

    index_row!(StringRow => search_string: res_type: Text, res_id: Text, param: Text,
        normalized: Text, exact: Text);
    index_row!(TokenRow => search_token: res_type: Text, res_id: Text, param: Text,
        system: Text, code: Text);
    index_row!(TokenTextRow => search_token_text: res_type: Text, res_id: Text, param: Text,
        normalized: Text);
    index_row!(TokenTypeRow => search_token_type: res_type: Text, res_id: Text, param: Text,
        type_system: Text, type_code: Text, value: Text);
    index_row!(ReferenceRow => search_reference: res_type: Text, res_id: Text, param: Text,
        target_type: Text, target_id: Text, version: Text, url: Text, identifier_system: Text,
        identifier_value: Text);
    index_row!(DateRow => search_date: res_type: Text, res_id: Text, param: Text, low: BigInt,
        high: BigInt);
    index_row!(NumberRow => search_number: res_type: Text, res_id: Text, param: Text,
        value: Text, low: Double, high: Double);
    index_row!(QuantityRow => search_quantity: res_type: Text, res_id: Text, param: Text,
        value: Text, low: Double, high: Double, system: Text, code: Text, unit: Text);
    index_row!(UriRow => search_uri: res_type: Text, res_id: Text, param: Text, value: Text);
    index_row!(CompartmentRow => resource_compartment: res_type: Text, res_id: Text,
        patient_id: Text);
    index_row!(FactRow => resource_fact: res_type: Text, res_id: Text, kind: Text,
        system: Text, code: Text, at: BigInt);
    index_row!(LabelRow => resource_label: res_type: Text, res_id: Text, system: Text,
        code: Text, set_at: BigInt);
}

/// The rows of every index table for one resource version, ready to insert.
#[derive(Default)]
struct AllRows<'a> {
    search_string: Vec<StringRow<'a>>,
    search_token: Vec<TokenRow<'a>>,
    search_token_text: Vec<TokenTextRow<'a>>,
    search_token_type: Vec<TokenTypeRow<'a>>,
    search_reference: Vec<ReferenceRow<'a>>,
    search_date: Vec<DateRow<'a>>,
    search_number: Vec<NumberRow<'a>>,
    search_quantity: Vec<QuantityRow<'a>>,
    search_uri: Vec<UriRow<'a>>,
    search_composite: Vec<CompositeRow<'a>>,
    search_text: Vec<TextRow<'a>>,
    search_position: Vec<PositionRow<'a>>,
    resource_fact: Vec<FactRow<'a>>,
    resource_compartment: Vec<CompartmentRow<'a>>,
    resource_label: Vec<LabelRow<'a>>,
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

impl<'a> AllRows<'a> {
    /// Adds the rows of one search value.
    fn add(&mut self, res_type: &'a str, res_id: &'a str, entry: &'a IndexEntry) {
        match entry {
            IndexEntry::String {
                param,
                normalized,
                exact,
            } => self.search_string.push(StringRow {
                res_type,
                res_id,
                param,
                normalized,
                exact,
            }),
            IndexEntry::Token {
                param,
                system,
                code,
                text: display,
                of_type,
            } => {
                if !code.is_empty() {
                    self.search_token.push(TokenRow {
                        res_type,
                        res_id,
                        param,
                        system: text(system),
                        code,
                    });
                }
                if let Some(display) = display {
                    self.search_token_text.push(TokenTextRow {
                        res_type,
                        res_id,
                        param,
                        normalized: normalize(display),
                    });
                }
                if let Some((type_system, type_code)) = of_type {
                    self.search_token_type.push(TokenTypeRow {
                        res_type,
                        res_id,
                        param,
                        type_system: text(type_system),
                        type_code,
                        value: code,
                    });
                }
            }
            IndexEntry::Reference {
                param,
                reference_type,
                reference_id,
                version,
                url,
                identifier,
            } => {
                let (identifier_system, identifier_value) = match identifier {
                    Some((system, value)) => (text(system), value.as_str()),
                    None => ("", ""),
                };
                self.search_reference.push(ReferenceRow {
                    res_type,
                    res_id,
                    param,
                    target_type: text(reference_type),
                    target_id: text(reference_id),
                    version: text(version),
                    url: text(url),
                    identifier_system,
                    identifier_value,
                });
            }
            IndexEntry::Date {
                param,
                low_ms,
                high_ms,
            } => self.search_date.push(DateRow {
                res_type,
                res_id,
                param,
                low: *low_ms,
                high: *high_ms,
            }),
            IndexEntry::Number {
                param,
                value,
                low,
                high,
            } => self.search_number.push(NumberRow {
                res_type,
                res_id,
                param,
                value,
                low: *low,
                high: *high,
            }),
            IndexEntry::Quantity {
                param,
                value,
                low,
                high,
                system,
                code,
                unit,
            } => self.search_quantity.push(QuantityRow {
                res_type,
                res_id,
                param,
                value,
                low: *low,
                high: *high,
                system: text(system),
                code: text(code),
                unit: text(unit),
            }),
            IndexEntry::Uri { param, value } => self.search_uri.push(UriRow {
                res_type,
                res_id,
                param,
                value,
            }),
            // Composite values go to `search_composite` (`composite_rows`), words and
            // positions to `search_text` and `search_position` (`text_position_rows`).
            IndexEntry::Composite { .. }
            | IndexEntry::Text { .. }
            | IndexEntry::Position { .. } => {}
        }
    }
}

/// Applies `$each!(table)` to every table of search values (the ones whose writing may be
/// deferred, `SearchRows::Deferred`).
macro_rules! every_search_table {
    ($each:ident) => {
        $each!(search_string);
        $each!(search_token);
        $each!(search_token_text);
        $each!(search_token_type);
        $each!(search_reference);
        $each!(search_date);
        $each!(search_number);
        $each!(search_quantity);
        $each!(search_uri);
        $each!(search_composite);
        $each!(search_text);
        $each!(search_position);
    };
}

/// Applies `$each!(table)` to every table the access rules read (compartment, labels,
/// facts): always written with the version.
macro_rules! every_access_table {
    ($each:ident) => {
        $each!(resource_fact);
        $each!(resource_compartment);
        $each!(resource_label);
    };
}

/// Applies `$each!(table)` to every index table (the lists written once, above).
macro_rules! every_index_table {
    ($each:ident) => {
        every_search_table!($each);
        every_access_table!($each);
    };
}

impl<'a> AllRows<'a> {
    /// Adds the rows of `other` (another resource's) to these.
    fn append(&mut self, mut other: AllRows<'a>) {
        macro_rules! append_rows {
            ($table:ident) => {
                self.$table.append(&mut other.$table)
            };
        }
        every_index_table!(append_rows);
    }

    /// These rows without those of the search tables.
    fn without_search(mut self) -> AllRows<'a> {
        macro_rules! drop_rows {
            ($table:ident) => {
                self.$table.clear()
            };
        }
        every_search_table!(drop_rows);
        self
    }

    /// These rows without those of the access tables.
    fn search_only(mut self) -> AllRows<'a> {
        macro_rules! drop_rows {
            ($table:ident) => {
                self.$table.clear()
            };
        }
        every_access_table!(drop_rows);
        self
    }
}

/// Removes `res_type/res_id` from the backlog of deferred search rows, then deletes its
/// rows from every index table (on PostgreSQL, in one statement).
pub fn clear(conn: &mut Conn<'_>, res_type: &str, res_id: &str) -> Result<(), StorageError> {
    // Out of the backlog first, in a statement of its own: on PostgreSQL a concurrent
    // `write_deferred` that took it first holds its row until it commits, and the rows it
    // wrote are then seen, and deleted, by the statements below; one that comes later finds
    // it gone and writes nothing. (One statement would read the rows as they were when it
    // began.)
    if index_backlog::DEFERRABLE_TYPES.contains(&res_type) {
        index_backlog::take(conn, res_type, &[res_id])?;
    }
    match &mut conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(connection) => {
            let c: &mut diesel::SqliteConnection = connection;
            macro_rules! delete_from {
                ($table:ident) => {{
                    let rows = $table::table
                        .filter($table::res_type.eq(res_type))
                        .filter($table::res_id.eq(res_id));
                    diesel::delete(rows).execute(c)?;
                }};
            }
            every_index_table!(delete_from);
        }
        #[cfg(feature = "postgres")]
        Link::Postgres(connection) => {
            let c: &mut diesel::PgConnection = connection;
            let mut combined = Combined::default();
            macro_rules! delete_from {
                ($table:ident) => {{
                    let rows = $table::table
                        .filter($table::res_type.eq(res_type))
                        .filter($table::res_id.eq(res_id));
                    combined.push(c, diesel::delete(rows), 2)?;
                }};
            }
            every_index_table!(delete_from);
            combined.send(c)?;
        }
    }
    Ok(())
}

/// Makes `rows` the index of `res_type/res_id`; `replacing` clears earlier rows first
/// (false for a resource that never had any).
pub fn replace(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
    index: &IndexRows<'_>,
    replacing: bool,
) -> Result<(), StorageError> {
    let earlier_labels = if replacing {
        let earlier = label_times_of(conn, res_type, res_id)?;
        clear(conn, res_type, res_id)?;
        earlier
    } else {
        Vec::new()
    };
    let all = all_rows(res_type, res_id, index, &earlier_labels);
    insert_all(conn, &all)
}

/// When the search rows of resources created together are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchRows {
    /// With the version, in the same transaction.
    Now,
    /// Later (`write_deferred`): the resources go to the backlog (`index_backlog`). Their
    /// compartment, labels and facts, which the access rules read, are written now.
    Deferred,
}

/// Writes the index of resources created together (none had rows before): on PostgreSQL
/// every table's rows of them all in one round trip, as `replace` does for one resource
/// (an audited search stores one AuditEvent per patient it returned). With
/// `SearchRows::Deferred`, the search rows of those of a deferrable type
/// (`index_backlog::DEFERRABLE_TYPES`) are left to `write_deferred`.
pub fn insert_created(
    conn: &mut Conn<'_>,
    created: &[(&str, &str, &IndexRows<'_>)],
    search_rows: SearchRows,
) -> Result<(), StorageError> {
    let deferred = |res_type: &str| {
        search_rows == SearchRows::Deferred && index_backlog::DEFERRABLE_TYPES.contains(&res_type)
    };
    let mut all = AllRows::default();
    let mut backlog = Vec::new();
    for (res_type, res_id, index) in created {
        let rows = all_rows(res_type, res_id, index, &[]);
        if deferred(res_type) {
            all.append(rows.without_search());
            backlog.push(BacklogRow { res_type, res_id });
        } else {
            all.append(rows);
        }
    }
    insert_backlog(conn, &backlog)?;
    insert_all(conn, &all)
}

/// Adds `rows` to the backlog of deferred search rows.
fn insert_backlog(conn: &mut Conn<'_>, rows: &[BacklogRow<'_>]) -> Result<(), StorageError> {
    if rows.is_empty() {
        return Ok(());
    }
    match &mut conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(connection) => {
            use super::sqlite_insert::SqliteInsert;
            let c: &mut diesel::SqliteConnection = connection;
            for row in rows {
                row.insert(c)?;
            }
        }
        #[cfg(feature = "postgres")]
        Link::Postgres(connection) => {
            let c: &mut diesel::PgConnection = connection;
            for chunk in rows.chunks(CHUNK) {
                diesel::insert_into(index_backlog_table::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The search values of one resource whose rows were deferred, as extracted from its
/// current version.
pub struct DeferredValues<'a> {
    pub res_type: &'a str,
    pub res_id: &'a str,
    pub entries: &'a [IndexEntry],
}

/// Writes the deferred search rows of `resources` and removes them from the backlog, those
/// still there (a resource changed or deleted meanwhile left it, and its rows are those of
/// its change); returns how many were written. One statement per table on PostgreSQL.
pub fn write_deferred(
    conn: &mut Conn<'_>,
    resources: &[DeferredValues<'_>],
) -> Result<usize, StorageError> {
    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for resource in resources {
        by_type
            .entry(resource.res_type)
            .or_default()
            .push(resource.res_id);
    }
    let mut taken: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (res_type, ids) in by_type {
        let ids = index_backlog::take(conn, res_type, &ids)?;
        taken.insert(res_type, ids.into_iter().collect());
    }
    let indexes: Vec<(&DeferredValues<'_>, IndexRows<'_>)> = resources
        .iter()
        .filter(|r| {
            taken
                .get(r.res_type)
                .is_some_and(|ids| ids.contains(r.res_id))
        })
        .map(|r| {
            let index = IndexRows {
                entries: r.entries,
                patients: &[],
                labels: &[],
                version_time: 0,
                facts: &[],
            };
            (r, index)
        })
        .collect();
    let mut all = AllRows::default();
    for (resource, index) in &indexes {
        all.append(all_rows(resource.res_type, resource.res_id, index, &[]).search_only());
    }
    insert_all(conn, &all)?;
    Ok(indexes.len())
}

/// Inserts `all`: one cached statement per row on SQLite, one statement of every table's
/// rows as arrays on PostgreSQL (prepared once).
fn insert_all(conn: &mut Conn<'_>, all: &AllRows<'_>) -> Result<(), StorageError> {
    match &mut conn.link {
        // One prepared statement per table, run once per row: cheap in-process.
        #[cfg(feature = "sqlite")]
        Link::Sqlite(connection) => {
            use super::sqlite_insert::SqliteInsert;
            let c: &mut diesel::SqliteConnection = connection;
            macro_rules! insert_rows {
                ($table:ident) => {{
                    for row in &all.$table {
                        row.insert(c)?;
                    }
                }};
            }
            every_index_table!(insert_rows);
        }
        // Every table's rows bound as arrays, in one statement prepared once (`pg_rows`).
        #[cfg(feature = "postgres")]
        Link::Postgres(connection) => {
            use super::pg_rows::{InsertAll, PgRows};
            let c: &mut diesel::PgConnection = connection;
            let mut tables = Vec::new();
            macro_rules! columns_of {
                ($table:ident) => {
                    tables.push(PgRows::table_columns(&all.$table))
                };
            }
            every_index_table!(columns_of);
            InsertAll(tables).execute(c)?;
        }
    }
    Ok(())
}

/// Keeps each reference row once. A reference without version is dropped when the same
/// parameter also names a version of the same resource (a search AuditEvent names each
/// patient and the version of each Patient it returned): a search for the resource finds
/// the versioned row (only a search naming a version compares versions), and includes,
/// chains and `_has` join on the target, so every search finds what it found before, with
/// half the rows.
fn each_reference_once<'a>(rows: &mut Vec<ReferenceRow<'a>>) {
    let target = |r: &ReferenceRow<'a>| -> (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str) {
        (
            r.param,
            r.target_type,
            r.target_id,
            r.url,
            r.identifier_system,
            r.identifier_value,
        )
    };
    // Within one target, versions in descending order: the unversioned row comes last.
    rows.sort_by(|a, b| target(a).cmp(&target(b)).then(b.version.cmp(a.version)));
    rows.dedup_by(|later, kept| {
        target(later) == target(kept) && (later.version == kept.version || later.version.is_empty())
    });
}

/// The index rows of `index` for `res_type/res_id`; a label already carried keeps the time
/// it was set (`earlier_labels`).
fn all_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    index: &'a IndexRows<'_>,
    earlier_labels: &[(String, String, i64)],
) -> AllRows<'a> {
    let mut rows = AllRows::default();
    for entry in index.entries {
        rows.add(res_type, res_id, entry);
    }
    rows.search_token
        .sort_by(|a, b| (a.param, a.system, a.code).cmp(&(b.param, b.system, b.code)));
    rows.search_token
        .dedup_by(|a, b| (a.param, a.system, a.code) == (b.param, b.system, b.code));
    // A CodeableConcept's text and its codings' displays are often the same words.
    rows.search_token_text
        .sort_by(|a, b| (a.param, &a.normalized).cmp(&(b.param, &b.normalized)));
    rows.search_token_text
        .dedup_by(|a, b| (a.param, &a.normalized) == (b.param, &b.normalized));
    each_reference_once(&mut rows.search_reference);
    let mut patients: Vec<&String> = index.patients.iter().collect();
    patients.sort();
    patients.dedup();
    let mut labels: Vec<&(String, String)> = index.labels.iter().collect();
    labels.sort();
    labels.dedup();
    let mut facts: Vec<&(String, String, String, i64)> = index.facts.iter().collect();
    facts.sort();
    facts.dedup();
    AllRows {
        search_composite: composite_rows(res_type, res_id, index.entries),
        search_text: text_rows(res_type, res_id, index.entries),
        search_position: position_rows(res_type, res_id, index.entries),
        resource_fact: facts
            .into_iter()
            .map(|(kind, system, code, at)| FactRow {
                res_type,
                res_id,
                kind,
                system,
                code,
                at: *at,
            })
            .collect(),
        resource_compartment: patients
            .into_iter()
            .map(|patient_id| CompartmentRow {
                res_type,
                res_id,
                patient_id,
            })
            .collect(),
        resource_label: labels
            .into_iter()
            .map(|(system, code)| LabelRow {
                res_type,
                res_id,
                system,
                code,
                set_at: earlier_labels
                    .iter()
                    .find(|(s, c, _)| s == system && c == code)
                    .map_or(index.version_time, |(_, _, set_at)| *set_at),
            })
            .collect(),
        ..rows
    }
}

/// The patients whose compartment holds `res_type/res_id` (sorted).
pub fn compartment_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<Vec<String>, StorageError> {
    let query = resource_compartment::table
        .filter(resource_compartment::res_type.eq(res_type))
        .filter(resource_compartment::res_id.eq(res_id))
        .select(resource_compartment::patient_id)
        .order(resource_compartment::patient_id);
    Ok(on_conn!(conn, c => query.load::<String>(c))?)
}

/// The `(system, code)` security labels of `res_type/res_id` (sorted).
pub fn labels_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<Vec<(String, String)>, StorageError> {
    let query = resource_label::table
        .filter(resource_label::res_type.eq(res_type))
        .filter(resource_label::res_id.eq(res_id))
        .select((resource_label::system, resource_label::code))
        .order((resource_label::system, resource_label::code));
    Ok(on_conn!(conn, c => query.load::<(String, String)>(c))?)
}

/// The `(id, system, code)` labels of each of the resources `ids` of type `res_type`.
pub fn labels_of_each(
    conn: &mut Conn<'_>,
    res_type: &str,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, StorageError> {
    let query = resource_label::table
        .filter(resource_label::res_type.eq(res_type))
        .filter(resource_label::res_id.eq_any(ids))
        .select((
            resource_label::res_id,
            resource_label::system,
            resource_label::code,
        ));
    Ok(on_conn!(conn, c => query.load::<(String, String, String)>(c))?)
}

/// The `(system, code, set_at)` security labels of `res_type/res_id` (sorted), with the
/// time (ms) each was set.
pub fn label_times_of(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<Vec<(String, String, i64)>, StorageError> {
    let query = resource_label::table
        .filter(resource_label::res_type.eq(res_type))
        .filter(resource_label::res_id.eq(res_id))
        .select((
            resource_label::system,
            resource_label::code,
            resource_label::set_at,
        ))
        .order((resource_label::system, resource_label::code));
    Ok(on_conn!(conn, c => query.load::<(String, String, i64)>(c))?)
}

/// The live resources with a `resource_fact` row of `kind` and `code` (sorted).
pub fn fact_owners(
    conn: &mut Conn<'_>,
    kind: &str,
    code: &str,
) -> Result<Vec<(String, String)>, StorageError> {
    let query = resource_fact::table
        .filter(resource_fact::kind.eq(kind))
        .filter(resource_fact::code.eq(code))
        .select((resource_fact::res_type, resource_fact::res_id))
        .order((resource_fact::res_type, resource_fact::res_id))
        .distinct();
    Ok(on_conn!(conn, c => query.load::<(String, String)>(c))?)
}

/// The parameters `res_type/res_id` has search rows of, in any table (sorted).
pub fn indexed_params(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<BTreeSet<String>, StorageError> {
    let mut params = BTreeSet::new();
    macro_rules! params_of {
        ($table:ident) => {{
            let rows = $table::table
                .filter($table::res_type.eq(res_type))
                .filter($table::res_id.eq(res_id))
                .select($table::param);
            params.extend(on_conn!(conn, c => rows.load::<String>(c))?);
        }};
    }
    every_search_table!(params_of);
    Ok(params)
}

/// How many index rows of each kind `res_type/res_id` has: (strings, tokens, references, dates).
pub fn row_counts(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<[i64; 4], StorageError> {
    macro_rules! count {
        ($table:ident) => {{
            let rows = $table::table
                .filter($table::res_type.eq(res_type))
                .filter($table::res_id.eq(res_id))
                .count();
            on_conn!(conn, c => rows.get_result::<i64>(c))?
        }};
    }
    Ok([
        count!(search_string),
        count!(search_token),
        count!(search_reference),
        count!(search_date),
    ])
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
