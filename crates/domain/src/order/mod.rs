//! Orders (what the customer bought), the points they earn, and the analytics read from them.

mod analytics;
mod effect;
mod error;
mod model;
pub mod ports;
mod service;

pub use analytics::{
    CustomerAnalytics, ItemLine, Ranked, TOP, average_order, rank, top_products_and_categories,
};
pub use effect::{Cancellation, CustomerAccount, EARN_REASON, OrderEffect, TAKE_BACK_REASON};
pub use error::OrderError;
pub use model::{
    CustomerTotals, DEFAULT_MAX_ORDER_MINOR, MAX_ITEMS, MAX_QUANTITY, MAX_TEXT,
    MAX_UNIT_PRICE_MINOR, Order, OrderInput, OrderItem, OrderItemInput, OrderStatus, Recorded,
    TotalsOutOfRange, ValidOrder, points_earned,
};
pub use ports::OrderRepository;
pub use service::OrderService;
