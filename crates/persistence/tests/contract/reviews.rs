//! Reviews: round trips, one per order, tenancy, the list against a model, moderation,
//! responses, deletion, erased customers, and counters that always equal a recount.

use std::collections::BTreeMap;

use crate::backend::Backend;
use crate::backend::Repositories;
use chrono::{DateTime, Utc};
use customers_domain::customer::CustomerRepository;
use customers_domain::ids::{CustomerId, OrderId, ReviewId, StoreId, UserId};
use customers_domain::keyset::{Position, Seek, Travel};
use customers_domain::order::Order;
use customers_domain::order::OrderRepository;
use customers_domain::page::PageRequest;
use customers_domain::review::{
    Moderation, Rating, Review, ReviewFilter, ReviewResponse, ReviewStats,
};
use customers_domain::review::{ReviewError, ReviewRepository};

use crate::support::{at, audit, new_customer, new_id, new_store, record, simple_order};

fn rating(n: i64) -> Rating {
    Rating::parse(n).expect("a rating from 1 to 5")
}

fn review_id() -> ReviewId {
    ReviewId::from_stored(new_id("rev"))
}

fn user_id() -> UserId {
    UserId::from_stored(new_id("usr"))
}

const APPROVED: Moderation = Moderation {
    is_approved: true,
    is_public: true,
    is_featured: false,
};

const FEATURED: Moderation = Moderation {
    is_approved: true,
    is_public: true,
    is_featured: true,
};

/// A new review (as the service makes one) of `order`, by the order's customer.
fn review_of(order: &Order, stars: i64, minutes: i64) -> Review {
    Review {
        id: review_id(),
        store_id: order.store_id.clone(),
        order_id: order.id.clone(),
        customer_id: order.customer_id.clone(),
        rating: rating(stars),
        food_rating: None,
        delivery_rating: None,
        packaging_rating: None,
        comment: None,
        moderation: Moderation::NEW,
        response: None,
        created_at: at(minutes),
        version: 1,
    }
}

/// Records a new order of `customer` (or of no one) and returns it.
async fn new_order(
    db: &impl Repositories,
    store: &StoreId,
    customer: Option<&CustomerId>,
) -> Order {
    record(db, &simple_order(store, customer, 0, 1_000)).await
}

async fn insert(db: &impl Repositories, review: &Review) {
    ReviewRepository::insert(db, review)
        .await
        .expect("the review is inserted");
}

async fn find(db: &impl Repositories, store: &StoreId, id: &ReviewId) -> Option<Review> {
    ReviewRepository::find(db, store, id)
        .await
        .expect("find works")
}

async fn stats(db: &impl Repositories, store: &StoreId) -> ReviewStats {
    db.stats(store).await.expect("the statistics are read")
}

/// The kept counters, checked against a recount of the rows.
async fn counters<B: Backend>(t: &B, store: &StoreId) -> ReviewStats {
    let kept = stats(t.repos(), store).await;
    let recount = t
        .recount_reviews(store)
        .await
        .expect("the reviews are counted");
    assert_eq!(kept, recount, "the counters equal a recount");
    kept
}

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest::new(Some(i64::from(page)), Some(i64::from(limit))).expect("a valid page")
}

/// The ids of one page and the total.
async fn list_ids(
    db: &impl Repositories,
    store: &StoreId,
    filter: &ReviewFilter,
    request: PageRequest,
) -> (Vec<ReviewId>, u64) {
    let (rows, total) = ReviewRepository::list(db, store, filter, request)
        .await
        .expect("list works");
    (rows.into_iter().map(|r| r.id).collect(), total)
}

