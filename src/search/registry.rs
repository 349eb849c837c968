//! The SearchParameter registry of FHIR R4: every parameter of every resource type, loaded
//! from the embedded `schemas/r4-search-parameters.json` (derived from the official
//! definitions by `schemas/generate_search.py`), with its FHIRPath expression compiled
//! once. A parameter is *supported* when its expression (and those of its components)
//! compiled, or it is one of the text searches (`_text`, `_content`) that `extract` and
//! storage implement without an expression; unsupported ones stay listed with the reason, so that the CapabilityStatement
//! and the query parser can leave them out.
//!
//! Built once by `SearchRegistry::r4()` and held by the caller; no globals. Pure: depends
//! on `std`, `serde`, `serde_json`, `crate::search::fhirpath`, `crate::fhir::schema` and
//! `crate::error`; no SQL, no HTTP.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use super::fhirpath::{Expression, Model};
use crate::error::{Categorized, ErrorCategory};
use crate::fhir::schema::{Schema, SchemaError};

/// The registry file generated from the official R4 definitions.
const R4_SEARCH_PARAMETERS: &str = include_str!("../../schemas/r4-search-parameters.json");

/// The abstract bases whose parameters apply to every resource type (`DomainResource`:
/// every type with a narrative).
const RESOURCE: &str = "Resource";
/// The special parameter of Location whose expression (`Location.position`) gives the
/// points it matches; its matching is storage's (`extract` indexes the position).
const NEAR: &str = "near";
/// The text searches, without expression: `extract` indexes the words of the narrative and
/// of the whole resource for them.
const TEXT_SEARCHES: [&str; 2] = ["_text", "_content"];
const DOMAIN_RESOURCE: &str = "DomainResource";

/// Why the embedded registry could not be built.
#[derive(Debug)]
pub enum RegistryError {
    /// The file is not the JSON shape the loader expects.
    Parse(String),
    /// The R4 structure the expressions are evaluated against failed to load.
    Schema(SchemaError),
    /// The file is well-formed but inconsistent (unknown type or base, duplicate code).
    Inconsistent(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Parse(e) => write!(f, "the search parameter file cannot be parsed: {e}"),
            RegistryError::Schema(e) => e.fmt(f),
            RegistryError::Inconsistent(e) => {
                write!(f, "the search parameter file is inconsistent: {e}")
            }
        }
    }
}

impl std::error::Error for RegistryError {}

impl Categorized for RegistryError {
    fn category(&self) -> ErrorCategory {
        ErrorCategory::Fault
    }
}

/// The type of a search parameter (FHIR R4 search.html §3.1.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchParamType {
    Number,
    Date,
    String,
    Token,
    Reference,
    Composite,
    Quantity,
    Uri,
    Special,
}

impl SearchParamType {
    pub const ALL: [SearchParamType; 9] = [
        SearchParamType::Number,
        SearchParamType::Date,
        SearchParamType::String,
        SearchParamType::Token,
        SearchParamType::Reference,
        SearchParamType::Composite,
        SearchParamType::Quantity,
        SearchParamType::Uri,
        SearchParamType::Special,
    ];

    /// The code of the type in SearchParameter.type (`token`, `reference`, ...).
    pub fn code(self) -> &'static str {
        match self {
            SearchParamType::Number => "number",
            SearchParamType::Date => "date",
            SearchParamType::String => "string",
            SearchParamType::Token => "token",
            SearchParamType::Reference => "reference",
            SearchParamType::Composite => "composite",
            SearchParamType::Quantity => "quantity",
            SearchParamType::Uri => "uri",
            SearchParamType::Special => "special",
        }
    }

    pub fn from_code(code: &str) -> Option<SearchParamType> {
        SearchParamType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The modifiers search.html allows on this type, as written in a query (`of-type`);
    /// `type` stands for the `:[type]` modifiers of a reference (one of its targets).
    pub fn default_modifiers(self) -> &'static [&'static str] {
        match self {
            SearchParamType::String => &["missing", "exact", "contains"],
            SearchParamType::Token => &[
                "missing", "text", "not", "above", "below", "in", "not-in", "of-type",
            ],
            SearchParamType::Reference => &["missing", "type", "identifier"],
            SearchParamType::Uri => &["missing", "above", "below"],
            SearchParamType::Special => &[],
            _ => &["missing"],
        }
    }
}

