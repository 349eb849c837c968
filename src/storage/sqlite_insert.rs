//! SQLite: the index rows of a resource are inserted one by one, each by a statement
//! whose type names its columns, so that the driver finds its prepared statement by that
//! type. Diesel's insert of an `Insertable` struct has no static query id (its columns
//! may be `DEFAULT`), so it builds the whole text of the statement again at every
//! execution to look up the prepared one: profiled during `carnet import`, that took
//! about half as long as SQLite's own work for the row.

/// A row that inserts itself into its table on SQLite.
pub(super) trait SqliteInsert {
    fn insert(&self, c: &mut diesel::SqliteConnection) -> diesel::QueryResult<usize>;
}

/// Implements [`SqliteInsert`] for the row struct `$row` of `$table`, whose fields are
/// named after the table's columns.
macro_rules! sqlite_insert {
    ($row:ident => $table:ident: $($field:ident),+ $(,)?) => {
        impl $crate::storage::sqlite_insert::SqliteInsert for $row<'_> {
            fn insert(&self, c: &mut diesel::SqliteConnection) -> diesel::QueryResult<usize> {
                use diesel::{ExpressionMethods, RunQueryDsl};
                use $crate::storage::schema::$table;
                diesel::insert_into($table::table)
                    .values(($($table::$field.eq(&self.$field)),+,))
                    .execute(c)
            }
        }
    };
}

pub(super) use sqlite_insert;
