//! What every handler can reach.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use customers_domain::Ports;
use customers_domain::access::AccessService;
use customers_domain::audit::AuditService;
use customers_domain::customer::CustomerService;
use customers_domain::idempotency::Idempotency;
use customers_domain::loyalty::LoyaltyService;
use customers_domain::order::OrderService;
use customers_domain::privacy::PrivacyService;
use customers_domain::review::ReviewService;

use crate::client_address::TrustedProxies;
use crate::limits::{CredentialLimits, Limiter};
use crate::metrics::{Metrics, PoolGauges, PoolProbe};

/// Answers whether the database answers (for `/readyz`).
pub type ReadinessCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The use cases, built once and shared by every worker.
pub struct AppState<P> {
    pub customers: CustomerService<P>,
    pub orders: OrderService<P>,
    pub loyalty: LoyaltyService<P>,
    pub idempotency: Idempotency<P>,
    pub reviews: ReviewService<P>,
    pub privacy: PrivacyService<P>,
    pub access: AccessService<P>,
    pub audit: AuditService<P>,
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

impl<P: Ports> AppState<P> {
    pub fn new(ports: Arc<P>, ready: ReadinessCheck, pool: PoolProbe) -> Self {
        Self {
            customers: CustomerService::new(Arc::clone(&ports)),
            orders: OrderService::new(Arc::clone(&ports)),
            loyalty: LoyaltyService::new(Arc::clone(&ports)),
            idempotency: Idempotency::new(Arc::clone(&ports)),
            reviews: ReviewService::new(Arc::clone(&ports)),
            privacy: PrivacyService::new(Arc::clone(&ports)),
            audit: AuditService::new(Arc::clone(&ports)),
            access: AccessService::new(ports),
            ready,
            metrics: Arc::new(Metrics::default()),
            pool,
            request_timeout: Duration::from_secs(30),
            limiter: Limiter::new(CredentialLimits::default()),
            trusted_proxies: Arc::default(),
        }
    }
}

impl<P> AppState<P> {
    pub fn pool_gauges(&self) -> PoolGauges {
        (self.pool)()
    }
}

impl<P> Clone for AppState<P> {
    fn clone(&self) -> Self {
        Self {
            customers: self.customers.clone(),
            orders: self.orders.clone(),
            loyalty: self.loyalty.clone(),
            idempotency: self.idempotency.clone(),
            reviews: self.reviews.clone(),
            privacy: self.privacy.clone(),
            access: self.access.clone(),
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
