//! Instants are stored as UTC `timestamp`s without a zone (one diesel schema serves both
//! backends).

use chrono::{DateTime, NaiveDateTime, Utc};

pub(crate) fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc()
}

pub(crate) fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}
