//! The JSON shapes of responses, field for field as docs/api.md §4 names them.

use chrono::{DateTime, SecondsFormat, Utc};
use customers_domain::access::{ApiKey, Holder, NewApiKey, Principal, StaffUser};
use customers_domain::audit::{Actor, AuditEntry};
use customers_domain::customer::{Customer, CustomerSummary};
use customers_domain::loyalty::{AdjustOutcome, LedgerEntry};
use customers_domain::order::{CustomerAnalytics, Order};
use customers_domain::privacy::CustomerExport;
use customers_domain::review::{Review, ReviewStats};
use serde::Serialize;
use utoipa::ToSchema;

use crate::openapi::schemas;

/// `2026-03-15T10:00:00.000Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn timestamp_opt(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(timestamp)
}

#[derive(Serialize, Debug, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub id: String,
    pub line: Option<String>,
    pub zipcode: Option<String>,
    pub city: Option<String>,
    pub is_default: bool,
}

/// Builds [`CustomerView`] from the domain's table of plain profile fields.
macro_rules! customer_view {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $api:literal, )*) => {
        /// A customer in full (create, get, patch).
        #[derive(Serialize, Debug, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct CustomerView {
            pub id: String,
            pub store_id: String,
            $(
                #[serde(rename = $api)]
                #[schema(schema_with = shown_schemas::$field)]
                pub $field: Option<String>,
            )*
            pub accepts_marketing: bool,
            pub locale: String,
            pub is_blocked: bool,
            pub blocked_reason: Option<String>,
            #[schema(format = DateTime)]
            pub blocked_at: Option<String>,
            pub total_spent_minor: i64,
            pub total_orders: i64,
            #[schema(format = DateTime)]
            pub last_order_at: Option<String>,
            pub loyalty_points: i64,
            pub default_address_line: Option<String>,
            pub default_zipcode: Option<String>,
            pub default_city: Option<String>,
            pub addresses: Vec<AddressView>,
            #[schema(schema_with = schemas::allergens)]
            pub allergens: Vec<&'static str>,
            #[schema(format = DateTime)]
            pub created_at: String,
            #[schema(format = DateTime)]
            pub updated_at: String,
        }

        /// The schemas of the plain fields as shown.
        mod shown_schemas {
            use utoipa::openapi::schema::Object;

            $(
                pub fn $field() -> Object {
                    crate::openapi::schemas::shown::<$ty>(concat!($($doc, "\n"),*))
                }
            )*
        }

        impl From<&Customer> for CustomerView {
            fn from(c: &Customer) -> Self {
                let p = &c.profile;
                let address = p.default_address.as_ref();
                Self {
                    id: c.id.to_string(),
                    store_id: c.store_id.to_string(),
                    $( $field: p.$field.as_ref().map(ToString::to_string), )*
                    accepts_marketing: p.accepts_marketing,
                    locale: p.locale.to_string(),
                    is_blocked: c.is_blocked(),
                    blocked_reason: c
                        .block
                        .as_ref()
                        .and_then(|b| b.reason.as_ref())
                        .map(ToString::to_string),
                    blocked_at: timestamp_opt(c.block.as_ref().map(|b| b.at)),
                    total_spent_minor: c.activity.total_spent_minor,
                    total_orders: c.activity.total_orders,
                    last_order_at: timestamp_opt(c.activity.last_order_at),
                    loyalty_points: c.activity.loyalty_points,
                    default_address_line: address.and_then(|a| a.line.clone()),
                    default_zipcode: address.and_then(|a| a.zipcode.clone()),
                    default_city: address.and_then(|a| a.city.clone()),
                    addresses: address
                        .map(|a| AddressView {
                            id: a.id.to_string(),
                            line: a.line.clone(),
                            zipcode: a.zipcode.clone(),
                            city: a.city.clone(),
                            is_default: true,
                        })
                        .into_iter()
                        .collect(),
                    allergens: p.allergens.codes(),
                    created_at: timestamp(c.created_at),
                    updated_at: timestamp(c.updated_at),
                }
            }
        }
    };
}

