//! The password step: `identifier` + `password` -> a one-time code sent to the account's
//! contact (queued in the outbox, in the same transaction as the challenge) and an opaque
//! challenge id. The password is checked before the transaction (argon2 is slow, and the
//! check runs against a dummy hash when the identifier is unknown, so that both take the
//! same time); the account row is then re-read, locked, for the decision.

use super::error::LoginError;
use super::record::{Attempt, record};
use super::{Channel, Client};
use crate::audit::login::LoginOutcome;
use crate::auth::login::{
    CODE_TTL_MILLIS, Identifier, LOCK_MILLIS, LockState, MAX_FAILURES, generate_code, hash_code,
    new_challenge_id, verify_password_or_dummy,
};
use crate::interaction::context::Services;
use crate::storage::Conn;
use crate::storage::accounts::{self, AccountRow, ChallengeRow};
use crate::storage::outbox::{self, NewMessage};

/// What the client sent.
#[derive(Debug, Clone)]
pub struct LoginInput {
    pub identifier: String,
    pub password: String,
}

/// A code was sent: the challenge to answer with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Opaque id to send back with the code.
    pub id: String,
    /// Where the code went.
    pub delivery: Channel,
    /// Seconds the code stays valid.
    pub expires_in: i64,
}

/// What the transaction decided.
enum Step {
    Refused,
    Sent(Challenge),
}

/// The password step. Every refusal is `LoginError::Refused` and is recorded.
pub fn start(
    services: &Services,
    client: &Client,
    input: &LoginInput,
) -> Result<Challenge, LoginError> {
    let now = services.clock.now_millis();
    let identifier = Identifier::parse(&input.identifier);
    let account = match &identifier {
        Some(id) => services
            .store
            .read(|conn| accounts::account(conn, id.as_str()))?,
        None => None,
    };
    let password_ok = verify_password_or_dummy(
        &input.password,
        account.as_ref().map(|a| a.password_hash.as_str()),
    )?;
    let code = generate_code()?;
    let challenge_id = new_challenge_id()?;
    let code_hash = hash_code(&challenge_id, &code)?;
    let step = services.store.write(|conn| -> Result<Step, LoginError> {
        let fresh = match (&identifier, &account) {
            (Some(id), Some(_)) => accounts::account_for_update(conn, id.as_str())?,
            _ => None,
        };
        let (Some(fresh), Some(read)) = (fresh, &account) else {
            let attempt = Attempt {
                outcome: LoginOutcome::Failure,
                reason: "unknown login identifier",
                account: None,
                identifier: identifier.as_ref().map(Identifier::as_str),
            };
            record(conn, services, client, now, attempt)?;
            return Ok(Step::Refused);
        };
        let state = lock_state(&fresh);
        if state.is_locked(now) {
            refuse_locked(conn, services, client, now, &fresh)?;
            return Ok(Step::Refused);
        }
        // A password changed since it was checked counts as a wrong one.
        if !password_ok || fresh.password_hash != read.password_hash {
            fail(conn, services, client, now, &fresh, "wrong password")?;
            return Ok(Step::Refused);
        }
        let current = state.at(now);
        if current != state {
            accounts::set_lock_state(conn, &fresh.identifier, current.failures, None, now)?;
        }
        let delivery = Channel::parse(&fresh.channel).ok_or_else(|| {
            crate::storage::StorageError::Corrupt(format!(
                "account `{}` has an unknown channel",
                fresh.identifier
            ))
        })?;
        accounts::delete_challenges(conn, &fresh.identifier)?;
        accounts::insert_challenge(
            conn,
            &ChallengeRow {
                id: challenge_id.clone(),
                identifier: fresh.identifier.clone(),
                code_hash: code_hash.clone(),
                created: now,
                expires: now + CODE_TTL_MILLIS,
                used: false,
            },
        )?;
        let body = code_message(&code);
        outbox::queue(
            conn,
            &NewMessage {
                created: now,
                channel: delivery.as_str(),
                address: &fresh.address,
                body: &body,
                sent: false,
            },
        )?;
        Ok(Step::Sent(Challenge {
            id: challenge_id.clone(),
            delivery,
            expires_in: CODE_TTL_MILLIS / 1000,
        }))
    })?;
    match step {
        Step::Refused => Err(LoginError::Refused),
        Step::Sent(challenge) => Ok(challenge),
    }
}

/// The text that carries a code.
fn code_message(code: &str) -> String {
    format!(
        "Carnet: your login code is {code}. It expires in {} minutes. Never share it.",
        CODE_TTL_MILLIS / 60_000
    )
}

/// The lockout state stored in `account`.
pub(super) fn lock_state(account: &AccountRow) -> LockState {
    LockState {
        failures: account.failed_attempts,
        locked_until: account.locked_until,
    }
}

/// Records an attempt on a locked account (the lock is not extended).
pub(super) fn refuse_locked(
    conn: &mut Conn<'_>,
    services: &Services,
    client: &Client,
    now: i64,
    account: &AccountRow,
) -> Result<(), LoginError> {
    let attempt = Attempt {
        outcome: LoginOutcome::Locked,
        reason: "attempt on a locked account",
        account: Some(account),
        identifier: None,
    };
    Ok(record(conn, services, client, now, attempt)?)
}

/// Counts a failed attempt on `account` (locking it at the third) and records it.
pub(super) fn fail(
    conn: &mut Conn<'_>,
    services: &Services,
    client: &Client,
    now: i64,
    account: &AccountRow,
    reason: &str,
) -> Result<(), LoginError> {
    let next = lock_state(account).after_failure(now);
    accounts::set_lock_state(
        conn,
        &account.identifier,
        next.failures,
        next.locked_until,
        now,
    )?;
    let (outcome, reason) = if next.is_locked(now) {
        (
            LoginOutcome::Locked,
            format!(
                "{reason}; the account is locked for {} minutes after {MAX_FAILURES} failed attempts",
                LOCK_MILLIS / 60_000
            ),
        )
    } else {
        (LoginOutcome::Failure, reason.to_owned())
    };
    let attempt = Attempt {
        outcome,
        reason: &reason,
        account: Some(account),
        identifier: None,
    };
    Ok(record(conn, services, client, now, attempt)?)
}
