//! Customers in memory: uniqueness of email and phone per store, versions, blocks, erasure and
//! the list with its filters, sorts and pages.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{Memory, State, StoredCustomer, Tenant, page_of};
use crate::audit::AuditEntry;
use crate::customer::{
    Block, Customer, CustomerFilter, CustomerListQuery, CustomerRepository, CustomerSort,
    CustomerSummary, Profile, SortDirection,
};
use crate::ids::{CustomerId, StoreId};
use crate::keyset::{self, Seek, TotalMode};
use crate::ports::{RepoError, Unique};

/// Refuses `profile` when another customer of the store (not `except`) holds its email (any
/// case) or its phone.
fn check_unique(
    tenant: &Tenant,
    profile: &Profile,
    except: Option<&CustomerId>,
) -> Result<(), RepoError> {
    let others = || {
        tenant
            .customers
            .values()
            .map(|stored| &stored.customer)
            .filter(|other| Some(&other.id) != except)
    };
    if let Some(email) = &profile.email {
        let key = email.normalized();
        if others().any(|other| {
            other
                .profile
                .email
                .as_ref()
                .is_some_and(|e| e.normalized() == key)
        }) {
            return Err(RepoError::Conflict(Unique::CustomerEmail));
        }
    }
    if let Some(phone) = &profile.phone
        && others().any(|other| other.profile.phone.as_ref() == Some(phone))
    {
        return Err(RepoError::Conflict(Unique::CustomerPhone));
    }
    Ok(())
}

/// Whether the customer passes every filter of the list (absent ones pass everyone).
fn matches(filter: &CustomerFilter, customer: &Customer) -> bool {
    let activity = &customer.activity;
    filter
        .accepts_marketing
        .is_none_or(|accepts| customer.profile.accepts_marketing == accepts)
        && filter
            .is_blocked
            .is_none_or(|blocked| customer.is_blocked() == blocked)
        && filter
            .has_orders
            .is_none_or(|has| (activity.total_orders > 0) == has)
        && filter
            .min_spent
            .is_none_or(|min| activity.total_spent_minor >= min)
        && filter
            .max_spent
            .is_none_or(|max| activity.total_spent_minor <= max)
        && filter
            .last_order_since
            .is_none_or(|since| activity.last_order_at.is_some_and(|at| at >= since))
        && filter
            .text
            .as_deref()
            .is_none_or(|text| customer.profile.search_text().contains(text))
        && filter
            .allergen
            .is_none_or(|wanted| customer.profile.allergens.iter().any(|a| a == wanted))
}

/// The list's order: the sort in its direction (absent values last either way), then the id
/// in the same direction, so that the order is total and pages neither repeat nor skip.
fn compare(query: &CustomerListQuery, a: &Customer, b: &Customer) -> Ordering {
    let directed = |ordering: Ordering| match query.direction {
        SortDirection::Asc => ordering,
        SortDirection::Desc => ordering.reverse(),
    };
    fn nulls_last<T: Ord>(
        a: Option<T>,
        b: Option<T>,
        directed: impl Fn(Ordering) -> Ordering,
    ) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => directed(a.cmp(&b)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let (x, y) = (&a.activity, &b.activity);
    let sorted = match query.sort {
        CustomerSort::CreatedAt => directed(a.created_at.cmp(&b.created_at)),
        CustomerSort::TotalSpentMinor => directed(x.total_spent_minor.cmp(&y.total_spent_minor)),
        CustomerSort::TotalOrders => directed(x.total_orders.cmp(&y.total_orders)),
        CustomerSort::LastOrderAt => nulls_last(x.last_order_at, y.last_order_at, directed),
        CustomerSort::FirstName => nulls_last(
            a.profile.first_name_key(),
            b.profile.first_name_key(),
            directed,
        ),
    };
    sorted.then_with(|| directed(a.id.cmp(&b.id)))
}

/// The store's customers that match the query's filter, in its order.
fn ordered<'a>(state: &'a State, store: &StoreId, query: &CustomerListQuery) -> Vec<&'a Customer> {
    let Some(tenant) = state.tenant(store) else {
        return Vec::new();
    };
    let mut matching: Vec<&Customer> = tenant
        .customers
        .values()
        .map(|stored| &stored.customer)
        .filter(|customer| matches(&query.filter, customer))
        .collect();
    matching.sort_by(|a, b| compare(query, a, b));
    matching
}

fn list(state: &State, store: &StoreId, query: &CustomerListQuery) -> (Vec<CustomerSummary>, u64) {
    page_of(
        ordered(state, store, query)
            .into_iter()
            .map(Customer::summary),
        query.page,
    )
}

