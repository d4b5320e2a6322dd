//! Fixtures: stores, customers, orders, ledger entries and instants for the contract cases.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::Repositories;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Copenhagen;
use customers_domain::access::{Credential, Role, SecretKind, StaffUser};
use customers_domain::audit::{Actor, AuditAction, AuditEntry};
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{
    Activity, Address, AdminNotes, Allergen, BirthDate, Customer, CustomerFilter,
    CustomerListQuery, CustomerSort, Email, Locale, PersonName, Phone, Profile, SortDirection,
};
use customers_domain::ids::{
    AddressId, AuditId, CredentialId, CustomerId, LedgerEntryId, OrderId, StoreId, UserId,
};
use customers_domain::keyset::{Binding, TotalMode};
use customers_domain::loyalty::LoyaltyRepository;
use customers_domain::loyalty::{LedgerEntry, LedgerSource};
use customers_domain::order::OrderRepository;
use customers_domain::order::{Order, OrderItem, OrderStatus, Recorded, points_earned};
use customers_domain::page::PageRequest;
use customers_domain::store::Store;

/// A fixed, millisecond-precise instant (what the service stores), plus `minutes`.
/// When the tests' writes happen.
pub fn now() -> DateTime<Utc> {
    at(0)
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    "2026-03-15T10:00:00.123Z"
        .parse::<DateTime<Utc>>()
        .expect("a valid instant")
        + Duration::minutes(minutes)
}

/// An audit entry of a change in `store` (the repositories store it with the change).
pub fn audit(store: &StoreId) -> AuditEntry {
    AuditEntry::new(
        AuditId::from_stored(new_id("aud")),
        store.clone(),
        now(),
        Actor::System,
        AuditAction::CustomerUpdated,
    )
}

/// The `order.recorded` entry of recording `order` (by the store's system actor).
pub fn recorded_audit(order: &Order) -> AuditEntry {
    let mut entry = AuditEntry {
        action: AuditAction::OrderRecorded,
        ..audit(&order.store_id)
    }
    .subject(order.id.as_str());
    entry.customer_id = order.customer_id.clone();
    entry
}

/// The `order.cancelled` entry of a cancel in `store`, by a staff user.
pub fn cancelled_audit(store: &StoreId) -> AuditEntry {
    AuditEntry {
        action: AuditAction::OrderCancelled,
        actor: Actor::User(UserId::from_stored("usr_canceller000001".into())),
        ..audit(store)
    }
}

/// A fresh well-formed id with this prefix, unique in the test run.
pub fn new_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}_{:014}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn customer_id(n: u32) -> CustomerId {
    CustomerId::parse(&format!("cust_{n:012}")).expect("a well-formed id")
}

/// A store with its owner (email `owner@example.dk`) and the owner's token (digest
/// `token-of-<store id>`).
pub struct StoreFixture {
    pub store: Store,
    pub owner: StaffUser,
    pub token: Credential,
}

pub fn store_fixture() -> StoreFixture {
    let store = Store {
        id: StoreId::from_stored(new_id("store")),
        name: "Trattoria Test".into(),
        currency: "DKK".into(),
        timezone: Copenhagen,
        minor_units_per_point: 100,
        max_order_minor: 100_000_000,
        created_at: at(0),
    };
    let owner = StaffUser {
        id: UserId::from_stored(new_id("usr")),
        store_id: store.id.clone(),
        email: Email::from_stored("Owner@Example.dk".into()),
        name: Some(PersonName::from_stored("Olga Owner".into())),
        role: Role::Owner,
        created_at: at(0),
    };
    let token = Credential {
        id: CredentialId::from_stored(new_id("key")),
        store_id: store.id.clone(),
        kind: SecretKind::StaffToken,
        user_id: Some(owner.id.clone()),
        name: "owner".into(),
        scopes: Vec::new(),
        digest: format!("token-of-{}", store.id),
        created_at: at(0),
        expires_at: None,
    };
    StoreFixture {
        store,
        owner,
        token,
    }
}

