//! The customer use cases.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::access::{Action, Forbidden, Principal};
use crate::audit::{Actor, AuditAction};
use crate::customer::model::{Activity, Block, Customer, CustomerSummary, Profile, ProfileInput};
use crate::customer::ports::CustomerRepository;
use crate::customer::query::CustomerListParams;
use crate::customer::values::BlockReason;
use crate::ids::{AddressId, CustomerId};
use crate::keyset::{Listing, Slice, Total};
use crate::page::Page;
use crate::ports::{RepoError, System, Unique};
use crate::store::StoreRepository;
use crate::store::timezone_if;
use crate::validation::ValidationErrors;

/// Why a customer use case failed.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    /// A field broke its rule (422 `VALIDATION_FAILED`, one detail per field).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such customer in the caller's store (other stores' customers included).
    #[error("customer not found")]
    NotFound,
    /// The email belongs to another customer of the store (409 `EMAIL_TAKEN`).
    #[error("another customer of this store has this email")]
    EmailTaken,
    /// The phone belongs to another customer of the store (409 `PHONE_TAKEN`).
    #[error("another customer of this store has this phone")]
    PhoneTaken,
    /// The caller's role or scopes do not allow the call (403 `FORBIDDEN`).
    #[error("the credential does not allow this")]
    Forbidden,
    /// Storage failed (503 when unreachable, 500 otherwise).
    #[error(transparent)]
    Storage(RepoError),
}

impl From<Forbidden> for CustomerError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for CustomerError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Conflict(Unique::CustomerEmail) => Self::EmailTaken,
            RepoError::Conflict(Unique::CustomerPhone) => Self::PhoneTaken,
            other => Self::Storage(other),
        }
    }
}

/// How often an update is retried when another one changed the profile in between.
const UPDATE_ATTEMPTS: usize = 5;

/// The latest calendar date anywhere on Earth (UTC+14): a birth date after it is in the future
/// for everyone.
fn latest_date(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(14)).date_naive()
}

/// Creating, reading, listing, changing, blocking and erasing customers.
pub struct CustomerService<C, S> {
    customers: Arc<C>,
    stores: Arc<S>,
    system: System,
}

impl<C, S> Clone for CustomerService<C, S> {
    fn clone(&self) -> Self {
        Self {
            customers: Arc::clone(&self.customers),
            stores: Arc::clone(&self.stores),
            system: self.system.clone(),
        }
    }
}

impl<C: CustomerRepository, S: StoreRepository> CustomerService<C, S> {
    /// The use cases over these stores, reading the time and new ids from `system`.
    pub fn new(customers: Arc<C>, stores: Arc<S>, system: System) -> Self {
        Self {
            customers,
            stores,
            system,
        }
    }

    fn new_address_id(&self) -> AddressId {
        AddressId::from_stored(self.system.new_id(AddressId::PREFIX))
    }

    /// Creates a customer from the input (docs/api.md §4), with zero totals and no block.
    pub async fn create(
        &self,
        caller: &Principal,
        input: &ProfileInput,
    ) -> Result<Customer, CustomerError> {
        caller.may(Action::CreateCustomer)?;
        let now = self.system.now();
        let profile = Profile::create(input, latest_date(now), || self.new_address_id())?;
        let customer = Customer {
            id: CustomerId::from_stored(self.system.new_id(CustomerId::PREFIX)),
            store_id: caller.store_id.clone(),
            profile,
            activity: Activity::default(),
            block: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let audit = self
            .system
            .audit_entry(
                &caller.store_id,
                Actor::of(caller),
                AuditAction::CustomerCreated,
            )
            .about(&customer.id);
        self.customers.insert(&customer, &audit).await?;
        Ok(customer)
    }

    /// The customer with this id in the caller's store; a malformed id is `NotFound`.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<Customer, CustomerError> {
        caller.may(Action::GetCustomer)?;
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        self.customers
            .find(&caller.store_id, &id)
            .await?
            .ok_or(CustomerError::NotFound)
    }

