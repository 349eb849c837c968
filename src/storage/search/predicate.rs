//! Search criteria as SQL predicates over a row alias of `current_resources`: each
//! parameter is an `EXISTS` on its index table, chains and `_has` nest through
//! `search_reference`, OR-ed values are OR-ed, criteria AND-ed. Prefix semantics follow FHIR
//! R4 search.html §3.1.1.4 on the inclusive ranges the index stores.

use super::CARE_DATE_KIND;
use super::access::{RecordsFilter, records_clause};
use super::composite::composite_predicate;
use super::special;
use super::sql::Sql;
use super::terminology::Terms;
use crate::search::query::{
    Column, Criterion, DateValue, Match, NumberValue, ParamCriterion, Prefix, QuantityValue,
    ReferenceValue, StringMode, TokenValue, UriMode,
};
use crate::storage::error::StorageError;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(super) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The SQL dialect: the only place the translation differs per backend is the
/// starts-with test (an index range on SQLite's byte order, `LIKE` on PostgreSQL whose
/// collation may not be bytewise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Fresh aliases for nested tables (`x1`, `x2`, …), the resource types each resource alias
/// can hold (so that index subqueries name them and use the lookup indexes), the dialect.
pub struct Aliases {
    counter: usize,
    types: std::collections::HashMap<String, Vec<String>>,
    pub(super) dialect: Dialect,
    /// The records filter of the search: the resources a chain or a `_has` looks through
    /// must pass it too, or a match would reveal a resource the subject may not see.
    records: Option<RecordsFilter>,
    /// The code sets of the query's terminology modifiers, resolved before (`terminology`).
    terms: Terms,
    /// For each row whose candidates an uncorrelated index lookup already gives, the key
    /// query of that lookup (`SELECT x.res_type, x.res_id FROM … lookup index`): one
    /// criterion drives (`IN (…)`), the others probe each candidate (`EXISTS`).
    drivers: std::collections::HashMap<String, Sql>,
}

impl Aliases {
    /// Whether a criterion already drives the search of `row`.
    fn is_driven(&self, row: &str) -> bool {
        self.drivers.contains_key(row)
    }

    pub fn new(dialect: Dialect) -> Aliases {
        Aliases {
            counter: 0,
            types: std::collections::HashMap::new(),
            dialect,
            records: None,
            terms: Terms::default(),
            drivers: std::collections::HashMap::new(),
        }
    }

    /// The resolved terminology of the query.
    pub(super) fn set_terms(&mut self, terms: Terms) {
        self.terms = terms;
    }

    /// The key query of the criterion that drives `row`, when one does.
    pub(super) fn driver_of(&self, row: &str) -> Option<&Sql> {
        self.drivers.get(row)
    }

    /// The types rows of `alias` can hold (empty: any type).
    pub(super) fn types_of(&self, alias: &str) -> &[String] {
        self.types.get(alias).map_or(&[], Vec::as_slice)
    }

    /// Restricts the resources chains and `_has` look through to `records`.
    pub(super) fn restrict_links(&mut self, records: Option<RecordsFilter>) {
        self.records = records;
    }

    /// ` AND …` of the records filter on the linked row `row`, when there is one.
    fn links_clause(&mut self, row: &str) -> Option<Sql> {
        let records = self.records.clone()?;
        Some(records_clause(&records, row, self))
    }

    /// Records that rows of `alias` are of these types (empty: any type).
    pub fn set_types(&mut self, alias: &str, types: Vec<String>) {
        self.types.insert(alias.to_owned(), types);
    }

    pub(super) fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }
}

