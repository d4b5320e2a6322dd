//! Customers: the profile with its default address and allergens, and the list.
//!
//! A customer is one `customers` row, at most one `customer_addresses` row marked default,
//! and one `customer_allergens` row per allergen. Inserts and deletes also move
//! `stores.customer_count`, in the same transaction. Erasing a customer detaches their orders
//! and reviews and removes their ledger.

mod list;
mod rows;
mod seek;

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::audit::AuditEntry;
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{Block, Customer, CustomerListQuery, CustomerSummary, Profile};
use customers_domain::ids::{CustomerId, StoreId};
use customers_domain::keyset::Seek;
use customers_domain::ports::RepoError;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::pool::{Database, with_connection, write_transaction};
use crate::schema::{
    customer_addresses, customer_allergens, customers, idempotency_keys, orders, reviews, stores,
};
use crate::time::to_db;
use rows::stored_block;
use rows::{AddressRow, CustomerRow, NewAddress, NewAllergen, NewCustomer, ProfileColumns};

/// `UPDATE customers SET loyalty_points = loyalty_points … RETURNING loyalty_points,
/// is_blocked`: locks the customer's row until the transaction ends and reads it as it is now,
/// on both backends (a plain read on PostgreSQL could see a value about to change).
///
/// A conditional UPDATE that matched nothing decided on the row as of its snapshot; this
/// tells whether it really is refused now, or should run again (it then succeeds: the row is
/// locked).
#[diesel::dsl::auto_type(no_type_alias)]
pub(crate) fn lock_customer<'a>(store: &'a str, id: &'a str) -> _ {
    diesel::dsl::update(customers::table.find((store, id)))
        .set(customers::loyalty_points.eq(customers::loyalty_points))
        .returning((customers::loyalty_points, customers::is_blocked))
}

