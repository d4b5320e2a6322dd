//! Reviews and the rules of moderating them.

use chrono::{DateTime, Utc};

use crate::ids::{CustomerId, OrderId, ReviewId, StoreId, UserId};
use crate::validation::{ValidationErrors, char_len, has_forbidden_controls};

/// Longest comment and response.
pub const MAX_TEXT: usize = 2000;

/// A rating: a whole number from 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    /// The lowest rating, 1.
    pub const MIN: u8 = 1;
    /// The highest rating, 5.
    pub const MAX: u8 = 5;

    /// Accepts a whole number from 1 to 5; the error is the message for the field.
    pub fn parse(value: i64) -> Result<Self, String> {
        u8::try_from(value)
            .ok()
            .filter(|v| (Self::MIN..=Self::MAX).contains(v))
            .map(Self)
            .ok_or_else(|| format!("must be a whole number from {} to {}", Self::MIN, Self::MAX))
    }

    /// Wraps a rating read back from storage, clamped into 1–5.
    pub fn from_stored(value: i64) -> Self {
        Self(value.clamp(i64::from(Self::MIN), i64::from(Self::MAX)) as u8)
    }

    /// The rating, 1–5.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// How a review is shown: approved by the store, public, featured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moderation {
    /// `isApproved`: the store has approved the review.
    pub is_approved: bool,
    /// `isPublic`: the review may be shown.
    pub is_public: bool,
    /// `isFeatured`: the review is highlighted; only while approved and public.
    pub is_featured: bool,
}

impl Moderation {
    /// A new review: not yet approved, public, not featured.
    pub const NEW: Moderation = Moderation {
        is_approved: false,
        is_public: true,
        is_featured: false,
    };
}

/// A moderation change: each field absent (unchanged) or set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModerationChange {
    /// `isApproved`, if sent.
    pub is_approved: Option<bool>,
    /// `isPublic`, if sent.
    pub is_public: Option<bool>,
    /// `isFeatured`, if sent.
    pub is_featured: Option<bool>,
}

/// Refused: only an approved, public review can be featured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("only an approved and public review can be featured")]
pub struct NotFeaturable;

impl Moderation {
    /// Applies a change. Featuring needs the result to be approved and public; un-approving or
    /// hiding a featured review un-features it.
    pub fn apply(self, change: ModerationChange) -> Result<Moderation, NotFeaturable> {
        let is_approved = change.is_approved.unwrap_or(self.is_approved);
        let is_public = change.is_public.unwrap_or(self.is_public);
        let showable = is_approved && is_public;
        let is_featured = match change.is_featured {
            Some(true) if !showable => return Err(NotFeaturable),
            Some(featured) => featured,
            None => self.is_featured && showable,
        };
        Ok(Moderation {
            is_approved,
            is_public,
            is_featured,
        })
    }
}

/// The store's answer to a review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewResponse {
    /// `responseText`, trimmed, 1–2000 characters.
    pub text: String,
    /// When the response was last written.
    pub responded_at: DateTime<Utc>,
    /// The staff user who wrote the latest response.
    pub responded_by: UserId,
}

/// Checks a response text: 1–2000 characters.
pub fn parse_response_text(text: Option<&str>) -> Result<String, ValidationErrors> {
    let field = "responseText";
    match text.map(str::trim) {
        None => Err(ValidationErrors::single(field, "is required")),
        Some("") => Err(ValidationErrors::single(field, "must not be empty")),
        Some(t) if char_len(t) > MAX_TEXT => Err(ValidationErrors::single(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        )),
        Some(t) if has_forbidden_controls(t, true) => Err(ValidationErrors::single(
            field,
            "must not contain control or invisible characters",
        )),
        Some(t) => Ok(t.to_owned()),
    }
}

