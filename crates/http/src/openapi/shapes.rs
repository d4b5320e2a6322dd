//! What each endpoint takes and answers beyond what its row of the access table says: its
//! request body type, its successes and the error codes of its own. One `match` arm per
//! [`Endpoint`], so an endpoint added to the table cannot compile without being documented.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};

use super::schemas;
use crate::routes::Endpoint;
use crate::{customers, loyalty, orders, reviews, session, users, views};

/// A request body type as the document shows it.
#[derive(Clone, Copy)]
pub(super) struct BodyType {
    /// The name of its schema.
    pub name: fn() -> Cow<'static, str>,
    /// The fields it accepts (`crate::body::fields`), which the tests compare with its schema.
    #[cfg(test)]
    pub fields: fn() -> &'static [&'static str],
    /// Adds its schema, and those it refers to, to the components.
    pub register: fn(&mut BTreeMap<String, RefOr<Schema>>),
}

impl BodyType {
    pub(super) fn of<T: DeserializeOwned + ToSchema>() -> Self {
        Self {
            name: T::name,
            #[cfg(test)]
            fields: crate::body::fields::<T>,
            register: super::register::<T>,
        }
    }
}

/// Body types that are part of another one: a component each, which their parent's schema
/// refers to (`schemas::order_items`).
pub(super) fn nested_bodies() -> [BodyType; 1] {
    [BodyType::of::<orders::OrderItemBody>()]
}

/// The request body of an endpoint.
pub(super) enum RequestBody {
    None,
    /// A JSON object of this type, required.
    Json(BodyType),
    /// A JSON object of this type, or no body at all.
    OptionalJson(BodyType),
}

impl RequestBody {
    /// The body's type, if it takes one.
    pub(super) fn of(&self) -> Option<BodyType> {
        match self {
            Self::None => None,
            Self::Json(body) | Self::OptionalJson(body) => Some(*body),
        }
    }
}

/// What a success carries in `data`.
pub(super) enum Data {
    /// `{"success": true, "data": <schema>}`.
    One(RefOr<Schema>),
    /// `{"success": true, "data": [<schema>], "meta": Meta}`.
    List(RefOr<Schema>),
    /// `{"success": true, "data": <schema>, "meta": Meta}`.
    Paged(RefOr<Schema>),
    /// `{"success": true, "data": [<schema>], "meta": Meta | CursorMeta}`: a list read by page
    /// number or by cursor.
    Walked(RefOr<Schema>),
    /// No body.
    Nothing,
    /// A body of another media type.
    Media(&'static [&'static str], RefOr<Schema>),
}

/// The success answers of an endpoint.
pub(super) struct Success(pub Vec<(u16, &'static str, Data)>);

/// What one endpoint takes and answers, beyond what its table row says.
pub(super) struct Shape {
    pub tag: &'static str,
    pub body: RequestBody,
    pub success: Success,
    /// Error codes of this endpoint beyond those implied by its access, body, query, path
    /// and `Idempotency-Key`.
    pub errors: &'static [(u16, &'static str)],
    /// Whether it reads the database (and so may answer 503).
    pub database: bool,
}

pub(super) fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn one<T: ToSchema>() -> Data {
    Data::One(reference(&T::name()))
}

fn status_data(value: &str) -> Data {
    Data::One(RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .property("status", schemas::one_of(&[value]))
            .required("status")
            .build(),
    )))
}

fn success(status: u16, description: &'static str, data: Data) -> Success {
    Success(vec![(status, description, data)])
}

const CUSTOMER_WRITE: &[(u16, &str)] = &[(409, "EMAIL_TAKEN"), (409, "PHONE_TAKEN")];

