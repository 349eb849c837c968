//! The route table of `/fhir`: each path with the methods it supports (405 for the others,
//! 404 OperationOutcome for unknown paths), and the request-id middleware.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::{HttpMessage, HttpResponse, web};

use super::errors::RestError;
use super::handlers::{consent, instance, login, metadata, search, smart, system, type_level};
use super::headers::REQUEST_ID;
use super::principal::RequestId;
use crate::error::ErrorCategory;

async fn method_not_allowed() -> Result<HttpResponse, RestError> {
    Err(RestError::new(
        ErrorCategory::MethodNotAllowed,
        "this method is not supported on this url",
    ))
}

async fn unknown_path() -> Result<HttpResponse, RestError> {
    Err(RestError::new(
        ErrorCategory::NotFound,
        "there is nothing at this url",
    ))
}

/// Registers every FHIR route under `/fhir`, and the patient login under `/auth`.
pub fn configure(config: &mut web::ServiceConfig) {
    login::configure(config);
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    config.service(
        web::scope("/fhir")
            .service(resource("/metadata").route(web::get().to(metadata::capabilities)))
            .service(
                resource("/.well-known/smart-configuration")
                    .route(web::get().to(smart::smart_configuration)),
            )
            .service(resource("/.well-known/jwks.json").route(web::get().to(smart::jwks)))
            .service(
                resource("")
                    .route(web::get().to(search::search_system))
                    .route(web::post().to(system::batch_or_transaction)),
            )
            .service(
                resource("/")
                    .route(web::get().to(search::search_system))
                    .route(web::post().to(system::batch_or_transaction)),
            )
            .service(resource("/_history").route(web::get().to(system::system_history)))
            .service(resource("/{type}/_history").route(web::get().to(type_level::type_history)))
            .service(resource("/{type}/$validate").route(web::post().to(type_level::validate)))
            .service(resource("/{type}/_search").route(web::post().to(search::search_post)))
            .service(resource("/Patient/{id}/$access").route(web::get().to(consent::access)))
            .service(
                resource("/{type}/{id}/$explain").route(web::get().to(consent::explain_access)),
            )
            .service(resource("/{type}/{id}/_history/{vid}").route(web::get().to(instance::vread)))
            .service(
                resource("/{type}/{id}/_history").route(web::get().to(instance::instance_history)),
            )
            .service(
                resource("/{compartment}/{id}/{type}/_search")
                    .route(web::post().to(search::search_compartment_post)),
            )
            .service(
                resource("/{compartment}/{id}/{type}")
                    .route(web::get().to(search::search_compartment))
                    .route(web::post().to(search::everything_post)),
            )
            .service(
                resource("/{type}/{id}")
                    .route(web::get().to(instance::read))
                    .route(web::put().to(instance::update))
                    .route(web::patch().to(instance::patch))
                    .route(web::delete().to(instance::delete)),
            )
            .service(
                resource("/{type}")
                    .route(web::post().to(type_level::create))
                    .route(web::get().to(search::search_type))
                    .route(web::put().to(type_level::conditional_update))
                    .route(web::patch().to(type_level::conditional_patch))
                    .route(web::delete().to(type_level::conditional_delete)),
            )
            .default_service(web::to(unknown_path)),
    );
}

/// The request id: the client's `X-Request-Id` when it is a reasonable token, else a new one.
fn request_id(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Middleware: puts the request id in the request and echoes it on every response.
pub fn with_request_id<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody,
{
    let id = request_id(&request);
    request.extensions_mut().insert(RequestId(id.clone()));
    let call = service.call(request);
    async move {
        let mut response = call.await?;
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(response)
    }
}
