//! The plan of `search_examples`: which official example and which queries exercise each
//! search parameter of the registry, or why none does. Carnet's extraction only picks the
//! example (the first of the parameter's base type it yields a value for) and its FHIRPath
//! evaluator locates the element; the queries come from that element's JSON
//! (`search_examples_queries`). Values the test reads in an example that the extraction
//! does not index are reported.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use carnet::search::extract::{IndexEntry, extract};
use carnet::search::fhirpath::{Item, Model, Node};
use carnet::search::registry::{SearchParamDef, SearchParamType, SearchRegistry};

use crate::examples::{examples, exceptions};
use crate::search_examples_queries::{Derived, Probe, component_value, derive};

/// One example as stored.
pub struct Example {
    pub resource_type: String,
    pub id: String,
    pub json: Value,
    /// The parameter codes Carnet's extraction yields a value for.
    pub extracted: BTreeSet<String>,
}

/// What to query for one parameter.
pub enum Values {
    Derived(Derived),
    /// `_lastUpdated`: the value the server set, known once the example is stored.
    LastUpdated,
}

pub struct Plan {
    pub code: String,
    pub param_type: SearchParamType,
    pub example: usize,
    pub values: Values,
    pub with_missing: bool,
}

/// The counts of one parameter type.
#[derive(Default)]
pub struct Tally {
    pub exercised: usize,
    pub no_value: usize,
    pub not_derivable: usize,
    pub unsupported: usize,
}

/// The value of a FHIRPath item as JSON (computed booleans and strings included).
fn item_value(item: &Item<'_>) -> Option<Value> {
    match item.node() {
        Node::Json(v) => Some(v.clone()),
        Node::Bool(b) => Some(Value::Bool(b)),
        Node::Integer(i) => Some(Value::from(i)),
        Node::Decimal(d) => Some(Value::from(d)),
        Node::String(s) => Some(Value::from(s)),
        Node::Resolved(_) => None,
    }
}

/// The queries for the first item of `def`'s expression on `resource` that gives some.
fn derive_from(model: &Model, def: &SearchParamDef, resource: &Value) -> Result<Derived, String> {
    let expression = def.expression().ok_or("no expression")?;
    let items = expression
        .evaluate(model, resource)
        .map_err(|e| e.to_string())?;
    let mut why = "the expression selects nothing".to_owned();
    for item in &items {
        let derived = if def.param_type() == SearchParamType::Composite {
            composite(model, def, resource, item)
        } else {
            match item_value(item) {
                Some(value) => derive(
                    def.param_type().code(),
                    def.code(),
                    def.targets(),
                    &value,
                    model.item_type(item),
                ),
                None => Err("a reference resolved to its type only".to_owned()),
            }
        };
        match derived {
            Ok(d) => return Ok(d),
            Err(e) => why = e,
        }
    }
    Err(why)
}

/// `a$b`: the first value of each component within one repetition of the base element.
fn composite(
    model: &Model,
    def: &SearchParamDef,
    resource: &Value,
    item: &Item<'_>,
) -> Result<Derived, String> {
    let mut parts = Vec::new();
    for component in def.components() {
        let expression = component
            .expression()
            .ok_or("a component without expression")?;
        let items = expression
            .evaluate_on(model, resource, *item)
            .map_err(|e| e.to_string())?;
        let value = items
            .iter()
            .filter_map(|i| {
                let v = item_value(i)?;
                component_value(component.param_type().code(), &v, model.item_type(i)).ok()
            })
            .next()
            .ok_or_else(|| format!("component {} has no usable value", component.code()))?;
        parts.push(value);
    }
    let joined = |first: &str| {
        std::iter::once(first.to_owned())
            .chain(parts[1..].iter().map(|p| p.matching.clone()))
            .collect::<Vec<_>>()
            .join("$")
    };
    let code = def.code().to_owned();
    Ok(Derived {
        matching: vec![Probe {
            label: "a$b",
            pairs: vec![(code.clone(), joined(&parts[0].matching))],
        }],
        not_matching: Probe {
            label: "other a, same b",
            pairs: vec![(code, joined(&parts[0].not_matching))],
        },
    })
}

