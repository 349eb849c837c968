//! One declaration of an index row struct's columns for both backends: `index_row!` makes
//! the struct insert itself on SQLite (`sqlite_insert`, the columns' names) and give its
//! columns as arrays on PostgreSQL (`pg_rows`, their names and kinds), from one list.

/// Declares the row struct `$row` of `$table`, whose fields are named after the table's
/// columns, each with its kind (`Text`, `BigInt`, `Integer`, `Double`).
macro_rules! index_row {
    ($row:ident => $table:ident: $($field:ident: $kind:ident),+ $(,)?) => {
        #[cfg(feature = "sqlite")]
        $crate::storage::sqlite_insert::sqlite_insert!($row => $table: $($field),+);
        #[cfg(feature = "postgres")]
        $crate::storage::pg_rows::pg_rows!($row => $table: $($field: $kind),+);
    };
}

pub(super) use index_row;
