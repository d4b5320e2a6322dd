//! The audit trail: who did what to which customer or credential, and when.
//!
//! An entry names its store, its actor, its action, the customer it concerns and the id of
//! the thing it touched (a user, an API key, a ledger entry) — never a secret and never a
//! personal value: a profile change lists the names of the fields that changed, not their
//! values. Every change is written in the same transaction as its entry, by the repository
//! that makes the change; reads that must be accounted for (an export) write the entry alone.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::access::{Action, Forbidden, Holder, Principal};
use crate::days::DayRange;
use crate::ids::{AuditId, CredentialId, CustomerId, StoreId, UserId};
use crate::page::{Page, PageRequest};
use crate::ports::{RepoError, System};
use crate::store::StoreRepository;

pub mod ports;

pub use self::ports::AuditRepository;
use crate::store::timezone_if;
use crate::validation::ValidationErrors;

/// What happened. The wire names are the `action` values of `GET /audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// `customer.created`: a customer was created.
    CustomerCreated,
    /// `customer.updated`: profile fields changed; the entry lists their API names.
    CustomerUpdated,
    /// `customer.blocked`: a customer was blocked, or their block's reason changed.
    CustomerBlocked,
    /// `customer.unblocked`: a blocked customer was unblocked.
    CustomerUnblocked,
    /// `customer.deleted`: a customer's personal data was erased.
    CustomerDeleted,
    /// `customer.exported`: everything held about a customer was exported.
    CustomerExported,
    /// `loyalty.adjusted`: points were adjusted by hand; the subject is the ledger entry.
    LoyaltyAdjusted,
    /// `order.recorded`: an order was recorded; the subject is the order.
    OrderRecorded,
    /// `order.cancelled`: an order was cancelled; the subject is the order.
    OrderCancelled,
    /// `auth.login`: a staff user logged in; the subject is the new token's credential.
    Login,
    /// `auth.login_failed`: a login failed; the subject is the user whose email was given, if any.
    LoginFailed,
    /// `auth.login_refused`: logins began to be refused by the throttle (once per key and
    /// window).
    LoginRefused,
    /// `auth.logout`: a staff token was revoked by its holder.
    Logout,
    /// `user.created`: a staff user was added; the subject is the user.
    UserCreated,
    /// `api_key.created`: an API key was created; the subject is the key.
    ApiKeyCreated,
    /// `api_key.revoked`: an API key was revoked; the subject is the key.
    ApiKeyRevoked,
}

impl AuditAction {
    /// Every action, in the order the API lists them.
    pub const ALL: [Self; 16] = [
        Self::CustomerCreated,
        Self::CustomerUpdated,
        Self::CustomerBlocked,
        Self::CustomerUnblocked,
        Self::CustomerDeleted,
        Self::CustomerExported,
        Self::LoyaltyAdjusted,
        Self::OrderRecorded,
        Self::OrderCancelled,
        Self::Login,
        Self::LoginFailed,
        Self::LoginRefused,
        Self::Logout,
        Self::UserCreated,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
    ];

    /// The wire name, e.g. `customer.updated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerBlocked => "customer.blocked",
            Self::CustomerUnblocked => "customer.unblocked",
            Self::CustomerDeleted => "customer.deleted",
            Self::CustomerExported => "customer.exported",
            Self::LoyaltyAdjusted => "loyalty.adjusted",
            Self::OrderRecorded => "order.recorded",
            Self::OrderCancelled => "order.cancelled",
            Self::Login => "auth.login",
            Self::LoginFailed => "auth.login_failed",
            Self::LoginRefused => "auth.login_refused",
            Self::Logout => "auth.logout",
            Self::UserCreated => "user.created",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
        }
    }

    /// The action of a wire name; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == s)
    }
}

/// Who did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A staff user, through one of their tokens.
    User(UserId),
    /// An API key.
    ApiKey(CredentialId),
    /// The service itself, e.g. `customers store create` making a store's owner.
    System,
    /// Nobody known: a failed login.
    Anonymous,
}

