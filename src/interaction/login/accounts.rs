//! Account administration for the operator (`carnet account …`): create an account for a
//! stored Patient (or for their legal representative, a stored RelatedPerson of that
//! patient), reset it (new provisional password, unlocked), list accounts. The provisional
//! password is returned once, to be handed to the patient; only its hash is kept.

use serde_json::Value;

use super::Channel;
use super::error::LoginError;
use crate::auth::login::{Identifier, hash_password, provisional_password};
use crate::consent::legal_representative_of;
use crate::fhir::ids::is_valid_id;
use crate::interaction::context::Services;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::versions;
use crate::storage::{Conn, StorageError};

/// Tries at finding a free random identifier.
const IDENTIFIER_TRIES: usize = 8;

/// Where the one-time codes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub channel: Channel,
    pub address: String,
}

impl Contact {
    /// An e-mail address (one `@`, a dot in the domain, no spaces).
    pub fn email(address: &str) -> Result<Contact, LoginError> {
        let address = address.trim();
        let valid = address.len() <= 254
            && !address.chars().any(char::is_whitespace)
            && address.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !valid {
            return Err(LoginError::Invalid(format!(
                "`{address}` is not an e-mail address"
            )));
        }
        Ok(Contact {
            channel: Channel::Email,
            address: address.to_owned(),
        })
    }

    /// A phone number: digits, optionally after `+`; spaces, dots and hyphens dropped.
    pub fn phone(number: &str) -> Result<Contact, LoginError> {
        let compact: String = number
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '.' || *c == '-'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or(&compact);
        if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LoginError::Invalid(format!(
                "`{number}` is not a phone number"
            )));
        }
        Ok(Contact {
            channel: Channel::Sms,
            address: compact,
        })
    }
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// `Patient/{id}`, a stored live Patient.
    pub patient: String,
    /// `RelatedPerson/{id}`, the patient's legal representative, when the account is theirs.
    pub representative: Option<String>,
    pub contact: Contact,
}

/// What the operator hands to the account holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub identifier: Identifier,
    /// The provisional password, to be changed at first login.
    pub password: String,
    pub subject: String,
    pub patient: String,
}

/// An account as the operator sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub identifier: String,
    pub subject: String,
    pub patient: String,
    pub channel: String,
    pub address: String,
    pub must_change_password: bool,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
}

/// Creates an account and returns its provisional credentials.
pub fn create_account(services: &Services, new: &NewAccount) -> Result<Credentials, LoginError> {
    let now = services.clock.now_millis();
    let password = provisional_password()?;
    let hash = hash_password(&password)?;
    let subject = new
        .representative
        .clone()
        .unwrap_or_else(|| new.patient.clone());
    let identifier = services
        .store
        .write(|conn| -> Result<Identifier, LoginError> {
            let patient = live(conn, "Patient", &new.patient)?;
            if patient.get("active") == Some(&Value::Bool(false)) {
                return Err(LoginError::Invalid(format!(
                    "`{}` is not active",
                    new.patient
                )));
            }
            if let Some(representative) = &new.representative {
                check_representative(conn, representative, &new.patient)?;
            }
            if accounts::account_by_subject(conn, &subject)?.is_some() {
                return Err(LoginError::Conflict(format!(
                    "`{subject}` already has an account: reset it instead"
                )));
            }
            let identifier = free_identifier(conn)?;
            accounts::insert_account(
                conn,
                &AccountRow {
                    identifier: identifier.as_str().to_owned(),
                    subject: subject.clone(),
                    patient: new.patient.clone(),
                    password_hash: hash.clone(),
                    must_change_password: true,
                    failed_attempts: 0,
                    locked_until: None,
                    channel: new.contact.channel.as_str().to_owned(),
                    address: new.contact.address.clone(),
                    created: now,
                    updated: now,
                },
            )?;
            Ok(identifier)
        })?;
    Ok(Credentials {
        identifier,
        password,
        subject,
        patient: new.patient.clone(),
    })
}

/// Gives an account a new provisional password, unlocks it and closes its open codes.
pub fn reset_account(services: &Services, typed: &str) -> Result<Credentials, LoginError> {
    let identifier = Identifier::parse(typed).ok_or_else(|| {
        LoginError::Invalid(format!(
            "`{typed}` is not an account identifier (4 digits and 4 letters)"
        ))
    })?;
    let now = services.clock.now_millis();
    let password = provisional_password()?;
    let hash = hash_password(&password)?;
    let account = services
        .store
        .write(|conn| -> Result<AccountRow, LoginError> {
            let account =
                accounts::account_for_update(conn, identifier.as_str())?.ok_or_else(|| {
                    LoginError::NotFound(format!("there is no account `{identifier}`"))
                })?;
            accounts::reset_account(conn, identifier.as_str(), &hash, now)?;
            Ok(account)
        })?;
    Ok(Credentials {
        identifier,
        password,
        subject: account.subject,
        patient: account.patient,
    })
}

/// Every account, by identifier.
pub fn list_accounts(services: &Services) -> Result<Vec<AccountSummary>, LoginError> {
    let rows = services.store.read(accounts::list_accounts)?;
    Ok(rows
        .into_iter()
        .map(|row| AccountSummary {
            identifier: row.identifier,
            subject: row.subject,
            patient: row.patient,
            channel: row.channel,
            address: row.address,
            must_change_password: row.must_change_password,
            failed_attempts: row.failed_attempts,
            locked_until: row.locked_until,
        })
        .collect())
}

/// The JSON of the live resource `reference`, which must be a `{res_type}/{id}`.
fn live(conn: &mut Conn<'_>, res_type: &str, reference: &str) -> Result<Value, LoginError> {
    let id = reference
        .strip_prefix(res_type)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| is_valid_id(id))
        .ok_or_else(|| {
            LoginError::Invalid(format!(
                "`{reference}` is not a `{res_type}/{{id}}` reference"
            ))
        })?;
    let row = versions::current(conn, res_type, id)?
        .filter(|row| !row.is_deleted)
        .ok_or_else(|| LoginError::NotFound(format!("`{reference}` is not stored")))?;
    let content = row.content.unwrap_or_default();
    serde_json::from_str(&content).map_err(|_| {
        LoginError::from(StorageError::Corrupt(format!(
            "`{reference}` has unreadable stored content"
        )))
    })
}

/// Checks that `representative` is a stored active legal representative of `patient`, as the
/// consent engine recognises one (`consent::legal_representative_of`).
fn check_representative(
    conn: &mut Conn<'_>,
    representative: &str,
    patient: &str,
) -> Result<(), LoginError> {
    let person = live(conn, "RelatedPerson", representative)?;
    let linked = person
        .pointer("/patient/reference")
        .and_then(Value::as_str)
        .is_some_and(|r| r == patient);
    if !linked {
        return Err(LoginError::Invalid(format!(
            "`{representative}` is not related to `{patient}`"
        )));
    }
    if legal_representative_of(&person).is_none() {
        return Err(LoginError::Invalid(format!(
            "`{representative}` is not an active legal representative (relationship CUR, GRD or CURTL)"
        )));
    }
    Ok(())
}

/// A random identifier no account has.
fn free_identifier(conn: &mut Conn<'_>) -> Result<Identifier, LoginError> {
    for _ in 0..IDENTIFIER_TRIES {
        let candidate = Identifier::generate()?;
        if accounts::account(conn, candidate.as_str())?.is_none() {
            return Ok(candidate);
        }
    }
    Err(LoginError::from(StorageError::Busy))
}