/// The predicate of `criterion` on the resource row `row` (an alias of `current_resources`).
pub fn criterion(
    criterion: &Criterion,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    match criterion {
        Criterion::Param(param) => parameter(param, row, aliases, now_ms),
        Criterion::Chain {
            param,
            target_type,
            criterion: inner,
        } => {
            let x = aliases.next("c");
            let t = aliases.next("t");
            aliases.set_types(&t, vec![target_type.clone()]);
            let mut sql = Sql::new("EXISTS (SELECT 1 FROM search_reference ");
            sql.push(&x).push(" JOIN current_resources ").push(&t);
            sql.push(&format!(" ON {t}.res_type = {x}.target_type AND {t}.res_id = {x}.target_id AND NOT {t}.is_deleted"));
            sql.push(&format!(" WHERE {x}.res_type = {row}.res_type AND {x}.res_id = {row}.res_id AND {x}.param = "));
            sql.text(param.clone())
                .push(&format!(" AND {x}.target_type = "))
                .text(target_type.clone());
            sql.push(" AND ")
                .append(self::criterion(inner, &t, aliases, now_ms)?);
            if let Some(restriction) = aliases.links_clause(&t) {
                sql.append(restriction);
            }
            sql.push(")");
            Ok(sql)
        }
        Criterion::Has {
            source_type,
            param,
            criterion: inner,
        } => {
            let x = aliases.next("h");
            let s = aliases.next("s");
            aliases.set_types(&s, vec![source_type.clone()]);
            let mut sql = Sql::new("EXISTS (SELECT 1 FROM search_reference ");
            sql.push(&x).push(" JOIN current_resources ").push(&s);
            sql.push(&format!(
                " ON {s}.res_type = {x}.res_type AND {s}.res_id = {x}.res_id AND NOT {s}.is_deleted"
            ));
            sql.push(&format!(" WHERE {x}.res_type = "))
                .text(source_type.clone());
            sql.push(&format!(" AND {x}.param = ")).text(param.clone());
            sql.push(&format!(
                " AND {x}.target_type = {row}.res_type AND {x}.target_id = {row}.res_id AND "
            ));
            sql.append(self::criterion(inner, &s, aliases, now_ms)?);
            if let Some(restriction) = aliases.links_clause(&s) {
                sql.append(restriction);
            }
            sql.push(")");
            Ok(sql)
        }
        Criterion::List(ids) => {
            let x = aliases.next("l");
            let mut sql = Sql::new("EXISTS (SELECT 1 FROM search_reference ");
            sql.push(&x).push(&format!(" WHERE {x}.res_type = 'List' AND {x}.param = 'item' AND {x}.target_type = {row}.res_type AND {x}.target_id = {row}.res_id AND {x}.res_id IN ("));
            sql.texts(ids.iter().cloned());
            sql.push("))");
            Ok(sql)
        }
    }
}

fn unsupported(what: &str) -> StorageError {
    StorageError::Unsupported(what.to_owned())
}

fn parameter(
    param: &ParamCriterion,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    match param.column {
        Column::Id => id_predicate(&param.matcher, row),
        Column::LastUpdated => last_updated_predicate(&param.matcher, row, now_ms),
        Column::CareDate => care_date_predicate(&param.matcher, row, aliases, now_ms),
        Column::Index => match &param.matcher {
            Match::Composite(values) => {
                composite_predicate(&param.index_params, values, row, aliases, now_ms)
            }
            _ => index_predicate(param, row, aliases, now_ms),
        },
    }
}

fn id_predicate(matcher: &Match, row: &str) -> Result<Sql, StorageError> {
    match matcher {
        Match::Token { not, values } => {
            let mut sql = Sql::new(&format!(
                "{row}.res_id {}IN (",
                if *not { "NOT " } else { "" }
            ));
            sql.texts(
                values
                    .iter()
                    .map(|value| value.code.clone().unwrap_or_default()),
            );
            sql.push(")");
            Ok(sql)
        }
        Match::Missing(missing) => Ok(Sql::new(if *missing { "1 = 0" } else { "1 = 1" })),
        _ => Err(unsupported("this modifier on `_id`")),
    }
}