pub async fn reviews_round_trip_every_field<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let order = new_order(db, &store, Some(&maria)).await;
    let full = Review {
        food_rating: Some(rating(5)),
        delivery_rating: Some(rating(1)),
        packaging_rating: Some(rating(3)),
        comment: Some("Amazing pizza 🍕\nslightly late — worth the wait!".into()),
        moderation: FEATURED,
        response: Some(ReviewResponse {
            text: "Tak, Maria! Vi ses.".into(),
            responded_at: at(90),
            responded_by: user_id(),
        }),
        version: 7,
        ..review_of(&order, 4, 30)
    };
    insert(db, &full).await;
    assert_eq!(find(db, &store, &full.id).await, Some(full.clone()));

    let walk_in = new_order(db, &store, None).await;
    let bare = review_of(&walk_in, 2, 31);
    insert(db, &bare).await;
    assert_eq!(find(db, &store, &bare.id).await, Some(bare.clone()));
    assert_eq!(find(db, &store, &review_id()).await, None);

    assert_eq!(
        counters(t, &store).await,
        ReviewStats {
            total: 2,
            distribution: [0, 1, 0, 1, 0],
            approved: 1,
        }
    );
    let (rows, total) = ReviewRepository::list(db, &store, &ReviewFilter::default(), page(1, 10))
        .await
        .unwrap();
    assert_eq!((rows, total), (vec![bare, full], 2));
}

pub async fn one_review_per_order<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let order = new_order(db, &store, Some(&maria)).await;
    let first = review_of(&order, 5, 10);
    insert(db, &first).await;
    let second = review_of(&order, 1, 11);
    assert_eq!(
        ReviewRepository::insert(db, &second).await,
        Err(ReviewError::AlreadyReviewed)
    );
    assert_eq!(find(db, &store, &second.id).await, None);
    assert_eq!(counters(t, &store).await.total, 1);

    // Another store's order with the same id is another order.
    let mut elsewhere = simple_order(&other, None, 0, 500);
    elsewhere.id = order.id.clone();
    let elsewhere = record(db, &elsewhere).await;
    insert(db, &review_of(&elsewhere, 3, 12)).await;
    assert_eq!(counters(t, &other).await.total, 1);

    // Ten at once for one order: exactly one is stored, and counted once.
    let raced = new_order(db, &store, Some(&maria)).await;
    let attempts: Vec<_> = (0..10)
        .map(|n| {
            let (db, review) = (db.clone(), review_of(&raced, 1 + n % 5, 20 + n));
            tokio::spawn(async move { (ReviewRepository::insert(&db, &review).await, review) })
        })
        .collect();
    let mut stored = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("the task finished") {
            (Ok(()), review) => stored.push(review),
            (Err(ReviewError::AlreadyReviewed), _) => {}
            (Err(error), _) => panic!("a concurrent insert failed: {error:?}"),
        }
    }
    assert_eq!(stored.len(), 1, "exactly one review is stored");
    assert_eq!(
        find(db, &store, &stored[0].id).await,
        Some(stored[0].clone())
    );
    let counted = counters(t, &store).await;
    assert_eq!(counted.total, 2);
    let by_maria = ReviewFilter {
        customer_id: Some(maria),
        ..ReviewFilter::default()
    };
    assert_eq!(list_ids(db, &store, &by_maria, page(1, 20)).await.1, 2);
}

pub async fn another_store_sees_no_review<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, intruder) = (new_store(db).await, new_store(db).await);
    let maria = new_customer(db, &store, 1).await;
    let order = new_order(db, &store, Some(&maria)).await;
    let review = review_of(&order, 4, 10);
    insert(db, &review).await;
    let before = counters(t, &store).await;

    assert_eq!(find(db, &intruder, &review.id).await, None);
    let everything = ReviewFilter::default();
    assert_eq!(
        list_ids(db, &intruder, &everything, page(1, 20)).await,
        (vec![], 0)
    );
    let by_maria = ReviewFilter {
        customer_id: Some(maria.clone()),
        ..ReviewFilter::default()
    };
    assert_eq!(
        list_ids(db, &intruder, &by_maria, page(1, 20)).await,
        (vec![], 0)
    );
    assert_eq!(counters(t, &intruder).await, ReviewStats::default());
    assert_eq!(
        db.set_moderation(&intruder, &review.id, FEATURED, 1).await,
        Ok(false)
    );
    let response = ReviewResponse {
        text: "hijacked".into(),
        responded_at: at(20),
        responded_by: user_id(),
    };
    assert_eq!(
        db.respond(&intruder, &review.id, &response).await,
        Ok(false)
    );
    assert_eq!(
        ReviewRepository::delete(db, &intruder, &review.id).await,
        Ok(false)
    );

    assert_eq!(find(db, &store, &review.id).await, Some(review));
    assert_eq!(counters(t, &store).await, before);
    assert_eq!(counters(t, &intruder).await, ReviewStats::default());
}

