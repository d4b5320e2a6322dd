//! Orders: what a customer bought, as the ordering system reports it.

use chrono::{DateTime, Duration, Utc};

use crate::audit::Actor;
use crate::ids::{CustomerId, OrderId, StoreId};
use crate::validation::{ValidationErrors, char_len, has_forbidden_controls};

/// Where an order stands: `recorded`, or `cancelled` for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// `recorded`: counted in its customer's totals and points.
    Recorded,
    /// `cancelled`: taken out of the totals, its points taken back.
    Cancelled,
}

impl OrderStatus {
    /// The API and storage name, `recorded` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status stored as `s`; `None` for an unknown name.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "recorded" => Some(Self::Recorded),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItem {
    /// The product's id, the caller's own string (one line, at most 200 characters).
    pub product_id: String,
    /// The product's name (one line, at most 200 characters).
    pub product_name: String,
    /// The category's id, the caller's own string, if any.
    pub category_id: Option<String>,
    /// The category's name; its id when only the id was given.
    pub category_name: Option<String>,
    /// How many, 1–[`MAX_QUANTITY`].
    pub quantity: i64,
    /// Price of one, in minor units, 0–[`MAX_UNIT_PRICE_MINOR`].
    pub unit_price_minor: i64,
}

impl OrderItem {
    /// `quantity × unit_price_minor`; `None` when it overflows.
    pub fn line_total(&self) -> Option<i64> {
        self.quantity.checked_mul(self.unit_price_minor)
    }
}

/// A recorded (or cancelled) order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// The order's id, `ord_` and a random part.
    pub id: OrderId,
    /// The store that recorded it.
    pub store_id: StoreId,
    /// The customer who placed it; `None` for an order without a customer, and once the customer is erased.
    pub customer_id: Option<CustomerId>,
    /// The ordering system's own id, unique per store: the same one is never recorded twice.
    pub external_id: Option<String>,
    /// Recorded or cancelled.
    pub status: OrderStatus,
    /// What the order came to, in minor units; the items' sum unless the caller gave it.
    pub total_minor: i64,
    /// The store's currency when the order was recorded (ISO 4217, e.g. `DKK`).
    pub currency: String,
    /// When the customer placed it, to the millisecond; the time of recording unless given.
    pub placed_at: DateTime<Utc>,
    /// When it was cancelled; `None` while recorded.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Loyalty points the order earned when it was recorded.
    pub points_earned: i64,
    /// The lines, at least one and at most [`MAX_ITEMS`].
    pub items: Vec<OrderItem>,
    /// The staff user or API key that recorded it (`None` for orders recorded before actors
    /// were kept).
    pub recorded_by: Option<Actor>,
    /// The staff user or API key that cancelled it.
    pub cancelled_by: Option<Actor>,
}

/// An order item as it arrives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderItemInput {
    /// `productId`, required.
    pub product_id: Option<String>,
    /// `productName`, required.
    pub product_name: Option<String>,
    /// `categoryId`; required when `categoryName` is given.
    pub category_id: Option<String>,
    /// `categoryName`.
    pub category_name: Option<String>,
    /// `quantity`, required.
    pub quantity: Option<i64>,
    /// `unitPriceMinor`, required.
    pub unit_price_minor: Option<i64>,
}

/// `POST /orders` as it arrives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderInput {
    /// `customerId`: a customer of the caller's store, or absent for an order without a customer.
    pub customer_id: Option<String>,
    /// `externalId`: the ordering system's id of the order.
    pub external_id: Option<String>,
    /// `placedAt`, RFC 3339, at most five minutes ahead of the service's clock.
    pub placed_at: Option<String>,
    /// `items`, required.
    pub items: Option<Vec<OrderItemInput>>,
    /// `totalMinor`, not negative; the items' sum when absent.
    pub total_minor: Option<i64>,
}

/// Limits of an order, beyond which it is refused.
pub const MAX_ITEMS: usize = 500;
/// Most units of one item.
pub const MAX_QUANTITY: i64 = 100_000;
/// Highest unit price, in minor units.
pub const MAX_UNIT_PRICE_MINOR: i64 = 1_000_000_000;
/// Longest product or category id or name, and `externalId`, in characters.
pub const MAX_TEXT: usize = 200;
/// How far ahead of the service's clock `placedAt` may be (clock skew between systems).
pub const MAX_PLACED_AHEAD_MINUTES: i64 = 5;
/// A store's largest order (its `totalMinor` and its items' sum) unless the store says
/// otherwise.
pub const DEFAULT_MAX_ORDER_MINOR: i64 = 100_000_000;

