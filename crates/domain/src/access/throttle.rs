//! Slowing down password guessing: after too many failed logins for one email (in one store)
//! or from one client address within a window, further attempts are refused until the oldest
//! failure leaves the window.

use chrono::{DateTime, Duration, Utc};

/// Failures allowed within [`WINDOW`] before attempts are refused.
pub const MAX_FAILURES: usize = 5;
/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(15);

/// What a failed-login counter is kept for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// An email (lower-cased) in one store.
    Account { store: String, email: String },
    /// A client's network address.
    Client(String),
}

impl ThrottleKey {
    /// A stable text form, for storage.
    pub fn as_text(&self) -> String {
        match self {
            Self::Account { store, email } => format!("account:{store}:{email}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }
}

/// Whether another attempt may be made, given the recent failures (any order).
/// `Err(seconds)` is how long to wait: until the oldest counted failure leaves the window.
pub fn verdict(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), u64> {
    let mut recent: Vec<DateTime<Utc>> = failures
        .iter()
        .copied()
        .filter(|at| *at > now - WINDOW && *at <= now)
        .collect();
    if recent.len() < MAX_FAILURES {
        return Ok(());
    }
    recent.sort_unstable();
    // The attempt is allowed again once fewer than MAX_FAILURES remain in the window.
    let frees_at = recent[recent.len() - MAX_FAILURES] + WINDOW;
    let wait = (frees_at - now).num_milliseconds().max(0);
    Err(((wait + 999) / 1000).max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-15T10:00:00Z".parse().unwrap()
    }

    fn ago(minutes: i64) -> DateTime<Utc> {
        now() - Duration::minutes(minutes)
    }

    #[test]
    fn four_failures_still_allow_a_try() {
        assert_eq!(verdict(&[ago(1), ago(2), ago(3), ago(4)], now()), Ok(()));
        assert_eq!(verdict(&[], now()), Ok(()));
    }

    #[test]
    fn the_fifth_failure_locks_until_the_oldest_expires() {
        let failures = [ago(1), ago(2), ago(3), ago(4), ago(10)];
        assert_eq!(verdict(&failures, now()), Err(5 * 60));
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let failures = [ago(1), ago(2), ago(3), ago(4), ago(15), ago(20)];
        assert_eq!(verdict(&failures, now()), Ok(()));
    }

    #[test]
    fn more_failures_lock_until_enough_leave_the_window() {
        let failures = [ago(1), ago(2), ago(3), ago(4), ago(5), ago(14)];
        // Two must leave before fewer than five remain: the one 5 minutes ago frees it in 10.
        assert_eq!(verdict(&failures, now()), Err(10 * 60));
    }

    #[test]
    fn keys_are_distinct_by_kind() {
        let account = ThrottleKey::Account {
            store: "store_a".into(),
            email: "a@b.dk".into(),
        };
        assert_eq!(account.as_text(), "account:store_a:a@b.dk");
        assert_eq!(
            ThrottleKey::Client("127.0.0.1".into()).as_text(),
            "client:127.0.0.1"
        );
    }
}
