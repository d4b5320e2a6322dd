//! The store use cases: creating a store with its owner, and changing its settings. They run
//! from the command line, with no caller to check.

use std::sync::Arc;

use crate::access::ports::{CredentialRepository, PasswordHasher, TokenDigester};
use crate::access::{Password, Principal, Role, StaffUser};
use crate::access::{hash_password, staff_token};
use crate::audit::{Actor, AuditAction};
use crate::customer::Email;
use crate::ids::{StoreId, UserId};
use crate::ports::{RepoError, System};
use crate::store::ports::StoreRepository;
use crate::store::{Store, StoreSettings, check_max_order_minor};
use crate::validation::ValidationErrors;

/// Why a store use case failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A setting, the owner's email or password broke its rule.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No store has this id.
    #[error("no such store")]
    NotFound,
    /// Storage failed, or hashing the owner's password failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
}

/// A new store, its owner, and the owner's first token (shown once).
#[derive(Debug)]
pub struct NewStoreOutcome {
    /// The new store.
    pub store: Store,
    /// Its owner; created without a password, the owner cannot log in and has only `token`.
    pub owner: StaffUser,
    /// The owner's token, `ord_live_sk_…`, which does not expire; shown once, only its digest is
    /// stored.
    pub token: String,
}

/// Creating stores and changing their settings (from the command line: no caller).
pub struct StoreService<S, H> {
    stores: Arc<S>,
    passwords: Arc<H>,
    digests: Arc<dyn TokenDigester>,
    system: System,
}

impl<S, H> Clone for StoreService<S, H> {
    fn clone(&self) -> Self {
        Self {
            stores: Arc::clone(&self.stores),
            passwords: Arc::clone(&self.passwords),
            digests: Arc::clone(&self.digests),
            system: self.system.clone(),
        }
    }
}

impl<S: StoreRepository, H: PasswordHasher> StoreService<S, H> {
    /// The use cases over these ports, reading the time, new ids and secrets from `system`.
    pub fn new(
        stores: Arc<S>,
        passwords: Arc<H>,
        digests: Arc<dyn TokenDigester>,
        system: System,
    ) -> Self {
        Self {
            stores,
            passwords,
            digests,
            system,
        }
    }

    /// Creates a store, its owner (with a password when one is given) and the owner's first
    /// token, all in one transaction.
    pub async fn create_store(
        &self,
        settings: &StoreSettings,
        owner_email: &str,
        owner_password: Option<&str>,
    ) -> Result<NewStoreOutcome, StoreError> {
        let now = self.system.now();
        let store_id = StoreId::from_stored(self.system.new_id(StoreId::PREFIX));
        let mut errors = ValidationErrors::new();
        let store = match settings.validate(store_id, now) {
            Ok(store) => Some(store),
            Err(store_errors) => {
                for e in store_errors.fields() {
                    errors.add(e.field.clone(), e.message.clone());
                }
                None
            }
        };
        let email = errors.check("ownerEmail", Email::parse(owner_email));
        let password =
            owner_password.and_then(|p| errors.check("ownerPassword", Password::parse(p)));
        let (Some(store), Some(email)) = (store, email) else {
            return Err(errors.into());
        };
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let owner = StaffUser {
            id: UserId::from_stored(self.system.new_id(UserId::PREFIX)),
            store_id: store.id.clone(),
            email,
            name: None,
            role: Role::Owner,
            created_at: now,
        };
        let hash = match password {
            Some(password) => hash_password(&*self.passwords, password)
                .await
                .map_err(|_| {
                    StoreError::Storage(RepoError::Internal("password hashing failed".into()))
                })?,
            None => String::new(),
        };
        let (token, credential) =
            staff_token(&self.system, &*self.digests, &owner, "owner", now, None);
        let audit = self
            .system
            .audit_entry(&store.id, Actor::System, AuditAction::UserCreated)
            .subject(owner.id.as_str());
        self.stores
            .create_with_owner(&store, &owner, &hash, &credential, &audit)
            .await?;
        Ok(NewStoreOutcome {
            store,
            owner,
            token,
        })
    }

    /// Creates a store with its owner (no password: the owner's token is the way in) and
    /// returns the owner as the caller of every use case, recognized through `credentials`:
    /// how a service embedding this crate starts.
    pub async fn open_store<C: CredentialRepository>(
        &self,
        credentials: &C,
        settings: &StoreSettings,
        owner_email: &str,
    ) -> Result<Principal, StoreError> {
        let opened = self.create_store(settings, owner_email, None).await?;
        let digest = self.digests.digest(&opened.token);
        credentials
            .find_active(Some(opened.store.id.clone()), &digest, self.system.now())
            .await?
            .ok_or_else(|| RepoError::Internal("the owner's token is missing".into()).into())
    }

    /// Sets an existing store's largest order (at least one minor unit).
    pub async fn set_max_order_minor(
        &self,
        store_id: &str,
        max_order_minor: i64,
    ) -> Result<(), StoreError> {
        let value = check_max_order_minor(max_order_minor)?;
        let id = StoreId::parse(store_id).ok_or(StoreError::NotFound)?;
        if self.stores.set_max_order_minor(&id, value).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::secret::{self, SecretKind};
    use crate::testing::{TestPorts, ready};

    #[tokio::test]
    async fn a_new_store_comes_with_its_owner_and_a_token() {
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        ports.passwords.expect_hash().never();
        ports
            .stores
            .expect_create_with_owner()
            .withf(|store, owner, hash, token, audit| {
                owner.role == Role::Owner
                    && owner.store_id == store.id
                    && hash.is_empty()
                    && token.user_id.as_ref() == Some(&owner.id)
                    && token.expires_at.is_none()
                    && audit.store_id == store.id
                    && audit.actor == Actor::System
                    && audit.action == AuditAction::UserCreated
                    && audit.subject_id.as_deref() == Some(owner.id.as_str())
            })
            .times(1)
            .returning(|_, _, _, _, _| ready(Ok(())));
        let outcome = ports
            .store_service()
            .create_store(&StoreSettings::default(), "owner@example.dk", None)
            .await
            .unwrap();
        assert_eq!(outcome.owner.email.as_str(), "owner@example.dk");
        assert_eq!(
            secret::recognize(&outcome.token),
            Some(secret::Recognized {
                kind: SecretKind::StaffToken,
                store: Some(outcome.store.id.clone())
            })
        );
        assert!(matches!(outcome.owner.role, Role::Owner));
    }

    #[tokio::test]
    async fn a_new_store_with_bad_settings_is_refused() {
        let mut ports = TestPorts::new();
        ports.stores.expect_create_with_owner().never();
        let settings = StoreSettings {
            currency: "kroner".into(),
            ..StoreSettings::default()
        };
        let result = ports
            .store_service()
            .create_store(&settings, "not an email", Some("short"))
            .await;
        let Err(StoreError::Invalid(errors)) = result else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["currency", "ownerEmail", "ownerPassword"]);
    }

    #[tokio::test]
    async fn the_largest_order_is_checked_and_an_unknown_store_is_not_found() {
        let mut ports = TestPorts::new();
        ports
            .stores
            .expect_set_max_order_minor()
            .withf(|id, value| id.as_str() == "store_aaaaaaaaaaaa" && *value == 500)
            .times(1)
            .returning(|_, _| ready(Ok(false)));
        let service = ports.store_service();
        assert!(matches!(
            service.set_max_order_minor("store_aaaaaaaaaaaa", 0).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            service.set_max_order_minor("not-a-store", 500).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            service.set_max_order_minor("store_aaaaaaaaaaaa", 500).await,
            Err(StoreError::NotFound)
        ));
    }
}
