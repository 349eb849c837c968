//! Patient accounts and their login challenges (tables `accounts`, `login_challenges`).
//! The rules (identifier form, hashing, lockout) are `auth`'s; this file only stores what
//! `interaction` decided. `account_for_update` locks the row on PostgreSQL so that two
//! concurrent attempts cannot lose a failure (SQLite writes are serialised already).
//! Knows nothing of consent, users or HTTP.

use diesel::prelude::*;

use super::conn::{Conn, Link, first_row, on_conn};
use super::error::StorageError;
use super::schema::{accounts, login_challenges};

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    /// The normalised identifier (`1234ABCD`).
    pub identifier: String,
    /// Who logs in: `Patient/{id}` or `RelatedPerson/{id}`.
    pub subject: String,
    /// Whose record it is: `Patient/{id}`.
    pub patient: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
    /// `sms` or `email`.
    pub channel: String,
    pub address: String,
    pub created: i64,
    pub updated: i64,
}

/// One code challenge as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_challenges)]
pub struct ChallengeRow {
    pub id: String,
    pub identifier: String,
    pub code_hash: String,
    pub created: i64,
    pub expires: i64,
    pub used: bool,
}

/// Stores a new account. A taken identifier or subject is a `VersionConflict`.
pub fn insert_account(conn: &mut Conn<'_>, row: &AccountRow) -> Result<(), StorageError> {
    on_conn!(conn, c => diesel::insert_into(accounts::table).values(row).execute(c))?;
    Ok(())
}

/// The account of a normalised identifier.
pub fn account(conn: &mut Conn<'_>, identifier: &str) -> Result<Option<AccountRow>, StorageError> {
    let query = accounts::table.filter(accounts::identifier.eq(identifier));
    Ok(on_conn!(conn, c => query.select(AccountRow::as_select()).load(c).map(first_row))?)
}

/// The account of a normalised identifier, its row locked until the transaction ends
/// (PostgreSQL `FOR UPDATE`; SQLite has one writer at a time).
pub fn account_for_update(
    conn: &mut Conn<'_>,
    identifier: &str,
) -> Result<Option<AccountRow>, StorageError> {
    let row = match &mut conn.link {
        #[cfg(feature = "sqlite")]
        Link::Sqlite(c) => accounts::table
            .filter(accounts::identifier.eq(identifier))
            .select(AccountRow::as_select())
            .load(&mut **c)
            .map(first_row),
        #[cfg(feature = "postgres")]
        Link::Postgres(c) => accounts::table
            .filter(accounts::identifier.eq(identifier))
            .select(AccountRow::as_select())
            .for_update()
            .load(&mut **c)
            .map(first_row),
    };
    Ok(row?)
}

/// The account whose subject is `subject` (`Patient/…` or `RelatedPerson/…`).
pub fn account_by_subject(
    conn: &mut Conn<'_>,
    subject: &str,
) -> Result<Option<AccountRow>, StorageError> {
    let query = accounts::table.filter(accounts::subject.eq(subject));
    Ok(on_conn!(conn, c => query.select(AccountRow::as_select()).load(c).map(first_row))?)
}

/// Every account, by identifier.
pub fn list_accounts(conn: &mut Conn<'_>) -> Result<Vec<AccountRow>, StorageError> {
    Ok(on_conn!(conn, c => accounts::table
        .order(accounts::identifier)
        .select(AccountRow::as_select())
        .load(c))?)
}

/// Records the failure count and lock of an account.
pub fn set_lock_state(
    conn: &mut Conn<'_>,
    identifier: &str,
    failed_attempts: i64,
    locked_until: Option<i64>,
    now: i64,
) -> Result<(), StorageError> {
    let target = accounts::table.filter(accounts::identifier.eq(identifier));
    let changes = (
        accounts::failed_attempts.eq(failed_attempts),
        accounts::locked_until.eq(locked_until),
        accounts::updated.eq(now),
    );
    on_conn!(conn, c => diesel::update(target).set(changes).execute(c))?;
    Ok(())
}

/// A successful login: the count and lock cleared and, when given, the new password
/// saved (which is then no longer provisional).
pub fn record_login(
    conn: &mut Conn<'_>,
    identifier: &str,
    new_password_hash: Option<&str>,
    now: i64,
) -> Result<(), StorageError> {
    set_lock_state(conn, identifier, 0, None, now)?;
    if let Some(hash) = new_password_hash {
        let target = accounts::table.filter(accounts::identifier.eq(identifier));
        let changes = (
            accounts::password_hash.eq(hash),
            accounts::must_change_password.eq(false),
        );
        on_conn!(conn, c => diesel::update(target).set(changes).execute(c))?;
    }
    Ok(())
}

/// A reset by the operator: a new provisional password, the lock and count cleared and
/// every challenge forgotten. Returns whether the account exists.
pub fn reset_account(
    conn: &mut Conn<'_>,
    identifier: &str,
    provisional_hash: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let target = accounts::table.filter(accounts::identifier.eq(identifier));
    let changes = (
        accounts::password_hash.eq(provisional_hash),
        accounts::must_change_password.eq(true),
        accounts::failed_attempts.eq(0_i64),
        accounts::locked_until.eq(None::<i64>),
        accounts::updated.eq(now),
    );
    let updated = on_conn!(conn, c => diesel::update(target).set(changes).execute(c))?;
    delete_challenges(conn, identifier)?;
    Ok(updated == 1)
}

/// Stores a new challenge.
pub fn insert_challenge(conn: &mut Conn<'_>, row: &ChallengeRow) -> Result<(), StorageError> {
    on_conn!(conn, c => diesel::insert_into(login_challenges::table).values(row).execute(c))?;
    Ok(())
}

/// A challenge by its id.
pub fn challenge(conn: &mut Conn<'_>, id: &str) -> Result<Option<ChallengeRow>, StorageError> {
    let query = login_challenges::table.filter(login_challenges::id.eq(id));
    Ok(on_conn!(conn, c => query.select(ChallengeRow::as_select()).load(c).map(first_row))?)
}

/// Marks every open challenge of an account used (a new code replaces the old ones).
pub fn close_challenges(conn: &mut Conn<'_>, identifier: &str) -> Result<(), StorageError> {
    let target = login_challenges::table
        .filter(login_challenges::identifier.eq(identifier))
        .filter(login_challenges::used.eq(false));
    on_conn!(conn, c => diesel::update(target).set(login_challenges::used.eq(true)).execute(c))?;
    Ok(())
}

/// Forgets every challenge of an account (before a new one, so that an account keeps at
/// most one).
pub fn delete_challenges(conn: &mut Conn<'_>, identifier: &str) -> Result<(), StorageError> {
    let target = login_challenges::table.filter(login_challenges::identifier.eq(identifier));
    on_conn!(conn, c => diesel::delete(target).execute(c))?;
    Ok(())
}
