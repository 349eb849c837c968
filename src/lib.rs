//! Carnet: a FHIR R4 server for shared medical records that enforces the patient's consent.
//! The module tree and `build_app`, shared by `main` and the tests. See ARCHITECTURE.md for
//! the modules and the direction of their dependencies.

pub mod audit;
pub mod auth;
pub mod config;
pub mod consent;
pub mod demo;
pub mod error;
pub mod fhir;
pub mod import;
pub mod interaction;
pub mod notify;
pub mod rest;
pub mod search;
pub mod server;
pub mod storage;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};

/// The whole HTTP application over `state`: the routes of `rest` with the request-id
/// middleware. `main` serves it; tests call it in-process.
pub fn build_app(
    state: rest::AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .configure(rest::routes::configure)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(rest::errors::RestError::new(
                error::ErrorCategory::NotFound,
                "there is nothing at this url: the FHIR base is `/fhir`",
            ))
        }))
        .wrap_fn(rest::routes::with_request_id)
}
