use std::sync::Arc;

use super::*;
use crate::access::Role;
use crate::audit::{Actor, AuditAction, AuditFilter, AuditRepository};
use crate::customer::{
    CustomerError, CustomerListParams, CustomerRepository, CustomerService, Patch, ProfileInput,
};
use crate::idempotency::{Begin, IdempotencyRepository, IdempotencyScope};
use crate::loyalty::{LoyaltyError, LoyaltyRepository, LoyaltyService};
use crate::order::{
    OrderInput, OrderItemInput, OrderRepository, OrderService, OrderStatus, Recorded,
};
use crate::ports::Unique;
use crate::review::{Moderation, Rating, ReviewRepository};
use crate::store::StoreRepository;

/// A store of its own in `memory`, its owner, and the services over `memory`.
struct Shop {
    memory: Memory,
    system: System,
    owner: Principal,
}

impl Shop {
    fn open(memory: &Memory) -> Self {
        let system = system();
        let owner = block_on(memory.open_store(&system, &StoreSettings::default(), "o@shop.dk"))
            .expect("a store");
        Self {
            memory: memory.clone(),
            system,
            owner,
        }
    }

    fn store(&self) -> &StoreId {
        &self.owner.store_id
    }

    fn customers(&self) -> CustomerService<Memory, Memory> {
        let memory = Arc::new(self.memory.clone());
        CustomerService::new(Arc::clone(&memory), memory, self.system.clone())
    }

    fn orders(&self) -> OrderService<Memory, Memory> {
        let memory = Arc::new(self.memory.clone());
        OrderService::new(Arc::clone(&memory), memory, self.system.clone())
    }

    fn loyalty(&self) -> LoyaltyService<Memory> {
        LoyaltyService::new(Arc::new(self.memory.clone()), self.system.clone())
    }

    fn customer(&self, first: &str, email: Option<&str>, phone: Option<&str>) -> Customer {
        let set = |value: Option<&str>| value.map_or(Patch::Unchanged, |v| Patch::Set(v.into()));
        let input = ProfileInput {
            first_name: Patch::Set(first.into()),
            email: set(email),
            phone: set(phone),
            ..ProfileInput::default()
        };
        block_on(self.customers().create(&self.owner, &input)).expect("a customer")
    }

    fn find(&self, id: &CustomerId) -> Customer {
        block_on(CustomerRepository::find(&self.memory, self.store(), id))
            .unwrap()
            .expect("the customer")
    }

    /// An order of `total_minor` (one item of `product`) for `customer`.
    fn order(
        &self,
        customer: &CustomerId,
        product: &str,
        total_minor: i64,
        external_id: Option<&str>,
        claim: Option<&str>,
    ) -> Recorded {
        let input = OrderInput {
            customer_id: Some(customer.to_string()),
            external_id: external_id.map(str::to_owned),
            items: Some(vec![OrderItemInput {
                product_id: Some(product.to_lowercase()),
                product_name: Some(product.into()),
                quantity: Some(1),
                unit_price_minor: Some(total_minor),
                ..OrderItemInput::default()
            }]),
            ..OrderInput::default()
        };
        block_on(self.orders().record(&self.owner, &input, claim)).expect("recorded")
    }

    fn entry_id(&self) -> crate::ids::LedgerEntryId {
        crate::ids::LedgerEntryId::from_stored(self.system.new_id("loy"))
    }

    fn audit(&self) -> AuditEntry {
        self.system.audit_entry(
            self.store(),
            Actor::of(&self.owner),
            AuditAction::CustomerUpdated,
        )
    }
}

#[test]
fn open_store_gives_the_owner_of_a_new_store() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    assert_eq!(shop.owner.role(), Some(Role::Owner));
    let store = block_on(StoreRepository::find(&memory, shop.store())).unwrap();
    assert_eq!(store.map(|s| s.currency), Some("DKK".to_owned()));
    assert!(block_on(memory.any_exists()).unwrap());
    assert!(!block_on(Memory::new().any_exists()).unwrap());
}

