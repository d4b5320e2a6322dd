//! The audit trail and idempotency keys in memory.

use chrono::{DateTime, Duration, Utc};

use super::{Memory, State, StoredKey, page_of};
use crate::audit::{AuditEntry, AuditFilter, AuditRepository};
use crate::idempotency::{Begin, IdempotencyRepository, IdempotencyScope, StoredResponse};
use crate::ids::{CustomerId, StoreId};
use crate::page::PageRequest;
use crate::ports::RepoError;

fn matches(filter: &AuditFilter, entry: &AuditEntry) -> bool {
    filter
        .customer_id
        .as_ref()
        .is_none_or(|customer| entry.customer_id.as_ref() == Some(customer))
        && filter
            .actor_id
            .as_deref()
            .is_none_or(|actor| entry.actor.id() == Some(actor))
        && filter.action.is_none_or(|action| entry.action == action)
        && filter.from.is_none_or(|from| entry.at >= from)
        && filter.before.is_none_or(|before| entry.at < before)
}

impl AuditRepository for Memory {
    async fn record(&self, entry: &AuditEntry) -> Result<(), RepoError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&entry.store_id)?;
            tenant.audit_free(entry)?;
            tenant.log(entry.clone());
            Ok(())
        })
    }

    async fn list(
        &self,
        store: &StoreId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<(Vec<AuditEntry>, u64), RepoError> {
        self.read(|state| {
            let Some(tenant) = state.tenant(store) else {
                return (Vec::new(), 0);
            };
            // Newest first; entries of one instant in the reverse of the order written.
            let mut matching: Vec<(usize, &AuditEntry)> = tenant
                .audit
                .iter()
                .enumerate()
                .filter(|(_, entry)| matches(filter, entry))
                .collect();
            matching.sort_by(|(i, a), (j, b)| (b.at, j).cmp(&(a.at, i)));
            page_of(matching.into_iter().map(|(_, entry)| entry.clone()), page)
        })
    }
}

/// `instant + duration`, saturating at the ends of time.
fn plus(instant: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    instant
        .checked_add_signed(duration)
        .unwrap_or(if duration < Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

impl IdempotencyRepository for Memory {
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        customer: Option<CustomerId>,
        request_digest: &str,
        claim: &str,
        now: DateTime<Utc>,
        lease: Duration,
        lifetime: Duration,
    ) -> Result<Begin, RepoError> {
        self.write(|state| {
            let tenant = state.tenant_mut(&scope.store_id)?;
            // Keys past their lifetime are free: this credential's go now.
            let expired_before = plus(now, -lifetime);
            tenant.keys.retain(|(credential, _), key| {
                *credential != scope.credential_id || key.created_at >= expired_before
            });
            let slot = (scope.credential_id.clone(), scope.key.clone());
            let Some(held) = tenant.keys.get_mut(&slot) else {
                tenant.keys.insert(
                    slot,
                    StoredKey {
                        request_digest: request_digest.to_owned(),
                        claim: claim.to_owned(),
                        response: None,
                        holder: Some(self.holder),
                        locked_until: plus(now, lease),
                        created_at: now,
                        customer,
                    },
                );
                return Ok(Begin::Proceed {
                    claim: claim.to_owned(),
                });
            };
            if held.request_digest != request_digest {
                return Ok(Begin::Mismatch);
            }
            if let Some(response) = &held.response {
                return Ok(Begin::Replay(response.clone()));
            }
            // One Memory is one process's data: a claim of another holder was made by a
            // process that died (see `Memory::restarted`).
            if held.holder == Some(self.holder) && held.locked_until > now {
                return Ok(Begin::InProgress);
            }
            // The holder is gone, gave the key up or its lease ran out: the key is taken over
            // with its claim, so that what the holder did write is recognised as this
            // request's.
            held.holder = Some(self.holder);
            held.locked_until = plus(now, lease);
            Ok(Begin::Proceed {
                claim: held.claim.clone(),
            })
        })
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        self.write(|state| {
            if let Some(held) = in_progress(state, scope, claim) {
                held.response = Some(response.clone());
            }
            Ok(())
        })
    }

    async fn abandon(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        self.write(|state| {
            if let Some(held) = in_progress(state, scope, claim)
                && held.holder == Some(self.holder)
            {
                held.holder = None;
            }
            Ok(())
        })
    }

    async fn release(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        self.write(|state| {
            if let Some(tenant) = state.tenants.get_mut(&scope.store_id) {
                let slot = (scope.credential_id.clone(), scope.key.clone());
                if tenant
                    .keys
                    .get(&slot)
                    .is_some_and(|held| held.claim == claim && held.response.is_none())
                {
                    tenant.keys.remove(&slot);
                }
            }
            Ok(())
        })
    }
}

/// The key of `scope` while `claim` holds it and no answer is stored yet.
fn in_progress<'a>(
    state: &'a mut State,
    scope: &IdempotencyScope,
    claim: &str,
) -> Option<&'a mut StoredKey> {
    state
        .tenants
        .get_mut(&scope.store_id)?
        .keys
        .get_mut(&(scope.credential_id.clone(), scope.key.clone()))
        .filter(|held| held.claim == claim && held.response.is_none())
}
