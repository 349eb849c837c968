//! The rows of `search_text` (the words of `_text` and `_content`) and `search_position`
//! (the point of `near`) for the index entries of one resource: one row per parameter
//! (a resource has one narrative, one content and at most one position per parameter).

use crate::search::extract::IndexEntry;

pub(super) struct TextRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    words: &'a str,
}

pub(super) struct PositionRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    latitude: f64,
    longitude: f64,
}

super::index_row::index_row!(TextRow => search_text: res_type: Text, res_id: Text,
    param: Text, words: Text);
super::index_row::index_row!(PositionRow => search_position: res_type: Text, res_id: Text,
    param: Text, latitude: Double, longitude: Double);

/// The rows `row` makes of `entries`, the first of each parameter.
fn first_per_param<'a, R>(
    entries: &'a [IndexEntry],
    row: impl Fn(&'a IndexEntry) -> Option<R>,
) -> Vec<R> {
    let mut seen: Vec<&str> = Vec::new();
    entries
        .iter()
        .filter_map(|entry| row(entry).map(|r| (entry.param(), r)))
        .filter(|(param, _)| {
            let first = !seen.contains(param);
            seen.push(param);
            first
        })
        .map(|(_, r)| r)
        .collect()
}

/// The text rows of `entries`.
pub(super) fn text_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    entries: &'a [IndexEntry],
) -> Vec<TextRow<'a>> {
    first_per_param(entries, |entry| match entry {
        IndexEntry::Text { param, words } => Some(TextRow {
            res_type,
            res_id,
            param,
            words,
        }),
        _ => None,
    })
}

/// The position rows of `entries`.
pub(super) fn position_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    entries: &'a [IndexEntry],
) -> Vec<PositionRow<'a>> {
    first_per_param(entries, |entry| match entry {
        IndexEntry::Position {
            param,
            latitude,
            longitude,
        } => Some(PositionRow {
            res_type,
            res_id,
            param,
            latitude: *latitude,
            longitude: *longitude,
        }),
        _ => None,
    })
}
