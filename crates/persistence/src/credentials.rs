//! Staff tokens and API keys ([`CredentialRepository`]), found within their store by the
//! digest of their secret; a store's API keys listed newest first and revoked by id.
//!
//! A secret issued before secrets named their store finds its store in
//! `legacy_secret_stores` first (see the migration `credentials_by_store`).

use chrono::{DateTime, NaiveDateTime, Utc};
use customers_domain::access::CredentialRepository;
use customers_domain::access::SecretKind;
use customers_domain::access::{ApiKey, Credential, Holder, Principal, Role, Scope};
use customers_domain::audit::AuditEntry;
use customers_domain::ids::{CredentialId, StoreId, UserId};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, Insertable, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::RunQueryDsl;

use crate::audit::{AuditRow, insert_audit};
use crate::error::corrupt;
use crate::pool::{Database, read_snapshot, with_connection, write_transaction};
use crate::schema::{credentials, legacy_secret_stores, users};
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = credentials)]
pub(crate) struct NewCredential {
    store_id: String,
    id: String,
    kind: &'static str,
    user_id: Option<String>,
    name: String,
    scopes: String,
    digest: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

impl NewCredential {
    pub(crate) fn new(credential: &Credential) -> Self {
        let scopes: Vec<&str> = credential.scopes.iter().map(|s| s.as_str()).collect();
        Self {
            store_id: credential.store_id.as_str().to_owned(),
            id: credential.id.as_str().to_owned(),
            kind: credential.kind.as_str(),
            user_id: credential.user_id.as_ref().map(|u| u.as_str().to_owned()),
            name: credential.name.clone(),
            scopes: scopes.join(" "),
            digest: credential.digest.clone(),
            created_at: to_db(credential.created_at),
            expires_at: credential.expires_at.map(to_db),
        }
    }
}

/// The stored space-separated scopes; an unknown one (from a newer version) is skipped.
fn parse_scopes(stored: &str) -> Vec<Scope> {
    stored
        .split_whitespace()
        .filter_map(|scope| {
            let parsed = scope.parse::<Scope>().ok();
            if parsed.is_none() {
                tracing::warn!(scope, "ignoring an unknown stored API key scope");
            }
            parsed
        })
        .collect()
}

/// An API key as its store lists it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ApiKeyRow {
    id: String,
    name: String,
    scopes: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    fn into_api_key(self) -> ApiKey {
        ApiKey {
            id: CredentialId::from_stored(self.id),
            name: self.name,
            scopes: parse_scopes(&self.scopes),
            created_at: from_db(self.created_at),
            revoked_at: self.revoked_at.map(from_db),
        }
    }
}

/// A credential with its user's email and role (for staff tokens).
type HolderRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn principal(row: HolderRow) -> Result<Option<Principal>, RepoError> {
    let (store_id, id, kind, user_id, name, scopes, email, role) = row;
    let holder = match SecretKind::from_stored(&kind) {
        Some(SecretKind::StaffToken) => {
            let (Some(user_id), Some(email), Some(role)) = (user_id, email, role) else {
                // A token whose user is gone grants nothing.
                return Ok(None);
            };
            Holder::Staff {
                user_id: UserId::from_stored(user_id),
                email,
                role: role.parse::<Role>().map_err(|_| corrupt("role", &role))?,
            }
        }
        Some(SecretKind::ApiKey) => Holder::ApiKey {
            name,
            scopes: parse_scopes(&scopes),
        },
        None => return Err(corrupt("credential kind", &kind)),
    };
    Ok(Some(Principal {
        store_id: StoreId::from_stored(store_id),
        credential_id: CredentialId::from_stored(id),
        holder,
    }))
}

impl CredentialRepository for Database {
    async fn insert(&self, credential: &Credential, audit: &AuditEntry) -> Result<(), RepoError> {
        let row = NewCredential::new(credential);
        let audit = AuditRow::new(audit);
        write_transaction!(self, |conn| {
            diesel::insert_into(credentials::table)
                .values(&row)
                .execute(conn)
                .await?;
            insert_audit(&audit).execute(conn).await?;
            Ok(())
        })
    }

