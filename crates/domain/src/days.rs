//! Whole days in a store's time zone, as the `dateFrom`/`dateTo` filters take them.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::validation::ValidationErrors;

/// A `YYYY-MM-DD` date, strictly in that form.
pub fn parse_day(s: &str) -> Result<NaiveDate, String> {
    let strict = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    strict
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| "must be a date in the form YYYY-MM-DD".to_owned())
}

/// The instant a local day starts in `timezone` (the earliest, around a clock change).
pub fn start_of(day: NaiveDate, timezone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    timezone
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The instants `[from, before)` covered by the days `date_from` to `date_to`, both inclusive,
/// in `timezone`; either end may be open. Errors are recorded under `dateFrom` / `dateTo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayRange {
    /// The instant the first day starts; `None` without `dateFrom`.
    pub from: Option<DateTime<Utc>>,
    /// The instant the day after the last day starts (excluded); `None` without `dateTo`.
    pub before: Option<DateTime<Utc>>,
}

impl DayRange {
    /// Parses `dateFrom` and `dateTo` (`YYYY-MM-DD`, `dateTo` not before `dateFrom`), recording
    /// errors in `errors`; a broken end is left open.
    pub fn validate(
        date_from: Option<&str>,
        date_to: Option<&str>,
        timezone: Tz,
        errors: &mut ValidationErrors,
    ) -> Self {
        let from = date_from.and_then(|d| errors.check("dateFrom", parse_day(d)));
        let to = date_to.and_then(|d| errors.check("dateTo", parse_day(d)));
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            errors.add("dateTo", "must not be before dateFrom");
        }
        Self {
            from: from.map(|d| start_of(d, timezone)),
            before: to
                .and_then(|d| d.checked_add_days(Days::new(1)))
                .map(|d| start_of(d, timezone)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_must_be_strict_real_dates() {
        assert!(parse_day("2026-03-15").is_ok());
        assert!(parse_day("2026-3-15").is_err());
        assert!(parse_day("2026-02-30").is_err());
    }

    #[test]
    fn a_range_covers_whole_local_days() {
        let mut errors = ValidationErrors::new();
        let range = DayRange::validate(
            Some("2026-03-15"),
            Some("2026-03-15"),
            chrono_tz::Europe::Copenhagen,
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(range.from, Some("2026-03-14T23:00:00Z".parse().unwrap()));
        assert_eq!(range.before, Some("2026-03-15T23:00:00Z".parse().unwrap()));
    }

    #[test]
    fn a_reversed_range_is_refused() {
        let mut errors = ValidationErrors::new();
        DayRange::validate(Some("2026-03-16"), Some("2026-03-15"), Tz::UTC, &mut errors);
        assert_eq!(errors.fields()[0].field, "dateTo");
    }
}
