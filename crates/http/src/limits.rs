//! Per-credential limits: a token bucket (a rate and a burst) and a cap on requests in
//! progress, for every authenticated request, and a smaller cap on the credential's scans in
//! progress (the routes marked `scan` in `crate::routes`: lists, searches, aggregates, whose
//! cost grows with the store's data), so that one credential's load cannot crowd out the
//! others. A scan past its credential's cap waits a short while for one of them to end (the
//! waiting scans are requests in progress too, so the concurrency cap bounds them), then gets
//! 429 like the other refusals.
//!
//! Why a scan cap of its own: a search is CPU-bound in the database, and the 16 requests in
//! progress a credential may have were 16 busy database backends, which on a small machine took
//! every core from everyone else's reads (docs/performance.md, "Noisy neighbours").
//!
//! A credential's state is found by a keyed hash of its secret (one secret per credential), so
//! that a credential already past its rate or its requests in progress is refused before its
//! lookup ([`Limiter::refusal`]): a client ignoring its 429s costs no database work. Only a
//! secret that authenticated gets a bucket; the secret itself is not kept.
//!
//! The state lives in this process's memory: with several replicas each limits on its own, so
//! a credential may get up to the replicas' number times the rate across all of them. A
//! bucket that is full again and has no request in progress is the same as no bucket, so
//! such buckets are swept away: memory is bounded by the credentials active within the time
//! a bucket takes to refill.
//!
//! The answers carry the fields of draft-ietf-httpapi-ratelimit-headers (09 and later):
//! `RateLimit-Policy: "credential";q=<burst>;w=<seconds to refill a whole burst>` and
//! `RateLimit: "credential";r=<requests left now>;t=<seconds until the bucket is full>`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The name of the one policy in the rate-limit fields.
pub const POLICY: &str = "credential";

/// How long a refusal for the rate or the requests in progress is held before it is answered.
/// A client that resends at once whatever the answer (as a hot loop ignoring `Retry-After`
/// does) then makes a few refusals a second per connection instead of tens of thousands, which
/// took the machine's cores from the other stores' reads (docs/performance.md, "Noisy
/// neighbours"). Holding one costs a timer; a refused scan has waited its scan wait already.
pub const REFUSAL_PAUSE: Duration = Duration::from_millis(250);

/// Limits of one credential. A rate of 0 means no rate limit, a concurrency or scans of 0 no
/// cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CredentialLimits {
    /// Requests per second a credential's bucket refills with.
    pub rate_per_sec: f64,
    /// Requests a full bucket lets through at once (at least 1 when there is a rate).
    pub burst: u32,
    /// Most requests of one credential in progress at once.
    pub concurrency: u32,
    /// Most scans (routes marked `scan`) of one credential running at once.
    pub scans: u32,
    /// How long a scan past `scans` waits for one of its credential's scans to end before it
    /// is refused. Zero: refused at once.
    pub scan_wait: Duration,
    /// After a scan ends, its slot rests for this share (in percent) of the time the scan
    /// took before another scan of the credential takes it: at 100, one credential's scans
    /// keep a database core busy at most half the time. Zero: no rest.
    pub scan_rest_percent: u32,
}

impl CredentialLimits {
    pub const DEFAULT_RATE_PER_SEC: u32 = 200;
    pub const DEFAULT_BURST: u32 = 400;
    pub const DEFAULT_CONCURRENCY: u32 = 16;
    pub const DEFAULT_SCAN_WAIT_MS: u64 = 250;
    pub const DEFAULT_SCAN_REST_PERCENT: u32 = 100;
    /// The longest a slot rests after one scan, however long the scan took.
    pub const MAX_SCAN_REST: Duration = Duration::from_secs(1);

    /// Scans of one credential at once by default: half the cores, at least one. A scan keeps
    /// a database core busy; whatever the busiest credential does, half the cores are left
    /// for the others.
    pub fn default_scans() -> u32 {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        u32::try_from(cores / 2).unwrap_or(u32::MAX).max(1)
    }

