//! The parameters of `Patient/{id}/$everything` (R4 OperationDefinition
//! Patient-everything) that are not search parameters: `start` and `end`, the range of
//! care dates, and `_since`, updated since an instant. `_type` and `_count` are search's.
//!
//! The care date of a resource is the clinical date Carnet records for its consent
//! decisions (`consent::facts` `DATE_PATHS`: a document's service date, an observation's
//! effective date, an encounter's start…; column `Column::CareDate`). A resource with a
//! care date is returned when it falls within the range; one without (the Patient, a
//! Practitioner, a type with no such date) always is, as the operation's definition asks
//! ("all records relating to care provided in a certain date range"). `start` keeps care
//! dates at or after its start, `end` at or before its end (a date is a range: `end=2024`
//! keeps all of 2024). `_since` is `_lastUpdated=ge…` and must be an instant.

use super::error::QueryError;
use super::model::{Column, Criterion, Match, ParamCriterion, Prefix};
use super::values::date;
use crate::search::registry::SearchParamType;

/// `_since`: not a search parameter (search's is `_lastUpdated`).
pub(super) const SINCE: &str = "_since";
/// The names `everything_criterion` takes.
pub const EVERYTHING_PARAMS: &[&str] = &["start", "end", SINCE];

/// The criterion of the `$everything` parameter `name` (one of `EVERYTHING_PARAMS`) with
/// `value`: a plain date (no prefix, no list) for `start` and `end`, an instant for
/// `_since`.
pub fn everything_criterion(name: &str, value: &str) -> Result<Criterion, QueryError> {
    let mut parsed = date(name, value)?;
    if value.contains(',') || parsed.prefix != Prefix::Eq || value.starts_with("eq") {
        return Err(QueryError::bad(
            name,
            value,
            "expected one date, without prefix",
        ));
    }
    let (prefix, column) = match name {
        "start" => (Prefix::Ge, Column::CareDate),
        "end" => (Prefix::Le, Column::CareDate),
        "_since" if is_instant(&parsed.text) => (Prefix::Ge, Column::LastUpdated),
        "_since" => {
            return Err(QueryError::bad(
                name,
                value,
                "expected an instant `YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)`",
            ));
        }
        _ => {
            return Err(QueryError::bad(
                name,
                value,
                "not a parameter of `$everything`",
            ));
        }
    };
    parsed.prefix = prefix;
    Ok(Criterion::Param(ParamCriterion {
        code: name.to_owned(),
        index_params: vec![name.to_owned()],
        param_type: SearchParamType::Date,
        column,
        matcher: Match::Date(vec![parsed]),
    }))
}

/// Whether `text` (a valid search date) is a full instant: seconds and a time zone.
fn is_instant(text: &str) -> bool {
    text.split_once('T').is_some_and(|(_, time)| {
        let zoned = time.ends_with('Z') || time.contains('+') || time.contains('-');
        zoned && time.len() >= "hh:mm:ssZ".len() && time.as_bytes().get(5) == Some(&b':')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_of(criterion: &Criterion) -> (&str, Column, Prefix, i64, i64) {
        let Criterion::Param(p) = criterion else {
            panic!("not a parameter: {criterion:?}");
        };
        let Match::Date(values) = &p.matcher else {
            panic!("not a date: {p:?}");
        };
        (
            &p.code,
            p.column,
            values[0].prefix,
            values[0].low,
            values[0].high,
        )
    }

    #[test]
    fn start_and_end_bound_the_care_date_by_the_whole_date() {
        let start = everything_criterion("start", "2024-03").expect("start");
        let (code, column, prefix, low, _) = date_of(&start);
        assert_eq!(
            (code, column, prefix),
            ("start", Column::CareDate, Prefix::Ge)
        );
        assert_eq!(low, 1_709_251_200_000, "2024-03-01T00:00:00Z");
        let end = everything_criterion("end", "2024").expect("end");
        let (_, column, prefix, _, high) = date_of(&end);
        assert_eq!((column, prefix), (Column::CareDate, Prefix::Le));
        assert_eq!(high, 1_735_689_599_999, "the last ms of 2024");
    }

    #[test]
    fn since_is_last_updated_from_an_instant() {
        let since = everything_criterion("_since", "2024-03-01T10:00:00Z").expect("since");
        let (_, column, prefix, _, _) = date_of(&since);
        assert_eq!((column, prefix), (Column::LastUpdated, Prefix::Ge));
        assert!(everything_criterion("_since", "2024-03-01T10:00:00+01:00").is_ok());
        for partial in ["2024-03-01", "2024-03-01T10:00Z"] {
            assert!(
                everything_criterion("_since", partial).is_err(),
                "{partial}"
            );
        }
    }

    #[test]
    fn prefixes_lists_and_bad_dates_are_refused_with_the_parameter() {
        for (name, value) in [
            ("start", "ge2024"),
            ("end", "2024,2025"),
            ("start", "2024-13"),
            ("end", "eq2024"),
        ] {
            let error = everything_criterion(name, value).expect_err(value);
            assert_eq!(error.parameter(), name, "{value}");
        }
    }
}
