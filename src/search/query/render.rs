//! The canonical query string of a `SearchQuery`: the search as the server understood it,
//! for the `self` link. Deterministic: `_type` first, then the criteria sorted by their
//! rendered `name=value`, then the result parameters in a fixed order (`_page` last);
//! values re-escaped (`\,` `\$` `\|` `\\`) and percent-encoded. Ignored parameters and
//! the defaults that change nothing (`_contained=false`) are left out.

use super::everything::SINCE;
use super::model::{
    Column, Criterion, DateValue, Include, Match, NumberValue, OfTypeValue, Prefix, QuantityValue,
    ReferenceValue, SearchQuery, StringMode, SummaryMode, TokenValue, TotalMode, TypedValue,
    UriMode,
};
use super::model_terms::{Subsumption, ValueSetRef};
use super::values::escape;

impl SearchQuery {
    /// `name=value&…` without a leading `?`; empty for a search without parameters.
    pub fn canonical_query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if !self.types.is_empty() {
            pairs.push(("_type".into(), self.types.join(",")));
        }
        let mut criteria: Vec<(String, String)> = self.criteria.iter().map(criterion).collect();
        criteria.sort();
        pairs.extend(criteria);
        let r = &self.result;
        if !r.sort.is_empty() {
            let keys: Vec<String> = r
                .sort
                .iter()
                .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.code))
                .collect();
            pairs.push(("_sort".into(), keys.join(",")));
        }
        if let Some(count) = r.count {
            pairs.push(("_count".into(), count.to_string()));
        }
        if let Some(total) = r.total {
            let total = match total {
                TotalMode::None => "none",
                TotalMode::Estimate => "estimate",
                TotalMode::Accurate => "accurate",
            };
            pairs.push(("_total".into(), total.into()));
        }
        if let Some(summary) = r.summary {
            let summary = match summary {
                SummaryMode::True => "true",
                SummaryMode::Text => "text",
                SummaryMode::Data => "data",
                SummaryMode::Count => "count",
                SummaryMode::False => "false",
            };
            pairs.push(("_summary".into(), summary.into()));
        }
        if !r.elements.is_empty() {
            pairs.push(("_elements".into(), r.elements.join(",")));
        }
        for (name, includes) in [("_include", &r.include), ("_revinclude", &r.revinclude)] {
            let mut rendered: Vec<(String, String)> =
                includes.iter().map(|i| include(name, i)).collect();
            rendered.sort();
            pairs.extend(rendered);
        }
        if let Some(page) = &r.page {
            pairs.push(("_page".into(), page.clone()));
        }
        pairs
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encoding of everything but the unreserved characters and the separators FHIR
/// uses unescaped (`:` `/` `,` `$` `*`).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/,$*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn include(name: &str, include: &Include) -> (String, String) {
    let name = if include.iterate {
        format!("{name}:iterate")
    } else {
        name.to_owned()
    };
    let value = match (&include.source_type, &include.param, &include.target_type) {
        (None, _, _) => "*".to_owned(),
        (Some(source), None, _) => format!("{source}:*"),
        (Some(source), Some(param), None) => format!("{source}:{param}"),
        (Some(source), Some(param), Some(target)) => format!("{source}:{param}:{target}"),
    };
    (name, value)
}

fn criterion(c: &Criterion) -> (String, String) {
    match c {
        // `$everything`'s `start`, `end`, `_since`: one date, as written.
        Criterion::Param(p) if p.column == Column::CareDate || p.code == SINCE => {
            let text = match &p.matcher {
                Match::Date(values) => join(values.iter().map(|v| escape(&v.text))),
                other => matcher(other).1,
            };
            (p.code.clone(), text)
        }
        Criterion::Param(p) => {
            let (modifier, value) = matcher(&p.matcher);
            (format!("{}{modifier}", p.code), value)
        }
        Criterion::Chain {
            param,
            target_type,
            criterion: inner,
        } => {
            let (name, value) = criterion(inner);
            (format!("{param}:{target_type}.{name}"), value)
        }
        Criterion::Has {
            source_type,
            param,
            criterion: inner,
        } => {
            let (name, value) = criterion(inner);
            (format!("_has:{source_type}:{param}:{name}"), value)
        }
        Criterion::List(ids) => ("_list".into(), join(ids.iter().map(|i| escape(i)))),
    }
}

fn join(values: impl Iterator<Item = String>) -> String {
    values.collect::<Vec<_>>().join(",")
}