customers_domain::plain_profile_fields!(customer_view);

/// A row of the customer list (docs/api.md §4, "The list").
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummaryView {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_blocked: bool,
    pub total_spent_minor: i64,
    pub total_orders: i64,
    #[schema(format = DateTime)]
    pub last_order_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&CustomerSummary> for CustomerSummaryView {
    fn from(c: &CustomerSummary) -> Self {
        Self {
            id: c.id.to_string(),
            first_name: c.first_name.as_ref().map(ToString::to_string),
            last_name: c.last_name.as_ref().map(ToString::to_string),
            email: c.email.as_ref().map(ToString::to_string),
            phone: c.phone.as_ref().map(ToString::to_string),
            is_blocked: c.is_blocked,
            total_spent_minor: c.total_spent_minor,
            total_orders: c.total_orders,
            last_order_at: timestamp_opt(c.last_order_at),
            created_at: timestamp(c.created_at),
        }
    }
}

/// A staff user, never with a password hash.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    #[schema(schema_with = schemas::role)]
    pub role: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&StaffUser> for UserView {
    fn from(u: &StaffUser) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.as_ref().map(ToString::to_string),
            role: u.role.as_str(),
            created_at: timestamp(u.created_at),
        }
    }
}

/// `{id, email, role}` as login and `/auth/me` show a user.
#[derive(Serialize, Debug, ToSchema)]
pub struct UserRef {
    pub id: String,
    pub email: String,
    #[schema(schema_with = schemas::role)]
    pub role: &'static str,
}

#[derive(Serialize, Debug, ToSchema)]
pub struct ApiKeyRef {
    pub id: String,
    pub name: String,
    #[schema(schema_with = schemas::scopes)]
    pub scopes: Vec<&'static str>,
}

/// `GET /auth/me`.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeView {
    #[schema(schema_with = schemas::credential_kind)]
    pub kind: &'static str,
    pub store_id: String,
    /// Present for a staff token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user: Option<UserRef>,
    /// Present for an API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub api_key: Option<ApiKeyRef>,
}

impl From<&Principal> for MeView {
    fn from(p: &Principal) -> Self {
        match &p.holder {
            Holder::Staff {
                user_id,
                email,
                role,
            } => Self {
                kind: "staff",
                store_id: p.store_id.to_string(),
                user: Some(UserRef {
                    id: user_id.to_string(),
                    email: email.clone(),
                    role: role.as_str(),
                }),
                api_key: None,
            },
            Holder::ApiKey { name, scopes } => Self {
                kind: "apiKey",
                store_id: p.store_id.to_string(),
                user: None,
                api_key: Some(ApiKeyRef {
                    id: p.credential_id.to_string(),
                    name: name.clone(),
                    scopes: scopes.iter().map(|s| s.as_str()).collect(),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let at: DateTime<Utc> = "2026-03-15T10:00:00Z".parse().unwrap();
        assert_eq!(timestamp(at), "2026-03-15T10:00:00.000Z");
        let at: DateTime<Utc> = "2026-03-15T10:00:00.1239Z".parse().unwrap();
        assert_eq!(timestamp(at), "2026-03-15T10:00:00.123Z");
    }
}

/// `POST …/block` and `…/unblock`.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    pub id: String,
    pub is_blocked: bool,
}

#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemView {
    pub product_id: String,
    pub product_name: String,
    pub category_id: Option<String>,
    pub category_name: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
}

/// An order (docs/api.md §4, "Orders").
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub id: String,
    pub customer_id: Option<String>,
    pub external_id: Option<String>,
    #[schema(schema_with = schemas::order_status)]
    pub status: &'static str,
    pub total_minor: i64,
    pub currency: String,
    #[schema(format = DateTime)]
    pub placed_at: String,
    #[schema(format = DateTime)]
    pub cancelled_at: Option<String>,
    pub points_earned: i64,
    pub items: Vec<OrderItemView>,
    /// The staff user or API key that recorded the order; `null` for orders recorded before
    /// this was kept.
    pub recorded_by: Option<ActorView>,
    /// The staff user or API key that cancelled the order.
    pub cancelled_by: Option<ActorView>,
}

impl From<&Actor> for ActorView {
    fn from(actor: &Actor) -> Self {
        Self {
            kind: actor.kind(),
            id: actor.id().map(str::to_owned),
        }
    }
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.to_string(),
            customer_id: o.customer_id.as_ref().map(ToString::to_string),
            external_id: o.external_id.clone(),
            status: o.status.as_str(),
            total_minor: o.total_minor,
            currency: o.currency.clone(),
            placed_at: timestamp(o.placed_at),
            cancelled_at: timestamp_opt(o.cancelled_at),
            points_earned: o.points_earned,
            items: o
                .items
                .iter()
                .map(|i| OrderItemView {
                    product_id: i.product_id.clone(),
                    product_name: i.product_name.clone(),
                    category_id: i.category_id.clone(),
                    category_name: i.category_name.clone(),
                    quantity: i.quantity,
                    unit_price_minor: i.unit_price_minor,
                })
                .collect(),
            recorded_by: o.recorded_by.as_ref().map(ActorView::from),
            cancelled_by: o.cancelled_by.as_ref().map(ActorView::from),
        }
    }
}

