//! Staff users ([`UserRepository`]): unique per store by lower-cased email.

use chrono::NaiveDateTime;
use customers_domain::access::UserRepository;
use customers_domain::access::{Role, StaffUser};
use customers_domain::audit::AuditEntry;
use customers_domain::customer::{Email, PersonName};
use customers_domain::ids::{StoreId, UserId};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use diesel::{
    ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::error::corrupt;
use crate::pool::{Database, read_snapshot, with_connection, write_transaction};
use crate::schema::users;
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUser {
    store_id: String,
    id: String,
    email: String,
    email_key: String,
    name: Option<String>,
    role: &'static str,
    password_hash: String,
    created_at: NaiveDateTime,
}

impl NewUser {
    pub(crate) fn new(user: &StaffUser, password_hash: &str) -> Self {
        Self {
            store_id: user.store_id.as_str().to_owned(),
            id: user.id.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            email_key: user.email.normalized(),
            name: user.name.as_ref().map(|n| n.as_str().to_owned()),
            role: user.role.as_str(),
            password_hash: password_hash.to_owned(),
            created_at: to_db(user.created_at),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct UserRow {
    store_id: String,
    id: String,
    email: String,
    name: Option<String>,
    role: String,
    created_at: NaiveDateTime,
}

impl UserRow {
    fn into_user(self) -> Result<StaffUser, RepoError> {
        let role = self
            .role
            .parse::<Role>()
            .map_err(|_| corrupt("role", &self.role))?;
        Ok(StaffUser {
            id: UserId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            email: Email::from_stored(self.email),
            name: self.name.map(PersonName::from_stored),
            role,
            created_at: from_db(self.created_at),
        })
    }
}

impl UserRepository for Database {
    async fn insert(
        &self,
        user: &StaffUser,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), RepoError> {
        let row = NewUser::new(user, password_hash);
        let audit = AuditRow::new(audit);
        write_transaction!(self, |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)
                .await?;
            insert_audit(&audit).execute(conn).await?;
            Ok(())
        })
    }

    async fn find_by_email(
        &self,
        store: &StoreId,
        normalized_email: &str,
    ) -> Result<Option<(StaffUser, String)>, RepoError> {
        let found = with_connection!(self, |conn| {
            users::table
                .filter(users::store_id.eq(store.as_str()))
                .filter(users::email_key.eq(normalized_email))
                .select((UserRow::as_select(), users::password_hash))
                .first::<(UserRow, String)>(conn)
                .await
                .optional()
        })?;
        found
            .map(|(row, hash)| Ok((row.into_user()?, hash)))
            .transpose()
    }

    async fn list(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> Result<(Vec<StaffUser>, u64), RepoError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let (rows, total) = read_snapshot!(self, |conn| {
            let rows = users::table
                .filter(users::store_id.eq(store.as_str()))
                .order_by((users::created_at.asc(), users::id.asc()))
                .select(UserRow::as_select())
                .offset(offset)
                .limit(i64::from(page.limit()))
                .load::<UserRow>(conn)
                .await?;
            let total = users::table
                .filter(users::store_id.eq(store.as_str()))
                .count()
                .get_result::<i64>(conn)
                .await?;
            Ok((rows, total))
        })?;
        let users = rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<_, _>>()?;
        Ok((users, u64::try_from(total).unwrap_or(0)))
    }
}
