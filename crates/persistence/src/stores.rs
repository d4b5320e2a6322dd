//! Stores, the tenants ([`StoreRepository`]), and the creation of a store with its owner.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use customers_domain::access::{Credential, StaffUser};
use customers_domain::audit::AuditEntry;
use customers_domain::ids::StoreId;
use customers_domain::ports::RepoError;
use customers_domain::store::Store;
use customers_domain::store::StoreRepository;
use diesel::{
    ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::credentials::NewCredential;
use crate::error::corrupt;
use crate::pool::{Database, with_connection, write_transaction};
use crate::schema::{credentials, stores, users};
use crate::time::{from_db, to_db};
use crate::users::NewUser;

/// A store row; `customer_count` is left to its default (0) and to the customer writes.
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = stores, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct StoreRow {
    id: String,
    name: String,
    currency: String,
    timezone: String,
    minor_units_per_point: i64,
    created_at: NaiveDateTime,
    max_order_minor: i64,
}

impl StoreRow {
    fn new(store: &Store) -> Self {
        Self {
            id: store.id.as_str().to_owned(),
            name: store.name.clone(),
            currency: store.currency.clone(),
            timezone: store.timezone.name().to_owned(),
            minor_units_per_point: store.minor_units_per_point,
            created_at: to_db(store.created_at),
            max_order_minor: store.max_order_minor,
        }
    }

    fn into_store(self) -> Result<Store, RepoError> {
        let timezone = self
            .timezone
            .parse::<Tz>()
            .map_err(|_| corrupt("time zone", &self.timezone))?;
        Ok(Store {
            id: StoreId::from_stored(self.id),
            name: self.name,
            currency: self.currency,
            timezone,
            minor_units_per_point: self.minor_units_per_point,
            max_order_minor: self.max_order_minor,
            created_at: from_db(self.created_at),
        })
    }
}

impl StoreRepository for Database {
    async fn find(&self, id: &StoreId) -> Result<Option<Store>, RepoError> {
        let row = with_connection!(self, |conn| {
            stores::table
                .find(id.as_str())
                .select(StoreRow::as_select())
                .first::<StoreRow>(conn)
                .await
                .optional()
        })?;
        row.map(StoreRow::into_store).transpose()
    }

    async fn any_exists(&self) -> Result<bool, RepoError> {
        with_connection!(self, |conn| {
            diesel::select(diesel::dsl::exists(stores::table.select(stores::id)))
                .get_result::<bool>(conn)
                .await
        })
    }

    async fn set_max_order_minor(
        &self,
        id: &StoreId,
        max_order_minor: i64,
    ) -> Result<bool, RepoError> {
        with_connection!(self, |conn| {
            diesel::update(stores::table.find(id.as_str()))
                .set(stores::max_order_minor.eq(max_order_minor))
                .execute(conn)
                .await
                .map(|updated| updated > 0)
        })
    }

    async fn create_with_owner(
        &self,
        store: &Store,
        owner: &StaffUser,
        password_hash: &str,
        token: &Credential,
        audit: &AuditEntry,
    ) -> Result<(), RepoError> {
        let store = StoreRow::new(store);
        let audit = AuditRow::new(audit);
        let owner = NewUser::new(owner, password_hash);
        let token = NewCredential::new(token);
        write_transaction!(self, |conn| {
            diesel::insert_into(stores::table)
                .values(&store)
                .execute(conn)
                .await?;
            diesel::insert_into(users::table)
                .values(&owner)
                .execute(conn)
                .await?;
            diesel::insert_into(credentials::table)
                .values(&token)
                .execute(conn)
                .await?;
            insert_audit(&audit).execute(conn).await?;
            Ok(())
        })
    }
}