/// One component of a composite parameter, resolved from its definition URL.
#[derive(Debug)]
pub struct ComponentDef {
    definition: String,
    code: String,
    ty: SearchParamType,
    expression_text: String,
    expression: Result<Expression, String>,
}

impl ComponentDef {
    /// The canonical URL of the component's own SearchParameter.
    pub fn definition(&self) -> &str {
        &self.definition
    }
    /// The code of the component's own parameter (`code`, `value-quantity`).
    pub fn code(&self) -> &str {
        &self.code
    }
    pub fn param_type(&self) -> SearchParamType {
        self.ty
    }
    /// The expression, relative to one item of the composite's own expression.
    pub fn expression(&self) -> Option<&Expression> {
        self.expression.as_ref().ok()
    }
}

/// One search parameter as it applies to one resource type (or to all of them, for the
/// parameters of `Resource` and `DomainResource`).
#[derive(Debug)]
pub struct SearchParamDef {
    id: String,
    url: String,
    code: String,
    ty: SearchParamType,
    base: String,
    expression_text: Option<String>,
    expression: Option<Expression>,
    targets: Vec<String>,
    modifiers: Vec<String>,
    comparators: Vec<String>,
    multiple_or: Option<bool>,
    multiple_and: Option<bool>,
    components: Vec<ComponentDef>,
    unsupported: Option<String>,
    /// The parameters whose index rows hold this one's values, when they are exactly the
    /// union of theirs (`unions.rs`); empty when it has rows of its own.
    rows_of: Vec<String>,
}

