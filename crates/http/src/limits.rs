//! Per-credential limits: a token bucket (a rate and a burst) and a cap on requests in
//! progress, for every authenticated request, so that one credential's load cannot crowd out
//! the others.
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
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The name of the one policy in the rate-limit fields.
pub const POLICY: &str = "credential";

/// Limits of one credential. A rate of 0 means no rate limit, a concurrency of 0 no cap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CredentialLimits {
    /// Requests per second a credential's bucket refills with.
    pub rate_per_sec: f64,
    /// Requests a full bucket lets through at once (at least 1 when there is a rate).
    pub burst: u32,
    /// Most requests of one credential in progress at once.
    pub concurrency: u32,
}

impl CredentialLimits {
    pub const DEFAULT_RATE_PER_SEC: u32 = 200;
    pub const DEFAULT_BURST: u32 = 400;
    pub const DEFAULT_CONCURRENCY: u32 = 16;

    /// No limit at all.
    pub const fn off() -> Self {
        Self {
            rate_per_sec: 0.0,
            burst: 0,
            concurrency: 0,
        }
    }

    fn is_off(&self) -> bool {
        !self.has_rate() && self.concurrency == 0
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
}

#[derive(Debug, Default)]
struct Buckets {
    by_credential: HashMap<String, Bucket>,
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
}

impl Limiter {
    pub fn new(limits: CredentialLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            buckets: Mutex::new(Buckets {
                by_credential: HashMap::new(),
                sweep_above: SWEEP_FLOOR,
            }),
        })
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
        let mut buckets = self.lock();
        let bucket = buckets
            .by_credential
            .entry(credential.to_owned())
            .or_insert_with(|| Bucket {
                tokens: self.limits.burst(),
                updated: now,
                in_flight: 0,
            });
        self.refill(bucket, now);
        let limits = self.limits;
        let admission = if limits.concurrency > 0 && bucket.in_flight >= limits.concurrency {
            Admission::Refused {
                why: Refusal::Concurrency,
                retry_after_secs: 1,
                quota: self.quota(bucket),
            }
        } else if limits.has_rate() && bucket.tokens < 1.0 {
            Admission::Refused {
                why: Refusal::Rate,
                retry_after_secs: ((1.0 - bucket.tokens) / limits.rate_per_sec)
                    .ceil()
                    .max(1.0) as u64,
                quota: self.quota(bucket),
            }
        } else {
            if limits.has_rate() {
                bucket.tokens -= 1.0;
            }
            bucket.in_flight += 1;
            Admission::Admitted {
                permit: Some(Permit {
                    limiter: Arc::clone(self),
                    credential: credential.to_owned(),
                }),
                quota: self.quota(bucket),
            }
        };
        if buckets.by_credential.len() > buckets.sweep_above {
            self.sweep(&mut buckets, now);
        }
        admission
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

    fn release(&self, credential: &str) {
        let mut buckets = self.lock();
        if let Some(bucket) = buckets.by_credential.get_mut(credential) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
    }
}

/// One admitted request in progress; dropping it ends it.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    credential: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release(&self.credential);
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
        })
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
}
