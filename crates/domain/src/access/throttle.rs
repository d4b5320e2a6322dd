//! Slowing down password guessing without letting anyone lock anyone out.
//!
//! Every login attempt is counted, before its password is checked, under up to three keys:
//!
//! - **the address and the account** (`pair`): at most [`PAIR_MAX_FAILURES`] failures within
//!   [`WINDOW`], then refused until the oldest counted failure leaves the window;
//! - **the address** (`client`): a much higher ceiling ([`Policy::max_failures_per_address`],
//!   [`DEFAULT_MAX_FAILURES_PER_ADDRESS`] by default), since many people may share one address;
//! - **the account** (`account`): after [`ACCOUNT_FREE_FAILURES`] failures from anywhere,
//!   exponential back-off (1 s, 2 s, 4 s … after the latest failure, capped at [`WINDOW`]) —
//!   except for an address with no recent failure at all, so that guessing from elsewhere
//!   cannot keep the account's owner out.
//!
//! An attempt whose password is not checked yet counts as a failure (the repository records it
//! when it grants the attempt, in the same transaction as the count), so concurrent guesses
//! cannot slip past the limits; a successful attempt is forgotten again.

use chrono::{DateTime, Duration, Utc};

/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures of one account from one address allowed within [`WINDOW`].
pub const PAIR_MAX_FAILURES: usize = 5;
/// Failures of one account (from anywhere) before the back-off begins.
pub const ACCOUNT_FREE_FAILURES: usize = 5;
/// The default ceiling of failures from one address (any account) within [`WINDOW`].
pub const DEFAULT_MAX_FAILURES_PER_ADDRESS: usize = 100;

/// The configurable part of the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Failures from one address (any account, any store) allowed within [`WINDOW`].
    pub max_failures_per_address: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_failures_per_address: DEFAULT_MAX_FAILURES_PER_ADDRESS,
        }
    }
}

/// What an attempt is counted under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// An email (lower-cased) in one store.
    Account {
        /// The store's id.
        store: String,
        /// The email tried, lower-cased.
        email: String,
    },
    /// An email (lower-cased) in one store, tried from one client address.
    Pair {
        /// The client's address.
        client: String,
        /// The store's id.
        store: String,
        /// The email tried, lower-cased.
        email: String,
    },
    /// A client's network address.
    Client(String),
}

impl ThrottleKey {
    /// A stable text form, for storage. An address never holds a `/`, so a pair's key is
    /// unambiguous.
    pub fn as_text(&self) -> String {
        match self {
            Self::Account { store, email } => format!("account:{store}:{email}"),
            Self::Pair {
                client,
                store,
                email,
            } => format!("pair:{store}:{client}/{email}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }
}

/// The keys of one attempt, in text form. A store that does not exist gets no account keys:
/// such an attempt counts only against its address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttemptKeys {
    /// `account:<store>:<email>`, when the store exists.
    pub account: Option<String>,
    /// `pair:<store>:<client>/<email>`, when the store exists and the address is known.
    pub pair: Option<String>,
    /// `client:<address>`, when the address is known.
    pub client: Option<String>,
}

impl AttemptKeys {
    /// The keys of an attempt on `email` of `store` (when the store exists) from `client`.
    pub fn new(store: Option<&str>, email: &str, client: Option<&str>) -> Self {
        let email = email.trim().to_lowercase();
        Self {
            account: store.map(|store| {
                ThrottleKey::Account {
                    store: store.to_owned(),
                    email: email.clone(),
                }
                .as_text()
            }),
            pair: store.zip(client).map(|(store, client)| {
                ThrottleKey::Pair {
                    client: client.to_owned(),
                    store: store.to_owned(),
                    email: email.clone(),
                }
                .as_text()
            }),
            client: client.map(|client| ThrottleKey::Client(client.to_owned()).as_text()),
        }
    }

    /// Every key, once.
    pub fn all(&self) -> Vec<String> {
        [&self.account, &self.pair, &self.client]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The key a rule counts under.
    pub fn of(&self, rule: Rule) -> Option<&str> {
        match rule {
            Rule::Account => self.account.as_deref(),
            Rule::AddressAndAccount => self.pair.as_deref(),
            Rule::Address => self.client.as_deref(),
        }
    }
}

/// The recent failures (and attempts still being checked) under each key of an attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recent {
    /// When failures were counted under the account key.
    pub account: Vec<DateTime<Utc>>,
    /// When failures were counted under the address-and-account key.
    pub pair: Vec<DateTime<Utc>>,
    /// When failures were counted under the address key.
    pub client: Vec<DateTime<Utc>>,
}

impl Recent {
    /// Sorts `(key, at)` rows into the keys of `keys`; rows of other keys are ignored.
    pub fn sort_out(
        keys: &AttemptKeys,
        rows: impl IntoIterator<Item = (String, DateTime<Utc>)>,
    ) -> Self {
        let mut recent = Self::default();
        for (key, at) in rows {
            let list = if keys.account.as_deref() == Some(key.as_str()) {
                &mut recent.account
            } else if keys.pair.as_deref() == Some(key.as_str()) {
                &mut recent.pair
            } else if keys.client.as_deref() == Some(key.as_str()) {
                &mut recent.client
            } else {
                continue;
            };
            list.push(at);
        }
        recent
    }
}

/// Which rule refused an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The account's back-off.
    Account,
    /// The strict limit of one address on one account.
    AddressAndAccount,
    /// The ceiling of one address.
    Address,
}

impl Rule {
    /// The rule's name: `account`, `address_and_account` or `address`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::AddressAndAccount => "address_and_account",
            Self::Address => "address",
        }
    }
}

