//! The range-valued parameter types: date (date, dateTime, instant, Period, Timing),
//! number and quantity (with their implicit precision, R4 search.html §3.1.1.4.2–4 and
//! §3.1.1.4.9). Pure; depends on `serde_json`.

use serde_json::{Map, Value};

use super::IndexEntry;
use super::ranges::{date_range, decimal_range};
use super::values::{NoEntry, Out, cannot, not_a_date, owned, text, texts};
use crate::search::fhirpath::Item;

/// The system of `Money.currency` codes.
const ISO_4217: &str = "urn:iso:std:iso:4217";

/// Dates: date/dateTime/instant over their precision, Period (open ends unbounded),
/// Timing (the outer limits of its events and `repeat.boundsPeriod`).
pub(super) fn date(
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    type_name: Option<&str>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let range = match (item.json(), object) {
        (Some(Value::String(s)), _) => match type_name {
            Some("date" | "dateTime" | "instant") | None => {
                Some(date_range(s).ok_or_else(|| not_a_date(s))?)
            }
            _ => return Err(cannot(type_name, "a date")),
        },
        (_, Some(o)) => match type_name {
            Some("Period") => period(o)?,
            Some("Timing") => timing(o)?,
            None if o.contains_key("start") || o.contains_key("end") => period(o)?,
            None if o.contains_key("event") || o.contains_key("repeat") => timing(o)?,
            _ => return Err(cannot(type_name, "a date")),
        },
        _ => return Err(cannot(type_name, "a date")),
    };
    if let Some((low_ms, high_ms)) = range {
        out.push(IndexEntry::Date {
            param: param.to_owned(),
            low_ms,
            high_ms,
        });
    }
    Ok(())
}

fn bound(o: &Map<String, Value>, key: &str) -> Result<Option<(i64, i64)>, NoEntry> {
    match text(o, key) {
        Some(s) => date_range(s).map(Some).ok_or_else(|| not_a_date(s)),
        None => Ok(None),
    }
}

fn period(o: &Map<String, Value>) -> Result<Option<(i64, i64)>, NoEntry> {
    Ok(match (bound(o, "start")?, bound(o, "end")?) {
        (None, None) => None,
        (start, end) => Some((
            start.map_or(i64::MIN, |s| s.0),
            end.map_or(i64::MAX, |e| e.1),
        )),
    })
}

fn timing(o: &Map<String, Value>) -> Result<Option<(i64, i64)>, NoEntry> {
    let mut range: Option<(i64, i64)> = None;
    let mut widen = |r: (i64, i64)| {
        range = Some(range.map_or(r, |(l, h)| (l.min(r.0), h.max(r.1))));
    };
    for event in texts(o, "event") {
        widen(date_range(event).ok_or_else(|| not_a_date(event))?);
    }
    let bounds = o
        .get("repeat")
        .and_then(|r| r.get("boundsPeriod"))
        .and_then(Value::as_object);
    if let Some(b) = bounds
        && let Some(r) = period(b)?
    {
        widen(r);
    }
    Ok(range)
}

/// The value of a JSON number as written, and its implicit range.
fn decimal(v: Option<&Value>) -> Option<(String, f64, f64)> {
    let Some(Value::Number(n)) = v else {
        return None;
    };
    let text = n.to_string();
    let (low, high) = decimal_range(&text)?;
    Some((text, low, high))
}

/// The bounds of a Range (`low`/`high` quantities), open ends unbounded, with the value
/// text of its low (or high) end and that end's unit.
fn range_of(o: &Map<String, Value>) -> Option<(String, f64, f64, &Map<String, Value>)> {
    let end = |key| o.get(key).and_then(Value::as_object);
    let low = end("low").and_then(|q| Some((decimal(q.get("value"))?, q)));
    let high = end("high").and_then(|q| Some((decimal(q.get("value"))?, q)));
    let ((text, _, _), unit_of) = low.clone().or_else(|| high.clone())?;
    let lo = low.map_or(f64::MIN, |((_, l, _), _)| l);
    let hi = high.map_or(f64::MAX, |((_, _, h), _)| h);
    Some((text, lo, hi, unit_of))
}

/// Numbers: decimal and integer types, and a Range of them.
pub(super) fn number(
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    type_name: Option<&str>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let (value, low, high) = match (item.json(), object) {
        (Some(v @ Value::Number(_)), _) => {
            decimal(Some(v)).ok_or_else(|| cannot(type_name, "a number"))?
        }
        (_, Some(o)) if matches!(type_name, Some("Range") | None) => match range_of(o) {
            Some((text, low, high, _)) => (text, low, high),
            None => return Ok(()),
        },
        _ => return Err(cannot(type_name, "a number")),
    };
    out.push(IndexEntry::Number {
        param: param.to_owned(),
        value,
        low,
        high,
    });
    Ok(())
}

/// Quantities: Quantity and its profiles (Age, Duration, ...), Money (currency as an
/// ISO 4217 code), Range (one entry spanning low..high); SampledData is not indexed.
pub(super) fn quantity(
    param: &str,
    item: &Item<'_>,
    object: Option<&Map<String, Value>>,
    type_name: Option<&str>,
    out: &mut Out,
) -> Result<(), NoEntry> {
    let entry = |(value, low, high): (String, f64, f64), unit_of: Option<&Map<String, Value>>| {
        let money = unit_of.is_some_and(|u| u.contains_key("currency"));
        IndexEntry::Quantity {
            param: param.to_owned(),
            value,
            low,
            high,
            system: if money {
                Some(ISO_4217.to_owned())
            } else {
                unit_of.and_then(|u| owned(u, "system"))
            },
            code: unit_of.and_then(|u| owned(u, if money { "currency" } else { "code" })),
            unit: unit_of.and_then(|u| owned(u, "unit")),
        }
    };
    let Some(o) = object else {
        return match item.json() {
            Some(v @ Value::Number(_)) => {
                out.extend(decimal(Some(v)).map(|d| entry(d, None)));
                Ok(())
            }
            _ => Err(cannot(type_name, "a quantity")),
        };
    };
    let is_range = match type_name {
        Some("SampledData") => return Ok(()),
        Some("Range") => true,
        None => o.contains_key("low") || o.contains_key("high"),
        Some(_) => false,
    };
    if is_range {
        if let Some((text, low, high, unit_of)) = range_of(o) {
            out.push(entry((text, low, high), Some(unit_of)));
        }
        return Ok(());
    }
    let is_quantity = type_name.is_none_or(|t| {
        matches!(
            t,
            "Quantity"
                | "Money"
                | "Age"
                | "Count"
                | "Distance"
                | "Duration"
                | "SimpleQuantity"
                | "MoneyQuantity"
        )
    });
    if !is_quantity {
        return Err(cannot(type_name, "a quantity"));
    }
    out.extend(decimal(o.get("value")).map(|d| entry(d, Some(o))));
    Ok(())
}