/// One entry of the loyalty ledger.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryView {
    pub id: String,
    pub delta: i64,
    pub balance_after: i64,
    pub reason: String,
    #[schema(schema_with = schemas::ledger_source)]
    pub source: &'static str,
    pub order_id: Option<String>,
    /// The staff user (`usr_…`) or API key (`key_…`) whose request wrote the entry: who
    /// adjusted, or who recorded or cancelled the order; `null` for entries written before
    /// this was kept.
    #[schema(schema_with = schemas::actor_id)]
    pub actor_id: Option<String>,
    /// `user` or `apiKey`, the kind of `actorId`.
    #[schema(schema_with = schemas::ledger_actor_type)]
    pub actor_type: Option<&'static str>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&LedgerEntry> for LedgerEntryView {
    fn from(e: &LedgerEntry) -> Self {
        Self {
            id: e.id.to_string(),
            delta: e.delta,
            balance_after: e.balance_after,
            reason: e.reason.clone(),
            source: e.source.as_str(),
            order_id: e.order_id.as_ref().map(ToString::to_string),
            actor_id: e.actor.as_ref().and_then(Actor::id).map(str::to_owned),
            actor_type: e.actor.as_ref().map(Actor::kind),
            created_at: timestamp(e.created_at),
        }
    }
}

/// `GET …/loyalty`: `{"balance", "entries"}`.
#[derive(Serialize, Debug, ToSchema)]
pub struct LoyaltyView {
    pub balance: i64,
    pub entries: Vec<LedgerEntryView>,
}

/// The answer to `POST …/loyalty/adjust`.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustView {
    pub customer_id: String,
    pub previous_balance: i64,
    pub adjustment: i64,
    pub new_balance: i64,
    pub reason: String,
}

impl From<&AdjustOutcome> for AdjustView {
    fn from(o: &AdjustOutcome) -> Self {
        Self {
            customer_id: o.customer_id.to_string(),
            previous_balance: o.previous_balance,
            adjustment: o.adjustment,
            new_balance: o.new_balance,
            reason: o.reason.clone(),
        }
    }
}

#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRankView {
    pub product_id: String,
    pub product_name: String,
    pub order_count: i64,
}

#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRankView {
    pub category_id: String,
    pub category_name: String,
    pub order_count: i64,
}