impl CustomerRepository for Database {
    async fn insert(&self, customer: &Customer, audit: &AuditEntry) -> Result<(), RepoError> {
        let row = NewCustomer::new(customer);
        let audit = AuditRow::new(audit);
        let address = NewAddress::default_of(&customer.store_id, &customer.id, &customer.profile);
        let allergens = NewAllergen::all_of(&customer.store_id, &customer.id, &customer.profile);
        let store = customer.store_id.as_str().to_owned();
        write_transaction!(self, |conn| {
            diesel::insert_into(customers::table)
                .values(&row)
                .execute(conn)
                .await?;
            if let Some(address) = &address {
                diesel::insert_into(customer_addresses::table)
                    .values(address)
                    .execute(conn)
                    .await?;
            }
            // One row at a time: diesel-async has no multi-row insert for SQLite (≤ 14 rows).
            for allergen in &allergens {
                diesel::insert_into(customer_allergens::table)
                    .values(allergen)
                    .execute(conn)
                    .await?;
            }
            insert_audit(&audit).execute(conn).await?;
            // Last, so that the store row stays locked as briefly as possible.
            diesel::update(stores::table.find(&store))
                .set(stores::customer_count.eq(stores::customer_count + 1))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    async fn find(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, RepoError> {
        // One statement (one snapshot): the customer, its default address, one row per allergen.
        // A point read: it may use the connections kept for those (see `pool::Lanes`).
        let rows = with_connection!(self.point_reads(), |conn| {
            customers::table
                .left_join(
                    customer_addresses::table.on(customer_addresses::store_id
                        .eq(customers::store_id)
                        .and(customer_addresses::customer_id.eq(customers::id))
                        .and(customer_addresses::is_default.eq(true))),
                )
                .left_join(
                    customer_allergens::table.on(customer_allergens::store_id
                        .eq(customers::store_id)
                        .and(customer_allergens::customer_id.eq(customers::id))),
                )
                .filter(customers::store_id.eq(store.as_str()))
                .filter(customers::id.eq(id.as_str()))
                .select((
                    CustomerRow::as_select(),
                    Option::<AddressRow>::as_select(),
                    customer_allergens::allergen.nullable(),
                ))
                .load::<(CustomerRow, Option<AddressRow>, Option<String>)>(conn)
                .await
        })?;
        let mut rows = rows.into_iter();
        let Some((customer, address, allergen)) = rows.next() else {
            return Ok(None);
        };
        let allergens: Vec<String> = allergen
            .into_iter()
            .chain(rows.filter_map(|(_, _, allergen)| allergen))
            .collect();
        customer.into_customer(address, &allergens).map(Some)
    }

    async fn list(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
    ) -> Result<(Vec<CustomerSummary>, u64), RepoError> {
        list::list(self, store, query).await
    }

    async fn seek(
        &self,
        store: &StoreId,
        query: &CustomerListQuery,
        from: &Seek,
    ) -> Result<(Vec<CustomerSummary>, Option<u64>), RepoError> {
        seek::seek(self, store, query, from).await
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
        let columns = ProfileColumns::new(profile);
        let audit = AuditRow::new(audit);
        let address = NewAddress::default_of(store, id, profile);
        let allergens = NewAllergen::all_of(store, id, profile);
        let (store, id, now) = (
            store.as_str().to_owned(),
            id.as_str().to_owned(),
            to_db(now),
        );
        write_transaction!(self, |conn| {
            let updated = diesel::update(customers::table.find((&store, &id)))
                .filter(customers::version.eq(expected_version))
                .set((
                    &columns,
                    customers::version.eq(customers::version + 1),
                    customers::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            if updated == 0 {
                return Ok(false);
            }
            let defaults = customer_addresses::table
                .filter(customer_addresses::store_id.eq(&store))
                .filter(customer_addresses::customer_id.eq(&id))
                .filter(customer_addresses::is_default.eq(true));
            match &address {
                Some(address) => {
                    // Another default address (the profile's has a new id) goes first.
                    diesel::delete(defaults.filter(customer_addresses::id.ne(&address.id)))
                        .execute(conn)
                        .await?;
                    let changed =
                        diesel::update(customer_addresses::table.find((&store, &address.id)))
                            .filter(customer_addresses::customer_id.eq(&id))
                            .set((
                                customer_addresses::line.eq(&address.line),
                                customer_addresses::zipcode.eq(&address.zipcode),
                                customer_addresses::city.eq(&address.city),
                                customer_addresses::is_default.eq(true),
                            ))
                            .execute(conn)
                            .await?;
                    if changed == 0 {
                        diesel::insert_into(customer_addresses::table)
                            .values(address)
                            .execute(conn)
                            .await?;
                    }
                }
                None => {
                    diesel::delete(defaults).execute(conn).await?;
                }
            }
            diesel::delete(
                customer_allergens::table
                    .filter(customer_allergens::store_id.eq(&store))
                    .filter(customer_allergens::customer_id.eq(&id)),
            )
            .execute(conn)
            .await?;
            for allergen in &allergens {
                diesel::insert_into(customer_allergens::table)
                    .values(allergen)
                    .execute(conn)
                    .await?;
            }
            insert_audit(&audit).execute(conn).await?;
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
        let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
        let now = to_db(now);
        let audit = AuditRow::new(audit);
        write_transaction!(self, |conn| {
            let target = customers::table.find((&store, &id));
            // Locks the row, then reads its block as it is now: the domain decides what
            // changes, and a repeat writes nothing and records nothing.
            if lock_customer(&store, &id)
                .get_result::<(i64, bool)>(conn)
                .await
                .optional()?
                .is_none()
            {
                return Ok(false);
            }
            let (blocked, reason, at) = target
                .select((
                    customers::is_blocked,
                    customers::blocked_reason,
                    customers::blocked_at,
                ))
                .first::<(bool, Option<String>, Option<NaiveDateTime>)>(conn)
                .await?;
            let current = stored_block(blocked, reason, at);
            let Some(after) = Block::change(current.as_ref(), block.clone()) else {
                return Ok(true);
            };
            diesel::update(target)
                .set((
                    customers::is_blocked.eq(after.is_some()),
                    customers::blocked_reason.eq(after
                        .as_ref()
                        .and_then(|b| b.reason.as_ref())
                        .map(|r| r.as_str())),
                    customers::blocked_at.eq(after.as_ref().map(|b| to_db(b.at))),
                    customers::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            insert_audit(&audit).execute(conn).await?;
            Ok(true)
        })
    }

    async fn delete(
        &self,
        store: &StoreId,
        id: &CustomerId,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
        let audit = AuditRow::new(audit);
        write_transaction!(self, |conn| {
            // Locks the row first: an order or review being stored for this customer meanwhile
            // either committed before (and is detached below) or waits and then finds no
            // customer.
            let found = lock_customer(&store, &id)
                .get_result::<(i64, bool)>(conn)
                .await
                .optional()?;
            if found.is_none() {
                return Ok(false);
            }
            // Orders stay, without their customer.
            diesel::update(
                orders::table
                    .filter(orders::store_id.eq(&store))
                    .filter(orders::customer_id.eq(&id)),
            )
            .set(orders::customer_id.eq(None::<String>))
            .execute(conn)
            .await?;
            // So do their reviews (a changed review gets a new version).
            diesel::update(
                reviews::table
                    .filter(reviews::store_id.eq(&store))
                    .filter(reviews::customer_id.eq(&id)),
            )
            .set((
                reviews::customer_id.eq(None::<String>),
                reviews::version.eq(reviews::version + 1),
            ))
            .execute(conn)
            .await?;
            // Stored idempotent responses about the customer go, claims in progress too (their
            // request then stores nothing): a replay must not return the customer's data.
            diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::store_id.eq(&store))
                    .filter(idempotency_keys::customer_id.eq(&id)),
            )
            .execute(conn)
            .await?;
            // Addresses, allergens and ledger entries go with it (ON DELETE CASCADE).
            diesel::delete(customers::table.find((&store, &id)))
                .execute(conn)
                .await?;
            diesel::update(stores::table.find(&store))
                .set(stores::customer_count.eq(stores::customer_count - 1))
                .execute(conn)
                .await?;
            insert_audit(&audit).execute(conn).await?;
            Ok(true)
        })
    }
}
