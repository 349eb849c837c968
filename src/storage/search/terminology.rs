//! The terminology of a query, resolved once before its SQL is built: each ValueSet of
//! `:in`/`:not-in` expanded and each code of `:above`/`:below` taken down (or up) its
//! CodeSystem's hierarchy (`search::terminology`), from the ValueSets and CodeSystems
//! stored in Carnet (current versions, found by `url` in `search_uri` or by id). They are
//! directory data (in no patient compartment); only their codes reach the query, never
//! their content. What cannot be resolved is `StorageError::Query`, naming the parameter.

use std::collections::HashMap;

use serde_json::Value;

use super::sql::{Sql, load_found};
use crate::search::query::{CodeRef, Criterion, Match, Subsumption, ValueSetRef};
use crate::search::terminology::{CodeSet, TermError, TermSource, expand, subsumption};
use crate::storage::conn::Conn;
use crate::storage::error::StorageError;

/// One ValueSet or subsumption a query uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum TermKey {
    ValueSet(ValueSetRef),
    Subsumption(Subsumption, CodeRef),
}

/// The code sets of the terminology a query uses.
#[derive(Debug, Clone, Default)]
pub(super) struct Terms(HashMap<TermKey, CodeSet>);

impl Terms {
    pub(super) fn get(&self, key: &TermKey) -> Option<&CodeSet> {
        self.0.get(key)
    }
}

/// The code sets of every `:in`, `:not-in`, `:above` and `:below` in `criteria` (chains and
/// `_has` included).
pub(super) fn resolve(conn: &mut Conn<'_>, criteria: &[Criterion]) -> Result<Terms, StorageError> {
    let mut terms = Terms::default();
    let mut source = Stored {
        conn,
        code_systems: HashMap::new(),
    };
    for c in criteria {
        walk(&mut source, c, "", &mut terms)?;
    }
    Ok(terms)
}

fn walk(
    source: &mut Stored<'_, '_>,
    criterion: &Criterion,
    path: &str,
    terms: &mut Terms,
) -> Result<(), StorageError> {
    match criterion {
        Criterion::Chain {
            param,
            target_type,
            criterion,
        } => walk(
            source,
            criterion,
            &format!("{path}{param}:{target_type}."),
            terms,
        ),
        Criterion::Has {
            source_type,
            param,
            criterion,
        } => walk(
            source,
            criterion,
            &format!("{path}_has:{source_type}:{param}:"),
            terms,
        ),
        Criterion::List(_) => Ok(()),
        Criterion::Param(p) => match &p.matcher {
            Match::TokenIn { not, value_sets } => {
                let name = format!("{path}{}:{}", p.code, if *not { "not-in" } else { "in" });
                for reference in value_sets {
                    let key = TermKey::ValueSet(reference.clone());
                    if terms.0.contains_key(&key) {
                        continue;
                    }
                    let set = expand(source, reference).map_err(|e| named(&name, e))?;
                    terms.0.insert(key, set);
                }
                Ok(())
            }
            Match::TokenSubsumption { direction, values } => {
                let modifier = match direction {
                    Subsumption::Above => "above",
                    Subsumption::Below => "below",
                };
                let name = format!("{path}{}:{modifier}", p.code);
                for value in values {
                    let key = TermKey::Subsumption(*direction, value.clone());
                    if terms.0.contains_key(&key) {
                        continue;
                    }
                    let set =
                        subsumption(source, *direction, value).map_err(|e| named(&name, e))?;
                    terms.0.insert(key, set);
                }
                Ok(())
            }
            _ => Ok(()),
        },
    }
}

fn named(name: &str, error: TermError<StorageError>) -> StorageError {
    match error {
        TermError::Source(e) => e,
        TermError::Cannot(reason) => StorageError::Query(format!(
            "search parameter `{name}` cannot be resolved: {reason}"
        )),
    }
}

/// The terminology resources stored in Carnet.
struct Stored<'c, 'conn> {
    conn: &'c mut Conn<'conn>,
    code_systems: HashMap<String, Option<Value>>,
}

impl Stored<'_, '_> {
    /// The current, live resources of `res_type`: by id, or by `url` (most recently
    /// updated first).
    fn load(&mut self, res_type: &str, by: By<'_>) -> Result<Vec<Value>, StorageError> {
        let mut sql = Sql::new(
            "SELECT r.res_type, r.res_id, r.version_id, r.last_updated, r.content FROM current_resources r WHERE NOT r.is_deleted AND r.res_type = ",
        );
        sql.text(res_type);
        match by {
            By::Id(id) => {
                sql.push(" AND r.res_id = ").text(id);
            }
            By::Url(url) => {
                sql.push(" AND r.res_id IN (SELECT u.res_id FROM search_uri u WHERE u.res_type = ")
                    .text(res_type)
                    .push(" AND u.param = 'url' AND u.value = ")
                    .text(url)
                    .push(")");
            }
        }
        sql.push(" ORDER BY r.last_updated DESC, r.res_id ASC");
        load_found(self.conn, &sql)?
            .into_iter()
            .filter_map(|row| row.content)
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| StorageError::Corrupt(format!("{res_type}: {e}")))
            })
            .collect()
    }
}

enum By<'a> {
    Id(&'a str),
    Url(&'a str),
}

impl TermSource for Stored<'_, '_> {
    type Error = StorageError;

    fn code_system(&mut self, url: &str) -> Result<Option<Value>, StorageError> {
        if let Some(found) = self.code_systems.get(url) {
            return Ok(found.clone());
        }
        let found = self.load("CodeSystem", By::Url(url))?.into_iter().next();
        self.code_systems.insert(url.to_owned(), found.clone());
        Ok(found)
    }

    fn value_set(&mut self, reference: &ValueSetRef) -> Result<Option<Value>, StorageError> {
        Ok(match reference {
            ValueSetRef::Local(id) => self.load("ValueSet", By::Id(id))?.into_iter().next(),
            ValueSetRef::Canonical { url, version } => {
                self.load("ValueSet", By::Url(url))?.into_iter().find(|vs| {
                    version
                        .as_deref()
                        .is_none_or(|v| vs.get("version").and_then(Value::as_str) == Some(v))
                })
            }
        })
    }
}