    /// One page of the caller's store's customers, after validating the parameters: by page
    /// number with the exact total, or by cursor with the total as asked.
    pub async fn list(
        &self,
        caller: &Principal,
        params: &CustomerListParams,
    ) -> Result<Listing<CustomerSummary>, CustomerError> {
        caller.may(Action::ListCustomers)?;
        let today = params.last_order_period.as_deref() == Some("today");
        let timezone = timezone_if(&*self.stores, &caller.store_id, today).await?;
        let query = params.validate(self.system.now(), timezone)?;
        let store = &caller.store_id;
        let Some(seek) = &query.seek else {
            let (items, total) = self.customers.list(store, &query).await?;
            return Ok(Listing::Page(Page {
                items,
                total,
                request: query.page,
            }));
        };
        let (rows, found) = self.customers.seek(store, &query, seek).await?;
        let total = found.map(|found| Total::counted(found, query.total.count_limit()));
        let sort = query.sort;
        Ok(Listing::Slice(Slice::from_rows(
            rows,
            seek,
            query.binding,
            |customer| sort.position_of(customer),
            total,
        )))
    }

    /// Applies a PATCH: absent fields stay, `null` clears. A concurrent change of the same
    /// customer makes it re-read and re-apply, so no update is lost.
    pub async fn update(
        &self,
        caller: &Principal,
        id: &str,
        input: &ProfileInput,
    ) -> Result<Customer, CustomerError> {
        caller.may(Action::UpdateCustomer)?;
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        let repo = &self.customers;
        for _ in 0..UPDATE_ATTEMPTS {
            let current = repo
                .find(&caller.store_id, &id)
                .await?
                .ok_or(CustomerError::NotFound)?;
            let now = self.system.now();
            let profile = current
                .profile
                .patched(input, latest_date(now), || self.new_address_id())?;
            let changed = current.profile.changed_fields(&profile);
            if changed.is_empty() {
                return Ok(current);
            }
            let audit = self
                .system
                .audit_entry(
                    &caller.store_id,
                    Actor::of(caller),
                    AuditAction::CustomerUpdated,
                )
                .about(&id)
                .with_fields(changed);
            if repo
                .update_profile(
                    &caller.store_id,
                    &id,
                    &profile,
                    current.version,
                    now,
                    &audit,
                )
                .await?
            {
                return repo
                    .find(&caller.store_id, &id)
                    .await?
                    .ok_or(CustomerError::NotFound);
            }
        }
        Err(CustomerError::Storage(RepoError::Internal(
            "the customer kept changing during the update".into(),
        )))
    }

    /// Blocks the customer from new orders; repeating it is harmless (the reason is replaced,
    /// the time of the first block kept).
    pub async fn block(
        &self,
        caller: &Principal,
        id: &str,
        reason: Option<&str>,
    ) -> Result<(), CustomerError> {
        caller.may(Action::BlockCustomer)?;
        let reason = match reason.map(BlockReason::parse).transpose() {
            Ok(reason) => reason.flatten(),
            Err(message) => return Err(ValidationErrors::single("reason", message).into()),
        };
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        let now = self.system.now();
        let block = Block { reason, at: now };
        self.set_block(caller, &id, Some(block)).await
    }

    /// Lets the customer have orders again; unblocking a customer who is not blocked is harmless.
    pub async fn unblock(&self, caller: &Principal, id: &str) -> Result<(), CustomerError> {
        caller.may(Action::UnblockCustomer)?;
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        self.set_block(caller, &id, None).await
    }

    async fn set_block(
        &self,
        caller: &Principal,
        id: &CustomerId,
        block: Option<Block>,
    ) -> Result<(), CustomerError> {
        let action = if block.is_some() {
            AuditAction::CustomerBlocked
        } else {
            AuditAction::CustomerUnblocked
        };
        let audit = self
            .system
            .audit_entry(&caller.store_id, Actor::of(caller), action)
            .about(id);
        let found = self
            .customers
            .set_block(&caller.store_id, id, block, self.system.now(), &audit)
            .await?;
        if found {
            Ok(())
        } else {
            Err(CustomerError::NotFound)
        }
    }

