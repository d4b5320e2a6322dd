//! The actix `App`: routes from the access table, strict extractors, the middleware.

use std::sync::Arc;

use crate::state::Stack;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::middleware::{RequestTimeout, authorize, deadline, request_context};
use crate::routes::{self, Endpoint, ROUTES};
use crate::state::AppState;
use crate::{audit, customers, docs, health, loyalty, openapi, orders, reviews, session, users};

/// The handler of an endpoint, for the method its table row names.
fn handler<P: Stack>(route: &routes::Route) -> actix_web::Route {
    let method = web::method(route.verb.method());
    match route.endpoint {
        Endpoint::CreateCustomer => method.to(customers::create::<P>),
        Endpoint::ListCustomers => method.to(customers::list::<P>),
        Endpoint::GetCustomer => method.to(customers::get::<P>),
        Endpoint::UpdateCustomer => method.to(customers::update::<P>),
        Endpoint::DeleteCustomer => method.to(customers::delete::<P>),
        Endpoint::BlockCustomer => method.to(customers::block::<P>),
        Endpoint::UnblockCustomer => method.to(customers::unblock::<P>),
        Endpoint::CustomerOrders => method.to(customers::orders::<P>),
        Endpoint::CustomerAnalytics => method.to(customers::analytics::<P>),
        Endpoint::ExportCustomer => method.to(customers::export::<P>),
        Endpoint::AdjustLoyalty => method.to(loyalty::adjust::<P>),
        Endpoint::CustomerLoyalty => method.to(loyalty::ledger::<P>),
        Endpoint::RecordOrder => method.to(orders::record::<P>),
        Endpoint::GetOrder => method.to(orders::get::<P>),
        Endpoint::CancelOrder => method.to(orders::cancel::<P>),
        Endpoint::CreateReview => method.to(reviews::create::<P>),
        Endpoint::ListReviews => method.to(reviews::list::<P>),
        Endpoint::ReviewStats => method.to(reviews::stats::<P>),
        Endpoint::GetReview => method.to(reviews::get::<P>),
        Endpoint::ModerateReview => method.to(reviews::moderate::<P>),
        Endpoint::RespondToReview => method.to(reviews::respond::<P>),
        Endpoint::DeleteReview => method.to(reviews::delete::<P>),
        Endpoint::Login => method.to(session::login::<P>),
        Endpoint::Logout => method.to(session::logout::<P>),
        Endpoint::Me => method.to(session::me),
        Endpoint::CreateUser => method.to(users::create::<P>),
        Endpoint::ListUsers => method.to(users::list::<P>),
        Endpoint::CreateApiKey => method.to(users::create_api_key::<P>),
        Endpoint::ListApiKeys => method.to(users::list_api_keys::<P>),
        Endpoint::RevokeApiKey => method.to(users::revoke_api_key::<P>),
        Endpoint::Audit => method.to(audit::list::<P>),
        Endpoint::Health => method.to(health::health),
        Endpoint::Ready => method.to(health::ready::<P>),
        Endpoint::Metrics => method.to(health::metrics::<P>),
        Endpoint::OpenApi => method.to(openapi::serve),
        Endpoint::Docs => method.to(docs::page),
        Endpoint::DocsAsset => method.to(docs::asset),
    }
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allow = req
        .match_pattern()
        .map(|pattern| routes::allowed_methods(&pattern))
        .unwrap_or_default();
    Err(ApiError::method_not_allowed(allow))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

/// The whole HTTP application over one set of use cases.
pub fn app<P: Stack>(
    state: AppState<P>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let metrics = web::Data::from(Arc::clone(&state.metrics));
    let request_timeout = web::Data::new(RequestTimeout(state.request_timeout));
    let mut app = App::new()
        .app_data(metrics)
        .app_data(request_timeout)
        .app_data(web::Data::new(state))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
        .default_service(web::to(not_found));
    for path in routes::paths() {
        let resource = ROUTES
            .iter()
            .filter(|route| route.path == path)
            .fold(web::resource(path), |resource, route| {
                resource.route(handler::<P>(route))
            })
            .default_service(web::to(method_not_allowed))
            .wrap(from_fn(deadline));
        app = app.service(resource);
    }
    app.wrap(from_fn(authorize::<P>))
        .wrap(from_fn(request_context))
}
