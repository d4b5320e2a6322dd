//! `/customers`: create, list, get, update, erase.

use crate::state::Stack;
use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::customer::{CustomerListParams, Patch, ProfileInput};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::body::{Body, JsonObject, OptionalJsonObject, patch};
use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::openapi::{parameters, schemas};
use crate::query::{AFTER, BEFORE, LIMIT, PAGE, Param, QueryParams, TOTAL};
use crate::state::AppState;
use crate::views::{
    AnalyticsView, BlockView, CustomerSummaryView, CustomerView, ExportView, OrderView,
};

/// Builds [`ProfileBody`] from the domain's table of plain profile fields.
macro_rules! profile_body {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $api:literal, )*) => {
        /// The profile fields of create and PATCH. Absent, `null` and a value are told apart: on
        /// PATCH an absent field is unchanged and `null` clears it.
        #[derive(Deserialize, Debug, Default, ToSchema)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[schema(as = ProfileInput, example = json!({
            "firstName": "Maria", "lastName": "Nielsen", "email": "maria@example.dk",
            "phone": "+4520123456", "acceptsMarketing": true, "locale": "da-DK",
            "birthDate": "1990-05-15", "allergens": ["GLUTEN", "DAIRY"]
        }))]
        pub struct ProfileBody {
            $(
                #[serde(rename = $api, default, deserialize_with = "patch::field")]
                #[schema(schema_with = plain_schemas::$field)]
                $field: Patch<String>,
            )*
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::accepts_marketing)]
            accepts_marketing: Patch<bool>,
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::locale)]
            locale: Patch<String>,
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::address_line)]
            default_address_line: Patch<String>,
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::zipcode)]
            default_zipcode: Patch<String>,
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::city)]
            default_city: Patch<String>,
            #[serde(default, deserialize_with = "patch::field")]
            #[schema(schema_with = schemas::allergens_input)]
            allergens: Patch<Vec<String>>,
        }

        /// The schemas of the plain fields as sent.
        mod plain_schemas {
            use utoipa::openapi::schema::Object;

            $(
                pub fn $field() -> Object {
                    crate::openapi::schemas::sent::<$ty>(concat!($($doc, "\n"),*))
                }
            )*
        }

        impl From<ProfileBody> for ProfileInput {
            fn from(b: ProfileBody) -> Self {
                Self {
                    $( $field: b.$field, )*
                    accepts_marketing: b.accepts_marketing,
                    locale: b.locale,
                    default_address_line: b.default_address_line,
                    default_zipcode: b.default_zipcode,
                    default_city: b.default_city,
                    allergens: b.allergens,
                }
            }
        }
    };
}

customers_domain::plain_profile_fields!(profile_body);

impl Body for ProfileBody {}

/// Query parameters of `GET /customers`.
pub const LIST_QUERY: &[Param] = &[
    PAGE,
    LIMIT,
    AFTER,
    BEFORE,
    TOTAL,
    Param::text(
        "sortBy",
        "Sort key; ties are broken by id.",
        parameters::sort_by,
    ),
    Param::text("sortDir", "Sort direction.", parameters::sort_direction),
    Param::boolean(
        "acceptsMarketing",
        "Only customers with this newsletter opt-in.",
    ),
    Param::boolean("isBlocked", "Only blocked (or only unblocked) customers."),
    Param::boolean("hasOrders", "`true`: has ordered; `false`: never ordered."),
    Param::integer(
        "minSpent",
        "Least total spent, in minor units, inclusive.",
        i64::MIN,
        i64::MAX,
        None,
    ),
    Param::integer(
        "maxSpent",
        "Most total spent, in minor units, inclusive; not below `minSpent` (422).",
        i64::MIN,
        i64::MAX,
        None,
    ),
    Param::text(
        "lastOrderPeriod",
        "Last ordered since midnight in the store's time zone (`today`) or within the last 7, 30 or 90 days.",
        parameters::last_order_period,
    ),
    Param::text(
        "q",
        "Case-insensitive substring of the name, email or phone; trimmed.",
        parameters::search,
    ),
    Param::text(
        "allergen",
        "Only customers with this allergen.",
        schemas::allergen,
    ),
];

/// Reads [`LIST_QUERY`].
pub fn list_params(mut query: QueryParams) -> Result<CustomerListParams, ApiError> {
    let params = CustomerListParams {
        page: query.integer("page"),
        limit: query.integer("limit"),
        after: query.text("after"),
        before: query.text("before"),
        total: query.text("total"),
        sort_by: query.text("sortBy"),
        sort_dir: query.text("sortDir"),
        accepts_marketing: query.boolean("acceptsMarketing"),
        is_blocked: query.boolean("isBlocked"),
        has_orders: query.boolean("hasOrders"),
        min_spent: query.integer("minSpent"),
        max_spent: query.integer("maxSpent"),
        last_order_period: query.text("lastOrderPeriod"),
        q: query.text("q"),
        allergen: query.text("allergen"),
    };
    query.finish(params)
}

pub async fn create<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let input = ProfileInput::from(body.decode::<ProfileBody>()?);
    let customer = state.customers.create(&caller, &input).await?;
    Ok(envelope::created(&CustomerView::from(&customer)))
}

pub async fn list<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    query: QueryParams,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = list_params(query)?;
    let listing = state.customers.list(&caller, &params).await?;
    Ok(envelope::listing::<_, CustomerSummaryView>(
        &request, &listing,
    ))
}

pub async fn get<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let customer = state.customers.get(&caller, &id).await?;
    Ok(envelope::ok(&CustomerView::from(&customer)))
}

pub async fn update<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let input = ProfileInput::from(body.decode::<ProfileBody>()?);
    let customer = state.customers.update(&caller, &id, &input).await?;
    Ok(envelope::ok(&CustomerView::from(&customer)))
}

pub async fn delete<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.customers.delete(&caller, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `{"reason"?}`; the body may be left out.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BlockInput, example = json!({"reason": "Repeated no-shows for reservations"}))]
pub struct BlockBody {
    #[schema(schema_with = schemas::block_reason)]
    reason: Option<String>,
}

impl Body for BlockBody {}

/// Blocks; the body (`{"reason"?}`) may be left out. Repeating it is harmless.
pub async fn block<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    body: OptionalJsonObject,
) -> Result<HttpResponse, ApiError> {
    let reason = match body.0 {
        Some(body) => body.decode::<BlockBody>()?.reason,
        None => None,
    };
    state
        .customers
        .block(&caller, &id, reason.as_deref())
        .await?;
    Ok(envelope::ok(&BlockView {
        id: id.into_inner(),
        is_blocked: true,
    }))
}

pub async fn unblock<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.customers.unblock(&caller, &id).await?;
    Ok(envelope::ok(&BlockView {
        id: id.into_inner(),
        is_blocked: false,
    }))
}

/// The customer's orders, newest first, paginated.
pub async fn orders<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
    query: QueryParams,
) -> Result<HttpResponse, ApiError> {
    let page = state.orders.history(&caller, &id, query.page()?).await?;
    Ok(envelope::page::<_, OrderView>(&page))
}

pub async fn analytics<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let analytics = state.orders.analytics(&caller, &id).await?;
    Ok(envelope::ok(&AnalyticsView::from(&analytics)))
}

/// Everything held about the customer, in one JSON document (data portability).
pub async fn export<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let export = state.privacy.export(&caller, &id).await?;
    Ok(envelope::ok(&ExportView::from(&export)))
}
