//! Validates the JSON object of a resource, datatype or backbone element against its
//! structure: unknown properties, choice types, cardinality (min, max, array or single),
//! `null` and empty values, primitive `_name` companions and the extension rules.
//! Depends on `schema`, the sibling checks and `serde_json`.

use serde_json::{Map, Value};

use super::issue::{IssueType, quote};
use super::{Validator, json_kind, primitive};
use crate::fhir::schema::{Field, FieldType, StructId};

/// What kind of JSON object is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ObjectKind {
    /// A resource: `resourceType` is allowed.
    Resource,
    /// A datatype or backbone element.
    Element,
    /// The `_name` companion of a primitive: only `id` and `extension`.
    PrimitiveElement,
}

impl Validator<'_> {
    pub(super) fn object(&mut self, sid: StructId, obj: &Map<String, Value>, kind: ObjectKind) {
        let schema = self.schema;
        let st = &schema.structs[sid];
        if obj.is_empty() {
            self.report(
                IssueType::Structure,
                "an object must not be empty".to_owned(),
            );
            return;
        }
        let mut seen: u128 = 0;
        for (key, value) in obj {
            if kind == ObjectKind::Resource && key == "resourceType" {
                continue;
            }
            let (base, companion) = match key.strip_prefix('_') {
                Some(base) => (base, true),
                None => (key.as_str(), false),
            };
            let field = match st.fields.get(base) {
                Some(f) if !companion || matches!(f.ty, FieldType::Primitive(_)) => f,
                _ => {
                    self.report_at(
                        IssueType::Structure,
                        key,
                        format!("unknown element {} in `{}`", quote(key), st.name),
                    );
                    continue;
                }
            };
            if companion && obj.contains_key(base) {
                continue; // checked together with `base`
            }
            let bit = 1u128 << field.element;
            if seen & bit != 0 {
                let other = obj
                    .keys()
                    .map(|k| k.strip_prefix('_').unwrap_or(k))
                    .find(|k| {
                        *k != base
                            && st
                                .fields
                                .get(*k)
                                .is_some_and(|f| f.element == field.element)
                    })
                    .unwrap_or_default();
                self.report_at(
                    IssueType::Structure,
                    base,
                    format!(
                        "only one type of `{}` is allowed, found {} and {}",
                        st.elements[field.element].name,
                        quote(other),
                        quote(base)
                    ),
                );
                continue;
            }
            seen |= bit;
            let (value, partner) = if companion {
                (None, Some(value))
            } else if matches!(field.ty, FieldType::Primitive(_)) {
                self.scratch.clear();
                self.scratch.push('_');
                self.scratch.push_str(base);
                (Some(value), obj.get(self.scratch.as_str()))
            } else {
                (Some(value), None)
            };
            self.property(sid, field, base, value, partner);
        }

        let mut missing = st.required & !seen;
        while missing != 0 {
            let index = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            let name = &st.elements[index].name;
            self.report_at(
                IssueType::Required,
                name,
                format!("missing required element `{name}` in `{}`", st.name),
            );
        }

        if sid == schema.extension {
            self.extension_rules(sid, seen);
        }
        if kind == ObjectKind::Element && obj.len() == 1 && obj.contains_key("id") {
            self.report(
                IssueType::Invalid,
                "an element must have a value or children, not only an `id`".to_owned(),
            );
        }
    }

    /// ext-1: an extension has either a `value[x]` or nested extensions, not both.
    fn extension_rules(&mut self, sid: StructId, seen: u128) {
        let st = &self.schema.structs[sid];
        let has_extension = st
            .fields
            .get("extension")
            .is_some_and(|f| seen & (1u128 << f.element) != 0);
        let has_value = st
            .elements
            .iter()
            .enumerate()
            .any(|(i, e)| e.choice && seen & (1u128 << i) != 0);
        match (has_value, has_extension) {
            (true, true) => self.report(
                IssueType::Invalid,
                "an extension must have either a `value[x]` or nested extensions, not both"
                    .to_owned(),
            ),
            (false, false) => self.report(
                IssueType::Invalid,
                "an extension must have a `value[x]` or nested extensions".to_owned(),
            ),
            _ => {}
        }
    }

    /// One property (and its `_name` companion) of an object.
    fn property(
        &mut self,
        sid: StructId,
        field: &Field,
        name: &str,
        value: Option<&Value>,
        partner: Option<&Value>,
    ) {
        let element = &self.schema.structs[sid].elements[field.element];
        let mark = self.push_key(name);
        if element.max == Some(0) {
            self.report(
                IssueType::Structure,
                format!("element `{name}` is not allowed here"),
            );
        } else if element.repeats() {
            self.repeating(field, name, element.max, value, partner);
        } else if value.is_some_and(Value::is_array) || partner.is_some_and(Value::is_array) {
            self.report(
                IssueType::Structure,
                format!("element `{name}` has at most one value and must not be an array"),
            );
        } else {
            self.item(field, value, partner, false);
        }
        self.path.truncate(mark);
    }

    fn repeating(
        &mut self,
        field: &Field,
        name: &str,
        max: Option<u32>,
        value: Option<&Value>,
        partner: Option<&Value>,
    ) {
        let values = match value {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                self.report(
                    IssueType::Structure,
                    format!(
                        "element `{name}` repeats and must be an array, found {}",
                        json_kind(other)
                    ),
                );
                return;
            }
        };
        let partners = match partner {
            None => None,
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                self.report(
                    IssueType::Structure,
                    format!(
                        "`_{name}` must be an array like `{name}`, found {}",
                        json_kind(other)
                    ),
                );
                return;
            }
        };
        let len = values.map_or(0, Vec::len);
        let partner_len = partners.map_or(0, Vec::len);
        if values.is_some_and(Vec::is_empty) || partners.is_some_and(Vec::is_empty) {
            self.report(
                IssueType::Structure,
                "an array must not be empty; omit the element instead".to_owned(),
            );
            return;
        }
        if values.is_some() && partners.is_some() && len != partner_len {
            self.report(
                IssueType::Structure,
                format!(
                    "`{name}` and `_{name}` must have the same length, found {len} and {partner_len}"
                ),
            );
        }
        let count = len.max(partner_len);
        if let Some(max) = max
            && count > max as usize
        {
            self.report(
                IssueType::Structure,
                format!("element `{name}` has {count} values, at most {max} are allowed"),
            );
        }
        for index in 0..count {
            let mark = self.push_index(index);
            let item = values.and_then(|v| v.get(index));
            let item_partner = partners.and_then(|p| p.get(index));
            if item.is_some() || item_partner.is_some() {
                self.item(field, item, item_partner, true);
            }
            self.path.truncate(mark);
        }
    }

    /// One value at the current location, with its `_name` companion for primitives.
    /// `null` is allowed only inside an array, to align a value with its companion.
    fn item(
        &mut self,
        field: &Field,
        value: Option<&Value>,
        partner: Option<&Value>,
        in_array: bool,
    ) {
        let has_value = value.is_some_and(|v| !v.is_null());
        let has_partner = partner.is_some_and(|p| !p.is_null());
        let has_null = value.is_some_and(Value::is_null) || partner.is_some_and(Value::is_null);
        if has_null && !(in_array && (has_value || has_partner)) {
            self.report(IssueType::Structure, null_message(in_array));
        }
        if let Some(value) = value.filter(|v| !v.is_null()) {
            self.value(field, value);
        }
        if let Some(partner) = partner.filter(|p| !p.is_null()) {
            match partner {
                Value::Object(obj) => {
                    self.object(self.schema.primitive_element, obj, ObjectKind::PrimitiveElement);
                }
                other => self.report(
                    IssueType::Structure,
                    format!(
                        "the `_` companion of a primitive must be an object with `id` or `extension`, found {}",
                        json_kind(other)
                    ),
                ),
            }
        }
    }

    fn value(&mut self, field: &Field, value: &Value) {
        match field.ty {
            FieldType::Primitive(ty) => match primitive::check(self.schema, ty, value) {
                Ok(()) => {
                    if let (Some(vs), Value::String(code)) = (field.binding, value) {
                        self.check_code(vs, code);
                    }
                }
                Err((code, message)) => self.report(code, message),
            },
            FieldType::Complex(sid) => match value {
                Value::Object(obj) => {
                    self.object(sid, obj, ObjectKind::Element);
                    if let Some(vs) = field.binding {
                        self.check_codings(sid, obj, vs);
                    }
                }
                other => {
                    let name = &self.schema.structs[sid].name;
                    self.report(
                        IssueType::Structure,
                        format!(
                            "a `{name}` must be a json object, found {}",
                            json_kind(other)
                        ),
                    );
                }
            },
            FieldType::Resource => self.resource(value, false),
        }
    }
}

fn null_message(in_array: bool) -> String {
    if in_array {
        "an array item must not be `null` unless its `_` companion has a value".to_owned()
    } else {
        "`null` is not allowed; omit the element instead".to_owned()
    }
}