/// One review of the list fixture, as the model sees it.
#[derive(Clone, Debug)]
struct Model {
    id: ReviewId,
    customer: Option<CustomerId>,
    rating: Rating,
    moderation: Moderation,
    answered: bool,
    created_at: DateTime<Utc>,
}

fn matches(model: &Model, filter: &ReviewFilter) -> bool {
    filter
        .is_approved
        .is_none_or(|a| model.moderation.is_approved == a)
        && filter
            .is_featured
            .is_none_or(|f| model.moderation.is_featured == f)
        && filter.has_response.is_none_or(|h| model.answered == h)
        && filter.min_rating.is_none_or(|min| model.rating >= min)
        && filter
            .customer_id
            .as_ref()
            .is_none_or(|c| model.customer.as_ref() == Some(c))
        && filter
            .created_from
            .is_none_or(|from| model.created_at >= from)
        && filter
            .created_before
            .is_none_or(|before| model.created_at < before)
}

/// What the list must return: the matching reviews, newest first, ties by id descending.
fn expected(models: &[Model], filter: &ReviewFilter) -> Vec<ReviewId> {
    let mut rows: Vec<&Model> = models.iter().filter(|m| matches(m, filter)).collect();
    rows.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    rows.into_iter().map(|m| m.id.clone()).collect()
}

/// Twenty-four reviews of two customers and walk-ins: every rating, each moderation state,
/// answered and not, and pairs created at the same instant whose ids sort against the order
/// they were written in.
async fn fixture<B: Backend>(t: &B) -> (StoreId, [CustomerId; 2], Vec<Model>) {
    let db = t.repos();
    let store = new_store(db).await;
    let customers = [
        new_customer(db, &store, 1).await,
        new_customer(db, &store, 2).await,
    ];
    let moderations = [
        Moderation::NEW,
        APPROVED,
        FEATURED,
        Moderation {
            is_approved: true,
            is_public: false,
            is_featured: false,
        },
    ];
    let mut models = Vec::new();
    for i in 0..24_i64 {
        let customer = match i % 3 {
            0 => None,
            n => Some(customers[n as usize - 1].clone()),
        };
        let order = new_order(db, &store, customer.as_ref()).await;
        let review = Review {
            // Written in the opposite order of their ids within each pair.
            id: ReviewId::from_stored(format!("rev_{:012}", 100 + (i / 2) * 2 + (1 - i % 2))),
            moderation: moderations[(i % 4) as usize],
            response: (i % 5 < 2).then(|| ReviewResponse {
                text: format!("Thank you, guest {i}"),
                responded_at: at(1_000 + i),
                responded_by: user_id(),
            }),
            ..review_of(&order, 1 + (i * 7) % 5, 60 * (i / 2))
        };
        insert(db, &review).await;
        models.push(Model {
            id: review.id,
            customer,
            rating: review.rating,
            moderation: review.moderation,
            answered: review.response.is_some(),
            created_at: review.created_at,
        });
    }
    (store, customers, models)
}

