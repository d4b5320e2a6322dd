//! Reviews of orders: their rules, moderation, the store's responses and statistics.

mod model;
mod service;

pub use model::{
    MAX_TEXT, Moderation, ModerationChange, NotFeaturable, Rating, Review, ReviewFilter,
    ReviewInput, ReviewResponse, ReviewStats, ValidReview, parse_response_text,
};
pub use service::{ReviewError, ReviewListParams, ReviewService};