    /// No limit at all.
    pub const fn off() -> Self {
        Self {
            rate_per_sec: 0.0,
            burst: 0,
            concurrency: 0,
            scans: 0,
            scan_wait: Duration::ZERO,
            scan_rest_percent: 0,
        }
    }

    /// How long a scan slot rests after a scan that took `took`.
    fn scan_rest(&self, took: Duration) -> Duration {
        (took * self.scan_rest_percent / 100).min(Self::MAX_SCAN_REST)
    }

    fn is_off(&self) -> bool {
        !self.has_rate() && self.concurrency == 0 && self.scans == 0
    }

    fn has_rate(&self) -> bool {
        self.rate_per_sec > 0.0 && self.rate_per_sec.is_finite()
    }

    fn burst(&self) -> f64 {
        f64::from(self.burst.max(1))
    }

    /// `RateLimit-Policy`, when there is a rate.
    pub fn policy_field(&self) -> Option<String> {
        self.has_rate().then(|| {
            let window = (self.burst() / self.rate_per_sec).ceil().max(1.0);
            format!("\"{POLICY}\";q={};w={window}", self.burst.max(1))
        })
    }
}

impl Default for CredentialLimits {
    fn default() -> Self {
        Self {
            rate_per_sec: f64::from(Self::DEFAULT_RATE_PER_SEC),
            burst: Self::DEFAULT_BURST,
            concurrency: Self::DEFAULT_CONCURRENCY,
            scans: Self::default_scans(),
            scan_wait: Duration::from_millis(Self::DEFAULT_SCAN_WAIT_MS),
            scan_rest_percent: Self::DEFAULT_SCAN_REST_PERCENT,
        }
    }
}

/// What is left of a credential's bucket, for the `RateLimit` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Requests it may send now.
    pub remaining: u64,
    /// Seconds until its bucket is full again.
    pub reset_secs: u64,
}

