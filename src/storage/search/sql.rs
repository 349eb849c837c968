//! A SQL text with its bound values, written once for both backends: placeholders are `?`
//! while building and become the backend's own (`$1…` for PostgreSQL) when run. Values are
//! always bound, never spliced into the text. Search statements run prepared (see
//! `storage::prepared`), an `EXPLAIN` never.

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Double, HasSqlType, Nullable, Text, Untyped};

use super::keyset::{SortKind, SortValue};
use crate::storage::conn::{Conn, Link};
use crate::storage::error::StorageError;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    BigInt(i64),
    Double(f64),
}

/// SQL text and the values of its `?` placeholders, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            binds: Vec::new(),
        }
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to a text.
    pub fn text(&mut self, value: impl Into<String>) -> &mut Sql {
        self.text.push('?');
        self.binds.push(Bind::Text(value.into()));
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Sql {
        self.text.push('?');
        self.binds.push(Bind::BigInt(value));
        self
    }

    pub fn double(&mut self, value: f64) -> &mut Sql {
        self.text.push('?');
        self.binds.push(Bind::Double(value));
        self
    }

    /// Appends `?, ?, …` bound to `values` (the inside of an `IN (…)`).
    /// `{alias}.param` is one of `params` (the parameters whose rows hold a parameter's
    /// values: itself, or the members of a union, `SearchParamDef::index_params`).
    pub fn param_is(&mut self, alias: &str, params: &[String]) -> &mut Sql {
        match params {
            [one] => self.push(&format!("{alias}.param = ")).text(one.clone()),
            _ => self
                .push(&format!("{alias}.param IN ("))
                .texts(params.iter().cloned())
                .push(")"),
        }
    }

    pub fn texts<S: Into<String>>(&mut self, values: impl IntoIterator<Item = S>) -> &mut Sql {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.text(value);
        }
        self
    }

    /// Appends the inside of an `IN (…)` of resource type names, written into the text
    /// when every one is a type name (letters only, as the registry's are; bound
    /// otherwise). PostgreSQL then estimates the rows of those types from its statistics
    /// even in the statement's generic plan, and may keep that plan instead of planning
    /// every run anew. The types searched are few, and so are the statements prepared.
    pub fn type_names(&mut self, types: &[String]) -> &mut Sql {
        let names = !types.is_empty()
            && types
                .iter()
                .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphabetic()));
        if !names {
            return self.texts(types.iter().cloned());
        }
        let quoted: Vec<String> = types.iter().map(|t| format!("'{t}'")).collect();
        self.push(&quoted.join(", "))
    }

    /// Appends another fragment with its binds.
    pub fn append(&mut self, other: Sql) -> &mut Sql {
        self.text.push_str(&other.text);
        self.binds.extend(other.binds);
        self
    }

    /// Joins fragments with `separator` (`" OR "`, `" AND "`) inside parentheses.
    pub fn join(parts: Vec<Sql>, separator: &str) -> Sql {
        let mut joined = Sql::new("(");
        for (index, part) in parts.into_iter().enumerate() {
            if index > 0 {
                joined.push(separator);
            }
            joined.append(part);
        }
        joined.push(")");
        joined
    }
}