/// The keyset page of `query` from `seek`, in travel order.
fn seek(
    state: &State,
    store: &StoreId,
    query: &CustomerListQuery,
    seek: &Seek,
) -> Vec<CustomerSummary> {
    let rows: Vec<CustomerSummary> = ordered(state, store, query)
        .into_iter()
        .map(Customer::summary)
        .collect();
    let descending = query.direction == SortDirection::Desc;
    keyset::seek_in(
        &rows,
        seek,
        |row| query.sort.position_of(row),
        |a, b| a.order(b, descending) == Ordering::Less,
    )
}

impl CustomerRepository for Memory {
    async fn insert(&self, customer: &Customer, audit: &AuditEntry) -> Result<(), RepoError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&customer.store_id)?;
            tenant.audit_free(audit)?;
            if tenant.customers.contains_key(&customer.id) {
                return Err(RepoError::Internal(format!(
                    "the id {} is taken",
                    customer.id
                )));
            }
            check_unique(tenant, &customer.profile, None)?;
            tenant.customers.insert(
                customer.id.clone(),
                StoredCustomer {
                    customer: customer.clone(),
                    ledger: Vec::new(),
                },
            );
            tenant.log(audit.clone());
            Ok(())
        })
    }

    async fn find(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, RepoError> {
        self.read(|state| {
            state
                .tenant(store)
                .and_then(|tenant| tenant.customers.get(id))
                .map(|stored| stored.customer.clone())
        })
    }

    async fn list(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
    ) -> Result<(Vec<CustomerSummary>, u64), RepoError> {
        self.read(|state| list(state, store, query))
    }

    async fn seek(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
        from: &Seek,
    ) -> Result<(Vec<CustomerSummary>, Option<u64>), RepoError> {
        self.read(|state| {
            let found = match query.total {
                TotalMode::None => None,
                mode => {
                    let matching = ordered(state, store, query).len();
                    let found = u64::try_from(matching).unwrap_or(u64::MAX);
                    Some(mode.count_limit().map_or(found, |limit| found.min(limit)))
                }
            };
            (seek(state, store, query, from), found)
        })
    }

    async fn update_profile(
        &self,
        store: &StoreId,
        id: &CustomerId,
        profile: &Profile,
        expected_version: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(false);
            };
            match tenant.customers.get(id) {
                Some(stored) if stored.customer.version == expected_version => {}
                _ => return Ok(false),
            }
            tenant.audit_free(audit)?;
            check_unique(tenant, profile, Some(id))?;
            let Some(stored) = tenant.customers.get_mut(id) else {
                return Ok(false);
            };
            let customer = &mut stored.customer;
            customer.profile = profile.clone();
            customer.version += 1;
            customer.updated_at = now;
            tenant.log(audit.clone());
            Ok(true)
        })
    }

    async fn set_block(
        &self,
        store: &StoreId,
        id: &CustomerId,
        block: Option<Block>,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(false);
            };
            let Some(stored) = tenant.customers.get(id) else {
                return Ok(false);
            };
            let Some(after) = Block::change(stored.customer.block.as_ref(), block) else {
                return Ok(true);
            };
            tenant.audit_free(audit)?;
            let Some(stored) = tenant.customers.get_mut(id) else {
                return Ok(false);
            };
            stored.customer.block = after;
            stored.customer.updated_at = now;
            tenant.log(audit.clone());
            Ok(true)
        })
    }

    async fn delete(
        &self,
        store: &StoreId,
        id: &CustomerId,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            let Some(tenant) = state.tenants.get_mut(store) else {
                return Ok(false);
            };
            if !tenant.customers.contains_key(id) {
                return Ok(false);
            }
            tenant.audit_free(audit)?;
            // The customer's ledger goes with it.
            tenant.customers.remove(id);
            let theirs = |customer: &Option<CustomerId>| customer.as_ref() == Some(id);
            // Orders stay, without their customer.
            for stored in tenant.orders.values_mut() {
                if theirs(&stored.order.customer_id) {
                    stored.order.customer_id = None;
                }
            }
            // So do reviews (a changed review gets a new version).
            for review in tenant.reviews.values_mut() {
                if theirs(&review.customer_id) {
                    review.customer_id = None;
                    review.version += 1;
                }
            }
            // Stored responses about the customer go, claims in progress too.
            tenant.keys.retain(|_, key| !theirs(&key.customer));
            tenant.log(audit.clone());
            Ok(true)
        })
    }
}
