//! The access use cases: logging in and out, recognizing a credential, managing staff users
//! and API keys.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::access::policy::Action;
use crate::access::ports::{
    AttemptClaim, CredentialRepository, LoginFailureRepository, PasswordHasher, TokenDigester,
    UserRepository,
};
use crate::access::principal::{Forbidden, Principal};
use crate::access::role::Role;
use crate::access::secret::{self, SecretKind};
use crate::access::throttle::{self, AttemptKeys, Policy, Refusal};
use crate::access::user::{ApiKey, Credential, NewApiKeyInput, NewUserInput, Password, StaffUser};
use crate::audit::{Actor, AuditAction};
use crate::customer::Email;
use crate::ids::{CredentialId, StoreId, UserId};
use crate::page::{Page, PageRequest};
use crate::ports::{RepoError, System, Unique};
use crate::store::StoreRepository;
use crate::validation::ValidationErrors;

/// How long a token from `POST /auth/login` lives.
pub const STAFF_TOKEN_LIFETIME_DAYS: i64 = 30;

/// Why an access use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No, unknown, expired or revoked credential, or a failed login: all look alike (401
    /// `UNAUTHORIZED`).
    #[error("authentication required")]
    Unauthorized,
    /// The credential's role, scopes or kind do not allow the call (403 `FORBIDDEN`).
    #[error("the credential does not allow this")]
    Forbidden,
    /// A field broke its rule (422 `VALIDATION_FAILED`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Another staff user of the store has this email, compared case-insensitively (409
    /// `EMAIL_TAKEN`).
    #[error("a user with this email already exists")]
    EmailTaken,
    /// Too many failed logins for this email or from this address: wait
    /// `retry_after_secs` (429 `RATE_LIMITED` with `Retry-After`).
    #[error("too many failed logins; retry in {} s", .0.retry_after_secs)]
    Throttled(Refusal),
    /// Password checking is at capacity; nothing was checked (503 `SERVICE_UNAVAILABLE` with
    /// `Retry-After`).
    #[error("too many logins at once; retry in {retry_after_secs} s")]
    Busy {
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// Storage failed (503 when unreachable, 500 otherwise), or password hashing failed.
    #[error(transparent)]
    Storage(RepoError),
}

impl From<Forbidden> for AuthError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for AuthError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Conflict(Unique::UserEmail) => Self::EmailTaken,
            other => Self::Storage(other),
        }
    }
}

/// The outcome of checking a password: the user it matches, or the user whose email was
/// given, if any.
enum PasswordCheck {
    Matches(StaffUser),
    Fails { user: Option<StaffUser> },
}

/// A successful login: the new token (shown once) and who it belongs to.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The new staff token, `ord_live_sk_…`; only its digest is stored.
    pub token: String,
    /// When the token expires: [`STAFF_TOKEN_LIFETIME_DAYS`] after the login.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub user: StaffUser,
}

/// A new API key and its secret (shown once).
#[derive(Debug)]
pub struct NewApiKey {
    /// The key as listed later.
    pub key: ApiKey,
    /// The key's secret, `ord_live_ak_…`: in this answer only, as only its digest is stored.
    pub secret: String,
}

/// The prefix of the ids of login attempts (never shown: they live in the throttle's rows).
const ATTEMPT_PREFIX: &str = "att";

/// Logging in and out, and recognizing a credential.
pub struct SessionService<U, C, F, S, H> {
    users: Arc<U>,
    credentials: Arc<C>,
    login_failures: Arc<F>,
    stores: Arc<S>,
    passwords: Arc<H>,
    digests: Arc<dyn TokenDigester>,
    system: System,
    throttle: Policy,
}

impl<U, C, F, S, H> Clone for SessionService<U, C, F, S, H> {
    fn clone(&self) -> Self {
        Self {
            users: Arc::clone(&self.users),
            credentials: Arc::clone(&self.credentials),
            login_failures: Arc::clone(&self.login_failures),
            stores: Arc::clone(&self.stores),
            passwords: Arc::clone(&self.passwords),
            digests: Arc::clone(&self.digests),
            system: self.system.clone(),
            throttle: self.throttle,
        }
    }
}

/// The ports of [`SessionService`].
pub struct SessionPorts<U, C, F, S, H> {
    /// Staff users and their password hashes.
    pub users: Arc<U>,
    /// Staff tokens and API keys.
    pub credentials: Arc<C>,
    /// Login attempts and failures, for throttling.
    pub login_failures: Arc<F>,
    /// Stores, to tell a login's store exists.
    pub stores: Arc<S>,
    /// Password hashing and checking.
    pub passwords: Arc<H>,
    /// Digests of secrets.
    pub digests: Arc<dyn TokenDigester>,
}