/// The analytics of docs/api.md §4.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsView {
    pub total_orders: i64,
    pub total_spent_minor: i64,
    pub average_order_minor: i64,
    pub top_products: Vec<ProductRankView>,
    pub top_categories: Vec<CategoryRankView>,
}

impl From<&CustomerAnalytics> for AnalyticsView {
    fn from(a: &CustomerAnalytics) -> Self {
        Self {
            total_orders: a.total_orders,
            total_spent_minor: a.total_spent_minor,
            average_order_minor: a.average_order_minor,
            top_products: a
                .top_products
                .iter()
                .map(|r| ProductRankView {
                    product_id: r.id.clone(),
                    product_name: r.name.clone(),
                    order_count: r.order_count,
                })
                .collect(),
            top_categories: a
                .top_categories
                .iter()
                .map(|r| CategoryRankView {
                    category_id: r.id.clone(),
                    category_name: r.name.clone(),
                    order_count: r.order_count,
                })
                .collect(),
        }
    }
}

/// The store's answer to a review.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseView {
    pub response_text: String,
    #[schema(format = DateTime)]
    pub responded_at: String,
    pub responded_by: String,
}

/// A review, as docs/api.md §4 shows it.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    pub id: String,
    pub order_id: String,
    pub customer_id: Option<String>,
    #[schema(schema_with = schemas::review_rating)]
    pub rating: u8,
    #[schema(schema_with = schemas::review_part_rating)]
    pub food_rating: Option<u8>,
    #[schema(schema_with = schemas::review_part_rating)]
    pub delivery_rating: Option<u8>,
    #[schema(schema_with = schemas::review_part_rating)]
    pub packaging_rating: Option<u8>,
    pub comment: Option<String>,
    pub is_approved: bool,
    pub is_public: bool,
    pub is_featured: bool,
    pub response: Option<ResponseView>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn response_view(review: &Review) -> Option<ResponseView> {
    review.response.as_ref().map(|r| ResponseView {
        response_text: r.text.clone(),
        responded_at: timestamp(r.responded_at),
        responded_by: r.responded_by.to_string(),
    })
}

impl From<&Review> for ReviewView {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.to_string(),
            order_id: r.order_id.to_string(),
            customer_id: r.customer_id.as_ref().map(ToString::to_string),
            rating: r.rating.value(),
            food_rating: r.food_rating.map(|x| x.value()),
            delivery_rating: r.delivery_rating.map(|x| x.value()),
            packaging_rating: r.packaging_rating.map(|x| x.value()),
            comment: r.comment.clone(),
            is_approved: r.moderation.is_approved,
            is_public: r.moderation.is_public,
            is_featured: r.moderation.is_featured,
            response: response_view(r),
            created_at: timestamp(r.created_at),
        }
    }
}

/// The answer to `POST /reviews/:id/response`.
#[derive(Serialize, Debug, ToSchema)]
pub struct ReviewResponseView {
    pub id: String,
    pub response: Option<ResponseView>,
}

impl From<&Review> for ReviewResponseView {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.to_string(),
            response: response_view(r),
        }
    }
}

/// The review statistics; the distribution always has "1" to "5".
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStatsView {
    pub total_reviews: i64,
    /// Rounded to one decimal; `null` with no reviews.
    #[schema(schema_with = schemas::average_rating)]
    pub average_rating: Option<f64>,
    #[schema(schema_with = schemas::rating_distribution)]
    pub rating_distribution: std::collections::BTreeMap<String, i64>,
    pub approved_count: i64,
    pub pending_count: i64,
}

impl From<&ReviewStats> for ReviewStatsView {
    fn from(s: &ReviewStats) -> Self {
        Self {
            total_reviews: s.total,
            average_rating: s.average(),
            rating_distribution: s
                .distribution
                .iter()
                .enumerate()
                .map(|(i, n)| ((i + 1).to_string(), *n))
                .collect(),
            approved_count: s.approved,
            pending_count: s.pending(),
        }
    }
}