    /// Erases the customer for good (docs/api.md §4). The audit trail keeps the fact, with the
    /// customer's id and nothing personal.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), CustomerError> {
        caller.may(Action::DeleteCustomer)?;
        let id = CustomerId::parse(id).ok_or(CustomerError::NotFound)?;
        let audit = self
            .system
            .audit_entry(
                &caller.store_id,
                Actor::of(caller),
                AuditAction::CustomerDeleted,
            )
            .about(&id);
        if self.customers.delete(&caller.store_id, &id, &audit).await? {
            Ok(())
        } else {
            Err(CustomerError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mockall::predicate::always;

    use super::*;
    use crate::access::Role;
    use crate::customer::model::Patch;
    use crate::ports::Unique;
    use crate::store::StoreSettings;
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn service(ports: TestPorts) -> CustomerService<impl CustomerRepository, impl StoreRepository> {
        ports.customer_service()
    }

    fn maria() -> ProfileInput {
        ProfileInput {
            first_name: Patch::Set("Maria".into()),
            email: Patch::Set("maria@example.dk".into()),
            default_city: Patch::Set("Aarhus".into()),
            ..ProfileInput::default()
        }
    }

    fn stored(version: i64) -> Customer {
        Customer {
            id: CustomerId::parse("cust_000000000009").unwrap(),
            store_id: store_id(),
            profile: Profile::create(&maria(), now().date_naive(), || {
                AddressId::parse("addr_000000000008").unwrap()
            })
            .unwrap(),
            activity: Activity::default(),
            block: None,
            created_at: now(),
            updated_at: now(),
            version,
        }
    }

    #[tokio::test]
    async fn create_stores_a_new_customer_of_the_callers_store() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_insert()
            .withf(|c, audit| {
                c.store_id == store_id()
                    && audit.store_id == store_id()
                    && audit.action == AuditAction::CustomerCreated
                    && audit.customer_id.as_ref() == Some(&c.id)
                    && audit.actor == Actor::of(&staff(Role::Staff))
                    && audit.at == now()
                    && c.id.as_str().starts_with("cust_")
                    && c.version == 1
                    && c.activity == Activity::default()
                    && c.profile
                        .default_address
                        .as_ref()
                        .unwrap()
                        .id
                        .as_str()
                        .starts_with("addr_")
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        let customer = service(ports)
            .create(&staff(Role::Staff), &maria())
            .await
            .unwrap();
        assert_eq!(
            customer.profile.first_name.as_ref().unwrap().as_str(),
            "Maria"
        );
        assert_eq!(customer.created_at, now());
        assert!(!customer.is_blocked());
    }

    #[tokio::test]
    async fn create_refuses_invalid_input_without_writing() {
        let mut ports = TestPorts::new();
        ports.customers.expect_insert().never();
        let input = ProfileInput {
            email: Patch::Set("nope".into()),
            ..ProfileInput::default()
        };
        let error = service(ports)
            .create(&staff(Role::Staff), &input)
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::Invalid(e) if e.fields()[0].field == "email"));
    }

    #[tokio::test]
    async fn create_reports_which_unique_field_is_taken() {
        for (unique, expected) in [
            (Unique::CustomerEmail, "email"),
            (Unique::CustomerPhone, "phone"),
        ] {
            let mut ports = TestPorts::new();
            ports
                .customers
                .expect_insert()
                .returning(move |_, _| ready(Err(RepoError::Conflict(unique))));
            let error = service(ports)
                .create(&staff(Role::Staff), &maria())
                .await
                .unwrap_err();
            let got = match error {
                CustomerError::EmailTaken => "email",
                CustomerError::PhoneTaken => "phone",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, expected);
        }
    }

    #[tokio::test]
    async fn storage_failures_pass_through() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_insert()
            .returning(|_, _| ready(Err(RepoError::Unavailable("down".into()))));
        let error = service(ports)
            .create(&staff(Role::Staff), &maria())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            CustomerError::Storage(RepoError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn get_of_a_malformed_id_is_not_found_without_a_lookup() {
        let mut ports = TestPorts::new();
        ports.customers.expect_find().never();
        let error = service(ports)
            .get(&staff(Role::Staff), "cust_%27")
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::NotFound));
    }

