//! `Idempotency-Key`: a repeated write answers what the first one did, and writes nothing.
//!
//! A key is kept per store and credential with a digest of the request. The first request
//! claims it (a lease), writes with the claim's id attached to the row it creates (unique, so
//! a write can never happen twice, even when a crashed holder's lease is taken over), and
//! stores its response. A repeat replays that response; a repeat while the first still runs
//! is refused; the same key with another request is refused. A failed request (4xx) releases
//! the key; one that may have written (5xx) abandons it, keeping its claim.
//!
//! A claim is held by its process: when that process dies (a crash, a kill) the next request
//! with the key takes the claim over at once, as it does after an abandon. The lease
//! ([`CLAIM_LEASE`]) is the fallback when a holder's death cannot be seen (PostgreSQL: a
//! session the server still believes open). Keys are kept 24 hours.

use std::sync::Arc;

use chrono::Duration;

use crate::access::Principal;
use crate::access::TokenDigester;
use crate::ids::{CredentialId, CustomerId, StoreId};
use crate::ports::{RepoError, System};

pub mod ports;

pub use self::ports::IdempotencyRepository;

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::hours(24);
/// How long a claim holds a key before another request may take it over, when its holder is
/// not known to be gone.
pub const CLAIM_LEASE: Duration = Duration::seconds(30);
/// Longest key, in characters (visible ASCII only).
pub const MAX_KEY_LEN: usize = 255;

/// Where a key lives: one store, one credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyScope {
    /// The store of the caller.
    pub store_id: StoreId,
    /// The credential the caller used: another credential's key of the same name is another key.
    pub credential_id: CredentialId,
    /// The `Idempotency-Key` header, 1–255 visible ASCII characters.
    pub key: String,
}

/// Checks a key: 1–255 visible ASCII characters.
pub fn parse_key(key: &str) -> Result<String, String> {
    if !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key.to_owned())
    } else {
        Err(format!(
            "must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))
    }
}

/// A response as it was sent: replayed byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status of the first response (only 2xx answers are stored).
    pub status: u16,
    /// The response body, as sent.
    pub body: Vec<u8>,
}

/// What a request with a key may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begin {
    /// Go ahead; attach `claim` to what you write.
    Proceed {
        /// This request's claim, `idem_` and a random part; the write carries it (unique), so it
        /// can never happen twice.
        claim: String,
    },
    /// The key was used by this very request: answer this (with `Idempotent-Replayed: true`).
    Replay(StoredResponse),
    /// The first request with this key is still running (409 `IDEMPOTENCY_IN_PROGRESS`).
    InProgress,
    /// The key was used for another request (422 `IDEMPOTENCY_KEY_REUSED`).
    Mismatch,
}

/// The idempotency use cases, for any write that takes a key.
pub struct Idempotency<I> {
    idempotency: Arc<I>,
    system: System,
    digests: Arc<dyn TokenDigester>,
}

impl<I> Clone for Idempotency<I> {
    fn clone(&self) -> Self {
        Self {
            idempotency: Arc::clone(&self.idempotency),
            system: self.system.clone(),
            digests: Arc::clone(&self.digests),
        }
    }
}

impl<I: IdempotencyRepository> Idempotency<I> {
    /// The use cases over this store of keys; requests are kept as their digests.
    pub fn new(idempotency: Arc<I>, digests: Arc<dyn TokenDigester>, system: System) -> Self {
        Self {
            idempotency,
            digests,
            system,
        }
    }

    /// Claims `key` for this caller's `request` (a canonical text of method, path and body;
    /// only its digest is kept), or says why not. The key must be valid (see [`parse_key`]).
    /// `customer` is the customer the request names, if any (a malformed id names nobody):
    /// erasing that customer deletes the key and the response stored with it.
    pub async fn begin(
        &self,
        caller: &Principal,
        key: String,
        request: &str,
        customer: Option<&str>,
    ) -> Result<(IdempotencyScope, Begin), RepoError> {
        let request_digest = self.digests.digest(request);
        let scope = IdempotencyScope {
            store_id: caller.store_id.clone(),
            credential_id: caller.credential_id.clone(),
            key,
        };
        let claim = self.system.new_id("idem");
        let begin = self
            .idempotency
            .begin(
                &scope,
                customer.and_then(CustomerId::parse),
                &request_digest,
                &claim,
                self.system.now(),
                CLAIM_LEASE,
                KEY_LIFETIME,
            )
            .await?;
        Ok((scope, begin))
    }

    /// Keeps the response of a successful request for replay.
    pub async fn complete(
        &self,
        scope: &IdempotencyScope,
        claim: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        self.idempotency.complete(scope, claim, response).await
    }

    /// Frees the key of a request that failed and wrote nothing.
    pub async fn release(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        self.idempotency.release(scope, claim).await
    }

    /// Gives up the key of a request that ended without an answer to store (it failed and
    /// may have written): the next request with the key takes the claim over at once.
    pub async fn abandon(&self, scope: &IdempotencyScope, claim: &str) -> Result<(), RepoError> {
        self.idempotency.abandon(scope, claim).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_is_taken_under_the_callers_scope_with_a_digest() {
        use crate::access::Role;
        use crate::testing::{TestPorts, now, ready, staff};
        let mut ports = TestPorts::new();
        ports
            .digests
            .expect_digest()
            .returning(|s| format!("digest({s})"));
        ports
            .idempotency
            .expect_begin()
            .withf(|scope, customer, digest, claim, at, lease, lifetime| {
                scope.credential_id.as_str() == "key_aaaaaaaaaaaa"
                    && customer.as_ref().map(|c| c.as_str()) == Some("cust_000000000009")
                    && scope.key == "k1"
                    && digest == "digest(POST /x)"
                    && claim.starts_with("idem_")
                    && *at == now()
                    && *lease == CLAIM_LEASE
                    && *lifetime == KEY_LIFETIME
            })
            .returning(|_, _, _, claim, _, _, _| {
                ready(Ok(Begin::Proceed {
                    claim: claim.to_owned(),
                }))
            });
        let idempotency = ports.idempotency();
        let (scope, begin) = idempotency
            .begin(
                &staff(Role::Staff),
                "k1".into(),
                "POST /x",
                Some("cust_000000000009"),
            )
            .await
            .unwrap();
        assert_eq!(scope.key, "k1");
        assert!(matches!(begin, Begin::Proceed { claim } if claim.starts_with("idem_")));
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(parse_key("7f3a9b2c-0001").is_ok());
        assert!(parse_key(&"k".repeat(255)).is_ok());
        assert!(parse_key("").is_err());
        assert!(parse_key(&"k".repeat(256)).is_err());
        assert!(parse_key("with space").is_err());
        assert!(parse_key("ключ").is_err());
    }
}
