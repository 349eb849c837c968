//! The typed form of a FHIR search request (R4 search.html), as `parse_search` produces it
//! and a SQL translator walks it: AND-ed criteria, each with OR-ed typed values whose
//! ranges and normalised forms are those of `search::extract` (so that they compare with
//! the index rows directly), and the result parameters. Plain data: no SQL, no parsing.

use super::error::QueryError;
use super::model_terms::{CodeRef, NearValue, Subsumption, TextScope, TextValue, ValueSetRef};
use crate::search::registry::SearchParamType;

/// `Prefer: handling=strict|lenient` (search.html §3.1.1.2): what to do with parameters
/// (and modifiers) the server does not know or support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handling {
    /// Refuse them: `QueryError` naming the parameter.
    Strict,
    /// Drop them and list them in `SearchQuery::ignored`.
    #[default]
    Lenient,
}

/// A search as understood by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// The type searched (`GET [base]/Patient?…`); `None` for a system-level search.
    pub resource_type: Option<String>,
    /// `_type` of a system-level search, sorted and deduplicated; empty means every type
    /// (then only the common parameters `_id`, `_tag`, … are allowed). Always empty for a
    /// type-level search.
    pub types: Vec<String>,
    /// AND-ed: a resource matches when it matches every criterion, in request order.
    pub criteria: Vec<Criterion>,
    /// The result parameters (`_count`, `_sort`, `_include`, …).
    pub result: ResultParams,
    /// What `Handling::Lenient` dropped, in request order, with the error strict handling
    /// would have raised; these are left out of `canonical_query_string`.
    pub ignored: Vec<Ignored>,
}

/// A parameter (or a value of a result parameter) dropped under lenient handling.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    /// The parameter name as written, modifiers included (`name:fuzzy`).
    pub name: String,
    /// The value as written.
    pub value: String,
    /// Why it was dropped.
    pub reason: QueryError,
}

/// One AND-ed criterion.
#[derive(Debug, Clone, PartialEq)]
pub enum Criterion {
    /// A parameter of the resources searched.
    Param(ParamCriterion),
    /// A chain (`subject:Patient.name=peter`, `subject.name=peter`): the reference
    /// parameter `param` of the resource points to a `target_type` resource (by its
    /// `target_type`/`target_id` index columns) that matches `criterion`.
    Chain {
        param: String,
        target_type: String,
        criterion: Box<Criterion>,
    },
    /// A reverse chain (`_has:Observation:patient:code=1234-5`): some `source_type`
    /// resource whose reference parameter `param` points to the resource matches
    /// `criterion`.
    Has {
        source_type: String,
        param: String,
        criterion: Box<Criterion>,
    },
    /// `_list=id1,id2`: the resource is an item of one of these List resources (the List's
    /// `item` reference parameter points to it).
    List(Vec<String>),
}

/// Where the values of a parameter live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The index table of the parameter's type, rows with `param = code`.
    Index,
    /// `_id`: the id of the resource itself (token values with `system: None`).
    Id,
    /// `_lastUpdated`: the last-updated time of the current version, in ms (date values).
    LastUpdated,
    /// `start`/`end` of `$everything`: the care date recorded for the resource's consent
    /// decisions (date values); a resource without one always matches.
    CareDate,
}

/// A parameter with its OR-ed values.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamCriterion {
    /// The parameter code (`name`, `code-value-quantity`, `_tag`).
    pub code: String,
    /// The parameters whose index rows hold its values: itself, or those whose values
    /// together are exactly its own (`SearchParamDef::index_params`).
    pub index_params: Vec<String>,
    pub param_type: SearchParamType,
    pub column: Column,
    pub matcher: Match,
}

/// The test of one parameter: the modifier folded into the variant, the values OR-ed
/// (never empty).
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// `:missing=true` (no index row for the parameter) or `:missing=false` (at least one).
    Missing(bool),
    /// String search: `normalized` starts with (default), contains (`:contains`) or `exact`
    /// equals the value (`:exact`).
    String {
        mode: StringMode,
        values: Vec<StringValue>,
    },
    /// Token search; with `not` (`:not`) the resource has no row matching any value (and
    /// resources without the parameter match too).
    Token {
        not: bool,
        values: Vec<TokenValue>,
    },
    /// `:text` on a token: the normalised text (`search_token_text.normalized`) starts with
    /// the value's normalised form.
    TokenText(Vec<StringValue>),
    /// `:of-type` on an identifier: `type_system|type_code|value` (`search_token_type`).
    OfType(Vec<OfTypeValue>),
    /// Reference search by target (local, absolute or canonical).
    Reference(Vec<ReferenceValue>),
    /// `:identifier` on a reference: `Reference.identifier` (`identifier_system`,
    /// `identifier_value`); `code` is always `Some`.
    ReferenceIdentifier(Vec<TokenValue>),
    Date(Vec<DateValue>),
    Number(Vec<NumberValue>),
    Quantity(Vec<QuantityValue>),
    /// Uri search: equal (default), or the indexed uri is a prefix of the value
    /// (`:above`), or the value is a prefix of the indexed uri (`:below`).
    Uri {
        mode: UriMode,
        values: Vec<String>,
    },
    /// Composite search: each value gives one value per component, all matched on the same
    /// composite index row.
    Composite(Vec<CompositeValue>),
    /// `:in` (or `:not-in` with `not`) on a token: a code of the resource is (no code is) a
    /// member of one of these ValueSets, expanded by storage once per query.
    TokenIn {
        not: bool,
        value_sets: Vec<ValueSetRef>,
    },
    /// `:above` / `:below` on a token: a code of the resource subsumes (is subsumed by) one
    /// of these codes, in the hierarchy of the CodeSystem storage holds for its system.
    TokenSubsumption {
        direction: Subsumption,
        values: Vec<CodeRef>,
    },
    /// `_text` / `_content`: every word of one of the values appears in the text.
    Text {
        scope: TextScope,
        values: Vec<TextValue>,
    },
    /// `near` (Location): the position lies within the distance of one of the points.
    Near(Vec<NearValue>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMode {
    StartsWith,
    Contains,
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriMode {
    Equals,
    Above,
    Below,
}

/// A string value: `text` as written (escapes removed), for `:exact` against
/// `search_string.exact`; `normalized` by `extract::normalize`, for the other modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringValue {
    pub text: String,
    pub normalized: String,
}

/// A token: `code` (`system: None`, any system), `system|code`, `|code`
/// (`system: Some("")`: no system; the index stores a missing system as ``) or `system|`
/// (`code: None`: any code of that system). Never both `None`/empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    pub system: Option<String>,
    pub code: Option<String>,
}