impl Quota {
    pub fn field(&self) -> String {
        format!("\"{POLICY}\";r={};t={}", self.remaining, self.reset_secs)
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The credential's bucket is empty.
    Rate,
    /// The credential has as many requests in progress as it may.
    Concurrency,
    /// The credential's scans did not leave it a slot within the scan wait.
    Scans,
}

impl Refusal {
    /// How long to hold this refusal before answering it (see [`REFUSAL_PAUSE`]).
    pub fn pause(self, limits: &CredentialLimits) -> Duration {
        match self {
            Self::Rate | Self::Concurrency => REFUSAL_PAUSE,
            Self::Scans => REFUSAL_PAUSE.saturating_sub(limits.scan_wait),
        }
    }
}

/// The verdict on one request.
#[derive(Debug)]
pub enum Admission {
    Admitted {
        /// Counts the request as in progress until dropped.
        permit: Option<Permit>,
        quota: Option<Quota>,
    },
    Refused {
        why: Refusal,
        retry_after_secs: u64,
        quota: Option<Quota>,
    },
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    in_flight: u32,
    /// The credential's scan slots, made at its first scan. Kept while a request is in
    /// progress (every scan holds one), so a sweep never forgets a slot in use.
    scans: Option<Arc<Semaphore>>,
}

#[derive(Debug, Default)]
struct Buckets {
    /// By the keyed hash of the credential's secret ([`Limiter::key`]).
    by_credential: HashMap<u64, Bucket>,
    /// Sweep when there are more buckets than this.
    sweep_above: usize,
}

/// Buckets below this many are never swept.
const SWEEP_FLOOR: usize = 1024;

/// The limits of every credential of this process.
#[derive(Debug)]
pub struct Limiter {
    limits: CredentialLimits,
    buckets: Mutex<Buckets>,
    /// Keys the hash of secrets with this process's random key.
    hasher: RandomState,
}

impl Limiter {
    pub fn new(limits: CredentialLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            buckets: Mutex::new(Buckets {
                by_credential: HashMap::new(),
                sweep_above: SWEEP_FLOOR,
            }),
            hasher: RandomState::new(),
        })
    }

    /// A credential's key: a keyed hash of its secret. Two secrets sharing one would share a
    /// bucket (about one chance in 2^64 for a pair).
    fn key(&self, credential: &str) -> u64 {
        self.hasher.hash_one(credential)
    }

    pub fn limits(&self) -> CredentialLimits {
        self.limits
    }

    /// Buckets held now (for tests of the sweep).
    pub fn buckets(&self) -> usize {
        self.lock().by_credential.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        if self.limits.has_rate() {
            let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
            bucket.tokens =
                (bucket.tokens + elapsed * self.limits.rate_per_sec).min(self.limits.burst());
        }
        bucket.updated = now;
    }

    fn quota(&self, bucket: &Bucket) -> Option<Quota> {
        self.limits.has_rate().then(|| Quota {
            remaining: bucket.tokens.max(0.0).floor() as u64,
            reset_secs: ((self.limits.burst() - bucket.tokens).max(0.0) / self.limits.rate_per_sec)
                .ceil() as u64,
        })
    }

    /// Admits one request of `credential` at `now`, or refuses it. An admitted request
    /// counts as in progress until its permit is dropped.
    pub fn admit(self: &Arc<Self>, credential: &str, now: Instant) -> Admission {
        if self.limits.is_off() {
            return Admission::Admitted {
                permit: None,
                quota: None,
            };
        }
        let key = self.key(credential);
        let mut buckets = self.lock();
        let bucket = buckets.by_credential.entry(key).or_insert_with(|| Bucket {
            tokens: self.limits.burst(),
            updated: now,
            in_flight: 0,
            scans: None,
        });
        self.refill(bucket, now);
        let limits = self.limits;
        let admission = match self.refused(bucket) {
            Some(refused) => refused,
            None => {
                if limits.has_rate() {
                    bucket.tokens -= 1.0;
                }
                bucket.in_flight += 1;
                Admission::Admitted {
                    permit: Some(Permit {
                        limiter: Arc::clone(self),
                        key,
                        scan: None,
                    }),
                    quota: self.quota(bucket),
                }
            }
        };
        if buckets.by_credential.len() > buckets.sweep_above {
            self.sweep(&mut buckets, now);
        }
        admission
    }

    /// The refusal [`Limiter::admit`] would answer at `now`, without admitting anything or
    /// making a bucket: `None` for a credential within its limits or without a bucket (one not
    /// seen lately, or no credential at all).
    pub fn refusal(&self, credential: &str, now: Instant) -> Option<Admission> {
        if self.limits.is_off() {
            return None;
        }
        let key = self.key(credential);
        let mut buckets = self.lock();
        let bucket = buckets.by_credential.get_mut(&key)?;
        self.refill(bucket, now);
        self.refused(bucket)
    }

    /// The refusal a bucket (refilled) answers now, if any.
    fn refused(&self, bucket: &Bucket) -> Option<Admission> {
        let limits = self.limits;
        if limits.concurrency > 0 && bucket.in_flight >= limits.concurrency {
            Some(Admission::Refused {
                why: Refusal::Concurrency,
                retry_after_secs: 1,
                quota: self.quota(bucket),
            })
        } else if limits.has_rate() && bucket.tokens < 1.0 {
            Some(Admission::Refused {
                why: Refusal::Rate,
                retry_after_secs: ((1.0 - bucket.tokens) / limits.rate_per_sec)
                    .ceil()
                    .max(1.0) as u64,
                quota: self.quota(bucket),
            })
        } else {
            None
        }
    }

    /// Drops every bucket that is full and has nothing in progress: it is the same as a new
    /// one. The next sweep comes when the buckets have doubled, so sweeping costs O(1) per
    /// request on average.
    fn sweep(&self, buckets: &mut Buckets, now: Instant) {
        let burst = self.limits.burst();
        buckets.by_credential.retain(|_, bucket| {
            self.refill(bucket, now);
            bucket.in_flight > 0 || (self.limits.has_rate() && bucket.tokens < burst)
        });
        buckets.sweep_above = (buckets.by_credential.len() * 2).max(SWEEP_FLOOR);
    }

    /// The scan slots of a credential with a request in progress.
    fn scan_slots(&self, key: u64) -> Arc<Semaphore> {
        let scans = self.limits.scans as usize;
        let mut buckets = self.lock();
        match buckets.by_credential.get_mut(&key) {
            Some(bucket) => Arc::clone(
                bucket
                    .scans
                    .get_or_insert_with(|| Arc::new(Semaphore::new(scans))),
            ),
            // Not reached: the permit asking keeps the bucket. A fresh set is as safe.
            None => Arc::new(Semaphore::new(scans)),
        }
    }

    fn release(&self, key: u64) {
        let mut buckets = self.lock();
        if let Some(bucket) = buckets.by_credential.get_mut(&key) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
    }
}