/// A customer's review of one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// The review's id, `rev_` and a random part.
    pub id: ReviewId,
    /// The store of the order.
    pub store_id: StoreId,
    /// The order reviewed; it has no other review.
    pub order_id: OrderId,
    /// The order's customer; `None` when the order had none or the customer was erased.
    pub customer_id: Option<CustomerId>,
    /// The overall rating.
    pub rating: Rating,
    /// The food's rating, if given.
    pub food_rating: Option<Rating>,
    /// The delivery's rating, if given.
    pub delivery_rating: Option<Rating>,
    /// The packaging's rating, if given.
    pub packaging_rating: Option<Rating>,
    /// The customer's comment, trimmed, at most 2000 characters; `None` when absent or blank.
    pub comment: Option<String>,
    /// Approval, visibility and featuring.
    pub moderation: Moderation,
    /// The store's response, if any.
    pub response: Option<ReviewResponse>,
    /// When the review was created.
    pub created_at: DateTime<Utc>,
    /// Goes up with every change; guards moderation against lost updates.
    pub version: i64,
}

/// `POST /reviews` as it arrives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewInput {
    /// `orderId`, required: an order of the caller's store.
    pub order_id: Option<String>,
    /// `customerId`; when given, it must be the order's customer.
    pub customer_id: Option<String>,
    /// `rating`, required, 1–5.
    pub rating: Option<i64>,
    /// `foodRating`, 1–5.
    pub food_rating: Option<i64>,
    /// `deliveryRating`, 1–5.
    pub delivery_rating: Option<i64>,
    /// `packagingRating`, 1–5.
    pub packaging_rating: Option<i64>,
    /// `comment`, at most 2000 characters.
    pub comment: Option<String>,
}

/// A validated review input, before its order is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidReview {
    /// The order to review (not yet checked to exist).
    pub order_id: OrderId,
    /// The customer the caller named, if any.
    pub customer_id: Option<CustomerId>,
    /// The overall rating.
    pub rating: Rating,
    /// The food's rating, if given.
    pub food_rating: Option<Rating>,
    /// The delivery's rating, if given.
    pub delivery_rating: Option<Rating>,
    /// The packaging's rating, if given.
    pub packaging_rating: Option<Rating>,
    /// The comment, trimmed; `None` when absent or blank.
    pub comment: Option<String>,
}

impl ReviewInput {
    /// Checks every field, reporting all broken rules at once.
    pub fn validate(&self) -> Result<ValidReview, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let order_id = match self.order_id.as_deref() {
            None => {
                errors.add("orderId", "is required");
                None
            }
            Some(id) => {
                let parsed = OrderId::parse(id);
                if parsed.is_none() {
                    errors.add("orderId", "is not an order of this store");
                }
                parsed
            }
        };
        let customer_id = self.customer_id.as_deref().and_then(|id| {
            let parsed = CustomerId::parse(id);
            if parsed.is_none() {
                errors.add("customerId", "is not a customer of this store");
            }
            parsed
        });
        let rating = match self.rating {
            None => {
                errors.add("rating", "is required");
                None
            }
            Some(r) => errors.check("rating", Rating::parse(r)),
        };
        let mut optional = |field: &str, value: Option<i64>| {
            value.and_then(|r| errors.check(field, Rating::parse(r)))
        };
        let food_rating = optional("foodRating", self.food_rating);
        let delivery_rating = optional("deliveryRating", self.delivery_rating);
        let packaging_rating = optional("packagingRating", self.packaging_rating);
        let comment = match self.comment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if char_len(c) > MAX_TEXT => {
                errors.add("comment", format!("must be at most {MAX_TEXT} characters"));
                None
            }
            Some(c) if has_forbidden_controls(c, true) => {
                errors.add(
                    "comment",
                    "must not contain control or invisible characters",
                );
                None
            }
            Some(c) => Some(c.to_owned()),
        };
        match (order_id, rating) {
            (Some(order_id), Some(rating)) if errors.is_empty() => Ok(ValidReview {
                order_id,
                customer_id,
                rating,
                food_rating,
                delivery_rating,
                packaging_rating,
                comment,
            }),
            _ => Err(errors),
        }
    }
}

