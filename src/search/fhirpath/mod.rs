//! The subset of FHIRPath (<http://hl7.org/fhirpath/N1/>) that search parameter expressions
//! use, evaluated over resource JSON (`serde_json::Value`): path navigation through objects
//! and arrays (choice elements `value[x]` found as `valueQuantity`, ...), unions `|`,
//! `where`/`select`/`exists`/`empty`/`not`/`first`/`last`/`tail`/`count`/`distinct`,
//! `resolve()` (decided from the reference string, or the contained resource), type tests
//! `is`/`as`/`ofType`, `extension(url)`, boolean logic, (in)equality and comparison,
//! indexers, `%resource`/`%context`, and the string functions `startsWith`, `endsWith`,
//! `contains` and `matches`. Arithmetic, date literals and the remaining functions are
//! refused when the expression is parsed, so an unsupported expression is known up front.
//!
//! Element types come from the R4 structure (`crate::fhir::schema::Schema`): every item
//! carries its FHIR type when the schema knows it. Pure: no I/O; depends only on `std`,
//! `serde_json`, `regex` and `crate::fhir::schema`.

mod eval;
mod functions;
mod lex;
mod parse;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::fhir::schema::{PrimitiveType, Schema, StructId};

pub use eval::EvalError;
pub use parse::ParseError;

/// A parsed FHIRPath expression, ready to be evaluated many times.
#[derive(Debug)]
pub struct Expression {
    text: String,
    root: parse::Node,
}

impl Expression {
    /// Parse `text`; an expression using anything outside the supported subset is refused.
    pub fn parse(text: &str) -> Result<Expression, ParseError> {
        Ok(Expression {
            text: text.to_owned(),
            root: parse::parse(text)?,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluate on a resource: `%resource`, `%context` and the initial focus are `resource`.
    pub fn evaluate<'a>(
        &'a self,
        model: &'a Model,
        resource: &'a Value,
    ) -> Result<Vec<Item<'a>>, EvalError> {
        let root = model.resource_item(resource);
        eval::Env::new(model, root, root).eval(&self.root, &[root])
    }

    /// Evaluate with `focus` as the context (a composite parameter's component, relative to
    /// one repetition of its base element); `%resource` is `resource`.
    pub fn evaluate_on<'a>(
        &'a self,
        model: &'a Model,
        resource: &'a Value,
        focus: Item<'a>,
    ) -> Result<Vec<Item<'a>>, EvalError> {
        let root = model.resource_item(resource);
        eval::Env::new(model, root, focus).eval(&self.root, &[focus])
    }
}

/// The R4 structure as the evaluator needs it: element types and datatypes by name.
#[derive(Debug)]
pub struct Model {
    schema: Arc<Schema>,
    /// Datatypes (not resources, not backbone elements) by name: `Quantity`, `HumanName`.
    datatypes: HashMap<String, StructId>,
}

