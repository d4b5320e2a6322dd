//! Orders (what the customer bought) and the analytics read from them.

mod analytics;
mod model;
mod service;

pub use analytics::{
    CustomerAnalytics, ItemLine, Ranked, TOP, average_order, rank, top_products_and_categories,
};
pub use model::{
    MAX_ITEMS, Order, OrderInput, OrderItem, OrderItemInput, OrderStatus, ValidOrder, points_earned,
};
pub use service::{OrderError, OrderService, Recorded};
