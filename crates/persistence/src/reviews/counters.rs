//! A store's review counters (`review_stats`): how a write moves them, and which list totals
//! they answer without counting rows.

use customers_domain::review::{Rating, ReviewFilter, ReviewStats};
use diesel::{ExpressionMethods, QueryDsl};

use crate::schema::review_stats;

/// Inserts the store's counter row (all zeros). The row may exist: add
/// `.on_conflict_do_nothing()` (whose statement type diesel does not name).
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn open_counters<'a>(store: &'a str) -> _ {
    diesel::dsl::insert_into(review_stats::table).values(review_stats::store_id.eq(store))
}

/// Adds `change` (what a review write moves, as [`ReviewStats`]'s own rules count it: see
/// `ReviewStats::added`) to the store's counter row (which must exist). On PostgreSQL
/// the row stays locked until the transaction ends: the store's review writes take turns here,
/// so each should come to it last.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn change_counters<'a>(store: &'a str, change: ReviewStats) -> _ {
    let total: i64 = change.total;
    let rated_1: i64 = change.distribution[0];
    let rated_2: i64 = change.distribution[1];
    let rated_3: i64 = change.distribution[2];
    let rated_4: i64 = change.distribution[3];
    let rated_5: i64 = change.distribution[4];
    let approved: i64 = change.approved;
    diesel::dsl::update(review_stats::table.find(store)).set((
        review_stats::total.eq(review_stats::total + total),
        review_stats::rated_1.eq(review_stats::rated_1 + rated_1),
        review_stats::rated_2.eq(review_stats::rated_2 + rated_2),
        review_stats::rated_3.eq(review_stats::rated_3 + rated_3),
        review_stats::rated_4.eq(review_stats::rated_4 + rated_4),
        review_stats::rated_5.eq(review_stats::rated_5 + rated_5),
        review_stats::approved.eq(review_stats::approved + approved),
    ))
}

/// A list total the counters hold: filters on approval alone or on the minimum rating alone
/// (or none). Any other filter is counted row by row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tally {
    All,
    Approved(bool),
    AtLeast(Rating),
}

impl Tally {
    /// The tally that answers this filter's total, if one does.
    pub(super) fn of(filter: &ReviewFilter) -> Option<Tally> {
        // Spelled out, so that a new filter cannot be forgotten here.
        let ReviewFilter {
            is_approved,
            is_featured,
            has_response,
            min_rating,
            customer_id,
            created_from,
            created_before,
        } = filter;
        let others_unset = is_featured.is_none()
            && has_response.is_none()
            && customer_id.is_none()
            && created_from.is_none()
            && created_before.is_none();
        match (is_approved, min_rating) {
            _ if !others_unset => None,
            (None, None) => Some(Tally::All),
            (Some(approved), None) => Some(Tally::Approved(*approved)),
            (None, Some(rating)) => Some(Tally::AtLeast(*rating)),
            (Some(_), Some(_)) => None,
        }
    }

    pub(super) fn read(self, stats: &ReviewStats) -> i64 {
        match self {
            Tally::All => stats.total,
            Tally::Approved(true) => stats.approved,
            Tally::Approved(false) => stats.total - stats.approved,
            Tally::AtLeast(rating) => stats.distribution[usize::from(rating.value() - 1)..]
                .iter()
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::ids::CustomerId;

    fn rating(n: i64) -> Rating {
        Rating::parse(n).unwrap()
    }

    #[test]
    fn tallies_answer_single_filters_only() {
        let empty = ReviewFilter::default();
        assert_eq!(Tally::of(&empty), Some(Tally::All));
        let approved = ReviewFilter {
            is_approved: Some(false),
            ..ReviewFilter::default()
        };
        assert_eq!(Tally::of(&approved), Some(Tally::Approved(false)));
        let good = ReviewFilter {
            min_rating: Some(rating(4)),
            ..ReviewFilter::default()
        };
        assert_eq!(Tally::of(&good), Some(Tally::AtLeast(rating(4))));
        let both = ReviewFilter {
            is_approved: Some(true),
            min_rating: Some(rating(4)),
            ..ReviewFilter::default()
        };
        assert_eq!(Tally::of(&both), None);
        let customer = ReviewFilter {
            customer_id: CustomerId::parse("cust_000000000001"),
            ..ReviewFilter::default()
        };
        assert_eq!(Tally::of(&customer), None);
        let featured = ReviewFilter {
            is_featured: Some(false),
            ..ReviewFilter::default()
        };
        assert_eq!(Tally::of(&featured), None);
    }

    #[test]
    fn tallies_read_the_counters() {
        let stats = ReviewStats {
            total: 156,
            distribution: [3, 8, 21, 52, 72],
            approved: 142,
        };
        assert_eq!(Tally::All.read(&stats), 156);
        assert_eq!(Tally::Approved(true).read(&stats), 142);
        assert_eq!(Tally::Approved(false).read(&stats), 14);
        assert_eq!(Tally::AtLeast(rating(1)).read(&stats), 156);
        assert_eq!(Tally::AtLeast(rating(4)).read(&stats), 124);
        assert_eq!(Tally::AtLeast(rating(5)).read(&stats), 72);
    }
}
