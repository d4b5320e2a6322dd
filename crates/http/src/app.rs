//! The actix `App`: routes from the access table, strict extractors, the middleware.

use std::sync::Arc;

use crate::state::Stack;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, FromRequest, Handler, HttpRequest, HttpResponse, Responder, web};

use crate::body::{JsonObject, OptionalJsonObject};
use crate::error::ApiError;
use crate::idempotent::Idempotent;
use crate::middleware::{Caller, RequestTimeout, authorize, deadline, request_context};
use crate::query::QueryParams;
use crate::routes::{self, Endpoint, ROUTES};
use crate::state::AppState;
use crate::{audit, customers, docs, health, loyalty, openapi, orders, reviews, session, users};

/// What a handler's arguments say about the row it serves.
trait Argument {
    /// It is [`Idempotent`]: the handler may `run_once`.
    const IDEMPOTENT: bool = false;
    /// It is [`QueryParams`]: the handler reads the row's query parameters.
    const QUERY: bool = false;
}

impl<T: ?Sized> Argument for web::Data<T> {}
impl<T> Argument for web::Path<T> {}
impl Argument for HttpRequest {}
impl Argument for Caller {}
impl Argument for JsonObject {}
impl Argument for OptionalJsonObject {}
impl Argument for Idempotent {
    const IDEMPOTENT: bool = true;
}
impl Argument for QueryParams {
    const QUERY: bool = true;
}

/// The same, for all of a handler's arguments.
trait Arguments {
    const IDEMPOTENT: bool;
    const QUERY: bool;
}

macro_rules! arguments {
    ($($arg:ident),*) => {
        impl<$($arg: Argument),*> Arguments for ($($arg,)*) {
            const IDEMPOTENT: bool = false $(|| $arg::IDEMPOTENT)*;
            const QUERY: bool = false $(|| $arg::QUERY)*;
        }
    };
}

arguments!();
arguments!(A);
arguments!(A, B);
arguments!(A, B, C);
arguments!(A, B, C, D);
arguments!(A, B, C, D, E);
arguments!(A, B, C, D, E, F);

/// `handler` on `route`, for a row whose `idempotent` is `IDEMPOTENT` and whose query is
/// non-empty when `QUERY`: it does not compile unless the handler takes [`Idempotent`] and
/// [`QueryParams`] exactly when its row says so (see `routes::Route`). The check is made where
/// the app is built for a set of ports: every build of the server and of the tests.
fn to<F, Args, const IDEMPOTENT: bool, const QUERY: bool>(
    route: actix_web::Route,
    handler: F,
) -> actix_web::Route
where
    F: Handler<Args>,
    Args: FromRequest + Arguments + 'static,
    F::Output: Responder + 'static,
{
    const {
        assert!(
            Args::IDEMPOTENT == IDEMPOTENT,
            "a handler takes `Idempotent` exactly when its row of the access table is idempotent"
        );
        assert!(
            Args::QUERY == QUERY,
            "a handler takes `QueryParams` exactly when its row of the access table has a query"
        );
    }
    route.to(handler)
}

/// The handler of each endpoint, each checked against its row by [`to`].
macro_rules! dispatch {
    ($route:expr; $($endpoint:ident => $handler:expr,)*) => {{
        let method = web::method($route.verb.method());
        match $route.endpoint {
            $(Endpoint::$endpoint => to::<
                _,
                _,
                { routes::row(Endpoint::$endpoint).idempotent },
                { !routes::row(Endpoint::$endpoint).query.is_empty() },
            >(method, $handler),)*
        }
    }};
}

/// The handler of an endpoint, for the method its table row names.
fn handler<P: Stack>(route: &routes::Route) -> actix_web::Route {
    dispatch! { route;
        CreateCustomer => customers::create::<P>,
        ListCustomers => customers::list::<P>,
        GetCustomer => customers::get::<P>,
        UpdateCustomer => customers::update::<P>,
        DeleteCustomer => customers::delete::<P>,
        BlockCustomer => customers::block::<P>,
        UnblockCustomer => customers::unblock::<P>,
        CustomerOrders => customers::orders::<P>,
        CustomerAnalytics => customers::analytics::<P>,
        ExportCustomer => customers::export::<P>,
        AdjustLoyalty => loyalty::adjust::<P>,
        CustomerLoyalty => loyalty::ledger::<P>,
        RecordOrder => orders::record::<P>,
        GetOrder => orders::get::<P>,
        CancelOrder => orders::cancel::<P>,
        CreateReview => reviews::create::<P>,
        ListReviews => reviews::list::<P>,
        ReviewStats => reviews::stats::<P>,
        GetReview => reviews::get::<P>,
        ModerateReview => reviews::moderate::<P>,
        RespondToReview => reviews::respond::<P>,
        DeleteReview => reviews::delete::<P>,
        Login => session::login::<P>,
        Logout => session::logout::<P>,
        Me => session::me,
        CreateUser => users::create::<P>,
        ListUsers => users::list::<P>,
        CreateApiKey => users::create_api_key::<P>,
        ListApiKeys => users::list_api_keys::<P>,
        RevokeApiKey => users::revoke_api_key::<P>,
        Audit => audit::list::<P>,
        Health => health::health,
        Ready => health::ready::<P>,
        Metrics => health::metrics::<P>,
        OpenApi => openapi::serve,
        Docs => docs::page,
        DocsAsset => docs::asset,
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
