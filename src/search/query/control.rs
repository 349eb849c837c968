//! The result parameters of a search (R4 search.html §3.1.1.5–§3.1.1.6): `_count`,
//! `_sort`, `_total`, `_summary`, `_elements`, `_include` / `_revinclude` (with
//! `:iterate`), `_contained` / `_containedType` (only their defaults are supported) and
//! the opaque paging token `_page`. Ignorable problems of one item (an unknown sort key, an
//! unknown element) drop that item only.

use super::Ctx;
use super::error::QueryError;
use super::model::{Column, Include, ResultParams, SortKey, SummaryMode, TotalMode};
use super::parse::describe_scope;
use super::values;
use crate::fhir::schema::Schema;
use crate::search::registry::SearchParamType;

/// The result parameters, by name.
pub(super) const RESULT_PARAMS: [&str; 10] = [
    "_count",
    "_sort",
    "_total",
    "_summary",
    "_elements",
    "_include",
    "_revinclude",
    "_contained",
    "_containedType",
    "_page",
];

/// Those that may appear once.
const SINGLE: [&str; 7] = [
    "_count",
    "_sort",
    "_total",
    "_summary",
    "_contained",
    "_containedType",
    "_page",
];

impl Ctx<'_> {
    /// Read the result parameter `base` (`name` as written, with `modifier`) into `result`.
    #[expect(clippy::too_many_arguments, reason = "the parts of one parameter")]
    pub(super) fn result_param(
        &mut self,
        scope: &[String],
        result: &mut ResultParams,
        seen: &mut Vec<String>,
        name: &str,
        base: &str,
        modifier: Option<&str>,
        value: &str,
    ) -> Result<(), QueryError> {
        let iterate = match (base, modifier) {
            (_, None) => false,
            ("_include" | "_revinclude", Some("iterate" | "recurse")) => true,
            (_, Some(m)) => {
                return Err(QueryError::UnknownModifier {
                    name: name.to_owned(),
                    modifier: m.to_owned(),
                });
            }
        };
        if SINGLE.contains(&base) {
            if seen.iter().any(|s| s == base) {
                return Err(QueryError::Repeated {
                    name: base.to_owned(),
                });
            }
            seen.push(base.to_owned());
        }
        let bad = |reason: &str| QueryError::bad(name, value, reason);
        match base {
            "_count" => {
                let count = value
                    .parse::<u32>()
                    .map_err(|_| bad("expected a non-negative integer"))?;
                result.count = Some(count);
            }
            "_total" => {
                result.total = Some(match value {
                    "none" => TotalMode::None,
                    "estimate" => TotalMode::Estimate,
                    "accurate" => TotalMode::Accurate,
                    _ => return Err(bad("expected `none`, `estimate` or `accurate`")),
                });
            }
            "_summary" => {
                result.summary = Some(match value {
                    "true" => SummaryMode::True,
                    "text" => SummaryMode::Text,
                    "data" => SummaryMode::Data,
                    "count" => SummaryMode::Count,
                    "false" => SummaryMode::False,
                    _ => {
                        return Err(bad("expected `true`, `text`, `data`, `count` or `false`"));
                    }
                });
            }
            "_sort" => {
                for key in values::alternatives(name, value)? {
                    if let Some(key) = self.sort_key(scope, name, value, key)? {
                        result.sort.push(key);
                    }
                }
            }
            "_elements" => {
                for element in values::alternatives(name, value)? {
                    match self.element(scope, name, element) {
                        Ok(()) => result.elements.push(element.to_owned()),
                        Err(e) => self.soft(name, value, e)?,
                    }
                }
                result.elements.sort();
                result.elements.dedup();
            }
            "_include" | "_revinclude" => {
                if let Some(include) = self.include(name, value, iterate)? {
                    let list = if base == "_include" {
                        &mut result.include
                    } else {
                        &mut result.revinclude
                    };
                    if !list.contains(&include) {
                        list.push(include);
                    }
                }
            }
            "_contained" => match value {
                "false" => {}
                "true" | "both" => {
                    return Err(QueryError::UnsupportedParameter {
                        name: name.to_owned(),
                    });
                }
                _ => return Err(bad("expected `true`, `false` or `both`")),
            },
            "_containedType" => match value {
                "container" => {}
                "contained" => {
                    return Err(QueryError::UnsupportedParameter {
                        name: name.to_owned(),
                    });
                }
                _ => return Err(bad("expected `container` or `contained`")),
            },
            "_page" => {
                if value.is_empty() {
                    return Err(bad("the value is empty"));
                }
                result.page = Some(value.to_owned());
            }
            _ => {
                return Err(QueryError::UnknownParameter {
                    name: name.to_owned(),
                    code: base.to_owned(),
                    scope: describe_scope(scope),
                });
            }
        }
        Ok(())
    }

    /// One `_sort` key (`-date`); `None` when lenient handling drops it.
    fn sort_key(
        &mut self,
        scope: &[String],
        name: &str,
        value: &str,
        key: &str,
    ) -> Result<Option<SortKey>, QueryError> {
        let (descending, code) = match key.strip_prefix('-') {
            Some(code) => (true, code),
            None => (false, key),
        };
        let (param_type, column, index_params) = match code {
            "_id" => (SearchParamType::Token, Column::Id, Vec::new()),
            "_lastUpdated" => (SearchParamType::Date, Column::LastUpdated, Vec::new()),
            _ => match self.lookup(scope, code) {
                Some(def)
                    if def.is_supported()
                        && !matches!(
                            def.param_type(),
                            SearchParamType::Special | SearchParamType::Composite
                        ) =>
                {
                    (def.param_type(), Column::Index, def.index_params())
                }
                Some(_) => {
                    let e = QueryError::UnsupportedParameter {
                        name: format!("{name}={key}"),
                    };
                    self.soft(name, value, e)?;
                    return Ok(None);
                }
                None if code.is_empty() => {
                    return Err(QueryError::bad(name, value, "a sort key is empty"));
                }
                None => {
                    let e = QueryError::UnknownParameter {
                        name: name.to_owned(),
                        code: code.to_owned(),
                        scope: describe_scope(scope),
                    };
                    self.soft(name, value, e)?;
                    return Ok(None);
                }
            },
        };
        Ok(Some(SortKey {
            code: code.to_owned(),
            index_params,
            param_type,
            column,
            descending,
        }))
    }

    /// Check an `_elements` name against the type searched (when there is one).
    fn element(&self, scope: &[String], name: &str, element: &str) -> Result<(), QueryError> {
        let schema = self.registry.model().schema();
        match scope {
            [ty] if !is_element(schema, ty, element) => Err(QueryError::UnknownElement {
                name: name.to_owned(),
                element: element.to_owned(),
                resource_type: ty.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// `Type:param[:target]`, `Type:*` or `*`; `None` when lenient handling drops it.
    fn include(
        &mut self,
        name: &str,
        value: &str,
        iterate: bool,
    ) -> Result<Option<Include>, QueryError> {
        let bad = |reason: String| QueryError::bad(name, value, reason);
        if value == "*" {
            return Ok(Some(Include {
                source_type: None,
                param: None,
                target_type: None,
                iterate,
            }));
        }
        let parts: Vec<&str> = value.split(':').collect();
        let (source, param, target) = match parts.as_slice() {
            [source, param] => (*source, *param, None),
            [source, param, target] => (*source, *param, Some(*target)),
            _ => {
                return Err(bad(
                    "expected `Type:parameter`, `Type:parameter:target` or `*`".into(),
                ));
            }
        };
        if !self.is_type(source) {
            return Err(bad(format!("`{source}` is not a resource type")));
        }
        if param == "*" {
            if target.is_some() {
                return Err(bad("`Type:*` takes no target".into()));
            }
            return Ok(Some(Include {
                source_type: Some(source.to_owned()),
                param: None,
                target_type: None,
                iterate,
            }));
        }
        let source_scope = [source.to_owned()];
        let Some(def) = self.lookup(&source_scope, param) else {
            let e = QueryError::UnknownParameter {
                name: name.to_owned(),
                code: param.to_owned(),
                scope: describe_scope(&source_scope),
            };
            self.soft(name, value, e)?;
            return Ok(None);
        };
        if def.param_type() != SearchParamType::Reference {
            return Err(bad(format!("`{source}:{param}` is not a reference")));
        }
        if let Some(target) = target {
            let known = self.is_type(target)
                && (def.targets().is_empty() || def.targets().iter().any(|t| t == target));
            if !known {
                return Err(bad(format!(
                    "`{target}` is not a target of `{source}:{param}`"
                )));
            }
        }
        Ok(Some(Include {
            source_type: Some(source.to_owned()),
            param: Some(param.to_owned()),
            target_type: target.map(str::to_owned),
            iterate,
        }))
    }
}

/// Whether `name` is a top-level element of `resource_type`: its name (`value` for
/// `value[x]`) or one of its JSON properties (`valueQuantity`).
fn is_element(schema: &Schema, resource_type: &str, name: &str) -> bool {
    let Some(id) = schema.resource(resource_type) else {
        return false;
    };
    let Some(structure) = schema.structs.get(id) else {
        return false;
    };
    structure.fields.contains_key(name)
        || structure
            .elements
            .iter()
            .any(|e| e.name.strip_suffix("[x]").unwrap_or(&e.name) == name)
}
