//! Stores, staff users, credentials and the login throttle's rows, in memory.

use chrono::{DateTime, Utc};

use super::{LoginRow, Memory, State, StoredCredential, Tenant, page_of};
use crate::access::throttle::{self, Recent, Refusal};
use crate::access::{
    ApiKey, AttemptClaim, Credential, CredentialRepository, Holder, LoginFailureRepository,
    Principal, SecretKind, StaffUser, UserRepository,
};
use crate::audit::AuditEntry;
use crate::ids::{CredentialId, StoreId};
use crate::page::PageRequest;
use crate::ports::{RepoError, Unique};
use crate::store::{Store, StoreRepository};

/// Refuses a credential whose digest another one of its store has.
fn check_digest(state: &State, credential: &Credential) -> Result<(), RepoError> {
    let taken = state.tenant(&credential.store_id).is_some_and(|tenant| {
        tenant
            .credentials
            .values()
            .any(|other| other.credential.digest == credential.digest)
    });
    if taken {
        Err(RepoError::Internal("a credential's digest is taken".into()))
    } else {
        Ok(())
    }
}

fn insert_user(
    tenant: &mut Tenant,
    user: &StaffUser,
    password_hash: &str,
) -> Result<(), RepoError> {
    let key = user.email.normalized();
    if tenant
        .users
        .values()
        .any(|(other, _)| other.email.normalized() == key)
    {
        return Err(RepoError::Conflict(Unique::UserEmail));
    }
    if tenant.users.contains_key(&user.id) {
        return Err(RepoError::Internal(format!("the id {} is taken", user.id)));
    }
    tenant
        .users
        .insert(user.id.clone(), (user.clone(), password_hash.to_owned()));
    Ok(())
}

fn active(stored: &StoredCredential, now: DateTime<Utc>) -> bool {
    stored.revoked_at.is_none() && stored.credential.expires_at.is_none_or(|at| at > now)
}

impl StoreRepository for Memory {
    async fn find(&self, id: &StoreId) -> Result<Option<Store>, RepoError> {
        self.read(|state| state.tenant(id).map(|tenant| tenant.store.clone()))
    }

    async fn any_exists(&self) -> Result<bool, RepoError> {
        self.read(|state| !state.tenants.is_empty())
    }

    async fn set_max_order_minor(
        &self,
        id: &StoreId,
        max_order_minor: i64,
    ) -> Result<bool, RepoError> {
        self.write(|state| {
            Ok(state.tenants.get_mut(id).is_some_and(|tenant| {
                tenant.store.max_order_minor = max_order_minor;
                true
            }))
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
        self.write(|state| {
            if state.tenants.contains_key(&store.id) {
                return Err(RepoError::Internal(format!("the id {} is taken", store.id)));
            }
            if owner.store_id != store.id {
                return Err(RepoError::Internal(format!(
                    "the owner {} belongs to another store",
                    owner.id
                )));
            }
            if token.store_id != store.id || token.user_id.as_ref() != Some(&owner.id) {
                return Err(RepoError::Internal(format!(
                    "the token {} is not the owner's",
                    token.id
                )));
            }
            let mut tenant = Tenant::new(store.clone());
            insert_user(&mut tenant, owner, password_hash)?;
            tenant.credentials.insert(
                token.id.clone(),
                StoredCredential {
                    credential: token.clone(),
                    revoked_at: None,
                },
            );
            tenant.log(audit.clone());
            state.tenants.insert(store.id.clone(), tenant);
            Ok(())
        })
    }
}

impl UserRepository for Memory {
    async fn insert(
        &self,
        user: &StaffUser,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), RepoError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&user.store_id)?;
            tenant.audit_free(audit)?;
            insert_user(tenant, user, password_hash)?;
            tenant.log(audit.clone());
            Ok(())
        })
    }

    async fn find_by_email(
        &self,
        store: &StoreId,
        normalized_email: &str,
    ) -> Result<Option<(StaffUser, String)>, RepoError> {
        self.read(|state| {
            state.tenant(store).and_then(|tenant| {
                tenant
                    .users
                    .values()
                    .find(|(user, _)| user.email.normalized() == normalized_email)
                    .cloned()
            })
        })
    }

    async fn list(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> Result<(Vec<StaffUser>, u64), RepoError> {
        self.read(|state| {
            let Some(tenant) = state.tenant(store) else {
                return (Vec::new(), 0);
            };
            let mut users: Vec<&StaffUser> = tenant.users.values().map(|(user, _)| user).collect();
            users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            page_of(users.into_iter().cloned(), page)
        })
    }
}

