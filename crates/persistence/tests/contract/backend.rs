//! What a backend gives the contract cases: a fresh set of repositories (every port the
//! domain declares), and the few writes that no port offers but the cases need as fixtures.
//!
//! The cases generic over [`Backend`] hold on every adapter of the ports; those that need SQL
//! (pools, raw connections, migrations) take a [`TestDatabase`] instead.

use customers_domain::access::{CredentialRepository, LoginFailureRepository, UserRepository};
use customers_domain::audit::AuditRepository;
use customers_domain::customer::{Activity, Block, CustomerRepository};
use customers_domain::idempotency::IdempotencyRepository;
use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::loyalty::LoyaltyRepository;
use customers_domain::order::OrderRepository;
use customers_domain::ports::RepoError;
use customers_domain::review::{ReviewRepository, ReviewStats};
use customers_domain::store::StoreRepository;
use customers_persistence::Database;
use customers_persistence::testing::TestDatabase;

/// Every repository port at once, cloneable into spawned tasks (as the services use them).
///
/// Several ports share method names (`insert`, `find`, `list`, `delete`, `record`): on a
/// value of a generic `Repositories` type those are called as `CustomerRepository::insert(db, …)`.
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
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<R> Repositories for R where
    R: CustomerRepository
        + OrderRepository
        + LoyaltyRepository
        + ReviewRepository
        + AuditRepository
        + IdempotencyRepository
        + StoreRepository
        + UserRepository
        + CredentialRepository
        + LoginFailureRepository
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A fresh, empty store of every repository, for one test.
// The cases await these futures in place, never in spawned tasks: they need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Backend: Send + Sync {
    type Repos: Repositories;

    /// The repositories the cases work through.
    fn repos(&self) -> &Self::Repos;

    /// Writes a customer's order totals and points directly (what recording orders does);
    /// `false` when the store has no such customer.
    async fn set_activity(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &Activity,
    ) -> Result<bool, RepoError>;

    /// Blocks (`Some`) or unblocks (`None`) a customer directly, keeping the given block as
    /// it is; `false` when the store has no such customer.
    async fn set_block(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        block: Option<&Block>,
    ) -> Result<bool, RepoError>;

    /// The store's review statistics counted afresh from its reviews, to hold the kept
    /// counters against.
    async fn recount_reviews(&self, store: &StoreId) -> Result<ReviewStats, RepoError>;

    /// The name of the test module the backend's cases run in (`sqlite`, `postgres`, …).
    fn name(&self) -> &'static str;
}

impl Backend for TestDatabase {
    type Repos = Database;

    fn repos(&self) -> &Database {
        self.database()
    }

    async fn set_activity(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &Activity,
    ) -> Result<bool, RepoError> {
        TestDatabase::set_activity(self, store, customer, activity).await
    }

    async fn set_block(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        block: Option<&Block>,
    ) -> Result<bool, RepoError> {
        TestDatabase::set_block(self, store, customer, block).await
    }

    async fn recount_reviews(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        TestDatabase::recount_reviews(self, store).await
    }

    fn name(&self) -> &'static str {
        match self.backend() {
            customers_persistence::Backend::Sqlite => "sqlite",
            customers_persistence::Backend::Postgres => "postgres",
        }
    }
}