pub async fn review_list_filters_and_totals_match_the_model<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, customers, models) = fixture(t).await;
    let flags = [None, Some(true), Some(false)];
    let min_ratings = [None, Some(rating(1)), Some(rating(3)), Some(rating(5))];
    let customer_ids = [
        None,
        Some(customers[0].clone()),
        Some(CustomerId::parse("cust_000000000099").unwrap()),
    ];
    // From a review's exact instant (included) to another's (excluded).
    let ranges = [
        (None, None),
        (Some(at(120)), None),
        (None, Some(at(300))),
        (Some(at(120)), Some(at(300))),
        (Some(at(121)), Some(at(299))),
        (Some(at(300)), Some(at(300))),
    ];
    let mut checked = 0;
    for is_approved in flags {
        for is_featured in flags {
            for has_response in flags {
                for min_rating in min_ratings {
                    for customer_id in &customer_ids {
                        for (created_from, created_before) in ranges {
                            // Every combination of the flags and ratings; the customer and
                            // date filters with each of them singly and all together.
                            let simple = is_approved.is_none()
                                && is_featured.is_none()
                                && has_response.is_none()
                                && min_rating.is_none();
                            let dates = created_from.is_some() || created_before.is_some();
                            if !simple && (customer_id.is_some() as u8 + dates as u8) == 1 {
                                continue;
                            }
                            let filter = ReviewFilter {
                                is_approved,
                                is_featured,
                                has_response,
                                min_rating,
                                customer_id: customer_id.clone(),
                                created_from,
                                created_before,
                            };
                            let want = expected(&models, &filter);
                            let got = list_ids(db, &store, &filter, page(1, 100)).await;
                            assert_eq!(got, (want.clone(), want.len() as u64), "{filter:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");

    // The bounds as documented: from inclusive, before exclusive.
    let day = ReviewFilter {
        created_from: Some(at(120)),
        created_before: Some(at(240)),
        ..ReviewFilter::default()
    };
    let (ids, total) = list_ids(db, &store, &day, page(1, 100)).await;
    assert_eq!(total, 4);
    let instants: Vec<_> = ids
        .iter()
        .map(|id| models.iter().find(|m| m.id == *id).unwrap().created_at)
        .collect();
    assert_eq!(instants, [at(180), at(180), at(120), at(120)]);
    // Totals kept by the counters agree with counting rows.
    assert_eq!(counters(t, &store).await.total, 24);
}

/// Filters the paging cases walk: none, one flag, a rating with a flag, one customer.
fn paging_filters(customers: &[CustomerId; 2]) -> Vec<ReviewFilter> {
    vec![
        ReviewFilter::default(),
        ReviewFilter {
            is_approved: Some(true),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            min_rating: Some(rating(3)),
            has_response: Some(false),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            customer_id: Some(customers[1].clone()),
            ..ReviewFilter::default()
        },
    ]
}

pub async fn review_pages_never_repeat_or_skip<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, customers, models) = fixture(t).await;
    for filter in &paging_filters(&customers) {
        let want = expected(&models, filter);
        for limit in [1, 2, 3, 5, 7, 100] {
            let mut seen = Vec::new();
            for number in 1.. {
                let (ids, total) = list_ids(db, &store, filter, page(number, limit)).await;
                assert_eq!(total, want.len() as u64, "{filter:?}");
                if ids.is_empty() {
                    break;
                }
                assert!(ids.len() <= limit as usize);
                seen.extend(ids);
            }
            assert_eq!(seen, want, "limit {limit}, {filter:?}");
        }
        // A page past the end is empty with the right total.
        let (ids, total) = list_ids(db, &store, filter, page(1_000, 20)).await;
        assert_eq!((ids, total), (vec![], want.len() as u64));
    }
}

/// The ids of a whole review list read by keyset pages of `limit`, forward from the newest or
/// backward from the oldest (then put back newest first).
async fn walk(
    db: &impl Repositories,
    store: &StoreId,
    filter: &ReviewFilter,
    travel: Travel,
    limit: u32,
) -> Vec<ReviewId> {
    let mut seen = Vec::new();
    let mut from = None;
    for _ in 0..100 {
        let seek = Seek {
            travel,
            from: from.clone(),
            limit,
        };
        let mut rows = ReviewRepository::seek(db, store, filter, &seek)
            .await
            .expect("seek works");
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        from = rows
            .last()
            .map(|review| Position::newest(review.created_at, review.id.as_str()));
        seen.extend(rows.into_iter().map(|review| review.id));
        if !more {
            break;
        }
    }
    if travel == Travel::Backward {
        seen.reverse();
    }
    seen
}

pub async fn review_keyset_pages_and_counts_match_the_model<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, customers, models) = fixture(t).await;
    let mut filters = paging_filters(&customers);
    filters.push(ReviewFilter {
        customer_id: Some(customers[1].clone()),
        created_from: Some(at(120)),
        ..ReviewFilter::default()
    });
    for filter in &filters {
        let want = expected(&models, filter);
        for limit in [1, 2, 5, 100] {
            for travel in [Travel::Forward, Travel::Backward] {
                let seen = walk(db, &store, filter, travel, limit).await;
                assert_eq!(seen, want, "{travel:?} by {limit}, {filter:?}");
            }
        }
        let store = &store;
        let count = |limit| async move {
            ReviewRepository::count(db, store, filter, limit)
                .await
                .expect("count works")
        };
        let all = want.len() as u64;
        assert_eq!(count(None).await, all, "{filter:?}");
        assert_eq!(count(Some(2)).await, all.min(2), "{filter:?}");
        assert_eq!(count(Some(1_000)).await, all, "{filter:?}");
    }
}

pub async fn stale_moderation_changes_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let order = new_order(db, &store, None).await;
    let review = review_of(&order, 4, 10);
    insert(db, &review).await;

    assert_eq!(
        db.set_moderation(&store, &review.id, FEATURED, 1).await,
        Ok(true)
    );
    let featured = Review {
        moderation: FEATURED,
        version: 2,
        ..review.clone()
    };
    assert_eq!(find(db, &store, &review.id).await, Some(featured.clone()));
    assert_eq!(counters(t, &store).await.approved, 1);

    // A change made from version 1 lost the race: nothing changes.
    assert_eq!(
        db.set_moderation(&store, &review.id, Moderation::NEW, 1)
            .await,
        Ok(false)
    );
    assert_eq!(find(db, &store, &review.id).await, Some(featured.clone()));
    assert_eq!(counters(t, &store).await.approved, 1);

    // A change that keeps the approval leaves the counters as they are.
    assert_eq!(
        db.set_moderation(&store, &review.id, APPROVED, 2).await,
        Ok(true)
    );
    assert_eq!(counters(t, &store).await.approved, 1);
    assert_eq!(
        db.set_moderation(&store, &review.id, Moderation::NEW, 3)
            .await,
        Ok(true)
    );
    let unapproved = find(db, &store, &review.id).await.unwrap();
    assert_eq!(
        (unapproved.moderation, unapproved.version),
        (Moderation::NEW, 4)
    );
    assert_eq!(
        counters(t, &store).await,
        ReviewStats {
            total: 1,
            distribution: [0, 0, 0, 1, 0],
            approved: 0,
        }
    );
    assert_eq!(
        db.set_moderation(&store, &review_id(), APPROVED, 1).await,
        Ok(false)
    );
}

