//! HTTPS and professional card certificates, through the real server on ephemeral ports
//! and a real TLS client (OpenSSL): a PKI generated here (a CA, another CA, the server's
//! certificate, card certificates valid, unknown, expired, foreign and revoked, and a CRL),
//! Practitioners stored over the HTTPS main listener with a bearer token, then requests on
//! the professionals' listener with no token at all.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{
    CrlNumber, X509, X509Builder, X509CrlBuilder, X509NameBuilder, X509RevokedBuilder,
};
use serde_json::{Value, json};

use crate::common::{TestApp, each_backend};
use carnet::server;

const DAY: i64 = 86_400;
const PROFESSION: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// An issued certificate and its key.
struct Issued {
    cert: X509,
    key: PKey<Private>,
}

/// What a certificate is for.
enum Kind<'a> {
    Authority,
    Server,
    Client,
    /// Signed by this authority, as a server or client certificate.
    IssuedBy(&'a Issued, &'a Kind<'a>),
}

/// A certificate with these subject entries, serial and validity (Unix seconds), self-signed
/// for an authority, else signed by `issuer`.
fn certificate(
    subject: &[(&str, &str)],
    serial: u32,
    validity: (i64, i64),
    kind: Kind<'_>,
) -> Issued {
    let key = new_key();
    let mut name = X509NameBuilder::new().unwrap();
    for (field, value) in subject {
        name.append_entry_by_text(field, value).unwrap();
    }
    let name = name.build();
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(serial).unwrap()).unwrap();
    builder.set_serial_number(&serial).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder
        .set_not_before(&Asn1Time::from_unix(validity.0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::from_unix(validity.1).unwrap())
        .unwrap();
    let (issuer, role) = match kind {
        Kind::IssuedBy(issuer, role) => (Some(issuer), role),
        ref role => (None, role),
    };
    match issuer {
        Some(issuer) => builder.set_issuer_name(issuer.cert.subject_name()).unwrap(),
        None => builder.set_issuer_name(&name).unwrap(),
    }
    match role {
        Kind::Authority => {
            builder
                .append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            builder
                .append_extension(
                    KeyUsage::new()
                        .critical()
                        .key_cert_sign()
                        .crl_sign()
                        .build()
                        .unwrap(),
                )
                .unwrap();
        }
        Kind::Server => {
            let context = builder.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
            let names = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&context)
                .unwrap();
            builder.append_extension(names).unwrap();
            builder
                .append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
                .unwrap();
        }
        Kind::Client => {
            builder
                .append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap())
                .unwrap();
        }
        Kind::IssuedBy(..) => unreachable!("one level of issuing"),
    }
    let context = builder.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
    let ski = SubjectKeyIdentifier::new().build(&context).unwrap();
    builder.append_extension(ski).unwrap();
    if issuer.is_some() {
        let context = builder.x509v3_context(issuer.map(|i| i.cert.as_ref()), None);
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&context)
            .unwrap();
        builder.append_extension(aki).unwrap();
    }
    let signer = issuer.map_or(&key, |i| &i.key);
    builder.sign(signer, MessageDigest::sha256()).unwrap();
    Issued {
        cert: builder.build(),
        key,
    }
}

/// A card certificate with the IGC-Santé subject layout, naming `national_id`.
fn card(ca: &Issued, national_id: &str, serial: u32, validity: (i64, i64)) -> Issued {
    let subject = [
        ("C", "FR"),
        ("title", "Médecin"),
        ("SN", "DOC0073574"),
        ("GN", "KIT"),
        ("CN", national_id),
    ];
    certificate(
        &subject,
        serial,
        validity,
        Kind::IssuedBy(ca, &Kind::Client),
    )
}

/// A CRL of `ca` revoking `serials`, in PEM.
fn crl(ca: &Issued, serials: &[u32]) -> Vec<u8> {
    let mut builder = X509CrlBuilder::new().unwrap();
    builder.set_issuer_name(ca.cert.subject_name()).unwrap();
    builder
        .set_last_update(&Asn1Time::from_unix(now() - DAY).unwrap())
        .unwrap();
    builder
        .set_next_update(&Asn1Time::from_unix(now() + 30 * DAY).unwrap())
        .unwrap();
    let dummy = X509Builder::new().unwrap();
    let context = dummy.x509v3_context(Some(ca.cert.as_ref()), None);
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&context)
        .unwrap();
    builder.append_extension(aki).unwrap();
    let number = CrlNumber::new(BigNum::from_u32(1).unwrap()).unwrap();
    builder.append_extension(number.build().unwrap()).unwrap();
    for serial in serials {
        let mut revoked = X509RevokedBuilder::new().unwrap();
        let serial = Asn1Integer::from_bn(&BigNum::from_u32(*serial).unwrap()).unwrap();
        revoked.set_serial_number(&serial).unwrap();
        revoked
            .set_revocation_date(&Asn1Time::from_unix(now() - 60).unwrap())
            .unwrap();
        builder.add_revoked(revoked.build()).unwrap();
    }
    builder.sign(&ca.key, MessageDigest::sha256()).unwrap();
    builder.build().unwrap().to_pem().unwrap()
}