/// One admitted request in progress; dropping it ends it.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    key: u64,
    /// The credential's scan slot this request runs in, if it is a scan, and when it took it.
    scan: Option<(OwnedSemaphorePermit, tokio::time::Instant)>,
}

impl Permit {
    /// This request as one of its credential's scans: at once when the credential has a scan
    /// slot free, else after waiting up to the scan wait for one (first come, first served),
    /// else [`Refusal::Scans`]. Waiting costs a timer and nothing else; the slot is held until
    /// the permit is dropped.
    pub async fn scan(mut self) -> Result<Self, Refusal> {
        let limits = self.limiter.limits;
        if limits.scans == 0 || self.scan.is_some() {
            return Ok(self);
        }
        let slots = self.limiter.scan_slots(self.key);
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) if limits.scan_wait.is_zero() => return Err(Refusal::Scans),
            Err(_) => tokio::time::timeout(limits.scan_wait, slots.acquire_owned())
                .await
                .map_err(|_elapsed| Refusal::Scans)?
                .map_err(|_closed| Refusal::Scans)?,
        };
        self.scan = Some((slot, tokio::time::Instant::now()));
        Ok(self)
    }

    /// Whether this request holds a scan slot.
    pub fn is_scan(&self) -> bool {
        self.scan.is_some()
    }
}

