//! The customer list against a model computed in Rust: filters, sorts, pages and totals.

use std::cmp::Ordering;

use crate::backend::{Backend, Repositories};
use chrono::{DateTime, Utc};
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{
    Activity, Allergen, Block, Customer, CustomerFilter, CustomerListQuery, CustomerSort,
    PersonName, SortDirection,
};
use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::keyset::{Binding, Position, Seek, SortValue, TotalMode, Travel};
use customers_domain::page::PageRequest;
use customers_persistence::testing::TestDatabase;
use customers_persistence::{Database, DatabaseConfig};

use crate::support::{
    at, audit, blank_customer, customer_id, insert, list_ids, new_store, query, with_contact,
};

/// One customer of the fixture, as the model sees it.
#[derive(Clone, Debug)]
struct Model {
    id: CustomerId,
    first_name: Option<&'static str>,
    marketing: bool,
    blocked: bool,
    spent: i64,
    orders: i64,
    last_order_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    allergens: Vec<Allergen>,
    search: String,
}

const FIRST_NAMES: [Option<&str>; 16] = [
    Some("maria"),
    Some("Maria"),
    Some("ANDERS"),
    Some("anders"),
    None,
    Some("Bo"),
    Some("bo"),
    Some("Åse"),
    None,
    Some("zoe"),
    Some("Zoe"),
    Some("carl"),
    Some("Carl"),
    Some("ærø"),
    Some("dan"),
    Some("Dan"),
];
const SPENT: [i64; 16] = [
    0, 500, 500, 1000, 0, 2500, 1000, 0, 500, 9999, 0, 1000, 250, 0, 500, 250,
];

/// Sixteen customers with ties in every sort key, NULLs in the nullable ones, and ids whose
/// order differs from insertion order.
async fn fixture<B: Backend>(t: &B) -> (StoreId, Vec<Model>) {
    let db = t.repos();
    let store = new_store(db).await;
    let mut models = Vec::new();
    for i in 0..16_u32 {
        let id = customer_id((i * 7) % 16 + 100);
        let first_name = FIRST_NAMES[i as usize];
        let spent = SPENT[i as usize];
        let orders = spent / 250;
        let last_order_at = (orders > 0).then(|| at(24 * 60 + 60 * i64::from(i % 4)));
        let created_at = at(i64::from(i / 2));
        let mut allergens = Vec::new();
        if i % 4 == 0 {
            allergens.push(Allergen::Nuts);
        }
        if i % 6 == 0 {
            allergens.push(Allergen::Gluten);
        }
        let email = (i % 5 != 3).then(|| format!("Guest{i}@Example.dk"));
        let phone = format!("+45201000{i:02}");
        let mut customer = with_contact(
            blank_customer(&store, id.clone()),
            email.as_deref(),
            Some(&phone),
        );
        customer.profile.first_name = first_name.map(|n| PersonName::from_stored(n.into()));
        customer.profile.last_name = Some(PersonName::from_stored(format!("Family{i}")));
        customer.profile.accepts_marketing = i % 3 == 0;
        customer.profile.allergens = allergens.iter().copied().collect();
        customer.created_at = created_at;
        customer.updated_at = created_at;
        insert(db, &customer).await;
        let activity = Activity {
            total_spent_minor: spent,
            total_orders: orders,
            last_order_at,
            loyalty_points: spent / 100,
        };
        assert!(t.set_activity(&store, &id, &activity).await.unwrap());
        let blocked = i % 5 == 1;
        if blocked {
            let block = Block {
                reason: None,
                at: at(30),
            };
            assert!(t.set_block(&store, &id, Some(&block)).await.unwrap());
        }
        let search = format!(
            "{} family{i}\n{}\n{phone}",
            first_name.unwrap_or_default(),
            email.unwrap_or_default()
        )
        .to_lowercase();
        models.push(Model {
            id,
            first_name,
            marketing: i % 3 == 0,
            blocked,
            spent,
            orders,
            last_order_at,
            created_at,
            allergens,
            search,
        });
    }
    (store, models)
}