impl Actor {
    /// The holder of the credential the caller used.
    pub fn of(caller: &Principal) -> Self {
        match &caller.holder {
            Holder::Staff { user_id, .. } => Self::User(user_id.clone()),
            Holder::ApiKey { .. } => Self::ApiKey(caller.credential_id.clone()),
        }
    }

    /// `user`, `apiKey`, `system` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::ApiKey(_) => "apiKey",
            Self::System => "system",
            Self::Anonymous => "anonymous",
        }
    }

    /// The user's or API key's id; `None` for `system` and `anonymous`.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::User(id) => Some(id.as_str()),
            Self::ApiKey(id) => Some(id.as_str()),
            Self::System | Self::Anonymous => None,
        }
    }

    /// Reads back what [`Actor::kind`] and [`Actor::id`] stored.
    pub fn from_stored(kind: &str, id: Option<String>) -> Option<Self> {
        match (kind, id) {
            ("user", Some(id)) => Some(Self::User(UserId::from_stored(id))),
            ("apiKey", Some(id)) => Some(Self::ApiKey(CredentialId::from_stored(id))),
            ("system", None) => Some(Self::System),
            ("anonymous", None) => Some(Self::Anonymous),
            _ => None,
        }
    }
}

/// One entry of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The entry's id, `aud_` and a random part.
    pub id: AuditId,
    /// The store whose trail holds the entry.
    pub store_id: StoreId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What was done.
    pub action: AuditAction,
    /// The customer concerned, if any. Kept after the customer is erased: it is a random id
    /// that no longer leads to anybody.
    pub customer_id: Option<CustomerId>,
    /// The user, API key, ledger entry or order the action made or touched.
    pub subject_id: Option<String>,
    /// For `customer.updated`: the API names of the fields that changed, in API order.
    pub fields: Vec<String>,
    /// For `auth.login_failed` and `auth.login_refused`: the client's network address.
    pub client_address: Option<String>,
    /// For `auth.login_refused`: the failures counted when the attempts began to be refused.
    pub failure_count: Option<u32>,
}

impl AuditEntry {
    /// An entry with only the required parts; the builders below add the rest.
    pub fn new(
        id: AuditId,
        store_id: StoreId,
        at: DateTime<Utc>,
        actor: Actor,
        action: AuditAction,
    ) -> Self {
        Self {
            id,
            store_id,
            at,
            actor,
            action,
            customer_id: None,
            subject_id: None,
            fields: Vec::new(),
            client_address: None,
            failure_count: None,
        }
    }

    /// The entry, concerning `customer`.
    pub fn about(mut self, customer: &CustomerId) -> Self {
        self.customer_id = Some(customer.clone());
        self
    }

    /// The entry, naming the id of what the action made or touched.
    pub fn subject(mut self, id: impl Into<String>) -> Self {
        self.subject_id = Some(id.into());
        self
    }

    /// The entry, with the client's network address (for logins).
    pub fn from_address(mut self, address: Option<&str>) -> Self {
        self.client_address = address.map(str::to_owned);
        self
    }

    /// The entry, with the failures counted (for refused logins); capped at `u32::MAX`.
    pub fn with_failure_count(mut self, count: usize) -> Self {
        self.failure_count = Some(u32::try_from(count).unwrap_or(u32::MAX));
        self
    }

    /// The entry, listing the API names of the fields that changed.
    pub fn with_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }
}

/// Filters of `GET /audit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this customer.
    pub customer_id: Option<CustomerId>,
    /// A user id (`usr_…`) or an API key id (`key_…`).
    pub actor_id: Option<String>,
    /// Only entries of this action.
    pub action: Option<AuditAction>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub before: Option<DateTime<Utc>>,
}

/// The query parameters of `GET /audit` as they arrive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditListParams {
    /// `page`, from 1.
    pub page: Option<i64>,
    /// `limit`, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `customerId`: a customer id.
    pub customer_id: Option<String>,
    /// `actor`: a user id (`usr_…`) or an API key id (`key_…`).
    pub actor: Option<String>,
    /// `action`: a wire name such as `customer.updated`.
    pub action: Option<String>,
    /// `dateFrom`, `YYYY-MM-DD`: the first day, in the store's time zone.
    pub date_from: Option<String>,
    /// `dateTo`, `YYYY-MM-DD`: the last day, included.
    pub date_to: Option<String>,
}