    #[tokio::test]
    async fn get_looks_only_in_the_callers_store() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .withf(|store, id| *store == store_id() && id.as_str() == "cust_000000000009")
            .returning(|_, _| ready(Ok(None)));
        let error = service(ports)
            .get(&staff(Role::Staff), "cust_000000000009")
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::NotFound));
    }

    #[tokio::test]
    async fn a_cursor_list_seeks_and_reports_its_bounded_total() {
        use crate::keyset::{Total, TotalMode, Travel};
        let mut ports = TestPorts::new();
        ports.customers.expect_list().never();
        ports
            .customers
            .expect_seek()
            .withf(|store, query, seek| {
                *store == store_id()
                    && query.total == TotalMode::Bounded(crate::keyset::TOTAL_BOUND)
                    && seek.travel == Travel::Forward
                    && seek.from.is_none()
                    && seek.take() == 2
            })
            // Two rows for a page of one, and a count that reached its limit.
            .returning(|_, _, _| {
                let rows = vec![stored(1).summary(), stored(2).summary()];
                ready(Ok((rows, Some(crate::keyset::TOTAL_BOUND + 1))))
            });
        let params = CustomerListParams {
            after: Some(String::new()),
            limit: Some(1),
            total: Some("bounded".into()),
            ..CustomerListParams::default()
        };
        let slice = service(ports)
            .list(&staff(Role::Staff), &params)
            .await
            .unwrap()
            .into_slice()
            .unwrap();
        assert_eq!(slice.items.len(), 1);
        assert!(slice.has_more);
        assert!(slice.next.is_some() && slice.prev.is_none());
        assert_eq!(
            slice.total,
            Some(Total::AtLeast(crate::keyset::TOTAL_BOUND))
        );
    }

    #[tokio::test]
    async fn list_validates_before_querying() {
        let mut ports = TestPorts::new();
        ports.customers.expect_list().never();
        let params = CustomerListParams {
            sort_by: Some("email".into()),
            ..CustomerListParams::default()
        };
        let error = service(ports)
            .list(&staff(Role::Staff), &params)
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::Invalid(_)));
    }

    #[tokio::test]
    async fn list_resolves_today_in_the_stores_time_zone() {
        let mut ports = TestPorts::new();
        ports.stores.expect_find().times(1).returning(|id| {
            let store = StoreSettings::default()
                .validate(id.clone(), now())
                .unwrap();
            ready(Ok(Some(store)))
        });
        ports
            .customers
            .expect_list()
            .withf(|store, query| {
                // 10:00 UTC on 15 March is 11:00 in Copenhagen: the day began 23:00 UTC.
                *store == store_id()
                    && query.filter.last_order_since
                        == Some("2026-03-14T23:00:00Z".parse().unwrap())
            })
            .returning(|_, _| ready(Ok((vec![], 0))));
        let params = CustomerListParams {
            last_order_period: Some("today".into()),
            ..CustomerListParams::default()
        };
        let page = service(ports)
            .list(&staff(Role::Staff), &params)
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert_eq!((page.total, page.total_pages()), (0, 0));
    }

    #[tokio::test]
    async fn list_without_today_does_not_read_the_store() {
        let mut ports = TestPorts::new();
        ports.stores.expect_find().never();
        ports
            .customers
            .expect_list()
            .returning(|_, _| ready(Ok((vec![stored(1).summary()], 41))));
        let page = service(ports)
            .list(&staff(Role::Staff), &CustomerListParams::default())
            .await
            .unwrap()
            .into_page()
            .unwrap();
        assert_eq!(
            (page.items.len(), page.total, page.total_pages()),
            (1, 41, 3)
        );
    }

    #[tokio::test]
    async fn update_retries_when_another_update_came_first() {
        let mut ports = TestPorts::new();
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&reads);
        ports.customers.expect_find().returning(move |_, _| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            // First read at version 1, then (after the stale write) at 2, then the result at 3.
            ready(Ok(Some(stored(1 + n as i64))))
        });
        let writes = Arc::new(AtomicUsize::new(0));
        let write_counter = Arc::clone(&writes);
        ports
            .customers
            .expect_update_profile()
            .with(always(), always(), always(), always(), always(), always())
            .returning(move |_, _, profile, version, _, audit| {
                assert_eq!(profile.last_name.as_ref().unwrap().as_str(), "Nielsen");
                assert_eq!(audit.action, AuditAction::CustomerUpdated);
                assert_eq!(audit.fields, ["lastName"]);
                assert_eq!(
                    audit.customer_id.as_ref().unwrap().as_str(),
                    "cust_000000000009"
                );
                write_counter.fetch_add(1, Ordering::SeqCst);
                ready(Ok(version == 2))
            });
        let input = ProfileInput {
            last_name: Patch::Set("Nielsen".into()),
            ..ProfileInput::default()
        };
        let customer = service(ports)
            .update(&staff(Role::Manager), "cust_000000000009", &input)
            .await
            .unwrap();
        assert_eq!(writes.load(Ordering::SeqCst), 2);
        assert_eq!(customer.version, 3);
    }

    #[tokio::test]
    async fn update_that_changes_nothing_writes_nothing() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(Some(stored(4)))));
        ports.customers.expect_update_profile().never();
        let input = ProfileInput {
            first_name: Patch::Set("Maria".into()),
            ..ProfileInput::default()
        };
        let customer = service(ports)
            .update(&staff(Role::Manager), "cust_000000000009", &input)
            .await
            .unwrap();
        assert_eq!(customer.version, 4);
    }

    #[tokio::test]
    async fn update_of_a_missing_customer_is_not_found() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(None)));
        let error = service(ports)
            .update(&staff(Role::Manager), "cust_000000000009", &maria())
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::NotFound));
    }

    #[tokio::test]
    async fn update_gives_up_after_repeated_conflicts() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(Some(stored(1)))));
        ports
            .customers
            .expect_update_profile()
            .times(UPDATE_ATTEMPTS)
            .returning(|_, _, _, _, _, _| ready(Ok(false)));
        let input = ProfileInput {
            last_name: Patch::Set("Nielsen".into()),
            ..ProfileInput::default()
        };
        let error = service(ports)
            .update(&staff(Role::Manager), "cust_000000000009", &input)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            CustomerError::Storage(RepoError::Internal(_))
        ));
    }

    #[tokio::test]
    async fn update_validates_against_the_current_profile() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_find()
            .returning(|_, _| ready(Ok(Some(stored(1)))));
        ports.customers.expect_update_profile().never();
        let input = ProfileInput {
            locale: Patch::Clear,
            ..ProfileInput::default()
        };
        let error = service(ports)
            .update(&staff(Role::Manager), "cust_000000000009", &input)
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::Invalid(e) if e.fields()[0].field == "locale"));
    }

    #[tokio::test]
    async fn delete_reports_a_missing_customer() {
        let mut ports = TestPorts::new();
        let mut results = vec![true, false].into_iter();
        ports
            .customers
            .expect_delete()
            .times(2)
            .withf(|_, id, audit| {
                audit.action == AuditAction::CustomerDeleted
                    && audit.customer_id.as_ref() == Some(id)
                    && audit.actor == Actor::of(&staff(Role::Admin))
            })
            .returning(move |_, _, _| ready(Ok(results.next().unwrap())));
        let service = service(ports);
        let caller = staff(Role::Admin);
        assert!(service.delete(&caller, "cust_000000000009").await.is_ok());
        let error = service
            .delete(&caller, "cust_000000000009")
            .await
            .unwrap_err();
        assert!(matches!(error, CustomerError::NotFound));
    }

    #[tokio::test]
    async fn block_keeps_a_reason_and_unblock_clears() {
        let mut ports = TestPorts::new();
        let mut calls = 0;
        ports
            .customers
            .expect_set_block()
            .times(2)
            .returning(move |store, _, block, at, audit| {
                calls += 1;
                assert_eq!(*store, store_id());
                assert_eq!(at, now());
                match calls {
                    1 => {
                        assert_eq!(block.unwrap().reason.unwrap().as_str(), "No-shows");
                        assert_eq!(audit.action, AuditAction::CustomerBlocked);
                    }
                    _ => {
                        assert!(block.is_none());
                        assert_eq!(audit.action, AuditAction::CustomerUnblocked);
                    }
                }
                ready(Ok(true))
            });
        let service = service(ports);
        let caller = staff(Role::Manager);
        service
            .block(&caller, "cust_000000000009", Some(" No-shows "))
            .await
            .unwrap();
        service.unblock(&caller, "cust_000000000009").await.unwrap();
    }

    #[tokio::test]
    async fn block_checks_its_reason_and_its_customer() {
        let mut ports = TestPorts::new();
        ports
            .customers
            .expect_set_block()
            .times(1)
            .returning(|_, _, _, _, _| ready(Ok(false)));
        let service = service(ports);
        let caller = staff(Role::Manager);
        let long = "x".repeat(501);
        let invalid = service
            .block(&caller, "cust_000000000009", Some(&long))
            .await;
        assert!(
            matches!(invalid, Err(CustomerError::Invalid(e)) if e.fields()[0].field == "reason")
        );
        let missing = service.block(&caller, "cust_000000000009", None).await;
        assert!(matches!(missing, Err(CustomerError::NotFound)));
    }

    #[test]
    fn birth_dates_may_be_today_anywhere_on_earth() {
        let late_evening: DateTime<Utc> = "2026-03-15T23:00:00Z".parse().unwrap();
        assert_eq!(latest_date(late_evening).to_string(), "2026-03-16");
    }
}
