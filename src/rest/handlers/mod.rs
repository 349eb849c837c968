//! One handler per interaction. A handler reads HTTP (path, headers, body), runs the
//! interaction on the blocking pool with the caller's context, and shapes the response.

pub mod consent;
pub mod instance;
pub mod login;
pub mod metadata;
pub mod search;
pub mod smart;
pub mod system;
pub mod type_level;

use actix_web::web;

use super::errors::RestError;
use crate::interaction::InteractionError;

/// Runs a synchronous interaction on actix's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, InteractionError> + Send + 'static,
) -> Result<T, RestError> {
    web::block(work).await?.map_err(RestError::from)
}
