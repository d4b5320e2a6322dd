//! The ports that are not a database, and the set of adapters a running service uses.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use customers_domain::Ports;
use customers_domain::ports::{Clock, IdGenerator, PasswordHasher, TokenDigester};
use customers_persistence::Database;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::credential_cache::CachedCredentials;

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Ids of 16 random base32 characters (80 bits) and secrets from the OS-seeded CSPRNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIds;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

impl IdGenerator for RandomIds {
    fn new_id(&self, prefix: &'static str) -> String {
        let mut rng = rand::rng();
        let random: String = (0..customers_domain::ids::GENERATED_RANDOM_LEN)
            .map(|_| char::from(BASE32[rng.random_range(0..BASE32.len())]))
            .collect();
        format!("{prefix}_{random}")
    }

    fn secret_bytes(&self) -> [u8; 32] {
        rand::rng().random()
    }
}

/// argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane. Hashing runs on the blocking pool.
#[derive(Clone, Debug)]
pub struct Argon2Passwords {
    params: Params,
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self {
            params: Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
        }
    }
}

impl Argon2Passwords {
    fn hasher(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A hash of a password nobody knows, checked when the user does not exist so that an
    /// unknown email costs as much time as a wrong password.
    fn decoy(&self) -> &'static str {
        static DECOY: OnceLock<String> = OnceLock::new();
        DECOY.get_or_init(|| {
            let salt = SaltString::encode_b64(&[0x5a; 16]).expect("valid salt");
            self.hasher()
                .hash_password(b"no user has this password", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
    }
}

impl PasswordHasher for Argon2Passwords {
    async fn hash(&self, password: String) -> Result<String, String> {
        let hasher = self.hasher();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())
                .map_err(|e| e.to_string())?;
            hasher
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let hasher = self.hasher();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy().to_owned());
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
            && known
    }
}

/// Secrets are stored and found as the hex SHA-256 of the whole secret.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sha256Digests;

impl TokenDigester for Sha256Digests {
    fn digest(&self, secret: &str) -> String {
        Sha256::digest(secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Everything a running service talks to.
#[derive(Clone)]
pub struct Adapters {
    pub database: Database,
    /// The database's credentials behind a short-lived cache of active ones.
    pub credentials: Arc<CachedCredentials<Database>>,
    pub clock: SystemClock,
    pub ids: RandomIds,
    pub passwords: Argon2Passwords,
    pub digests: Sha256Digests,
}

impl Adapters {
    pub fn new(database: Database) -> Arc<Self> {
        Arc::new(Self {
            credentials: Arc::new(CachedCredentials::new(database.clone())),
            database,
            clock: SystemClock,
            ids: RandomIds,
            passwords: Argon2Passwords::default(),
            digests: Sha256Digests,
        })
    }
}

impl Ports for Adapters {
    type Customers = Database;
    type Stores = Database;
    type Users = Database;
    type Credentials = CachedCredentials<Database>;
    type Orders = Database;
    type Loyalty = Database;
    type Idempotency = Database;
    type Reviews = Database;
    type LoginFailures = Database;
    type Audit = Database;
    type Clock = SystemClock;
    type Ids = RandomIds;
    type Passwords = Argon2Passwords;
    type Digests = Sha256Digests;

    fn customers(&self) -> &Database {
        &self.database
    }
    fn stores(&self) -> &Database {
        &self.database
    }
    fn users(&self) -> &Database {
        &self.database
    }
    fn credentials(&self) -> &CachedCredentials<Database> {
        &self.credentials
    }
    fn orders(&self) -> &Database {
        &self.database
    }
    fn loyalty(&self) -> &Database {
        &self.database
    }
    fn idempotency(&self) -> &Database {
        &self.database
    }
    fn reviews(&self) -> &Database {
        &self.database
    }
    fn login_failures(&self) -> &Database {
        &self.database
    }
    fn audit(&self) -> &Database {
        &self.database
    }
    fn clock(&self) -> &SystemClock {
        &self.clock
    }
    fn ids(&self) -> &RandomIds {
        &self.ids
    }
    fn passwords(&self) -> &Argon2Passwords {
        &self.passwords
    }
    fn digests(&self) -> &Sha256Digests {
        &self.digests
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::ids::CustomerId;

    #[test]
    fn ids_are_well_formed_and_distinct() {
        let a = RandomIds.new_id(CustomerId::PREFIX);
        let b = RandomIds.new_id(CustomerId::PREFIX);
        assert!(CustomerId::parse(&a).is_some(), "{a}");
        assert_ne!(a, b);
        assert_ne!(RandomIds.secret_bytes(), RandomIds.secret_bytes());
    }

    #[test]
    fn digests_are_hex_sha256() {
        assert_eq!(
            Sha256Digests.digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn passwords_are_argon2id_and_verify() {
        let passwords = Argon2Passwords::default();
        let hash = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
        );
        assert!(
            !passwords
                .verify("wrong horse battery".into(), Some(hash))
                .await
        );
        assert!(
            !passwords
                .verify("no user has this password".into(), None)
                .await
        );
        assert!(
            !passwords
                .verify("x".into(), Some("not a hash".into()))
                .await
        );
    }
}