#[test]
fn emails_are_unique_per_store_in_any_case_and_phones_per_store() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    shop.customer("Maria", Some("Maria@Example.dk"), Some("+4520123456"));
    let again = ProfileInput {
        email: Patch::Set("maria@EXAMPLE.dk".into()),
        ..ProfileInput::default()
    };
    let refused = block_on(shop.customers().create(&shop.owner, &again));
    assert!(
        matches!(refused, Err(CustomerError::EmailTaken)),
        "{refused:?}"
    );
    let phone = ProfileInput {
        phone: Patch::Set("+4520123456".into()),
        ..ProfileInput::default()
    };
    let refused = block_on(shop.customers().create(&shop.owner, &phone));
    assert!(
        matches!(refused, Err(CustomerError::PhoneTaken)),
        "{refused:?}"
    );
    let direct = Customer {
        id: CustomerId::from_stored(shop.system.new_id("cust")),
        ..shop.find(
            &block_on(
                shop.customers()
                    .list(&shop.owner, &CustomerListParams::default()),
            )
            .unwrap()
            .items()[0]
                .id,
        )
    };
    let audit = shop.audit();
    assert_eq!(
        block_on(CustomerRepository::insert(&memory, &direct, &audit)),
        Err(RepoError::Conflict(Unique::CustomerEmail))
    );
    // Another store may have the same email and phone.
    let other = Shop::open(&memory);
    other.customer("Maria", Some("maria@example.dk"), Some("+4520123456"));
}

#[test]
fn another_stores_id_sees_nothing() {
    let memory = Memory::new();
    let (shop, other) = (Shop::open(&memory), Shop::open(&memory));
    let maria = shop.customer("Maria", None, None);
    let order = shop.order(&maria.id, "Pizza", 10_000, None, None);
    let id = &maria.id;
    let store = other.store();
    assert_eq!(
        block_on(CustomerRepository::find(&memory, store, id)),
        Ok(None)
    );
    assert_eq!(
        block_on(OrderRepository::find(&memory, store, &order.order().id)),
        Ok(None)
    );
    let everyone = CustomerListParams::default()
        .validate(shop.system.now(), chrono_tz::Tz::UTC)
        .unwrap();
    assert_eq!(
        block_on(CustomerRepository::list(&memory, store, &everyone)),
        Ok((vec![], 0))
    );
    assert_eq!(
        block_on(CustomerRepository::list(&memory, shop.store(), &everyone))
            .unwrap()
            .1,
        1
    );
    let page = PageRequest::first();
    assert_eq!(block_on(memory.ledger(store, id, page)), Ok(None));
    assert_eq!(
        block_on(memory.list_for_customer(store, id, page)),
        Ok(None)
    );
    assert_eq!(
        block_on(OrderRepository::analytics(&memory, store, id)),
        Ok(None)
    );
    assert!(!block_on(memory.set_activity(store, id, &Activity::default())).unwrap());
    let audit = other.audit();
    assert!(!block_on(CustomerRepository::delete(&memory, store, id, &audit)).unwrap());
    assert_eq!(
        block_on(memory.cancel(store, &order.order().id, audit.at, &shop.entry_id(), &audit)),
        Ok(None)
    );
    assert!(shop.find(id).activity.total_orders == 1, "nothing changed");
}

#[test]
fn a_stale_version_changes_nothing() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let mut profile = maria.profile.clone();
    profile.accepts_marketing = true;
    let (store, audit) = (shop.store(), shop.audit());
    let update = |version| {
        block_on(memory.update_profile(store, &maria.id, &profile, version, audit.at, &audit))
    };
    assert_eq!(update(maria.version), Ok(true));
    assert_eq!(update(maria.version), Ok(false), "the version moved on");
    let stored = shop.find(&maria.id);
    assert_eq!(stored.version, maria.version + 1);
    assert!(stored.profile.accepts_marketing);
    let updates = AuditFilter {
        action: Some(AuditAction::CustomerUpdated),
        ..AuditFilter::default()
    };
    let (_, total) = block_on(AuditRepository::list(
        &memory,
        store,
        &updates,
        PageRequest::first(),
    ))
    .unwrap();
    assert_eq!(total, 1, "only the write that happened is audited");
}

#[test]
fn the_ledger_never_goes_below_zero_and_numbers_its_entries() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let id = maria.id.as_str();
    let loyalty = shop.loyalty();
    let adjust = |delta, claim| {
        block_on(loyalty.adjust(&shop.owner, id, Some(delta), Some("by hand"), claim))
    };
    adjust(10, None).unwrap();
    adjust(-4, Some("claim-1")).unwrap();
    assert!(matches!(
        adjust(-7, None),
        Err(LoyaltyError::InsufficientPoints { balance: 6 })
    ));
    // The same claim again returns its entry and writes nothing.
    adjust(-4, Some("claim-1")).unwrap();
    let page = block_on(loyalty.ledger(&shop.owner, id, PageRequest::first())).unwrap();
    assert_eq!(page.balance, 6);
    let moves: Vec<_> = page
        .entries
        .items
        .iter()
        .map(|e| (e.delta, e.balance_after))
        .collect();
    assert_eq!(moves, [(-4, 6), (10, 10)], "newest first");
    assert_eq!(page.entries.total, 2);
    assert_eq!(shop.find(&maria.id).activity.loyalty_points, 6);
    let second = PageRequest::new(Some(2), Some(1)).unwrap();
    let (_, entries, total) = block_on(memory.ledger(shop.store(), &maria.id, second))
        .unwrap()
        .unwrap();
    assert_eq!((entries[0].delta, total), (10, 2));
}

