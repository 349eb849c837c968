//! Token index rows of the current version of each resource. For now Carnet indexes
//! `identifier` (what conditional create matches on); the search issue extends this table
//! to every token parameter.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, search_token};

/// A token value: `system` is empty when the value has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenValue {
    pub param: &'static str,
    pub system: String,
    pub code: String,
}

#[derive(Insertable)]
#[diesel(table_name = search_token)]
struct TokenInsert<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    system: &'a str,
    code: &'a str,
}

/// Replaces the token rows of `res_type/res_id` with `values` (the new current version).
pub fn replace(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
    values: &[TokenValue],
) -> Result<(), StorageError> {
    let existing = search_token::table
        .filter(search_token::res_type.eq(res_type))
        .filter(search_token::res_id.eq(res_id));
    on_conn!(conn, c => diesel::delete(existing).execute(c))?;
    let mut rows: Vec<TokenInsert<'_>> = values
        .iter()
        .map(|v| TokenInsert {
            res_type,
            res_id,
            param: v.param,
            system: &v.system,
            code: &v.code,
        })
        .collect();
    rows.sort_by(|a, b| (a.param, a.system, a.code).cmp(&(b.param, b.system, b.code)));
    rows.dedup_by(|a, b| (a.param, a.system, a.code) == (b.param, b.system, b.code));
    if !rows.is_empty() {
        on_conn!(conn, c => diesel::insert_into(search_token::table).values(&rows).execute(c))?;
    }
    Ok(())
}

/// Ids of live resources of `res_type` with a `param` token `code` (and `system` when
/// given; `Some("")` means "no system"). At most `limit` ids.
pub fn matching_ids(
    conn: &mut Conn<'_>,
    res_type: &str,
    param: &str,
    system: Option<&str>,
    code: &str,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    Ok(on_conn!(conn, c => {
        let mut query = search_token::table
            .inner_join(
                current_resources::table.on(current_resources::res_type
                    .eq(search_token::res_type)
                    .and(current_resources::res_id.eq(search_token::res_id))),
            )
            .filter(search_token::res_type.eq(res_type))
            .filter(search_token::param.eq(param))
            .filter(search_token::code.eq(code))
            .filter(current_resources::is_deleted.eq(false))
            .select(search_token::res_id)
            .distinct()
            .into_boxed();
        if let Some(system) = system {
            query = query.filter(search_token::system.eq(system));
        }
        query.order(search_token::res_id).limit(limit).load::<String>(c)
    })?)
}