/// A response: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

/// One HTTP/1.1 request over TLS, trusting `ca` for the server and presenting `client`
/// when given. `Err` when the handshake or the exchange fails (a refused certificate).
fn https(
    address: SocketAddr,
    ca: &X509,
    client: Option<&Issued>,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Result<Answer, String> {
    let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
    connector.cert_store_mut().add_cert(ca.clone()).unwrap();
    connector.set_verify(SslVerifyMode::PEER);
    if let Some(client) = client {
        connector.set_certificate(&client.cert).unwrap();
        connector.set_private_key(&client.key).unwrap();
    }
    let tcp = TcpStream::connect(address).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut stream = connector
        .build()
        .connect("localhost", tcp)
        .map_err(|e| format!("handshake: {e}"))?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept: application/fhir+json\r\n"
    );
    if let Some(token) = bearer {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if body.is_some() {
        head.push_str(&format!(
            "Content-Type: application/fhir+json\r\nContent-Length: {}\r\n",
            payload.len()
        ));
    }
    head.push_str("\r\n");
    stream
        .write_all(format!("{head}{payload}").as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    // A peer that closes without close_notify still answered in full (Connection: close).
    if let Err(error) = stream.read_to_end(&mut response)
        && response.is_empty()
    {
        return Err(format!("read: {error}"));
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status: {head}"))?;
    Ok(Answer {
        status,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    })
}

/// The generated PKI, written where the server reads it.
struct Pki {
    ca: Issued,
    good: Issued,
    rpps_only: Issued,
    unknown: Issued,
    twice: Issued,
    expired: Issued,
    foreign: Issued,
    revoked: Issued,
}

const GOOD_ID: &str = "899700735741";
const RPPS_ONLY: &str = "10101010101";
const UNKNOWN_ID: &str = "899700000001";
const TWICE_ID: &str = "899700000002";
const REVOKED_SERIAL: u32 = 66;

fn pki(dir: &Path) -> Pki {
    let year = (now() - DAY, now() + 365 * DAY);
    let ca = certificate(
        &[("C", "FR"), ("O", "Carnet test"), ("CN", "Carnet test CA")],
        1,
        year,
        Kind::Authority,
    );
    let other_ca = certificate(&[("CN", "Another CA")], 1, year, Kind::Authority);
    let server = certificate(
        &[("CN", "localhost")],
        2,
        year,
        Kind::IssuedBy(&ca, &Kind::Server),
    );
    let pki = Pki {
        good: card(&ca, GOOD_ID, 10, year),
        rpps_only: card(&ca, &format!("8{RPPS_ONLY}"), 11, year),
        unknown: card(&ca, UNKNOWN_ID, 12, year),
        twice: card(&ca, TWICE_ID, 13, year),
        expired: card(&ca, GOOD_ID, 14, (now() - 30 * DAY, now() - DAY)),
        foreign: card(&other_ca, GOOD_ID, 15, year),
        revoked: card(&ca, GOOD_ID, REVOKED_SERIAL, year),
        ca,
    };
    std::fs::write(dir.join("ca.pem"), pki.ca.cert.to_pem().unwrap()).unwrap();
    let mut chain = server.cert.to_pem().unwrap();
    chain.extend(pki.ca.cert.to_pem().unwrap());
    std::fs::write(dir.join("server.pem"), chain).unwrap();
    std::fs::write(
        dir.join("server.key"),
        server.key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("crl.pem"), crl(&pki.ca, &[REVOKED_SERIAL])).unwrap();
    pki
}

fn practitioner(id: &str, system: &str, value: &str, profession: &str) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": id,
        "identifier": [{"system": system, "value": value}],
        "qualification": [{"code": {"coding": [{"system": PROFESSION, "code": profession}]}}]
    })
}