/// An `:of-type` value: the identifier type coding and the identifier value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfTypeValue {
    pub type_system: String,
    pub type_code: String,
    pub value: String,
}

/// A reference value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceValue {
    /// `Type/id`, `Type/id/_history/v`, or a bare `id` (`target_type: None`: any type,
    /// unless the `:[type]` modifier gave one). Matches `target_type`/`target_id`.
    Local {
        target_type: Option<String>,
        id: String,
        version: Option<String>,
    },
    /// An absolute URL (`http://…`, `urn:…`) or a canonical, with the `|version` of a
    /// canonical split off; matches the `url` (and `version`) columns.
    Url {
        url: String,
        version: Option<String>,
    },
}

/// The comparison prefix of a date, number or quantity value (search.html §3.1.1.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    pub const ALL: [Prefix; 9] = [
        Prefix::Eq,
        Prefix::Ne,
        Prefix::Gt,
        Prefix::Lt,
        Prefix::Ge,
        Prefix::Le,
        Prefix::Sa,
        Prefix::Eb,
        Prefix::Ap,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }

    pub fn from_code(code: &str) -> Option<Prefix> {
        Prefix::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A date value: the inclusive millisecond range (UTC) its precision covers, by
/// `extract::date_range`. For `ap`, `low..high` is that range still: the approximation
/// depends on the current time, see `DateValue::approximate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue {
    pub prefix: Prefix,
    /// The date as written, without its prefix.
    pub text: String,
    pub low: i64,
    pub high: i64,
}

impl DateValue {
    /// The range `ap` matches at `now_ms`: the value's range widened on each side by 10%
    /// of the gap between now and the value (search.html §3.1.1.4.1).
    pub fn approximate(&self, now_ms: i64) -> (i64, i64) {
        let gap = if now_ms > self.high {
            now_ms.saturating_sub(self.high)
        } else if now_ms < self.low {
            self.low.saturating_sub(now_ms)
        } else {
            0
        };
        let margin = gap / 10;
        (
            self.low.saturating_sub(margin),
            self.high.saturating_add(margin),
        )
    }
}

/// A number value: the inclusive range of its implicit precision, by
/// `extract::decimal_range`; for `ap`, widened to at least ±10% of the value.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberValue {
    pub prefix: Prefix,
    /// The number as written, without its prefix.
    pub text: String,
    pub low: f64,
    pub high: f64,
}

/// A quantity value: `number|system|code`, `number||code` (`system: None`: any system),
/// or `number` (any unit).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityValue {
    pub number: NumberValue,
    pub system: Option<String>,
    pub code: Option<String>,
}

/// One alternative of a composite parameter: one value per component, in the order of
/// the definition's components.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositeValue {
    pub components: Vec<ComponentValue>,
}

/// The value of one component, with the component's code (as on the composite index
/// entries).
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentValue {
    pub code: String,
    pub value: TypedValue,
}

/// A single value of a component, by the component's parameter type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    String(StringValue),
    Token(TokenValue),
    Reference(ReferenceValue),
    Date(DateValue),
    Number(NumberValue),
    Quantity(QuantityValue),
    Uri(String),
}

/// The result parameters (search.html §3.1.1.5–6).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultParams {
    /// `_count` as asked; capping it is the caller's job (set it here before rendering the
    /// canonical query string so that the `self` link shows the page size used).
    pub count: Option<u32>,
    /// `_sort` keys, most significant first.
    pub sort: Vec<SortKey>,
    pub total: Option<TotalMode>,
    pub summary: Option<SummaryMode>,
    /// `_elements`, sorted and deduplicated; empty when not asked.
    pub elements: Vec<String>,
    pub include: Vec<Include>,
    pub revinclude: Vec<Include>,
    /// `_page`: the opaque paging token, passed through.
    pub page: Option<String>,
}

/// One `_sort` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub code: String,
    /// The parameters whose index rows hold its values (`SearchParamDef::index_params`);
    /// empty for `_id` and `_lastUpdated`, read from the resource row.
    pub index_params: Vec<String>,
    pub param_type: SearchParamType,
    pub column: Column,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalMode {
    None,
    Estimate,
    Accurate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryMode {
    True,
    Text,
    Data,
    Count,
    False,
}

/// One `_include` / `_revinclude`: `Type:param[:target]`, `Type:*` or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The type holding the reference; `None` for `*` (any type).
    pub source_type: Option<String>,
    /// The reference parameter; `None` for `*` (every reference parameter).
    pub param: Option<String>,
    /// Only references to this type.
    pub target_type: Option<String>,
    /// `:iterate` (or its R3 name `:recurse`): applied to included resources too.
    pub iterate: bool,
}
