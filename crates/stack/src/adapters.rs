//! The ports that are not a database: the clock, ids and secrets, password hashing (argon2id,
//! bounded), and token digests (SHA-256).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Utc};
use customers_domain::access::{Busy, PasswordHasher, TokenDigester};
use customers_domain::ports::{Clock, IdGenerator};
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Seconds a login shed for want of password-checking capacity is told to wait.
pub const RETRY_AFTER_BUSY: u64 = 1;

/// How many password hashes may run at once and how many may wait: each running argon2id
/// holds its 19 MiB, so this bounds the memory a login flood can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once (default: one per core).
    pub concurrency: usize,
    /// Checks waiting for a free slot beyond those; a login past them answers 503.
    pub queue: usize,
}

impl Default for HashingLimits {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: 32,
        }
    }
}

/// Admits at most `concurrency + queue` password checks and runs `concurrency` at once.
///
/// Each running check works in one of `concurrency` argon2 memory areas that are kept and
/// reused: left to the allocator, a freed 19 MiB area stays with whichever thread freed it
/// (glibc raises its mmap threshold after the first one), and the blocking pool's many
/// threads then hold hundreds of MiB between them.
#[derive(Debug)]
struct Gate {
    running: Arc<Semaphore>,
    admitted: AtomicUsize,
    limit: usize,
    memory: Mutex<Vec<Vec<Block>>>,
}

/// One admitted check: its slot and its memory are given back when the hash is done (even
/// when the request that asked for it is gone).
struct Admitted {
    gate: Arc<Gate>,
    memory: Vec<Block>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        if let Ok(mut pool) = self.gate.memory.lock() {
            pool.push(memory);
        }
        self.gate.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Gives back an admission slot if the wait for a permit is abandoned.
struct Waiting(Option<Arc<Gate>>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(gate) = self.0.take() {
            gate.admitted.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Gate {
    fn new(limits: HashingLimits) -> Arc<Self> {
        let concurrency = limits.concurrency.max(1);
        Arc::new(Self {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: AtomicUsize::new(0),
            limit: concurrency + limits.queue,
            memory: Mutex::new(Vec::new()),
        })
    }

    /// A running slot; `None` when `concurrency + queue` checks are already admitted.
    async fn enter(self: &Arc<Self>, shed: bool) -> Option<Admitted> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let mut waiting = Waiting(Some(Arc::clone(self)));
        if shed && before >= self.limit {
            return None;
        }
        let permit = Arc::clone(&self.running).acquire_owned().await.ok()?;
        waiting.0 = None;
        let memory = self
            .memory
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        Some(Admitted {
            gate: Arc::clone(self),
            memory,
            _permit: permit,
        })
    }
}

/// argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane. Hashing runs on the blocking pool,
/// at most [`HashingLimits::concurrency`] at once.
#[derive(Clone, Debug)]
pub struct Argon2Passwords {
    params: Params,
    gate: Arc<Gate>,
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self::new(HashingLimits::default())
    }
}

impl Argon2Passwords {
    pub fn new(limits: HashingLimits) -> Self {
        Self {
            params: Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
            gate: Gate::new(limits),
        }
    }

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
    /// Waits for a free slot however long the queue (only staff with a token hash).
    async fn hash(&self, password: String) -> Result<String, String> {
        let hasher = self.hasher();
        let admitted = self
            .gate
            .enter(false)
            .await
            .ok_or("password hashing is closed")?;
        tokio::task::spawn_blocking(move || {
            let _admitted = admitted;
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

    /// Sheds the check (`Busy`) when the queue is full: anyone can ask for one.
    async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Busy> {
        let busy = Busy {
            retry_after_secs: RETRY_AFTER_BUSY,
        };
        let admitted = self.gate.enter(true).await.ok_or(busy)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy().to_owned());
        let most_blocks = self.params.block_count();
        let matches = tokio::task::spawn_blocking(move || {
            let mut admitted = admitted;
            verify_in(
                password.as_bytes(),
                &hash,
                &mut admitted.memory,
                most_blocks,
            )
        })
        .await
        .unwrap_or(false);
        Ok(matches && known)
    }
}

/// Whether `password` matches the PHC string `hash`, computing argon2 in `memory` (grown to
/// what the hash needs, at most `most_blocks`; a hash asking for more is refused).
fn verify_in(password: &[u8], hash: &str, memory: &mut Vec<Block>, most_blocks: usize) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0_u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > most_blocks {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0_u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_ok()
        // `Output`'s comparison takes the same time wherever the bytes differ.
        && Output::new(&out).is_ok_and(|computed| computed == expected)
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
        assert_eq!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await,
            Ok(true)
        );
        assert_eq!(
            passwords
                .verify("wrong horse battery".into(), Some(hash))
                .await,
            Ok(false)
        );
        assert_eq!(
            passwords
                .verify("no user has this password".into(), None)
                .await,
            Ok(false)
        );
        assert_eq!(
            passwords
                .verify("x".into(), Some("not a hash".into()))
                .await,
            Ok(false)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn checks_beyond_the_running_and_the_queue_are_shed() {
        let passwords = Argon2Passwords::new(HashingLimits {
            concurrency: 1,
            queue: 1,
        });
        // The one running slot is taken; one check waits in the queue.
        let running = passwords.gate.enter(false).await.expect("a free slot");
        let queued = {
            let passwords = passwords.clone();
            tokio::spawn(async move { passwords.verify("guess".into(), None).await })
        };
        while passwords.gate.admitted.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            passwords.verify("guess".into(), None).await,
            Err(Busy {
                retry_after_secs: RETRY_AFTER_BUSY
            }),
            "no room left: shed at once"
        );
        // Hashing a new password (staff only) waits instead of being shed.
        let hashing = {
            let passwords = passwords.clone();
            tokio::spawn(async move { passwords.hash("a new password".into()).await })
        };
        drop(running);
        assert_eq!(queued.await.unwrap(), Ok(false));
        assert!(hashing.await.unwrap().is_ok());
        // Every slot is given back.
        assert_eq!(passwords.gate.admitted.load(Ordering::Acquire), 0);
        assert_eq!(passwords.verify("guess".into(), None).await, Ok(false));
    }
}