impl SearchParamDef {
    /// The id of the SearchParameter resource (`clinical-patient`).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The canonical URL (CapabilityStatement.rest.resource.searchParam.definition).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The name used in queries (`patient`, `_tag`).
    pub fn code(&self) -> &str {
        &self.code
    }
    pub fn param_type(&self) -> SearchParamType {
        self.ty
    }
    /// The resource type this definition applies to, or `Resource`/`DomainResource`.
    pub fn base(&self) -> &str {
        &self.base
    }
    /// Whether the parameter applies to every resource type (`_id`, `_tag`, ...).
    pub fn is_common(&self) -> bool {
        self.base == RESOURCE || self.base == DOMAIN_RESOURCE
    }
    /// The FHIRPath expression for this base type, as written.
    pub fn expression_text(&self) -> Option<&str> {
        self.expression_text.as_deref()
    }
    /// The compiled expression; `None` when unsupported.
    pub fn expression(&self) -> Option<&Expression> {
        self.expression.as_ref()
    }
    /// The resource types a reference parameter may point to.
    pub fn targets(&self) -> &[String] {
        &self.targets
    }
    /// The modifiers: those of the definition, or else search.html's for the type.
    pub fn modifiers(&self) -> &[String] {
        &self.modifiers
    }
    /// The prefixes (`eq`, `gt`, `ap`, ...) the definition allows.
    pub fn comparators(&self) -> &[String] {
        &self.comparators
    }
    pub fn multiple_or(&self) -> Option<bool> {
        self.multiple_or
    }
    pub fn multiple_and(&self) -> Option<bool> {
        self.multiple_and
    }
    pub fn components(&self) -> &[ComponentDef] {
        &self.components
    }
    /// Whether the expression (and every component's) compiled: the server can index
    /// and search this parameter.
    pub fn is_supported(&self) -> bool {
        self.unsupported.is_none()
    }
    /// Why the parameter is not supported.
    pub fn unsupported_reason(&self) -> Option<&str> {
        self.unsupported.as_deref()
    }
    /// Whether the index keeps rows of this parameter: not when its values are exactly
    /// those of other parameters together (`index_params`).
    pub fn has_own_rows(&self) -> bool {
        self.rows_of.is_empty()
    }
    /// The parameters whose index rows a search of this one reads: itself, or the
    /// parameters whose values together are exactly its own (Observation's `combo-code`:
    /// `code` and `component-code`).
    pub fn index_params(&self) -> Vec<String> {
        if self.rows_of.is_empty() {
            vec![self.code.clone()]
        } else {
            self.rows_of.clone()
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    fhir_version: String,
    parameters: Vec<RawParam>,
    #[serde(default)]
    patient_compartment: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParam {
    id: String,
    url: String,
    code: String,
    #[serde(rename = "type")]
    ty: String,
    base: Vec<String>,
    #[serde(default)]
    expression: BTreeMap<String, String>,
    #[serde(default)]
    target: Vec<String>,
    #[serde(default)]
    modifier: Vec<String>,
    #[serde(default)]
    comparator: Vec<String>,
    multiple_or: Option<bool>,
    multiple_and: Option<bool>,
    #[serde(default)]
    component: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawComponent {
    definition: String,
    code: String,
    #[serde(rename = "type")]
    ty: String,
    expression: String,
}

/// The parameters of one resource type, as indexes into `SearchRegistry::defs`.
#[derive(Debug, Default)]
struct TypeParams {
    /// Sorted by code.
    all: Vec<usize>,
    by_code: HashMap<String, usize>,
}

/// Every R4 search parameter, by resource type and code.
#[derive(Debug)]
pub struct SearchRegistry {
    fhir_version: String,
    model: Model,
    defs: Vec<SearchParamDef>,
    types: HashMap<String, TypeParams>,
    /// Resource type -> the reference parameters that put it in a patient's compartment.
    patient_compartment: HashMap<String, Vec<String>>,
}

fn inconsistent(msg: String) -> RegistryError {
    RegistryError::Inconsistent(msg)
}

fn param_type(code: &str, id: &str) -> Result<SearchParamType, RegistryError> {
    SearchParamType::from_code(code)
        .ok_or_else(|| inconsistent(format!("{id}: unknown parameter type {code}")))
}

impl SearchRegistry {
    /// Load the embedded R4 parameters, with the embedded R4 structure.
    pub fn r4() -> Result<SearchRegistry, RegistryError> {
        let schema = Schema::r4().map_err(RegistryError::Schema)?;
        SearchRegistry::from_json(R4_SEARCH_PARAMETERS, Arc::new(schema))
    }

    /// Load the embedded R4 parameters against an already loaded structure.
    pub fn r4_with_schema(schema: Arc<Schema>) -> Result<SearchRegistry, RegistryError> {
        SearchRegistry::from_json(R4_SEARCH_PARAMETERS, schema)
    }

    /// Load a file of the same format as `schemas/r4-search-parameters.json`.
    pub fn from_json(text: &str, schema: Arc<Schema>) -> Result<SearchRegistry, RegistryError> {
        let raw: RawFile =
            serde_json::from_str(text).map_err(|e| RegistryError::Parse(e.to_string()))?;
        let mut types: HashMap<String, TypeParams> = schema
            .resource_types()
            .map(|t| (t.to_owned(), TypeParams::default()))
            .collect();
        let mut defs = Vec::new();
        for p in raw.parameters {
            for base in &p.base {
                let def = build_def(&p, base)?;
                let applies: Vec<String> = match base.as_str() {
                    RESOURCE => types.keys().cloned().collect(),
                    DOMAIN_RESOURCE => types
                        .keys()
                        .filter(|t| is_domain_resource(&schema, t))
                        .cloned()
                        .collect(),
                    _ if types.contains_key(base) => vec![base.clone()],
                    _ => return Err(inconsistent(format!("{}: unknown base {base}", p.id))),
                };
                let index = defs.len();
                defs.push(def);
                for ty in applies {
                    let entry = types.entry(ty.clone()).or_default();
                    if entry.by_code.insert(p.code.clone(), index).is_some() {
                        return Err(inconsistent(format!("two parameters {} on {ty}", p.code)));
                    }
                }
            }
        }
        for (ty, params) in types.iter_mut() {
            params.all = params.by_code.values().copied().collect();
            params.all.sort_by(|a, b| defs[*a].code.cmp(&defs[*b].code));
            for (union, members) in unions::unions_of(&defs, ty, &params.all) {
                defs[union].rows_of = members;
            }
        }
        Ok(SearchRegistry {
            fhir_version: raw.fhir_version,
            model: Model::new(schema),
            defs,
            types,
            patient_compartment: raw.patient_compartment,
        })
    }

    /// The parameters whose references put a resource of `resource_type` in a patient's
    /// compartment (CompartmentDefinition-patient); empty for types outside it.
    pub fn patient_compartment_params(&self, resource_type: &str) -> &[String] {
        self.patient_compartment
            .get(resource_type)
            .map_or(&[], Vec::as_slice)
    }

    /// The FHIR version of the definitions (`4.0.1`).
    pub fn fhir_version(&self) -> &str {
        &self.fhir_version
    }

    /// The structure expressions are evaluated against.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The parameter `code` of `resource_type` (its own or a common one).
    pub fn param(&self, resource_type: &str, code: &str) -> Option<&SearchParamDef> {
        let index = *self.types.get(resource_type)?.by_code.get(code)?;
        self.defs.get(index)
    }

    /// Every parameter of `resource_type`, common ones included, sorted by code; nothing
    /// for an unknown type.
    pub fn params_of(&self, resource_type: &str) -> impl Iterator<Item = &SearchParamDef> {
        self.types
            .get(resource_type)
            .map(|t| t.all.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| self.defs.get(*i))
    }

    /// The resource types with parameters: every concrete R4 type, sorted.
    pub fn resource_types(&self) -> impl Iterator<Item = &str> {
        self.model.schema().resource_types()
    }

    /// Every definition once (a common parameter once, not once per type).
    pub fn definitions(&self) -> impl Iterator<Item = &SearchParamDef> {
        self.defs.iter()
    }
}

fn is_domain_resource(schema: &Schema, ty: &str) -> bool {
    schema
        .resource(ty)
        .and_then(|id| schema.structs.get(id))
        .is_some_and(|s| s.fields.contains_key("text"))
}

/// The compiled `text`, or `None` with the reason in `unsupported`.
fn compile(text: &str, unsupported: &mut Option<String>) -> Option<Expression> {
    match Expression::parse(text) {
        Ok(e) => Some(e),
        Err(e) => {
            *unsupported = Some(format!("the expression does not compile: {e}"));
            None
        }
    }
}

fn build_def(p: &RawParam, base: &str) -> Result<SearchParamDef, RegistryError> {
    let ty = param_type(&p.ty, &p.id)?;
    let expression_text = p.expression.get(base).cloned();
    let mut unsupported = None;
    let expression = match (&expression_text, ty) {
        (Some(text), SearchParamType::Special) if p.code == NEAR => compile(text, &mut unsupported),
        (_, SearchParamType::Special) => {
            unsupported = Some("a special parameter: its matching is not an expression".into());
            None
        }
        (None, _) if TEXT_SEARCHES.contains(&p.code.as_str()) => None,
        (None, _) => {
            unsupported = Some("the definition has no expression".into());
            None
        }
        (Some(text), _) => compile(text, &mut unsupported),
    };
    let mut components = Vec::new();
    for c in &p.component {
        let cty = param_type(&c.ty, &c.definition)?;
        if matches!(cty, SearchParamType::Composite | SearchParamType::Special) {
            return Err(inconsistent(format!(
                "{}: component of type {}",
                p.id, c.ty
            )));
        }
        let expression = Expression::parse(&c.expression).map_err(|e| e.to_string());
        if let (Err(e), None) = (&expression, &unsupported) {
            unsupported = Some(format!("component {} does not compile: {e}", c.code));
        }
        components.push(ComponentDef {
            definition: c.definition.clone(),
            code: c.code.clone(),
            ty: cty,
            expression_text: c.expression.clone(),
            expression,
        });
    }
    if ty == SearchParamType::Composite && components.is_empty() && unsupported.is_none() {
        unsupported = Some("a composite without components".into());
    }
    let modifiers = if p.modifier.is_empty() {
        ty.default_modifiers()
            .iter()
            .map(|m| (*m).to_owned())
            .collect()
    } else {
        p.modifier.clone()
    };
    Ok(SearchParamDef {
        id: p.id.clone(),
        url: p.url.clone(),
        code: p.code.clone(),
        ty,
        base: base.to_owned(),
        expression_text,
        expression,
        targets: p.target.clone(),
        modifiers,
        comparators: p.comparator.clone(),
        multiple_or: p.multiple_or,
        multiple_and: p.multiple_and,
        components,
        unsupported,
        rows_of: Vec::new(),
    })
}

mod unions;

#[cfg(test)]
mod tests;
