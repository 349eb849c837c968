//! Lookups in the token index (`search_token`), which `index` fills: the ids that
//! conditional interactions match on.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, search_token};

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
