//! What a backend gives the contract cases: a fresh set of repositories (every port the
//! domain declares), and the few writes that no port offers but the cases need as fixtures.
//!
//! The cases generic over [`Backend`] hold on every adapter of the ports; those that need SQL
//! (pools, raw connections, migrations) take a [`TestDatabase`] instead.

use customers_domain::customer::{Activity, Block};
use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::memory::Memory;
use customers_domain::ports::RepoError;
use customers_domain::review::ReviewStats;
use customers_domain::services::Repositories as Ports;
use customers_persistence::Database;
use customers_persistence::testing::TestDatabase;

/// Every repository port at once (the domain's [`Ports`]), cloneable into spawned tasks (as
/// the services use them).
///
/// Several ports share method names (`insert`, `find`, `list`, `delete`, `record`): on a
/// value of a generic `Repositories` type those are called as `CustomerRepository::insert(db, …)`.
pub trait Repositories: Ports + Clone {}

impl<R: Ports + Clone> Repositories for R {}

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

    /// The same data as a process started after the death of the one behind [`repos`](Self::repos)
    /// finds it: the idempotency claims in progress of the dead one no longer hold their keys.
    async fn after_a_crash(&self) -> Self::Repos;

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

    async fn after_a_crash(&self) -> Database {
        TestDatabase::after_a_crash(self).await
    }

    fn name(&self) -> &'static str {
        match self.backend() {
            customers_persistence::Backend::Sqlite => "sqlite",
            customers_persistence::Backend::Postgres => "postgres",
        }
    }
}

impl Backend for Memory {
    type Repos = Memory;

    fn repos(&self) -> &Memory {
        self
    }

    async fn set_activity(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &Activity,
    ) -> Result<bool, RepoError> {
        Memory::set_activity(self, store, customer, activity).await
    }

    async fn set_block(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        block: Option<&Block>,
    ) -> Result<bool, RepoError> {
        Memory::set_block(self, store, customer, block).await
    }

    async fn recount_reviews(&self, store: &StoreId) -> Result<ReviewStats, RepoError> {
        Memory::recount_reviews(self, store).await
    }

    async fn after_a_crash(&self) -> Memory {
        self.restarted()
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
