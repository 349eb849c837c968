//! The OpenSSL acceptors of the two listeners: HTTPS with the server certificate, and, for
//! professionals, HTTPS that requires a client certificate chaining to the configured CA,
//! within its validity dates, and (with a CRL) not revoked — anything else is refused in
//! the handshake. Settings: Mozilla "intermediate" (TLS 1.2 and 1.3).

use std::path::Path;

use openssl::error::ErrorStack;
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::store::X509Lookup;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509Crl};

use super::StartError;

/// The TLS files of `carnet serve`, checked together.
#[derive(Debug, Clone, Copy)]
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// The acceptor of the main listener: HTTPS, no client certificate asked for (bearer
/// tokens authenticate there).
pub fn acceptor(files: TlsFiles<'_>) -> Result<SslAcceptorBuilder, StartError> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(|e| tls_error("could not set up TLS", None, e))?;
    builder
        .set_certificate_chain_file(files.cert)
        .map_err(|e| tls_error("could not load the server certificate", Some(files.cert), e))?;
    builder
        .set_private_key_file(files.key, SslFiletype::PEM)
        .map_err(|e| tls_error("could not load the server key", Some(files.key), e))?;
    builder.check_private_key().map_err(|e| {
        tls_error(
            "the server key does not match the certificate",
            Some(files.key),
            e,
        )
    })?;
    Ok(builder)
}

/// The acceptor of the professionals' listener: like `acceptor`, and a client certificate
/// issued by one of the CAs of `client_ca` is required and verified (and checked against
/// `crl` when given).
pub fn professional_acceptor(
    files: TlsFiles<'_>,
    client_ca: &Path,
    crl: Option<&Path>,
) -> Result<SslAcceptorBuilder, StartError> {
    let mut builder = acceptor(files)?;
    let pem = std::fs::read(client_ca).map_err(|e| {
        StartError::Tls(format!(
            "could not read the client CA file `{}`: {e}",
            client_ca.display()
        ))
    })?;
    let authorities = X509::stack_from_pem(&pem)
        .map_err(|e| tls_error("could not read the client CA", Some(client_ca), e))?;
    if authorities.is_empty() {
        return Err(StartError::Tls(format!(
            "the client CA file `{}` holds no certificate",
            client_ca.display()
        )));
    }
    for authority in authorities {
        builder
            .add_client_ca(&authority)
            .map_err(|e| tls_error("could not use the client CA", Some(client_ca), e))?;
        builder
            .cert_store_mut()
            .add_cert(authority)
            .map_err(|e| tls_error("could not use the client CA", Some(client_ca), e))?;
    }
    if let Some(crl) = crl {
        load_crl(&mut builder, crl)?;
    }
    builder.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    builder
        .set_session_id_context(b"carnet-professionals")
        .map_err(|e| tls_error("could not set up TLS", None, e))?;
    Ok(builder)
}

/// Loads a PEM CRL into the verification store and turns on revocation checks of client
/// certificates.
fn load_crl(builder: &mut SslAcceptorBuilder, crl: &Path) -> Result<(), StartError> {
    let pem = std::fs::read(crl)
        .map_err(|e| StartError::Tls(format!("could not read the CRL `{}`: {e}", crl.display())))?;
    X509Crl::from_pem(&pem).map_err(|e| tls_error("could not read the CRL", Some(crl), e))?;
    let store = builder.cert_store_mut();
    store
        .add_lookup(X509Lookup::file())
        .and_then(|lookup| lookup.load_crl_file(crl, SslFiletype::PEM))
        .map_err(|e| tls_error("could not load the CRL", Some(crl), e))?;
    store
        .set_flags(X509VerifyFlags::CRL_CHECK)
        .map_err(|e| tls_error("could not enable revocation checks", Some(crl), e))?;
    Ok(())
}

fn tls_error(what: &str, path: Option<&Path>, error: ErrorStack) -> StartError {
    match path {
        Some(path) => StartError::Tls(format!("{what} `{}`: {error}", path.display())),
        None => StartError::Tls(format!("{what}: {error}")),
    }
}