/// The author recorded with the first version of a resource.
fn author_of(app: &TestApp, res_type: &str, res_id: &str) -> Option<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        author: Option<String>,
    }
    let sql = format!(
        "SELECT author FROM resource_versions WHERE res_type = '{res_type}' AND res_id = '{res_id}' AND version_id = 1"
    );
    let rows: Vec<Row> = match app.database.url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut conn = diesel::SqliteConnection::establish(path).unwrap();
            diesel::sql_query(sql).load(&mut conn).unwrap()
        }
        None => {
            let mut conn = diesel::PgConnection::establish(&app.database.url).unwrap();
            diesel::sql_query(sql).load(&mut conn).unwrap()
        }
    };
    rows.into_iter().next().and_then(|r| r.author)
}

#[actix_rt::test]
async fn professional_card_certificates_over_mutual_tls() {
    each_backend(|app| async move {
        let dir = tempfile::tempdir().unwrap();
        let pki = pki(dir.path());
        let mut config = app.config.clone();
        config.listen = "127.0.0.1:0".to_owned();
        config.listen_pro = "127.0.0.1:0".to_owned();
        config.workers = 1;
        config.tls_cert = Some(dir.path().join("server.pem"));
        config.tls_key = Some(dir.path().join("server.key"));
        config.tls_client_ca = Some(dir.path().join("ca.pem"));
        config.tls_crl = Some(dir.path().join("crl.pem"));
        let bound = server::bind(&config, app.state()).unwrap();
        assert!(bound.https);
        let main = bound.address;
        let pro = bound.professional_address.expect("professionals' listener");
        let handle = bound.server.handle();
        actix_rt::spawn(bound.server);
        let token = app.token();

        let outcome = actix_rt::task::spawn_blocking(move || {
            let ca = &pki.ca.cert;
            // The main listener: HTTPS, metadata open, everything else needs a token.
            let metadata = https(main, ca, None, "GET", "/fhir/metadata", None, None).unwrap();
            assert_eq!(metadata.status, 200);
            assert_eq!(metadata.body["resourceType"], "CapabilityStatement");
            for (id, system, value, profession) in [
                ("dr-kit", carnet::auth::IDNATPS_SYSTEM, GOOD_ID, "10"),
                ("nurse", carnet::auth::RPPS_SYSTEM, RPPS_ONLY, "60"),
                ("twin-a", carnet::auth::IDNATPS_SYSTEM, TWICE_ID, "10"),
                ("twin-b", carnet::auth::IDNATPS_SYSTEM, TWICE_ID, "10"),
            ] {
                let body = practitioner(id, system, value, profession);
                let path = format!("/fhir/Practitioner/{id}");
                let stored = https(main, ca, None, "PUT", &path, Some(&token), Some(&body));
                assert_eq!(stored.unwrap().status, 201, "{id}");
            }
            // A patient whose médecin traitant is dr-kit: the card holder may write there.
            let patient = json!({"resourceType": "Patient", "id": "pk",
                "generalPractitioner": [{"reference": "Practitioner/dr-kit"}]});
            // …and a Consent that lets the nurse in too.
            let consent = json!({"resourceType": "Consent", "id": "pk-nurse", "status": "active",
                "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
                "patient": {"reference": "Patient/pk"},
                "provision": {"type": "permit", "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]},
                    "reference": {"reference": "Practitioner/nurse"}}]}});
            let stored = https(
                main,
                ca,
                None,
                "PUT",
                "/fhir/Patient/pk",
                Some(&token),
                Some(&patient),
            );
            assert_eq!(stored.unwrap().status, 201, "Patient/pk");
            let stored = https(main, ca, None, "PUT", "/fhir/Consent/pk-nurse", Some(&token), Some(&consent));
            assert_eq!(stored.unwrap().status, 201, "Consent/pk-nurse");
            let anonymous = https(
                main,
                ca,
                None,
                "GET",
                "/fhir/Practitioner/dr-kit",
                None,
                None,
            );
            assert_eq!(anonymous.unwrap().status, 401);
            // A card certificate means nothing on the main listener (it asks for none).
            let card_on_main = https(
                main,
                ca,
                Some(&pki.good),
                "GET",
                "/fhir/Practitioner/dr-kit",
                None,
                None,
            );
            assert_eq!(card_on_main.unwrap().status, 401);

            // The professionals' listener: the card alone authenticates.
            let read = https(
                pro,
                ca,
                Some(&pki.good),
                "GET",
                "/fhir/Practitioner/dr-kit",
                None,
                None,
            )
            .unwrap();
            assert_eq!(read.status, 200, "{}", read.body);
            assert_eq!(read.body["id"], "dr-kit");
            let written = json!({"resourceType": "Observation", "id": "by-card", "status": "final",
                "code": {"text": "pulse"}, "subject": {"reference": "Patient/pk"}});
            let created = https(
                pro,
                ca,
                Some(&pki.good),
                "PUT",
                "/fhir/Observation/by-card",
                None,
                Some(&written),
            )
            .unwrap();
            assert_eq!(created.status, 201, "{}", created.body);
            // Found by RPPS number (IdNatPS 8 + RPPS in the card).
            let by_rpps = https(
                pro,
                ca,
                Some(&pki.rpps_only),
                "GET",
                "/fhir/metadata",
                None,
                None,
            );
            assert_eq!(by_rpps.unwrap().status, 200);
            let nurse = https(
                pro,
                ca,
                Some(&pki.rpps_only),
                "PUT",
                "/fhir/Observation/by-nurse",
                None,
                Some(&json!({"resourceType": "Observation", "id": "by-nurse", "status": "final",
                    "code": {"text": "temperature"}, "subject": {"reference": "Patient/pk"}})),
            )
            .unwrap();
            assert_eq!(nurse.status, 201, "{}", nurse.body);
            // A bearer token still wins on the professionals' listener.
            let bad_bearer = https(
                pro,
                ca,
                Some(&pki.good),
                "GET",
                "/fhir/Practitioner/dr-kit",
                Some("not-a-token"),
                None,
            );
            assert_eq!(bad_bearer.unwrap().status, 401);

            // Trusted certificates of holders Carnet cannot identify: 401 OperationOutcome.
            for (label, card) in [("unknown", &pki.unknown), ("twice", &pki.twice)] {
                let refused = https(
                    pro,
                    ca,
                    Some(card),
                    "GET",
                    "/fhir/Practitioner/dr-kit",
                    None,
                    None,
                )
                .unwrap();
                assert_eq!(refused.status, 401, "{label}");
                assert_eq!(refused.body["resourceType"], "OperationOutcome", "{label}");
                let diagnostics = refused.body["issue"][0]["diagnostics"]
                    .as_str()
                    .unwrap_or("");
                assert!(diagnostics.contains("holder"), "{label}: {diagnostics}");
            }
            let unknown = https(
                pro,
                ca,
                Some(&pki.unknown),
                "GET",
                "/fhir/Practitioner/dr-kit",
                None,
                None,
            )
            .unwrap();
            assert_eq!(
                unknown.body["issue"][0]["diagnostics"],
                "the client certificate's holder is not known to carnet"
            );

            // Refused in the handshake: no certificate, expired, another CA, revoked.
            for (label, card) in [
                ("none", None),
                ("expired", Some(&pki.expired)),
                ("foreign", Some(&pki.foreign)),
                ("revoked", Some(&pki.revoked)),
            ] {
                let refused = https(pro, ca, card, "GET", "/fhir/metadata", None, None);
                assert!(refused.is_err(), "{label}: {:?}", refused.map(|a| a.status));
            }
        })
        .await;
        handle.stop(true).await;
        outcome.unwrap();
        assert_eq!(
            author_of(&app, "Observation", "by-card").as_deref(),
            Some("Practitioner/dr-kit")
        );
        assert_eq!(
            author_of(&app, "Observation", "by-nurse").as_deref(),
            Some("Practitioner/nurse")
        );
    })
    .await;
}