/// A validated order, before it has an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidOrder {
    /// The customer it is for, if any (not yet checked to exist).
    pub customer_id: Option<CustomerId>,
    /// `externalId`, trimmed; `None` when absent or blank.
    pub external_id: Option<String>,
    /// `placedAt`, or the time of the request.
    pub placed_at: DateTime<Utc>,
    /// The validated lines.
    pub items: Vec<OrderItem>,
    /// `totalMinor`, or the items' sum when it was absent.
    pub total_minor: i64,
    /// The sum of the items' `quantity × unitPriceMinor`.
    pub items_total: i64,
}

impl ValidOrder {
    /// Refuses an order larger than the store's largest, `max_order_minor`: its total and its
    /// items' sum are both bounded. A total that is the items' sum (the default) is reported
    /// once, on `items`.
    pub fn check_limit(&self, max_order_minor: i64) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.total_minor > max_order_minor && self.total_minor != self.items_total {
            errors.add(
                "totalMinor",
                format!("must be at most {max_order_minor}, the store's largest order"),
            );
        }
        if self.items_total > max_order_minor {
            errors.add(
                "items",
                format!("add up to more than {max_order_minor}, the store's largest order"),
            );
        }
        errors.into_result(|| ())
    }
}

/// A customer's running totals, as orders and cancels move them. Every change is checked: what
/// cannot be stored (past `i64::MAX`) is refused before anything is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerTotals {
    /// Orders recorded and not cancelled.
    pub total_orders: i64,
    /// What those orders add up to, in minor units.
    pub total_spent_minor: i64,
    /// The loyalty balance.
    pub loyalty_points: i64,
}

/// Refused: the customer's totals or points would pass the largest number that can be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the customer's totals cannot take this change")]
pub struct TotalsOutOfRange;

impl CustomerTotals {
    /// The totals with one more order of `total_minor` that earned `points`.
    pub fn with_order(self, total_minor: i64, points: i64) -> Result<Self, TotalsOutOfRange> {
        Ok(Self {
            total_orders: self.total_orders.checked_add(1).ok_or(TotalsOutOfRange)?,
            total_spent_minor: self
                .total_spent_minor
                .checked_add(total_minor)
                .ok_or(TotalsOutOfRange)?,
            loyalty_points: self
                .loyalty_points
                .checked_add(points)
                .ok_or(TotalsOutOfRange)?,
        })
    }

    /// The totals without a cancelled order of `total_minor` whose cancel took back `taken`
    /// points. Never below zero, whatever the stored values.
    pub fn without_order(self, total_minor: i64, taken: i64) -> Self {
        Self {
            total_orders: self.total_orders.saturating_sub(1).max(0),
            total_spent_minor: self.total_spent_minor.saturating_sub(total_minor).max(0),
            loyalty_points: self.loyalty_points.saturating_sub(taken).max(0),
        }
    }
}

fn text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
    required: bool,
) -> Option<String> {
    match value.as_deref().map(str::trim) {
        None | Some("") if required => {
            errors.add(field, "is required");
            None
        }
        None | Some("") => None,
        Some(v) if char_len(v) > MAX_TEXT || has_forbidden_controls(v, false) => {
            errors.add(
                field,
                format!("must be one line of at most {MAX_TEXT} characters"),
            );
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

impl OrderInput {
    /// Checks every field; `now` bounds `placedAt` and is its default.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidOrder, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let customer_id = self.customer_id.as_deref().and_then(|id| {
            let parsed = CustomerId::parse(id);
            if parsed.is_none() {
                errors.add("customerId", "is not a customer of this store");
            }
            parsed
        });
        let external_id = text(&mut errors, "externalId", &self.external_id, false);
        let placed_at = match self.placed_at.as_deref() {
            None => now,
            Some(s) => match DateTime::parse_from_rfc3339(s) {
                Ok(at)
                    if at.with_timezone(&Utc)
                        <= now + Duration::minutes(MAX_PLACED_AHEAD_MINUTES) =>
                {
                    let at = at.with_timezone(&Utc);
                    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
                }
                Ok(_) => {
                    errors.add("placedAt", "must not be in the future");
                    now
                }
                Err(_) => {
                    errors.add(
                        "placedAt",
                        "must be an RFC 3339 time such as 2026-03-15T19:22:00Z",
                    );
                    now
                }
            },
        };
        let mut items = Vec::new();
        match &self.items {
            None => errors.add("items", "is required"),
            Some(list) if list.is_empty() => errors.add("items", "must hold at least one item"),
            Some(list) if list.len() > MAX_ITEMS => {
                errors.add("items", format!("must hold at most {MAX_ITEMS} items"))
            }
            Some(list) => {
                for (i, item) in list.iter().enumerate() {
                    if let Some(item) = item.validate(i, &mut errors) {
                        items.push(item);
                    }
                }
            }
        }
        let items_total = items.iter().try_fold(0i64, |sum, item| {
            item.line_total().and_then(|t| sum.checked_add(t))
        });
        let items_total = items_total.unwrap_or_else(|| {
            errors.add("items", "add up to more than can be recorded");
            0
        });
        let total_minor = match self.total_minor {
            Some(total) if total < 0 => {
                errors.add("totalMinor", "must not be negative");
                0
            }
            Some(total) => total,
            None => items_total,
        };
        errors.into_result(|| ValidOrder {
            customer_id,
            external_id,
            placed_at,
            items,
            total_minor,
            items_total,
        })
    }
}