impl<U, C, F, S, H> SessionService<U, C, F, S, H>
where
    U: UserRepository,
    C: CredentialRepository,
    F: LoginFailureRepository,
    S: StoreRepository,
    H: PasswordHasher,
{
    /// The service over these ports, with the default login throttling.
    pub fn new(ports: SessionPorts<U, C, F, S, H>, system: System) -> Self {
        Self {
            users: ports.users,
            credentials: ports.credentials,
            login_failures: ports.login_failures,
            stores: ports.stores,
            passwords: ports.passwords,
            digests: ports.digests,
            system,
            throttle: Policy::default(),
        }
    }

    /// The same service with other login throttling limits.
    pub fn with_throttle(mut self, policy: Policy) -> Self {
        self.throttle = policy;
        self
    }

    /// The principal behind a bearer secret. A malformed secret or a bad checksum is refused
    /// without touching the database; a good one costs one indexed lookup of its digest within
    /// the store it names (a secret older than that, naming none, one more to find its store).
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        let Some(recognized) = secret::recognize(bearer) else {
            return Err(AuthError::Unauthorized);
        };
        let digest = self.digests.digest(bearer);
        let principal = self
            .credentials
            .find_active(recognized.store.clone(), &digest, self.system.now())
            .await?
            .ok_or(AuthError::Unauthorized)?;
        // The repository looks within the store; a principal of another never passes.
        match &recognized.store {
            Some(store) if *store != principal.store_id => Err(AuthError::Unauthorized),
            _ => Ok(principal),
        }
    }

    /// Exchanges a store id, email and password for a new staff token. Every kind of failure
    /// answers the same `Unauthorized`, and an unknown email or store costs a full password
    /// check. The attempt is claimed before any password work, under the keys of
    /// [`throttle`]: a refused attempt is `Throttled` (and noted once per key and window in
    /// the store's audit trail); when password checking is at capacity it is `Busy`.
    pub async fn login(
        &self,
        store_id: &str,
        email: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<LoginOutcome, AuthError> {
        let now = self.system.now();
        // A store that does not exist gets no rows and no entries: only the address counts.
        let store = match StoreId::parse(store_id) {
            Some(store) if self.stores.find(&store).await?.is_some() => Some(store),
            _ => None,
        };
        let keys = AttemptKeys::new(store.as_ref().map(StoreId::as_str), email, client);
        let attempt = self.system.new_id(ATTEMPT_PREFIX);
        let claim = AttemptClaim {
            attempt: attempt.clone(),
            keys: keys.clone(),
            now,
            policy: self.throttle,
        };
        if let Err(refusal) = self.login_failures.claim_attempt(claim).await? {
            self.note_refusal(store.as_ref(), &keys, refusal, client, now)
                .await?;
            return Err(AuthError::Throttled(refusal));
        }
        let checked = self.check_password(store.as_ref(), email, password).await;
        let failures = &self.login_failures;
        match checked {
            Err(error) => {
                // Never checked (busy) or not answered: the attempt does not count.
                failures.forget_attempt(attempt, Vec::new()).await?;
                Err(error)
            }
            Ok(PasswordCheck::Matches(user)) => {
                let clear = [keys.account, keys.pair].into_iter().flatten().collect();
                failures.forget_attempt(attempt, clear).await?;
                let expires_at = now + Duration::days(STAFF_TOKEN_LIFETIME_DAYS);
                let (token, credential) = staff_token(
                    &self.system,
                    &*self.digests,
                    &user,
                    "login",
                    now,
                    Some(expires_at),
                );
                let audit = self
                    .system
                    .audit_entry(
                        &user.store_id,
                        Actor::User(user.id.clone()),
                        AuditAction::Login,
                    )
                    .subject(credential.id.as_str());
                self.credentials.insert(&credential, &audit).await?;
                Ok(LoginOutcome {
                    token,
                    expires_at,
                    user,
                })
            }
            Ok(PasswordCheck::Fails { user }) => {
                // Filed under the store when it exists, naming the user whose email was given
                // (never the email itself, nor the password).
                let audit = store.map(|store| {
                    let entry = self
                        .system
                        .audit_entry(&store, Actor::Anonymous, AuditAction::LoginFailed)
                        .from_address(client);
                    match user {
                        Some(user) => entry.subject(user.id.into_string()),
                        None => entry,
                    }
                });
                failures.fail_attempt(attempt, audit).await?;
                Err(AuthError::Unauthorized)
            }
        }
    }

    /// Notes a refused attempt: the first refusal of its key in a window gets an
    /// `auth.login_refused` entry (with the failure count and the address, never the email)
    /// in the store's trail when the store exists; later ones only count.
    async fn note_refusal(
        &self,
        store: Option<&StoreId>,
        keys: &AttemptKeys,
        refusal: Refusal,
        client: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let Some(key) = keys.of(refusal.rule) else {
            return Ok(());
        };
        let audit = store.map(|store| {
            self.system
                .audit_entry(store, Actor::Anonymous, AuditAction::LoginRefused)
                .from_address(client)
                .with_failure_count(refusal.failures)
        });
        self.login_failures
            .note_refusal(key.to_owned(), now, now - throttle::WINDOW, audit)
            .await?;
        Ok(())
    }

    /// Whether the password is the user's, after the same work either way.
    async fn check_password(
        &self,
        store: Option<&StoreId>,
        email: &str,
        password: &str,
    ) -> Result<PasswordCheck, AuthError> {
        let email = Email::parse(email).ok();
        let found = match (store, &email) {
            (Some(store), Some(email)) => {
                self.users.find_by_email(store, &email.normalized()).await?
            }
            _ => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash).filter(|h| !h.is_empty())),
            None => (None, None),
        };
        let has_password = hash.is_some();
        let matches = self
            .passwords
            .verify(password.to_owned(), hash)
            .await
            .map_err(|busy| AuthError::Busy {
                retry_after_secs: busy.retry_after_secs,
            })?
            && has_password;
        Ok(match user {
            Some(user) if matches => PasswordCheck::Matches(user),
            user => PasswordCheck::Fails { user },
        })
    }

    /// Revokes the staff token in use. An API key cannot end itself this way: keys are
    /// revoked by an admin with `DELETE /api-keys/{id}`, so a leaked key's holder can't
    /// quietly swap it out of the audit trail's view.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        principal.may(Action::Logout)?;
        let audit = self
            .system
            .audit_entry(
                &principal.store_id,
                Actor::of(principal),
                AuditAction::Logout,
            )
            .subject(principal.credential_id.as_str());
        self.credentials
            .revoke(
                &principal.store_id,
                &principal.credential_id,
                self.system.now(),
                &audit,
            )
            .await?;
        Ok(())
    }
}

