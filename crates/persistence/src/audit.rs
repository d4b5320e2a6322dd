//! The audit trail ([`AuditRepository`]): one `audit_entries` row per entry.
//!
//! The repositories that make an audited change insert its [`AuditRow`] in their own write
//! transaction, after the change and only when it happened; `record` stores an entry alone.
//! The list is newest first (`at DESC, seq DESC`: entries of one millisecond in the order they
//! were written) on an index per filter.

use chrono::NaiveDateTime;
use customers_domain::audit::AuditRepository;
use customers_domain::audit::{Actor, AuditAction, AuditEntry, AuditFilter};
use customers_domain::ids::{AuditId, CustomerId, StoreId};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;
use diesel::{ExpressionMethods, Insertable, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::RunQueryDsl;

use crate::pool::{Database, read_snapshot, with_connection};
use crate::schema::audit_entries;
use crate::time::{from_db, to_db};

/// An entry as stored; inserted by whichever transaction makes the change it records.
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_entries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct AuditRow {
    store_id: String,
    id: String,
    at: NaiveDateTime,
    actor_kind: String,
    actor_id: Option<String>,
    action: String,
    customer_id: Option<String>,
    subject_id: Option<String>,
    fields: String,
    client_address: Option<String>,
    failure_count: Option<i64>,
}

impl AuditRow {
    pub(crate) fn new(entry: &AuditEntry) -> Self {
        Self {
            store_id: entry.store_id.as_str().to_owned(),
            id: entry.id.as_str().to_owned(),
            at: to_db(entry.at),
            actor_kind: entry.actor.kind().to_owned(),
            actor_id: entry.actor.id().map(str::to_owned),
            action: entry.action.as_str().to_owned(),
            customer_id: entry.customer_id.as_ref().map(|id| id.as_str().to_owned()),
            subject_id: entry.subject_id.clone(),
            fields: entry.fields.join(","),
            client_address: entry.client_address.clone(),
            failure_count: entry.failure_count.map(i64::from),
        }
    }

    /// The same entry about `customer`, for a change whose customer is only known inside its
    /// transaction (cancelling an order).
    pub(crate) fn about(mut self, customer: Option<String>) -> Self {
        self.customer_id = customer;
        self
    }

    fn into_entry(self) -> Result<AuditEntry, RepoError> {
        let corrupt = |what: &str| RepoError::Internal(format!("audit entry {}: {what}", self.id));
        let actor = Actor::from_stored(&self.actor_kind, self.actor_id.clone())
            .ok_or_else(|| corrupt("unknown actor"))?;
        let action = AuditAction::parse(&self.action).ok_or_else(|| corrupt("unknown action"))?;
        let fields = if self.fields.is_empty() {
            Vec::new()
        } else {
            self.fields.split(',').map(str::to_owned).collect()
        };
        Ok(AuditEntry {
            id: AuditId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            at: from_db(self.at),
            actor,
            action,
            customer_id: self.customer_id.map(CustomerId::from_stored),
            subject_id: self.subject_id,
            fields,
            client_address: self.client_address,
            failure_count: self
                .failure_count
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

/// Inserts an [`AuditRow`]; run on the connection of the transaction at hand (either backend).
#[diesel::dsl::auto_type(no_type_alias)]
pub(crate) fn insert_audit<'a>(row: &'a AuditRow) -> _ {
    diesel::dsl::insert_into(audit_entries::table).values(row)
}

impl AuditRepository for Database {
    async fn record(&self, entry: &AuditEntry) -> Result<(), RepoError> {
        let row = AuditRow::new(entry);
        with_connection!(self, |conn| {
            insert_audit(&row).execute(conn).await.map(drop)
        })
    }

    async fn list(
        &self,
        store: &StoreId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<(Vec<AuditEntry>, u64), RepoError> {
        let store = store.as_str();
        let customer = filter.customer_id.as_ref().map(|id| id.as_str());
        let actor = filter.actor_id.as_deref();
        let action = filter.action.map(AuditAction::as_str);
        let from = filter.from.map(to_db);
        let before = filter.before.map(to_db);
        let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
        let limit = i64::from(page.limit());
        let (rows, total) = read_snapshot!(self, |conn| {
            let matching = || {
                let mut matching = audit_entries::table
                    .filter(audit_entries::store_id.eq(store))
                    .into_boxed();
                if let Some(customer) = customer {
                    matching = matching.filter(audit_entries::customer_id.eq(customer));
                }
                if let Some(actor) = actor {
                    matching = matching.filter(audit_entries::actor_id.eq(actor));
                }
                if let Some(action) = action {
                    matching = matching.filter(audit_entries::action.eq(action));
                }
                if let Some(from) = from {
                    matching = matching.filter(audit_entries::at.ge(from));
                }
                if let Some(before) = before {
                    matching = matching.filter(audit_entries::at.lt(before));
                }
                matching
            };
            let rows = matching()
                .order_by((audit_entries::at.desc(), audit_entries::seq.desc()))
                .offset(offset)
                .limit(limit)
                .select(AuditRow::as_select())
                .load::<AuditRow>(conn)
                .await?;
            let total = matching().count().get_result::<i64>(conn).await?;
            Ok::<_, diesel::result::Error>((rows, total))
        })?;
        let entries = rows
            .into_iter()
            .map(AuditRow::into_entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((entries, u64::try_from(total).unwrap_or(0)))
    }
}
