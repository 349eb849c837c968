//! The FHIR R4 structure Carnet validates against, loaded from the embedded
//! `schemas/r4-structure.json` (generated from the official definitions by
//! `schemas/generate.py`): resource types, the elements of every resource, datatype and
//! backbone element, primitive formats and the expanded required value sets.
//!
//! Built once by `Schema::r4()` and held in the server state; no globals. Depends only on
//! `std`, `serde`, `serde_json`, `regex` and `crate::error`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use regex::Regex;
use serde::Deserialize;

use crate::error::{Categorized, ErrorCategory};

/// The structure file generated from the official R4 definitions.
const R4_STRUCTURE: &str = include_str!("../../schemas/r4-structure.json");

/// Elements of one structure are tracked in a `u128` bit set while validating.
pub(crate) const MAX_ELEMENTS: usize = 128;

/// Why the embedded structure file could not be turned into a `Schema`.
#[derive(Debug)]
pub enum SchemaError {
    /// The file is not the JSON shape the loader expects.
    Parse(String),
    /// The file is well-formed but inconsistent (unknown type, bad regex, ...).
    Inconsistent(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Parse(e) => write!(f, "the r4 structure file cannot be parsed: {e}"),
            SchemaError::Inconsistent(e) => write!(f, "the r4 structure file is inconsistent: {e}"),
        }
    }
}

impl std::error::Error for SchemaError {}

impl Categorized for SchemaError {
    fn category(&self) -> ErrorCategory {
        ErrorCategory::Fault
    }
}

/// The FHIR primitive types, each with its JSON representation and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrimitiveType {
    Base64Binary,
    Boolean,
    Canonical,
    Code,
    Date,
    DateTime,
    Decimal,
    Id,
    Instant,
    Integer,
    Markdown,
    Oid,
    PositiveInt,
    String,
    Time,
    UnsignedInt,
    Uri,
    Url,
    Uuid,
    Xhtml,
}

impl PrimitiveType {
    pub const ALL: [PrimitiveType; 20] = [
        PrimitiveType::Base64Binary,
        PrimitiveType::Boolean,
        PrimitiveType::Canonical,
        PrimitiveType::Code,
        PrimitiveType::Date,
        PrimitiveType::DateTime,
        PrimitiveType::Decimal,
        PrimitiveType::Id,
        PrimitiveType::Instant,
        PrimitiveType::Integer,
        PrimitiveType::Markdown,
        PrimitiveType::Oid,
        PrimitiveType::PositiveInt,
        PrimitiveType::String,
        PrimitiveType::Time,
        PrimitiveType::UnsignedInt,
        PrimitiveType::Uri,
        PrimitiveType::Url,
        PrimitiveType::Uuid,
        PrimitiveType::Xhtml,
    ];

    /// The FHIR name of the type (`dateTime`, `positiveInt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PrimitiveType::Base64Binary => "base64Binary",
            PrimitiveType::Boolean => "boolean",
            PrimitiveType::Canonical => "canonical",
            PrimitiveType::Code => "code",
            PrimitiveType::Date => "date",
            PrimitiveType::DateTime => "dateTime",
            PrimitiveType::Decimal => "decimal",
            PrimitiveType::Id => "id",
            PrimitiveType::Instant => "instant",
            PrimitiveType::Integer => "integer",
            PrimitiveType::Markdown => "markdown",
            PrimitiveType::Oid => "oid",
            PrimitiveType::PositiveInt => "positiveInt",
            PrimitiveType::String => "string",
            PrimitiveType::Time => "time",
            PrimitiveType::UnsignedInt => "unsignedInt",
            PrimitiveType::Uri => "uri",
            PrimitiveType::Url => "url",
            PrimitiveType::Uuid => "uuid",
            PrimitiveType::Xhtml => "xhtml",
        }
    }

    pub fn from_name(name: &str) -> Option<PrimitiveType> {
        PrimitiveType::ALL.into_iter().find(|p| p.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Index of a structure (resource, datatype or backbone element) in the schema.
pub(crate) type StructId = usize;

/// What a JSON property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Primitive(PrimitiveType),
    Complex(StructId),
    /// A whole resource (`contained`, `Bundle.entry.resource`, `Parameters.parameter.resource`).
    Resource,
}

/// One element of a structure; a choice element (`value[x]`) is one element.
#[derive(Debug)]
pub(crate) struct Element {
    /// The element name as in the definitions: `gender`, `value[x]`.
    pub name: String,
    /// `None` for `*`.
    pub max: Option<u32>,
    pub choice: bool,
    /// Part of the summary view (`isSummary`, `_summary=true`).
    pub summary: bool,
}

impl Element {
    pub fn repeats(&self) -> bool {
        self.max.is_none_or(|m| m > 1)
    }
}

/// One JSON property name of a structure (`valueQuantity` for a choice).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Index into `Struct::elements`.
    pub element: usize,
    pub ty: FieldType,
    /// The required value set bound to this element, if it can be checked.
    pub binding: Option<usize>,
}