/// Why an attempt is refused, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The rule that refused.
    pub rule: Rule,
    /// The failures counted under the rule's key within [`WINDOW`].
    pub failures: usize,
    /// Whole seconds to wait (at least 1).
    pub retry_after_secs: u64,
}

/// Whether another attempt may be made now. When several rules refuse, the longest wait wins:
/// retrying earlier would be refused anyway.
pub fn verdict(
    policy: &Policy,
    keys: &AttemptKeys,
    recent: &Recent,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let pair = in_window(&recent.pair, now);
    let client = in_window(&recent.client, now);
    let account = in_window(&recent.account, now);
    let refusals = [
        limit(&pair, PAIR_MAX_FAILURES, now)
            .map(|wait| (Rule::AddressAndAccount, pair.len(), wait)),
        limit(&client, policy.max_failures_per_address.max(1), now)
            .map(|wait| (Rule::Address, client.len(), wait)),
        // An address without any recent failure may always try (once) despite the back-off.
        if keys.client.is_some() && client.is_empty() {
            None
        } else {
            back_off(&account, now).map(|wait| (Rule::Account, account.len(), wait))
        },
    ];
    match refusals
        .into_iter()
        .flatten()
        .max_by_key(|(_, _, wait)| *wait)
    {
        None => Ok(()),
        Some((rule, failures, wait)) => Err(Refusal {
            rule,
            failures,
            retry_after_secs: whole_seconds(wait),
        }),
    }
}

/// The failures within the window, oldest first. One dated after `now` counts too: a
/// concurrent attempt that read the clock a moment later may have been recorded first.
fn in_window(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut recent: Vec<_> = failures
        .iter()
        .copied()
        .filter(|at| *at > now - WINDOW)
        .collect();
    recent.sort_unstable();
    recent
}

/// With `max` or more failures: the wait until fewer than `max` remain in the window.
fn limit(recent: &[DateTime<Utc>], max: usize, now: DateTime<Utc>) -> Option<Duration> {
    if recent.len() < max {
        return None;
    }
    let frees_at = recent[recent.len() - max] + WINDOW;
    // Never more than the window, even when a concurrent attempt is dated a moment after now.
    Some((frees_at - now).min(WINDOW))
}

