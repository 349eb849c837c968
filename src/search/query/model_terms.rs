//! The typed values of the search features that need more than one index row to decide:
//! the terminology modifiers of tokens (`:in`, `:not-in`, `:above`, `:below`, resolved by
//! storage against the ValueSets and CodeSystems it holds), the text searches `_text` and
//! `_content`, and `near` on Location. Plain data, like `model`.

/// A ValueSet named by `:in` / `:not-in`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueSetRef {
    /// Its canonical `url`, with the `|version` of the value when given.
    Canonical {
        url: String,
        version: Option<String>,
    },
    /// `ValueSet/id`: a ValueSet stored in Carnet, by id.
    Local(String),
}

/// The direction of a subsumption test (`:above`, `:below`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subsumption {
    /// The indexed code is the value or one of its ancestors (`:above`).
    Above,
    /// The indexed code is the value or one of its descendants (`:below`).
    Below,
}

/// `system|code` of a subsumption test; both are always given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeRef {
    pub system: String,
    pub code: String,
}

/// What a text search reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextScope {
    /// `_text`: the narrative (`text.div` without its markup).
    Narrative,
    /// `_content`: every text of the resource.
    Content,
}

impl TextScope {
    /// The parameter code, also the `param` of its index rows.
    pub fn code(self) -> &'static str {
        match self {
            TextScope::Narrative => "_text",
            TextScope::Content => "_content",
        }
    }
}

/// One alternative of a text search: every word must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextValue {
    /// The value as written (escapes removed).
    pub text: String,
    /// Its words, normalised as the index (`extract::words`); never empty.
    pub words: Vec<String>,
}

/// One alternative of `near`: `latitude|longitude|distance|unit`, the distance in km.
#[derive(Debug, Clone, PartialEq)]
pub struct NearValue {
    /// The value as written (escapes kept: it is rendered back as is).
    pub text: String,
    pub latitude: f64,
    pub longitude: f64,
    pub distance_km: f64,
}
