//! Loyalty points: the ledger, its rules and its use cases.

mod error;
mod ledger;
pub mod ports;
mod service;

pub use error::LoyaltyError;
pub use ledger::{
    Adjustment, InsufficientPoints, Ledger, LedgerEntry, LedgerSource, MAX_ADJUSTMENT, MAX_REASON,
    apply, balances_that_take, cancel_take_back, check_balance,
};
pub use ports::LoyaltyRepository;
pub use service::{AdjustOutcome, LoyaltyPage, LoyaltyService};
