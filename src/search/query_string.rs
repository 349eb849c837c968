//! Splitting a URL query string (`a=1&b=x%7Cy`) into decoded name/value pairs.

/// Decoded `(name, value)` pairs in order; `+` is a space as in HTML forms.
pub fn parse_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// `name=value&…` of decoded pairs, as written (for the audit trail, not for a URL).
pub fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_in_order() {
        assert_eq!(
            parse_pairs("?identifier=urn%3Aoid%3A1%7C42&_id=a&&b"),
            vec![
                ("identifier".to_owned(), "urn:oid:1|42".to_owned()),
                ("_id".to_owned(), "a".to_owned()),
                ("b".to_owned(), String::new()),
            ]
        );
    }
}