#[test]
fn an_order_is_recorded_once_per_external_id_or_claim() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let first = shop.order(&maria.id, "Pizza", 12_000, Some("pos-1"), None);
    assert!(matches!(first, Recorded::New(_)));
    let again = shop.order(&maria.id, "Pasta", 5_000, Some("pos-1"), None);
    assert!(matches!(&again, Recorded::Existing(o) if o.id == first.order().id));
    let claimed = shop.order(&maria.id, "Salad", 3_000, None, Some("claim-9"));
    let replayed = shop.order(&maria.id, "Salad", 3_000, None, Some("claim-9"));
    assert!(matches!(&replayed, Recorded::Existing(o) if o.id == claimed.order().id));
    let activity = shop.find(&maria.id).activity;
    assert_eq!(
        (activity.total_orders, activity.total_spent_minor),
        (2, 15_000)
    );
    assert_eq!(
        activity.loyalty_points,
        120 + 30,
        "100 minor units per point"
    );
}

#[test]
fn a_blocked_or_unknown_customer_has_no_orders_recorded() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let block = Block {
        reason: None,
        at: shop.system.now(),
    };
    assert!(block_on(memory.set_block(shop.store(), &maria.id, Some(&block))).unwrap());
    let input = OrderInput {
        customer_id: Some(maria.id.to_string()),
        items: Some(vec![OrderItemInput {
            product_id: Some("p".into()),
            product_name: Some("P".into()),
            quantity: Some(1),
            unit_price_minor: Some(100),
            ..OrderItemInput::default()
        }]),
        ..OrderInput::default()
    };
    let refused = block_on(shop.orders().record(&shop.owner, &input, None));
    assert_eq!(
        refused.unwrap_err(),
        crate::order::OrderError::CustomerBlocked
    );
    let (orders, total) =
        block_on(memory.list_for_customer(shop.store(), &maria.id, PageRequest::first()))
            .unwrap()
            .unwrap();
    assert!(orders.is_empty() && total == 0);
}

#[test]
fn cancelling_twice_changes_nothing_the_second_time() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let older = shop.order(&maria.id, "Pizza", 10_000, Some("a"), None);
    let newer = shop.order(&maria.id, "Pasta", 5_000, Some("b"), None);
    let orders = shop.orders();
    let id = newer.order().id.to_string();
    let cancelled = block_on(orders.cancel(&shop.owner, &id)).unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let after_first = shop.find(&maria.id).activity;
    assert_eq!(after_first.total_orders, 1);
    assert_eq!(after_first.total_spent_minor, 10_000);
    assert_eq!(after_first.loyalty_points, 100);
    assert_eq!(after_first.last_order_at, Some(older.order().placed_at));
    let again = block_on(orders.cancel(&shop.owner, &id)).unwrap();
    assert_eq!(again, cancelled);
    assert_eq!(shop.find(&maria.id).activity, after_first);
    let (_, entries, total) =
        block_on(memory.ledger(shop.store(), &maria.id, PageRequest::first()))
            .unwrap()
            .unwrap();
    assert_eq!(total, 3, "two earns, one take-back");
    assert_eq!((entries[0].delta, entries[0].balance_after), (-50, 100));
    let analytics = block_on(orders.analytics(&shop.owner, maria.id.as_str())).unwrap();
    assert_eq!(
        analytics.top_products.len(),
        1,
        "the cancelled order is left out"
    );
}

