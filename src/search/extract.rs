//! Extraction of search index values from a resource: every supported search parameter of
//! its type is evaluated (its FHIRPath expression) and each result is turned into typed
//! index entries per parameter type, following FHIR R4 search.html §3.1.1.4. Storage
//! writes these entries into its index tables; the query side matches them with the same
//! normalisation (`normalize`) and ranges (`date_range`, `decimal_range`).
//!
//! `_id` and `_lastUpdated` are not extracted (storage has them as columns); `_tag`,
//! `_security`, `_profile` and `_source` are, from `meta`. A value of a type that the
//! parameter type does not index (the `string` choice of `Immunization.occurrence[x]` for
//! a date, SampledData for a quantity) is skipped; a malformed one (a bad date) is
//! reported by `extract_with_issues`. Pure: no I/O, no SQL; depends on `serde_json` and
//! `crate::search::{fhirpath, registry}`.

mod fulltext;
mod position;
mod ranged;
mod ranges;
mod text;
mod values;

#[cfg(test)]
mod package_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod value_tests;

use serde_json::Value;

use super::fhirpath::{Item, Model};
use super::registry::{SearchParamDef, SearchParamType, SearchRegistry};
use values::NoEntry;

pub use fulltext::words;
pub use ranges::{date_range, decimal_range};
pub use text::normalize;

/// The common parameters that storage keeps as columns of the resource itself.
const NOT_EXTRACTED: [&str; 2] = ["_id", "_lastUpdated"];

/// One value to index for one search parameter of a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexEntry {
    /// A string, or one part of a HumanName or Address. `normalized` is what `name=` and
    /// `:contains` match (see `normalize`); `exact` is the value as written, for `:exact`.
    String {
        param: String,
        normalized: String,
        exact: String,
    },
    /// A code. `system` is `None` when the value has none (code, boolean, string, id, uri,
    /// ContactPoint). `text` is the Coding display or Identifier.type.text, for `:text`;
    /// a CodeableConcept's `text` is an entry of its own with an empty `code`. For an
    /// Identifier with a type, there is one entry per type coding, in `of_type`
    /// (`:of-type` matches `system|code|value`).
    Token {
        param: String,
        system: Option<String>,
        code: String,
        text: Option<String>,
        of_type: Option<(Option<String>, String)>,
    },
    /// A reference. A relative `Type/id` (or an absolute URL ending in `Type/id`) gives
    /// `reference_type` and `reference_id`; `url` is the reference when it is absolute,
    /// a contained `#id` (then `reference_type` is the contained resource's type), or a
    /// canonical (without its `|version`, which is in `version`; a `/_history/` version
    /// of a literal reference too). `identifier` is `Reference.identifier` (system, value),
    /// for `:identifier`. A logical reference without literal keeps `Reference.type` in
    /// `reference_type`.
    Reference {
        param: String,
        reference_type: Option<String>,
        reference_id: Option<String>,
        version: Option<String>,
        url: Option<String>,
        identifier: Option<(Option<String>, String)>,
    },
    /// The inclusive range, in ms since the Unix epoch (UTC), that a date, dateTime,
    /// instant, Period or Timing covers; an open Period end is `i64::MIN` / `i64::MAX`.
    Date {
        param: String,
        low_ms: i64,
        high_ms: i64,
    },
    /// A decimal or integer as written, with its implicit precision range.
    Number {
        param: String,
        value: String,
        low: f64,
        high: f64,
    },
    /// A Quantity (or Money, or a Range spanning `low..high`, open ends `f64::MIN`/`MAX`),
    /// its value as written, the precision range, and its unit system, code and text.
    Quantity {
        param: String,
        value: String,
        low: f64,
        high: f64,
        system: Option<String>,
        code: Option<String>,
        unit: Option<String>,
    },
    Uri {
        param: String,
        value: String,
    },
    /// The values of the components of a composite parameter, in component order, taken
    /// from the same repetition of its base element; each has the component's code.
    Composite {
        param: String,
        components: Vec<IndexEntry>,
    },
    /// The words of `_text` (the narrative) or `_content` (all the text), as
    /// ` word1 word2 … ` (see `fulltext`).
    Text {
        param: String,
        words: String,
    },
    /// A point of `near` (Location.position), in WGS84 degrees.
    Position {
        param: String,
        latitude: f64,
        longitude: f64,
    },
}

impl IndexEntry {
    /// The code of the search parameter this entry is for.
    pub fn param(&self) -> &str {
        match self {
            IndexEntry::String { param, .. }
            | IndexEntry::Token { param, .. }
            | IndexEntry::Reference { param, .. }
            | IndexEntry::Date { param, .. }
            | IndexEntry::Number { param, .. }
            | IndexEntry::Quantity { param, .. }
            | IndexEntry::Uri { param, .. }
            | IndexEntry::Composite { param, .. }
            | IndexEntry::Text { param, .. }
            | IndexEntry::Position { param, .. } => param,
        }
    }
}

/// Something in a resource that could not be indexed (the rest of it still is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractIssue {
    pub param: String,
    pub message: String,
}

/// Leaves out of `entries` the values of parameters the index keeps no rows of (the unions
/// of other parameters, `SearchParamDef::has_own_rows`): what the index writes. The values
/// stay whole for whatever reads them in memory (granular scopes match a resource's
/// values by parameter).
pub fn retain_indexed(
    registry: &SearchRegistry,
    resource_type: &str,
    entries: &mut Vec<IndexEntry>,
) {
    entries.retain(|entry| {
        registry
            .param(resource_type, entry.param())
            .is_none_or(SearchParamDef::has_own_rows)
    });
}