fn matches(model: &Model, filter: &CustomerFilter) -> bool {
    filter
        .accepts_marketing
        .is_none_or(|m| model.marketing == m)
        && filter.is_blocked.is_none_or(|b| model.blocked == b)
        && filter.has_orders.is_none_or(|h| (model.orders > 0) == h)
        && filter.min_spent.is_none_or(|min| model.spent >= min)
        && filter.max_spent.is_none_or(|max| model.spent <= max)
        && filter
            .last_order_since
            .is_none_or(|since| model.last_order_at.is_some_and(|at| at >= since))
        && filter
            .text
            .as_deref()
            .is_none_or(|text| model.search.contains(text))
        && filter.allergen.is_none_or(|a| model.allergens.contains(&a))
}

/// `a` before `b` with NULLs last whatever the direction.
fn nulls_last<T: Ord>(a: Option<T>, b: Option<T>, direction: SortDirection) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => directed(a.cmp(&b), direction),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn directed(ordering: Ordering, direction: SortDirection) -> Ordering {
    match direction {
        SortDirection::Asc => ordering,
        SortDirection::Desc => ordering.reverse(),
    }
}

/// What the list must return for `sort` and `direction`: the key, then the id, both in the
/// same direction.
fn expected(
    models: &[Model],
    filter: &CustomerFilter,
    sort: CustomerSort,
    direction: SortDirection,
) -> Vec<CustomerId> {
    let mut rows: Vec<&Model> = models.iter().filter(|m| matches(m, filter)).collect();
    rows.sort_by(|a, b| {
        let by_key = match sort {
            CustomerSort::CreatedAt => directed(a.created_at.cmp(&b.created_at), direction),
            CustomerSort::TotalSpentMinor => directed(a.spent.cmp(&b.spent), direction),
            CustomerSort::TotalOrders => directed(a.orders.cmp(&b.orders), direction),
            CustomerSort::LastOrderAt => nulls_last(a.last_order_at, b.last_order_at, direction),
            CustomerSort::FirstName => nulls_last(
                a.first_name.map(str::to_ascii_lowercase),
                b.first_name.map(str::to_ascii_lowercase),
                direction,
            ),
        };
        by_key.then_with(|| directed(a.id.cmp(&b.id), direction))
    });
    rows.into_iter().map(|m| m.id.clone()).collect()
}

fn sorted(
    sort: CustomerSort,
    direction: SortDirection,
    page: u32,
    limit: u32,
    filter: CustomerFilter,
) -> CustomerListQuery {
    CustomerListQuery {
        page: PageRequest::new(Some(i64::from(page)), Some(i64::from(limit))).unwrap(),
        seek: None,
        total: TotalMode::Exact,
        binding: Binding::of("contract"),
        sort,
        direction,
        filter,
    }
}