/// Revokes an active credential of the store (of `kind`, when given), with its audit entry;
/// `false` (and nothing written) when there is no such active credential.
fn revoke(
    state: &mut State,
    store: &StoreId,
    id: &CredentialId,
    kind: Option<SecretKind>,
    now: DateTime<Utc>,
    audit: &AuditEntry,
) -> Result<bool, RepoError> {
    let Some(tenant) = state.tenants.get_mut(store) else {
        return Ok(false);
    };
    let revocable = |stored: &StoredCredential| {
        active(stored, now) && kind.is_none_or(|kind| stored.credential.kind == kind)
    };
    if !tenant.credentials.get(id).is_some_and(revocable) {
        return Ok(false);
    }
    tenant.audit_free(audit)?;
    let Some(stored) = tenant.credentials.get_mut(id) else {
        return Ok(false);
    };
    stored.revoked_at = Some(now);
    tenant.log(audit.clone());
    Ok(true)
}

impl CredentialRepository for Memory {
    async fn insert(&self, credential: &Credential, audit: &AuditEntry) -> Result<(), RepoError> {
        self.write(|state| {
            check_digest(state, credential)?;
            let tenant = state.tenant_mut(&credential.store_id)?;
            tenant.audit_free(audit)?;
            if tenant.credentials.contains_key(&credential.id) {
                return Err(RepoError::Internal(format!(
                    "the id {} is taken",
                    credential.id
                )));
            }
            tenant.credentials.insert(
                credential.id.clone(),
                StoredCredential {
                    credential: credential.clone(),
                    revoked_at: None,
                },
            );
            tenant.log(audit.clone());
            Ok(())
        })
    }

