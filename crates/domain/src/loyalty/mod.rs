//! Loyalty points: the ledger and its use cases.

mod ledger;
mod service;

pub use ledger::{
    Adjustment, BalanceRefusal, InsufficientPoints, Ledger, LedgerEntry, LedgerSource,
    MAX_ADJUSTMENT, MAX_REASON, apply, balances_that_take, cancel_take_back, check_balance,
};
pub use service::{AdjustOutcome, LoyaltyError, LoyaltyPage, LoyaltyService};