fn last_updated_predicate(matcher: &Match, row: &str, now_ms: i64) -> Result<Sql, StorageError> {
    match matcher {
        Match::Date(values) => Ok(instant_in_any(
            values,
            &format!("{row}.last_updated"),
            now_ms,
        )),
        Match::Missing(missing) => Ok(Sql::new(if *missing { "1 = 0" } else { "1 = 1" })),
        _ => Err(unsupported("this modifier on `_lastUpdated`")),
    }
}

/// `start`/`end` of `$everything`: no care date of the resource (`resource_fact` rows of
/// kind `CARE_DATE_KIND`) falls outside the values; a resource without one matches.
fn care_date_predicate(
    matcher: &Match,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let Match::Date(values) = matcher else {
        return Err(unsupported("this test of a care date"));
    };
    let f = aliases.next("cd");
    let within = instant_in_any(values, &format!("{f}.at"), now_ms);
    let mut sql = Sql::new(&format!(
        "NOT EXISTS (SELECT 1 FROM resource_fact {f} WHERE {f}.res_type = {row}.res_type AND {f}.res_id = {row}.res_id AND {f}.kind = "
    ));
    sql.text(CARE_DATE_KIND).push(" AND NOT (");
    sql.append(within).push("))");
    Ok(sql)
}

/// The instant `column` (ms) matches one of the date `values`, each with its prefix.
fn instant_in_any(values: &[DateValue], column: &str, now_ms: i64) -> Sql {
    let parts = values
        .iter()
        .map(|value| {
            let (low, high) = date_bounds(value, now_ms);
            range_predicate(
                value.prefix,
                column,
                column,
                Bound::Int(low),
                Bound::Int(high),
            )
        })
        .collect();
    Sql::join(parts, " OR ")
}

fn date_bounds(value: &DateValue, now_ms: i64) -> (i64, i64) {
    if value.prefix == Prefix::Ap {
        value.approximate(now_ms)
    } else {
        (value.low, value.high)
    }
}

/// A range bound value.
#[derive(Clone, Copy)]
enum Bound {
    Int(i64),
    Float(f64),
}

fn bind(sql: &mut Sql, bound: Bound) {
    match bound {
        Bound::Int(v) => sql.int(v),
        Bound::Float(v) => sql.double(v),
    };
}

/// The prefix test of a target range `[low_col, high_col]` against the value range
/// `[vl, vh]` (search.html §3.1.1.4.1).
fn range_predicate(prefix: Prefix, low_col: &str, high_col: &str, vl: Bound, vh: Bound) -> Sql {
    let mut sql = Sql::new("(");
    let within = |sql: &mut Sql| {
        sql.push(&format!("({low_col} >= "));
        bind(sql, vl);
        sql.push(&format!(" AND {high_col} <= "));
        bind(sql, vh);
        sql.push(")");
    };
    match prefix {
        Prefix::Eq => within(&mut sql),
        Prefix::Ne => {
            sql.push("NOT ");
            within(&mut sql);
        }
        Prefix::Gt => {
            sql.push(&format!("{high_col} > "));
            bind(&mut sql, vh);
        }
        Prefix::Lt => {
            sql.push(&format!("{low_col} < "));
            bind(&mut sql, vl);
        }
        Prefix::Ge => {
            sql.push(&format!("{high_col} > "));
            bind(&mut sql, vh);
            sql.push(" OR ");
            within(&mut sql);
        }
        Prefix::Le => {
            sql.push(&format!("{low_col} < "));
            bind(&mut sql, vl);
            sql.push(" OR ");
            within(&mut sql);
        }
        Prefix::Sa => {
            sql.push(&format!("{low_col} > "));
            bind(&mut sql, vh);
        }
        Prefix::Eb => {
            sql.push(&format!("{high_col} < "));
            bind(&mut sql, vl);
        }
        Prefix::Ap => {
            sql.push(&format!("{low_col} <= "));
            bind(&mut sql, vh);
            sql.push(&format!(" AND {high_col} >= "));
            bind(&mut sql, vl);
        }
    }
    sql.push(")");
    sql
}

