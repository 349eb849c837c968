//! The rows of `search_text` (the words of `_text` and `_content`) and `search_position`
//! (the point of `near`) for the index entries of one resource: one row per parameter
//! (a resource has one narrative, one content and at most one position per parameter).

use diesel::prelude::*;

use super::schema::{search_position, search_text};
use crate::search::extract::IndexEntry;

#[derive(Insertable)]
#[diesel(table_name = search_text)]
pub(super) struct TextRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    words: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = search_position)]
pub(super) struct PositionRow<'a> {
    res_type: &'a str,
    res_id: &'a str,
    param: &'a str,
    latitude: f64,
    longitude: f64,
}

/// The text rows of `entries`, the first of each parameter.
pub(super) fn text_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    entries: &'a [IndexEntry],
) -> Vec<TextRow<'a>> {
    let mut rows: Vec<TextRow<'a>> = Vec::new();
    for entry in entries {
        if let IndexEntry::Text { param, words } = entry
            && !rows.iter().any(|r| r.param == param)
        {
            rows.push(TextRow {
                res_type,
                res_id,
                param,
                words,
            });
        }
    }
    rows
}

/// The position rows of `entries`, the first of each parameter.
pub(super) fn position_rows<'a>(
    res_type: &'a str,
    res_id: &'a str,
    entries: &'a [IndexEntry],
) -> Vec<PositionRow<'a>> {
    let mut rows: Vec<PositionRow<'a>> = Vec::new();
    for entry in entries {
        if let IndexEntry::Position {
            param,
            latitude,
            longitude,
        } = entry
            && !rows.iter().any(|r| r.param == param)
        {
            rows.push(PositionRow {
                res_type,
                res_id,
                param,
                latitude: *latitude,
                longitude: *longitude,
            });
        }
    }
    rows
}
