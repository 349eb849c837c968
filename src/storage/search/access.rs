//! The access restrictions a search runs under, in SQL (DESIGN.md: consent runs inside the
//! query). Neutral: the caller (`interaction::access`) writes them from the token's scopes
//! (`AccessAlternative`) and from the consent engine's per-record filters
//! (`RecordsFilter` of `Condition`s over the index: `resource_compartment`,
//! `resource_label`, `resource_fact`). Storage knows nothing of consent or users.

use super::predicate::{Aliases, criterion};
use super::sql::Sql;
use crate::search::query::Criterion;
use crate::storage::error::StorageError;

/// Restrictions applied to every search on top of its criteria.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    /// Only resources in the compartment of one of these patients.
    pub patients: Option<Vec<String>>,
    /// Only resources that fit one of these alternatives (none fits an empty list).
    pub alternatives: Option<Vec<AccessAlternative>>,
    /// Only resources every record of which lets them through (see `RecordsFilter`).
    pub records: Option<RecordsFilter>,
}

/// One way for a resource to pass the filter: one of `types`, in the compartment of
/// `patient` when set, and matching every criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessAlternative {
    pub types: Vec<String>,
    pub patient: Option<String>,
    pub criteria: Vec<Criterion>,
}

/// What may be seen per patient record: a resource in the compartments of patients P1…Pn
/// passes when, for every Pi, some `RecordCondition` names Pi and its condition holds; a
/// resource in no compartment passes when `outside` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsFilter {
    pub records: Vec<RecordCondition>,
    pub outside: Condition,
}

/// The condition shared by the records of some patients.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordCondition {
    pub patients: Vec<String>,
    pub condition: Condition,
}

/// A condition on one resource, over its index rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All,
    Nothing,
    /// The resource type is one of these.
    TypeIn(Vec<String>),
    /// Some `resource_fact` row of `kind` matches one of `matches`.
    Fact {
        kind: String,
        matches: Vec<FactMatch>,
    },
    /// Some `resource_fact` row of `kind` has `at` within `[low, high]`.
    FactAtWithin {
        kind: String,
        low: i64,
        high: i64,
    },
    /// The resource carries one of these `(system, code)` labels.
    Label(Vec<(String, String)>),
    /// The resource carries this label, set after `cutoff` or at an unknown time (0).
    LabelSetAfter {
        system: String,
        code: String,
        cutoff: i64,
    },
    /// The resource is one of these `(type, id)`.
    IdIn(Vec<(String, String)>),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// A fact row: its code, and its system and the resource's type when they are given.
#[derive(Debug, Clone, PartialEq)]
pub struct FactMatch {
    pub code: String,
    pub system: Option<String>,
    pub resource_type: Option<String>,
}

/// ` AND …` of the scope alternatives and the records filter of `filter` on the resource
/// row `row` (empty when it has neither); not its patient restriction, which is about the
/// matches of a search, not what they lead to.
pub(super) fn scope_and_records_clause(
    filter: &AccessFilter,
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let mut sql = Sql::new("");
    if let Some(alternatives) = &filter.alternatives {
        sql.append(alternatives_clause(alternatives, row, aliases, now_ms)?);
    }
    if let Some(records) = &filter.records {
        sql.append(records_clause(records, row, aliases));
    }
    Ok(sql)
}

/// `AND (…)` of the scope alternatives, on the resource row `row`.
fn alternatives_clause(
    alternatives: &[AccessAlternative],
    row: &str,
    aliases: &mut Aliases,
    now_ms: i64,
) -> Result<Sql, StorageError> {
    let mut sql = Sql::new(" AND (");
    if alternatives.is_empty() {
        sql.push("1 = 0");
    }
    for (n, alternative) in alternatives.iter().enumerate() {
        if n > 0 {
            sql.push(" OR ");
        }
        sql.push(&format!("({row}.res_type IN ("));
        if alternative.types.is_empty() {
            sql.push("NULL");
        }
        sql.texts(alternative.types.iter().cloned());
        sql.push(")");
        if let Some(patient) = &alternative.patient {
            let ac = aliases.next("ac");
            sql.push(&format!(" AND EXISTS (SELECT 1 FROM resource_compartment {ac} WHERE {ac}.res_type = {row}.res_type AND {ac}.res_id = {row}.res_id AND {ac}.patient_id = "))
                .text(patient.clone())
                .push(")");
        }
        for c in &alternative.criteria {
            sql.push(" AND ")
                .append(criterion(c, row, aliases, now_ms)?);
        }
        sql.push(")");
    }
    sql.push(")");
    Ok(sql)
}