pub async fn responding_again_replaces_the_response<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let order = new_order(db, &store, None).await;
    let review = Review {
        moderation: APPROVED,
        ..review_of(&order, 2, 10)
    };
    insert(db, &review).await;
    let before = counters(t, &store).await;

    let first = ReviewResponse {
        text: "Sorry about the wait.".into(),
        responded_at: at(20),
        responded_by: user_id(),
    };
    assert_eq!(db.respond(&store, &review.id, &first).await, Ok(true));
    let answered = find(db, &store, &review.id).await.unwrap();
    assert_eq!(
        answered,
        Review {
            response: Some(first),
            version: 2,
            ..review.clone()
        }
    );

    let second = ReviewResponse {
        text: "We have a new driver — please try us again!".into(),
        responded_at: at(30),
        responded_by: user_id(),
    };
    assert_eq!(db.respond(&store, &review.id, &second).await, Ok(true));
    let replaced = find(db, &store, &review.id).await.unwrap();
    assert_eq!(
        replaced,
        Review {
            response: Some(second),
            version: 3,
            ..review.clone()
        }
    );
    assert_eq!(counters(t, &store).await, before);
    let replaced = replaced.response.expect("a response");
    assert_eq!(db.respond(&store, &review_id(), &replaced).await, Ok(false));
}

