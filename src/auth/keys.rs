//! Token keys: Carnet's own signing key (ES256 or RS256), kept as a PKCS#8 PEM file in the
//! data directory, and the public keys tokens are verified with (the local one, or later
//! those of trusted issuers, read from JWKs). A key's `kid` is its RFC 7638 thumbprint.
//! `auth` does authentication only: it may use `crate::error`, std and crates, never
//! storage, HTTP or consent.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use serde_json::{Map, Value, json};

use super::error::AuthError;

/// The name of the signing key file inside the data directory.
pub const KEY_FILE_NAME: &str = "token-signing-key.pem";

/// The smallest RSA modulus Carnet signs or verifies with (RFC 7518 §3.3).
const RSA_MIN_BITS: u32 = 2048;
/// The length of a P-256 coordinate, and of each half of an ES256 signature.
const P256_BYTES: usize = 32;
/// The same length, as the crypto library's padding argument wants it.
const P256_PAD: i32 = 32;
/// The RFC 7517 `use` of signature keys.
const USE_SIGNATURE: &str = "sig";

/// The JWS algorithms Carnet accepts (RFC 7518 §3.1). HMAC and `none` are never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256; the signature is r||s, 64 bytes.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl Algorithm {
    /// The `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm of an exact `alg` name, if Carnet accepts it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

/// Carnet's private signing key, with its algorithm and `kid`. Its `Debug` shows no key
/// material.
#[derive(Clone)]
pub struct SigningKey {
    private: PKey<Private>,
    verifying: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.verifying.algorithm)
            .field("kid", &self.verifying.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key (P-256 for ES256, 2048-bit RSA for RS256).
    pub fn generate(algorithm: Algorithm) -> Result<Self, AuthError> {
        let private = match algorithm {
            Algorithm::Es256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
                    .and_then(|group| EcKey::generate(&group))
                    .and_then(PKey::from_ec_key);
                group.map_err(|e| AuthError::key("could not be generated", e))?
            }
            Algorithm::Rs256 => Rsa::generate(RSA_MIN_BITS)
                .and_then(PKey::from_rsa)
                .map_err(|e| AuthError::key("could not be generated", e))?,
        };
        Self::from_private(private)
    }

    /// Reads `data_dir/token-signing-key.pem`, or creates the directory and an ES256 key
    /// in that file (mode 0600) when it does not exist. An existing file is never
    /// overwritten: a file that does not hold a usable key is an error.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AuthError> {
        let path = data_dir.join(KEY_FILE_NAME);
        match fs::read(&path) {
            Ok(pem) => {
                warn_if_readable_by_others(&path);
                return Self::from_pem(&pem);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(AuthError::key_file("read", e)),
        }
        create_private_dir(data_dir)
            .map_err(|e| AuthError::key_file("create the directory of", e))?;
        let key = Self::generate(Algorithm::Es256)?;
        let pem = key
            .private
            .private_key_to_pem_pkcs8()
            .map_err(|e| AuthError::key("could not be encoded", e))?;
        match write_new_private_file(data_dir, &path, &pem) {
            Ok(()) => {
                log::info!(
                    "created a new token signing key `{}` in `{}`",
                    key.kid(),
                    path.display()
                );
                Ok(key)
            }
            // Another process created the key first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let pem = fs::read(&path).map_err(|e| AuthError::key_file("read", e))?;
                Self::from_pem(&pem)
            }
            Err(e) => Err(AuthError::key_file("write", e)),
        }
    }

    /// A key from a PEM private key (PKCS#8; an EC P-256 key is ES256, an RSA key of at
    /// least 2048 bits is RS256).
    pub fn from_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let private = PKey::private_key_from_pem(pem)
            .map_err(|e| AuthError::key("is not a valid PEM private key", e))?;
        let valid = match private.id() {
            Id::EC => private.ec_key().and_then(|ec| ec.check_key()).is_ok(),
            Id::RSA => private
                .rsa()
                .and_then(|rsa| rsa.check_key())
                .unwrap_or(false),
            _ => false,
        };
        if !valid {
            return Err(AuthError::key_problem("is not a valid EC or RSA key"));
        }
        Self::from_private(private)
    }

    fn from_private(private: PKey<Private>) -> Result<Self, AuthError> {
        let der = private
            .public_key_to_der()
            .map_err(|e| AuthError::key("could not be encoded", e))?;
        let public = PKey::public_key_from_der(&der)
            .map_err(|e| AuthError::key("could not be encoded", e))?;
        let verifying = VerifyingKey::new(public)?;
        Ok(Self { private, verifying })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.verifying.algorithm
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.verifying.kid
    }

    /// The public half, to verify what this key signed.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The public key as a JWK (with `use`, `alg` and `kid`), for a JWKS endpoint.
    pub fn public_jwk(&self) -> Value {
        self.verifying.jwk()
    }

    /// The JWS signature of `signing_input` (for ES256 the raw r||s form).
    pub(crate) fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, AuthError> {
        let failed = |e| AuthError::key("could not sign", e);
        match self.verifying.algorithm {
            Algorithm::Es256 => {
                let digest = hash(MessageDigest::sha256(), signing_input).map_err(failed)?;
                let ec = self.private.ec_key().map_err(failed)?;
                let signature = EcdsaSig::sign(&digest, &ec).map_err(failed)?;
                let mut raw = signature.r().to_vec_padded(P256_PAD).map_err(failed)?;
                raw.extend(signature.s().to_vec_padded(P256_PAD).map_err(failed)?);
                Ok(raw)
            }
            Algorithm::Rs256 => {
                let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.private)
                    .map_err(failed)?;
                signer.update(signing_input).map_err(failed)?;
                signer.sign_to_vec().map_err(failed)
            }
        }
    }
}