impl Drop for Permit {
    /// Ends the request. A scan's slot goes back after its rest (see
    /// [`CredentialLimits::scan_rest_percent`]): a timer holds it meanwhile.
    fn drop(&mut self) {
        self.limiter.release(self.key);
        if let Some((slot, started)) = self.scan.take() {
            let rest = self.limiter.limits.scan_rest(started.elapsed());
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) if !rest.is_zero() => {
                    // From now, not from when the task first runs.
                    let until = tokio::time::Instant::now() + rest;
                    runtime.spawn(async move {
                        tokio::time::sleep_until(until).await;
                        drop(slot);
                    });
                }
                _ => drop(slot),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limiter(rate: f64, burst: u32, concurrency: u32) -> Arc<Limiter> {
        Limiter::new(CredentialLimits {
            rate_per_sec: rate,
            burst,
            concurrency,
            scans: 0,
            scan_wait: Duration::ZERO,
            scan_rest_percent: 0,
        })
    }

    fn scan_limiter(concurrency: u32, scans: u32, scan_wait: Duration) -> Arc<Limiter> {
        Limiter::new(CredentialLimits {
            concurrency,
            scans,
            scan_wait,
            ..CredentialLimits::off()
        })
    }

    fn permit(limiter: &Arc<Limiter>, credential: &str) -> Permit {
        admitted(limiter.admit(credential, Instant::now()))
            .0
            .expect("a permit")
    }

    fn admitted(admission: Admission) -> (Option<Permit>, Option<Quota>) {
        match admission {
            Admission::Admitted { permit, quota } => (permit, quota),
            refused => panic!("refused: {refused:?}"),
        }
    }

    #[test]
    fn defaults_allow_at_least_100_requests_per_second() {
        let limits = CredentialLimits::default();
        assert!(limits.rate_per_sec >= 100.0);
        assert!(limits.burst >= 100);
        assert_eq!(
            limits.policy_field().as_deref(),
            Some("\"credential\";q=400;w=2")
        );
        // A credential sending 100 requests a second for ten seconds, one at a time.
        let limiter = Limiter::new(limits);
        let start = Instant::now();
        for i in 0..1000u64 {
            let now = start + Duration::from_millis(i * 10);
            admitted(limiter.admit("key_a", now));
        }
    }

    #[test]
    fn an_empty_bucket_refuses_until_it_refills() {
        let limiter = limiter(2.0, 3, 0);
        let start = Instant::now();
        let quotas: Vec<_> = (0..3)
            .map(|_| admitted(limiter.admit("key_a", start)).1.unwrap())
            .collect();
        assert_eq!(
            quotas.iter().map(|q| q.remaining).collect::<Vec<_>>(),
            [2, 1, 0]
        );
        assert_eq!(quotas[2].reset_secs, 2, "3 tokens at 2 a second");
        match limiter.admit("key_a", start) {
            Admission::Refused {
                why: Refusal::Rate,
                retry_after_secs,
                quota,
            } => {
                assert_eq!(retry_after_secs, 1);
                assert_eq!(quota.unwrap().remaining, 0);
            }
            other => panic!("{other:?}"),
        }
        // Another credential has a bucket of its own.
        admitted(limiter.admit("key_b", start));
        // Half a second later one token is back.
        admitted(limiter.admit("key_a", start + Duration::from_millis(500)));
        assert!(matches!(
            limiter.admit("key_a", start + Duration::from_millis(500)),
            Admission::Refused { .. }
        ));
    }

    #[test]
    fn requests_in_progress_are_capped_until_they_end() {
        let limiter = limiter(0.0, 0, 2);
        let now = Instant::now();
        let first = admitted(limiter.admit("key_a", now)).0;
        let second = admitted(limiter.admit("key_a", now)).0;
        assert!(matches!(
            limiter.admit("key_a", now),
            Admission::Refused {
                why: Refusal::Concurrency,
                retry_after_secs: 1,
                quota: None
            }
        ));
        admitted(limiter.admit("key_b", now));
        drop(first);
        let third = admitted(limiter.admit("key_a", now)).0;
        assert!(matches!(
            limiter.admit("key_a", now),
            Admission::Refused { .. }
        ));
        drop((second, third));
    }

    #[test]
    fn no_limits_keep_no_state() {
        let limiter = Limiter::new(CredentialLimits::off());
        let (permit, quota) = admitted(limiter.admit("key_a", Instant::now()));
        assert!(permit.is_none() && quota.is_none());
        assert_eq!(limiter.buckets(), 0);
        assert_eq!(CredentialLimits::off().policy_field(), None);
    }

    #[test]
    fn idle_full_buckets_are_swept() {
        let limiter = limiter(100.0, 10, 4);
        let start = Instant::now();
        for i in 0..SWEEP_FLOOR {
            drop(admitted(limiter.admit(&format!("key_{i}"), start)));
        }
        assert_eq!(limiter.buckets(), SWEEP_FLOOR);
        // A second later every one of them is full again: the next new bucket sweeps them,
        // but not a bucket with a request in progress.
        let later = start + Duration::from_secs(1);
        let busy = admitted(limiter.admit("key_busy", later)).0;
        assert_eq!(limiter.buckets(), 1, "only the busy one");
        drop(busy);
        // Thousands of one-off credentials never hold more than about twice the floor.
        for i in 0..10 * SWEEP_FLOOR {
            let now = later + Duration::from_secs(1 + i as u64);
            drop(admitted(limiter.admit(&format!("other_{i}"), now)));
            assert!(limiter.buckets() <= 2 * SWEEP_FLOOR + 2);
        }
    }

    #[test]
    fn defaults_cap_scans_at_half_the_cores_and_at_least_one() {
        let limits = CredentialLimits::default();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        assert_eq!(limits.scans, (cores / 2).max(1));
        assert!(limits.scans < limits.concurrency);
        assert!(!limits.scan_wait.is_zero());
        assert_eq!(CredentialLimits::off().scans, 0);
    }

    #[tokio::test]
    async fn a_scan_past_its_credentials_cap_is_refused_and_other_requests_pass() {
        let limiter = scan_limiter(0, 1, Duration::ZERO);
        let first = permit(&limiter, "key_a").scan().await.unwrap();
        assert!(first.is_scan());
        assert_eq!(
            permit(&limiter, "key_a").scan().await.unwrap_err(),
            Refusal::Scans
        );
        // A request of the same credential that is no scan passes, and so does another
        // credential's scan.
        let point = permit(&limiter, "key_a");
        assert!(!point.is_scan());
        let other = permit(&limiter, "key_b").scan().await.unwrap();
        // The refused scan gave its request back: only the scan, the read and nothing else.
        drop(point);
        // Once the first scan ends, the credential scans again.
        drop(first);
        let again = permit(&limiter, "key_a").scan().await.unwrap();
        drop((again, other));
    }

    /// A scan's slot rests after it for as long as the scan took (at 100 %), so a credential
    /// sending scans back to back keeps the database busy half the time at most.
    #[tokio::test(start_paused = true)]
    async fn a_scan_slot_rests_after_a_scan_for_its_share_of_the_scans_time() {
        let limiter = Limiter::new(CredentialLimits {
            scans: 1,
            scan_rest_percent: 100,
            ..CredentialLimits::off()
        });
        let first = permit(&limiter, "key_a").scan().await.unwrap();
        tokio::time::advance(Duration::from_millis(40)).await;
        drop(first);
        let refused = permit(&limiter, "key_a").scan().await;
        assert_eq!(refused.unwrap_err(), Refusal::Scans, "resting");
        tokio::time::advance(Duration::from_millis(39)).await;
        let refused = permit(&limiter, "key_a").scan().await;
        assert_eq!(refused.unwrap_err(), Refusal::Scans, "still resting");
        // Another credential's scans are not held by it.
        drop(permit(&limiter, "key_b").scan().await.unwrap());
        // Past the rest (the paused clock moves on while this test sleeps), the slot is back.
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert!(permit(&limiter, "key_a").scan().await.unwrap().is_scan());
    }

    #[test]
    fn the_rest_is_a_share_of_the_scans_time_and_at_most_a_second() {
        let limits = CredentialLimits {
            scan_rest_percent: 50,
            ..CredentialLimits::off()
        };
        assert_eq!(
            limits.scan_rest(Duration::from_millis(80)),
            Duration::from_millis(40)
        );
        assert_eq!(
            limits.scan_rest(Duration::from_secs(10)),
            CredentialLimits::MAX_SCAN_REST
        );
        assert_eq!(
            CredentialLimits::off().scan_rest(Duration::from_secs(1)),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn a_scan_waits_for_a_slot_within_the_scan_wait() {
        let limiter = scan_limiter(0, 2, Duration::from_secs(60));
        let first = permit(&limiter, "key_a").scan().await.unwrap();
        let second = permit(&limiter, "key_a").scan().await.unwrap();
        let waiting = tokio::spawn(permit(&limiter, "key_a").scan());
        // It waits while both slots are taken…
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished());
        // …and takes the first one given back.
        drop(first);
        let third = waiting.await.unwrap().unwrap();
        assert!(third.is_scan());
        drop((second, third));
    }

    #[tokio::test]
    async fn a_scan_that_waits_too_long_is_refused() {
        let limiter = scan_limiter(0, 1, Duration::from_millis(20));
        let first = permit(&limiter, "key_a").scan().await.unwrap();
        assert_eq!(
            permit(&limiter, "key_a").scan().await.unwrap_err(),
            Refusal::Scans
        );
        drop(first);
    }

    #[tokio::test]
    async fn waiting_scans_are_requests_in_progress_and_bounded_by_the_concurrency_cap() {
        let limiter = scan_limiter(3, 1, Duration::from_secs(60));
        let first = permit(&limiter, "key_a").scan().await.unwrap();
        let waiting: Vec<_> = (0..2)
            .map(|_| tokio::spawn(permit(&limiter, "key_a").scan()))
            .collect();
        // One scan and two waiting: the third request of the credential is refused at once.
        assert!(matches!(
            limiter.admit("key_a", Instant::now()),
            Admission::Refused {
                why: Refusal::Concurrency,
                ..
            }
        ));
        // The waiting ones are served in turn.
        drop(first);
        for scan in waiting {
            drop(scan.await.unwrap().unwrap());
        }
        assert!(permit(&limiter, "key_a").scan().await.is_ok());
    }

    #[tokio::test]
    async fn a_swept_bucket_never_frees_a_scan_slot_in_use() {
        let limiter = scan_limiter(0, 1, Duration::ZERO);
        let scan = permit(&limiter, "key_busy").scan().await.unwrap();
        // Enough one-off credentials to sweep.
        for i in 0..2 * SWEEP_FLOOR {
            drop(permit(&limiter, &format!("key_{i}")));
        }
        assert_eq!(
            permit(&limiter, "key_busy").scan().await.unwrap_err(),
            Refusal::Scans
        );
        drop(scan);
        assert!(permit(&limiter, "key_busy").scan().await.is_ok());
    }

    #[test]
    fn a_credential_past_its_limits_is_refused_before_it_is_looked_up() {
        let limiter = limiter(0.01, 2, 1);
        let now = Instant::now();
        // Unknown credentials (never admitted) have no bucket: they are looked up first.
        assert!(limiter.refusal("key_a", now).is_none());
        assert_eq!(limiter.buckets(), 0);
        let first = admitted(limiter.admit("key_a", now)).0;
        assert!(matches!(
            limiter.refusal("key_a", now),
            Some(Admission::Refused {
                why: Refusal::Concurrency,
                ..
            })
        ));
        drop(first);
        // One token left: within its limits again.
        assert!(limiter.refusal("key_a", now).is_none());
        drop(admitted(limiter.admit("key_a", now)));
        assert!(matches!(
            limiter.refusal("key_a", now),
            Some(Admission::Refused {
                why: Refusal::Rate,
                retry_after_secs: 100,
                ..
            })
        ));
        assert!(limiter.refusal("key_b", now).is_none());
        assert_eq!(limiter.buckets(), 1, "asking makes no bucket");
    }

    #[test]
    fn refusals_are_held_a_moment_and_a_refused_scan_has_waited_already() {
        let limits = CredentialLimits::default();
        assert_eq!(Refusal::Rate.pause(&limits), REFUSAL_PAUSE);
        assert_eq!(Refusal::Concurrency.pause(&limits), REFUSAL_PAUSE);
        assert!(REFUSAL_PAUSE <= Duration::from_secs(1), "below Retry-After");
        assert_eq!(
            Refusal::Scans.pause(&limits),
            REFUSAL_PAUSE.saturating_sub(limits.scan_wait)
        );
        let at_once = CredentialLimits {
            scan_wait: Duration::ZERO,
            ..limits
        };
        assert_eq!(Refusal::Scans.pause(&at_once), REFUSAL_PAUSE);
    }
}