/// Filters of the review list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    /// Only approved (`true`) or not yet approved reviews.
    pub is_approved: Option<bool>,
    /// Only featured (`true`) or not featured reviews.
    pub is_featured: Option<bool>,
    /// Only reviews with (`true`) or without a response.
    pub has_response: Option<bool>,
    /// Only reviews rated at least this.
    pub min_rating: Option<Rating>,
    /// Only this customer's reviews.
    pub customer_id: Option<CustomerId>,
    /// Reviews created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Reviews created before this instant.
    pub created_before: Option<DateTime<Utc>>,
}

/// Aggregates of a store's reviews.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewStats {
    /// Number of reviews.
    pub total: i64,
    /// Count per rating, index 0 for 1 star … index 4 for 5 stars.
    pub distribution: [i64; 5],
    /// Number of approved reviews.
    pub approved: i64,
}

impl ReviewStats {
    /// Number of reviews not approved yet.
    pub fn pending(&self) -> i64 {
        self.total - self.approved
    }

    /// Counts a stored review of `rating`, approved or not.
    pub fn add(&mut self, rating: Rating, approved: bool) {
        self.total += 1;
        self.distribution[usize::from(rating.value() - 1)] += 1;
        self.approved += i64::from(approved);
    }

    /// Takes a deleted review of `rating`, approved or not, out of the counts.
    pub fn remove(&mut self, rating: Rating, approved: bool) {
        self.total -= 1;
        self.distribution[usize::from(rating.value() - 1)] -= 1;
        self.approved -= i64::from(approved);
    }

    /// A review's approval set from `was` to `now` (moderation changes nothing else counted).
    pub fn reapprove(&mut self, was: bool, now: bool) {
        self.approved += i64::from(now) - i64::from(was);
    }