impl Model {
    pub fn new(schema: Arc<Schema>) -> Model {
        let datatypes = schema
            .structs
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.contains('.') && !schema.is_resource_type(&s.name))
            .map(|(id, s)| (s.name.clone(), id))
            .collect();
        Model { schema, datatypes }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The item of a resource, typed by its `resourceType` when the schema knows it.
    pub fn resource_item<'a>(&self, resource: &'a Value) -> Item<'a> {
        Item {
            node: Node::Json(resource),
            ty: self.resource_ty(resource),
            origin: None,
        }
    }

    fn resource_ty(&self, value: &Value) -> Ty {
        value
            .get("resourceType")
            .and_then(Value::as_str)
            .and_then(|name| self.schema.resource(name))
            .map_or(Ty::Unknown, Ty::Struct)
    }

    /// The type of a choice suffix (`Quantity`, `DateTime`) when the element type is unknown.
    fn suffix_ty(&self, suffix: &str) -> Option<Ty> {
        if let Some(id) = self.datatypes.get(suffix) {
            return Some(Ty::Struct(*id));
        }
        PrimitiveType::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(suffix))
            .map(Ty::Primitive)
    }

    fn type_name<'a>(&'a self, item: &Item<'a>) -> Option<&'a str> {
        match (item.node, item.ty) {
            (Node::Resolved(name), _) => Some(name),
            (_, Ty::Struct(id)) => self.schema.structs.get(id).map(|s| s.name.as_str()),
            (_, Ty::Primitive(p)) => Some(p.name()),
            (Node::Json(value), Ty::Unknown) => match value {
                Value::Object(map) => map.get("resourceType").and_then(Value::as_str),
                Value::String(_) => Some("string"),
                Value::Bool(_) => Some("boolean"),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
                Value::Number(_) => Some("decimal"),
                _ => None,
            },
            (Node::Bool(_), _) => Some("boolean"),
            (Node::Integer(_), _) => Some("integer"),
            (Node::Decimal(_), _) => Some("decimal"),
            (Node::String(_), _) => Some("string"),
        }
    }

    /// Whether `item` is of type `wanted` or one of its specialisations (FHIRPath `is`).
    /// Names compare ASCII case-insensitively, so `DateTime` (System) matches `dateTime`.
    /// Primitive types match exactly: `as uri` does not select a `canonical`, as the R4
    /// expressions mean when they pick one type of a choice element.
    pub fn is_type(&self, item: &Item<'_>, wanted: &str) -> bool {
        let Some(actual) = self.type_name(item) else {
            return false;
        };
        if actual.eq_ignore_ascii_case(wanted) {
            return true;
        }
        match wanted {
            "Resource" | "DomainResource" => self.schema.is_resource_type(actual),
            "Quantity" => QUANTITY_PROFILES.contains(&actual),
            _ => false,
        }
    }

    /// The FHIR type of an item: a datatype, resource or backbone element name (`Quantity`,
    /// `Patient`, `Observation.component`), a primitive type name (`dateTime`), the type of
    /// a resolved reference, or `None` when it is not known.
    pub fn item_type<'a>(&'a self, item: &Item<'a>) -> Option<&'a str> {
        match (item.node, item.ty) {
            (Node::Json(_), Ty::Unknown) => None,
            _ => self.type_name(item),
        }
    }
}

/// The R4 types derived from Quantity.
const QUANTITY_PROFILES: [&str; 6] = [
    "Age",
    "Count",
    "Distance",
    "Duration",
    "MoneyQuantity",
    "SimpleQuantity",
];

/// One item of a FHIRPath collection.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    node: Node<'a>,
    ty: Ty,
    /// Where a JSON node was found, for the extensions of a primitive (`_birthDate`).
    origin: Option<Origin<'a>>,
}

/// The value of an item: a node of the resource, a computed or literal value, or a
/// reference resolved to its target type only (the target itself is not available).
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    Json(&'a Value),
    Bool(bool),
    Integer(i64),
    Decimal(f64),
    String(&'a str),
    Resolved(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Unknown,
    Struct(StructId),
    Primitive(PrimitiveType),
}

#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    parent: &'a Map<String, Value>,
    key: &'a str,
    index: Option<usize>,
}

impl<'a> Item<'a> {
    pub fn node(&self) -> Node<'a> {
        self.node
    }

    /// The JSON node of the resource this item is, if it is one.
    pub fn json(&self) -> Option<&'a Value> {
        match self.node {
            Node::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The `{ "id", "extension" }` element of a primitive of the resource: its `_name`
    /// sibling (or that array's entry at the same index).
    fn primitive_element(&self) -> Option<&'a Value> {
        let origin = self.origin?;
        if !matches!(self.node, Node::Json(v) if !v.is_object() && !v.is_array()) {
            return None;
        }
        let sibling = origin.parent.get(&format!("_{}", origin.key))?;
        match origin.index {
            Some(i) => sibling.get(i),
            None => Some(sibling),
        }
    }

    /// The text of a literal string or a JSON string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.node {
            Node::String(s) => Some(s),
            Node::Json(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The boolean value of a computed boolean or a JSON `true`/`false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.node {
            Node::Bool(b) => Some(b),
            Node::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// The target of a literal reference or canonical: `(type, id)` of `Patient/1`,
/// `http://example.org/fhir/Patient/1/_history/2` or `http://hl7.org/fhir/ValueSet/x|4.0.1`.
/// The caller checks that the type is a resource type.
pub fn reference_target(reference: &str) -> Option<(&str, &str)> {
    let path = reference.split('|').next().unwrap_or(reference);
    let path = match path.find("/_history/") {
        Some(i) => &path[..i],
        None => path,
    };
    let mut segments = path.rsplit('/');
    let id = segments.next()?;
    let ty = segments.next()?;
    let valid_type = ty.starts_with(|c: char| c.is_ascii_uppercase())
        && ty.chars().all(|c| c.is_ascii_alphanumeric());
    (valid_type && is_id(id)).then_some((ty, id))
}

/// The R4 `id` format: `[A-Za-z0-9\-\.]{1,64}`.
fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
