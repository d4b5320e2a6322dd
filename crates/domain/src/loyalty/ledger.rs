//! The loyalty ledger: append-only entries whose deltas always sum to the balance, which never
//! drops below zero.

use chrono::{DateTime, Utc};

use crate::audit::Actor;
use crate::ids::{CustomerId, LedgerEntryId, OrderId, StoreId};
use crate::loyalty::error::LoyaltyError;
use crate::validation::{ValidationErrors, char_len, has_forbidden_controls};

/// Largest manual adjustment, either way.
pub const MAX_ADJUSTMENT: i64 = 1_000_000;
/// Longest reason.
pub const MAX_REASON: usize = 500;

/// Why the balance moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerSource {
    /// `manual`: an adjustment by hand.
    Manual,
    /// `order`: points a recorded order earned.
    Order,
    /// `order_cancel`: points taken back when their order was cancelled.
    OrderCancel,
}

impl LedgerSource {
    /// The API and storage name: `manual`, `order` or `order_cancel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Order => "order",
            Self::OrderCancel => "order_cancel",
        }
    }

    /// The source stored as `s`; `None` for an unknown name.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Self::Manual),
            "order" => Some(Self::Order),
            "order_cancel" => Some(Self::OrderCancel),
            _ => None,
        }
    }
}

/// One entry of a customer's ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entry's id, `loy_` and a random part.
    pub id: LedgerEntryId,
    /// The store of the customer.
    pub store_id: StoreId,
    /// Whose balance moved.
    pub customer_id: CustomerId,
    /// Points added (positive) or taken (negative); never zero.
    pub delta: i64,
    /// The balance right after this entry, never below zero.
    pub balance_after: i64,
    /// Why: the adjuster's text (1–500 characters), or `Order recorded` / `Order cancelled`.
    pub reason: String,
    /// What moved the balance.
    pub source: LedgerSource,
    /// The order that earned or lost the points; `None` for manual entries.
    pub order_id: Option<OrderId>,
    /// The staff user or API key whose request wrote the entry: the adjuster, or who recorded
    /// or cancelled the order. `None` for entries written before actors were recorded.
    pub actor: Option<Actor>,
    /// When the entry was written.
    pub created_at: DateTime<Utc>,
}

impl LedgerEntry {
    /// The balance just before this entry.
    pub fn balance_before(&self) -> i64 {
        self.balance_after - self.delta
    }
}

/// A validated manual adjustment: a non-zero delta of at most a million points either way,
/// and a reason of 1–500 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    /// Points to add (positive) or deduct (negative), 1 to [`MAX_ADJUSTMENT`] either way.
    pub delta: i64,
    /// Why, trimmed, 1–[`MAX_REASON`] characters.
    pub reason: String,
}

impl Adjustment {
    /// Checks `delta` and `reason` as sent, reporting both when both break their rules.
    pub fn parse(delta: Option<i64>, reason: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match delta {
            None => errors.add("delta", "is required"),
            Some(0) => errors.add("delta", "must not be zero"),
            Some(d) if d.unsigned_abs() > MAX_ADJUSTMENT as u64 => errors.add(
                "delta",
                format!("must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}"),
            ),
            Some(_) => {}
        }
        let reason = reason.map(str::trim);
        match reason {
            None => errors.add("reason", "is required"),
            Some("") => errors.add("reason", "must not be empty"),
            Some(r) if char_len(r) > MAX_REASON => {
                errors.add("reason", format!("must be at most {MAX_REASON} characters"))
            }
            Some(r) if has_forbidden_controls(r, true) => {
                errors.add("reason", "must not contain control or invisible characters")
            }
            Some(_) => {}
        }
        errors.into_result(|| Self {
            delta: delta.unwrap_or_default(),
            reason: reason.unwrap_or_default().to_owned(),
        })
    }
}

/// Refused: the balance would drop below zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the balance of {balance} cannot take {delta}")]
pub struct InsufficientPoints {
    /// The balance before.
    pub balance: i64,
    /// The change that was refused.
    pub delta: i64,
}

/// The balance after `delta`, unless it would be negative (or overflow).
pub fn apply(balance: i64, delta: i64) -> Result<i64, InsufficientPoints> {
    balance
        .checked_add(delta)
        .filter(|after| *after >= 0)
        .ok_or(InsufficientPoints { balance, delta })
}

/// The balance after `delta`, or why it cannot take it: below zero is
/// [`LoyaltyError::InsufficientPoints`], past the largest storable number
/// [`LoyaltyError::PointsOutOfRange`].
pub fn check_balance(balance: i64, delta: i64) -> Result<i64, LoyaltyError> {
    match balance.checked_add(delta) {
        None if delta > 0 => Err(LoyaltyError::PointsOutOfRange),
        None => Err(LoyaltyError::InsufficientPoints { balance }),
        Some(after) if after < 0 => Err(LoyaltyError::InsufficientPoints { balance }),
        Some(after) => Ok(after),
    }
}

/// The balances that can take `delta` without dropping below zero or overflowing, as an
/// inclusive range (empty, `lowest > highest`, when none can): what a conditional update may
/// compare against without computing a sum that could overflow.
pub fn balances_that_take(delta: i64) -> (i64, i64) {
    match delta.checked_neg() {
        None => (1, 0),
        Some(negated) => (
            negated.max(0),
            if delta > 0 {
                i64::MAX - delta
            } else {
                i64::MAX
            },
        ),
    }
}

/// What cancelling an order takes back: what it earned, but never more than the balance.
pub fn cancel_take_back(balance: i64, earned: i64) -> i64 {
    earned.clamp(0, balance.max(0))
}

