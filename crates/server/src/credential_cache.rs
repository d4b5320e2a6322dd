//! A short-lived cache of active credentials in front of the credential repository.
//!
//! Every authenticated request looks its bearer secret up by digest. Under load the same few
//! secrets arrive thousands of times a second, and the lookup (a checkout of a pooled
//! connection and a round trip) costs as much as the request's own query. A principal found
//! active is therefore kept for [`TTL`] and answered from memory.
//!
//! What it changes: a revocation made through this process (logout, deleting an API key)
//! takes effect at once, as the cached entry goes with it; one made by another process (a
//! second replica) and a credential's expiry take effect within [`TTL`]. Unknown, revoked or
//! expired secrets are never cached: each of them costs its lookup.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use customers_domain::access::CredentialRepository;
use customers_domain::access::{ApiKey, Credential, Principal};
use customers_domain::audit::AuditEntry;
use customers_domain::ids::{CredentialId, StoreId};
use customers_domain::page::PageRequest;
use customers_domain::ports::RepoError;

/// How long an active credential is answered from memory.
pub const TTL: Duration = Duration::from_secs(2);
/// At most this many credentials are kept; past it, the stale ones go, or all of them.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    principal: Principal,
    found_at: Instant,
}

/// [`CredentialRepository`] `R` with active credentials cached for [`TTL`].
pub struct CachedCredentials<R> {
    inner: R,
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl<R> CachedCredentials<R> {
    pub fn new(inner: R) -> Self {
        Self::with_ttl(inner, TTL)
    }

    pub fn with_ttl(inner: R, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cached(&self, digest: &str) -> Option<Principal> {
        let entries = self.entries();
        let entry = entries.get(digest)?;
        (entry.found_at.elapsed() < self.ttl).then(|| entry.principal.clone())
    }

    fn remember(&self, digest: &str, principal: &Principal) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(digest) {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.found_at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            digest.to_owned(),
            Entry {
                principal: principal.clone(),
                found_at: Instant::now(),
            },
        );
    }

    fn forget(&self, store: &StoreId, id: &CredentialId) {
        self.entries().retain(|_, entry| {
            entry.principal.store_id != *store || entry.principal.credential_id != *id
        });
    }
}

impl<R: CredentialRepository> CredentialRepository for CachedCredentials<R> {
    async fn insert(&self, credential: &Credential, audit: &AuditEntry) -> Result<(), RepoError> {
        self.inner.insert(credential, audit).await
    }