/// What `endpoint` takes and answers.
pub(super) fn shape(endpoint: Endpoint) -> Shape {
    let base = |tag| Shape {
        tag,
        body: RequestBody::None,
        success: success(200, "OK", Data::Nothing),
        errors: &[],
        database: true,
    };
    match endpoint {
        Endpoint::CreateCustomer => Shape {
            body: RequestBody::Json(BodyType::of::<customers::ProfileBody>()),
            success: success(201, "The new customer", one::<views::CustomerView>()),
            errors: CUSTOMER_WRITE,
            ..base("Customers")
        },
        Endpoint::ListCustomers => Shape {
            success: success(
                200,
                "A page of customers",
                Data::Walked(reference(&views::CustomerSummaryView::name())),
            ),
            ..base("Customers")
        },
        Endpoint::GetCustomer => Shape {
            success: success(200, "The customer", one::<views::CustomerView>()),
            ..base("Customers")
        },
        Endpoint::UpdateCustomer => Shape {
            body: RequestBody::Json(BodyType::of::<customers::ProfileBody>()),
            success: success(200, "The customer as changed", one::<views::CustomerView>()),
            errors: CUSTOMER_WRITE,
            ..base("Customers")
        },
        Endpoint::DeleteCustomer => Shape {
            success: success(204, "Erased for good", Data::Nothing),
            ..base("Customers")
        },
        Endpoint::BlockCustomer => Shape {
            body: RequestBody::OptionalJson(BodyType::of::<customers::BlockBody>()),
            success: success(200, "Blocked", one::<views::BlockView>()),
            ..base("Customers")
        },
        Endpoint::UnblockCustomer => Shape {
            success: success(200, "Not blocked", one::<views::BlockView>()),
            ..base("Customers")
        },
        Endpoint::CustomerOrders => Shape {
            success: success(
                200,
                "A page of the customer's orders, newest first",
                Data::List(reference(&views::OrderView::name())),
            ),
            ..base("Customers")
        },
        Endpoint::CustomerAnalytics => Shape {
            success: success(200, "Purchase analytics", one::<views::AnalyticsView>()),
            ..base("Customers")
        },
        Endpoint::ExportCustomer => Shape {
            success: success(200, "Everything held", one::<views::ExportView>()),
            ..base("Customers")
        },
        Endpoint::AdjustLoyalty => Shape {
            body: RequestBody::Json(BodyType::of::<loyalty::AdjustBody>()),
            success: success(200, "The adjustment", one::<views::AdjustView>()),
            errors: &[(422, "INSUFFICIENT_POINTS"), (422, "TOTALS_OUT_OF_RANGE")],
            ..base("Loyalty")
        },
        Endpoint::CustomerLoyalty => Shape {
            success: success(
                200,
                "The balance and a page of the ledger, newest first",
                Data::Paged(reference(&views::LoyaltyView::name())),
            ),
            ..base("Loyalty")
        },
        Endpoint::RecordOrder => Shape {
            body: RequestBody::Json(BodyType::of::<orders::OrderBody>()),
            success: Success(vec![
                (201, "The new order", one::<views::OrderView>()),
                (
                    200,
                    "The order already recorded under this `externalId`, to a caller that may \
                     read orders (a staff token, or an API key with `read:orders`); other \
                     callers get 409 `ORDER_EXISTS` with `details: {\"id\"}` only",
                    one::<views::OrderView>(),
                ),
            ]),
            errors: &[
                (409, "ORDER_EXISTS"),
                (422, "CUSTOMER_BLOCKED"),
                (422, "TOTALS_OUT_OF_RANGE"),
            ],
            ..base("Orders")
        },
        Endpoint::GetOrder => Shape {
            success: success(200, "The order", one::<views::OrderView>()),
            ..base("Orders")
        },
        Endpoint::CancelOrder => Shape {
            success: success(
                200,
                "The cancelled order (a second cancel changes nothing)",
                one::<views::OrderView>(),
            ),
            ..base("Orders")
        },
        Endpoint::CreateReview => Shape {
            body: RequestBody::Json(BodyType::of::<reviews::ReviewBody>()),
            success: success(201, "The new review", one::<views::ReviewView>()),
            errors: &[(409, "REVIEW_EXISTS")],
            ..base("Reviews")
        },
        Endpoint::ListReviews => Shape {
            success: success(
                200,
                "A page of reviews, newest first",
                Data::Walked(reference(&views::ReviewView::name())),
            ),
            ..base("Reviews")
        },
        Endpoint::ReviewStats => Shape {
            success: success(200, "Review statistics", one::<views::ReviewStatsView>()),
            ..base("Reviews")
        },
        Endpoint::GetReview => Shape {
            success: success(200, "The review", one::<views::ReviewView>()),
            ..base("Reviews")
        },
        Endpoint::ModerateReview => Shape {
            body: RequestBody::Json(BodyType::of::<reviews::ModerationBody>()),
            success: success(200, "The review as changed", one::<views::ReviewView>()),
            errors: &[(422, "REVIEW_NOT_FEATURABLE")],
            ..base("Reviews")
        },
        Endpoint::RespondToReview => Shape {
            body: RequestBody::Json(BodyType::of::<reviews::ResponseBody>()),
            success: success(200, "The response", one::<views::ReviewResponseView>()),
            ..base("Reviews")
        },
        Endpoint::DeleteReview => Shape {
            success: success(204, "Deleted", Data::Nothing),
            ..base("Reviews")
        },
        Endpoint::Login => Shape {
            body: RequestBody::Json(BodyType::of::<session::LoginBody>()),
            success: success(200, "A new staff token", one::<session::LoginView>()),
            errors: &[(401, "UNAUTHORIZED"), (429, "RATE_LIMITED")],
            ..base("Access")
        },
        Endpoint::Logout => Shape {
            success: success(204, "The credential is revoked", Data::Nothing),
            ..base("Access")
        },
        Endpoint::Me => Shape {
            success: success(200, "The credential in use", one::<views::MeView>()),
            ..base("Access")
        },
        Endpoint::CreateUser => Shape {
            body: RequestBody::Json(BodyType::of::<users::NewUserBody>()),
            success: success(201, "The new user", one::<views::UserView>()),
            errors: &[(409, "EMAIL_TAKEN")],
            ..base("Access")
        },
        Endpoint::ListUsers => Shape {
            success: success(
                200,
                "A page of users, oldest first",
                Data::List(reference(&views::UserView::name())),
            ),
            ..base("Access")
        },
        Endpoint::CreateApiKey => Shape {
            body: RequestBody::Json(BodyType::of::<users::NewApiKeyBody>()),
            success: success(
                201,
                "The new key with its secret, shown this once",
                one::<views::NewApiKeyView>(),
            ),
            ..base("Access")
        },
        Endpoint::ListApiKeys => Shape {
            success: success(
                200,
                "A page of keys, newest first, revoked ones included",
                Data::List(reference(&views::ApiKeyView::name())),
            ),
            ..base("Access")
        },
        Endpoint::RevokeApiKey => Shape {
            success: success(204, "Revoked", Data::Nothing),
            ..base("Access")
        },
        Endpoint::Audit => Shape {
            success: success(
                200,
                "A page of the audit trail, newest first",
                Data::List(reference(&views::AuditEntryView::name())),
            ),
            ..base("Access")
        },
        Endpoint::Health => Shape {
            success: success(200, "The process answers", status_data("ok")),
            database: false,
            ..base("Service")
        },
        Endpoint::Ready => Shape {
            success: success(200, "The database answers", status_data("ready")),
            ..base("Service")
        },
        Endpoint::Metrics => Shape {
            success: success(
                200,
                "Prometheus text format 0.0.4",
                Data::Media(
                    &["text/plain"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::OpenApi => Shape {
            success: success(
                200,
                "This document",
                Data::Media(
                    &["application/json"],
                    RefOr::T(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::new(Type::Object))
                            .required("openapi")
                            .required("paths")
                            .build()
                            .into(),
                    ),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::Docs => Shape {
            success: success(
                200,
                "The interactive API reference",
                Data::Media(
                    &["text/html"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            database: false,
            ..base("Service")
        },
        Endpoint::DocsAsset => Shape {
            success: success(
                200,
                "A file of the reference page",
                Data::Media(
                    &["text/css", "text/javascript", "image/png"],
                    RefOr::T(schemas::text(false).build().into()),
                ),
            ),
            errors: &[(404, "NOT_FOUND")],
            database: false,
            ..base("Service")
        },
    }
}