/// Creates a new store (with owner and token) and returns its id.
pub async fn new_store(db: &impl Repositories) -> StoreId {
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "argon2-hash",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .expect("the store is created");
    fixture.store.id
}

/// A customer with only the defaults.
pub fn blank_customer(store: &StoreId, id: CustomerId) -> Customer {
    Customer {
        id,
        store_id: store.clone(),
        profile: Profile::default(),
        activity: Activity::default(),
        block: None,
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

/// A customer with every profile field set.
pub fn full_customer(store: &StoreId, id: CustomerId) -> Customer {
    let profile = Profile {
        first_name: Some(PersonName::from_stored("Maria".into())),
        last_name: Some(PersonName::from_stored("Ørsted-Nielsen".into())),
        email: Some(Email::from_stored("Maria.Nielsen@Example.DK".into())),
        phone: Some(Phone::from_stored("+4520123456".into())),
        accepts_marketing: true,
        locale: Locale::from_stored("en-GB".into()),
        default_address: Some(Address {
            id: AddressId::from_stored(new_id("addr")),
            line: Some("Nørrebrogade 1, 2. tv".into()),
            zipcode: Some("2200".into()),
            city: Some("København N".into()),
        }),
        admin_notes: Some(AdminNotes::from_stored(
            "VIP.\nPrefers the window table 🍝".into(),
        )),
        birth_date: Some(BirthDate::from_stored(
            NaiveDate::from_ymd_opt(1990, 5, 15).expect("a real date"),
        )),
        allergens: [Allergen::Sesame, Allergen::Gluten, Allergen::Nuts]
            .into_iter()
            .collect(),
    };
    Customer {
        profile,
        created_at: at(1),
        updated_at: at(1),
        ..blank_customer(store, id)
    }
}

pub fn with_contact(mut customer: Customer, email: Option<&str>, phone: Option<&str>) -> Customer {
    customer.profile.email = email.map(|e| Email::from_stored(e.into()));
    customer.profile.phone = phone.map(|p| Phone::from_stored(p.into()));
    customer
}

pub async fn insert(db: &impl Repositories, customer: &Customer) {
    CustomerRepository::insert(db, customer, &audit(&customer.store_id))
        .await
        .expect("the customer is inserted");
}

pub async fn find(db: &impl Repositories, store: &StoreId, id: &CustomerId) -> Option<Customer> {
    CustomerRepository::find(db, store, id)
        .await
        .expect("find works")
}

pub fn query(filter: CustomerFilter) -> CustomerListQuery {
    CustomerListQuery {
        page: PageRequest::new(Some(1), Some(100)).expect("a valid page"),
        seek: None,
        total: TotalMode::Exact,
        binding: Binding::of("contract"),
        sort: CustomerSort::CreatedAt,
        direction: SortDirection::Desc,
        filter,
    }
}

/// The ids of one page and the total.
pub async fn list_ids(
    db: &impl Repositories,
    store: &StoreId,
    query: &CustomerListQuery,
) -> (Vec<CustomerId>, u64) {
    let (rows, total) = CustomerRepository::list(db, store, query)
        .await
        .expect("list works");
    (rows.into_iter().map(|row| row.id).collect(), total)
}

/// The total of the unfiltered list (read from the store's counter).
pub async fn counted(db: &impl Repositories, store: &StoreId) -> u64 {
    list_ids(db, store, &query(CustomerFilter::default()))
        .await
        .1
}

/// The total of a list filtered so that it matches every customer: counted afresh rather than
/// read from the store's counter (on SQL, a real `COUNT(*)`).
pub async fn really_counted(db: &impl Repositories, store: &StoreId) -> u64 {
    let everyone = CustomerFilter {
        min_spent: Some(i64::MIN),
        ..CustomerFilter::default()
    };
    list_ids(db, store, &query(everyone)).await.1
}

/// Creates a new store and returns it with the id of its owner's token (a credential that
/// idempotency keys can belong to).
pub async fn new_store_with_token(db: &impl Repositories) -> (StoreId, CredentialId) {
    let fixture = store_fixture();
    db.create_with_owner(
        &fixture.store,
        &fixture.owner,
        "argon2-hash",
        &fixture.token,
        &audit(&fixture.store.id),
    )
    .await
    .expect("the store is created");
    (fixture.store.id, fixture.token.id)
}

/// A new blank customer of the store.
pub async fn new_customer(db: &impl Repositories, store: &StoreId, n: u32) -> CustomerId {
    let customer = blank_customer(store, customer_id(n));
    insert(db, &customer).await;
    customer.id
}

pub fn order_id() -> OrderId {
    OrderId::from_stored(new_id("ord"))
}

pub fn entry_id() -> LedgerEntryId {
    LedgerEntryId::from_stored(new_id("loy"))
}

/// An item of `product` (its name is the product id in upper case) in `category`.
pub fn item(
    product: &str,
    category: Option<&str>,
    quantity: i64,
    unit_price_minor: i64,
) -> OrderItem {
    OrderItem {
        product_id: product.into(),
        product_name: product.to_uppercase(),
        category_id: category.map(Into::into),
        category_name: category.map(str::to_uppercase),
        quantity,
        unit_price_minor,
    }
}

/// A recorded order placed at `at(minutes)`, totalling its items, earning one point per 100.
pub fn order(
    store: &StoreId,
    customer: Option<&CustomerId>,
    minutes: i64,
    items: Vec<OrderItem>,
) -> Order {
    let total_minor = items.iter().map(|i| i.quantity * i.unit_price_minor).sum();
    Order {
        id: order_id(),
        store_id: store.clone(),
        customer_id: customer.cloned(),
        external_id: None,
        status: OrderStatus::Recorded,
        total_minor,
        currency: "DKK".into(),
        placed_at: at(minutes),
        cancelled_at: None,
        points_earned: if customer.is_some() {
            points_earned(total_minor, 100)
        } else {
            0
        },
        items,
        recorded_by: None,
        cancelled_by: None,
    }
}

/// An order of one item worth `total_minor`.
pub fn simple_order(
    store: &StoreId,
    customer: Option<&CustomerId>,
    minutes: i64,
    total_minor: i64,
) -> Order {
    order(
        store,
        customer,
        minutes,
        vec![item("pizza", Some("mains"), 1, total_minor)],
    )
}

/// Records an order that must be new.
pub async fn record(db: &impl Repositories, order: &Order) -> Order {
    match OrderRepository::record(db, order, &entry_id(), None, now(), &recorded_audit(order)).await
    {
        Ok(Recorded::New(order)) => order,
        other => panic!("the order was not recorded as new: {other:?}"),
    }
}

/// The customer's activity (totals and points).
pub async fn activity(db: &impl Repositories, store: &StoreId, customer: &CustomerId) -> Activity {
    find(db, store, customer)
        .await
        .expect("the customer exists")
        .activity
}

/// The customer's balance and every ledger entry, newest first.
pub async fn whole_ledger(
    db: &impl Repositories,
    store: &StoreId,
    customer: &CustomerId,
) -> (i64, Vec<LedgerEntry>) {
    let mut entries = Vec::new();
    let mut balance = 0;
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(100)).expect("a valid page");
        let (current, rows, total) = LoyaltyRepository::ledger(db, store, customer, request)
            .await
            .expect("the ledger is read")
            .expect("the customer exists");
        balance = current;
        let last = rows.len() < 100;
        entries.extend(rows);
        assert!(entries.len() as u64 <= total);
        if last {
            assert_eq!(entries.len() as u64, total, "the total counts every entry");
            break;
        }
    }
    (balance, entries)
}

/// A manual adjustment entry of `delta` points.
pub fn manual(store: &StoreId, customer: &CustomerId, delta: i64, minutes: i64) -> LedgerEntry {
    LedgerEntry {
        id: entry_id(),
        store_id: store.clone(),
        customer_id: customer.clone(),
        delta,
        balance_after: 0,
        reason: format!("adjusted by {delta}"),
        source: LedgerSource::Manual,
        order_id: None,
        actor: None,
        created_at: at(minutes),
    }
}
