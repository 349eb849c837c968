//! The FHIRPath evaluator: a `parse::Node` tree (paths, operators; the functions are in
//! `functions`) applied to a collection of items, with the collection semantics of
//! FHIRPath N1: empty propagates, `|` removes duplicates, three-valued logic, singleton
//! evaluation of collections. Pure; depends on `serde_json` and `crate::fhir::schema`
//! (element types).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

use super::parse::{BinOp, Node as Ast, Var};
use super::{Item, Model, Node, Origin, Ty};
use crate::fhir::schema::FieldType;

/// Why an expression could not be evaluated on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// An operation that needs at most one item got several (FHIRPath: an error).
    NotSingleton {
        operation: &'static str,
        count: usize,
    },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::NotSingleton { operation, count } => {
                write!(f, "`{operation}` needs at most one item, found {count}")
            }
        }
    }
}

impl std::error::Error for EvalError {}

pub(super) type Items<'a> = Vec<Item<'a>>;

pub(super) struct Env<'a> {
    pub(super) model: &'a Model,
    pub(super) resource: Item<'a>,
    context: Item<'a>,
}

pub(super) fn value(node: Node<'_>) -> Item<'_> {
    Item {
        node,
        ty: Ty::Unknown,
        origin: None,
    }
}

pub(super) fn boolean<'a>(b: Option<bool>) -> Items<'a> {
    b.map(|b| value(Node::Bool(b))).into_iter().collect()
}

/// Singleton evaluation of a collection as a boolean: empty is unknown, one non-boolean
/// item is `true`, several items are an error.
pub(super) fn to_bool(
    items: &[Item<'_>],
    operation: &'static str,
) -> Result<Option<bool>, EvalError> {
    match items {
        [] => Ok(None),
        [item] => Ok(Some(item.as_bool().unwrap_or(true))),
        _ => Err(EvalError::NotSingleton {
            operation,
            count: items.len(),
        }),
    }
}

pub(super) fn single<'i, 'a>(
    items: &'i [Item<'a>],
    operation: &'static str,
) -> Result<Option<&'i Item<'a>>, EvalError> {
    match items {
        [] => Ok(None),
        [item] => Ok(Some(item)),
        _ => Err(EvalError::NotSingleton {
            operation,
            count: items.len(),
        }),
    }
}

/// A comparable view of an item.
#[derive(PartialEq)]
enum Prim<'a> {
    Bool(bool),
    Str(&'a str),
    Num(f64),
    Other(&'a Value),
    Type(&'a str),
}

fn prim<'a>(item: &Item<'a>) -> Prim<'a> {
    match item.node {
        Node::Json(Value::Bool(b)) => Prim::Bool(*b),
        Node::Bool(b) => Prim::Bool(b),
        Node::Json(Value::String(s)) => Prim::Str(s),
        Node::String(s) => Prim::Str(s),
        Node::Json(Value::Number(n)) => Prim::Num(n.as_f64().unwrap_or(f64::NAN)),
        // FHIRPath integers compare as decimals.
        Node::Integer(n) => Prim::Num(n as f64),
        Node::Decimal(d) => Prim::Num(d),
        Node::Json(other) => Prim::Other(other),
        Node::Resolved(t) => Prim::Type(t),
    }
}

fn text_string(item: &Item<'_>) -> Option<String> {
    match prim(item) {
        Prim::Str(s) => Some(
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
        ),
        _ => None,
    }
}

fn equivalent(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (text_string(a), text_string(b)) {
        (Some(x), Some(y)) => x == y,
        _ => prim(a) == prim(b),
    }
}

/// The same item for `|` and `distinct()`: equal primitive values, or the same node of
/// the resource for objects (equal but distinct objects are kept: cheaper, and harmless
/// for indexing, which removes duplicate entries anyway).
fn same(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (prim(a), prim(b)) {
        (Prim::Other(x), Prim::Other(y)) => std::ptr::eq(x, y),
        (x, y) => x == y,
    }
}

pub(super) fn push_distinct<'a>(out: &mut Items<'a>, item: Item<'a>) {
    if !out.iter().any(|o| same(o, &item)) {
        out.push(item);
    }
}

