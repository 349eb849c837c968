//! Several data-changing statements sent to PostgreSQL as one: `WITH s0 AS (…), s1 AS (…)
//! <last>`. PostgreSQL runs every statement of the `WITH` once, to completion, whether or
//! not the last one reads it, so the index rows of a resource (a dozen tables) go in one
//! round trip instead of one per table. The statements come from diesel's own builders
//! (types and binds as diesel writes them); SQLite, in-process, needs none of this.

use diesel::PgConnection;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};

/// Most bound values in one combined statement (PostgreSQL accepts 65,535).
const MAX_BINDS: usize = 30_000;

/// Statements waiting to be sent together.
#[derive(Default)]
pub(super) struct Combined<'a> {
    pending: Vec<Box<dyn QueryFragment<Pg> + 'a>>,
    binds: usize,
}

impl<'a> Combined<'a> {
    /// Adds `statement`, which binds `binds` values; sends what is pending first when the
    /// whole would bind too many.
    pub(super) fn push(
        &mut self,
        conn: &mut PgConnection,
        statement: impl QueryFragment<Pg> + 'a,
        binds: usize,
    ) -> QueryResult<()> {
        if self.binds + binds > MAX_BINDS {
            self.send(conn)?;
        }
        self.pending.push(Box::new(statement));
        self.binds += binds;
        Ok(())
    }

    /// Runs the pending statements as one.
    pub(super) fn send(&mut self, conn: &mut PgConnection) -> QueryResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let statement = WithAll(std::mem::take(&mut self.pending));
        self.binds = 0;
        statement.execute(conn).map(|_| ())
    }
}

/// The statements, all but the last in a `WITH`.
struct WithAll<'a>(Vec<Box<dyn QueryFragment<Pg> + 'a>>);

impl QueryId for WithAll<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for WithAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Their number and sizes vary: never kept prepared.
        out.unsafe_to_cache_prepared();
        let Some((last, first)) = self.0.split_last() else {
            return Ok(());
        };
        for (n, statement) in first.iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("s{n} AS ("));
            statement.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !first.is_empty() {
            out.push_sql(" ");
        }
        last.walk_ast(out.reborrow())
    }
}

impl RunQueryDsl<PgConnection> for WithAll<'_> {}
