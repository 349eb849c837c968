//! Professional card certificates on the professionals' listener (mutual TLS): the verified
//! peer certificate is put in each connection's data when the connection opens, and turned
//! into a `Principal` for a request that brings no bearer token — the certificate's holder
//! (`auth::CertificateHolder`) must be exactly one Practitioner of Carnet
//! (`interaction::identify`). The TLS handshake has already refused untrusted, expired and
//! (with a CRL) revoked certificates.

use std::any::Any;

use actix_tls::accept::openssl::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use openssl::x509::X509;

use super::errors::RestError;
use super::handlers::blocking;
use super::state::AppState;
use crate::auth::{AuthError, CertificateHolder, Principal};
use crate::interaction::identify;

/// Connection data of the professionals' listener: the peer's certificate, verified in the
/// handshake (always present there; `None` only if the TLS layer gave none).
#[derive(Debug, Clone)]
pub struct ProfessionalConnection {
    pub certificate: Option<X509>,
}

/// `HttpServer::on_connect` callback of the professionals' listener.
pub fn on_professional_connect(connection: &dyn Any, data: &mut Extensions) {
    let certificate = connection
        .downcast_ref::<TlsStream<TcpStream>>()
        .and_then(|stream| stream.ssl().peer_certificate());
    if certificate.is_none() {
        log::warn!("a connection to the professionals' listener has no client certificate");
    }
    data.insert(ProfessionalConnection { certificate });
}

/// The principal of the holder of the connection's certificate: the one Practitioner that
/// carries their national id, with its stored profession.
pub async fn certificate_principal(
    connection: &ProfessionalConnection,
    state: &AppState,
) -> Result<Principal, RestError> {
    let certificate = connection
        .certificate
        .as_ref()
        .ok_or(AuthError::Certificate(
            "no client certificate was presented",
        ))?;
    let holder = CertificateHolder::of(certificate).inspect_err(|error| {
        log::info!(
            "certificate of {:?} refused: {error}",
            certificate.subject_name()
        );
    })?;
    let services = state.services.clone();
    let lookup = holder.clone();
    let found = blocking(move || identify::practitioners_of(&services, &lookup)).await?;
    match found.as_slice() {
        [practitioner] => Ok(Principal::from_certificate(
            &practitioner.id,
            practitioner.profession.clone(),
            &holder,
        )),
        [] => {
            log::info!(
                "certificate holder `{}` is not a known practitioner",
                holder.national_id
            );
            Err(AuthError::UnknownCertificateHolder.into())
        }
        several => {
            let ids: Vec<&str> = several.iter().map(|p| p.id.as_str()).collect();
            log::warn!(
                "certificate holder `{}` matches several practitioners ({}): refused",
                holder.national_id,
                ids.join(", ")
            );
            Err(AuthError::AmbiguousCertificateHolder.into())
        }
    }
}