pub async fn deleting_a_review_counts_it_out<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let mut reviews = Vec::new();
    for (stars, moderation) in [(5, APPROVED), (5, Moderation::NEW), (3, FEATURED)] {
        let order = new_order(db, &store, None).await;
        let review = Review {
            moderation,
            ..review_of(&order, stars, 10)
        };
        insert(db, &review).await;
        reviews.push(review);
    }
    assert_eq!(
        counters(t, &store).await,
        ReviewStats {
            total: 3,
            distribution: [0, 0, 1, 0, 2],
            approved: 2,
        }
    );
    let gone = &reviews[2];
    assert_eq!(
        ReviewRepository::delete(db, &store, &gone.id).await,
        Ok(true)
    );
    assert_eq!(find(db, &store, &gone.id).await, None);
    assert_eq!(
        counters(t, &store).await,
        ReviewStats {
            total: 2,
            distribution: [0, 0, 0, 0, 2],
            approved: 1,
        }
    );
    assert_eq!(
        ReviewRepository::delete(db, &store, &gone.id).await,
        Ok(false)
    );
    let (ids, total) = list_ids(db, &store, &ReviewFilter::default(), page(1, 10)).await;
    assert_eq!(total, 2);
    assert!(!ids.contains(&gone.id));

    // Its order may be reviewed again.
    let again = Review {
        id: review_id(),
        ..gone.clone()
    };
    insert(db, &again).await;
    assert_eq!(counters(t, &store).await.total, 3);
}

pub async fn erasing_a_customer_keeps_their_reviews<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let anders = new_customer(db, &store, 2).await;
    let mut marias = Vec::new();
    for minutes in [10, 20] {
        let order = new_order(db, &store, Some(&maria)).await;
        let review = Review {
            moderation: APPROVED,
            ..review_of(&order, 5, minutes)
        };
        insert(db, &review).await;
        marias.push(review);
    }
    let anders_order = new_order(db, &store, Some(&anders)).await;
    let anders_review = review_of(&anders_order, 2, 30);
    insert(db, &anders_review).await;
    let before = counters(t, &store).await;

    assert_eq!(
        CustomerRepository::delete(db, &store, &maria, &audit(&store)).await,
        Ok(true)
    );
    for review in &marias {
        let kept = find(db, &store, &review.id)
            .await
            .expect("the review stays");
        assert_eq!(
            kept,
            Review {
                customer_id: None,
                version: review.version + 1,
                ..review.clone()
            }
        );
        let order = OrderRepository::find(db, &store, &review.order_id)
            .await
            .unwrap()
            .expect("the order stays");
        assert_eq!(order.customer_id, None);
    }
    assert_eq!(
        find(db, &store, &anders_review.id).await,
        Some(anders_review)
    );
    let by_maria = ReviewFilter {
        customer_id: Some(maria.clone()),
        ..ReviewFilter::default()
    };
    assert_eq!(
        list_ids(db, &store, &by_maria, page(1, 20)).await,
        (vec![], 0)
    );
    assert_eq!(counters(t, &store).await, before);

    // A new customer with the same id has none of them.
    new_customer(db, &store, 1).await;
    assert_eq!(
        list_ids(db, &store, &by_maria, page(1, 20)).await,
        (vec![], 0)
    );
}