pub fn load_examples(registry: &SearchRegistry) -> Vec<Example> {
    let exceptions = exceptions();
    examples()
        .into_iter()
        .filter(|(name, _)| !exceptions.contains_key(name))
        .map(|(_, json)| {
            let resource_type = json["resourceType"].as_str().unwrap().to_owned();
            let id = json["id"].as_str().unwrap().to_owned();
            let extracted = extract(registry, &resource_type, &json)
                .iter()
                .map(|e: &IndexEntry| e.param().to_owned())
                .collect();
            Example {
                resource_type,
                id,
                json,
                extracted,
            }
        })
        .collect()
}

/// What the test will do, and what it will not with the reason.
pub struct Planned {
    /// One per supported parameter with a value in the examples.
    pub plans: Vec<Plan>,
    pub tallies: BTreeMap<&'static str, Tally>,
    /// The parameters not exercised, with the reason.
    pub skipped: Vec<String>,
    /// Values the test reads in an example that the extraction does not index.
    pub missed: Vec<String>,
    /// `(type, code)` of the unsupported parameters: absent from the CapabilityStatement.
    pub unsupported: Vec<(String, String)>,
}

/// The plan for every parameter of the registry.
pub fn plan(registry: &SearchRegistry, examples: &[Example]) -> Planned {
    let mut plans = Vec::new();
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut missed = Vec::new();
    let mut unsupported = Vec::new();
    for def in registry.definitions() {
        let tally = tallies.entry(def.param_type().code()).or_default();
        if !def.is_supported() {
            tally.unsupported += 1;
            let listed_on = if def.is_common() {
                "Patient"
            } else {
                def.base()
            };
            unsupported.push((listed_on.to_owned(), def.code().to_owned()));
            skipped.push(format!(
                "{} {} ({}): not supported: {}",
                def.base(),
                def.code(),
                def.param_type().code(),
                def.unsupported_reason().unwrap_or("")
            ));
            continue;
        }
        let candidates = examples
            .iter()
            .enumerate()
            .filter(|(_, e)| def.is_common() || e.resource_type == def.base());
        let mut chosen = None;
        let mut why_not = None;
        for (index, example) in candidates {
            let values = match def.code() {
                "_lastUpdated" => Ok(Values::LastUpdated),
                "_id" => derive("token", "_id", &[], &Value::from(example.id.as_str()), None)
                    .map(Values::Derived),
                _ => derive_from(registry.model(), def, &example.json).map(Values::Derived),
            };
            let extracted = example.extracted.contains(def.code())
                || matches!(def.code(), "_id" | "_lastUpdated");
            match (values, extracted) {
                (Ok(values), true) => {
                    chosen = Some((index, values));
                    break;
                }
                (Ok(_), false) => missed.push(format!(
                    "{} {}: {}/{} has a value the extraction does not index",
                    def.base(),
                    def.code(),
                    example.resource_type,
                    example.id
                )),
                (Err(e), true) => {
                    why_not.get_or_insert(format!("{}/{}: {e}", example.resource_type, example.id));
                }
                (Err(_), false) => {}
            }
        }
        let label = format!(
            "{} {} ({})",
            def.base(),
            def.code(),
            def.param_type().code()
        );
        match (chosen, why_not) {
            (Some((example, values)), _) => {
                tally.exercised += 1;
                plans.push(Plan {
                    code: def.code().to_owned(),
                    param_type: def.param_type(),
                    example,
                    values,
                    with_missing: def.modifiers().iter().any(|m| m == "missing")
                        && !matches!(def.code(), "_id" | "_lastUpdated"),
                });
            }
            (None, Some(why)) => {
                tally.not_derivable += 1;
                skipped.push(format!("{label}: no query from the value ({why})"));
            }
            (None, None) => {
                tally.no_value += 1;
                skipped.push(format!("{label}: no example has a value"));
            }
        }
    }
    Planned {
        plans,
        tallies,
        skipped,
        missed,
        unsupported,
    }
}