fn filters() -> Vec<(&'static str, CustomerFilter)> {
    let none = CustomerFilter::default();
    vec![
        ("none", none.clone()),
        (
            "marketing",
            CustomerFilter {
                accepts_marketing: Some(true),
                ..none.clone()
            },
        ),
        (
            "no marketing",
            CustomerFilter {
                accepts_marketing: Some(false),
                ..none.clone()
            },
        ),
        (
            "blocked",
            CustomerFilter {
                is_blocked: Some(true),
                ..none.clone()
            },
        ),
        (
            "not blocked",
            CustomerFilter {
                is_blocked: Some(false),
                ..none.clone()
            },
        ),
        (
            "with orders",
            CustomerFilter {
                has_orders: Some(true),
                ..none.clone()
            },
        ),
        (
            "without orders",
            CustomerFilter {
                has_orders: Some(false),
                ..none.clone()
            },
        ),
        (
            "min spent (inclusive)",
            CustomerFilter {
                min_spent: Some(1000),
                ..none.clone()
            },
        ),
        (
            "max spent (inclusive)",
            CustomerFilter {
                max_spent: Some(500),
                ..none.clone()
            },
        ),
        (
            "spent between",
            CustomerFilter {
                min_spent: Some(250),
                max_spent: Some(1000),
                ..none.clone()
            },
        ),
        (
            "spent exactly",
            CustomerFilter {
                min_spent: Some(500),
                max_spent: Some(500),
                ..none.clone()
            },
        ),
        // at(24h + 2h) is the last order of some customers: the bound is inclusive.
        (
            "last order since",
            CustomerFilter {
                last_order_since: Some(at(24 * 60 + 120)),
                ..none.clone()
            },
        ),
        (
            "text: name",
            CustomerFilter {
                text: Some("anders".into()),
                ..none.clone()
            },
        ),
        (
            "text: email",
            CustomerFilter {
                text: Some("guest1".into()),
                ..none.clone()
            },
        ),
        (
            "text: phone",
            CustomerFilter {
                text: Some("+4520100011".into()),
                ..none.clone()
            },
        ),
        (
            "text: no match",
            CustomerFilter {
                text: Some("nobody".into()),
                ..none.clone()
            },
        ),
        (
            "allergen",
            CustomerFilter {
                allergen: Some(Allergen::Nuts),
                ..none.clone()
            },
        ),
        (
            "allergen none have",
            CustomerFilter {
                allergen: Some(Allergen::Lupin),
                ..none.clone()
            },
        ),
        (
            "combined",
            CustomerFilter {
                accepts_marketing: Some(false),
                has_orders: Some(true),
                min_spent: Some(500),
                is_blocked: Some(false),
                ..none.clone()
            },
        ),
        (
            "allergen and text",
            CustomerFilter {
                allergen: Some(Allergen::Gluten),
                text: Some("family".into()),
                ..none
            },
        ),
    ]
}

pub async fn every_filter_matches_the_model<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    every_filter_matches(t.repos(), &store, &models).await;
}

/// The same answers from a pool of one connection, where a text or allergen page and its
/// count cannot run side by side and share one statement instead.
pub async fn every_filter_matches_the_model_on_one_connection(t: &TestDatabase) {
    let (store, models) = fixture(t).await;
    let mut config = DatabaseConfig::new(t.url());
    config.max_connections = 1;
    let single = Database::connect(&config)
        .await
        .expect("a one-connection pool");
    every_filter_matches(&single, &store, &models).await;
}

/// Each filter's first page and total are the model's, and a page past the end is empty
/// with the full total.
async fn every_filter_matches(db: &impl Repositories, store: &StoreId, models: &[Model]) {
    for (name, filter) in filters() {
        let want = expected(
            models,
            &filter,
            CustomerSort::CreatedAt,
            SortDirection::Desc,
        );
        let (ids, total) = list_ids(db, store, &query(filter.clone())).await;
        assert_eq!(ids, want, "filter {name}: {filter:?}");
        assert_eq!(total, want.len() as u64, "total of filter {name}");
        let past_the_end = CustomerListQuery {
            page: PageRequest::new(Some(50), Some(100)).expect("a valid page"),
            ..query(filter.clone())
        };
        let (ids, total) = list_ids(db, store, &past_the_end).await;
        assert!(ids.is_empty(), "filter {name}: page 50");
        assert_eq!(
            total,
            want.len() as u64,
            "total of filter {name} on page 50"
        );
    }
}

pub async fn every_sort_in_both_directions_matches_the_model<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let with_orders = CustomerFilter {
        has_orders: Some(true),
        ..CustomerFilter::default()
    };
    for filter in [CustomerFilter::default(), with_orders] {
        for sort in CustomerSort::ALL {
            for direction in [SortDirection::Asc, SortDirection::Desc] {
                let want = expected(&models, &filter, sort, direction);
                let (ids, _) = list_ids(
                    t.repos(),
                    &store,
                    &sorted(sort, direction, 1, 100, filter.clone()),
                )
                .await;
                assert_eq!(ids, want, "{sort:?} {direction:?} {filter:?}");
            }
        }
    }
}