/// A review written for a customer erased after its order was read is kept without them,
/// as the erasure would have left it.
pub async fn a_review_of_an_erased_customer_is_kept_without_them<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let order = new_order(db, &store, Some(&maria)).await;
    let review = review_of(&order, 4, 10);
    assert_eq!(
        CustomerRepository::delete(db, &store, &maria, &audit(&store)).await,
        Ok(true)
    );
    insert(db, &review).await;
    assert_eq!(
        find(db, &store, &review.id).await,
        Some(Review {
            customer_id: None,
            ..review
        })
    );
    assert_eq!(counters(t, &store).await.total, 1);
}

/// A small seeded generator (SplitMix64): the mix is the same on every run and backend.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The statistics of the model's reviews.
fn model_stats(live: &BTreeMap<ReviewId, Review>) -> ReviewStats {
    let mut stats = ReviewStats::default();
    for review in live.values() {
        stats.total += 1;
        stats.distribution[usize::from(review.rating.value()) - 1] += 1;
        stats.approved += i64::from(review.moderation.is_approved);
    }
    stats
}

/// The counters, the recount, the model and the list totals they answer all agree.
async fn assert_counted<B: Backend>(t: &B, store: &StoreId, live: &BTreeMap<ReviewId, Review>) {
    let db = t.repos();
    let want = model_stats(live);
    assert_eq!(counters(t, store).await, want);
    let total = |filter: ReviewFilter| async move {
        list_ids(db, store, &filter, page(1, 1)).await.1 as i64
    };
    assert_eq!(total(ReviewFilter::default()).await, want.total);
    for approved in [true, false] {
        let filter = ReviewFilter {
            is_approved: Some(approved),
            ..ReviewFilter::default()
        };
        let want = live
            .values()
            .filter(|r| r.moderation.is_approved == approved)
            .count() as i64;
        assert_eq!(total(filter).await, want);
    }
    for stars in 1..=5 {
        let filter = ReviewFilter {
            min_rating: Some(rating(stars)),
            ..ReviewFilter::default()
        };
        let want = live.values().filter(|r| r.rating >= rating(stars)).count() as i64;
        assert_eq!(total(filter).await, want);
    }
}