#[actix_rt::test]
async fn inconsistent_tls_settings_refuse_to_start() {
    let app = TestApp::new(crate::common::TestDatabase::sqlite());
    let dir = tempfile::tempdir().unwrap();
    let _pki = pki(dir.path());
    let base = {
        let mut config = app.config.clone();
        config.listen = "127.0.0.1:0".to_owned();
        config.listen_pro = "127.0.0.1:0".to_owned();
        config
    };
    let cases = [
        ("cert without key", {
            let mut c = base.clone();
            c.tls_cert = Some(dir.path().join("server.pem"));
            c
        }),
        ("client CA without server certificate", {
            let mut c = base.clone();
            c.tls_client_ca = Some(dir.path().join("ca.pem"));
            c
        }),
        ("key of another certificate", {
            let mut c = base.clone();
            c.tls_cert = Some(dir.path().join("ca.pem"));
            c.tls_key = Some(dir.path().join("server.key"));
            c
        }),
        ("CRL that is not one", {
            let mut c = base.clone();
            c.tls_cert = Some(dir.path().join("server.pem"));
            c.tls_key = Some(dir.path().join("server.key"));
            c.tls_client_ca = Some(dir.path().join("ca.pem"));
            c.tls_crl = Some(dir.path().join("ca.pem"));
            c
        }),
    ];
    for (label, config) in cases {
        let error = server::bind(&config, app.state()).err();
        assert!(
            matches!(error, Some(server::StartError::Tls(_))),
            "{label}: {error:?}"
        );
    }
}
