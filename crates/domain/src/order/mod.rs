//! Orders (what the customer bought) and the analytics read from them.

mod analytics;
mod model;
mod service;

pub use analytics::{
    CustomerAnalytics, ItemLine, Ranked, TOP, average_order, rank, top_products_and_categories,
};
pub use model::{
    CustomerTotals, DEFAULT_MAX_ORDER_MINOR, MAX_ITEMS, MAX_QUANTITY, MAX_TEXT,
    MAX_UNIT_PRICE_MINOR, Order, OrderInput, OrderItem, OrderItemInput, OrderStatus,
    TotalsOutOfRange, ValidOrder, points_earned,
};
pub use service::{OrderError, OrderService, READ_ORDER, Recorded};