/// With more than [`ACCOUNT_FREE_FAILURES`] failures: 1 s after the latest, doubling with each
/// further failure, capped at [`WINDOW`]; `None` once that wait is over.
fn back_off(recent: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<Duration> {
    let over = recent.len().checked_sub(ACCOUNT_FREE_FAILURES)?;
    let latest = *recent.last()?;
    let wait = Duration::seconds(1_i64 << over.min(20)).min(WINDOW);
    let until = latest + wait;
    (until > now).then(|| until - now)
}

fn whole_seconds(wait: Duration) -> u64 {
    let millis = wait.num_milliseconds().max(0);
    ((millis + 999) / 1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-15T10:00:00Z".parse().unwrap()
    }

    fn ago(seconds: i64) -> DateTime<Utc> {
        now() - Duration::seconds(seconds)
    }

    fn minutes(list: &[i64]) -> Vec<DateTime<Utc>> {
        list.iter().map(|m| ago(m * 60)).collect()
    }

    fn keys() -> AttemptKeys {
        AttemptKeys::new(Some("store_a"), " Chef@B.dk", Some("192.0.2.7"))
    }

    fn judge(recent: Recent) -> Result<(), Refusal> {
        verdict(&Policy::default(), &keys(), &recent, now())
    }

    #[test]
    fn keys_are_distinct_by_kind_and_lower_cased() {
        let keys = keys();
        assert_eq!(keys.account.as_deref(), Some("account:store_a:chef@b.dk"));
        assert_eq!(
            keys.pair.as_deref(),
            Some("pair:store_a:192.0.2.7/chef@b.dk")
        );
        assert_eq!(keys.client.as_deref(), Some("client:192.0.2.7"));
        assert_eq!(keys.all().len(), 3);
        assert_eq!(keys.of(Rule::Address), keys.client.as_deref());
    }

    #[test]
    fn an_unknown_store_counts_only_against_the_address() {
        let keys = AttemptKeys::new(None, "a@b.dk", Some("2001:db8::1"));
        assert_eq!(keys.all(), ["client:2001:db8::1"]);
    }

    #[test]
    fn rows_are_sorted_out_by_key() {
        let keys = keys();
        let recent = Recent::sort_out(
            &keys,
            [
                (keys.client.clone().unwrap(), ago(1)),
                (keys.pair.clone().unwrap(), ago(2)),
                ("client:elsewhere".to_owned(), ago(3)),
                (keys.account.clone().unwrap(), ago(4)),
            ],
        );
        assert_eq!(recent.client, [ago(1)]);
        assert_eq!(recent.pair, [ago(2)]);
        assert_eq!(recent.account, [ago(4)]);
    }

    #[test]
    fn four_failures_of_a_pair_still_allow_a_try() {
        let failed = minutes(&[1, 2, 3, 4]);
        let recent = Recent {
            account: failed.clone(),
            pair: failed.clone(),
            client: failed,
        };
        assert_eq!(judge(recent), Ok(()));
        assert_eq!(judge(Recent::default()), Ok(()));
    }

    #[test]
    fn the_fifth_failure_of_a_pair_refuses_until_the_oldest_expires() {
        let failed = minutes(&[1, 2, 3, 4, 10]);
        let recent = Recent {
            account: failed.clone(),
            pair: failed.clone(),
            client: failed,
        };
        assert_eq!(
            judge(recent),
            Err(Refusal {
                rule: Rule::AddressAndAccount,
                failures: 5,
                retry_after_secs: 5 * 60
            })
        );
    }

    #[test]
    fn attempts_recorded_a_moment_later_count() {
        let later = now() + Duration::milliseconds(3);
        let recent = Recent {
            pair: vec![later, ago(1), ago(2), ago(3), ago(4)],
            client: vec![later],
            ..Recent::default()
        };
        assert_eq!(
            judge(recent).map_err(|r| (r.rule, r.retry_after_secs)),
            Err((Rule::AddressAndAccount, 15 * 60 - 4))
        );
        let all_later = Recent {
            pair: vec![later; 5],
            client: vec![later],
            ..Recent::default()
        };
        assert_eq!(
            judge(all_later).map_err(|r| r.retry_after_secs),
            Err(15 * 60),
            "never more than the window"
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let failed = minutes(&[1, 2, 3, 4, 15, 20]);
        let recent = Recent {
            account: failed.clone(),
            pair: failed.clone(),
            client: failed,
        };
        assert_eq!(judge(recent), Ok(()));
    }

    #[test]
    fn more_pair_failures_refuse_until_enough_leave_the_window() {
        let failed = minutes(&[1, 2, 3, 4, 5, 14]);
        let recent = Recent {
            pair: failed.clone(),
            client: failed,
            ..Recent::default()
        };
        assert_eq!(judge(recent).map_err(|r| r.retry_after_secs), Err(10 * 60));
    }

    #[test]
    fn an_address_has_a_much_higher_ceiling_of_its_own() {
        let many: Vec<_> = (1..=99).map(|s| ago(s * 5)).collect();
        let recent = Recent {
            client: many.clone(),
            ..Recent::default()
        };
        assert_eq!(judge(recent), Ok(()));
        let mut hundred = many;
        hundred.push(ago(800));
        let refused = judge(Recent {
            client: hundred,
            ..Recent::default()
        })
        .unwrap_err();
        assert_eq!((refused.rule, refused.failures), (Rule::Address, 100));
        assert_eq!(refused.retry_after_secs, 100);
        let strict = Policy {
            max_failures_per_address: 2,
        };
        let two = Recent {
            client: vec![ago(1), ago(30)],
            ..Recent::default()
        };
        assert_eq!(
            verdict(&strict, &keys(), &two, now()).map_err(|r| r.retry_after_secs),
            Err(15 * 60 - 30)
        );
    }

    #[test]
    fn an_account_backs_off_exponentially_after_the_free_failures() {
        let dirty = vec![ago(1)];
        let account = |list: Vec<DateTime<Utc>>| Recent {
            account: list,
            client: dirty.clone(),
            ..Recent::default()
        };
        // Five failures are free; the sixth waits 2 s after the latest, the seventh 4 s …
        assert_eq!(judge(account(minutes(&[1, 2, 3, 4, 5]))), Ok(()));
        let six: Vec<_> = [0, 60, 120, 180, 240, 300].map(ago).to_vec();
        assert_eq!(
            judge(account(six)),
            Err(Refusal {
                rule: Rule::Account,
                failures: 6,
                retry_after_secs: 2
            })
        );
        let seven: Vec<_> = [3, 60, 120, 180, 240, 300, 360].map(ago).to_vec();
        assert_eq!(
            judge(account(seven)).map_err(|r| r.retry_after_secs),
            Err(1)
        );
        // Once the wait is over, one more try is allowed.
        let waited: Vec<_> = [5, 60, 120, 180, 240, 300, 360].map(ago).to_vec();
        assert_eq!(judge(account(waited)), Ok(()));
        // The wait is capped at the window.
        let many: Vec<_> = (0..40).map(|s| ago(s * 20)).collect();
        assert_eq!(
            judge(account(many)).map_err(|r| (r.rule, r.retry_after_secs)),
            Err((Rule::Account, 15 * 60))
        );
    }

    #[test]
    fn an_address_without_recent_failures_passes_the_account_back_off() {
        let many: Vec<_> = (0..40).map(|s| ago(s * 20)).collect();
        let clean = Recent {
            account: many.clone(),
            client: minutes(&[20]),
            ..Recent::default()
        };
        assert_eq!(judge(clean), Ok(()));
        // Without a known address there is nobody to exempt.
        let anonymous = AttemptKeys::new(Some("store_a"), "chef@b.dk", None);
        let recent = Recent {
            account: many,
            ..Recent::default()
        };
        assert_eq!(
            verdict(&Policy::default(), &anonymous, &recent, now()).map_err(|r| r.rule),
            Err(Rule::Account)
        );
    }

    #[test]
    fn the_longest_wait_wins() {
        let recent = Recent {
            account: (0..40).map(|s| ago(s * 20)).collect(),
            pair: minutes(&[1, 2, 3, 4, 10]),
            client: minutes(&[1, 2, 3, 4, 10]),
        };
        assert_eq!(
            judge(recent).map_err(|r| (r.rule, r.retry_after_secs)),
            Err((Rule::Account, 15 * 60))
        );
    }
}
