//! Property tests of the arithmetic behind a customer's totals and points: no sequence of
//! orders, cancels and adjustments, however large, produces an arithmetic error. Every value
//! the service would store is checked against an exact (`i128`) model; what cannot be stored
//! is refused by the domain's rules, never discovered by the database.
//!
//! A panic here (an overflow in a debug build) or a disagreement with the model fails the test.

use chrono::{DateTime, Utc};
use customers_domain::loyalty::{
    LoyaltyError, MAX_ADJUSTMENT, balances_that_take, cancel_take_back, check_balance,
};
use customers_domain::order::{
    CustomerTotals, MAX_ITEMS, OrderInput, OrderItemInput, TotalsOutOfRange, points_earned,
};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    "2026-03-15T10:00:00Z".parse().unwrap()
}

#[derive(Clone, Debug)]
enum Op {
    Order {
        lines: usize,
        quantity: i64,
        unit_price_minor: i64,
        total_minor: Option<i64>,
    },
    Cancel(usize),
    Adjust(i64),
}

/// Mostly ordinary numbers, often the extremes.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0i64..100_000,
        2 => any::<i64>(),
        2 => (0i64..1_000).prop_map(|d| i64::MAX - d),
        1 => (0i64..1_000).prop_map(|d| i64::MIN + d),
        1 => Just(1_000_000_000),
        1 => Just(100_000),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..=3, amount(), amount(), proptest::option::of(amount())).prop_map(
            |(lines, quantity, unit_price_minor, total_minor)| Op::Order {
                lines: if lines == 3 { MAX_ITEMS } else { lines },
                quantity,
                unit_price_minor,
                total_minor,
            }
        ),
        2 => (0usize..64).prop_map(Op::Cancel),
        2 => (-MAX_ADJUSTMENT..=MAX_ADJUSTMENT).prop_map(Op::Adjust),
    ]
}

/// A store's largest order: the default, or anything up to `i64::MAX`.
fn max_order() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(100_000_000),
        1i64..1_000_000,
        (0i64..1_000).prop_map(|d| i64::MAX - d),
        1i64..=i64::MAX,
    ]
}

struct Recorded {
    total: i64,
    points: i64,
    cancelled: bool,
}

struct Model {
    totals: CustomerTotals,
    orders: Vec<Recorded>,
    /// Every ledger delta, exactly.
    ledger: Vec<i128>,
}

impl Model {
    fn check(&self) -> Result<(), TestCaseError> {
        let live = self.orders.iter().filter(|o| !o.cancelled);
        let spent: i128 = live.clone().map(|o| i128::from(o.total)).sum();
        prop_assert!(self.totals.total_orders >= 0);
        prop_assert!(self.totals.total_spent_minor >= 0);
        prop_assert!(self.totals.loyalty_points >= 0);
        prop_assert_eq!(i128::from(self.totals.total_spent_minor), spent);
        prop_assert_eq!(self.totals.total_orders as usize, live.count());
        prop_assert_eq!(
            i128::from(self.totals.loyalty_points),
            self.ledger.iter().sum::<i128>()
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn no_sequence_of_valid_requests_breaks_the_arithmetic(
        max_order_minor in max_order(),
        minor_units_per_point in prop_oneof![Just(1i64), 1i64..=1_000_000],
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let mut model = Model {
            totals: CustomerTotals::default(),
            orders: Vec::new(),
            ledger: Vec::new(),
        };
        for op in ops {
            match op {
                Op::Order { lines, quantity, unit_price_minor, total_minor } => {
                    let item = OrderItemInput {
                        product_id: Some("p".into()),
                        product_name: Some("Pizza".into()),
                        quantity: Some(quantity),
                        unit_price_minor: Some(unit_price_minor),
                        ..OrderItemInput::default()
                    };
                    let input = OrderInput {
                        customer_id: Some("cust_000000000001".into()),
                        items: Some(vec![item; lines]),
                        total_minor,
                        ..OrderInput::default()
                    };
                    // A refusal here is a 422 naming a field.
                    let Ok(valid) = input.validate(now()) else { continue };
                    prop_assert_eq!(
                        i128::from(valid.items_total),
                        lines as i128 * i128::from(quantity) * i128::from(unit_price_minor)
                    );
                    if valid.check_limit(max_order_minor).is_err() {
                        prop_assert!(valid.total_minor > max_order_minor || valid.items_total > max_order_minor);
                        continue;
                    }
                    let points = points_earned(valid.total_minor, minor_units_per_point);
                    prop_assert!((0..=valid.total_minor).contains(&points));
                    match model.totals.with_order(valid.total_minor, points) {
                        Ok(after) => {
                            model.totals = after;
                            model.orders.push(Recorded { total: valid.total_minor, points, cancelled: false });
                            if points > 0 {
                                model.ledger.push(i128::from(points));
                            }
                        }
                        Err(TotalsOutOfRange) => {
                            let max = i128::from(i64::MAX);
                            prop_assert!(
                                i128::from(model.totals.total_spent_minor) + i128::from(valid.total_minor) > max
                                    || i128::from(model.totals.loyalty_points) + i128::from(points) > max
                            );
                        }
                    }
                }
                Op::Cancel(i) => {
                    let Some(order) = model.orders.get_mut(i) else { continue };
                    if order.cancelled {
                        continue;
                    }
                    order.cancelled = true;
                    let taken = cancel_take_back(model.totals.loyalty_points, order.points);
                    prop_assert!(taken <= order.points);
                    model.totals = model.totals.without_order(order.total, taken);
                    if taken > 0 {
                        model.ledger.push(-i128::from(taken));
                    }
                }
                Op::Adjust(delta) => {
                    if delta == 0 {
                        continue;
                    }
                    let balance = model.totals.loyalty_points;
                    let exact = i128::from(balance) + i128::from(delta);
                    let (lowest, highest) = balances_that_take(delta);
                    match check_balance(balance, delta) {
                        Ok(after) => {
                            prop_assert_eq!(i128::from(after), exact);
                            prop_assert!((lowest..=highest).contains(&balance));
                            model.totals.loyalty_points = after;
                            model.ledger.push(i128::from(delta));
                        }
                        Err(LoyaltyError::InsufficientPoints { .. }) => {
                            prop_assert!(exact < 0);
                            prop_assert!(!(lowest..=highest).contains(&balance));
                        }
                        Err(LoyaltyError::PointsOutOfRange) => {
                            prop_assert!(exact > i128::from(i64::MAX));
                            prop_assert!(!(lowest..=highest).contains(&balance));
                        }
                        Err(other) => prop_assert!(false, "unexpected refusal {other:?}"),
                    }
                }
            }
            model.check()?;
        }
    }

    #[test]
    fn the_balances_that_take_a_delta_are_exactly_those_that_can(
        balance in prop_oneof![0i64..10_000_000, (0i64..10_000_000).prop_map(|d| i64::MAX - d), 0i64..=i64::MAX],
        delta in prop_oneof![-MAX_ADJUSTMENT..=MAX_ADJUSTMENT, any::<i64>()],
    ) {
        let (lowest, highest) = balances_that_take(delta);
        prop_assert_eq!((lowest..=highest).contains(&balance), check_balance(balance, delta).is_ok());
    }
}
