//! What every handler can reach.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use customers_domain::access::{
    ApiKeyService, CredentialRepository, LoginFailureRepository, PasswordHasher, SessionPorts,
    SessionService, StaffService, TokenDigester, UserRepository,
};
use customers_domain::audit::{AuditRepository, AuditService};
use customers_domain::customer::{CustomerRepository, CustomerService};
use customers_domain::idempotency::{Idempotency, IdempotencyRepository};
use customers_domain::loyalty::{LoyaltyRepository, LoyaltyService};
use customers_domain::order::{OrderRepository, OrderService};
use customers_domain::ports::System;
use customers_domain::privacy::PrivacyService;
use customers_domain::review::{ReviewRepository, ReviewService};
use customers_domain::store::StoreRepository;

use crate::client_address::TrustedProxies;
use crate::limits::{CredentialLimits, Limiter};
use crate::metrics::{Metrics, PoolGauges, PoolProbe};

/// Answers whether the database answers (for `/readyz`).
pub type ReadinessCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The adapters the HTTP adapter serves from: one database holding every repository, the
/// credential lookup (often a cache in front of the database) and the password hasher.
pub trait Stack: Send + Sync + 'static {
    type Db: CustomerRepository
        + StoreRepository
        + UserRepository
        + OrderRepository
        + LoyaltyRepository
        + IdempotencyRepository
        + ReviewRepository
        + LoginFailureRepository
        + AuditRepository;
    type Credentials: CredentialRepository;
    type Passwords: PasswordHasher;
}

/// The export over one database.
pub type Privacy<P> = PrivacyService<
    <P as Stack>::Db,
    <P as Stack>::Db,
    <P as Stack>::Db,
    <P as Stack>::Db,
    <P as Stack>::Db,
>;

/// Sessions over the stack's database, credential lookup and password hasher.
pub type Sessions<P> = SessionService<
    <P as Stack>::Db,
    <P as Stack>::Credentials,
    <P as Stack>::Db,
    <P as Stack>::Db,
    <P as Stack>::Passwords,
>;

/// The adapters of a [`Stack`], to build the use cases from.
pub struct Adapters<P: Stack> {
    pub db: Arc<P::Db>,
    pub credentials: Arc<P::Credentials>,
    pub passwords: Arc<P::Passwords>,
    pub digests: Arc<dyn TokenDigester>,
    pub system: System,
}

/// The use cases, built once and shared by every worker.
pub struct AppState<P: Stack> {
    pub customers: CustomerService<P::Db, P::Db>,
    pub orders: OrderService<P::Db, P::Db>,
    pub loyalty: LoyaltyService<P::Db>,
    pub idempotency: Idempotency<P::Db>,
    pub reviews: ReviewService<P::Db, P::Db, P::Db>,
    pub privacy: Privacy<P>,
    pub sessions: Sessions<P>,
    pub staff: StaffService<P::Db, P::Passwords>,
    pub api_keys: ApiKeyService<P::Credentials>,
    pub audit: AuditService<P::Db, P::Db>,
    pub ready: ReadinessCheck,
    /// Shared by every worker.
    pub metrics: Arc<Metrics>,
    pub pool: PoolProbe,
    /// Longest a request may take before it answers 503 (default 30 s).
    pub request_timeout: Duration,
    /// Per-credential rate and concurrency limits, shared by every worker.
    pub limiter: Arc<Limiter>,
    /// The reverse proxies whose `X-Forwarded-For` names the client (default: none).
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl<P: Stack> AppState<P> {
    pub fn new(adapters: Adapters<P>, ready: ReadinessCheck, pool: PoolProbe) -> Self {
        let Adapters {
            db,
            credentials,
            passwords,
            digests,
            system,
        } = adapters;
        let sessions = SessionPorts {
            users: Arc::clone(&db),
            credentials: Arc::clone(&credentials),
            login_failures: Arc::clone(&db),
            stores: Arc::clone(&db),
            passwords: Arc::clone(&passwords),
            digests: Arc::clone(&digests),
        };
        Self {
            customers: CustomerService::new(Arc::clone(&db), Arc::clone(&db), system.clone()),
            orders: OrderService::new(Arc::clone(&db), Arc::clone(&db), system.clone()),
            loyalty: LoyaltyService::new(Arc::clone(&db), system.clone()),
            idempotency: Idempotency::new(Arc::clone(&db), Arc::clone(&digests), system.clone()),
            reviews: ReviewService::new(
                Arc::clone(&db),
                Arc::clone(&db),
                Arc::clone(&db),
                system.clone(),
            ),
            privacy: PrivacyService::new(
                Arc::clone(&db),
                Arc::clone(&db),
                Arc::clone(&db),
                Arc::clone(&db),
                Arc::clone(&db),
                system.clone(),
            ),
            sessions: SessionService::new(sessions, system.clone()),
            staff: StaffService::new(Arc::clone(&db), passwords, system.clone()),
            api_keys: ApiKeyService::new(credentials, digests, system.clone()),
            audit: AuditService::new(Arc::clone(&db), db, system),
            ready,
            metrics: Arc::new(Metrics::default()),
            pool,
            request_timeout: Duration::from_secs(30),
            limiter: Limiter::new(CredentialLimits::default()),
            trusted_proxies: Arc::default(),
        }
    }
}

impl<P: Stack> AppState<P> {
    pub fn pool_gauges(&self) -> PoolGauges {
        (self.pool)()
    }
}

impl<P: Stack> Clone for AppState<P> {
    fn clone(&self) -> Self {
        Self {
            customers: self.customers.clone(),
            orders: self.orders.clone(),
            loyalty: self.loyalty.clone(),
            idempotency: self.idempotency.clone(),
            reviews: self.reviews.clone(),
            privacy: self.privacy.clone(),
            sessions: self.sessions.clone(),
            staff: self.staff.clone(),
            api_keys: self.api_keys.clone(),
            audit: self.audit.clone(),
            ready: Arc::clone(&self.ready),
            metrics: Arc::clone(&self.metrics),
            pool: Arc::clone(&self.pool),
            request_timeout: self.request_timeout,
            limiter: Arc::clone(&self.limiter),
            trusted_proxies: Arc::clone(&self.trusted_proxies),
        }
    }
}
