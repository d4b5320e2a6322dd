//! Every use case over one adapter that implements every repository port — the in-memory
//! adapter (`memory::Memory`) or the database of the `customers-stack` crate — built in one
//! line each. What an embedding service holds instead of wiring each service by hand.

use std::sync::Arc;

use crate::access::{
    ApiKeyService, CredentialRepository, LoginFailureRepository, PasswordHasher, Principal,
    StaffService, TokenDigester, UserRepository,
};
use crate::audit::{AuditRepository, AuditService};
use crate::customer::{CustomerRepository, CustomerService};
use crate::idempotency::IdempotencyRepository;
use crate::loyalty::{LoyaltyRepository, LoyaltyService};
use crate::order::{OrderRepository, OrderService};
use crate::ports::System;
use crate::privacy::PrivacyService;
use crate::review::{ReviewRepository, ReviewService};
use crate::store::{StoreError, StoreRepository, StoreService, StoreSettings};

/// An adapter implementing every repository port of the domain.
pub trait Repositories:
    CustomerRepository
    + OrderRepository
    + LoyaltyRepository
    + ReviewRepository
    + AuditRepository
    + IdempotencyRepository
    + StoreRepository
    + UserRepository
    + CredentialRepository
    + LoginFailureRepository
{
}

impl<T> Repositories for T where
    T: CustomerRepository
        + OrderRepository
        + LoyaltyRepository
        + ReviewRepository
        + AuditRepository
        + IdempotencyRepository
        + StoreRepository
        + UserRepository
        + CredentialRepository
        + LoginFailureRepository
{
}

/// The use cases over one [`Repositories`] adapter and the system ports.
pub struct Services<R> {
    repos: Arc<R>,
    system: System,
}

impl<R> Clone for Services<R> {
    fn clone(&self) -> Self {
        Self {
            repos: Arc::clone(&self.repos),
            system: self.system.clone(),
        }
    }
}

impl<R: Repositories> Services<R> {
    /// The use cases over `repos`, reading the time and new ids from `system`.
    pub fn new(repos: Arc<R>, system: System) -> Self {
        Self { repos, system }
    }

    /// The adapter the use cases store in.
    pub fn repos(&self) -> &Arc<R> {
        &self.repos
    }

    /// The clock and id generator the use cases read.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Customer profiles: create, read, list, update, block, erase.
    pub fn customers(&self) -> CustomerService<R, R> {
        CustomerService::new(self.repos.clone(), self.repos.clone(), self.system.clone())
    }

    /// Orders: record (crediting points), read, cancel, history, analytics.
    pub fn orders(&self) -> OrderService<R, R> {
        OrderService::new(self.repos.clone(), self.repos.clone(), self.system.clone())
    }

    /// The loyalty ledger: balances, entries, adjustments by hand.
    pub fn loyalty(&self) -> LoyaltyService<R> {
        LoyaltyService::new(self.repos.clone(), self.system.clone())
    }

    /// Reviews of orders, their moderation, responses and statistics.
    pub fn reviews(&self) -> ReviewService<R, R, R> {
        ReviewService::new(
            self.repos.clone(),
            self.repos.clone(),
            self.repos.clone(),
            self.system.clone(),
        )
    }

    /// The audit trail.
    pub fn audit(&self) -> AuditService<R, R> {
        AuditService::new(self.repos.clone(), self.repos.clone(), self.system.clone())
    }

    /// Exporting everything held about a customer.
    pub fn privacy(&self) -> PrivacyService<R, R, R, R, R> {
        PrivacyService::new(
            self.repos.clone(),
            self.repos.clone(),
            self.repos.clone(),
            self.repos.clone(),
            self.repos.clone(),
            self.system.clone(),
        )
    }

    /// Staff users, whose passwords `passwords` hashes.
    pub fn staff<H: PasswordHasher>(&self, passwords: Arc<H>) -> StaffService<R, H> {
        StaffService::new(self.repos.clone(), passwords, self.system.clone())
    }

    /// API keys, stored as `digests` of their secrets.
    pub fn api_keys(&self, digests: Arc<dyn TokenDigester>) -> ApiKeyService<R> {
        ApiKeyService::new(self.repos.clone(), digests, self.system.clone())
    }

    /// Stores and their owners.
    pub fn stores<H: PasswordHasher>(
        &self,
        passwords: Arc<H>,
        digests: Arc<dyn TokenDigester>,
    ) -> StoreService<R, H> {
        StoreService::new(self.repos.clone(), passwords, digests, self.system.clone())
    }

    /// Creates a store with its owner (see [`StoreService::open_store`]) and returns the
    /// owner as the caller of every use case.
    pub async fn open_store<H: PasswordHasher>(
        &self,
        passwords: Arc<H>,
        digests: Arc<dyn TokenDigester>,
        settings: &StoreSettings,
        owner_email: &str,
    ) -> Result<Principal, StoreError> {
        self.stores(passwords, digests)
            .open_store(&*self.repos, settings, owner_email)
            .await
    }
}
