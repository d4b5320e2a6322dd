//! Test doubles and fixtures (feature `testing`): every port mocked (mockall), a fixed clock,
//! numbered ids, and callers of each role.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use crate::access::ports::{
    MockCredentialRepository, MockLoginFailureRepository, MockPasswordHasher, MockTokenDigester,
    MockUserRepository,
};
use crate::access::{ApiKeyService, Scope, SessionPorts, SessionService, StaffService};
use crate::access::{Holder, Principal, Role};
use crate::audit::AuditService;
use crate::audit::ports::MockAuditRepository;
use crate::customer::CustomerService;
use crate::customer::ports::MockCustomerRepository;
use crate::idempotency::Idempotency;
use crate::idempotency::ports::MockIdempotencyRepository;
use crate::ids::{CredentialId, StoreId, UserId};
use crate::loyalty::LoyaltyService;
use crate::loyalty::ports::MockLoyaltyRepository;
use crate::order::OrderService;
use crate::order::ports::MockOrderRepository;
use crate::ports::{Clock, IdGenerator, System};
use crate::privacy::PrivacyService;
use crate::review::ReviewService;
use crate::review::ports::MockReviewRepository;
use crate::store::StoreService;
use crate::store::ports::MockStoreRepository;

/// A boxed `Send` future, the return type of the mocked ports' methods.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A future that is ready with `value`, as mock expectations return.
pub fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

/// The fixed instant of the tests: 2026-03-15T10:00:00.123Z.
pub fn now() -> DateTime<Utc> {
    "2026-03-15T10:00:00.123Z".parse().expect("a valid instant")
}

/// The fixture store, `store_aaaaaaaaaaaa`.
pub fn store_id() -> StoreId {
    StoreId::parse("store_aaaaaaaaaaaa").expect("well formed")
}

/// A staff caller of the fixture store with `role` (user `usr_aaaaaaaaaaaa`, credential
/// `key_aaaaaaaaaaaa`).
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

/// An API key of the fixture store holding `scopes`.
pub fn api_key(scopes: &[Scope]) -> Principal {
    Principal {
        holder: Holder::ApiKey {
            name: "pos".into(),
            scopes: scopes.to_vec(),
        },
        ..staff(Role::Staff)
    }
}

/// A clock that always answers [`now`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// Ids numbered from 1 (`cust_000000000001`, …) and secrets of sevens.
#[derive(Debug, Default)]
pub struct NumberedIds(AtomicUsize);

impl IdGenerator for NumberedIds {
    fn new_id(&self, prefix: &'static str) -> String {
        format!("{prefix}_{:012}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn secret_bytes(&self) -> [u8; 32] {
        [7; 32]
    }
}

/// The fixed clock and numbered ids.
pub fn system() -> System {
    System::new(FixedClock, NumberedIds::default())
}

/// Every port mocked, to hand to the services under test (each takes the ones it uses).
pub struct TestPorts {
    /// Customers.
    pub customers: MockCustomerRepository,
    /// Stores.
    pub stores: MockStoreRepository,
    /// Staff users.
    pub users: MockUserRepository,
    /// Staff tokens and API keys.
    pub credentials: MockCredentialRepository,
    /// Orders.
    pub orders: MockOrderRepository,
    /// The loyalty ledger.
    pub loyalty: MockLoyaltyRepository,
    /// Idempotency keys.
    pub idempotency: MockIdempotencyRepository,
    /// Reviews.
    pub reviews: MockReviewRepository,
    /// Login attempts and failures.
    pub login_failures: MockLoginFailureRepository,
    /// The audit trail.
    pub audit: MockAuditRepository,
    /// Password hashing.
    pub passwords: MockPasswordHasher,
    /// Secret digests.
    pub digests: MockTokenDigester,
}

impl TestPorts {
    /// Every port a fresh mock, with no expectations.
    pub fn new() -> Self {
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
            passwords: MockPasswordHasher::new(),
            digests: MockTokenDigester::new(),
        }
    }
}

impl Default for TestPorts {
    fn default() -> Self {
        Self::new()
    }
}