/// `AND …` of the records filter on the resource row `row`: no compartment row of the
/// resource whose record does not let it through, and, without any compartment row, the
/// `outside` condition.
pub(super) fn records_clause(filter: &RecordsFilter, row: &str, aliases: &mut Aliases) -> Sql {
    let rc = aliases.next("rc");
    let mut sql = Sql::new(&format!(
        " AND NOT EXISTS (SELECT 1 FROM resource_compartment {rc} WHERE {rc}.res_type = {row}.res_type AND {rc}.res_id = {row}.res_id AND NOT ("
    ));
    if filter.records.is_empty() {
        sql.push("1 = 0");
    }
    for (n, record) in filter.records.iter().enumerate() {
        if n > 0 {
            sql.push(" OR ");
        }
        sql.push(&format!("({rc}.patient_id IN ("));
        if record.patients.is_empty() {
            sql.push("NULL");
        }
        sql.texts(record.patients.iter().cloned());
        sql.push(") AND ")
            .append(condition(&record.condition, row, aliases))
            .push(")");
    }
    sql.push("))");
    if filter.outside != Condition::All {
        let any = aliases.next("rc");
        sql.push(&format!(
            " AND (EXISTS (SELECT 1 FROM resource_compartment {any} WHERE {any}.res_type = {row}.res_type AND {any}.res_id = {row}.res_id) OR "
        ))
        .append(condition(&filter.outside, row, aliases))
        .push(")");
    }
    sql
}

/// The SQL of a condition on the resource row `row`.
pub(super) fn condition(condition: &Condition, row: &str, aliases: &mut Aliases) -> Sql {
    let owned = |alias: &str| {
        format!("{alias}.res_type = {row}.res_type AND {alias}.res_id = {row}.res_id")
    };
    match condition {
        Condition::All => Sql::new("1 = 1"),
        Condition::Nothing => Sql::new("1 = 0"),
        Condition::TypeIn(types) => {
            let mut sql = Sql::new(&format!("{row}.res_type IN ("));
            if types.is_empty() {
                sql.push("NULL");
            }
            sql.texts(types.iter().cloned());
            sql.push(")");
            sql
        }
        Condition::Fact { kind, matches } => {
            let f = aliases.next("f");
            let mut sql = Sql::new(&format!(
                "EXISTS (SELECT 1 FROM resource_fact {f} WHERE {} AND {f}.kind = ",
                owned(&f)
            ));
            sql.text(kind.clone()).push(" AND (");
            if matches.is_empty() {
                sql.push("1 = 0");
            }
            for (n, m) in matches.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                sql.push(&format!("({f}.code = ")).text(m.code.clone());
                if let Some(system) = &m.system {
                    sql.push(&format!(" AND {f}.system = "))
                        .text(system.clone());
                }
                if let Some(t) = &m.resource_type {
                    sql.push(&format!(" AND {row}.res_type = ")).text(t.clone());
                }
                sql.push(")");
            }
            sql.push("))");
            sql
        }
        Condition::FactAtWithin { kind, low, high } => {
            let f = aliases.next("f");
            let mut sql = Sql::new(&format!(
                "EXISTS (SELECT 1 FROM resource_fact {f} WHERE {} AND {f}.kind = ",
                owned(&f)
            ));
            sql.text(kind.clone())
                .push(&format!(" AND {f}.at >= "))
                .int(*low)
                .push(&format!(" AND {f}.at <= "))
                .int(*high)
                .push(")");
            sql
        }
        Condition::Label(labels) => {
            let l = aliases.next("lb");
            let mut sql = Sql::new(&format!(
                "EXISTS (SELECT 1 FROM resource_label {l} WHERE {} AND (",
                owned(&l)
            ));
            if labels.is_empty() {
                sql.push("1 = 0");
            }
            for (n, (system, code)) in labels.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                sql.push(&format!("({l}.system = "))
                    .text(system.clone())
                    .push(&format!(" AND {l}.code = "))
                    .text(code.clone())
                    .push(")");
            }
            sql.push("))");
            sql
        }
        Condition::LabelSetAfter {
            system,
            code,
            cutoff,
        } => {
            let l = aliases.next("lb");
            let mut sql = Sql::new(&format!(
                "EXISTS (SELECT 1 FROM resource_label {l} WHERE {} AND {l}.system = ",
                owned(&l)
            ));
            sql.text(system.clone())
                .push(&format!(" AND {l}.code = "))
                .text(code.clone())
                .push(&format!(" AND ({l}.set_at > "))
                .int(*cutoff)
                .push(&format!(" OR {l}.set_at = 0))"));
            sql
        }
        Condition::IdIn(ids) => {
            let mut parts = Vec::new();
            for (t, id) in ids {
                let mut sql = Sql::new(&format!("({row}.res_type = "));
                sql.text(t.clone())
                    .push(&format!(" AND {row}.res_id = "))
                    .text(id.clone())
                    .push(")");
                parts.push(sql);
            }
            if parts.is_empty() {
                return Sql::new("1 = 0");
            }
            let mut sql = Sql::new("(");
            sql.append(Sql::join(parts, " OR ")).push(")");
            sql
        }
        Condition::Not(inner) => {
            let mut sql = Sql::new("NOT (");
            sql.append(self::condition(inner, row, aliases)).push(")");
            sql
        }
        Condition::And(all) | Condition::Or(all) => {
            let (joiner, empty) = if matches!(condition, Condition::And(_)) {
                (" AND ", "1 = 1")
            } else {
                (" OR ", "1 = 0")
            };
            if all.is_empty() {
                return Sql::new(empty);
            }
            let parts: Vec<Sql> = all
                .iter()
                .map(|c| self::condition(c, row, aliases))
                .collect();
            let mut sql = Sql::new("(");
            sql.append(Sql::join(parts, joiner)).push(")");
            sql
        }
    }
}
