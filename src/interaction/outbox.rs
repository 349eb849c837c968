//! The notification outbox for the operator (`carnet outbox`): messages waiting to be
//! delivered (login codes, later access notifications), and marking them sent once the
//! operator (or a gateway) has delivered them.

use super::context::Services;
use super::error::InteractionError;
use crate::storage::outbox;

pub use crate::storage::outbox::OutboxRow as OutboxMessage;

/// Most messages listed at once.
pub const MAX_LISTED: i64 = 10_000;

/// Messages in the order they were queued: pending ones only unless `include_sent`.
pub fn list(
    services: &Services,
    include_sent: bool,
) -> Result<Vec<OutboxMessage>, InteractionError> {
    Ok(services
        .store
        .read(|conn| outbox::messages(conn, include_sent, MAX_LISTED))?)
}

/// Marks the messages `ids` sent; returns how many were pending.
pub fn mark_sent(services: &Services, ids: &[i64]) -> Result<usize, InteractionError> {
    let now = services.clock.now_millis();
    services
        .store
        .write(|conn| -> Result<usize, InteractionError> {
            let mut marked = 0;
            for id in ids {
                if outbox::mark_sent(conn, *id, now)? {
                    marked += 1;
                }
            }
            Ok(marked)
        })
}
