//! Loyalty points: the ledger and its use cases.

mod ledger;
mod service;

pub use ledger::{
    Adjustment, InsufficientPoints, Ledger, LedgerEntry, LedgerSource, MAX_ADJUSTMENT, MAX_REASON,
    apply, cancel_take_back,
};
pub use service::{AdjustOutcome, LoyaltyError, LoyaltyPage, LoyaltyService};
