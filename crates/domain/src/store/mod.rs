//! The restaurant: the tenant every other record belongs to.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::ids::StoreId;
use crate::order::DEFAULT_MAX_ORDER_MINOR;
use crate::ports::RepoError;

pub mod ports;
mod service;

pub use self::ports::StoreRepository;
pub use self::service::{NewStoreOutcome, StoreError, StoreService};
use crate::validation::{ValidationErrors, char_len, has_forbidden_controls};

/// A store and the settings its rules read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// The store's id, `store_` and a random part.
    pub id: StoreId,
    /// The store's name, 1–100 characters on one line.
    pub name: String,
    /// ISO 4217 code of the store's one currency.
    pub currency: String,
    /// Where "today" begins for the store.
    pub timezone: Tz,
    /// How many minor units of spend earn one loyalty point.
    pub minor_units_per_point: i64,
    /// The largest order the store records (its total and its items' sum), in minor units.
    pub max_order_minor: i64,
    /// When the store was created.
    pub created_at: DateTime<Utc>,
}

/// What creating a store asks for, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    /// The store's name, 1–100 characters (trimmed).
    pub name: String,
    /// Three capital letters, e.g. `DKK` (the default).
    pub currency: String,
    /// An IANA time zone, e.g. `Europe/Copenhagen` (the default).
    pub timezone: String,
    /// Minor units of spend per loyalty point, 1–1,000,000 (default 100).
    pub minor_units_per_point: i64,
    /// The largest order, in minor units, at least 1 (default [`DEFAULT_MAX_ORDER_MINOR`]).
    pub max_order_minor: i64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            name: "My restaurant".into(),
            currency: "DKK".into(),
            timezone: "Europe/Copenhagen".into(),
            minor_units_per_point: 100,
            max_order_minor: DEFAULT_MAX_ORDER_MINOR,
        }
    }
}

/// Checks a store's largest order: at least one minor unit. Any larger value is safe: every
/// total is computed with checked arithmetic.
pub fn check_max_order_minor(value: i64) -> Result<i64, ValidationErrors> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(ValidationErrors::single(
            "maxOrderMinor",
            "must be at least 1",
        ))
    }
}

impl StoreSettings {
    /// Checks every setting: name 1–100 characters, currency three capital letters, a time zone
    /// of the IANA database, a positive earn rate, a positive largest order.
    pub fn validate(&self, id: StoreId, now: DateTime<Utc>) -> Result<Store, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = self.name.trim();
        if name.is_empty() || char_len(name) > 100 || has_forbidden_controls(name, false) {
            errors.add("name", "must be 1 to 100 characters on one line");
        }
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            errors.add("currency", "must be an ISO 4217 code such as DKK");
        }
        let timezone = errors.check(
            "timezone",
            self.timezone
                .parse::<Tz>()
                .map_err(|_| "must be an IANA time zone such as Europe/Copenhagen".to_owned()),
        );
        if !(1..=1_000_000).contains(&self.minor_units_per_point) {
            errors.add("minorUnitsPerPoint", "must be between 1 and 1000000");
        }
        if check_max_order_minor(self.max_order_minor).is_err() {
            errors.add("maxOrderMinor", "must be at least 1");
        }
        errors.into_result(|| Store {
            id,
            name: name.to_owned(),
            currency: self.currency.clone(),
            timezone: timezone.unwrap_or(Tz::UTC),
            minor_units_per_point: self.minor_units_per_point,
            max_order_minor: self.max_order_minor,
            created_at: now,
        })
    }
}

/// The store's time zone when `needed` (a filter speaks of local days), read once; UTC
/// otherwise, or when the store is gone.
pub async fn timezone_if<S: StoreRepository>(
    stores: &S,
    store: &StoreId,
    needed: bool,
) -> Result<Tz, RepoError> {
    if !needed {
        return Ok(Tz::UTC);
    }
    Ok(stores
        .find(store)
        .await?
        .map_or(Tz::UTC, |store| store.timezone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> StoreId {
        StoreId::parse("store_aaaaaaaaaaaa").unwrap()
    }

    #[test]
    fn defaults_are_a_danish_restaurant() {
        let store = StoreSettings::default()
            .validate(id(), crate::testing::now())
            .unwrap();
        assert_eq!(store.currency, "DKK");
        assert_eq!(store.timezone, chrono_tz::Europe::Copenhagen);
        assert_eq!(store.minor_units_per_point, 100);
        assert_eq!(store.max_order_minor, 100_000_000);
    }

    #[test]
    fn the_largest_order_is_at_least_one_minor_unit() {
        assert_eq!(check_max_order_minor(1), Ok(1));
        assert_eq!(check_max_order_minor(i64::MAX), Ok(i64::MAX));
        for bad in [0, -1, i64::MIN] {
            assert_eq!(
                check_max_order_minor(bad).unwrap_err().fields()[0].field,
                "maxOrderMinor"
            );
        }
    }

    #[test]
    fn every_bad_setting_is_reported() {
        let settings = StoreSettings {
            name: " ".into(),
            currency: "dkk".into(),
            timezone: "Mars/Olympus".into(),
            minor_units_per_point: 0,
            max_order_minor: 0,
        };
        let errors = settings.validate(id(), crate::testing::now()).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "currency",
                "timezone",
                "minorUnitsPerPoint",
                "maxOrderMinor"
            ]
        );
    }
}