    async fn find_active(
        &self,
        store: Option<StoreId>,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, RepoError> {
        let now = to_db(now);
        let store = store.map(StoreId::into_string);
        // A point read (see `pool::Lanes`): authenticating never queues behind scans.
        let row = with_connection!(self.point_reads(), |conn| {
            let store = match &store {
                Some(store) => store.clone(),
                // Issued before secrets named their store: its store was recorded then.
                None => {
                    let recorded = legacy_secret_stores::table
                        .find(digest)
                        .select(legacy_secret_stores::store_id)
                        .first::<String>(conn)
                        .await
                        .optional()?;
                    match recorded {
                        Some(store) => store,
                        None => return Ok(None),
                    }
                }
            };
            // `credentials_store_digest_unique`: one row of one store.
            credentials::table
                .left_join(
                    users::table.on(users::store_id
                        .eq(credentials::store_id)
                        .and(users::id.nullable().eq(credentials::user_id))),
                )
                .filter(credentials::store_id.eq(&store))
                .filter(credentials::digest.eq(digest))
                .filter(credentials::revoked_at.is_null())
                .filter(
                    credentials::expires_at
                        .is_null()
                        .or(credentials::expires_at.gt(now)),
                )
                .select((
                    credentials::store_id,
                    credentials::id,
                    credentials::kind,
                    credentials::user_id,
                    credentials::name,
                    credentials::scopes,
                    users::email.nullable(),
                    users::role.nullable(),
                ))
                .first::<HolderRow>(conn)
                .await
                .optional()
        })?;
        Ok(row.map(principal).transpose()?.flatten())
    }

    async fn list_api_keys(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> Result<(Vec<ApiKey>, u64), RepoError> {
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let api_key = SecretKind::ApiKey.as_str();
        // Both read `credentials_store_kind_newest`: (store_id, kind, created_at DESC, id DESC).
        let (rows, total) = read_snapshot!(self, |conn| {
            let of_store = || {
                credentials::table
                    .filter(credentials::store_id.eq(store.as_str()))
                    .filter(credentials::kind.eq(api_key))
            };
            let rows = of_store()
                .order_by((credentials::created_at.desc(), credentials::id.desc()))
                .select(ApiKeyRow::as_select())
                .offset(offset)
                .limit(i64::from(page.limit()))
                .load::<ApiKeyRow>(conn)
                .await?;
            let total = of_store().count().get_result::<i64>(conn).await?;
            Ok((rows, total))
        })?;
        let keys = rows.into_iter().map(ApiKeyRow::into_api_key).collect();
        Ok((keys, u64::try_from(total).unwrap_or(0)))
    }

    async fn revoke_api_key(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        revoke(self, store, id, Some(SecretKind::ApiKey), now, audit).await
    }

    async fn revoke(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        revoke(self, store, id, None, now, audit).await
    }
}

/// Revokes an active credential (of `kind`, when given) with its audit entry; `false` when
/// there was no such active credential, and then nothing is written.
async fn revoke(
    database: &Database,
    store: &StoreId,
    id: &CredentialId,
    kind: Option<SecretKind>,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, RepoError> {
    let (store, id) = (store.as_str().to_owned(), id.as_str().to_owned());
    let kind = kind.map(SecretKind::as_str);
    let now = to_db(now);
    let audit = AuditRow::new(audit);
    write_transaction!(database, |conn| {
        let mut active = diesel::update(credentials::table.find((&store, &id)))
            .filter(credentials::revoked_at.is_null())
            .filter(
                credentials::expires_at
                    .is_null()
                    .or(credentials::expires_at.gt(now)),
            )
            .into_boxed();
        if let Some(kind) = kind {
            active = active.filter(credentials::kind.eq(kind));
        }
        let revoked = active
            .set(credentials::revoked_at.eq(now))
            .execute(conn)
            .await?;
        if revoked == 0 {
            return Ok(false);
        }
        insert_audit(&audit).execute(conn).await?;
        Ok(true)
    })
}