impl OrderItemInput {
    fn validate(&self, i: usize, errors: &mut ValidationErrors) -> Option<OrderItem> {
        let field = |name: &str| format!("items[{i}].{name}");
        let before = errors.fields().len();
        let product_id = text(errors, &field("productId"), &self.product_id, true);
        let product_name = text(errors, &field("productName"), &self.product_name, true);
        let category_id = text(errors, &field("categoryId"), &self.category_id, false);
        let category_name = text(errors, &field("categoryName"), &self.category_name, false);
        if category_name.is_some() && category_id.is_none() {
            errors.add(field("categoryId"), "is required with categoryName");
        }
        let quantity = match self.quantity {
            Some(q) if (1..=MAX_QUANTITY).contains(&q) => q,
            Some(_) => {
                errors.add(
                    field("quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
                0
            }
            None => {
                errors.add(field("quantity"), "is required");
                0
            }
        };
        let unit_price_minor = match self.unit_price_minor {
            Some(p) if (0..=MAX_UNIT_PRICE_MINOR).contains(&p) => p,
            Some(_) => {
                errors.add(
                    field("unitPriceMinor"),
                    format!("must be between 0 and {MAX_UNIT_PRICE_MINOR}"),
                );
                0
            }
            None => {
                errors.add(field("unitPriceMinor"), "is required");
                0
            }
        };
        (errors.fields().len() == before).then(|| OrderItem {
            product_id: product_id.unwrap_or_default(),
            product_name: product_name.unwrap_or_default(),
            category_name: category_name.or_else(|| category_id.clone()),
            category_id,
            quantity,
            unit_price_minor,
        })
    }
}

/// Points an order of `total_minor` earns at `minor_units_per_point`: rounded down.
pub fn points_earned(total_minor: i64, minor_units_per_point: i64) -> i64 {
    if minor_units_per_point <= 0 || total_minor <= 0 {
        0
    } else {
        total_minor / minor_units_per_point
    }
}

/// A recorded order, new or the one already recorded under the same external id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// An order recorded by this call.
    New(Order),
    /// An order recorded before under the same `externalId` (or idempotency claim); nothing was
    /// written.
    Existing(Order),
}

impl Recorded {
    /// The order, new or existing.
    pub fn order(&self) -> &Order {
        match self {
            Self::New(order) | Self::Existing(order) => order,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-15T20:00:00Z".parse().unwrap()
    }

    fn pizza(quantity: i64, price: i64) -> OrderItemInput {
        OrderItemInput {
            product_id: Some("prod_8kx2m4n7".into()),
            product_name: Some("Margherita Pizza".into()),
            category_id: Some("cat_p1z2a3".into()),
            category_name: Some("Pizzas".into()),
            quantity: Some(quantity),
            unit_price_minor: Some(price),
        }
    }

    fn input(items: Vec<OrderItemInput>) -> OrderInput {
        OrderInput {
            items: Some(items),
            ..OrderInput::default()
        }
    }

    #[test]
    fn the_total_defaults_to_the_items_sum() {
        let order = input(vec![pizza(2, 8900), pizza(1, 3500)])
            .validate(now())
            .unwrap();
        assert_eq!(order.total_minor, 21_300);
        assert_eq!(order.placed_at, now());
    }

    #[test]
    fn a_given_total_wins_over_the_sum() {
        let mut order = input(vec![pizza(2, 8900)]);
        order.total_minor = Some(15_000);
        assert_eq!(order.validate(now()).unwrap().total_minor, 15_000);
        order.total_minor = Some(-1);
        assert_eq!(
            order.validate(now()).unwrap_err().fields()[0].field,
            "totalMinor"
        );
    }

    #[test]
    fn items_are_required_and_checked_one_by_one() {
        assert_eq!(
            OrderInput::default().validate(now()).unwrap_err().fields()[0].field,
            "items"
        );
        assert_eq!(
            input(vec![]).validate(now()).unwrap_err().fields()[0].field,
            "items"
        );
        let bad = OrderItemInput {
            product_id: None,
            category_id: None,
            quantity: Some(0),
            unit_price_minor: Some(-5),
            ..pizza(1, 1)
        };
        let errors = input(vec![pizza(1, 100), bad]).validate(now()).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[1].productId",
                "items[1].categoryId",
                "items[1].quantity",
                "items[1].unitPriceMinor"
            ]
        );
    }