/// A public key tokens are verified with, its algorithm and its `kid`. Its `Debug` shows
/// the algorithm and `kid` only.
#[derive(Clone)]
pub struct VerifyingKey {
    algorithm: Algorithm,
    public: PKey<Public>,
    kid: String,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    fn new(public: PKey<Public>) -> Result<Self, AuthError> {
        let algorithm = algorithm_of(&public)?;
        let kid = thumbprint(&public_members(algorithm, &public)?)?;
        Ok(Self {
            algorithm,
            public,
            kid,
        })
    }

    /// A key from a public JWK (RFC 7517): EC P-256 or RSA of at least 2048 bits, for
    /// signatures. Its `kid` is the JWK's, else the RFC 7638 thumbprint.
    pub fn from_jwk(jwk: &Value) -> Result<Self, AuthError> {
        let unusable = || AuthError::key_problem("is not a usable public JWK");
        let jwk = jwk.as_object().ok_or_else(unusable)?;
        if jwk.contains_key("d") {
            return Err(AuthError::key_problem("is a JWK with private material"));
        }
        if jwk.get("use").is_some_and(|u| u != USE_SIGNATURE) {
            return Err(unusable());
        }
        let public = match jwk.get("kty").and_then(Value::as_str) {
            Some("EC") if jwk.get("crv").and_then(Value::as_str) == Some("P-256") => {
                let x = jwk_bytes(jwk, "x").filter(|x| x.len() == P256_BYTES);
                let y = jwk_bytes(jwk, "y").filter(|y| y.len() == P256_BYTES);
                let (Some(x), Some(y)) = (x, y) else {
                    return Err(unusable());
                };
                ec_public_key(&x, &y).ok_or_else(unusable)?
            }
            Some("RSA") => {
                let (Some(n), Some(e)) = (jwk_bytes(jwk, "n"), jwk_bytes(jwk, "e")) else {
                    return Err(unusable());
                };
                BigNum::from_slice(&n)
                    .and_then(|n| Ok((n, BigNum::from_slice(&e)?)))
                    .and_then(|(n, e)| Rsa::from_public_components(n, e))
                    .and_then(PKey::from_rsa)
                    .map_err(|_| unusable())?
            }
            _ => return Err(unusable()),
        };
        let mut key = Self::new(public)?;
        if let Some(alg) = jwk.get("alg")
            && alg.as_str().and_then(Algorithm::from_name) != Some(key.algorithm)
        {
            return Err(unusable());
        }
        match jwk.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() => kid.clone_into(&mut key.kid),
            Some(_) => return Err(unusable()),
            None => {}
        }
        Ok(key)
    }

    /// The algorithm tokens verified with this key must name.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, with `use`, `alg` and `kid`.
    pub fn jwk(&self) -> Value {
        let mut jwk = Map::new();
        // `new` checked that `self.public` is a key of `self.algorithm`, so this succeeds.
        if let Ok(members) = public_members(self.algorithm, &self.public) {
            for (name, value) in members {
                jwk.insert(name.to_owned(), Value::String(value));
            }
        }
        jwk.insert("use".to_owned(), json!(USE_SIGNATURE));
        jwk.insert("alg".to_owned(), json!(self.algorithm.name()));
        jwk.insert("kid".to_owned(), json!(self.kid));
        Value::Object(jwk)
    }

    /// Whether `signature` is this key's valid JWS signature of `signing_input`. Any
    /// malformed signature (an ES256 one not 64 bytes long, for one) is simply invalid.
    pub(crate) fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self.algorithm {
            Algorithm::Es256 => {
                if signature.len() != 2 * P256_BYTES {
                    return false;
                }
                let (r, s) = signature.split_at(P256_BYTES);
                let checked = BigNum::from_slice(r)
                    .and_then(|r| Ok((r, BigNum::from_slice(s)?)))
                    .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
                    .and_then(|sig| {
                        let digest = hash(MessageDigest::sha256(), signing_input)?;
                        sig.verify(&digest, &*self.public.ec_key()?)
                    });
                checked.unwrap_or(false)
            }
            Algorithm::Rs256 => openssl::sign::Verifier::new(MessageDigest::sha256(), &self.public)
                .and_then(|mut verifier| {
                    verifier.update(signing_input)?;
                    verifier.verify(signature)
                })
                .unwrap_or(false),
        }
    }

    /// The public key in PEM form, for tests that forge tokens with it.
    #[cfg(test)]
    pub(crate) fn public_pem(&self) -> Vec<u8> {
        self.public
            .public_key_to_pem()
            .expect("a public key encodes")
    }
}