#[test]
fn erasure_detaches_orders_and_reviews_and_frees_the_email() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", Some("maria@example.dk"), None);
    let order = shop
        .order(&maria.id, "Pizza", 10_000, None, None)
        .order()
        .clone();
    let review = Review {
        id: ReviewId::from_stored(shop.system.new_id("rev")),
        store_id: shop.store().clone(),
        order_id: order.id.clone(),
        customer_id: Some(maria.id.clone()),
        rating: Rating::parse(5).unwrap(),
        food_rating: None,
        delivery_rating: None,
        packaging_rating: None,
        comment: None,
        moderation: Moderation::NEW,
        response: None,
        created_at: shop.system.now(),
        version: 1,
    };
    block_on(ReviewRepository::insert(&memory, &review)).unwrap();
    let scope = IdempotencyScope {
        store_id: shop.store().clone(),
        credential_id: shop.owner.credential_id.clone(),
        key: "k1".into(),
    };
    let (now, lease, life) = (
        shop.system.now(),
        chrono::Duration::seconds(30),
        chrono::Duration::hours(24),
    );
    let begin = |digest| {
        block_on(memory.begin(
            &scope,
            Some(maria.id.clone()),
            digest,
            "c1",
            now,
            lease,
            life,
        ))
    };
    assert_eq!(begin("d"), Ok(Begin::Proceed { claim: "c1".into() }));
    assert_eq!(begin("d"), Ok(Begin::InProgress));

    block_on(shop.customers().delete(&shop.owner, maria.id.as_str())).unwrap();
    let store = shop.store();
    assert_eq!(
        block_on(CustomerRepository::find(&memory, store, &maria.id)),
        Ok(None)
    );
    let kept = block_on(OrderRepository::find(&memory, store, &order.id))
        .unwrap()
        .unwrap();
    assert_eq!(kept.customer_id, None);
    let kept = block_on(ReviewRepository::find(&memory, store, &review.id))
        .unwrap()
        .unwrap();
    assert_eq!((kept.customer_id, kept.version), (None, 2));
    assert_eq!(
        begin("other"),
        Ok(Begin::Proceed { claim: "c1".into() }),
        "the key went"
    );
    assert_eq!(
        block_on(memory.ledger(store, &maria.id, PageRequest::first())),
        Ok(None)
    );
    shop.customer("Maria again", Some("MARIA@example.dk"), None);
}

#[test]
fn the_list_filters_sorts_and_pages() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let bo = shop.customer("bo", Some("bo@example.dk"), None);
    let anna = shop.customer("Anna", Some("anna@example.dk"), Some("+4511111111"));
    let carl = shop.customer("Carl", None, None);
    let nameless = block_on(shop.customers().create(
        &shop.owner,
        &ProfileInput {
            allergens: Patch::Set(vec!["NUTS".into()]),
            ..ProfileInput::default()
        },
    ))
    .unwrap();
    shop.order(&carl.id, "Pizza", 30_000, None, None);
    shop.order(&anna.id, "Pizza", 10_000, None, None);
    let list = |params: CustomerListParams| {
        let page = block_on(shop.customers().list(&shop.owner, &params))
            .unwrap()
            .into_page()
            .unwrap();
        let ids: Vec<CustomerId> = page.items.iter().map(|c| c.id.clone()).collect();
        (ids, page.total)
    };
    let by = |sort: &str, dir: &str| CustomerListParams {
        sort_by: Some(sort.into()),
        sort_dir: Some(dir.into()),
        ..CustomerListParams::default()
    };
    let ids = |list: &[&Customer]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    // First names compare ASCII-case-folded; no name comes last either way.
    assert_eq!(
        list(by("firstName", "asc")).0,
        ids(&[&anna, &bo, &carl, &nameless])
    );
    assert_eq!(
        list(by("firstName", "desc")).0,
        ids(&[&carl, &bo, &anna, &nameless])
    );
    assert_eq!(list(by("lastOrderAt", "asc")).0[2..].len(), 2);
    assert_eq!(
        list(by("totalSpentMinor", "desc")).0[..2],
        ids(&[&carl, &anna])
    );
    let text = CustomerListParams {
        q: Some(" EXAMPLE.DK ".into()),
        ..by("firstName", "asc")
    };
    assert_eq!(list(text), (ids(&[&anna, &bo]), 2));
    let phone = CustomerListParams {
        q: Some("+4511".into()),
        ..CustomerListParams::default()
    };
    assert_eq!(list(phone), (ids(&[&anna]), 1));
    let nuts = CustomerListParams {
        allergen: Some("NUTS".into()),
        ..CustomerListParams::default()
    };
    assert_eq!(list(nuts), (ids(&[&nameless]), 1));
    let spent = CustomerListParams {
        has_orders: Some(true),
        min_spent: Some(10_000),
        max_spent: Some(20_000),
        ..CustomerListParams::default()
    };
    assert_eq!(list(spent), (ids(&[&anna]), 1));
    let second_page = CustomerListParams {
        page: Some(2),
        limit: Some(3),
        ..by("firstName", "asc")
    };
    assert_eq!(list(second_page), (ids(&[&nameless]), 4));
    let past_the_end = CustomerListParams {
        page: Some(9),
        ..CustomerListParams::default()
    };
    assert_eq!(list(past_the_end), (vec![], 4));

    // By cursor, one row a page: forward through every name (the nameless last), then back.
    let slice = |params: CustomerListParams| {
        block_on(shop.customers().list(&shop.owner, &params))
            .unwrap()
            .into_slice()
            .unwrap()
    };
    let by_cursor = |after: Option<String>, before: Option<String>| CustomerListParams {
        after,
        before,
        limit: Some(1),
        total: Some("bounded".into()),
        ..by("firstName", "asc")
    };
    let mut walked = Vec::new();
    let mut page = slice(by_cursor(Some(String::new()), None));
    assert_eq!(page.total, Some(crate::keyset::Total::Exact(4)));
    loop {
        walked.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next.clone() {
            Some(next) => page = slice(by_cursor(Some(next), None)),
            None => break,
        }
    }
    assert_eq!(walked, ids(&[&anna, &bo, &carl, &nameless]));
    let mut back = Vec::new();
    let mut page = slice(by_cursor(None, Some(String::new())));
    loop {
        back.extend(page.items.iter().map(|c| c.id.clone()));
        match page.prev.clone() {
            Some(prev) => page = slice(by_cursor(None, Some(prev))),
            None => break,
        }
    }
    back.reverse();
    assert_eq!(back, walked);
}