    #[test]
    fn a_category_name_defaults_to_its_id() {
        let item = OrderItemInput {
            category_name: None,
            ..pizza(1, 100)
        };
        let order = input(vec![item]).validate(now()).unwrap();
        assert_eq!(order.items[0].category_name.as_deref(), Some("cat_p1z2a3"));
    }

    #[test]
    fn placed_at_is_rfc3339_and_not_in_the_future() {
        let mut order = input(vec![pizza(1, 100)]);
        order.placed_at = Some("2026-03-15T19:22:00.5+01:00".into());
        let valid = order.validate(now()).unwrap();
        assert_eq!(
            valid.placed_at,
            "2026-03-15T18:22:00.500Z".parse::<DateTime<Utc>>().unwrap()
        );
        order.placed_at = Some("2026-03-15T20:04:00Z".into());
        assert!(order.validate(now()).is_ok(), "a little clock skew is fine");
        order.placed_at = Some("2026-03-16T20:00:00Z".into());
        assert_eq!(
            order.validate(now()).unwrap_err().fields()[0].field,
            "placedAt"
        );
        order.placed_at = Some("yesterday".into());
        assert_eq!(
            order.validate(now()).unwrap_err().fields()[0].field,
            "placedAt"
        );
    }

    #[test]
    fn a_malformed_customer_id_names_the_field() {
        let mut order = input(vec![pizza(1, 100)]);
        order.customer_id = Some("maria".into());
        assert_eq!(
            order.validate(now()).unwrap_err().fields()[0].field,
            "customerId"
        );
    }

    #[test]
    fn the_largest_order_still_adds_up_without_overflow() {
        let largest = input(vec![pizza(MAX_QUANTITY, MAX_UNIT_PRICE_MINOR); MAX_ITEMS]);
        let total = largest.validate(now()).map(|o| o.total_minor);
        assert_eq!(
            total,
            Ok(MAX_ITEMS as i64 * MAX_QUANTITY * MAX_UNIT_PRICE_MINOR)
        );
        let too_many = input(vec![pizza(1, 1); MAX_ITEMS + 1]).validate(now());
        assert_eq!(
            too_many.map_err(|e| e.fields()[0].field.clone()),
            Err("items".into())
        );
    }

    #[test]
    fn the_stores_largest_order_bounds_the_total_and_the_items() {
        let mut order = input(vec![pizza(2, 8900), pizza(1, 3500)]);
        let valid = order.validate(now()).unwrap();
        assert_eq!(valid.items_total, 21_300);
        assert!(valid.check_limit(21_300).is_ok());
        let fields = |v: &ValidOrder, max| {
            v.check_limit(max)
                .unwrap_err()
                .fields()
                .iter()
                .map(|e| e.field.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&valid, 21_299), ["items"]);
        // A smaller total does not hide items worth more than the limit.
        order.total_minor = Some(100);
        let discounted = order.validate(now()).unwrap();
        assert_eq!(fields(&discounted, 21_299), ["items"]);
        order.total_minor = Some(i64::MAX);
        assert_eq!(
            fields(&order.validate(now()).unwrap(), 100_000_000),
            ["totalMinor"]
        );
        assert_eq!(
            fields(&order.validate(now()).unwrap(), 100),
            ["totalMinor", "items"]
        );
    }

    #[test]
    fn customer_totals_refuse_what_cannot_be_stored() {
        let totals = CustomerTotals {
            total_orders: 3,
            total_spent_minor: 1_000,
            loyalty_points: 10,
        };
        assert_eq!(
            totals.with_order(500, 5),
            Ok(CustomerTotals {
                total_orders: 4,
                total_spent_minor: 1_500,
                loyalty_points: 15,
            })
        );
        let near = CustomerTotals {
            total_spent_minor: i64::MAX - 10,
            ..totals
        };
        assert_eq!(near.with_order(11, 0), Err(TotalsOutOfRange));
        assert!(near.with_order(10, 0).is_ok());
        let rich = CustomerTotals {
            loyalty_points: i64::MAX,
            ..totals
        };
        assert_eq!(rich.with_order(1, 1), Err(TotalsOutOfRange));
        assert_eq!(
            totals.without_order(400, 4),
            CustomerTotals {
                total_orders: 2,
                total_spent_minor: 600,
                loyalty_points: 6,
            }
        );
        // Never below zero, even against inconsistent stored values.
        assert_eq!(
            CustomerTotals::default().without_order(i64::MAX, i64::MAX),
            CustomerTotals::default()
        );
    }

    #[test]
    fn points_are_earned_rounded_down() {
        assert_eq!(points_earned(24_560, 100), 245);
        assert_eq!(points_earned(99, 100), 0);
        assert_eq!(points_earned(1000, 1), 1000);
        assert_eq!(points_earned(0, 100), 0);
    }
}