pub async fn pages_never_repeat_or_skip<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    let blocked_or_not = CustomerFilter {
        is_blocked: Some(false),
        ..CustomerFilter::default()
    };
    for filter in [CustomerFilter::default(), blocked_or_not] {
        for sort in CustomerSort::ALL {
            for direction in [SortDirection::Asc, SortDirection::Desc] {
                let want = expected(&models, &filter, sort, direction);
                let mut seen = Vec::new();
                for page in 1..=6 {
                    let (ids, total) = list_ids(
                        db,
                        &store,
                        &sorted(sort, direction, page, 3, filter.clone()),
                    )
                    .await;
                    assert_eq!(total, want.len() as u64);
                    assert!(ids.len() <= 3);
                    seen.extend(ids);
                }
                assert_eq!(seen, want, "{sort:?} {direction:?} in pages of 3");
                // A page past the end is empty, with the right total.
                let (ids, total) =
                    list_ids(db, &store, &sorted(sort, direction, 40, 3, filter.clone())).await;
                assert_eq!((ids, total), (vec![], want.len() as u64));
            }
        }
    }
}

pub async fn totals_from_the_counter_equal_real_counts<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    let everyone = CustomerFilter {
        min_spent: Some(i64::MIN),
        ..CustomerFilter::default()
    };
    assert_eq!(
        total(db, &store, CustomerFilter::default()).await,
        models.len() as u64
    );
    assert_eq!(
        total(db, &store, everyone.clone()).await,
        models.len() as u64
    );
    for model in models.iter().step_by(3) {
        assert_eq!(
            CustomerRepository::delete(db, &store, &model.id, &audit(&store)).await,
            Ok(true)
        );
    }
    assert_eq!(
        total(db, &store, CustomerFilter::default()).await,
        total(db, &store, everyone).await
    );
    assert_eq!(
        total(db, &store, CustomerFilter::default()).await,
        (models.len() - models.len().div_ceil(3)) as u64
    );
    // An empty store counts zero either way.
    let empty = new_store(db).await;
    assert_eq!(
        list_ids(db, &empty, &query(CustomerFilter::default())).await,
        (vec![], 0)
    );
}

async fn total(db: &impl Repositories, store: &StoreId, filter: CustomerFilter) -> u64 {
    list_ids(db, store, &query(filter)).await.1
}

pub async fn text_search_is_literal_and_case_insensitive<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let names = [
        "100% Pure",
        "Under_Score",
        "Back\\Slash",
        "Plain",
        "1000 Pure",
        "UnderXScore",
        "BackSlash",
    ];
    for (n, name) in names.iter().enumerate() {
        let mut customer = blank_customer(&store, customer_id(n as u32 + 1));
        customer.profile.first_name = Some(PersonName::from_stored((*name).into()));
        customer.created_at = at(n as i64);
        insert(db, &customer).await;
    }
    let found = |text: &'static str| find_text(db, &store, text);
    assert_eq!(found("%").await, vec![customer_id(1)]);
    assert_eq!(found("0% p").await, vec![customer_id(1)]);
    assert_eq!(found("_").await, vec![customer_id(2)]);
    assert_eq!(found("r_s").await, vec![customer_id(2)]);
    assert_eq!(found("\\").await, vec![customer_id(3)]);
    assert_eq!(found("k\\s").await, vec![customer_id(3)]);
    // The domain lower-cases `q`; stored text matches whatever its case.
    assert_eq!(found("pure").await, vec![customer_id(5), customer_id(1)]);
    assert_eq!(found("plain").await, vec![customer_id(4)]);
    assert_eq!(found("x").await, vec![customer_id(6)]);
}

async fn find_text(db: &impl Repositories, store: &StoreId, text: &str) -> Vec<CustomerId> {
    let filter = CustomerFilter {
        text: Some(text.into()),
        ..CustomerFilter::default()
    };
    let (ids, total) = list_ids(db, store, &query(filter)).await;
    assert_eq!(total, ids.len() as u64, "total of {text:?}");
    ids
}