/// A row of resources found by a search.
#[derive(Debug, Clone, QueryableByName)]
pub struct FoundRow {
    #[diesel(sql_type = Text)]
    pub res_type: String,
    #[diesel(sql_type = Text)]
    pub res_id: String,
    #[diesel(sql_type = BigInt)]
    pub version_id: i64,
    #[diesel(sql_type = BigInt)]
    pub last_updated: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub content: Option<String>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TextValue {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

#[derive(QueryableByName)]
struct IntValue {
    #[diesel(sql_type = Nullable<BigInt>)]
    v: Option<i64>,
}

#[derive(QueryableByName)]
struct RealValue {
    #[diesel(sql_type = Nullable<Double>)]
    v: Option<f64>,
}

/// `Sql` as a diesel query: its text with the backend's placeholders (`?` or `$n`) and its
/// values bound; kept prepared by the connection when `prepared` (`storage::prepared`).
pub(crate) struct Statement<'a> {
    pub(crate) sql: &'a Sql,
    pub(crate) prepared: bool,
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    // No static id: the driver keys a prepared statement by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for Statement<'_> {}

impl<DB> QueryFragment<DB> for Statement<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Double>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.prepared {
            out.unsafe_to_cache_prepared();
        }
        let mut binds = self.sql.binds.iter();
        for (n, piece) in self.sql.text.split('?').enumerate() {
            if n > 0 {
                match binds.next() {
                    Some(Bind::Text(value)) => out.push_bind_param::<Text, _>(value)?,
                    Some(Bind::BigInt(value)) => out.push_bind_param::<BigInt, _>(value)?,
                    Some(Bind::Double(value)) => out.push_bind_param::<Double, _>(value)?,
                    None => {
                        return Err(diesel::result::Error::QueryBuilderError(
                            "a placeholder of the search SQL has no value".into(),
                        ));
                    }
                }
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

/// Runs `$sql` on the backend of `$conn` (prepared when `$prepared` and the process admits
/// its shape) and loads `$row`s (any `QueryableByName` row, in any storage module).
macro_rules! load_raw {
    ($conn:expr, $sql:expr, $row:ty, $prepared:expr) => {{
        use diesel::RunQueryDsl;
        let sql: &$crate::storage::search::sql::Sql = $sql;
        let conn: &mut $crate::storage::Conn<'_> = $conn;
        let statement = $crate::storage::search::sql::Statement {
            sql,
            prepared: $prepared && conn.prepared.admit(&sql.text),
        };
        match &mut conn.link {
            #[cfg(feature = "sqlite")]
            $crate::storage::conn::Link::Sqlite(connection) => {
                statement.load::<$row>(&mut **connection)
            }
            #[cfg(feature = "postgres")]
            $crate::storage::conn::Link::Postgres(connection) => {
                statement.load::<$row>(&mut **connection)
            }
        }
    }};
}
pub(crate) use load_raw;

/// Loads the resources a `SELECT r.res_type, r.res_id, r.version_id, r.last_updated,
/// r.content …` returns.
pub fn load_found(conn: &mut Conn<'_>, sql: &Sql) -> Result<Vec<FoundRow>, StorageError> {
    Ok(load_raw!(conn, sql, FoundRow, true)?)
}

/// Runs a `SELECT … AS v …` of one value of `kind` (`None` when no row or a NULL).
pub fn load_sort_value(
    conn: &mut Conn<'_>,
    sql: &Sql,
    kind: SortKind,
) -> Result<Option<SortValue>, StorageError> {
    Ok(match kind {
        SortKind::Text => load_raw!(conn, sql, TextValue, true)?
            .into_iter()
            .next()
            .and_then(|row| row.v)
            .map(SortValue::Text),
        SortKind::Int => load_raw!(conn, sql, IntValue, true)?
            .into_iter()
            .next()
            .and_then(|row| row.v)
            .map(SortValue::Int),
        SortKind::Real => load_raw!(conn, sql, RealValue, true)?
            .into_iter()
            .next()
            .and_then(|row| row.v)
            .map(SortValue::Real),
    })
}

#[derive(QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    parent: i64,
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Runs an `EXPLAIN [QUERY PLAN] …`: the plan, one line per step (SQLite's steps indented
/// under their parent).
pub fn load_plan(conn: &mut Conn<'_>, sql: &Sql) -> Result<Vec<String>, StorageError> {
    match &mut conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(_) => {
            let steps = load_raw!(conn, sql, SqlitePlanLine, false)?;
            let mut depth: Vec<(i64, usize)> = Vec::new();
            Ok(steps
                .into_iter()
                .map(|step| {
                    let level = depth
                        .iter()
                        .find(|(id, _)| *id == step.parent)
                        .map_or(0, |(_, level)| level + 1);
                    depth.push((step.id, level));
                    format!("{}{}", "  ".repeat(level), step.detail)
                })
                .collect())
        }
        #[cfg(feature = "postgres")]
        Link::Postgres(_) => Ok(load_raw!(conn, sql, PostgresPlanLine, false)?
            .into_iter()
            .map(|row| row.line)
            .collect()),
    }
}

/// Runs a `SELECT COUNT(*) AS n …`.
pub fn load_count(conn: &mut Conn<'_>, sql: &Sql) -> Result<i64, StorageError> {
    let rows = load_raw!(conn, sql, CountRow, true)?;
    Ok(rows.first().map_or(0, |row| row.n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_in_the_order_of_their_placeholders() {
        let mut sql = Sql::new("a = ");
        sql.text("x").push(" AND b = ").int(2);
        assert_eq!(sql.text, "a = ? AND b = ?");
        assert_eq!(sql.binds, vec![Bind::Text("x".into()), Bind::BigInt(2)]);
        let joined = Sql::join(vec![Sql::new("p"), Sql::new("q")], " OR ");
        assert_eq!(joined.text, "(p OR q)");
    }

    #[test]
    fn type_names_are_written_only_when_every_one_is_a_name() {
        let types = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut sql = Sql::new("");
        sql.type_names(&types(&["DocumentReference", "Patient"]));
        assert_eq!(sql.text, "'DocumentReference', 'Patient'");
        assert!(sql.binds.is_empty());
        for odd in [
            &["Patient", "x' OR '1'='1"][..],
            &["Patient", ""],
            &["Obs1"],
        ] {
            let mut sql = Sql::new("");
            sql.type_names(&types(odd));
            assert_eq!(sql.binds.len(), odd.len(), "{odd:?} bound");
            assert!(!sql.text.contains('\''), "{odd:?}: {}", sql.text);
        }
    }
}