/// A resource, datatype or backbone element: the properties its JSON object may have.
#[derive(Debug)]
pub(crate) struct Struct {
    /// `Patient`, `HumanName`, `Patient.contact`.
    pub name: String,
    pub fields: HashMap<String, Field>,
    pub elements: Vec<Element>,
    /// Bit set of the elements with `min >= 1`.
    pub required: u128,
}

/// An expanded required value set.
#[derive(Debug)]
pub(crate) struct ValueSet {
    pub url: String,
    pub by_system: HashMap<String, HashSet<String>>,
    pub all_codes: HashSet<String>,
}

/// The R4 structure, loaded once and shared read-only by every validation.
#[derive(Debug)]
pub struct Schema {
    fhir_version: String,
    resource_types: Vec<String>,
    resources: HashMap<String, StructId>,
    pub(crate) structs: Vec<Struct>,
    regexes: Vec<Option<Regex>>,
    pub(crate) value_sets: Vec<ValueSet>,
    pub(crate) extension: StructId,
    pub(crate) coding: StructId,
    pub(crate) codeable_concept: StructId,
    /// The `{ "id", "extension" }` object of a primitive's `_name` property.
    pub(crate) primitive_element: StructId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSchema {
    fhir_version: String,
    resource_types: Vec<String>,
    primitives: BTreeMap<String, RawPrimitive>,
    types: BTreeMap<String, RawType>,
    value_sets: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    unchecked_value_sets: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawPrimitive {
    regex: Option<String>,
}

#[derive(Deserialize)]
struct RawType {
    base: Option<String>,
    elements: BTreeMap<String, RawElement>,
}

#[derive(Deserialize)]
struct RawElement {
    min: u32,
    max: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    backbone: bool,
    #[serde(default)]
    summary: bool,
    #[serde(rename = "ref")]
    content_reference: Option<String>,
    binding: Option<String>,
}

fn inconsistent(msg: String) -> SchemaError {
    SchemaError::Inconsistent(msg)
}

/// The parent path and the name of an element path relative to its type.
fn split_path(rel: &str) -> (&str, &str) {
    match rel.rfind('.') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => ("", rel),
    }
}

/// Turn a spec (XML Schema / Java) regex into an anchored Rust regex: `\s` and `\S` are
/// ASCII-only there, as in Java, not Unicode as in the `regex` crate.
pub(crate) fn translate_regex(spec: &str) -> String {
    const SPACE: &str = r"[\t\n\x0B\x0C\r ]";
    const NON_SPACE: &str = r"[^\t\n\x0B\x0C\r ]";
    let mut out = String::with_capacity(spec.len() + 32);
    out.push_str(r"\A(?:");
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('s') => out.push_str(SPACE),
                Some('S') => out.push_str(NON_SPACE),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out.push_str(r")\z");
    out
}

/// The JSON property suffix of a choice type: `valueQuantity` for `Quantity`.
fn choice_suffix(type_name: &str) -> String {
    let mut chars = type_name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Schema {
    /// Load the embedded R4 structure.
    pub fn r4() -> Result<Schema, SchemaError> {
        Schema::from_json(R4_STRUCTURE)
    }

    /// Load a structure file of the same format as `schemas/r4-structure.json`.
    pub fn from_json(text: &str) -> Result<Schema, SchemaError> {
        let raw: RawSchema =
            serde_json::from_str(text).map_err(|e| SchemaError::Parse(e.to_string()))?;
        build(raw)
    }

    /// The FHIR version the structure describes (`4.0.1`).
    pub fn fhir_version(&self) -> &str {
        &self.fhir_version
    }

    /// Whether `name` is a concrete R4 resource type.
    pub fn is_resource_type(&self, name: &str) -> bool {
        self.resources.contains_key(name)
    }

    /// The concrete R4 resource types, sorted.
    pub fn resource_types(&self) -> impl Iterator<Item = &str> {
        self.resource_types.iter().map(String::as_str)
    }

    /// For a top-level JSON property of a resource type (`gender`, `valueQuantity`,
    /// `_birthDate`): whether its element is in the summary view, and whether it is
    /// mandatory (`min >= 1`). `None` for unknown types or properties.
    pub fn top_level_flags(&self, resource_type: &str, property: &str) -> Option<(bool, bool)> {
        let structure = &self.structs[self.resource(resource_type)?];
        let field = structure.fields.get(property.trim_start_matches('_'))?;
        let element = structure.elements.get(field.element)?;
        let mandatory = structure.required & (1u128 << field.element) != 0;
        Some((element.summary, mandatory))
    }

    pub(crate) fn resource(&self, name: &str) -> Option<StructId> {
        self.resources.get(name).copied()
    }

    pub(crate) fn regex(&self, ty: PrimitiveType) -> Option<&Regex> {
        self.regexes.get(ty.index()).and_then(Option::as_ref)
    }
}

fn build(raw: RawSchema) -> Result<Schema, SchemaError> {
    // Value sets: expanded ones get an index; unchecked ones are known but ignored.
    let mut value_sets = Vec::new();
    let mut vs_index = HashMap::new();
    for (url, systems) in &raw.value_sets {
        let mut by_system = HashMap::new();
        let mut all_codes = HashSet::new();
        for (system, codes) in systems {
            all_codes.extend(codes.iter().cloned());
            by_system.insert(
                system.clone(),
                codes.iter().cloned().collect::<HashSet<_>>(),
            );
        }
        vs_index.insert(url.clone(), value_sets.len());
        value_sets.push(ValueSet {
            url: url.clone(),
            by_system,
            all_codes,
        });
    }

    // Primitive regexes, indexed by `PrimitiveType`.
    let mut regexes = Vec::with_capacity(PrimitiveType::ALL.len());
    for ty in PrimitiveType::ALL {
        let prim = raw
            .primitives
            .get(ty.name())
            .ok_or_else(|| inconsistent(format!("primitive type {} is missing", ty.name())))?;
        let regex = match &prim.regex {
            Some(spec) => Some(
                Regex::new(&translate_regex(spec))
                    .map_err(|e| inconsistent(format!("regex of {}: {e}", ty.name())))?,
            ),
            None => None,
        };
        regexes.push(regex);
    }
    for name in raw.primitives.keys() {
        if PrimitiveType::from_name(name).is_none() {
            return Err(inconsistent(format!("unknown primitive type {name}")));
        }
    }

    // First pass: one structure per type and per backbone element.
    let mut ids: HashMap<(String, String), StructId> = HashMap::new();
    let mut structs: Vec<Struct> = Vec::new();
    let mut new_struct = |ty: &str, rel: &str, structs: &mut Vec<Struct>| {
        let name = if rel.is_empty() {
            ty.to_owned()
        } else {
            format!("{ty}.{rel}")
        };
        ids.insert((ty.to_owned(), rel.to_owned()), structs.len());
        structs.push(Struct {
            name,
            fields: HashMap::new(),
            elements: Vec::new(),
            required: 0,
        });
    };
    for (ty, t) in &raw.types {
        new_struct(ty, "", &mut structs);
        for (rel, el) in &t.elements {
            if el.backbone {
                new_struct(ty, rel, &mut structs);
            }
        }
    }

    // Second pass: the elements and JSON properties of every structure.
    for (ty, t) in &raw.types {
        for (rel, el) in &t.elements {
            let (parent, name) = split_path(rel);
            let sid = *ids
                .get(&(ty.clone(), parent.to_owned()))
                .ok_or_else(|| inconsistent(format!("{ty}.{rel} has no parent")))?;
            let binding = match &el.binding {
                Some(url) => match vs_index.get(url) {
                    Some(i) => Some(*i),
                    None if raw.unchecked_value_sets.contains_key(url) => None,
                    None => {
                        return Err(inconsistent(format!("{ty}.{rel}: unknown value set {url}")));
                    }
                },
                None => None,
            };
            let max = match el.max.as_str() {
                "*" => None,
                m => Some(
                    m.parse::<u32>()
                        .map_err(|_| inconsistent(format!("{ty}.{rel}: bad max {m}")))?,
                ),
            };
            let choice = name.ends_with("[x]");
            let structure = &mut structs[sid];
            let element = structure.elements.len();
            if element >= MAX_ELEMENTS {
                return Err(inconsistent(format!("{ty}.{parent} has too many elements")));
            }
            structure.elements.push(Element {
                name: name.to_owned(),
                max,
                choice,
                summary: el.summary,
            });
            if el.min > 0 {
                structure.required |= 1u128 << element;
            }
            let mut add = |key: String, ty_: FieldType| {
                structure.fields.insert(
                    key,
                    Field {
                        element,
                        ty: ty_,
                        binding,
                    },
                );
            };
            if let Some(target) = &el.content_reference {
                let target_id = *ids
                    .get(&(ty.clone(), target.clone()))
                    .ok_or_else(|| inconsistent(format!("{ty}.{rel}: bad reference {target}")))?;
                add(name.to_owned(), FieldType::Complex(target_id));
                continue;
            }
            if el.backbone {
                let own = *ids
                    .get(&(ty.clone(), rel.clone()))
                    .ok_or_else(|| inconsistent(format!("{ty}.{rel}: backbone not found")))?;
                add(name.to_owned(), FieldType::Complex(own));
                continue;
            }
            if el.types.is_empty() {
                return Err(inconsistent(format!("{ty}.{rel} has no type")));
            }
            let base = name.trim_end_matches("[x]");
            for type_name in &el.types {
                let field_type = if let Some(p) = PrimitiveType::from_name(type_name) {
                    FieldType::Primitive(p)
                } else if type_name == "Resource" {
                    FieldType::Resource
                } else if let Some(id) = ids.get(&(type_name.clone(), String::new())) {
                    FieldType::Complex(*id)
                } else {
                    return Err(inconsistent(format!(
                        "{ty}.{rel}: unknown type {type_name}"
                    )));
                };
                if choice {
                    // A profiled type (SimpleQuantity) keeps its base type's suffix.
                    let suffix_type = raw
                        .types
                        .get(type_name)
                        .and_then(|t| t.base.as_deref())
                        .unwrap_or(type_name);
                    add(format!("{base}{}", choice_suffix(suffix_type)), field_type);
                } else {
                    if el.types.len() > 1 {
                        return Err(inconsistent(format!("{ty}.{rel}: several types")));
                    }
                    add(name.to_owned(), field_type);
                }
            }
        }
    }

    let lookup = |name: &str| {
        ids.get(&(name.to_owned(), String::new()))
            .copied()
            .ok_or_else(|| inconsistent(format!("type {name} is missing")))
    };
    let extension = lookup("Extension")?;
    let coding = lookup("Coding")?;
    let codeable_concept = lookup("CodeableConcept")?;
    let primitive_element = structs.len();
    structs.push(primitive_element_struct(extension));

    let mut resources = HashMap::new();
    let mut resource_types = raw.resource_types.clone();
    resource_types.sort();
    for name in &resource_types {
        resources.insert(name.clone(), lookup(name)?);
    }

    Ok(Schema {
        fhir_version: raw.fhir_version,
        resource_types,
        resources,
        structs,
        regexes,
        value_sets,
        extension,
        coding,
        codeable_concept,
        primitive_element,
    })
}

/// The `{ "id", "extension" }` object of a primitive's `_name` property.
fn primitive_element_struct(extension: StructId) -> Struct {
    let element = |name: &str, max| Element {
        name: name.to_owned(),
        max,
        choice: false,
        summary: false,
    };
    let field = |element, ty| Field {
        element,
        ty,
        binding: None,
    };
    Struct {
        name: "Element".to_owned(),
        fields: HashMap::from([
            (
                "id".to_owned(),
                field(0, FieldType::Primitive(PrimitiveType::String)),
            ),
            (
                "extension".to_owned(),
                field(1, FieldType::Complex(extension)),
            ),
        ]),
        elements: vec![element("id", Some(1)), element("extension", None)],
        required: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_r4_structure() {
        let schema = Schema::r4().expect("the embedded schema loads");
        assert_eq!(schema.fhir_version(), "4.0.1");
        assert_eq!(schema.resource_types().count(), 146);
        assert!(schema.is_resource_type("Patient"));
        assert!(schema.is_resource_type("MedicinalProduct"));
        assert!(!schema.is_resource_type("DomainResource"));
        assert!(!schema.is_resource_type("HumanName"));
        let types: Vec<&str> = schema.resource_types().collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        assert_eq!(types, sorted);
    }

    #[test]
    fn expands_choice_properties() {
        let schema = Schema::r4().expect("the embedded schema loads");
        let obs = schema.resource("Observation").expect("Observation");
        let fields = &schema.structs[obs].fields;
        assert!(fields.contains_key("valueQuantity"));
        assert!(fields.contains_key("effectiveDateTime"));
        assert!(!fields.contains_key("value[x]"));
        let med = schema
            .resource("MedicationRequest")
            .expect("MedicationRequest");
        let dose = schema.structs[med].fields["dosageInstruction"];
        assert!(matches!(dose.ty, FieldType::Complex(_)));
    }

    #[test]
    fn translates_spec_regexes_to_ascii_whitespace() {
        assert_eq!(translate_regex(r"\S*"), r"\A(?:[^\t\n\x0B\x0C\r ]*)\z");
        let re = Regex::new(&translate_regex(r"[ \r\n\t\S]+")).expect("regex");
        assert!(re.is_match("a\u{a0}b"));
        assert!(!re.is_match("a\u{0B}b"));
        assert!(!re.is_match(""));
    }

    #[test]
    fn rejects_an_inconsistent_file() {
        assert!(matches!(
            Schema::from_json("{}"),
            Err(SchemaError::Parse(_))
        ));
    }
}
