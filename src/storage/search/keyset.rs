//! Keyset paging (search.html §3.1.1.6, "links that survive concurrent writes"): a page
//! starts strictly after (or ends strictly before) the boundary row of the page next to
//! it, compared on the full sort order — the `_sort` keys (resources without a value
//! last, in both directions), then type and id — instead of skipping a number of rows.
//! A write between two pages moves at most the rows it changed; the others are neither
//! repeated nor skipped. The boundary is a `Cursor`: the sort values of that row, read
//! when its page was loaded, and its type and id.

use super::sql::{Sql, load_sort_value};
use crate::storage::conn::Conn;
use crate::storage::error::StorageError;

/// One sort value of a boundary row.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Text(String),
    Int(i64),
    Real(f64),
}

/// Where a page starts or ends: after or before this row of the sorted matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The row's value of each `_sort` key (`None`: it has none); empty when unsorted.
    pub sort: Vec<Option<SortValue>>,
    pub res_type: String,
    pub res_id: String,
}

impl Cursor {
    /// Before every row (the first page, in the default order).
    pub fn start() -> Cursor {
        Cursor {
            sort: Vec::new(),
            res_type: String::new(),
            res_id: String::new(),
        }
    }
}

/// The SQL type of a sort expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Int,
    Real,
}

/// One `_sort` key as SQL: its expression (a correlated subquery, or a column of `r`),
/// its direction and its type.
#[derive(Debug, Clone)]
pub struct SortColumn {
    pub expression: String,
    pub descending: bool,
    pub kind: SortKind,
}

/// Whether `cursor` was made under `keys`: one value per key, each of the key's type.
pub fn fits(keys: &[SortColumn], cursor: &Cursor) -> bool {
    keys.len() == cursor.sort.len()
        && keys.iter().zip(&cursor.sort).all(|(key, value)| {
            matches!(
                (key.kind, value),
                (_, None)
                    | (SortKind::Text, Some(SortValue::Text(_)))
                    | (SortKind::Int, Some(SortValue::Int(_)))
                    | (SortKind::Real, Some(SortValue::Real(_)))
            )
        })
}

/// `ORDER BY` of the sort order, or of its reverse (to read a page backwards).
pub fn order_by(keys: &[SortColumn], forward: bool) -> String {
    let (asc, desc) = if forward {
        ("ASC", "DESC")
    } else {
        ("DESC", "ASC")
    };
    let mut parts = Vec::new();
    for key in keys {
        // Resources without a value sort last, in both directions.
        parts.push(format!(
            "CASE WHEN {} IS NULL THEN 1 ELSE 0 END {asc}",
            key.expression
        ));
        parts.push(format!(
            "{} {}",
            key.expression,
            if key.descending { desc } else { asc }
        ));
    }
    parts.push(format!("r.res_type {asc}"));
    parts.push(format!("r.res_id {asc}"));
    format!(" ORDER BY {}", parts.join(", "))
}

fn bind(sql: &mut Sql, value: &SortValue) {
    match value {
        SortValue::Text(text) => sql.text(text.clone()),
        SortValue::Int(int) => sql.int(*int),
        SortValue::Real(real) => sql.double(*real),
    };
}

/// ` AND (…)`: the rows strictly after `cursor` in the sort order (`forward`), or strictly
/// before it. The cursor must carry one value per key (checked by the caller).
pub fn beyond(keys: &[SortColumn], cursor: &Cursor, forward: bool) -> Sql {
    // For each component of the order: (strictly beyond, equal), as SQL; `None` for
    // "never" (a strict term that cannot hold).
    let mut components: Vec<(Option<Sql>, Sql)> = Vec::new();
    for (key, value) in keys.iter().zip(&cursor.sort) {
        let e = &key.expression;
        let mut equal = Sql::new("");
        let strict = match value {
            None => {
                equal.push(&format!("{e} IS NULL"));
                // Rows without a value come last: every row with one is before.
                (!forward).then(|| Sql::new(&format!("{e} IS NOT NULL")))
            }
            Some(value) => {
                equal.push(&format!("{e} = "));
                bind(&mut equal, value);
                let ascending_beyond = forward != key.descending;
                let mut strict = Sql::new("");
                if forward {
                    strict.push(&format!("({e} IS NULL OR {e} "));
                } else {
                    strict.push(&format!("({e} IS NOT NULL AND {e} "));
                }
                strict.push(if ascending_beyond { "> " } else { "< " });
                bind(&mut strict, value);
                strict.push(")");
                Some(strict)
            }
        };
        components.push((strict, equal));
    }
    let op = if forward { ">" } else { "<" };
    let mut type_strict = Sql::new(&format!("r.res_type {op} "));
    type_strict.text(cursor.res_type.clone());
    let mut type_equal = Sql::new("r.res_type = ");
    type_equal.text(cursor.res_type.clone());
    let mut id_strict = Sql::new(&format!("r.res_id {op} "));
    id_strict.text(cursor.res_id.clone());
    components.push((Some(type_strict), type_equal));
    components.push((Some(id_strict), Sql::new("1 = 1")));
    let mut alternatives = Vec::new();
    for (j, (strict, _)) in components.iter().enumerate() {
        let Some(strict) = strict else {
            continue;
        };
        let mut all: Vec<Sql> = components[..j].iter().map(|(_, eq)| eq.clone()).collect();
        all.push(strict.clone());
        alternatives.push(Sql::join(all, " AND "));
    }
    let mut sql = Sql::new(" AND ");
    if alternatives.is_empty() {
        sql.push("1 = 0");
    } else {
        sql.append(Sql::join(alternatives, " OR "));
    }
    sql
}

/// The cursor of the current row `res_type/res_id` under `keys`.
pub fn cursor_of(
    conn: &mut Conn<'_>,
    keys: &[SortColumn],
    res_type: &str,
    res_id: &str,
) -> Result<Cursor, StorageError> {
    let mut sort = Vec::with_capacity(keys.len());
    for key in keys {
        let mut sql = Sql::new(&format!(
            "SELECT {} AS v FROM current_resources r WHERE r.res_type = ",
            key.expression
        ));
        sql.text(res_type).push(" AND r.res_id = ").text(res_id);
        sort.push(load_sort_value(conn, &sql, key.kind)?);
    }
    Ok(Cursor {
        sort,
        res_type: res_type.to_owned(),
        res_id: res_id.to_owned(),
    })
}
