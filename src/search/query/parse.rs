//! One search criterion from a parameter name and value (R4 search.html §3.1.1.4–§3.1.1.5):
//! the parameter looked up in the registry for the types in scope, its modifier checked
//! against its type, chains (`subject:Patient.name`, `subject.name`, several levels) and
//! reverse chains (`_has:Observation:patient:code`, nested) resolved to the types they
//! cross, and the values parsed by `values`. Every error is returned; the caller decides
//! which ones lenient handling drops.

use super::Ctx;
use super::error::QueryError;
use super::model::{
    Column, ComponentValue, CompositeValue, Criterion, Match, ParamCriterion, StringMode, UriMode,
};
use super::model_terms::{Subsumption, TextScope};
use super::{terms, values};
use crate::fhir::ids::is_valid_id;
use crate::search::registry::{SearchParamDef, SearchParamType};

/// The parameters search.html defines that Carnet does not support.
const UNSUPPORTED: [&str; 2] = ["_query", "_filter"];

/// How the types in scope are named in messages.
pub(super) fn describe_scope(scope: &[String]) -> String {
    if scope.is_empty() {
        "every resource type".to_owned()
    } else {
        format!("`{}`", scope.join("`, `"))
    }
}

impl Ctx<'_> {
    /// The definition of `code` for every type in `scope` (empty: a common parameter).
    pub(super) fn lookup(&self, scope: &[String], code: &str) -> Option<&SearchParamDef> {
        let Some((first, rest)) = scope.split_first() else {
            return self
                .registry
                .definitions()
                .find(|d| d.is_common() && d.code() == code);
        };
        let def = self.registry.param(first, code)?;
        rest.iter()
            .all(|ty| {
                self.registry
                    .param(ty, code)
                    .is_some_and(|d| d.param_type() == def.param_type())
            })
            .then_some(def)
    }

    pub(super) fn is_type(&self, name: &str) -> bool {
        self.registry.model().schema().is_resource_type(name)
    }

    fn known(
        &self,
        scope: &[String],
        full: &str,
        code: &str,
    ) -> Result<&SearchParamDef, QueryError> {
        let def = self
            .lookup(scope, code)
            .ok_or_else(|| QueryError::UnknownParameter {
                name: full.to_owned(),
                code: code.to_owned(),
                scope: describe_scope(scope),
            })?;
        if !def.is_supported() || UNSUPPORTED.contains(&code) {
            return Err(QueryError::UnsupportedParameter {
                name: full.to_owned(),
            });
        }
        Ok(def)
    }

    /// The criterion of the parameter `name` (relative to `scope`; `full` is the name as
    /// written, for messages) with `value`.
    pub(super) fn criterion(
        &self,
        scope: &[String],
        full: &str,
        name: &str,
        value: &str,
    ) -> Result<Criterion, QueryError> {
        if let Some(rest) = name.strip_prefix("_has:") {
            return self.has(scope, full, rest, value);
        }
        let (head, chain) = match name.split_once('.') {
            Some((head, chain)) => (head, Some(chain)),
            None => (name, None),
        };
        let (code, modifier) = match head.split_once(':') {
            Some((code, modifier)) => (code, Some(modifier)),
            None => (head, None),
        };
        if UNSUPPORTED.contains(&code) {
            return Err(QueryError::UnsupportedParameter {
                name: full.to_owned(),
            });
        }
        if code == "_list" && chain.is_none() {
            return list(full, modifier, value);
        }
        let def = self.known(scope, full, code)?;
        if let Some(chain) = chain {
            return self.chain(def, full, modifier, chain, value);
        }
        let column = match code {
            "_id" => Column::Id,
            "_lastUpdated" => Column::LastUpdated,
            _ => Column::Index,
        };
        let matcher = self.matcher(def, full, modifier, value)?;
        Ok(Criterion::Param(ParamCriterion {
            code: code.to_owned(),
            index_params: def.index_params(),
            param_type: def.param_type(),
            column,
            matcher,
        }))
    }

    fn chain(
        &self,
        def: &SearchParamDef,
        full: &str,
        modifier: Option<&str>,
        chain: &str,
        value: &str,
    ) -> Result<Criterion, QueryError> {
        if def.param_type() != SearchParamType::Reference {
            return Err(QueryError::Malformed {
                name: full.to_owned(),
                reason: format!("`{}` is not a reference and cannot be chained", def.code()),
            });
        }
        let target_type = match modifier {
            Some(ty) => self.target_modifier(def, full, ty)?.to_owned(),
            None => {
                let next = chain.split(['.', ':']).next().unwrap_or_default();
                let targets: Vec<String> = if def.targets().is_empty() {
                    self.registry.resource_types().map(str::to_owned).collect()
                } else {
                    def.targets().to_vec()
                };
                let candidates: Vec<String> = targets
                    .into_iter()
                    .filter(|t| self.lookup(std::slice::from_ref(t), next).is_some())
                    .collect();
                match candidates.as_slice() {
                    [] => {
                        return Err(QueryError::UnknownParameter {
                            name: full.to_owned(),
                            code: next.to_owned(),
                            scope: format!("the targets of `{}`", def.code()),
                        });
                    }
                    [one] => one.clone(),
                    _ => {
                        return Err(QueryError::AmbiguousChain {
                            name: full.to_owned(),
                            candidates,
                        });
                    }
                }
            }
        };
        let criterion = self.criterion(std::slice::from_ref(&target_type), full, chain, value)?;
        Ok(Criterion::Chain {
            param: def.code().to_owned(),
            target_type,
            criterion: Box::new(criterion),
        })
    }

    /// A `:[type]` modifier of a reference: a resource type among its targets.
    fn target_modifier<'m>(
        &self,
        def: &SearchParamDef,
        full: &str,
        ty: &'m str,
    ) -> Result<&'m str, QueryError> {
        let allowed =
            self.is_type(ty) && (def.targets().is_empty() || def.targets().iter().any(|t| t == ty));
        if allowed {
            Ok(ty)
        } else {
            Err(QueryError::UnknownModifier {
                name: full.to_owned(),
                modifier: ty.to_owned(),
            })
        }
    }

    /// `_has:Type:param:rest`: `rest` is a parameter of `Type`.
    fn has(
        &self,
        scope: &[String],
        full: &str,
        spec: &str,
        value: &str,
    ) -> Result<Criterion, QueryError> {
        let malformed = |reason: String| QueryError::Malformed {
            name: full.to_owned(),
            reason,
        };
        let mut parts = spec.splitn(3, ':');
        let (Some(source), Some(param), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected `_has:Type:reference:parameter`".into()));
        };
        if source.is_empty() || param.is_empty() || rest.is_empty() {
            return Err(malformed("expected `_has:Type:reference:parameter`".into()));
        }
        if !self.is_type(source) {
            return Err(malformed(format!("`{source}` is not a resource type")));
        }
        let source_scope = [source.to_owned()];
        let def = self.known(&source_scope, full, param)?;
        if def.param_type() != SearchParamType::Reference {
            return Err(malformed(format!("`{source}:{param}` is not a reference")));
        }
        if let [ty] = scope
            && !def.targets().is_empty()
            && !def.targets().contains(ty)
        {
            return Err(malformed(format!(
                "`{source}:{param}` does not reference `{ty}`"
            )));
        }
        let criterion = self.criterion(&source_scope, full, rest, value)?;
        Ok(Criterion::Has {
            source_type: source.to_owned(),
            param: param.to_owned(),
            criterion: Box::new(criterion),
        })
    }

    /// The test of `def` with `modifier` and `value`.
    fn matcher(
        &self,
        def: &SearchParamDef,
        full: &str,
        modifier: Option<&str>,
        value: &str,
    ) -> Result<Match, QueryError> {
        use SearchParamType as T;
        let unknown = |m: &str| QueryError::UnknownModifier {
            name: full.to_owned(),
            modifier: m.to_owned(),
        };
        let text_scope = match def.code() {
            "_text" => Some(TextScope::Narrative),
            "_content" => Some(TextScope::Content),
            _ => None,
        };
        if let (Some(_), Some(m)) = (text_scope, modifier) {
            return Err(unknown(m));
        }
        if modifier == Some("missing") {
            return values::boolean(full, value).map(Match::Missing);
        }
        let alternatives = values::alternatives(full, value)?;
        if let Some(scope) = text_scope {
            let values = each(&alternatives, |a| terms::text(full, a))?;
            return Ok(Match::Text { scope, values });
        }
        let ty = def.param_type();
        match (ty, modifier) {
            (T::String, m) => {
                let mode = match m {
                    None => StringMode::StartsWith,
                    Some("exact") => StringMode::Exact,
                    Some("contains") => StringMode::Contains,
                    Some(m) => return Err(unknown(m)),
                };
                let values = each(&alternatives, |a| values::string(full, a))?;
                Ok(Match::String { mode, values })
            }
            (T::Token, None | Some("not")) => Ok(Match::Token {
                not: modifier.is_some(),
                values: each(&alternatives, |a| values::token(full, a))?,
            }),
            (T::Token, Some("text")) => Ok(Match::TokenText(each(&alternatives, |a| {
                values::string(full, a)
            })?)),
            (T::Token, Some("of-type")) => Ok(Match::OfType(each(&alternatives, |a| {
                values::of_type(full, a)
            })?)),
            (T::Token, Some(m @ ("in" | "not-in"))) => Ok(Match::TokenIn {
                not: m == "not-in",
                value_sets: each(&alternatives, |a| terms::value_set(full, a))?,
            }),
            (T::Token, Some(m @ ("above" | "below"))) => Ok(Match::TokenSubsumption {
                direction: if m == "above" {
                    Subsumption::Above
                } else {
                    Subsumption::Below
                },
                values: each(&alternatives, |a| terms::code_ref(full, a))?,
            }),
            (T::Reference, Some("identifier")) => {
                let values = each(&alternatives, |a| {
                    let token = values::token(full, a)?;
                    if token.code.is_none() {
                        return Err(QueryError::bad(full, a, "an identifier needs a value"));
                    }
                    Ok(token)
                })?;
                Ok(Match::ReferenceIdentifier(values))
            }
            (T::Reference, Some(m @ ("above" | "below"))) => Err(QueryError::UnsupportedModifier {
                name: full.to_owned(),
                modifier: m.to_owned(),
            }),
            (T::Reference, m) => {
                let ty = m.map(|m| self.target_modifier(def, full, m)).transpose()?;
                let is_type = |t: &str| self.is_type(t);
                Ok(Match::Reference(each(&alternatives, |a| {
                    values::reference(full, a, ty, &is_type)
                })?))
            }
            (T::Date, None) => Ok(Match::Date(each(&alternatives, |a| values::date(full, a))?)),
            (T::Number, None) => Ok(Match::Number(each(&alternatives, |a| {
                values::number(full, a)
            })?)),
            (T::Quantity, None) => Ok(Match::Quantity(each(&alternatives, |a| {
                values::quantity(full, a)
            })?)),
            (T::Uri, m) => {
                let mode = match m {
                    None => UriMode::Equals,
                    Some("above") => UriMode::Above,
                    Some("below") => UriMode::Below,
                    Some(m) => return Err(unknown(m)),
                };
                Ok(Match::Uri {
                    mode,
                    values: each(&alternatives, |a| values::uri(full, a))?,
                })
            }
            (T::Composite, None) => Ok(Match::Composite(each(&alternatives, |a| {
                self.composite(def, full, a)
            })?)),
            (T::Special, None) if def.code() == "near" => {
                Ok(Match::Near(each(&alternatives, |a| terms::near(full, a))?))
            }
            (T::Special, _) => Err(QueryError::UnsupportedParameter {
                name: full.to_owned(),
            }),
            (_, Some(m)) => Err(unknown(m)),
        }
    }

    /// One composite alternative: `a$b`, each part by its component's type.
    fn composite(
        &self,
        def: &SearchParamDef,
        full: &str,
        raw: &str,
    ) -> Result<CompositeValue, QueryError> {
        let parts = values::split_unescaped(raw, '$');
        let components = def.components();
        if parts.len() != components.len() {
            return Err(QueryError::bad(
                full,
                raw,
                format!(
                    "expected {} components separated by `$` ({})",
                    components.len(),
                    components
                        .iter()
                        .map(|c| c.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let is_type = |t: &str| self.is_type(t);
        let components = components
            .iter()
            .zip(parts)
            .map(|(component, part)| {
                // No type gives an empty value a meaning (an empty token would match the
                // rows of no code, which the index does not keep).
                if part.is_empty() {
                    return Err(QueryError::bad(
                        full,
                        raw,
                        format!("the `{}` component is empty", component.code()),
                    ));
                }
                let value = values::typed(full, component.param_type(), part, &is_type).map_err(
                    |e| match e {
                        QueryError::BadValue { reason, .. } => QueryError::bad(full, raw, reason),
                        other => other,
                    },
                )?;
                Ok(ComponentValue {
                    code: component.code().to_owned(),
                    value,
                })
            })
            .collect::<Result<Vec<_>, QueryError>>()?;
        Ok(CompositeValue { components })
    }
}

/// Every alternative parsed by `f`.
fn each<T>(
    alternatives: &[&str],
    f: impl Fn(&str) -> Result<T, QueryError>,
) -> Result<Vec<T>, QueryError> {
    alternatives.iter().map(|a| f(a)).collect()
}

/// `_list=id1,id2`: List ids (functional lists such as `$current-problems` are not
/// supported).
fn list(full: &str, modifier: Option<&str>, value: &str) -> Result<Criterion, QueryError> {
    if let Some(m) = modifier {
        return Err(QueryError::UnknownModifier {
            name: full.to_owned(),
            modifier: m.to_owned(),
        });
    }
    let alternatives = values::alternatives(full, value)?;
    if alternatives.iter().any(|a| a.starts_with('$')) {
        return Err(QueryError::UnsupportedParameter {
            name: full.to_owned(),
        });
    }
    let ids = alternatives
        .iter()
        .map(|a| {
            let id = values::unescape(a);
            if is_valid_id(&id) {
                Ok(id)
            } else {
                Err(QueryError::bad(full, a, "expected a List id"))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Criterion::List(ids))
}
