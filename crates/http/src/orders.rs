//! `/orders`: record, read, cancel.

use crate::state::Stack;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use customers_domain::order::{OrderInput, OrderItemInput, Recorded};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::body::{Body, JsonObject};
use crate::envelope;
use crate::error::ApiError;
use crate::idempotent::{Idempotent, Rendered, run_once};
use crate::middleware::Caller;
use crate::openapi::schemas;
use crate::state::AppState;
use crate::views::OrderView;

/// One line of an order. `categoryName` needs `categoryId`; without a name the id is used.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OrderItemInput)]
pub struct OrderItemBody {
    #[schema(schema_with = schemas::required_item_text, required = true)]
    product_id: Option<String>,
    #[schema(schema_with = schemas::required_item_text, required = true)]
    product_name: Option<String>,
    #[schema(schema_with = schemas::optional_item_text)]
    category_id: Option<String>,
    #[schema(schema_with = schemas::optional_item_text)]
    category_name: Option<String>,
    #[schema(schema_with = schemas::quantity, required = true)]
    quantity: Option<i64>,
    #[schema(schema_with = schemas::unit_price_minor, required = true)]
    unit_price_minor: Option<i64>,
}

/// An order to record. The same `externalId` twice answers the first order.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OrderInput, example = json!({
    "externalId": "pos-20260315-0042",
    "placedAt": "2026-03-15T19:22:00Z",
    "items": [
        {"productId": "prod_8kx2m4n7", "productName": "Margherita Pizza",
         "categoryId": "cat_p1z2a3", "categoryName": "Pizzas", "quantity": 2, "unitPriceMinor": 8900}
    ]
}))]
pub struct OrderBody {
    /// A customer of this store (422 otherwise).
    #[schema(schema_with = schemas::optional_customer_id)]
    customer_id: Option<String>,
    /// The ordering system's own id.
    #[schema(schema_with = schemas::optional_item_text)]
    external_id: Option<String>,
    /// RFC 3339 with any offset, at most 5 minutes ahead; default now.
    #[schema(schema_with = schemas::placed_at)]
    placed_at: Option<String>,
    // Each line is an `OrderItemInput`, a component of its own (see `openapi::component_schemas`).
    #[schema(schema_with = schemas::order_items, required = true)]
    items: Option<Vec<OrderItemBody>>,
    /// Defaults to the items' sum.
    #[schema(value_type = Option<i64>, minimum = 0)]
    total_minor: Option<i64>,
}

impl Body for OrderBody {}

impl From<OrderBody> for OrderInput {
    fn from(b: OrderBody) -> Self {
        Self {
            customer_id: b.customer_id,
            external_id: b.external_id,
            placed_at: b.placed_at,
            items: b.items.map(|items| {
                items
                    .into_iter()
                    .map(|i| OrderItemInput {
                        product_id: i.product_id,
                        product_name: i.product_name,
                        category_id: i.category_id,
                        category_name: i.category_name,
                        quantity: i.quantity,
                        unit_price_minor: i.unit_price_minor,
                    })
                    .collect()
            }),
            total_minor: b.total_minor,
        }
    }
}

/// 201 with the new order; for an order already recorded under the same `externalId`, 200
/// with it to a caller that may read orders, 409 `ORDER_EXISTS` with its id to others.
pub async fn record<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    once: Idempotent,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let canonical = body.canonical();
    let input = OrderInput::from(body.decode::<OrderBody>()?);
    let (state, caller) = (&state, &caller);
    let customer = input.customer_id.clone();
    let input = &input;
    run_once(
        state,
        caller,
        &once,
        &canonical,
        customer.as_deref(),
        |claim| async move {
            let recorded = state.orders.record(caller, input, claim.as_deref()).await?;
            let status = match recorded {
                Recorded::New(_) => StatusCode::CREATED,
                Recorded::Existing(_) => StatusCode::OK,
            };
            Ok(Rendered::json(status, &OrderView::from(recorded.order())))
        },
    )
    .await
}

pub async fn get<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state.orders.get(&caller, &id).await?;
    Ok(envelope::ok(&OrderView::from(&order)))
}

/// Cancels once; a second cancel answers 200 and changes nothing.
pub async fn cancel<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state.orders.cancel(&caller, &id).await?;
    Ok(envelope::ok(&OrderView::from(&order)))
}