/// 200 seeded inserts, duplicates, approvals and un-approvals, stale changes, responses and
/// deletes: the counters equal a recount of the rows throughout.
pub async fn review_counters_equal_a_recount<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, bystander) = (new_store(db).await, new_store(db).await);
    let customers = [
        new_customer(db, &store, 1).await,
        new_customer(db, &store, 2).await,
        new_customer(db, &store, 3).await,
    ];
    let untouched = new_order(db, &bystander, None).await;
    insert(db, &review_of(&untouched, 3, 0)).await;
    let mut random = Seeded(20_261_127);
    let mut orders: Vec<Order> = Vec::new();
    let mut live: BTreeMap<ReviewId, Review> = BTreeMap::new();
    let reviewed = |live: &BTreeMap<ReviewId, Review>, order: &OrderId| {
        live.values().any(|r| r.order_id == *order)
    };
    for step in 0..200_i64 {
        let pick = |random: &mut Seeded, live: &BTreeMap<ReviewId, Review>| {
            live.keys().nth(random.below(live.len().max(1))).cloned()
        };
        match random.below(100) {
            // A new review of a new order.
            0..40 => {
                let customer = random.below(4);
                let order = new_order(db, &store, customers.get(customer)).await;
                let stars = 1 + random.below(5) as i64;
                let review = Review {
                    moderation: if random.chance(30) {
                        APPROVED
                    } else {
                        Moderation::NEW
                    },
                    ..review_of(&order, stars, step)
                };
                insert(db, &review).await;
                orders.push(order);
                live.insert(review.id.clone(), review);
            }
            // A review of an order seen before: refused while the order has one.
            40..50 if !orders.is_empty() => {
                let order = &orders[random.below(orders.len())];
                let review = review_of(order, 1 + random.below(5) as i64, step);
                let result = ReviewRepository::insert(db, &review).await;
                if reviewed(&live, &order.id) {
                    assert_eq!(result, Err(ReviewError::AlreadyReviewed));
                } else {
                    assert_eq!(result, Ok(()));
                    live.insert(review.id.clone(), review);
                }
            }
            // Approve, un-approve, feature, hide.
            50..75 => {
                let Some(id) = pick(&mut random, &live) else {
                    continue;
                };
                let current = find(db, &store, &id).await.expect("a live review");
                let moderation = match random.below(4) {
                    0 => Moderation::NEW,
                    1 => APPROVED,
                    2 => FEATURED,
                    _ => Moderation {
                        is_approved: random.chance(50),
                        is_public: false,
                        is_featured: false,
                    },
                };
                assert_eq!(
                    db.set_moderation(&store, &id, moderation, current.version)
                        .await,
                    Ok(true)
                );
                let kept = live.get_mut(&id).expect("a live review");
                kept.moderation = moderation;
                kept.version += 1;
            }
            // A change from an old version is refused.
            75..80 => {
                let Some(id) = pick(&mut random, &live) else {
                    continue;
                };
                let version = live[&id].version;
                let flipped = if live[&id].moderation.is_approved {
                    Moderation::NEW
                } else {
                    APPROVED
                };
                assert_eq!(
                    db.set_moderation(&store, &id, flipped, version - 1).await,
                    Ok(false)
                );
            }
            80..85 => {
                let Some(id) = pick(&mut random, &live) else {
                    continue;
                };
                let response = ReviewResponse {
                    text: format!("Answer {step}"),
                    responded_at: at(step),
                    responded_by: user_id(),
                };
                assert_eq!(db.respond(&store, &id, &response).await, Ok(true));
                let kept = live.get_mut(&id).expect("a live review");
                kept.response = Some(response);
                kept.version += 1;
            }
            _ => {
                let id = pick(&mut random, &live).filter(|_| random.chance(90));
                let id = id.unwrap_or_else(review_id);
                let existed = live.remove(&id).is_some();
                assert_eq!(ReviewRepository::delete(db, &store, &id).await, Ok(existed));
            }
        }
        if step % 50 == 49 {
            assert_counted(t, &store, &live).await;
        }
    }
    assert!(live.len() > 20, "the mix keeps reviews: {}", live.len());
    assert_counted(t, &store, &live).await;
    for review in live.values() {
        assert_eq!(find(db, &store, &review.id).await.as_ref(), Some(review));
    }
    assert_eq!(counters(t, &bystander).await.total, 1);
}

/// Inserts, approvals and deletes of one store at once: none is lost from the counters.
pub async fn concurrent_review_writes_keep_the_counters_exact<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let maria = new_customer(db, &store, 1).await;
    let mut existing = Vec::new();
    for n in 0..20 {
        let order = new_order(db, &store, Some(&maria)).await;
        let review = review_of(&order, 1 + n % 5, n);
        insert(db, &review).await;
        existing.push(review);
    }
    let mut fresh = Vec::new();
    for n in 0..10 {
        let order = new_order(db, &store, Some(&maria)).await;
        fresh.push(review_of(&order, 1 + n % 5, 100 + n));
    }
    let mut tasks = Vec::new();
    for review in fresh {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            ReviewRepository::insert(&db, &review)
                .await
                .map_err(|e| format!("{e:?}"))
        }));
    }
    for (n, review) in existing.iter().enumerate() {
        let (db, store, id) = (db.clone(), store.clone(), review.id.clone());
        tasks.push(tokio::spawn(async move {
            let done = if n % 2 == 0 {
                db.set_moderation(&store, &id, APPROVED, 1).await
            } else {
                ReviewRepository::delete(&db, &store, &id).await
            };
            match done {
                Ok(true) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("the task finished"), Ok(()));
    }
    assert_eq!(
        counters(t, &store).await,
        ReviewStats {
            total: 20,
            distribution: [4, 4, 4, 4, 4],
            approved: 10,
        }
    );
}