pub async fn list_sees_only_its_store<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    let other = new_store(db).await;
    let mut stranger: Customer = blank_customer(&other, customer_id(999));
    stranger.profile.first_name = Some(PersonName::from_stored("Maria".into()));
    stranger.profile.allergens = [Allergen::Nuts].into_iter().collect();
    insert(db, &stranger).await;
    for (name, filter) in filters() {
        let (ids, _) = list_ids(db, &store, &query(filter.clone())).await;
        assert!(
            !ids.contains(&stranger.id),
            "filter {name} shows another store's customer"
        );
        let (theirs, total) = list_ids(db, &other, &query(filter.clone())).await;
        assert!(theirs.iter().all(|id| id == &stranger.id), "filter {name}");
        assert_eq!(total, theirs.len() as u64);
    }
    assert_eq!(
        list_ids(db, &store, &query(CustomerFilter::default()))
            .await
            .1,
        models.len() as u64
    );
}

/// The ids of a whole list read by keyset pages of `limit`, each page starting from the last
/// row of the one before: forward from the start, or backward from the end (then put back in
/// the list's order).
async fn walk(
    db: &impl Repositories,
    store: &StoreId,
    query: &CustomerListQuery,
    travel: Travel,
    limit: u32,
) -> Vec<CustomerId> {
    let mut seen = Vec::new();
    let mut from: Option<Position> = None;
    for _ in 0..100 {
        let seek = Seek {
            travel,
            from: from.clone(),
            limit,
        };
        let (mut rows, _) = CustomerRepository::seek(db, store, query, &seek)
            .await
            .expect("seek works");
        assert!(
            rows.len() <= limit as usize + 1,
            "at most one row more than the page"
        );
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        from = rows.last().map(|row| query.sort.position_of(row));
        seen.extend(rows.into_iter().map(|row| row.id));
        if !more {
            break;
        }
    }
    if travel == Travel::Backward {
        seen.reverse();
    }
    seen
}

pub async fn keyset_pages_walk_every_sort_both_ways_like_the_model<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    let unordered = CustomerFilter {
        has_orders: Some(false),
        ..CustomerFilter::default()
    };
    let named = CustomerFilter {
        text: Some("a".into()),
        ..CustomerFilter::default()
    };
    for filter in [CustomerFilter::default(), unordered, named] {
        for sort in CustomerSort::ALL {
            for direction in [SortDirection::Asc, SortDirection::Desc] {
                let want = expected(&models, &filter, sort, direction);
                let query = sorted(sort, direction, 1, 20, filter.clone());
                for limit in [1, 3, 16] {
                    for travel in [Travel::Forward, Travel::Backward] {
                        let seen = walk(db, &store, &query, travel, limit).await;
                        assert_eq!(
                            seen, want,
                            "{sort:?} {direction:?} {travel:?} by {limit}, {filter:?}"
                        );
                    }
                }
            }
        }
    }
}

pub async fn a_keyset_page_starts_from_a_position_that_is_gone<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    for sort in [CustomerSort::FirstName, CustomerSort::LastOrderAt] {
        let want = expected(
            &models,
            &CustomerFilter::default(),
            sort,
            SortDirection::Asc,
        );
        let query = sorted(sort, SortDirection::Asc, 1, 20, CustomerFilter::default());
        // Between the last row with a value and the first without: a value past every value,
        // then no value at an id before every id.
        let past = match sort {
            CustomerSort::FirstName => SortValue::Text("\u{10FFFF}".into()),
            _ => SortValue::Time(at(10_000_000)),
        };
        let nulls = models
            .iter()
            .filter(|m| match sort {
                CustomerSort::FirstName => m.first_name.is_none(),
                _ => m.last_order_at.is_none(),
            })
            .count();
        for (value, id) in [(past, "cust_"), (SortValue::Null, "cust_")] {
            let seek = Seek {
                travel: Travel::Forward,
                from: Some(Position {
                    value: value.clone(),
                    id: id.into(),
                }),
                limit: 20,
            };
            let (rows, _) = CustomerRepository::seek(db, &store, &query, &seek)
                .await
                .expect("seek works");
            let ids: Vec<CustomerId> = rows.into_iter().map(|row| row.id).collect();
            assert_eq!(ids, want[want.len() - nulls..], "{sort:?} after {value:?}");
            let back = Seek {
                travel: Travel::Backward,
                ..seek
            };
            let (rows, _) = CustomerRepository::seek(db, &store, &query, &back)
                .await
                .expect("seek works");
            let mut ids: Vec<CustomerId> = rows.into_iter().map(|row| row.id).collect();
            ids.reverse();
            assert_eq!(ids, want[..want.len() - nulls], "{sort:?} before {value:?}");
        }
    }
}