/// The index table a match reads.
fn table_of(matcher: &Match) -> Result<&'static str, StorageError> {
    Ok(match matcher {
        Match::String { .. } => "search_string",
        Match::Token { .. } => "search_token",
        Match::TokenText(_) => "search_token_text",
        Match::OfType(_) => "search_token_type",
        Match::Reference(_) | Match::ReferenceIdentifier(_) => "search_reference",
        Match::Date(_) => "search_date",
        Match::Number(_) => "search_number",
        Match::Quantity(_) => "search_quantity",
        Match::Uri { .. } => "search_uri",
        Match::TokenIn { .. } | Match::TokenSubsumption { .. } => "search_token",
        Match::Text { .. } => "search_text",
        Match::Near(_) => "search_position",
        Match::Composite(_) => return Err(unsupported("composite parameters")),
        Match::Missing(_) => return Err(unsupported("`:missing` without a table")),
    })
}

/// The table holding rows of a parameter type, for `:missing`.
fn table_of_type(param: &ParamCriterion) -> Result<&'static str, StorageError> {
    use crate::search::registry::SearchParamType as T;
    Ok(match param.param_type {
        T::String => "search_string",
        T::Token => "search_token",
        T::Reference => "search_reference",
        T::Date => "search_date",
        T::Number => "search_number",
        T::Quantity => "search_quantity",
        T::Uri => "search_uri",
        T::Composite => "search_composite",
        T::Special if param.code == "near" => "search_position",
        T::Special => return Err(unsupported("`:missing` on this parameter")),
    })
}

fn index_predicate(
    param: &ParamCriterion,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let (table, negate, values) = match &param.matcher {
        Match::Missing(missing)
            if param.param_type == crate::search::registry::SearchParamType::Token =>
        {
            // A token's value may be text only (a CodeableConcept with just `text`, a
            // Coding with just `display`): those rows are in `search_token_text` alone.
            // Either table may hold the value, so neither drives (`Aliases`).
            let parts = ["search_token", "search_token_text"]
                .map(|table| membership(param, row, aliases, table, *missing, None, false))
                .into_iter()
                .collect();
            return Ok(Sql::join(parts, if *missing { " AND " } else { " OR " }));
        }
        Match::Missing(missing) => (table_of_type(param)?, *missing, None),
        other => {
            let negate = matches!(
                other,
                Match::Token { not: true, .. } | Match::TokenIn { not: true, .. }
            );
            let values = match other {
                Match::TokenIn { value_sets, .. } => {
                    special::value_sets(&aliases.terms, value_sets)?
                }
                Match::TokenSubsumption { direction, values } => {
                    special::subsumed(&aliases.terms, *direction, values)?
                }
                Match::Text { values, .. } => special::text(values),
                Match::Near(values) => special::near(values),
                _ => values_predicate(other, now_ms, aliases.dialect)?,
            };
            (table_of(other)?, negate, Some(values))
        }
    };
    Ok(membership(param, row, aliases, table, negate, values, true))
}

/// `row` is one of the resources whose keys `keys` (`SELECT x.res_type, x.res_id …`)
/// returns: how a driving criterion is written.
pub(super) fn driven_by(row: &str, keys: &Sql) -> Sql {
    let mut sql = Sql::new(&format!("({row}.res_type, {row}.res_id) IN ("));
    sql.append(keys.clone()).push(")");
    sql
}

