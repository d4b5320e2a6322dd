//! `/reviews`: create, list, statistics, read, moderate, respond, delete.

use crate::state::Stack;
use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::review::{ModerationChange, Rating, ReviewInput, ReviewListParams};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::body::{Body, JsonObject};
use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::openapi::{parameters, schemas};
use crate::query::{AFTER, BEFORE, LIMIT, PAGE, Param, QueryParams, TOTAL};
use crate::state::AppState;
use crate::views::{ReviewResponseView, ReviewStatsView, ReviewView};

/// A review of an order; `customerId` defaults to the order's customer.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ReviewInput, example = json!({
    "orderId": "ord_v7k3m9n2abcdef", "rating": 5, "foodRating": 5, "deliveryRating": 4,
    "comment": "Amazing pizza, slightly late delivery but worth the wait!"
}))]
pub struct ReviewBody {
    /// An order of this store without a review.
    #[schema(schema_with = schemas::order_id, required = true)]
    order_id: Option<String>,
    /// Must be the order's customer.
    #[schema(schema_with = schemas::optional_customer_id)]
    customer_id: Option<String>,
    #[schema(schema_with = schemas::required_rating, required = true)]
    rating: Option<i64>,
    #[schema(schema_with = schemas::optional_rating)]
    food_rating: Option<i64>,
    #[schema(schema_with = schemas::optional_rating)]
    delivery_rating: Option<i64>,
    #[schema(schema_with = schemas::optional_rating)]
    packaging_rating: Option<i64>,
    #[schema(schema_with = schemas::comment)]
    comment: Option<String>,
}

impl Body for ReviewBody {}

/// A moderation change: each flag absent or a boolean (`null` is refused: a flag is never
/// empty).
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ModerationInput, example = json!({"isApproved": true, "isFeatured": true}))]
pub struct ModerationBody {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = bool)]
    is_approved: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = bool)]
    is_public: Option<bool>,
    /// Only an approved, public review can be featured.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = bool)]
    is_featured: Option<bool>,
}

fn not_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool::deserialize(d).map(Some)
}

impl Body for ModerationBody {}

/// The store's response; a second one replaces the first.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ResponseInput, example = json!({
    "responseText": "Thank you Maria! We are working on improving delivery times."
}))]
pub struct ResponseBody {
    #[schema(schema_with = schemas::response_text, required = true)]
    response_text: Option<String>,
}

impl Body for ResponseBody {}

/// Query parameters of `GET /reviews`.
pub const LIST_QUERY: &[Param] = &[
    PAGE,
    LIMIT,
    AFTER,
    BEFORE,
    TOTAL,
    Param::boolean("isApproved", "Only approved (or only pending) reviews."),
    Param::boolean(
        "isFeatured",
        "Only featured (or only not featured) reviews.",
    ),
    Param::boolean(
        "hasResponse",
        "Only reviews with (or without) the store's response.",
    ),
    Param::integer(
        "minRating",
        "Least overall rating.",
        Rating::MIN as i64,
        Rating::MAX as i64,
        None,
    ),
    Param::text(
        "customerId",
        "Only this customer's reviews.",
        schemas::customer_id,
    ),
    Param::text(
        "dateFrom",
        "First day, in the store's time zone, inclusive.",
        parameters::day,
    ),
    Param::text(
        "dateTo",
        "Last day, in the store's time zone, inclusive; not before `dateFrom` (422).",
        parameters::day,
    ),
];

/// Reads [`LIST_QUERY`].
pub fn list_params(mut query: QueryParams) -> Result<ReviewListParams, ApiError> {
    let params = ReviewListParams {
        page: query.integer("page"),
        limit: query.integer("limit"),
        after: query.text("after"),
        before: query.text("before"),
        total: query.text("total"),
        is_approved: query.boolean("isApproved"),
        is_featured: query.boolean("isFeatured"),
        has_response: query.boolean("hasResponse"),
        min_rating: query.integer("minRating"),
        customer_id: query.text("customerId"),
        date_from: query.text("dateFrom"),
        date_to: query.text("dateTo"),
    };
    query.finish(params)
}

pub async fn create<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let b = body.decode::<ReviewBody>()?;
    let input = ReviewInput {
        order_id: b.order_id,
        customer_id: b.customer_id,
        rating: b.rating,
        food_rating: b.food_rating,
        delivery_rating: b.delivery_rating,
        packaging_rating: b.packaging_rating,
        comment: b.comment,
    };
    let review = state.reviews.create(&caller, &input).await?;
    Ok(envelope::created(&ReviewView::from(&review)))
}

pub async fn list<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    query: QueryParams,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = list_params(query)?;
    let listing = state.reviews.list(&caller, &params).await?;
    Ok(envelope::listing::<_, ReviewView>(&request, &listing))
}

pub async fn stats<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let stats = state.reviews.stats(&caller).await?;
    Ok(envelope::ok(&ReviewStatsView::from(&stats)))
}

pub async fn get<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let review = state.reviews.get(&caller, &id).await?;
    Ok(envelope::ok(&ReviewView::from(&review)))
}

pub async fn moderate<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let b = body.decode::<ModerationBody>()?;
    let change = ModerationChange {
        is_approved: b.is_approved,
        is_public: b.is_public,
        is_featured: b.is_featured,
    };
    let review = state.reviews.moderate(&caller, &id, change).await?;
    Ok(envelope::ok(&ReviewView::from(&review)))
}

pub async fn respond<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let b = body.decode::<ResponseBody>()?;
    let review = state
        .reviews
        .respond(&caller, &id, b.response_text.as_deref())
        .await?;
    Ok(envelope::ok(&ReviewResponseView::from(&review)))
}

pub async fn delete<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.reviews.delete(&caller, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