/// Managing a store's staff users.
pub struct StaffService<U, H> {
    users: Arc<U>,
    passwords: Arc<H>,
    system: System,
}

impl<U, H> Clone for StaffService<U, H> {
    fn clone(&self) -> Self {
        Self {
            users: Arc::clone(&self.users),
            passwords: Arc::clone(&self.passwords),
            system: self.system.clone(),
        }
    }
}

impl<U: UserRepository, H: PasswordHasher> StaffService<U, H> {
    /// The use cases over these ports, reading the time and new ids from `system`.
    pub fn new(users: Arc<U>, passwords: Arc<H>, system: System) -> Self {
        Self {
            users,
            passwords,
            system,
        }
    }

    /// Adds a staff user to the caller's store. Admins and owners may; only an owner may make
    /// another owner.
    pub async fn create_user(
        &self,
        principal: &Principal,
        input: NewUserInput,
    ) -> Result<StaffUser, AuthError> {
        principal.may(Action::CreateUser)?;
        let caller_role = principal.require_role(Role::Admin)?;
        let (email, password, role, name) = input.validate()?;
        if role == Role::Owner && caller_role != Role::Owner {
            return Err(AuthError::Forbidden);
        }
        let user = StaffUser {
            id: UserId::from_stored(self.system.new_id(UserId::PREFIX)),
            store_id: principal.store_id.clone(),
            email,
            name,
            role,
            created_at: self.system.now(),
        };
        let hash = hash_password(&*self.passwords, password).await?;
        let audit = self
            .system
            .audit_entry(
                &principal.store_id,
                Actor::of(principal),
                AuditAction::UserCreated,
            )
            .subject(user.id.as_str());
        self.users.insert(&user, &hash, &audit).await?;
        Ok(user)
    }