/// The modifier suffix (`:exact`) and the value of a test.
fn matcher(m: &Match) -> (&'static str, String) {
    match m {
        Match::Missing(missing) => (":missing", missing.to_string()),
        Match::String { mode, values } => {
            let modifier = match mode {
                StringMode::StartsWith => "",
                StringMode::Contains => ":contains",
                StringMode::Exact => ":exact",
            };
            (modifier, join(values.iter().map(|v| escape(&v.text))))
        }
        Match::Token { not, values } => (
            if *not { ":not" } else { "" },
            join(values.iter().map(token)),
        ),
        Match::TokenText(values) => (":text", join(values.iter().map(|v| escape(&v.text)))),
        Match::OfType(values) => (":of-type", join(values.iter().map(of_type))),
        Match::Reference(values) => ("", join(values.iter().map(reference))),
        Match::ReferenceIdentifier(values) => (":identifier", join(values.iter().map(token))),
        Match::Date(values) => ("", join(values.iter().map(date))),
        Match::Number(values) => ("", join(values.iter().map(number))),
        Match::Quantity(values) => ("", join(values.iter().map(quantity))),
        Match::Uri { mode, values } => {
            let modifier = match mode {
                UriMode::Equals => "",
                UriMode::Above => ":above",
                UriMode::Below => ":below",
            };
            (modifier, join(values.iter().map(|v| escape(v))))
        }
        Match::Composite(values) => (
            "",
            join(values.iter().map(|v| {
                v.components
                    .iter()
                    .map(|c| typed(&c.value))
                    .collect::<Vec<_>>()
                    .join("$")
            })),
        ),
        Match::TokenIn { not, value_sets } => (
            if *not { ":not-in" } else { ":in" },
            join(value_sets.iter().map(|v| match v {
                ValueSetRef::Local(id) => format!("ValueSet/{id}"),
                ValueSetRef::Canonical { url, version } => match version {
                    Some(version) => format!("{}|{}", escape(url), escape(version)),
                    None => escape(url),
                },
            })),
        ),
        Match::TokenSubsumption { direction, values } => (
            match direction {
                Subsumption::Above => ":above",
                Subsumption::Below => ":below",
            },
            join(
                values
                    .iter()
                    .map(|v| format!("{}|{}", escape(&v.system), escape(&v.code))),
            ),
        ),
        Match::Text { values, .. } => ("", join(values.iter().map(|v| escape(&v.text)))),
        Match::Near(values) => ("", join(values.iter().map(|v| v.text.clone()))),
    }
}

fn token(t: &TokenValue) -> String {
    let code = t.code.as_deref().map(escape).unwrap_or_default();
    match &t.system {
        None => code,
        Some(system) => format!("{}|{code}", escape(system)),
    }
}

fn of_type(t: &OfTypeValue) -> String {
    format!(
        "{}|{}|{}",
        escape(&t.type_system),
        escape(&t.type_code),
        escape(&t.value)
    )
}

fn reference(r: &ReferenceValue) -> String {
    match r {
        ReferenceValue::Local {
            target_type,
            id,
            version,
        } => {
            let mut out = match target_type {
                Some(ty) => format!("{ty}/{id}"),
                None => id.clone(),
            };
            if let Some(version) = version {
                out.push_str("/_history/");
                out.push_str(version);
            }
            escape(&out)
        }
        ReferenceValue::Url { url, version } => match version {
            Some(version) => format!("{}|{}", escape(url), escape(version)),
            None => escape(url),
        },
    }
}

fn prefixed(prefix: Prefix, text: &str) -> String {
    match prefix {
        Prefix::Eq => escape(text),
        p => format!("{}{}", p.code(), escape(text)),
    }
}

fn date(d: &DateValue) -> String {
    prefixed(d.prefix, &d.text)
}

fn number(n: &NumberValue) -> String {
    prefixed(n.prefix, &n.text)
}

fn quantity(q: &QuantityValue) -> String {
    let number = number(&q.number);
    match (&q.system, &q.code) {
        (None, None) => number,
        (system, code) => format!(
            "{number}|{}|{}",
            system.as_deref().map(escape).unwrap_or_default(),
            code.as_deref().map(escape).unwrap_or_default()
        ),
    }
}

fn typed(v: &TypedValue) -> String {
    match v {
        TypedValue::String(s) => escape(&s.text),
        TypedValue::Token(t) => token(t),
        TypedValue::Reference(r) => reference(r),
        TypedValue::Date(d) => date(d),
        TypedValue::Number(n) => number(n),
        TypedValue::Quantity(q) => quantity(q),
        TypedValue::Uri(u) => escape(u),
    }
}