/// An API key, never its secret.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    #[schema(schema_with = schemas::scopes)]
    pub scopes: Vec<&'static str>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str()).collect(),
            created_at: timestamp(k.created_at),
            revoked_at: timestamp_opt(k.revoked_at),
        }
    }
}

/// Who an audit entry names as its actor: `{"type", "id"}`, the id `null` for the system
/// and for anonymous callers.
#[derive(Serialize, Debug, ToSchema)]
#[schema(as = AuditActor)]
pub struct ActorView {
    #[serde(rename = "type")]
    #[schema(schema_with = schemas::actor_type)]
    pub kind: &'static str,
    #[schema(schema_with = schemas::actor_id)]
    pub id: Option<String>,
}

/// One entry of the audit trail: ids and field names, never personal values or secrets.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEntry)]
pub struct AuditEntryView {
    pub id: String,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: ActorView,
    #[schema(schema_with = schemas::audit_action)]
    pub action: &'static str,
    #[schema(schema_with = schemas::audited_customer_id)]
    pub customer_id: Option<String>,
    #[schema(schema_with = schemas::subject_id)]
    pub subject_id: Option<String>,
    /// For `customer.updated`: the API names of the fields whose value changed.
    #[schema(schema_with = schemas::field_names)]
    pub fields: Vec<String>,
    /// For `auth.login_failed` and `auth.login_refused`: the client's network address.
    #[schema(schema_with = schemas::client_address)]
    pub client_address: Option<String>,
    /// For `auth.login_refused`: the failures counted when attempts began to be refused.
    #[schema(schema_with = schemas::failure_count)]
    pub failure_count: Option<u32>,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            at: timestamp(e.at),
            actor: ActorView {
                kind: e.actor.kind(),
                id: e.actor.id().map(str::to_owned),
            },
            action: e.action.as_str(),
            customer_id: e.customer_id.as_ref().map(ToString::to_string),
            subject_id: e.subject_id.clone(),
            fields: e.fields.clone(),
            client_address: e.client_address.clone(),
            failure_count: e.failure_count,
        }
    }
}

/// `POST /api-keys`: the key with its secret, shown this once.
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKeyView {
    pub id: String,
    pub name: String,
    #[schema(schema_with = schemas::scopes)]
    pub scopes: Vec<&'static str>,
    pub key: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&NewApiKey> for NewApiKeyView {
    fn from(n: &NewApiKey) -> Self {
        Self {
            id: n.key.id.to_string(),
            name: n.key.name.clone(),
            scopes: n.key.scopes.iter().map(|s| s.as_str()).collect(),
            key: n.secret.clone(),
            created_at: timestamp(n.key.created_at),
        }
    }
}

/// `GET /customers/:id/export` (docs/api.md §4, "Customers").
#[derive(Serialize, Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportView {
    pub customer: CustomerView,
    pub addresses: Vec<AddressView>,
    pub orders: Vec<OrderView>,
    pub reviews: Vec<ReviewView>,
    pub loyalty_entries: Vec<LedgerEntryView>,
    #[schema(format = DateTime)]
    pub exported_at: String,
}

impl From<&CustomerExport> for ExportView {
    fn from(e: &CustomerExport) -> Self {
        let customer = CustomerView::from(&e.customer);
        let addresses = customer
            .addresses
            .iter()
            .map(|a| AddressView {
                id: a.id.clone(),
                line: a.line.clone(),
                zipcode: a.zipcode.clone(),
                city: a.city.clone(),
                is_default: a.is_default,
            })
            .collect();
        Self {
            customer,
            addresses,
            orders: e.orders.iter().map(OrderView::from).collect(),
            reviews: e.reviews.iter().map(ReviewView::from).collect(),
            loyalty_entries: e
                .loyalty_entries
                .iter()
                .map(LedgerEntryView::from)
                .collect(),
            exported_at: timestamp(e.exported_at),
        }
    }
}