/// Each service over the mocks it uses, with the fixed clock and numbered ids.
impl TestPorts {
    /// The digest mock answers every secret reversed: distinct secrets, distinct digests,
    /// and a test can tell which secret a digest is of.
    pub fn digest_reversed(&mut self) {
        self.digests
            .expect_digest()
            .returning(|secret| secret.chars().rev().collect());
    }

    /// A [`CustomerService`] over the customer and store mocks.
    pub fn customer_service(self) -> CustomerService<MockCustomerRepository, MockStoreRepository> {
        CustomerService::new(Arc::new(self.customers), Arc::new(self.stores), system())
    }

    /// An [`OrderService`] over the order and store mocks.
    pub fn order_service(self) -> OrderService<MockOrderRepository, MockStoreRepository> {
        OrderService::new(Arc::new(self.orders), Arc::new(self.stores), system())
    }

    /// A [`LoyaltyService`] over the loyalty mock.
    pub fn loyalty_service(self) -> LoyaltyService<MockLoyaltyRepository> {
        LoyaltyService::new(Arc::new(self.loyalty), system())
    }

    /// A [`ReviewService`] over the review, order and store mocks.
    pub fn review_service(
        self,
    ) -> ReviewService<MockReviewRepository, MockOrderRepository, MockStoreRepository> {
        ReviewService::new(
            Arc::new(self.reviews),
            Arc::new(self.orders),
            Arc::new(self.stores),
            system(),
        )
    }

    /// An [`AuditService`] over the audit and store mocks.
    pub fn audit_service(self) -> AuditService<MockAuditRepository, MockStoreRepository> {
        AuditService::new(Arc::new(self.audit), Arc::new(self.stores), system())
    }

    /// A [`PrivacyService`] over the customer, order, review, loyalty and audit mocks.
    #[allow(clippy::type_complexity)]
    pub fn privacy_service(
        self,
    ) -> PrivacyService<
        MockCustomerRepository,
        MockOrderRepository,
        MockReviewRepository,
        MockLoyaltyRepository,
        MockAuditRepository,
    > {
        PrivacyService::new(
            Arc::new(self.customers),
            Arc::new(self.orders),
            Arc::new(self.reviews),
            Arc::new(self.loyalty),
            Arc::new(self.audit),
            system(),
        )
    }

    /// The [`Idempotency`] use cases over the idempotency and digest mocks.
    pub fn idempotency(self) -> Idempotency<MockIdempotencyRepository> {
        Idempotency::new(Arc::new(self.idempotency), Arc::new(self.digests), system())
    }

    /// A [`SessionService`] over the user, credential, login failure, store, password and digest
    /// mocks.
    #[allow(clippy::type_complexity)]
    pub fn session_service(
        self,
    ) -> SessionService<
        MockUserRepository,
        MockCredentialRepository,
        MockLoginFailureRepository,
        MockStoreRepository,
        MockPasswordHasher,
    > {
        let ports = SessionPorts {
            users: Arc::new(self.users),
            credentials: Arc::new(self.credentials),
            login_failures: Arc::new(self.login_failures),
            stores: Arc::new(self.stores),
            passwords: Arc::new(self.passwords),
            digests: Arc::new(self.digests),
        };
        SessionService::new(ports, system())
    }

    /// A [`StaffService`] over the user and password mocks.
    pub fn staff_service(self) -> StaffService<MockUserRepository, MockPasswordHasher> {
        StaffService::new(Arc::new(self.users), Arc::new(self.passwords), system())
    }

    /// An [`ApiKeyService`] over the credential and digest mocks.
    pub fn api_key_service(self) -> ApiKeyService<MockCredentialRepository> {
        ApiKeyService::new(Arc::new(self.credentials), Arc::new(self.digests), system())
    }

    /// A [`StoreService`] over the store, password and digest mocks.
    pub fn store_service(self) -> StoreService<MockStoreRepository, MockPasswordHasher> {
        StoreService::new(
            Arc::new(self.stores),
            Arc::new(self.passwords),
            Arc::new(self.digests),
            system(),
        )
    }
}
