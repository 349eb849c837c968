//! Tests of value parsing: escapes, prefixes, ranges and the approximation of `ap`.

use super::model::{DateValue, Prefix, ReferenceValue};
use super::values::*;
use crate::search::extract::{date_range, decimal_range};

#[test]
fn separators_can_be_escaped() {
    assert_eq!(split_unescaped("a,b\\,c,,d", ','), ["a", "b\\,c", "", "d"]);
    assert_eq!(split_unescaped("a\\\\,b", ','), ["a\\\\", "b"]);
    assert_eq!(split_unescaped("x$y\\$z", '$'), ["x", "y\\$z"]);
    assert_eq!(unescape("a\\,b\\$c\\|d\\\\e\\x"), "a,b$c|d\\e\\x");
    assert_eq!(escape("a,b$c|d\\e"), "a\\,b\\$c\\|d\\\\e");
    assert_eq!(unescape(&escape("a,b$c|d\\e")), "a,b$c|d\\e");
}

#[test]
fn every_prefix_is_read_and_kept() {
    for p in Prefix::ALL {
        let d = date("date", &format!("{}2013", p.code())).expect("date");
        assert_eq!(d.prefix, p);
        assert_eq!((d.low, d.high), date_range("2013").expect("range"));
        let n = number("n", &format!("{}10", p.code())).expect("number");
        assert_eq!(n.prefix, p);
    }
    assert_eq!(date("d", "2013").map(|d| d.prefix), Ok(Prefix::Eq));
    assert!(date("d", "zz2013").is_err());
    assert!(number("n", "g1").is_err());
    assert!(number("n", "1,5").is_err());
    assert!(number("n", "NaN").is_err());
}

#[test]
fn numbers_have_their_precision_range_and_ap_widens_it() {
    let n = number("n", "100").expect("100");
    assert_eq!((n.low, n.high), decimal_range("100").expect("range"));
    assert_eq!((n.low, n.high), (99.5, 100.5));
    let n = number("n", "1e2").expect("1e2");
    assert_eq!((n.low, n.high), (50.0, 150.0));
    let ap = number("n", "ap100").expect("ap");
    assert_eq!((ap.low, ap.high), (90.0, 110.0));
    let ap = number("n", "ap-100").expect("ap");
    assert_eq!((ap.low, ap.high), (-110.0, -90.0));
    // Precision wider than 10% wins.
    let ap = number("n", "ap1e2").expect("ap");
    assert_eq!((ap.low, ap.high), (50.0, 150.0));
    let q = quantity("q", "ap5.4||mg").expect("quantity");
    assert!((q.number.low - 4.86).abs() < 1e-9 && (q.number.high - 5.94).abs() < 1e-9);
}

#[test]
fn dates_keep_their_precision_and_approximate_against_now() {
    let d = date("d", "2013-01-14T10:00:00Z").expect("instant");
    assert_eq!(d.high - d.low, 999);
    let year = date("d", "ap2000").expect("year");
    let (low, high) = date_range("2000").expect("range");
    assert_eq!((year.low, year.high), (low, high));
    let now = high + 1 + 10 * 86_400_000;
    assert_eq!(year.approximate(now), (low - 86_400_000, high + 86_400_000));
    let inside = DateValue {
        prefix: Prefix::Ap,
        text: "2000".into(),
        low,
        high,
    };
    assert_eq!(inside.approximate(low + 5), (low, high));
    assert!(date("d", "2013-02-30").is_err());
    assert!(date("d", "2013-01-14T10:00:00 01:00").is_ok());
}

#[test]
fn references_relative_absolute_and_versioned() {
    let is_type = |t: &str| t == "Patient";
    assert_eq!(
        reference("r", "Patient/1", None, &is_type),
        Ok(ReferenceValue::Local {
            target_type: Some("Patient".into()),
            id: "1".into(),
            version: None
        })
    );
    assert_eq!(
        reference("r", "urn:uuid:1234", None, &is_type),
        Ok(ReferenceValue::Url {
            url: "urn:uuid:1234".into(),
            version: None
        })
    );
    assert!(reference("r", "Patient/1/2", None, &is_type).is_err());
    assert!(reference("r", "http://x/Patient/1", Some("Patient"), &is_type).is_err());
    assert!(reference("r", "Patient/", None, &is_type).is_err());
}

#[test]
fn tokens_strings_and_uris() {
    assert!(token("t", "|").is_err());
    assert!(string("s", "   ").is_err());
    assert_eq!(
        string("s", " Ærø  Skøbing ").map(|s| s.normalized),
        Ok("aero skobing".into())
    );
    assert!(uri("u", " ").is_err());
    assert!(boolean("b", "TRUE").is_err());
    assert!(alternatives("a", "").is_err());
    assert_eq!(alternatives("a", "x\\,y,z"), Ok(vec!["x\\,y", "z"]));
}
