//! Instants are stored as UTC `timestamp`s without a zone (one diesel schema serves both
//! backends), with the API's millisecond precision.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

pub(crate) fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc()
}

pub(crate) fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}

/// `instant + duration`, saturating at the ends of time.
pub(crate) fn plus(instant: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    instant
        .checked_add_signed(duration)
        .unwrap_or(if duration < Duration::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_saturates() {
        let at = DateTime::from_timestamp_millis(1_000).unwrap();
        assert_eq!(plus(at, Duration::seconds(1)).timestamp_millis(), 2_000);
        assert_eq!(plus(at, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(plus(at, Duration::MIN), DateTime::<Utc>::MIN_UTC);
    }
}
