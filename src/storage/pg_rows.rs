//! PostgreSQL: the index rows of one write (every index table) go in one statement of a
//! fixed shape, so that it is prepared once per connection and never parsed or planned
//! again: each table's rows are bound column by column as arrays and inserted from
//! `unnest` (`WITH s0 AS (INSERT INTO search_string (…) SELECT * FROM unnest($1::text[],
//! …)), … INSERT INTO resource_label …`), the tables always all there, those without rows
//! with empty arrays. Statements whose text followed the number of rows (a multi-row
//! `VALUES` per table) were parsed and planned at every write: profiled during `carnet
//! import`, that was most of what a resource's index cost.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Double, Integer, Text};

/// One column of a table's rows, as the array bound for it.
pub(super) enum Column<'r> {
    Text(Vec<&'r str>),
    BigInt(Vec<i64>),
    Integer(Vec<i32>),
    Double(Vec<f64>),
}

impl Column<'_> {
    /// The array type the statement casts the parameter to.
    const fn array_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::BigInt(_) => "int8[]",
            Column::Integer(_) => "int4[]",
            Column::Double(_) => "float8[]",
        }
    }

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match self {
            Column::Text(values) => out.push_bind_param::<Array<Text>, _>(values),
            Column::BigInt(values) => out.push_bind_param::<Array<BigInt>, _>(values),
            Column::Integer(values) => out.push_bind_param::<Array<Integer>, _>(values),
            Column::Double(values) => out.push_bind_param::<Array<Double>, _>(values),
        }
    }
}

/// The rows of one table, by column.
pub(super) struct TableColumns<'r> {
    pub(super) table: &'static str,
    pub(super) columns: Vec<(&'static str, Column<'r>)>,
}

/// Rows that give their table's columns (`pg_rows!`).
pub(super) trait PgRows: Sized {
    fn table_columns(rows: &[Self]) -> TableColumns<'_>;
}

/// Implements [`PgRows`] for the row struct `$row` of `$table`, whose fields are named after
/// the table's columns, each with its kind (`Text`, `BigInt`, `Integer`, `Double`).
macro_rules! pg_rows {
    ($row:ident => $table:ident: $($field:ident: $kind:ident),+ $(,)?) => {
        impl $crate::storage::pg_rows::PgRows for $row<'_> {
            fn table_columns(rows: &[Self]) -> $crate::storage::pg_rows::TableColumns<'_> {
                $crate::storage::pg_rows::TableColumns {
                    table: stringify!($table),
                    columns: vec![$((
                        stringify!($field),
                        $crate::storage::pg_rows::pg_rows!(@column $kind, rows, $field),
                    )),+],
                }
            }
        }
    };
    (@column Text, $rows:ident, $field:ident) => {
        $crate::storage::pg_rows::Column::Text(
            $rows.iter().map(|r| AsRef::<str>::as_ref(&r.$field)).collect(),
        )
    };
    (@column $kind:ident, $rows:ident, $field:ident) => {
        $crate::storage::pg_rows::Column::$kind($rows.iter().map(|r| r.$field).collect())
    };
}

pub(super) use pg_rows;

/// The rows of every index table, inserted by one statement. Callers give the tables
/// always in the same order, so that the statement's text, and its prepared plan, are one.
pub(super) struct InsertAll<'r>(pub(super) Vec<TableColumns<'r>>);

/// The identity under which the driver keeps [`InsertAll`] prepared.
pub(super) struct InsertAllQuery;

impl QueryId for InsertAll<'_> {
    type QueryId = InsertAllQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for InsertAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some((last, first)) = self.0.split_last() else {
            return Ok(());
        };
        for (n, table) in first.iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("s{n} AS ("));
            insert_from_arrays(table, &mut out)?;
            out.push_sql(")");
        }
        if !first.is_empty() {
            out.push_sql(" ");
        }
        insert_from_arrays(last, &mut out)
    }
}

/// `INSERT INTO table (columns) SELECT * FROM unnest($n::type[], …)`.
fn insert_from_arrays<'b>(
    table: &'b TableColumns<'_>,
    out: &mut AstPass<'_, 'b, Pg>,
) -> QueryResult<()> {
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    out.push_sql(&format!(
        "INSERT INTO {} ({}) SELECT * FROM unnest(",
        table.table,
        names.join(", ")
    ));
    for (n, (_, column)) in table.columns.iter().enumerate() {
        if n > 0 {
            out.push_sql(", ");
        }
        column.bind(out)?;
        out.push_sql(&format!("::{}", column.array_type()));
    }
    out.push_sql(")");
    Ok(())
}

impl RunQueryDsl<PgConnection> for InsertAll<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tables of `rows` rows each, with a column of every kind.
    fn statement(rows: usize) -> InsertAll<'static> {
        InsertAll(vec![
            TableColumns {
                table: "search_date",
                columns: vec![
                    ("res_id", Column::Text(vec!["a"; rows])),
                    ("low", Column::BigInt(vec![1; rows])),
                ],
            },
            TableColumns {
                table: "search_composite",
                columns: vec![
                    ("grp", Column::Integer(vec![0; rows])),
                    ("high", Column::Double(vec![0.5; rows])),
                ],
            },
        ])
    }

    /// The statement's text, without the bound values `debug_query` prints after it.
    fn text(statement: &InsertAll<'_>) -> String {
        let printed = diesel::debug_query::<Pg, _>(statement).to_string();
        printed
            .split(" -- binds:")
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn the_text_is_the_same_whatever_the_number_of_rows() {
        let expected = "WITH s0 AS (INSERT INTO search_date (res_id, low) SELECT * FROM \
                        unnest($1::text[], $2::int8[])) INSERT INTO search_composite (grp, \
                        high) SELECT * FROM unnest($3::int4[], $4::float8[])";
        for rows in [0, 1, 7] {
            assert_eq!(text(&statement(rows)), expected, "{rows} rows");
        }
    }
}