    /// Nothing here predates secrets carrying their store: `store: None` finds nothing.
    async fn find_active(
        &self,
        store: Option<StoreId>,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, RepoError> {
        let Some(store) = store else {
            return Ok(None);
        };
        self.read(|state| {
            state.tenant(&store).and_then(|tenant| {
                let stored = tenant
                    .credentials
                    .values()
                    .find(|stored| stored.credential.digest == digest && active(stored, now))?;
                let credential = &stored.credential;
                let holder = match credential.kind {
                    SecretKind::StaffToken => {
                        // A token whose user is gone grants nothing.
                        let (user, _) = tenant.users.get(credential.user_id.as_ref()?)?;
                        Holder::Staff {
                            user_id: user.id.clone(),
                            email: user.email.as_str().to_owned(),
                            role: user.role,
                        }
                    }
                    SecretKind::ApiKey => Holder::ApiKey {
                        name: credential.name.clone(),
                        scopes: credential.scopes.clone(),
                    },
                };
                Some(Principal {
                    store_id: credential.store_id.clone(),
                    credential_id: credential.id.clone(),
                    holder,
                })
            })
        })
    }

    async fn list_api_keys(
        &self,
        store: &StoreId,
        page: PageRequest,
    ) -> Result<(Vec<ApiKey>, u64), RepoError> {
        self.read(|state| {
            let Some(tenant) = state.tenant(store) else {
                return (Vec::new(), 0);
            };
            let mut keys: Vec<&StoredCredential> = tenant
                .credentials
                .values()
                .filter(|stored| stored.credential.kind == SecretKind::ApiKey)
                .collect();
            keys.sort_by(|a, b| {
                let (a, b) = (&a.credential, &b.credential);
                (b.created_at, &b.id).cmp(&(a.created_at, &a.id))
            });
            let keys = keys.into_iter().map(|stored| ApiKey {
                id: stored.credential.id.clone(),
                name: stored.credential.name.clone(),
                scopes: stored.credential.scopes.clone(),
                created_at: stored.credential.created_at,
                revoked_at: stored.revoked_at,
            });
            page_of(keys, page)
        })
    }

    async fn revoke_api_key(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.write(|state| revoke(state, store, id, Some(SecretKind::ApiKey), now, audit))
    }

    async fn revoke(
        &self,
        store: &StoreId,
        id: &CredentialId,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<bool, RepoError> {
        self.write(|state| revoke(state, store, id, None, now, audit))
    }
}

/// The keys once each, in order.
fn distinct(mut keys: Vec<String>) -> Vec<String> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The key under which refusals of `key` are noted (as the SQL adapter notes them).
fn refusal_key(key: &str) -> String {
    format!("refused:{key}")
}

/// Stores an audit entry of the login path, when its store is known (and exists).
fn push_audit(state: &mut State, audit: Option<AuditEntry>) -> Result<(), RepoError> {
    if let Some(audit) = audit {
        let tenant = state.tenant_mut(&audit.store_id)?;
        tenant.audit_free(&audit)?;
        tenant.log(audit);
    }
    Ok(())
}

impl LoginFailureRepository for Memory {
    async fn claim_attempt(&self, claim: AttemptClaim) -> Result<Result<(), Refusal>, RepoError> {
        let keys = distinct(claim.keys.all());
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        self.write(|state| {
            let since = claim.now - throttle::WINDOW;
            let recent = Recent::sort_out(
                &claim.keys,
                state
                    .login_rows
                    .iter()
                    .filter(|row| row.at > since && keys.contains(&row.key))
                    .map(|row| (row.key.clone(), row.at)),
            );
            if let Err(refusal) = throttle::verdict(&claim.policy, &claim.keys, &recent, claim.now)
            {
                return Ok(Err(refusal));
            }
            state.login_rows.extend(keys.iter().map(|key| LoginRow {
                key: key.clone(),
                at: claim.now,
                attempt: Some(claim.attempt.clone()),
            }));
            Ok(Ok(()))
        })
    }

    async fn fail_attempt(
        &self,
        attempt: String,
        audit: Option<AuditEntry>,
    ) -> Result<(), RepoError> {
        self.write(|state| {
            push_audit(state, audit)?;
            for row in &mut state.login_rows {
                if row.attempt.as_ref() == Some(&attempt) {
                    row.attempt = None;
                }
            }
            Ok(())
        })
    }

    async fn forget_attempt(&self, attempt: String, clear: Vec<String>) -> Result<(), RepoError> {
        self.write(|state| {
            state
                .login_rows
                .retain(|row| row.attempt.as_ref() != Some(&attempt) && !clear.contains(&row.key));
            Ok(())
        })
    }

    async fn note_refusal(
        &self,
        key: String,
        at: DateTime<Utc>,
        since: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<bool, RepoError> {
        let key = refusal_key(&key);
        self.write(|state| {
            if state
                .login_rows
                .iter()
                .any(|row| row.key == key && row.at >= since)
            {
                return Ok(false);
            }
            push_audit(state, audit)?;
            state.login_rows.push(LoginRow {
                key,
                at,
                attempt: None,
            });
            Ok(true)
        })
    }

    async fn forget_before(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        self.write(|state| {
            let was = state.login_rows.len();
            state.login_rows.retain(|row| row.at >= before);
            Ok((was - state.login_rows.len()) as u64)
        })
    }

    async fn failures_since(
        &self,
        keys: Vec<String>,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, RepoError> {
        let keys = distinct(keys);
        self.read(|state| {
            let mut rows: Vec<(String, DateTime<Utc>)> = state
                .login_rows
                .iter()
                .filter(|row| row.at >= since && keys.contains(&row.key))
                .map(|row| (row.key.clone(), row.at))
                .collect();
            rows.sort();
            rows
        })
    }
}