    /// Keyed by the digest alone: a secret's digest covers the store it names, so one digest
    /// is always asked with the same store.
    async fn find_active(
        &self,
        store: Option<StoreId>,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, RepoError> {
        if let Some(principal) = self.cached(digest) {
            return Ok(Some(principal));
        }
        let found = self.inner.find_active(store, digest, now).await?;
        if let Some(principal) = &found {
            self.remember(digest, principal);
        }
        Ok(found)
    }

    async fn list_api_keys(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> Result<(Vec<ApiKey>, u64), RepoError> {
        self.inner.list_api_keys(store, page).await
    }

    async fn revoke_api_key(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        // Forgotten before and after: a lookup racing the revocation cannot keep it alive.
        self.forget(store, id);
        let revoked = self.inner.revoke_api_key(store, id, now, audit).await;
        self.forget(store, id);
        revoked
    }

    async fn revoke(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.forget(store, id);
        let revoked = self.inner.revoke(store, id, now, audit).await;
        self.forget(store, id);
        revoked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::access::{Holder, Role};
    use customers_domain::ids::UserId;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn principal(id: &str) -> Principal {
        Principal {
            store_id: StoreId::from_stored("store_aaaaaaaaaaaa".into()),
            credential_id: CredentialId::from_stored(id.into()),
            holder: Holder::Staff {
                user_id: UserId::from_stored("usr_aaaaaaaaaaaa".into()),
                email: "owner@example.invalid".into(),
                role: Role::Owner,
            },
        }
    }

    /// The store the tests' secrets name.
    fn secret_store() -> Option<StoreId> {
        Some(StoreId::from_stored("store_aaaaaaaaaaaa".into()))
    }

    /// Knows one digest ("good", credential `key_good00000000`) until it is revoked.
    #[derive(Default)]
    struct Counting {
        lookups: AtomicUsize,
        revoked: Mutex<bool>,
    }

    impl CredentialRepository for Counting {
        async fn insert(&self, _: &Credential, _: &AuditEntry) -> Result<(), RepoError> {
            Ok(())
        }

        async fn find_active(
            &self,
            _: Option<StoreId>,
            digest: &str,
            _: DateTime<Utc>,
        ) -> Result<Option<Principal>, RepoError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            let active = digest == "good" && !*self.revoked.lock().unwrap();
            Ok(active.then(|| principal("key_good00000000")))
        }

        async fn list_api_keys(
            &self,
            _: &StoreId,
            _: PageRequest,
        ) -> Result<(Vec<ApiKey>, u64), RepoError> {
            Ok((vec![], 0))
        }

        async fn revoke_api_key(
            &self,
            _: &StoreId,
            _: &CredentialId,
            _: DateTime<Utc>,
            _: &AuditEntry,
        ) -> Result<bool, RepoError> {
            *self.revoked.lock().unwrap() = true;
            Ok(true)
        }

        async fn revoke(
            &self,
            _: &StoreId,
            _: &CredentialId,
            _: DateTime<Utc>,
            _: &AuditEntry,
        ) -> Result<bool, RepoError> {
            *self.revoked.lock().unwrap() = true;
            Ok(true)
        }
    }

    fn lookups(cache: &CachedCredentials<Counting>) -> usize {
        cache.inner.lookups.load(Ordering::SeqCst)
    }

    fn audit() -> AuditEntry {
        AuditEntry::new(
            customers_domain::ids::AuditId::from_stored("aud_aaaaaaaaaaaa".into()),
            StoreId::from_stored("store_aaaaaaaaaaaa".into()),
            Utc::now(),
            customers_domain::audit::Actor::System,
            customers_domain::audit::AuditAction::Logout,
        )
    }

    #[tokio::test]
    async fn an_active_credential_is_looked_up_once_per_ttl() {
        let cache = CachedCredentials::new(Counting::default());
        for _ in 0..5 {
            let found = cache
                .find_active(secret_store(), "good", Utc::now())
                .await
                .unwrap();
            assert_eq!(found, Some(principal("key_good00000000")));
        }
        assert_eq!(lookups(&cache), 1);
    }

    #[tokio::test]
    async fn unknown_secrets_are_never_cached() {
        let cache = CachedCredentials::new(Counting::default());
        for _ in 0..3 {
            assert_eq!(
                cache
                    .find_active(secret_store(), "bad", Utc::now())
                    .await
                    .unwrap(),
                None
            );
        }
        assert_eq!(lookups(&cache), 3);
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl() {
        let cache = CachedCredentials::with_ttl(Counting::default(), Duration::from_millis(20));
        cache
            .find_active(secret_store(), "good", Utc::now())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        cache
            .find_active(secret_store(), "good", Utc::now())
            .await
            .unwrap();
        assert_eq!(lookups(&cache), 2);
    }

    #[tokio::test]
    async fn a_revocation_here_takes_effect_at_once() {
        for api_key in [false, true] {
            let cache = CachedCredentials::new(Counting::default());
            assert!(
                cache
                    .find_active(secret_store(), "good", Utc::now())
                    .await
                    .unwrap()
                    .is_some()
            );
            let (store, id) = (
                StoreId::from_stored("store_aaaaaaaaaaaa".into()),
                CredentialId::from_stored("key_good00000000".into()),
            );
            let revoked = if api_key {
                cache
                    .revoke_api_key(&store, &id, Utc::now(), &audit())
                    .await
            } else {
                cache.revoke(&store, &id, Utc::now(), &audit()).await
            };
            assert_eq!(revoked, Ok(true));
            assert_eq!(
                cache
                    .find_active(secret_store(), "good", Utc::now())
                    .await
                    .unwrap(),
                None
            );
        }
    }
}