#[test]
fn review_counters_agree_with_a_recount() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let maria = shop.customer("Maria", None, None);
    let store = shop.store();
    let mut ids = Vec::new();
    for (n, rating) in [5, 4, 4, 1].into_iter().enumerate() {
        let order = shop.order(&maria.id, "Pizza", 100, Some(&format!("o{n}")), None);
        let review = Review {
            id: ReviewId::from_stored(shop.system.new_id("rev")),
            store_id: store.clone(),
            order_id: order.order().id.clone(),
            customer_id: Some(maria.id.clone()),
            rating: Rating::parse(rating).unwrap(),
            food_rating: None,
            delivery_rating: None,
            packaging_rating: None,
            comment: None,
            moderation: Moderation::NEW,
            response: None,
            created_at: shop.system.now(),
            version: 1,
        };
        block_on(ReviewRepository::insert(&memory, &review)).unwrap();
        let twice = block_on(ReviewRepository::insert(
            &memory,
            &Review {
                id: ReviewId::from_stored(shop.system.new_id("rev")),
                ..review.clone()
            },
        ));
        assert_eq!(twice, Err(crate::review::ReviewError::AlreadyReviewed));
        ids.push(review.id);
    }
    let approved = Moderation {
        is_approved: true,
        ..Moderation::NEW
    };
    assert!(block_on(memory.set_moderation(store, &ids[0], approved, 1)).unwrap());
    assert!(
        !block_on(memory.set_moderation(store, &ids[0], Moderation::NEW, 1)).unwrap(),
        "stale"
    );
    assert!(block_on(memory.set_moderation(store, &ids[1], approved, 1)).unwrap());
    assert!(block_on(ReviewRepository::delete(&memory, store, &ids[1])).unwrap());
    let kept = block_on(memory.stats(store)).unwrap();
    assert_eq!(kept, block_on(memory.recount_reviews(store)).unwrap());
    assert_eq!(
        (kept.total, kept.approved, kept.distribution),
        (3, 1, [1, 0, 0, 1, 1])
    );
}

#[test]
fn an_idempotency_key_replays_its_response_and_refuses_another_request() {
    let memory = Memory::new();
    let shop = Shop::open(&memory);
    let scope = IdempotencyScope {
        store_id: shop.store().clone(),
        credential_id: shop.owner.credential_id.clone(),
        key: "k".into(),
    };
    let now = shop.system.now();
    let (lease, life) = (chrono::Duration::seconds(30), chrono::Duration::hours(24));
    let begin =
        |digest, claim, at| block_on(memory.begin(&scope, None, digest, claim, at, lease, life));
    assert_eq!(
        begin("d", "c1", now),
        Ok(Begin::Proceed { claim: "c1".into() })
    );
    let later = now + chrono::Duration::minutes(1);
    assert_eq!(
        begin("d", "c2", later),
        Ok(Begin::Proceed { claim: "c1".into() }),
        "lease ran out"
    );
    let response = StoredResponse {
        status: 201,
        body: b"{}".to_vec(),
    };
    block_on(memory.complete(&scope, "c1", &response)).unwrap();
    assert_eq!(begin("d", "c3", later), Ok(Begin::Replay(response)));
    assert_eq!(begin("x", "c3", later), Ok(Begin::Mismatch));
    let next_day = now + chrono::Duration::hours(25);
    assert_eq!(
        begin("x", "c4", next_day),
        Ok(Begin::Proceed { claim: "c4".into() })
    );
}