/// The index entries of `resource` (of type `resource_type`) for every supported
/// parameter of its type; duplicates within a parameter are removed.
pub fn extract(
    registry: &SearchRegistry,
    resource_type: &str,
    resource: &Value,
) -> Vec<IndexEntry> {
    extract_with_issues(registry, resource_type, resource).0
}

/// `extract`, also returning what could not be indexed: an expression that failed on this
/// resource, or a value whose type or format does not fit the parameter type.
pub fn extract_with_issues(
    registry: &SearchRegistry,
    resource_type: &str,
    resource: &Value,
) -> (Vec<IndexEntry>, Vec<ExtractIssue>) {
    run(registry, resource_type, resource, false, None)
}

/// The index entries of `resource` for the parameters `codes` only (no `_text` or
/// `_content` words): what a caller needs of a resource whose other search rows are
/// written later (its patient compartment).
pub fn extract_params(
    registry: &SearchRegistry,
    resource_type: &str,
    resource: &Value,
    codes: &[String],
) -> Vec<IndexEntry> {
    run(registry, resource_type, resource, false, Some(codes)).0
}

/// Extraction; `all_issues` also reports the values skipped as not applicable; `only`
/// limits it to those parameters (and leaves out the words of `_text` and `_content`).
fn run(
    registry: &SearchRegistry,
    resource_type: &str,
    resource: &Value,
    all_issues: bool,
    only: Option<&[String]>,
) -> (Vec<IndexEntry>, Vec<ExtractIssue>) {
    let model = registry.model();
    let mut out = Vec::new();
    let mut issues = Vec::new();
    let wanted = |code: &str| only.is_none_or(|codes| codes.iter().any(|c| c == code));
    for def in registry.params_of(resource_type) {
        if NOT_EXTRACTED.contains(&def.code()) || !wanted(def.code()) {
            continue;
        }
        let Some(expression) = def.expression().filter(|_| def.is_supported()) else {
            continue;
        };
        let start = out.len();
        let mut issue = |message: String| {
            issues.push(ExtractIssue {
                param: def.code().to_owned(),
                message,
            });
        };
        let items = match expression.evaluate(model, resource) {
            Ok(items) => items,
            Err(e) => {
                issue(e.to_string());
                continue;
            }
        };
        for item in &items {
            let done = match def.param_type() {
                SearchParamType::Composite => composite(model, resource, def, item, &mut out),
                SearchParamType::Special => {
                    position::position(def.code(), item.json()).map(|entry| out.push(entry))
                }
                ty => values::convert(model, resource, ty, def.code(), item, &mut out),
            };
            match done {
                Ok(()) => {}
                Err(NoEntry::Invalid(message)) => issue(message),
                Err(NoEntry::NotApplicable(message)) if all_issues => issue(message),
                Err(NoEntry::NotApplicable(_)) => {}
            }
        }
        dedup(&mut out, start);
    }
    let texts = [
        (
            "_text",
            fulltext::narrative_words as fn(&Value) -> Option<String>,
        ),
        ("_content", fulltext::content_words),
    ];
    for (code, words) in texts.into_iter().filter(|_| only.is_none()) {
        let indexed = registry
            .param(resource_type, code)
            .is_some_and(SearchParamDef::is_supported);
        if let Some(words) = words(resource).filter(|_| indexed) {
            out.push(IndexEntry::Text {
                param: code.to_owned(),
                words,
            });
        }
    }
    (out, issues)
}

/// The entries of a composite parameter for one item of its expression: the product of
/// its components' values on that item (nothing if a component has no value).
fn composite(
    model: &Model,
    resource: &Value,
    def: &SearchParamDef,
    item: &Item<'_>,
    out: &mut Vec<IndexEntry>,
) -> Result<(), NoEntry> {
    let mut combinations: Vec<Vec<IndexEntry>> = vec![Vec::new()];
    for component in def.components() {
        let Some(expression) = component.expression() else {
            return Ok(());
        };
        let items = expression
            .evaluate_on(model, resource, *item)
            .map_err(|e| NoEntry::Invalid(format!("component `{}`: {e}", component.code())))?;
        let mut values = Vec::new();
        for part in &items {
            let (ty, code) = (component.param_type(), component.code());
            match values::convert(model, resource, ty, code, part, &mut values) {
                Ok(()) | Err(NoEntry::NotApplicable(_)) => {}
                Err(NoEntry::Invalid(e)) => {
                    return Err(NoEntry::Invalid(format!("component `{code}`: {e}")));
                }
            }
        }
        dedup(&mut values, 0);
        if values.is_empty() {
            return Ok(());
        }
        combinations = combinations
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    out.extend(
        combinations
            .into_iter()
            .map(|components| IndexEntry::Composite {
                param: def.code().to_owned(),
                components,
            }),
    );
    Ok(())
}

/// Remove the repeated entries of `entries[start..]`, keeping the first of each.
fn dedup(entries: &mut Vec<IndexEntry>, start: usize) {
    let mut i = start + 1;
    while i < entries.len() {
        if entries[start..i].contains(&entries[i]) {
            entries.remove(i);
        } else {
            i += 1;
        }
    }
}