/// A ledger in memory: the rules applied in order, for reasoning and tests. The database keeps
/// the same invariant with conditional updates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    deltas: Vec<i64>,
    balance: i64,
}

impl Ledger {
    /// The current balance: the sum of the deltas.
    pub fn balance(&self) -> i64 {
        self.balance
    }

    /// Every change so far, oldest first.
    pub fn deltas(&self) -> &[i64] {
        &self.deltas
    }

    /// A manual adjustment; refused entirely when it would go below zero.
    pub fn adjust(&mut self, delta: i64) -> Result<i64, InsufficientPoints> {
        let after = apply(self.balance, delta)?;
        self.record(delta, after);
        Ok(after)
    }

    /// Points an order earned.
    pub fn earn(&mut self, points: i64) -> i64 {
        if points > 0 {
            let after = self.balance.saturating_add(points);
            self.record(after - self.balance, after);
        }
        self.balance
    }

    /// Takes back what a cancelled order earned, never below zero; returns what was taken.
    pub fn take_back(&mut self, earned: i64) -> i64 {
        let taken = cancel_take_back(self.balance, earned);
        if taken > 0 {
            self.record(-taken, self.balance - taken);
        }
        taken
    }

    fn record(&mut self, delta: i64, after: i64) {
        self.deltas.push(delta);
        self.balance = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn adjustments_need_a_nonzero_bounded_delta_and_a_reason() {
        assert!(Adjustment::parse(Some(500), Some("Compensation for late delivery")).is_ok());
        assert!(Adjustment::parse(Some(-1_000_000), Some("x")).is_ok());
        let fields = |d, r| {
            Adjustment::parse(d, r)
                .unwrap_err()
                .fields()
                .iter()
                .map(|e| e.field.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(Some(0), Some("x")), ["delta"]);
        assert_eq!(fields(Some(1_000_001), Some("x")), ["delta"]);
        assert_eq!(fields(Some(i64::MIN), Some("x")), ["delta"]);
        assert_eq!(fields(None, None), ["delta", "reason"]);
        assert_eq!(fields(Some(5), Some("  ")), ["reason"]);
        assert_eq!(fields(Some(5), Some(&"r".repeat(501))), ["reason"]);
        assert_eq!(
            Adjustment::parse(Some(5), Some(" late ")).unwrap().reason,
            "late"
        );
    }

    #[test]
    fn a_balance_never_goes_below_zero() {
        assert_eq!(apply(2450, 500), Ok(2950));
        assert_eq!(apply(100, -100), Ok(0));
        assert_eq!(
            apply(100, -101),
            Err(InsufficientPoints {
                balance: 100,
                delta: -101
            })
        );
        assert!(apply(i64::MAX, 1).is_err());
    }

    #[test]
    fn a_balance_that_would_overflow_is_told_from_one_too_small() {
        assert_eq!(check_balance(10, -5).ok(), Some(5));
        assert!(matches!(
            check_balance(10, -11),
            Err(LoyaltyError::InsufficientPoints { balance: 10 })
        ));
        assert_eq!(check_balance(i64::MAX - 5, 5).ok(), Some(i64::MAX));
        assert!(matches!(
            check_balance(i64::MAX - 5, 6),
            Err(LoyaltyError::PointsOutOfRange)
        ));
        assert_eq!(balances_that_take(5), (0, i64::MAX - 5));
        assert_eq!(balances_that_take(-5), (5, i64::MAX));
        let (lowest, highest) = balances_that_take(i64::MIN);
        assert!(lowest > highest, "no balance takes i64::MIN");
    }

    #[test]
    fn a_cancel_takes_back_at_most_the_balance() {
        assert_eq!(cancel_take_back(500, 200), 200);
        assert_eq!(cancel_take_back(150, 200), 150);
        assert_eq!(cancel_take_back(0, 200), 0);
        assert_eq!(cancel_take_back(100, 0), 0);
    }

    #[test]
    fn sources_round_trip() {
        for source in [
            LedgerSource::Manual,
            LedgerSource::Order,
            LedgerSource::OrderCancel,
        ] {
            assert_eq!(LedgerSource::from_stored(source.as_str()), Some(source));
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Adjust(i64),
        Earn(i64),
        TakeBack(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (-MAX_ADJUSTMENT..=MAX_ADJUSTMENT)
                .prop_filter("an adjustment moves the balance", |delta| *delta != 0)
                .prop_map(Op::Adjust),
            (0i64..100_000).prop_map(Op::Earn),
            (0i64..100_000).prop_map(Op::TakeBack),
        ]
    }

    proptest! {
        #[test]
        fn balance_is_the_sum_of_deltas_and_never_negative(ops in prop::collection::vec(op(), 0..200)) {
            let mut ledger = Ledger::default();
            for op in ops {
                let before = ledger.balance();
                match op {
                    Op::Adjust(delta) => match ledger.adjust(delta) {
                        Ok(after) => prop_assert_eq!(after, before + delta),
                        Err(_) => {
                            prop_assert!(before + delta < 0);
                            prop_assert_eq!(ledger.balance(), before, "a refused adjustment writes nothing");
                        }
                    },
                    Op::Earn(points) => { ledger.earn(points); }
                    Op::TakeBack(earned) => {
                        let taken = ledger.take_back(earned);
                        prop_assert!(taken <= earned && taken <= before);
                    }
                }
                prop_assert!(ledger.balance() >= 0);
                prop_assert_eq!(ledger.balance(), ledger.deltas().iter().sum::<i64>());
                prop_assert!(ledger.deltas().iter().all(|d| *d != 0), "no empty entries");
            }
        }
    }
}