/// The algorithm a key is for, refusing other curves, small RSA keys and other key types.
fn algorithm_of<T: HasPublic>(key: &PKeyRef<T>) -> Result<Algorithm, AuthError> {
    match key.id() {
        Id::EC => {
            let curve = key.ec_key().ok().and_then(|ec| ec.group().curve_name());
            if curve == Some(Nid::X9_62_PRIME256V1) {
                Ok(Algorithm::Es256)
            } else {
                Err(AuthError::key_problem("is not on the P-256 curve"))
            }
        }
        Id::RSA if key.bits() >= RSA_MIN_BITS => Ok(Algorithm::Rs256),
        Id::RSA => Err(AuthError::key_problem(
            "is an RSA key shorter than 2048 bits",
        )),
        _ => Err(AuthError::key_problem(
            "is neither an EC P-256 nor an RSA key",
        )),
    }
}

/// The required public members of the key's JWK, in lexicographic order (RFC 7638 §3.2).
fn public_members(
    algorithm: Algorithm,
    key: &PKey<Public>,
) -> Result<Vec<(&'static str, String)>, AuthError> {
    let failed = |e| AuthError::key("could not be encoded", e);
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    match algorithm {
        Algorithm::Es256 => {
            let ec = key.ec_key().map_err(failed)?;
            let mut context = BigNumContext::new().map_err(failed)?;
            let mut x = BigNum::new().map_err(failed)?;
            let mut y = BigNum::new().map_err(failed)?;
            ec.public_key()
                .affine_coordinates(ec.group(), &mut x, &mut y, &mut context)
                .map_err(failed)?;
            let x = x.to_vec_padded(P256_PAD).map_err(failed)?;
            let y = y.to_vec_padded(P256_PAD).map_err(failed)?;
            Ok(vec![
                ("crv", "P-256".to_owned()),
                ("kty", "EC".to_owned()),
                ("x", b64(x)),
                ("y", b64(y)),
            ])
        }
        Algorithm::Rs256 => {
            let rsa = key.rsa().map_err(failed)?;
            Ok(vec![
                ("e", b64(rsa.e().to_vec())),
                ("kty", "RSA".to_owned()),
                ("n", b64(rsa.n().to_vec())),
            ])
        }
    }
}

/// The RFC 7638 SHA-256 thumbprint of a key's required public members.
fn thumbprint(members: &[(&'static str, String)]) -> Result<String, AuthError> {
    // The members are base64url strings and fixed names: nothing to escape.
    let canonical = members
        .iter()
        .map(|(name, value)| format!("\"{name}\":\"{value}\""))
        .collect::<Vec<_>>()
        .join(",");
    let digest = hash(
        MessageDigest::sha256(),
        format!("{{{canonical}}}").as_bytes(),
    )
    .map_err(|e| AuthError::key("could not be hashed", e))?;
    Ok(URL_SAFE_NO_PAD.encode(digest))
}

fn jwk_bytes(jwk: &Map<String, Value>, member: &str) -> Option<Vec<u8>> {
    let text = jwk.get(member)?.as_str()?;
    URL_SAFE_NO_PAD.decode(text).ok().filter(|b| !b.is_empty())
}

fn ec_public_key(x: &[u8], y: &[u8]) -> Option<PKey<Public>> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).ok()?;
    let x = BigNum::from_slice(x).ok()?;
    let y = BigNum::from_slice(y).ok()?;
    let ec = EcKey::from_public_key_affine_coordinates(&group, &x, &y).ok()?;
    ec.check_key().ok()?;
    PKey::from_ec_key(ec).ok()
}

/// Creates `dir` and its missing parents, readable by the owner only (on Unix).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `contents` to `path` (mode 0600 on Unix) only if `path` does not exist: the
/// file is written and synced under a temporary name, then hard-linked into place, which
/// fails with `AlreadyExists` rather than replacing a file, and leaves no half-written
/// key behind a crash.
fn write_new_private_file(dir: &Path, path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{KEY_FILE_NAME}.{}.tmp", uuid::Uuid::new_v4()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| fs::hard_link(&temporary, path));
    if let Err(e) = fs::remove_file(&temporary) {
        log::warn!(
            "could not remove the temporary key file `{}`: {e}",
            temporary.display()
        );
    }
    linked?;
    // Make the new directory entry durable; not every platform can sync a directory.
    if let Err(e) = fs::File::open(dir).and_then(|d| d.sync_all()) {
        log::debug!("could not sync `{}`: {e}", dir.display());
    }
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            log::warn!(
                "the token signing key `{}` is readable by other users; make it mode 0600",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