pub(super) fn str_of<'a>(item: &Item<'a>) -> Option<&'a str> {
    match prim(item) {
        Prim::Str(s) => Some(s),
        _ => None,
    }
}

impl<'a> Env<'a> {
    pub(super) fn new(model: &'a Model, resource: Item<'a>, context: Item<'a>) -> Env<'a> {
        Env {
            model,
            resource,
            context,
        }
    }

    pub(super) fn eval(&self, node: &'a Ast, focus: &[Item<'a>]) -> Result<Items<'a>, EvalError> {
        Ok(match node {
            Ast::Empty => Vec::new(),
            Ast::Bool(b) => vec![value(Node::Bool(*b))],
            Ast::Str(s) => vec![value(Node::String(s))],
            Ast::Int(n) => vec![value(Node::Integer(*n))],
            Ast::Dec(d) => vec![value(Node::Decimal(*d))],
            Ast::This => focus.to_vec(),
            Ast::Var(Var::Resource) => vec![self.resource],
            Ast::Var(Var::Context) => vec![self.context],
            Ast::Var(Var::Str(s)) => vec![value(Node::String(s))],
            Ast::Member { base: None, name }
                if name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                // A type name at the start of a path selects the focus if it is of that type.
                focus
                    .iter()
                    .filter(|i| self.model.is_type(i, name))
                    .copied()
                    .collect()
            }
            Ast::Member { base, name } => {
                let mut out = Vec::new();
                let input;
                let input = match base {
                    Some(base) => {
                        input = self.eval(base, focus)?;
                        &input
                    }
                    None => focus,
                };
                for item in input {
                    self.children(item, name, &mut out);
                }
                out
            }
            Ast::Call { base, func } => {
                let input = self.input(base.as_deref(), focus)?;
                self.call(func, input, focus)?
            }
            Ast::Index { base, index } => {
                let input = self.eval(base, focus)?;
                let index = self.eval(index, focus)?;
                match single(&index, "[]")?.map(|i| i.node) {
                    Some(Node::Integer(n)) => usize::try_from(n)
                        .ok()
                        .and_then(|n| input.get(n))
                        .copied()
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                }
            }
            Ast::Binary { op, left, right } => self.binary(*op, left, right, focus)?,
            Ast::TypeOp { as_, operand, ty } => {
                let input = self.eval(operand, focus)?;
                if *as_ {
                    // `as` keeps the items of the type (leniently also in a collection).
                    input
                        .into_iter()
                        .filter(|i| self.model.is_type(i, ty))
                        .collect()
                } else {
                    boolean(single(&input, "is")?.map(|i| self.model.is_type(i, ty)))
                }
            }
        })
    }

    fn input(&self, base: Option<&'a Ast>, focus: &[Item<'a>]) -> Result<Items<'a>, EvalError> {
        match base {
            Some(base) => self.eval(base, focus),
            None => Ok(focus.to_vec()),
        }
    }

    /// The children named `name` of an object item: the element itself, or the
    /// `name[Type]` properties of a choice element.
    fn children(&self, item: &Item<'a>, name: &str, out: &mut Items<'a>) {
        let schema = self.model.schema();
        let (map, structure) = match item.node {
            Node::Json(Value::Object(map)) => match item.ty {
                Ty::Struct(id) => (map, schema.structs.get(id)),
                _ => (map, None),
            },
            // The `id` and `extension` of a primitive are in its `_name` sibling.
            Node::Json(_) if name == "extension" || name == "id" => {
                match item.primitive_element() {
                    Some(Value::Object(map)) => (map, schema.structs.get(schema.primitive_element)),
                    _ => return,
                }
            }
            _ => return,
        };
        let field = structure.and_then(|s| s.fields.get(name));
        if let Some((key, child)) = map.get_key_value(name) {
            self.push(map, key, child, field.map(|f| f.ty), None, out);
            return;
        }
        if field.is_some() {
            // An absent element that is not a choice: nothing to look for.
            return;
        }
        for (key, child) in map {
            let Some(suffix) = key.strip_prefix(name) else {
                continue;
            };
            if !suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            match structure {
                Some(s) => {
                    let Some(field) = s.fields.get(key.as_str()) else {
                        continue;
                    };
                    let is_choice = s
                        .elements
                        .get(field.element)
                        .is_some_and(|e| e.choice && e.name.strip_suffix("[x]") == Some(name));
                    if is_choice {
                        self.push(map, key, child, Some(field.ty), None, out);
                    }
                }
                None => {
                    if let Some(ty) = self.model.suffix_ty(suffix) {
                        self.push(map, key, child, None, Some(ty), out);
                    }
                }
            }
        }
    }

    /// Push the item(s) of property `key`: one per array element, nulls skipped.
    fn push(
        &self,
        parent: &'a Map<String, Value>,
        key: &'a str,
        child: &'a Value,
        field: Option<FieldType>,
        known: Option<Ty>,
        out: &mut Items<'a>,
    ) {
        let typed = |v: &'a Value| match (field, known) {
            (Some(FieldType::Primitive(p)), _) => Ty::Primitive(p),
            (Some(FieldType::Complex(id)), _) => Ty::Struct(id),
            (_, Some(ty)) => ty,
            _ => self.model.resource_ty(v),
        };
        let item = |v: &'a Value, index| Item {
            node: Node::Json(v),
            ty: typed(v),
            origin: Some(Origin { parent, key, index }),
        };
        match child {
            Value::Array(values) => out.extend(
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(i, v)| item(v, Some(i))),
            ),
            Value::Null => {}
            v => out.push(item(v, None)),
        }
    }

    fn binary(
        &self,
        op: BinOp,
        left: &'a Ast,
        right: &'a Ast,
        focus: &[Item<'a>],
    ) -> Result<Items<'a>, EvalError> {
        let l = self.eval(left, focus)?;
        let r = self.eval(right, focus)?;
        let logic = |name| -> Result<(Option<bool>, Option<bool>), EvalError> {
            Ok((to_bool(&l, name)?, to_bool(&r, name)?))
        };
        Ok(match op {
            BinOp::Union => {
                let mut out = Vec::with_capacity(l.len() + r.len());
                for item in l.into_iter().chain(r) {
                    push_distinct(&mut out, item);
                }
                out
            }
            BinOp::And => boolean(match logic("and")? {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            }),
            BinOp::Or => boolean(match logic("or")? {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }),
            BinOp::Xor => boolean(match logic("xor")? {
                (Some(a), Some(b)) => Some(a != b),
                _ => None,
            }),
            BinOp::Implies => boolean(match logic("implies")? {
                (Some(false), _) | (_, Some(true)) => Some(true),
                (Some(true), other) => other,
                (None, _) => None,
            }),
            BinOp::Eq | BinOp::Ne => {
                let eq = if l.is_empty() || r.is_empty() {
                    None
                } else {
                    Some(l.len() == r.len() && l.iter().zip(&r).all(|(a, b)| prim(a) == prim(b)))
                };
                boolean(eq.map(|e| e == (op == BinOp::Eq)))
            }
            BinOp::Equiv | BinOp::NotEquiv => {
                let eq = l.len() == r.len() && l.iter().all(|a| r.iter().any(|b| equivalent(a, b)));
                boolean(Some(eq == (op == BinOp::Equiv)))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let order = match (single(&l, "comparison")?, single(&r, "comparison")?) {
                    (Some(a), Some(b)) => match (prim(a), prim(b)) {
                        (Prim::Num(x), Prim::Num(y)) => x.partial_cmp(&y),
                        (Prim::Str(x), Prim::Str(y)) => Some(x.cmp(y)),
                        _ => None,
                    },
                    _ => None,
                };
                boolean(order.map(|o| match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }))
            }
            BinOp::In | BinOp::Contains => {
                let (needle, haystack) = if op == BinOp::In { (&l, &r) } else { (&r, &l) };
                boolean(
                    single(needle, "membership")?
                        .map(|n| haystack.iter().any(|h| prim(h) == prim(n))),
                )
            }
        })
    }
}
