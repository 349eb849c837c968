//! The notification outbox (table `outbox`): messages to patients (login codes, later
//! access notifications) written in the transaction of what caused them, read by the
//! operator (`carnet outbox`) or by a gateway deliverer, and marked sent once delivered.
//! Knows nothing of consent, users or HTTP.

use diesel::prelude::*;

use super::conn::{Conn, on_conn};
use super::error::StorageError;
use super::schema::outbox;

/// One message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub created: i64,
    /// `sms` or `email`.
    pub channel: String,
    pub address: String,
    pub body: String,
    pub sent: bool,
    pub sent_at: Option<i64>,
    /// Failed delivery attempts.
    pub attempts: i64,
}

/// A message to queue.
#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMessage<'a> {
    pub created: i64,
    pub channel: &'a str,
    pub address: &'a str,
    pub body: &'a str,
    pub sent: bool,
}

/// Queues `message` (inside the caller's transaction).
pub fn queue(conn: &mut Conn<'_>, message: &NewMessage<'_>) -> Result<(), StorageError> {
    on_conn!(conn, c => diesel::insert_into(outbox::table).values(message).execute(c))?;
    Ok(())
}

/// Messages in id order: only those not sent yet unless `include_sent`; at most `limit`.
pub fn messages(
    conn: &mut Conn<'_>,
    include_sent: bool,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    Ok(on_conn!(conn, c => {
        let mut query = outbox::table.into_boxed();
        if !include_sent {
            query = query.filter(outbox::sent.eq(false));
        }
        query
            .order(outbox::id)
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(c)
    })?)
}

/// Marks message `id` sent at `now`; returns whether it was pending.
pub fn mark_sent(conn: &mut Conn<'_>, id: i64, now: i64) -> Result<bool, StorageError> {
    let target = outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::sent.eq(false));
    let changes = (outbox::sent.eq(true), outbox::sent_at.eq(Some(now)));
    Ok(on_conn!(conn, c => diesel::update(target).set(changes).execute(c))? == 1)
}

/// Counts a failed delivery attempt of message `id`.
pub fn record_attempt(conn: &mut Conn<'_>, id: i64) -> Result<(), StorageError> {
    let target = outbox::table.filter(outbox::id.eq(id));
    on_conn!(conn, c => diesel::update(target).set(outbox::attempts.eq(outbox::attempts + 1)).execute(c))?;
    Ok(())
}
