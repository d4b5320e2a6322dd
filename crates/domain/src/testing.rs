//! Mock ports for the use-case tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use crate::access::{Holder, Principal, Role};
use crate::ids::{CredentialId, StoreId, UserId};
use crate::ports::*;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A future that is ready with `value`, as mock expectations return.
pub fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

pub fn now() -> DateTime<Utc> {
    "2026-03-15T10:00:00.123Z".parse().expect("a valid instant")
}

pub fn store_id() -> StoreId {
    StoreId::parse("store_aaaaaaaaaaaa").expect("well formed")
}

pub fn staff(role: Role) -> Principal {
    Principal {
        store_id: store_id(),
        credential_id: CredentialId::parse("key_aaaaaaaaaaaa").expect("well formed"),
        holder: Holder::Staff {
            user_id: UserId::parse("usr_aaaaaaaaaaaa").expect("well formed"),
            email: "owner@example.dk".into(),
            role,
        },
    }
}

/// Every port mocked. The clock and the id generator come set up: a fixed time and ids
/// numbered from 1 (`cust_000000000001`, …).
pub struct TestPorts {
    pub customers: MockCustomerRepository,
    pub stores: MockStoreRepository,
    pub users: MockUserRepository,
    pub credentials: MockCredentialRepository,
    pub orders: MockOrderRepository,
    pub loyalty: MockLoyaltyRepository,
    pub idempotency: MockIdempotencyRepository,
    pub reviews: MockReviewRepository,
    pub login_failures: MockLoginFailureRepository,
    pub audit: MockAuditRepository,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
    pub passwords: MockPasswordHasher,
    pub digests: MockTokenDigester,
}

impl TestPorts {
    pub fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let mut ids = MockIdGenerator::new();
        let counter = AtomicUsize::new(0);
        ids.expect_new_id().returning(move |prefix| {
            format!(
                "{prefix}_{:012}",
                counter.fetch_add(1, Ordering::SeqCst) + 1
            )
        });
        ids.expect_secret_bytes().returning(|| [7; 32]);
        Self {
            customers: MockCustomerRepository::new(),
            stores: MockStoreRepository::new(),
            users: MockUserRepository::new(),
            credentials: MockCredentialRepository::new(),
            orders: MockOrderRepository::new(),
            loyalty: MockLoyaltyRepository::new(),
            idempotency: MockIdempotencyRepository::new(),
            reviews: MockReviewRepository::new(),
            login_failures: MockLoginFailureRepository::new(),
            audit: MockAuditRepository::new(),
            clock,
            ids,
            passwords: MockPasswordHasher::new(),
            digests: MockTokenDigester::new(),
        }
    }
}

impl Ports for TestPorts {
    type Customers = MockCustomerRepository;
    type Stores = MockStoreRepository;
    type Users = MockUserRepository;
    type Credentials = MockCredentialRepository;
    type Orders = MockOrderRepository;
    type Loyalty = MockLoyaltyRepository;
    type Idempotency = MockIdempotencyRepository;
    type Reviews = MockReviewRepository;
    type LoginFailures = MockLoginFailureRepository;
    type Audit = MockAuditRepository;
    type Clock = MockClock;
    type Ids = MockIdGenerator;
    type Passwords = MockPasswordHasher;
    type Digests = MockTokenDigester;

    fn customers(&self) -> &Self::Customers {
        &self.customers
    }
    fn stores(&self) -> &Self::Stores {
        &self.stores
    }
    fn users(&self) -> &Self::Users {
        &self.users
    }
    fn credentials(&self) -> &Self::Credentials {
        &self.credentials
    }
    fn orders(&self) -> &Self::Orders {
        &self.orders
    }
    fn loyalty(&self) -> &Self::Loyalty {
        &self.loyalty
    }
    fn idempotency(&self) -> &Self::Idempotency {
        &self.idempotency
    }
    fn reviews(&self) -> &Self::Reviews {
        &self.reviews
    }
    fn login_failures(&self) -> &Self::LoginFailures {
        &self.login_failures
    }
    fn audit(&self) -> &Self::Audit {
        &self.audit
    }
    fn clock(&self) -> &Self::Clock {
        &self.clock
    }
    fn ids(&self) -> &Self::Ids {
        &self.ids
    }
    fn passwords(&self) -> &Self::Passwords {
        &self.passwords
    }
    fn digests(&self) -> &Self::Digests {
        &self.digests
    }
}
