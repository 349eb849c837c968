//! The criteria of conditional interactions (`If-None-Exist`, conditional update, delete and
//! patch, conditional references): until the full search lands, `_id` and `identifier`
//! (token syntax `system|value`, `value`, `|value`), OR with commas, AND by repetition.

use super::query_string::parse_pairs;

/// One AND-ed criterion; a match needs any of its alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    Id(Vec<String>),
    Identifier(Vec<TokenMatch>),
}

/// A token alternative: `system` is `None` for "any system", `Some("")` for "no system".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMatch {
    pub system: Option<String>,
    pub code: String,
}

/// Why criteria could not be read; the message names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    #[error("no search criteria given for a conditional operation")]
    Empty,
    #[error(
        "search parameter `{0}` is not supported in conditional operations yet: use `identifier` or `_id`"
    )]
    Unsupported(String),
    #[error("search parameter `{name}` has an invalid value `{value}`")]
    BadValue { name: String, value: String },
}

/// Reads conditional criteria from a query string (`identifier=urn:oid:1|42&_id=x`).
pub fn parse_criteria(query: &str) -> Result<Vec<Criterion>, CriteriaError> {
    let pairs = parse_pairs(query);
    if pairs.is_empty() {
        return Err(CriteriaError::Empty);
    }
    pairs
        .into_iter()
        .filter(|(name, _)| !matches!(name.as_str(), "_format" | "_pretty"))
        .map(|(name, value)| {
            let bad = || CriteriaError::BadValue {
                name: name.clone(),
                value: value.clone(),
            };
            let alternatives: Vec<&str> = value.split(',').collect();
            if alternatives.iter().any(|a| a.is_empty()) {
                return Err(bad());
            }
            match name.as_str() {
                "_id" => Ok(Criterion::Id(
                    alternatives.iter().map(|a| (*a).to_owned()).collect(),
                )),
                "identifier" => alternatives
                    .iter()
                    .map(|a| token(a).ok_or_else(bad))
                    .collect::<Result<_, _>>()
                    .map(Criterion::Identifier),
                _ => Err(CriteriaError::Unsupported(name)),
            }
        })
        .collect()
}

fn token(text: &str) -> Option<TokenMatch> {
    match text.split_once('|') {
        None => Some(TokenMatch {
            system: None,
            code: text.to_owned(),
        }),
        Some((_, "")) => None,
        Some((system, code)) => Some(TokenMatch {
            system: Some(system.to_owned()),
            code: code.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_tokens_in_all_forms() {
        let criteria = parse_criteria("identifier=s%7C1,2,%7C3&_id=a").unwrap_or_default();
        assert_eq!(
            criteria,
            vec![
                Criterion::Identifier(vec![
                    TokenMatch {
                        system: Some("s".into()),
                        code: "1".into()
                    },
                    TokenMatch {
                        system: None,
                        code: "2".into()
                    },
                    TokenMatch {
                        system: Some(String::new()),
                        code: "3".into()
                    },
                ]),
                Criterion::Id(vec!["a".into()]),
            ]
        );
    }

    #[test]
    fn unsupported_and_bad_values_name_the_parameter() {
        assert_eq!(parse_criteria(""), Err(CriteriaError::Empty));
        assert_eq!(
            parse_criteria("name=x"),
            Err(CriteriaError::Unsupported("name".into()))
        );
        assert!(matches!(
            parse_criteria("identifier=s%7C"),
            Err(CriteriaError::BadValue { .. })
        ));
    }
}