/// Whether the row has (or, `negate`, has not) an index row of `param` in `table` whose
/// values (written against alias `x`) match; `may_drive`: whether this test may be the one
/// that drives the search of `row` (it must then be one of the criteria ANDed).
fn membership(
    param: &ParamCriterion,
    row: &str,
    aliases: &mut Aliases,
    table: &str,
    negate: bool,
    values: Option<Sql>,
    may_drive: bool,
) -> Sql {
    let x = aliases.next("x");
    let values = values.map(|v| rename(v, "x", &x));
    let types = aliases.types.get(row).cloned().unwrap_or_default();
    if !types.is_empty() && !negate && may_drive && !aliases.is_driven(row) {
        // Uncorrelated: the subquery reads the lookup index (type, param, value) once and
        // the rows are joined by primary key, instead of probing every resource row. Only
        // the first (most selective) criterion does so; a second list could be as long as
        // the type (`type=` of a common code) and is cheaper probed per candidate.
        let mut keys = Sql::new(&format!(
            "SELECT {x}.res_type, {x}.res_id FROM {table} {x} WHERE {x}.res_type IN ("
        ));
        keys.texts(types);
        keys.push(") AND ").param_is(&x, &param.index_params);
        if let Some(values) = values {
            keys.push(" AND ").append(values);
        }
        let sql = driven_by(row, &keys);
        aliases.drivers.insert(row.to_owned(), keys);
        return sql;
    }
    let mut sql = Sql::new(if negate {
        "NOT EXISTS (SELECT 1 FROM "
    } else {
        "EXISTS (SELECT 1 FROM "
    });
    sql.push(table).push(" ").push(&x);
    sql.push(&format!(
        " WHERE {x}.res_type = {row}.res_type AND {x}.res_id = {row}.res_id AND "
    ));
    sql.param_is(&x, &param.index_params);
    if let Some(values) = values {
        sql.push(" AND ").append(values);
    }
    sql.push(")");
    sql
}

/// Values are written against alias `x.`; this renames it to the real alias.
pub(super) fn rename(mut sql: Sql, from: &str, to: &str) -> Sql {
    sql.text = sql.text.replace(&format!("{from}."), &format!("{to}."));
    sql
}

/// The OR of the value tests of `matcher`, on alias `x`.
pub(super) fn values_predicate(
    matcher: &Match,
    now_ms: i64,
    dialect: Dialect,
) -> Result<Sql, StorageError> {
    let parts: Vec<Sql> = match matcher {
        Match::String { mode, values } => values
            .iter()
            .map(|v| {
                let mut sql = Sql::new("");
                match mode {
                    StringMode::Exact => sql.push("x.exact = ").text(v.text.clone()),
                    StringMode::StartsWith => {
                        starts_with(&mut sql, "x.normalized", &v.normalized, dialect)
                    }
                    StringMode::Contains => sql
                        .push("x.normalized LIKE ")
                        .text(format!("%{}%", like_escape(&v.normalized)))
                        .push(" ESCAPE '\\'"),
                };
                sql
            })
            .collect(),
        Match::Token { values, .. } => values.iter().map(token_value).collect(),
        Match::TokenText(values) => values
            .iter()
            .map(|v| {
                let mut sql = Sql::new("");
                starts_with(&mut sql, "x.normalized", &v.normalized, dialect);
                sql
            })
            .collect(),
        Match::OfType(values) => values
            .iter()
            .map(|v| {
                let mut sql = Sql::new("(x.type_system = ");
                sql.text(v.type_system.clone())
                    .push(" AND x.type_code = ")
                    .text(v.type_code.clone());
                sql.push(" AND x.value = ").text(v.value.clone()).push(")");
                sql
            })
            .collect(),
        Match::Reference(values) => values.iter().map(reference_value).collect(),
        Match::ReferenceIdentifier(values) => values
            .iter()
            .map(|v| {
                let mut sql = Sql::new("(x.identifier_value = ");
                sql.text(v.code.clone().unwrap_or_default());
                if let Some(system) = &v.system {
                    sql.push(" AND x.identifier_system = ").text(system.clone());
                }
                sql.push(")");
                sql
            })
            .collect(),
        Match::Date(values) => values
            .iter()
            .map(|v| {
                let (low, high) = date_bounds(v, now_ms);
                range_predicate(
                    v.prefix,
                    "x.low",
                    "x.high",
                    Bound::Int(low),
                    Bound::Int(high),
                )
            })
            .collect(),
        Match::Number(values) => values.iter().map(number_value).collect(),
        Match::Quantity(values) => values.iter().map(quantity_value).collect(),
        Match::Uri { mode, values } => values
            .iter()
            .map(|v| {
                let mut sql = Sql::new("");
                match mode {
                    UriMode::Equals => sql.push("x.value = ").text(v.clone()),
                    UriMode::Below => sql
                        .push("x.value LIKE ")
                        .text(format!("{}%", like_escape(v)))
                        .push(" ESCAPE '\\'"),
                    UriMode::Above => sql.push("").text(v.clone()).push(" LIKE (x.value || '%')"),
                };
                sql
            })
            .collect(),
        Match::Composite(_)
        | Match::Missing(_)
        | Match::TokenIn { .. }
        | Match::TokenSubsumption { .. }
        | Match::Text { .. }
        | Match::Near(_) => return Err(unsupported("this kind of match")),
    };
    Ok(Sql::join(parts, " OR "))
}

