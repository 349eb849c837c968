//! A SQL text with its bound values, written once for both backends: placeholders are `?`
//! while building and become `$1…` for PostgreSQL when run. Values are always bound, never
//! spliced into the text.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

use super::keyset::{SortKind, SortValue};
use crate::storage::conn::Conn;
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
    pub fn texts<S: Into<String>>(&mut self, values: impl IntoIterator<Item = S>) -> &mut Sql {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.text(value);
        }
        self
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

/// `?` -> `$1, $2, …` for PostgreSQL.
fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
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

/// Runs `$sql` as a boxed raw query on the backend of the arm and loads `$row`s.
macro_rules! load_raw {
    ($conn:expr, $sql:expr, $row:ty) => {{
        let sql: &Sql = $sql;
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(connection) => {
                let c: &mut diesel::SqliteConnection = &mut **connection;
                let mut query =
                    diesel::sql_query(sql.text.clone()).into_boxed::<diesel::sqlite::Sqlite>();
                for bind in &sql.binds {
                    query = match bind {
                        Bind::Text(v) => query.bind::<Text, _>(v.clone()),
                        Bind::BigInt(v) => query.bind::<BigInt, _>(*v),
                        Bind::Double(v) => query.bind::<Double, _>(*v),
                    };
                }
                query.load::<$row>(c)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(connection) => {
                let c: &mut diesel::PgConnection = &mut **connection;
                let mut query =
                    diesel::sql_query(numbered(&sql.text)).into_boxed::<diesel::pg::Pg>();
                for bind in &sql.binds {
                    query = match bind {
                        Bind::Text(v) => query.bind::<Text, _>(v.clone()),
                        Bind::BigInt(v) => query.bind::<BigInt, _>(*v),
                        Bind::Double(v) => query.bind::<Double, _>(*v),
                    };
                }
                query.load::<$row>(c)
            }
        }
    }};
}

/// Loads the resources a `SELECT r.res_type, r.res_id, r.version_id, r.last_updated,
/// r.content …` returns.
pub fn load_found(conn: &mut Conn<'_>, sql: &Sql) -> Result<Vec<FoundRow>, StorageError> {
    Ok(load_raw!(conn, sql, FoundRow)?)
}

/// Runs a `SELECT … AS v …` of one value of `kind` (`None` when no row or a NULL).
pub fn load_sort_value(
    conn: &mut Conn<'_>,
    sql: &Sql,
    kind: SortKind,
) -> Result<Option<SortValue>, StorageError> {
    Ok(match kind {
        SortKind::Text => load_raw!(conn, sql, TextValue)?
            .into_iter()
            .next()
            .and_then(|row| row.v)
            .map(SortValue::Text),
        SortKind::Int => load_raw!(conn, sql, IntValue)?
            .into_iter()
            .next()
            .and_then(|row| row.v)
            .map(SortValue::Int),
        SortKind::Real => load_raw!(conn, sql, RealValue)?
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
    match conn {
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(_) => {
            let steps = load_raw!(conn, sql, SqlitePlanLine)?;
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
        Conn::Postgres(_) => Ok(load_raw!(conn, sql, PostgresPlanLine)?
            .into_iter()
            .map(|row| row.line)
            .collect()),
    }
}

/// Runs a `SELECT COUNT(*) AS n …`.
pub fn load_count(conn: &mut Conn<'_>, sql: &Sql) -> Result<i64, StorageError> {
    let rows = load_raw!(conn, sql, CountRow)?;
    Ok(rows.first().map_or(0, |row| row.n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let mut sql = Sql::new("a = ");
        sql.text("x").push(" AND b = ").int(2);
        assert_eq!(numbered(&sql.text), "a = $1 AND b = $2");
        assert_eq!(sql.binds, vec![Bind::Text("x".into()), Bind::BigInt(2)]);
        let joined = Sql::join(vec![Sql::new("p"), Sql::new("q")], " OR ");
        assert_eq!(joined.text, "(p OR q)");
    }
}
