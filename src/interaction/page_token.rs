//! The `_page` tokens of search links: `a.<time>:<cursor>` for the page after a row and
//! `b.<time>:<cursor>` for the page before it (`storage::search::Cursor`), where `<time>`
//! is when the search's first page was read (milliseconds; `PageRequest::first_read`). A
//! cursor is the row's `Type/id`, followed for sorted searches by `:` and its sort values
//! (JSON, base64url), so that every page of a sorted search is found by keyset too. A
//! token from another search, or altered, is a 400 naming `_page`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::error::InteractionError;
use super::target;
use crate::storage::search::{Cursor, PagePosition, SearchPage, SortValue};

/// A page of a search, as its `_page` token names it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageToken {
    pub position: PagePosition,
    /// When the search's first page was read.
    pub first_read: i64,
}

/// The page a `_page` token names.
pub(crate) fn parse(token: &str) -> Result<PageToken, InteractionError> {
    let bad = || InteractionError::invalid(format!("`_page` has an invalid value `{token}`"));
    let (kind, rest) = token.split_once(':').ok_or_else(bad)?;
    let (kind, first_read) = kind.split_once('.').ok_or_else(bad)?;
    let first_read: i64 = first_read
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| first_read.parse().ok())
        .flatten()
        .ok_or_else(bad)?;
    let (key, values) = match rest.split_once(':') {
        Some((key, values)) => (key, Some(values)),
        None => (rest, None),
    };
    let (res_type, res_id) = key.split_once('/').ok_or_else(bad)?;
    let res_type = target::resource_id(res_type).map_err(|_| bad())?;
    let res_id = target::resource_id(res_id).map_err(|_| bad())?;
    let sort = match values {
        None => Vec::new(),
        Some(values) => decode_values(values).ok_or_else(bad)?,
    };
    let cursor = Cursor {
        sort,
        res_type: res_type.as_str().to_owned(),
        res_id: res_id.as_str().to_owned(),
    };
    let position = match kind {
        "a" => PagePosition::After(cursor),
        "b" => PagePosition::Before(cursor),
        _ => return Err(bad()),
    };
    Ok(PageToken {
        position,
        first_read,
    })
}

/// The tokens of the previous and next pages of `page`, read at `position`, if there are
/// such pages, for a search whose first page was read at `first_read`.
pub(crate) fn neighbours(
    position: &PagePosition,
    page: &SearchPage,
    first_read: i64,
) -> (Option<String>, Option<String>) {
    let token = |kind: &str, cursor: &Option<Cursor>| {
        cursor
            .as_ref()
            .map(|c| format!("{kind}.{first_read}:{}", encode(c)))
    };
    let before = |cursor: &Option<Cursor>| token("b", cursor);
    let after = |cursor: &Option<Cursor>| token("a", cursor);
    match position {
        PagePosition::Offset(offset) => (
            if *offset > 0 {
                before(&page.first)
            } else {
                None
            },
            if page.has_more {
                after(&page.last)
            } else {
                None
            },
        ),
        PagePosition::After(_) => (
            before(&page.first),
            if page.has_more {
                after(&page.last)
            } else {
                None
            },
        ),
        PagePosition::Before(_) => (
            if page.has_more {
                before(&page.first)
            } else {
                None
            },
            after(&page.last),
        ),
    }
}

fn encode(cursor: &Cursor) -> String {
    let key = format!("{}/{}", cursor.res_type, cursor.res_id);
    if cursor.sort.is_empty() {
        return key;
    }
    let values: Vec<Value> = cursor
        .sort
        .iter()
        .map(|value| match value {
            None => Value::Null,
            Some(SortValue::Text(text)) => json!({ "s": text }),
            Some(SortValue::Int(int)) => json!({ "i": int }),
            Some(SortValue::Real(real)) => json!({ "r": real }),
        })
        .collect();
    let json = Value::Array(values).to_string();
    format!("{key}:{}", URL_SAFE_NO_PAD.encode(json))
}

fn decode_values(text: &str) -> Option<Vec<Option<SortValue>>> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let values: Vec<Value> = serde_json::from_slice(&bytes).ok()?;
    values
        .into_iter()
        .map(|value| match value {
            Value::Null => Some(None),
            Value::Object(map) if map.len() == 1 => {
                let (kind, value) = map.into_iter().next()?;
                match kind.as_str() {
                    "s" => value.as_str().map(|s| Some(SortValue::Text(s.to_owned()))),
                    "i" => value.as_i64().map(|i| Some(SortValue::Int(i))),
                    "r" => value
                        .as_f64()
                        .filter(|r| r.is_finite())
                        .map(|r| Some(SortValue::Real(r))),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_survive_their_token() {
        let cursor = Cursor {
            sort: vec![
                None,
                Some(SortValue::Text("dupont/é:?&".to_owned())),
                Some(SortValue::Int(-1_700_000_000_000)),
                Some(SortValue::Real(0.1 + 0.2)),
            ],
            res_type: "Patient".to_owned(),
            res_id: "p-1".to_owned(),
        };
        let token = format!("a.1700000000000:{}", encode(&cursor));
        assert!(!token.contains('&') && !token.contains('?'), "{token}");
        assert_eq!(
            parse(&token).ok(),
            Some(PageToken {
                position: PagePosition::After(cursor),
                first_read: 1_700_000_000_000
            })
        );
        let plain = Cursor {
            sort: Vec::new(),
            res_type: "Patient".to_owned(),
            res_id: "p-1".to_owned(),
        };
        assert_eq!(
            parse("b.0:Patient/p-1").ok(),
            Some(PageToken {
                position: PagePosition::Before(plain),
                first_read: 0
            })
        );
    }

    #[test]
    fn altered_tokens_are_refused() {
        for token in [
            "",
            "a",
            "x:Patient/1",
            "a:Patient",
            "a:Patient/1:%%%",
            "a:Patient/1:W3sieCI6MX1d",
            "a:Patient/1",
            "a.:Patient/1",
            "a.-5:Patient/1",
            "a.12x:Patient/1",
            "a.99999999999999999999999:Patient/1",
            "a:Pat ient/1",
            "o:20",
        ] {
            assert!(parse(token).is_err(), "{token}");
        }
    }
}