impl AuditListParams {
    fn has_dates(&self) -> bool {
        self.date_from.is_some() || self.date_to.is_some()
    }

    /// Validates every parameter; dates are whole days in `timezone`, both inclusive.
    pub fn validate(&self, timezone: Tz) -> Result<(AuditFilter, PageRequest), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = PageRequest::new(self.page, self.limit).unwrap_or_else(|page_errors| {
            for e in page_errors.fields() {
                errors.add(e.field.clone(), e.message.clone());
            }
            PageRequest::first()
        });
        let customer_id = self.customer_id.as_deref().and_then(|id| {
            let parsed = CustomerId::parse(id);
            if parsed.is_none() {
                errors.add("customerId", "is not a customer id");
            }
            parsed
        });
        let actor_id = self.actor.as_deref().and_then(|id| {
            let valid = UserId::parse(id).is_some() || CredentialId::parse(id).is_some();
            if !valid {
                errors.add("actor", "is not a user id or an API key id");
            }
            valid.then(|| id.to_owned())
        });
        let action = self.action.as_deref().and_then(|name| {
            let parsed = AuditAction::parse(name);
            if parsed.is_none() {
                let names: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                errors.add("action", format!("must be one of {}", names.join(", ")));
            }
            parsed
        });
        let dates = DayRange::validate(
            self.date_from.as_deref(),
            self.date_to.as_deref(),
            timezone,
            &mut errors,
        );
        let filter = AuditFilter {
            customer_id,
            actor_id,
            action,
            from: dates.from,
            before: dates.before,
        };
        errors.into_result(|| (filter, page))
    }
}

/// Why reading the audit trail failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The caller is not an admin's or owner's staff token (403 `FORBIDDEN`).
    #[error("the credential does not allow this")]
    Forbidden,
    /// A query parameter broke its rule (422 `VALIDATION_FAILED`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Storage failed (503 when unreachable, 500 otherwise).
    #[error(transparent)]
    Storage(#[from] RepoError),
}

impl From<Forbidden> for AuditError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}

impl System {
    /// A new audit entry, dated now, of `actor` doing `action` in `store`.
    pub fn audit_entry(&self, store: &StoreId, actor: Actor, action: AuditAction) -> AuditEntry {
        AuditEntry::new(
            AuditId::from_stored(self.new_id(AuditId::PREFIX)),
            store.clone(),
            self.now(),
            actor,
            action,
        )
    }
}

/// Reading the audit trail.
pub struct AuditService<A, S> {
    audit: Arc<A>,
    stores: Arc<S>,
    system: System,
}

impl<A, S> Clone for AuditService<A, S> {
    fn clone(&self) -> Self {
        Self {
            audit: Arc::clone(&self.audit),
            stores: Arc::clone(&self.stores),
            system: self.system.clone(),
        }
    }
}

impl<A: AuditRepository, S: StoreRepository> AuditService<A, S> {
    /// The service over the trail, and the stores whose time zones turn `dateFrom`/`dateTo` into
    /// instants.
    pub fn new(audit: Arc<A>, stores: Arc<S>, system: System) -> Self {
        Self {
            audit,
            stores,
            system,
        }
    }

