//! The FHIRPath functions `eval` supports (FHIRPath N1 §5 and the FHIR additions
//! `resolve()` and `extension()`): filtering and projection, existence, subsetting, type
//! tests, string tests. Pure; depends on `serde_json` and the schema's element types.

use serde_json::Value;

use super::eval::{Env, EvalError, Items, boolean, push_distinct, single, str_of, to_bool, value};
use super::parse::{Func, Node as Ast};
use super::{Item, Node, Origin, Ty, reference_target};

impl<'a> Env<'a> {
    pub(super) fn call(
        &self,
        func: &'a Func,
        input: Items<'a>,
        focus: &[Item<'a>],
    ) -> Result<Items<'a>, EvalError> {
        let test = |crit: &'a Ast, item: Item<'a>, op| -> Result<Option<bool>, EvalError> {
            to_bool(&self.eval(crit, &[item])?, op)
        };
        Ok(match func {
            Func::Where(crit) => {
                let mut out = Vec::new();
                for item in input {
                    if test(crit, item, "where")? == Some(true) {
                        out.push(item);
                    }
                }
                out
            }
            Func::Select(expr) => {
                let mut out = Vec::new();
                for item in input {
                    out.extend(self.eval(expr, &[item])?);
                }
                out
            }
            Func::All(crit) => {
                let mut all = true;
                for item in input {
                    all &= test(crit, item, "all")? == Some(true);
                }
                boolean(Some(all))
            }
            Func::Exists(None) => boolean(Some(!input.is_empty())),
            Func::Exists(Some(crit)) => {
                let mut any = false;
                for item in input {
                    any |= test(crit, item, "exists")? == Some(true);
                }
                boolean(Some(any))
            }
            Func::Empty => boolean(Some(input.is_empty())),
            Func::Not => boolean(to_bool(&input, "not")?.map(|b| !b)),
            Func::First => input.first().copied().into_iter().collect(),
            Func::Last => input.last().copied().into_iter().collect(),
            Func::Tail => input.into_iter().skip(1).collect(),
            Func::Count => vec![value(Node::Integer(
                i64::try_from(input.len()).unwrap_or(i64::MAX),
            ))],
            Func::Distinct => {
                let mut out = Vec::with_capacity(input.len());
                for item in input {
                    push_distinct(&mut out, item);
                }
                out
            }
            Func::HasValue => boolean(single(&input, "hasValue")?.map(|i| {
                matches!(
                    i.node,
                    Node::Json(Value::String(_) | Value::Number(_) | Value::Bool(_))
                )
            })),
            Func::Resolve => input.iter().filter_map(|i| self.resolve(i)).collect(),
            Func::OfType(ty) => input
                .into_iter()
                .filter(|i| self.model.is_type(i, ty))
                .collect(),
            Func::Is(ty) => boolean(single(&input, "is")?.map(|i| self.model.is_type(i, ty))),
            Func::Extension(url) => {
                let url = self.eval(url, focus)?;
                let Some(url) = single(&url, "extension")?.and_then(str_of) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for item in &input {
                    self.extensions(item, url, &mut out);
                }
                out
            }
            Func::StartsWith(arg) | Func::EndsWith(arg) | Func::ContainsStr(arg) => {
                let arg = self.eval(arg, focus)?;
                let (Some(s), Some(a)) = (
                    single(&input, "string function")?.and_then(str_of),
                    single(&arg, "string function")?.and_then(str_of),
                ) else {
                    return Ok(Vec::new());
                };
                boolean(Some(match func {
                    Func::StartsWith(_) => s.starts_with(a),
                    Func::EndsWith(_) => s.ends_with(a),
                    _ => s.contains(a),
                }))
            }
            Func::Matches(regex) => boolean(
                single(&input, "matches")?
                    .and_then(str_of)
                    .map(|s| regex.is_match(s)),
            ),
        })
    }

    /// `resolve()`: a contained resource (`#id`) itself; otherwise only the type of the
    /// target, read from the reference (`Patient/1`, an absolute URL, a canonical) or from
    /// `Reference.type` when there is no literal reference.
    fn resolve(&self, item: &Item<'a>) -> Option<Item<'a>> {
        let resolved = |s: &'a str| {
            reference_target(s)
                .map(|(ty, _)| ty)
                .filter(|ty| self.model.schema.is_resource_type(ty))
                .map(|ty| value(Node::Resolved(ty)))
        };
        match item.node {
            Node::Resolved(_) => Some(*item),
            Node::Json(Value::String(s)) => resolved(s),
            Node::Json(Value::Object(map)) => {
                if map.contains_key("resourceType") {
                    return Some(*item);
                }
                match map.get("reference").and_then(Value::as_str) {
                    Some("#") => Some(self.resource),
                    Some(r) if r.starts_with('#') => self.contained(&r[1..]),
                    Some(r) => resolved(r),
                    None => {
                        let ty = map.get("type").and_then(Value::as_str)?;
                        let ty = ty.rsplit('/').next().unwrap_or(ty);
                        self.model
                            .schema
                            .is_resource_type(ty)
                            .then(|| value(Node::Resolved(ty)))
                    }
                }
            }
            _ => None,
        }
    }

    fn contained(&self, id: &str) -> Option<Item<'a>> {
        let contained = self.resource.json()?.get("contained")?.as_array()?;
        let found = contained
            .iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))?;
        Some(self.model.resource_item(found))
    }

    /// The extensions with `url` of an item; a primitive's are in its `_name` sibling.
    fn extensions(&self, item: &Item<'a>, url: &str, out: &mut Items<'a>) {
        let holder = match item.node {
            Node::Json(v @ Value::Object(_)) => Some(v),
            _ => item.primitive_element(),
        };
        let Some(Value::Object(map)) = holder else {
            return;
        };
        let Some((key, Value::Array(list))) = map.get_key_value("extension") else {
            return;
        };
        let ty = Ty::Struct(self.model.schema.extension);
        for (i, ext) in list.iter().enumerate() {
            if ext.get("url").and_then(Value::as_str) == Some(url) {
                out.push(Item {
                    node: Node::Json(ext),
                    ty,
                    origin: Some(Origin {
                        parent: map,
                        key,
                        index: Some(i),
                    }),
                });
            }
        }
    }
}
