//! Tests of `certificate.rs`: certificates built here with the subject layouts of real
//! IGC-Santé cards, older cards, and bare RPPS numbers.

use openssl::asn1::Asn1Time;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::x509::{X509, X509NameBuilder};

use super::*;

/// A self-signed certificate with these subject entries, valid until `not_after` (Unix
/// seconds).
fn certificate(entries: &[(&str, &str)], not_after: i64) -> X509 {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    for (field, value) in entries {
        name.append_entry_by_text(field, value).unwrap();
    }
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder
        .set_not_before(&Asn1Time::from_unix(1_600_000_000).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::from_unix(not_after).unwrap())
        .unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    builder.build()
}

#[test]
fn igc_sante_card_names_the_idnatps_in_its_common_name() {
    let cert = certificate(
        &[
            ("C", "FR"),
            ("title", "Médecin"),
            ("SN", "DOC0073574"),
            ("GN", "KIT"),
            ("CN", "899700735741"),
        ],
        2_000_000_000,
    );
    let holder = CertificateHolder::of(&cert).unwrap();
    assert_eq!(holder.national_id, "899700735741");
    assert_eq!(holder.rpps.as_deref(), Some("99700735741"));
    assert_eq!(holder.expires_at, 2_000_000_000);
    assert_eq!(
        holder.identifiers(),
        [
            (IDNATPS_SYSTEM, "899700735741".to_owned()),
            (RPPS_SYSTEM, "99700735741".to_owned())
        ]
    );
}

#[test]
fn older_cards_name_the_id_in_serial_number() {
    let cert = certificate(
        &[
            ("C", "FR"),
            ("O", "CABINET DR DUPONT"),
            ("serialNumber", "8001234567"),
            ("CN", "DUPONT PIERRE"),
        ],
        2_000_000_000,
    );
    let holder = CertificateHolder::of(&cert).unwrap();
    // Not 8 + 11 digits: an IdNatPS without an RPPS.
    assert_eq!(holder.national_id, "8001234567");
    assert_eq!(holder.rpps, None);
    assert_eq!(holder.identifiers().len(), 1);
}

#[test]
fn adeli_based_ids_and_bare_rpps_numbers_are_read() {
    let adeli = certificate(&[("CN", "00B7010446")], 2_000_000_000);
    let holder = CertificateHolder::of(&adeli).unwrap();
    assert_eq!(holder.national_id, "00B7010446");
    assert_eq!(holder.rpps, None);

    let bare = certificate(&[("CN", "10101010101")], 2_000_000_000);
    let holder = CertificateHolder::of(&bare).unwrap();
    assert_eq!(holder.national_id, "810101010101");
    assert_eq!(holder.rpps.as_deref(), Some("10101010101"));
}

#[test]
fn a_subject_without_a_national_id_is_refused() {
    for entries in [
        &[("CN", "DUPONT PIERRE"), ("O", "CABINET")][..],
        &[("CN", "a"), ("serialNumber", "12 34")][..],
        &[("O", "899700735741")][..],
    ] {
        let cert = certificate(entries, 2_000_000_000);
        let error = CertificateHolder::of(&cert).unwrap_err();
        assert!(matches!(error, AuthError::Certificate(_)), "{entries:?}");
    }
}

#[test]
fn the_principal_is_the_practitioner_with_user_scopes_until_expiry() {
    let holder = CertificateHolder::from_national_id("899700735741", 1_900_000_000);
    let principal = Principal::from_certificate("p-1", Some("10".to_owned()), &holder);
    assert_eq!(principal.subject, Subject::Practitioner("p-1".to_owned()));
    assert_eq!(principal.issuer, CERTIFICATE_ISSUER);
    assert_eq!(principal.scopes, ["user/*.cruds"]);
    assert_eq!(principal.purposes, [PurposeOfUse::Treat]);
    assert_eq!(principal.profession.as_deref(), Some("10"));
    assert_eq!(principal.organization, None);
    assert_eq!(principal.expires_at, 1_900_000_000);
}