    /// One page of the caller's store's trail, newest first (admins and owners).
    pub async fn list(
        &self,
        caller: &Principal,
        params: &AuditListParams,
    ) -> Result<Page<AuditEntry>, AuditError> {
        caller.may(Action::ReadAudit)?;
        let timezone = timezone_if(&*self.stores, &caller.store_id, params.has_dates()).await?;
        let (filter, page) = params.validate(timezone)?;
        let (items, total) = self.audit.list(&caller.store_id, &filter, page).await?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::Role;
    use crate::access::Scope;
    use crate::testing::{TestPorts, ready, staff, store_id};

    fn params() -> AuditListParams {
        AuditListParams::default()
    }

    #[test]
    fn action_names_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("customer.CREATED"), None);
    }

    #[test]
    fn actors_round_trip_through_storage() {
        for actor in [
            Actor::User(UserId::parse("usr_aaaaaaaaaaaa").unwrap()),
            Actor::ApiKey(CredentialId::parse("key_aaaaaaaaaaaa").unwrap()),
            Actor::System,
            Actor::Anonymous,
        ] {
            let stored = Actor::from_stored(actor.kind(), actor.id().map(str::to_owned));
            assert_eq!(stored, Some(actor));
        }
        assert_eq!(Actor::from_stored("user", None), None);
    }

    #[test]
    fn filters_are_validated_together() {
        let bad = AuditListParams {
            customer_id: Some("42".into()),
            actor: Some("maria@example.dk".into()),
            action: Some("customer.read".into()),
            date_from: Some("yesterday".into()),
            limit: Some(0),
            ..params()
        };
        let errors = bad.validate(Tz::UTC).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["limit", "customerId", "actor", "action", "dateFrom"]
        );
    }

    #[test]
    fn good_filters_are_kept() {
        let good = AuditListParams {
            customer_id: Some("cust_aaaaaaaaaaaa".into()),
            actor: Some("key_aaaaaaaaaaaa".into()),
            action: Some("loyalty.adjusted".into()),
            date_to: Some("2026-03-15".into()),
            ..params()
        };
        let (filter, page) = good.validate(Tz::UTC).unwrap();
        assert_eq!(filter.customer_id.unwrap().as_str(), "cust_aaaaaaaaaaaa");
        assert_eq!(filter.actor_id.as_deref(), Some("key_aaaaaaaaaaaa"));
        assert_eq!(filter.action, Some(AuditAction::LoyaltyAdjusted));
        assert_eq!(filter.from, None);
        assert_eq!(filter.before, Some("2026-03-16T00:00:00Z".parse().unwrap()));
        assert_eq!(page, PageRequest::first());
    }

    #[tokio::test]
    async fn only_admins_and_owners_read_the_trail() {
        let mut ports = TestPorts::new();
        ports
            .audit
            .expect_list()
            .withf(|store, _, _| *store == store_id())
            .times(2)
            .returning(|_, _, _| ready(Ok((vec![], 0))));
        let service = ports.audit_service();
        for role in [Role::Staff, Role::Manager] {
            let result = service.list(&staff(role), &params()).await;
            assert!(matches!(result, Err(AuditError::Forbidden)));
        }
        let mut key = staff(Role::Owner);
        key.holder = Holder::ApiKey {
            name: "pos".into(),
            scopes: vec![Scope::ReadCustomers],
        };
        assert!(matches!(
            service.list(&key, &params()).await,
            Err(AuditError::Forbidden)
        ));
        for role in [Role::Admin, Role::Owner] {
            assert_eq!(
                service.list(&staff(role), &params()).await.unwrap().total,
                0
            );
        }
    }

    #[tokio::test]
    async fn dates_are_days_of_the_stores_time_zone() {
        let mut ports = TestPorts::new();
        ports.stores.expect_find().returning(|_| {
            let settings = crate::store::StoreSettings::default();
            ready(Ok(Some(
                settings
                    .validate(store_id(), crate::testing::now())
                    .unwrap(),
            )))
        });
        ports
            .audit
            .expect_list()
            .withf(|_, filter, _| {
                filter.from == Some("2026-03-14T23:00:00Z".parse().unwrap())
                    && filter.before == Some("2026-03-15T23:00:00Z".parse().unwrap())
            })
            .times(1)
            .returning(|_, _, _| ready(Ok((vec![], 0))));
        let one_day = AuditListParams {
            date_from: Some("2026-03-15".into()),
            date_to: Some("2026-03-15".into()),
            ..params()
        };
        ports
            .audit_service()
            .list(&staff(Role::Admin), &one_day)
            .await
            .unwrap();
    }
}
