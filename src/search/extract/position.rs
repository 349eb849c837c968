//! The entry of `near` (R4 Location `near`, a special parameter whose expression is
//! `Location.position`): the position's `latitude` and `longitude`, WGS84 degrees, both
//! needed and within range. Pure.

use serde_json::Value;

use super::IndexEntry;
use super::values::NoEntry;

/// The position entry of one `Location.position` item.
pub(super) fn position(param: &str, item: Option<&Value>) -> Result<IndexEntry, NoEntry> {
    let coordinate = |key: &str, limit: f64| {
        item.and_then(|v| v.get(key))
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && v.abs() <= limit)
    };
    match (coordinate("latitude", 90.0), coordinate("longitude", 180.0)) {
        (Some(latitude), Some(longitude)) => Ok(IndexEntry::Position {
            param: param.to_owned(),
            latitude,
            longitude,
        }),
        _ => Err(NoEntry::Invalid(
            "a position needs a latitude (-90 to 90) and a longitude (-180 to 180)".to_owned(),
        )),
    }
}
