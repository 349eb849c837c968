//! The code step: challenge + code (+ the new password at first login) -> an access token
//! for the account's subject (`Patient/{id}`, or `RelatedPerson/{id}` for a legal
//! representative) with the patient scopes. A wrong, expired or used code counts as a
//! failed attempt like a wrong password. The token is minted inside the transaction that
//! records the login, so that a login is recorded if and only if a token was issued.

use super::Client;
use super::error::LoginError;
use super::record::{Attempt, record};
use super::start::{fail, lock_state, refuse_locked};
use crate::audit::login::LoginOutcome;
use crate::auth::login::{
    MIN_PASSWORD_CHARS, check_policy, code_matches, hash_password, verify_password,
};
use crate::auth::{LocalIssuer, Subject, TokenRequest};
use crate::interaction::context::Services;
use crate::storage::StorageError;
use crate::storage::accounts::{self, AccountRow, ChallengeRow};

/// The scopes of a patient's (or representative's) token; consent decides the rest.
pub const LOGIN_SCOPE: &str = "patient/*.cruds";
/// Lifetime of a login token, in seconds.
pub const TOKEN_TTL_SECONDS: i64 = 3600;
/// Longest challenge id looked up.
const MAX_CHALLENGE_BYTES: usize = 64;

/// What the client sent.
#[derive(Debug, Clone)]
pub struct VerifyInput {
    pub challenge: String,
    pub code: String,
    /// The new password; required while the password is provisional.
    pub new_password: Option<String>,
}

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    /// `Patient/{id}` or `RelatedPerson/{id}`.
    pub subject: String,
    /// The patient's id (the SMART `patient` launch context).
    pub patient: String,
}

enum Step {
    Refused,
    NeedsPassword,
    Granted(Grant),
}

/// The code step. Every refusal is `LoginError::Refused` and is recorded.
pub fn verify(
    services: &Services,
    issuer: &LocalIssuer,
    client: &Client,
    input: &VerifyInput,
) -> Result<Grant, LoginError> {
    let now = services.clock.now_millis();
    let challenge_id = input.challenge.trim();
    let found = if challenge_id.is_empty() || challenge_id.len() > MAX_CHALLENGE_BYTES {
        None
    } else {
        services.store.read(|conn| -> Result<_, StorageError> {
            let Some(challenge) = accounts::challenge(conn, challenge_id)? else {
                return Ok(None);
            };
            Ok(accounts::account(conn, &challenge.identifier)?.map(|a| (challenge, a)))
        })?
    };
    let Some((challenge, account)) = found else {
        services.store.write(|conn| -> Result<(), LoginError> {
            let attempt = Attempt {
                outcome: LoginOutcome::Failure,
                reason: "unknown login challenge",
                account: None,
                identifier: None,
            };
            Ok(record(conn, services, client, now, attempt)?)
        })?;
        return Err(LoginError::Refused);
    };
    let code_ok = code_matches(&challenge.id, &input.code, &challenge.code_hash)?;
    let passes = code_ok && usable(&challenge, now) && !lock_state(&account).is_locked(now);
    // Only a caller who holds the code learns that a new password is needed.
    let new_hash = if passes {
        new_password_hash(&account, input.new_password.as_deref())?
    } else {
        None
    };
    let step = services.store.write(|conn| -> Result<Step, LoginError> {
        let Some(fresh) = accounts::account_for_update(conn, &account.identifier)? else {
            return Ok(Step::Refused);
        };
        if lock_state(&fresh).is_locked(now) {
            refuse_locked(conn, services, client, now, &fresh)?;
            return Ok(Step::Refused);
        }
        let current = accounts::challenge(conn, &challenge.id)?;
        if !current.as_ref().is_some_and(|c| usable(c, now)) {
            fail(
                conn,
                services,
                client,
                now,
                &fresh,
                "expired or used login code",
            )?;
            return Ok(Step::Refused);
        }
        if !code_ok {
            fail(conn, services, client, now, &fresh, "wrong login code")?;
            return Ok(Step::Refused);
        }
        if fresh.must_change_password && new_hash.is_none() {
            return Ok(Step::NeedsPassword);
        }
        let grant = grant(issuer, &fresh, now)?;
        accounts::close_challenges(conn, &fresh.identifier)?;
        accounts::record_login(conn, &fresh.identifier, new_hash.as_deref(), now)?;
        let reason = if new_hash.is_some() {
            "login, with a new password"
        } else {
            "login"
        };
        let attempt = Attempt {
            outcome: LoginOutcome::Success,
            reason,
            account: Some(&fresh),
            identifier: None,
        };
        record(conn, services, client, now, attempt)?;
        Ok(Step::Granted(grant))
    })?;
    match step {
        Step::Refused => Err(LoginError::Refused),
        Step::NeedsPassword => Err(password_required()),
        Step::Granted(grant) => Ok(grant),
    }
}

/// Whether a challenge may still be answered at `now`.
fn usable(challenge: &ChallengeRow, now: i64) -> bool {
    !challenge.used && now < challenge.expires
}

/// The hash of the new password, when one is given or required; refuses a missing,
/// too short, or unchanged one while the password is provisional.
fn new_password_hash(
    account: &AccountRow,
    new_password: Option<&str>,
) -> Result<Option<String>, LoginError> {
    let Some(new_password) = new_password else {
        return if account.must_change_password {
            Err(password_required())
        } else {
            Ok(None)
        };
    };
    if check_policy(new_password).is_err() {
        return Err(if account.must_change_password {
            password_required()
        } else {
            LoginError::PasswordChangeRequired(format!(
                "a new password of at least {MIN_PASSWORD_CHARS} characters is required"
            ))
        });
    }
    if verify_password(new_password, &account.password_hash)? {
        return Err(LoginError::PasswordChangeRequired(
            "the new password must differ from the current one".to_owned(),
        ));
    }
    Ok(Some(hash_password(new_password)?))
}

fn password_required() -> LoginError {
    LoginError::PasswordChangeRequired(format!(
        "the password is provisional: a new password of at least {} characters is required, send it as `new_password`",
        MIN_PASSWORD_CHARS
    ))
}

/// The token of a login on `account`.
fn grant(issuer: &LocalIssuer, account: &AccountRow, now: i64) -> Result<Grant, LoginError> {
    let corrupt = || {
        StorageError::Corrupt(format!(
            "account `{}` has an unusable subject or patient",
            account.identifier
        ))
    };
    let subject = Subject::from_reference(&account.subject).ok_or_else(corrupt)?;
    let patient = account
        .patient
        .strip_prefix("Patient/")
        .ok_or_else(corrupt)?
        .to_owned();
    let request = TokenRequest {
        subject,
        scope: LOGIN_SCOPE.to_owned(),
        purposes: Vec::new(),
        profession: None,
        organization: None,
        patient: Some(patient.clone()),
        ttl_seconds: TOKEN_TTL_SECONDS,
    };
    let access_token = issuer.mint(&request, now.div_euclid(1000))?;
    Ok(Grant {
        access_token,
        expires_in: TOKEN_TTL_SECONDS,
        scope: LOGIN_SCOPE.to_owned(),
        subject: account.subject.clone(),
        patient,
    })
}