    /// The statistics of these reviews, counted afresh.
    pub fn count<'a>(reviews: impl IntoIterator<Item = &'a Review>) -> Self {
        let mut stats = Self::default();
        for review in reviews {
            stats.add(review.rating, review.moderation.is_approved);
        }
        stats
    }

    /// The mean rating rounded to one decimal (halves away from zero); `None` without reviews.
    pub fn average(&self) -> Option<f64> {
        if self.total <= 0 {
            return None;
        }
        let sum: i64 = self
            .distribution
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1) * n)
            .sum();
        // Tenths, rounded half away from zero in integers (no float rounding surprises).
        let tenths = (sum * 20 + self.total) / (2 * self.total);
        Some(tenths as f64 / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(a: Option<bool>, p: Option<bool>, f: Option<bool>) -> ModerationChange {
        ModerationChange {
            is_approved: a,
            is_public: p,
            is_featured: f,
        }
    }

    #[test]
    fn counts_move_with_each_review_write() {
        let rating = |n| Rating::parse(n).unwrap();
        let mut stats = ReviewStats::default();
        stats.add(rating(4), true);
        stats.add(rating(1), false);
        stats.add(rating(4), false);
        assert_eq!(
            stats,
            ReviewStats {
                total: 3,
                distribution: [1, 0, 0, 2, 0],
                approved: 1
            }
        );
        stats.reapprove(false, true);
        stats.reapprove(true, true);
        assert_eq!((stats.approved, stats.pending()), (2, 1));
        stats.remove(rating(4), true);
        assert_eq!(
            stats,
            ReviewStats {
                total: 2,
                distribution: [1, 0, 0, 1, 0],
                approved: 1
            }
        );
    }

    #[test]
    fn ratings_are_one_to_five() {
        for ok in 1..=5 {
            assert_eq!(Rating::parse(ok).unwrap().value() as i64, ok);
        }
        for bad in [0, 6, -1, 256, i64::MAX] {
            assert!(Rating::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_reviews_wait_for_approval_in_public() {
        assert_eq!(
            Moderation::NEW,
            Moderation {
                is_approved: false,
                is_public: true,
                is_featured: false
            }
        );
    }

    #[test]
    fn only_approved_public_reviews_can_be_featured() {
        let new = Moderation::NEW;
        assert_eq!(
            new.apply(change(None, None, Some(true))),
            Err(NotFeaturable)
        );
        let featured = new.apply(change(Some(true), None, Some(true))).unwrap();
        assert!(featured.is_featured);
        let hidden = Moderation {
            is_approved: true,
            is_public: false,
            is_featured: false,
        };
        assert_eq!(
            hidden.apply(change(None, None, Some(true))),
            Err(NotFeaturable)
        );
        assert_eq!(
            featured.apply(change(None, Some(false), Some(true))),
            Err(NotFeaturable)
        );
    }

    #[test]
    fn unapproving_or_hiding_unfeatures() {
        let featured = Moderation {
            is_approved: true,
            is_public: true,
            is_featured: true,
        };
        let unapproved = featured.apply(change(Some(false), None, None)).unwrap();
        assert_eq!(
            unapproved,
            Moderation {
                is_approved: false,
                is_public: true,
                is_featured: false
            }
        );
        let hidden = featured.apply(change(None, Some(false), None)).unwrap();
        assert_eq!(
            hidden,
            Moderation {
                is_approved: true,
                is_public: false,
                is_featured: false
            }
        );
        assert_eq!(
            featured.apply(ModerationChange::default()).unwrap(),
            featured
        );
        let unfeatured = featured.apply(change(None, None, Some(false))).unwrap();
        assert!(!unfeatured.is_featured && unfeatured.is_approved);
    }

    #[test]
    fn a_review_needs_an_order_and_a_rating() {
        let errors = ReviewInput::default().validate().unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderId", "rating"]);
        let input = ReviewInput {
            order_id: Some("ord_v7k3m9n2v7k3".into()),
            customer_id: Some("nope".into()),
            rating: Some(6),
            food_rating: Some(0),
            delivery_rating: Some(4),
            packaging_rating: Some(9),
            comment: Some("c".repeat(2001)),
        };
        let errors = input.validate().unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "customerId",
                "rating",
                "foodRating",
                "packagingRating",
                "comment"
            ]
        );
    }

    #[test]
    fn a_valid_review_keeps_its_ratings_and_trimmed_comment() {
        let input = ReviewInput {
            order_id: Some("ord_v7k3m9n2v7k3".into()),
            rating: Some(5),
            food_rating: Some(5),
            delivery_rating: Some(4),
            comment: Some(" Amazing pizza ".into()),
            ..ReviewInput::default()
        };
        let valid = input.validate().unwrap();
        assert_eq!(valid.rating.value(), 5);
        assert_eq!(valid.packaging_rating, None);
        assert_eq!(valid.comment.as_deref(), Some("Amazing pizza"));
    }

    #[test]
    fn responses_are_one_to_two_thousand_characters() {
        assert_eq!(
            parse_response_text(Some(" Thank you ")).unwrap(),
            "Thank you"
        );
        assert!(parse_response_text(None).is_err());
        assert!(parse_response_text(Some("  ")).is_err());
        assert!(parse_response_text(Some(&"x".repeat(2001))).is_err());
        assert!(parse_response_text(Some(&"x".repeat(2000))).is_ok());
    }

    #[test]
    fn the_average_has_one_decimal_and_none_without_reviews() {
        assert_eq!(ReviewStats::default().average(), None);
        let seed = ReviewStats {
            total: 156,
            distribution: [3, 8, 21, 52, 72],
            approved: 142,
        };
        assert_eq!(seed.average(), Some(4.2));
        assert_eq!(seed.pending(), 14);
        let halves = ReviewStats {
            total: 4,
            distribution: [0, 0, 2, 2, 0],
            approved: 0,
        };
        assert_eq!(halves.average(), Some(3.5));
        let round_up = ReviewStats {
            total: 20,
            distribution: [0, 0, 0, 19, 1],
            approved: 0,
        };
        assert_eq!(round_up.average(), Some(4.1), "4.05 rounds away from zero");
    }
}
