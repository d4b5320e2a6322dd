//! Reviews of orders: their rules, moderation, the store's responses and statistics.

mod error;
mod model;
pub mod ports;
mod service;

pub use error::ReviewError;
pub use model::{
    MAX_TEXT, Moderation, ModerationChange, NotFeaturable, Rating, Review, ReviewFilter,
    ReviewInput, ReviewResponse, ReviewStats, ValidReview, parse_response_text,
};
pub use ports::ReviewRepository;
pub use service::{ReviewListParams, ReviewService};