    /// One page of the caller's store's staff users, oldest first (admins and owners).
    pub async fn list_users(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<Page<StaffUser>, AuthError> {
        principal.may(Action::ListUsers)?;
        let (items, total) = self.users.list(&principal.store_id, page).await?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}

/// Managing a store's API keys.
pub struct ApiKeyService<C> {
    credentials: Arc<C>,
    digests: Arc<dyn TokenDigester>,
    system: System,
}

impl<C> Clone for ApiKeyService<C> {
    fn clone(&self) -> Self {
        Self {
            credentials: Arc::clone(&self.credentials),
            digests: Arc::clone(&self.digests),
            system: self.system.clone(),
        }
    }
}

impl<C: CredentialRepository> ApiKeyService<C> {
    /// The use cases over these ports, reading the time, new ids and secrets from `system`.
    pub fn new(credentials: Arc<C>, digests: Arc<dyn TokenDigester>, system: System) -> Self {
        Self {
            credentials,
            digests,
            system,
        }
    }

    /// Creates an API key for the caller's store (admins and owners).
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        input: &NewApiKeyInput,
    ) -> Result<NewApiKey, AuthError> {
        principal.may(Action::CreateApiKey)?;
        let (name, scopes) = input.validate()?;
        let now = self.system.now();
        let secret = secret::compose(
            SecretKind::ApiKey,
            &principal.store_id,
            &self.system.secret_bytes(),
        );
        let credential = Credential {
            id: CredentialId::from_stored(self.system.new_id(CredentialId::PREFIX)),
            store_id: principal.store_id.clone(),
            kind: SecretKind::ApiKey,
            user_id: None,
            name,
            scopes,
            digest: self.digests.digest(&secret),
            created_at: now,
            expires_at: None,
        };
        let audit = self
            .system
            .audit_entry(
                &principal.store_id,
                Actor::of(principal),
                AuditAction::ApiKeyCreated,
            )
            .subject(credential.id.as_str());
        self.credentials.insert(&credential, &audit).await?;
        Ok(NewApiKey {
            key: ApiKey {
                id: credential.id,
                name: credential.name,
                scopes: credential.scopes,
                created_at: now,
                revoked_at: None,
            },
            secret,
        })
    }

    /// One page of the caller's store's API keys, newest first, revoked ones included (admins and
    /// owners).
    pub async fn list_api_keys(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, AuthError> {
        principal.may(Action::ListApiKeys)?;
        let (items, total) = self
            .credentials
            .list_api_keys(&principal.store_id, page)
            .await?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    /// Revokes an API key at once; `NotFound` is reported as `Ok(false)`.
    pub async fn revoke_api_key(&self, principal: &Principal, id: &str) -> Result<bool, AuthError> {
        principal.may(Action::RevokeApiKey)?;
        let Some(id) = CredentialId::parse(id) else {
            return Ok(false);
        };
        let audit = self
            .system
            .audit_entry(
                &principal.store_id,
                Actor::of(principal),
                AuditAction::ApiKeyRevoked,
            )
            .subject(id.as_str());
        Ok(self
            .credentials
            .revoke_api_key(&principal.store_id, &id, self.system.now(), &audit)
            .await?)
    }
}

/// A new staff token for `user` and the credential it is stored as (only its digest).
pub(crate) fn staff_token(
    system: &System,
    digests: &dyn TokenDigester,
    user: &StaffUser,
    name: &str,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> (String, Credential) {
    let token = secret::compose(
        SecretKind::StaffToken,
        &user.store_id,
        &system.secret_bytes(),
    );
    let credential = Credential {
        id: CredentialId::from_stored(system.new_id(CredentialId::PREFIX)),
        store_id: user.store_id.clone(),
        kind: SecretKind::StaffToken,
        user_id: Some(user.id.clone()),
        name: name.to_owned(),
        scopes: Vec::new(),
        digest: digests.digest(&token),
        created_at: now,
        expires_at,
    };
    (token, credential)
}

/// The password's argon2id hash.
pub(crate) async fn hash_password<H: PasswordHasher>(
    passwords: &H,
    password: Password,
) -> Result<String, AuthError> {
    passwords
        .hash(password.expose().to_owned())
        .await
        .map_err(|e| AuthError::Storage(RepoError::Internal(format!("password hashing: {e}"))))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::{Holder, Scope};
    use crate::testing::{TestPorts, now, ready, staff, store_id};

    fn token() -> String {
        secret::compose(SecretKind::StaffToken, &store_id(), &[7; 32])
    }

    /// A token issued before secrets carried their store: prefix, 43 random characters and
    /// their checksum (32 bytes of 7, as `secret`'s tests check).
    fn token_without_store() -> &'static str {
        "ord_live_sk_1fJjkkpe9PiTw9KSulA8Ghct30vZz4HpdQ5c5b9cPF13RjxU2"
    }

    fn user(role: Role) -> StaffUser {
        StaffUser {
            id: UserId::parse("usr_bbbbbbbbbbbb").unwrap(),
            store_id: store_id(),
            email: Email::parse("Chef@Example.dk").unwrap(),
            name: None,
            role,
            created_at: now(),
        }
    }

    /// Every attempt is let through; failures and successes are recorded.
    fn no_failures(ports: &mut TestPorts) {
        ports
            .login_failures
            .expect_claim_attempt()
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_fail_attempt()
            .returning(|_, _| ready(Ok(())));
        ports
            .login_failures
            .expect_forget_attempt()
            .returning(|_, _| ready(Ok(())));
    }

    /// The store `store_aaaaaaaaaaaa` exists.
    fn the_store_exists(ports: &mut TestPorts) {
        ports.stores.expect_find().returning(|_| {
            ready(Ok(Some(
                crate::store::StoreSettings::default()
                    .validate(store_id(), now())
                    .unwrap(),
            )))
        });
    }

    #[tokio::test]
    async fn malformed_secrets_are_refused_before_any_lookup() {
        let mut ports = TestPorts::new();
        ports.credentials.expect_find_active().never();
        ports.digests.expect_digest().never();
        let service = ports.session_service();
        let mut forged = token();
        forged.pop();
        forged.push('x');
        for bearer in ["", "garbage", "ord_live_sk_short", forged.as_str()] {
            assert!(matches!(
                service.authenticate(bearer).await,
                Err(AuthError::Unauthorized)
            ));
        }
    }

    #[tokio::test]
    async fn a_good_secret_is_found_by_its_digest_within_its_store() {
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        let expected_digest: String = token().chars().rev().collect();
        ports
            .credentials
            .expect_find_active()
            .withf(move |store, digest, at| {
                *store == Some(store_id()) && digest == expected_digest && *at == now()
            })
            .returning(|_, _, _| ready(Ok(Some(staff(Role::Manager)))));
        let principal = ports
            .session_service()
            .authenticate(&token())
            .await
            .unwrap();
        assert_eq!(principal.role(), Some(Role::Manager));
    }

    #[tokio::test]
    async fn a_secret_without_a_store_is_found_by_its_digest_alone() {
        assert_eq!(
            secret::recognize(token_without_store()).map(|r| r.store),
            Some(None)
        );
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        let expected_digest: String = token_without_store().chars().rev().collect();
        ports
            .credentials
            .expect_find_active()
            .withf(move |store, digest, _| store.is_none() && digest == expected_digest)
            .times(1)
            .returning(|_, _, _| ready(Ok(Some(staff(Role::Staff)))));
        let principal = ports
            .session_service()
            .authenticate(token_without_store())
            .await
            .unwrap();
        assert_eq!(principal.store_id, store_id());
    }

    #[tokio::test]
    async fn a_principal_of_another_store_than_the_secret_names_is_refused() {
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        ports.credentials.expect_find_active().returning(|_, _, _| {
            let mut elsewhere = staff(Role::Owner);
            elsewhere.store_id = StoreId::parse("store_bbbbbbbbbbbb").unwrap();
            ready(Ok(Some(elsewhere)))
        });
        assert!(matches!(
            ports.session_service().authenticate(&token()).await,
            Err(AuthError::Unauthorized)
        ));
    }

    #[tokio::test]
    async fn an_unknown_revoked_or_expired_secret_is_unauthorized() {
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        ports
            .credentials
            .expect_find_active()
            .returning(|_, _, _| ready(Ok(None)));
        assert!(matches!(
            ports.session_service().authenticate(&token()).await,
            Err(AuthError::Unauthorized)
        ));
    }

    #[tokio::test]
    async fn login_with_an_unknown_email_still_checks_a_password() {
        let mut ports = TestPorts::new();
        no_failures(&mut ports);
        ports
            .users
            .expect_find_by_email()
            .withf(|store, email| *store == store_id() && email == "nobody@example.dk")
            .returning(|_, _| ready(Ok(None)));
        ports
            .passwords
            .expect_verify()
            .withf(|_, hash| hash.is_none())
            .times(1)
            .returning(|_, _| ready(Ok(false)));
        ports.credentials.expect_insert().never();
        the_store_exists(&mut ports);
        let result = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "Nobody@example.dk",
                "whatever password",
                None,
            )
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn login_with_a_malformed_store_id_looks_like_a_wrong_password() {
        let mut ports = TestPorts::new();
        no_failures(&mut ports);
        ports.users.expect_find_by_email().never();
        ports
            .passwords
            .expect_verify()
            .times(1)
            .returning(|_, _| ready(Ok(false)));
        let result = ports
            .session_service()
            .login("nope", "chef@example.dk", "pw", None)
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn login_with_a_wrong_password_is_unauthorized() {
        let mut ports = TestPorts::new();
        no_failures(&mut ports);
        the_store_exists(&mut ports);
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Staff), "hash".into())))));
        ports
            .passwords
            .expect_verify()
            .withf(|password, hash| password == "wrong password" && hash.as_deref() == Some("hash"))
            .returning(|_, _| ready(Ok(false)));
        ports.credentials.expect_insert().never();
        let result = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "chef@example.dk",
                "wrong password",
                Some("127.0.0.1"),
            )
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn a_user_without_a_password_cannot_log_in() {
        let mut ports = TestPorts::new();
        no_failures(&mut ports);
        the_store_exists(&mut ports);
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Owner), String::new())))));
        ports
            .passwords
            .expect_verify()
            .withf(|_, hash| hash.is_none())
            .returning(|_, _| ready(Ok(true)));
        let result = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "chef@example.dk",
                "",
                Some("127.0.0.1"),
            )
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn login_issues_a_thirty_day_token_stored_as_a_digest() {
        let mut ports = TestPorts::new();
        no_failures(&mut ports);
        the_store_exists(&mut ports);
        ports.digest_reversed();
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Manager), "hash".into())))));
        ports
            .passwords
            .expect_verify()
            .returning(|_, _| ready(Ok(true)));
        ports
            .credentials
            .expect_insert()
            .withf(|c, audit| {
                c.kind == SecretKind::StaffToken
                    && c.user_id.as_ref().map(UserId::as_str) == Some("usr_bbbbbbbbbbbb")
                    && c.expires_at == Some(now() + Duration::days(30))
                    && c.digest == token().chars().rev().collect::<String>()
                    && audit.action == AuditAction::Login
                    && audit.actor == Actor::User(c.user_id.clone().unwrap())
                    && audit.subject_id.as_deref() == Some(c.id.as_str())
                    && audit.store_id == store_id()
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        let outcome = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "chef@example.dk",
                "right password",
                Some("127.0.0.1"),
            )
            .await
            .unwrap();
        assert_eq!(outcome.token, token());
        assert_eq!(
            secret::recognize(&outcome.token),
            Some(secret::Recognized {
                kind: SecretKind::StaffToken,
                store: Some(store_id())
            })
        );
        assert_eq!(
            outcome.expires_at,
            now() + Duration::days(STAFF_TOKEN_LIFETIME_DAYS)
        );
        assert_eq!(outcome.user.role, Role::Manager);
    }

    #[tokio::test]
    async fn logout_revokes_the_credential_in_use() {
        let mut ports = TestPorts::new();
        ports
            .credentials
            .expect_revoke()
            .withf(|store, id, at, audit| {
                *store == store_id()
                    && id.as_str() == "key_aaaaaaaaaaaa"
                    && *at == now()
                    && audit.action == AuditAction::Logout
                    && audit.subject_id.as_deref() == Some("key_aaaaaaaaaaaa")
            })
            .times(1)
            .returning(|_, _, _, _| ready(Ok(true)));
        ports
            .session_service()
            .logout(&staff(Role::Staff))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_api_key_cannot_log_itself_out() {
        let mut ports = TestPorts::new();
        ports.credentials.expect_revoke().never();
        let mut key = staff(Role::Owner);
        key.holder = Holder::ApiKey {
            name: "pos".into(),
            scopes: Scope::ALL.to_vec(),
        };
        let result = ports.session_service().logout(&key).await;
        assert!(matches!(result, Err(AuthError::Forbidden)));
    }

    fn new_user(role: &str) -> NewUserInput {
        NewUserInput {
            email: Some("new@example.dk".into()),
            password: Some("correct horse battery".into()),
            role: Some(role.into()),
            name: Some("Ny".into()),
        }
    }

    #[tokio::test]
    async fn only_admins_and_owners_create_users() {
        let mut ports = TestPorts::new();
        ports.users.expect_insert().never();
        let service = ports.staff_service();
        for role in [Role::Staff, Role::Manager] {
            let result = service.create_user(&staff(role), new_user("staff")).await;
            assert!(matches!(result, Err(AuthError::Forbidden)));
        }
    }

    #[tokio::test]
    async fn only_an_owner_grants_owner() {
        let mut ports = TestPorts::new();
        ports
            .passwords
            .expect_hash()
            .returning(|_| ready(Ok("argon".into())));
        ports
            .users
            .expect_insert()
            .times(1)
            .returning(|_, _, _| ready(Ok(())));
        let service = ports.staff_service();
        let by_admin = service
            .create_user(&staff(Role::Admin), new_user("owner"))
            .await;
        assert!(matches!(by_admin, Err(AuthError::Forbidden)));
        let by_owner = service
            .create_user(&staff(Role::Owner), new_user("owner"))
            .await
            .unwrap();
        assert_eq!(by_owner.role, Role::Owner);
    }

    #[tokio::test]
    async fn new_users_are_stored_with_a_hash_never_the_password() {
        let mut ports = TestPorts::new();
        ports
            .passwords
            .expect_hash()
            .withf(|password| password == "correct horse battery")
            .returning(|_| ready(Ok("$argon2id$hash".into())));
        ports
            .users
            .expect_insert()
            .withf(|user, hash, audit| {
                user.store_id == store_id()
                    && user.role == Role::Staff
                    && hash == "$argon2id$hash"
                    && audit.action == AuditAction::UserCreated
                    && audit.actor == Actor::User(UserId::parse("usr_aaaaaaaaaaaa").unwrap())
                    && audit.subject_id.as_deref() == Some(user.id.as_str())
                    && audit.fields.is_empty()
            })
            .returning(|_, _, _| ready(Ok(())));
        let user = ports
            .staff_service()
            .create_user(&staff(Role::Admin), new_user("staff"))
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "new@example.dk");
        assert_eq!(user.name.unwrap().as_str(), "Ny");
    }

    #[tokio::test]
    async fn a_taken_staff_email_is_reported() {
        let mut ports = TestPorts::new();
        ports
            .passwords
            .expect_hash()
            .returning(|_| ready(Ok("h".into())));
        ports
            .users
            .expect_insert()
            .returning(|_, _, _| ready(Err(RepoError::Conflict(Unique::UserEmail))));
        let result = ports
            .staff_service()
            .create_user(&staff(Role::Admin), new_user("staff"))
            .await;
        assert!(matches!(result, Err(AuthError::EmailTaken)));
    }

    #[tokio::test]
    async fn invalid_new_users_are_refused_before_hashing() {
        let mut ports = TestPorts::new();
        ports.passwords.expect_hash().never();
        let mut input = new_user("staff");
        input.password = Some("short".into());
        let result = ports
            .staff_service()
            .create_user(&staff(Role::Admin), input)
            .await;
        assert!(matches!(result, Err(AuthError::Invalid(e)) if e.fields()[0].field == "password"));
    }

    #[tokio::test]
    async fn listing_users_is_for_admins() {
        let mut ports = TestPorts::new();
        ports
            .users
            .expect_list()
            .times(1)
            .returning(|_, _| ready(Ok((vec![user(Role::Staff)], 1))));
        let service = ports.staff_service();
        assert!(matches!(
            service
                .list_users(&staff(Role::Manager), PageRequest::first())
                .await,
            Err(AuthError::Forbidden)
        ));
        let page = service
            .list_users(&staff(Role::Owner), PageRequest::first())
            .await
            .unwrap();
        assert_eq!(page.total, 1);
    }

    #[tokio::test]
    async fn a_refused_attempt_does_no_password_work_and_is_noted() {
        let mut ports = TestPorts::new();
        the_store_exists(&mut ports);
        let refusal = Refusal {
            rule: throttle::Rule::AddressAndAccount,
            failures: 5,
            retry_after_secs: 720,
        };
        ports
            .login_failures
            .expect_claim_attempt()
            .withf(|claim| {
                claim.keys
                    == AttemptKeys::new(
                        Some("store_aaaaaaaaaaaa"),
                        "chef@example.dk",
                        Some("10.0.0.1"),
                    )
                    && claim.now == now()
                    && claim.policy.max_failures_per_address == 7
                    && claim.attempt.starts_with("att_")
            })
            .times(1)
            .returning(move |_| ready(Ok(Err(refusal))));
        ports
            .login_failures
            .expect_note_refusal()
            .withf(|key, at, since, audit| {
                key == "pair:store_aaaaaaaaaaaa:10.0.0.1/chef@example.dk"
                    && *at == now()
                    && *since == now() - throttle::WINDOW
                    && audit.as_ref().is_some_and(|a| {
                        a.action == AuditAction::LoginRefused
                            && a.actor == Actor::Anonymous
                            && a.store_id == store_id()
                            && a.client_address.as_deref() == Some("10.0.0.1")
                            && a.failure_count == Some(5)
                            && a.subject_id.is_none()
                    })
            })
            .times(1)
            .returning(|_, _, _, _| ready(Ok(true)));
        ports.passwords.expect_verify().never();
        ports.users.expect_find_by_email().never();
        ports.login_failures.expect_fail_attempt().never();
        let result = ports
            .session_service()
            .with_throttle(Policy {
                max_failures_per_address: 7,
            })
            .login(
                "store_aaaaaaaaaaaa",
                " Chef@Example.dk",
                "guess",
                Some("10.0.0.1"),
            )
            .await;
        assert!(matches!(result, Err(AuthError::Throttled(r)) if r == refusal));
    }

    #[tokio::test]
    async fn a_failure_stays_counted_and_is_audited_with_the_address() {
        let mut ports = TestPorts::new();
        the_store_exists(&mut ports);
        ports
            .login_failures
            .expect_claim_attempt()
            .withf(|claim| claim.keys.all().len() == 3)
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_fail_attempt()
            .withf(|attempt, audit| {
                attempt.starts_with("att_")
                    && audit.as_ref().is_some_and(|a| {
                        a.action == AuditAction::LoginFailed
                            && a.actor == Actor::Anonymous
                            && a.subject_id.is_none()
                            && a.store_id == store_id()
                            && a.client_address.as_deref() == Some("10.0.0.1")
                    })
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        ports.login_failures.expect_forget_attempt().never();
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(None)));
        ports
            .passwords
            .expect_verify()
            .returning(|_, _| ready(Ok(false)));
        let result = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "chef@example.dk",
                "guess",
                Some("10.0.0.1"),
            )
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn a_wrong_password_is_audited_against_the_user_without_the_email() {
        let mut ports = TestPorts::new();
        the_store_exists(&mut ports);
        ports
            .login_failures
            .expect_claim_attempt()
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_fail_attempt()
            .withf(|_, audit| {
                audit.as_ref().is_some_and(|a| {
                    a.action == AuditAction::LoginFailed
                        && a.actor == Actor::Anonymous
                        && a.subject_id.as_deref() == Some("usr_bbbbbbbbbbbb")
                        && a.customer_id.is_none()
                        && a.fields.is_empty()
                        && a.client_address.is_none()
                })
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Staff), "hash".into())))));
        ports
            .passwords
            .expect_verify()
            .returning(|_, _| ready(Ok(false)));
        let result = ports
            .session_service()
            .login("store_aaaaaaaaaaaa", "chef@example.dk", "guess", None)
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn an_unknown_store_costs_a_password_check_but_is_filed_under_no_store() {
        let mut ports = TestPorts::new();
        ports
            .login_failures
            .expect_claim_attempt()
            .withf(|claim| claim.keys.all() == ["client:10.0.0.1"])
            .times(1)
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_fail_attempt()
            .withf(|_, audit| audit.is_none())
            .times(1)
            .returning(|_, _| ready(Ok(())));
        ports.users.expect_find_by_email().never();
        ports.stores.expect_find().returning(|_| ready(Ok(None)));
        ports
            .passwords
            .expect_verify()
            .withf(|_, hash| hash.is_none())
            .times(1)
            .returning(|_, _| ready(Ok(false)));
        let result = ports
            .session_service()
            .login(
                "store_bbbbbbbbbbbb",
                "chef@example.dk",
                "guess",
                Some("10.0.0.1"),
            )
            .await;
        assert!(matches!(result, Err(AuthError::Unauthorized)));
    }

    #[tokio::test]
    async fn a_right_password_forgets_the_attempt_and_the_accounts_failures() {
        let mut ports = TestPorts::new();
        the_store_exists(&mut ports);
        ports.digest_reversed();
        ports
            .login_failures
            .expect_claim_attempt()
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_forget_attempt()
            .withf(|attempt, clear| {
                attempt.starts_with("att_")
                    && clear
                        == &[
                            "account:store_aaaaaaaaaaaa:chef@example.dk",
                            "pair:store_aaaaaaaaaaaa:10.0.0.1/chef@example.dk",
                        ]
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        ports.login_failures.expect_fail_attempt().never();
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Staff), "hash".into())))));
        ports
            .passwords
            .expect_verify()
            .returning(|_, _| ready(Ok(true)));
        ports
            .credentials
            .expect_insert()
            .returning(|_, _| ready(Ok(())));
        let result = ports
            .session_service()
            .login(
                "store_aaaaaaaaaaaa",
                "chef@example.dk",
                "right",
                Some("10.0.0.1"),
            )
            .await;
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn a_busy_password_check_is_not_counted() {
        let mut ports = TestPorts::new();
        the_store_exists(&mut ports);
        ports
            .login_failures
            .expect_claim_attempt()
            .returning(|_| ready(Ok(Ok(()))));
        ports
            .login_failures
            .expect_forget_attempt()
            .withf(|_, clear| clear.is_empty())
            .times(1)
            .returning(|_, _| ready(Ok(())));
        ports.login_failures.expect_fail_attempt().never();
        ports
            .users
            .expect_find_by_email()
            .returning(|_, _| ready(Ok(Some((user(Role::Staff), "hash".into())))));
        ports.passwords.expect_verify().returning(|_, _| {
            ready(Err(crate::access::Busy {
                retry_after_secs: 1,
            }))
        });
        let result = ports
            .session_service()
            .login("store_aaaaaaaaaaaa", "chef@example.dk", "pw", None)
            .await;
        assert!(matches!(
            result,
            Err(AuthError::Busy {
                retry_after_secs: 1
            })
        ));
    }

    #[tokio::test]
    async fn api_keys_are_made_by_admins_and_stored_as_digests() {
        let mut ports = TestPorts::new();
        ports.digest_reversed();
        ports
            .credentials
            .expect_insert()
            .withf(|c, audit| {
                c.kind == SecretKind::ApiKey
                    && c.user_id.is_none()
                    && c.scopes == [Scope::ReadOrders]
                    && c.expires_at.is_none()
                    && audit.action == AuditAction::ApiKeyCreated
                    && audit.subject_id.as_deref() == Some(c.id.as_str())
            })
            .times(1)
            .returning(|_, _| ready(Ok(())));
        let service = ports.api_key_service();
        let input = NewApiKeyInput {
            name: Some("POS".into()),
            scopes: Some(vec!["read:orders".into()]),
        };
        assert!(matches!(
            service.create_api_key(&staff(Role::Manager), &input).await,
            Err(AuthError::Forbidden)
        ));
        let created = service
            .create_api_key(&staff(Role::Admin), &input)
            .await
            .unwrap();
        assert_eq!(
            secret::recognize(&created.secret),
            Some(secret::Recognized {
                kind: SecretKind::ApiKey,
                store: Some(store_id())
            })
        );
        assert_eq!(created.key.name, "POS");
        assert_eq!(created.key.revoked_at, None);
    }

    #[tokio::test]
    async fn revoking_a_malformed_key_id_finds_nothing() {
        let mut ports = TestPorts::new();
        ports.credentials.expect_revoke_api_key().never();
        let service = ports.api_key_service();
        assert!(
            !service
                .revoke_api_key(&staff(Role::Owner), "nope")
                .await
                .unwrap()
        );
        assert!(matches!(
            service.revoke_api_key(&staff(Role::Staff), "nope").await,
            Err(AuthError::Forbidden)
        ));
    }

    #[test]
    fn principals_of_api_keys_have_no_user() {
        let mut principal = staff(Role::Owner);
        principal.holder = Holder::ApiKey {
            name: "pos".into(),
            scopes: vec![],
        };
        assert_eq!(principal.user_id(), None);
    }
}