pub async fn counts_are_exact_or_stop_at_their_bound<B: Backend>(t: &B) {
    let (store, models) = fixture(t).await;
    let db = t.repos();
    let with_orders = CustomerFilter {
        has_orders: Some(true),
        ..CustomerFilter::default()
    };
    let ordering = models.iter().filter(|m| m.orders > 0).count() as u64;
    let everyone = models.len() as u64;
    let first = Seek {
        travel: Travel::Forward,
        from: None,
        limit: 2,
    };
    let count = |store: StoreId, filter: CustomerFilter, total: TotalMode| {
        let first = first.clone();
        async move {
            let query = CustomerListQuery {
                total,
                ..sorted(CustomerSort::CreatedAt, SortDirection::Desc, 1, 2, filter)
            };
            let (rows, found) = CustomerRepository::seek(db, &store, &query, &first)
                .await
                .expect("seek works");
            assert!(rows.len() <= 3, "the page beside its count");
            found
        }
    };
    let none = CustomerFilter::default();
    assert_eq!(
        count(store.clone(), none.clone(), TotalMode::None).await,
        None
    );
    assert_eq!(
        count(store.clone(), none.clone(), TotalMode::Exact).await,
        Some(everyone)
    );
    assert_eq!(
        count(store.clone(), with_orders.clone(), TotalMode::Exact).await,
        Some(ordering)
    );
    // A bound counts one past itself, to tell "exactly the bound" from "more".
    assert_eq!(
        count(store.clone(), none.clone(), TotalMode::Bounded(4)).await,
        Some(5)
    );
    assert_eq!(
        count(store.clone(), with_orders.clone(), TotalMode::Bounded(1)).await,
        Some(2)
    );
    assert_eq!(
        count(store.clone(), with_orders, TotalMode::Bounded(1_000)).await,
        Some(ordering)
    );
    assert_eq!(
        count(store.clone(), none.clone(), TotalMode::Bounded(everyone)).await,
        Some(everyone)
    );
    // An allergen alone is counted from its own index; with another filter, with the rest.
    let allergen = models
        .iter()
        .find_map(|m| m.allergens.first().copied())
        .expect("the fixture declares allergens");
    let allergic = CustomerFilter {
        allergen: Some(allergen),
        ..CustomerFilter::default()
    };
    let want =
        |filter: &CustomerFilter| models.iter().filter(|m| matches(m, filter)).count() as u64;
    let exact = want(&allergic);
    assert!(
        exact >= 2,
        "the fixture has {exact} customers with {allergen:?}"
    );
    assert_eq!(
        count(store.clone(), allergic.clone(), TotalMode::Exact).await,
        Some(exact)
    );
    assert_eq!(
        count(store.clone(), allergic.clone(), TotalMode::Bounded(1)).await,
        Some(2)
    );
    let allergic_orders = CustomerFilter {
        has_orders: Some(true),
        ..allergic
    };
    assert_eq!(
        count(store.clone(), allergic_orders.clone(), TotalMode::Exact).await,
        Some(want(&allergic_orders))
    );
    let other = new_store(db).await;
    assert_eq!(count(other, none, TotalMode::Bounded(10)).await, Some(0));
}
