//! The SQL of a composite criterion (search.html#composite): some value of the parameter
//! (one `grp` of `search_composite`) has every component matching, each component row
//! tested like a row of its type's own table.

use super::predicate::{Aliases, rename, values_predicate};
use super::sql::Sql;
use crate::search::query::{CompositeValue, DateValue, Match, NumberValue, TypedValue};
use crate::storage::error::StorageError;

/// `EXISTS` a value of the parameter (whose rows are those of `params`) on `row` matching
/// one of `values`.
pub(super) fn composite_predicate(
    params: &[String],
    values: &[CompositeValue],
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let mut alternatives = Vec::new();
    for value in values {
        alternatives.push(one_value(params, value, row, aliases, now_ms)?);
    }
    let mut sql = Sql::new("(");
    sql.append(Sql::join(alternatives, " OR ")).push(")");
    Ok(sql)
}

fn one_value(
    params: &[String],
    value: &CompositeValue,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let first = aliases.next("k");
    let mut sql = Sql::new(&format!("EXISTS (SELECT 1 FROM search_composite {first}"));
    let mut tests = Vec::new();
    for (pos, component) in value.components.iter().enumerate() {
        let alias = if pos == 0 {
            first.clone()
        } else {
            let alias = aliases.next("k");
            sql.push(&format!(
                " JOIN search_composite {alias} ON {alias}.res_type = {first}.res_type AND {alias}.res_id = {first}.res_id AND {alias}.param = {first}.param AND {alias}.grp = {first}.grp AND {alias}.pos = {pos}"
            ));
            alias
        };
        let matcher = component_match(&component.value);
        tests.push(rename(
            values_predicate(&matcher, now_ms, aliases.dialect)?,
            "x",
            &alias,
        ));
    }
    sql.push(&format!(
        " WHERE {first}.res_type = {row}.res_type AND {first}.res_id = {row}.res_id AND {first}.pos = 0 AND "
    ))
    .param_is(&first, params);
    for test in tests {
        sql.push(" AND ").append(test);
    }
    sql.push(")");
    Ok(sql)
}

/// The match of one component value, as if it were a criterion of its own type. Dates
/// are compared on the ms the composite table keeps in `low`/`high`.
fn component_match(value: &TypedValue) -> Match {
    match value {
        TypedValue::String(v) => Match::String {
            mode: crate::search::query::StringMode::StartsWith,
            values: vec![v.clone()],
        },
        TypedValue::Token(v) => Match::Token {
            not: false,
            values: vec![v.clone()],
        },
        TypedValue::Reference(v) => Match::Reference(vec![v.clone()]),
        TypedValue::Date(v) => Match::Date(vec![DateValue { ..v.clone() }]),
        TypedValue::Number(v) => Match::Number(vec![NumberValue { ..v.clone() }]),
        TypedValue::Quantity(v) => Match::Quantity(vec![v.clone()]),
        TypedValue::Uri(v) => Match::Uri {
            mode: crate::search::query::UriMode::Equals,
            values: vec![v.clone()],
        },
    }
}