/// `column` starts with `prefix`: a bytewise range, which the lookup index serves on both
/// backends (SQLite's order is bytewise; PostgreSQL's pattern operators `~>=~`/`~<~` are
/// those of its `text_pattern_ops` lookup indexes). Not `LIKE 'prefix%'`: PostgreSQL uses
/// an index for it only when the pattern is in the SQL text, never in the generic plan of
/// a prepared statement whose pattern is bound.
fn starts_with<'s>(sql: &'s mut Sql, column: &str, prefix: &str, dialect: Dialect) -> &'s mut Sql {
    let (at_least, below) = match dialect {
        Dialect::Sqlite => (">=", "<"),
        Dialect::Postgres => ("~>=~", "~<~"),
    };
    sql.push(&format!("({column} {at_least} "))
        .text(prefix)
        .push(&format!(" AND {column} {below} "))
        .text(format!("{prefix}\u{10FFFF}"))
        .push(")")
}

fn token_value(value: &TokenValue) -> Sql {
    let mut sql = Sql::new("(");
    let mut first = true;
    if let Some(system) = &value.system {
        sql.push("x.system = ").text(system.clone());
        first = false;
    }
    if let Some(code) = &value.code {
        if !first {
            sql.push(" AND ");
        }
        sql.push("x.code = ").text(code.clone());
        first = false;
    }
    if first {
        sql.push("1 = 1");
    }
    sql.push(")");
    sql
}

fn reference_value(value: &ReferenceValue) -> Sql {
    let mut sql = Sql::new("(");
    match value {
        ReferenceValue::Local {
            target_type,
            id,
            version,
        } => {
            sql.push("x.target_id = ").text(id.clone());
            if let Some(t) = target_type {
                sql.push(" AND x.target_type = ").text(t.clone());
            }
            if let Some(v) = version {
                sql.push(" AND x.version = ").text(v.clone());
            }
        }
        ReferenceValue::Url { url, version } => {
            sql.push("x.url = ").text(url.clone());
            if let Some(v) = version {
                sql.push(" AND x.version = ").text(v.clone());
            }
        }
    }
    sql.push(")");
    sql
}

fn number_value(value: &NumberValue) -> Sql {
    range_predicate(
        value.prefix,
        "x.low",
        "x.high",
        Bound::Float(value.low),
        Bound::Float(value.high),
    )
}

fn quantity_value(value: &QuantityValue) -> Sql {
    let mut sql = Sql::new("(");
    sql.append(number_value(&value.number));
    if let Some(system) = &value.system {
        sql.push(" AND x.system = ").text(system.clone());
    }
    if let Some(code) = &value.code {
        sql.push(" AND (x.code = ")
            .text(code.clone())
            .push(" OR x.unit = ")
            .text(code.clone())
            .push(")");
    }
    sql.push(")");
    sql
}
