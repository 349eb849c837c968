//! Professional card certificates: who a verified client certificate names. The TLS layer
//! has already checked the chain to the configured CA, the validity dates and (with a CRL)
//! revocation; this file only reads the holder's national id (IdNatPS) from the subject,
//! and builds the `Principal` once the holder is found among the Practitioners.
//!
//! ANS IGC-Santé (and CPS2ter/CPS3) certificates of a person carry the IdNatPS as the
//! subject's common name, in a multi-valued RDN with the surname and given name:
//! `C=FR, title=Médecin, SN=DOC0073574 + GN=KIT + CN=899700735741`. The IdNatPS is the
//! identifier type followed by the identifier: `8` + RPPS (11 digits), `0` + ADELI, ….
//! Older certificates put the name in `CN` and the id in `serialNumber`. A CN or
//! serialNumber that is a bare 11-digit RPPS is accepted as well (read as IdNatPS `8` +
//! RPPS).

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509Ref};

use super::error::AuthError;
use super::principal::{Principal, PurposeOfUse, Subject};

/// The FHIR identifier system of the IdNatPS.
pub const IDNATPS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";
/// The FHIR identifier system of the RPPS number.
pub const RPPS_SYSTEM: &str = "https://rpps.esante.gouv.fr";
/// The `issuer` of principals authenticated by a client certificate.
pub const CERTIFICATE_ISSUER: &str = "tls-client-certificate";
/// The scopes of a certificate holder: every user scope, what they see is left to consent.
pub const CERTIFICATE_SCOPES: &str = "user/*.cruds";

/// The holder of a verified client certificate, as the certificate names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateHolder {
    /// The IdNatPS (`8` + RPPS for RPPS-based ids).
    pub national_id: String,
    /// The RPPS number, when the IdNatPS is RPPS-based.
    pub rpps: Option<String>,
    /// The certificate's `notAfter`, in Unix seconds.
    pub expires_at: i64,
}

impl CertificateHolder {
    /// The holder named by `certificate`'s subject (see the module header for the layouts
    /// read), or why none is.
    pub fn of(certificate: &X509Ref) -> Result<Self, AuthError> {
        let national_id = national_id(certificate.subject_name()).ok_or(AuthError::Certificate(
            "it names no professional national id",
        ))?;
        let expires_at = unix_seconds(certificate.not_after())
            .ok_or(AuthError::Certificate("its expiry date is unreadable"))?;
        Ok(Self::from_national_id(&national_id, expires_at))
    }

    /// The holder of an IdNatPS (or a bare RPPS number) read from a certificate.
    pub fn from_national_id(id: &str, expires_at: i64) -> Self {
        let (national_id, rpps) = if is_rpps(id) {
            (format!("8{id}"), Some(id.to_owned()))
        } else if let Some(rpps) = id.strip_prefix('8').filter(|r| is_rpps(r)) {
            (id.to_owned(), Some(rpps.to_owned()))
        } else {
            (id.to_owned(), None)
        };
        Self {
            national_id,
            rpps,
            expires_at,
        }
    }

    /// The `(system, value)` identifiers a Practitioner of this holder carries (any one
    /// of them identifies it).
    pub fn identifiers(&self) -> Vec<(&'static str, String)> {
        let mut identifiers = vec![(IDNATPS_SYSTEM, self.national_id.clone())];
        if let Some(rpps) = &self.rpps {
            identifiers.push((RPPS_SYSTEM, rpps.clone()));
        }
        identifiers
    }
}

impl Principal {
    /// The principal of a certificate holder found as `Practitioner/{practitioner_id}`:
    /// every user scope (consent decides what they see), TREAT, the stored profession, no
    /// organization and no patient in context, valid until the certificate expires.
    pub fn from_certificate(
        practitioner_id: &str,
        profession: Option<String>,
        holder: &CertificateHolder,
    ) -> Self {
        Self {
            subject: Subject::Practitioner(practitioner_id.to_owned()),
            issuer: CERTIFICATE_ISSUER.to_owned(),
            token_id: None,
            scopes: CERTIFICATE_SCOPES
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            purposes: vec![PurposeOfUse::Treat],
            profession,
            organization: None,
            patient: None,
            expires_at: holder.expires_at,
        }
    }
}

/// The first common name, else serialNumber, that reads as a national id.
fn national_id(subject: &X509NameRef) -> Option<String> {
    [Nid::COMMONNAME, Nid::SERIALNUMBER]
        .into_iter()
        .flat_map(|nid| subject.entries_by_nid(nid))
        .filter_map(|entry| entry.data().to_string().ok())
        .map(|text| text.trim().to_owned())
        .find(|text| is_national_id(text))
}

/// An IdNatPS: 2 to 32 ASCII letters and digits (a type digit and the identifier).
fn is_national_id(text: &str) -> bool {
    (2..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An RPPS number: 11 digits.
fn is_rpps(text: &str) -> bool {
    text.len() == 11 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An ASN.1 time as Unix seconds.
fn unix_seconds(time: &Asn1TimeRef) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(time).ok()?;
    Some(i64::from(diff.days) * 86_400 + i64::from(diff.secs))
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
