//! Delivering the notification outbox. Messages (login codes, later access notifications)
//! are always written to the `outbox` table in the transaction of what caused them; that
//! table is the default notifier, read by the operator with `carnet outbox`. A `Gateway`
//! delivers them elsewhere (an SMS/mail gateway's webhook); the `Deliverer` thread takes
//! pending messages in order, hands each to the gateway and marks it sent. May use
//! `storage`, `config` and `error`; never HTTP serving, consent or interactions.

pub mod webhook;

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use crate::storage::outbox::{self, OutboxRow};
use crate::storage::{StorageError, Store};

/// Failed attempts after which a message is left to the operator.
pub const MAX_ATTEMPTS: i64 = 5;
/// Messages taken per round.
const BATCH: i64 = 100;

/// Why a message could not be delivered (logged; the message stays pending).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// Something that delivers messages to their recipients.
pub trait Gateway: Send + Sync {
    fn deliver(&self, message: &OutboxRow) -> Result<(), DeliveryError>;
}

/// Delivers the pending messages of `store` through `gateway`, in order; returns how many
/// were delivered. A failed delivery is counted on its message and the round goes on.
pub fn deliver_pending(store: &Store, gateway: &dyn Gateway) -> Result<usize, StorageError> {
    let pending = store.read(|conn| outbox::messages(conn, false, BATCH))?;
    let mut delivered = 0;
    for message in pending.iter().filter(|m| m.attempts < MAX_ATTEMPTS) {
        match gateway.deliver(message) {
            Ok(()) => {
                let now = chrono::Utc::now().timestamp_millis();
                store.write(|conn| outbox::mark_sent(conn, message.id, now))?;
                delivered += 1;
            }
            Err(error) => {
                log::warn!("outbox message {} not delivered: {error}", message.id);
                store.write(|conn| outbox::record_attempt(conn, message.id))?;
            }
        }
    }
    Ok(delivered)
}

/// A background thread delivering the outbox every `interval`; it stops when dropped.
#[derive(Debug)]
pub struct Deliverer {
    _stop: Sender<()>,
}

impl Deliverer {
    pub fn start(store: Store, gateway: Arc<dyn Gateway>, interval: Duration) -> Deliverer {
        let (stop, stopped) = mpsc::channel::<()>();
        let spawned = thread::Builder::new()
            .name("carnet-outbox".to_owned())
            .spawn(move || {
                loop {
                    if let Err(error) = deliver_pending(&store, gateway.as_ref()) {
                        log::error!("outbox delivery: {error}");
                    }
                    match stopped.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            });
        if let Err(error) = spawned {
            log::error!("could not start the outbox deliverer: {error}");
        }
        Deliverer { _stop: stop }
    }
}
