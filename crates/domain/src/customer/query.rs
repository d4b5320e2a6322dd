//! Listing customers: sorting, filters and their validation.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

use crate::customer::model::CustomerSummary;
use crate::customer::values::Allergen;
use crate::ids::CustomerId;
use crate::keyset::{Binding, Paging, PagingParams, Position, Seek, SortValue, TotalMode};
use crate::page::PageRequest;
use crate::validation::{ValidationErrors, char_len};

/// What the list may be sorted by (the `sortBy` values of docs/api.md §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CustomerSort {
    /// `createdAt`, the default.
    #[default]
    CreatedAt,
    /// `totalSpentMinor`.
    TotalSpentMinor,
    /// `totalOrders`.
    TotalOrders,
    /// `lastOrderAt`; customers with no orders come last in both directions.
    LastOrderAt,
    /// `firstName`, case-insensitively, customers with no first name last.
    FirstName,
}

impl CustomerSort {
    /// Every sort, in the order the API lists them.
    pub const ALL: [CustomerSort; 5] = [
        Self::CreatedAt,
        Self::TotalSpentMinor,
        Self::TotalOrders,
        Self::LastOrderAt,
        Self::FirstName,
    ];

    /// The `sortBy` value that selects this sort.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::CreatedAt => "createdAt",
            Self::TotalSpentMinor => "totalSpentMinor",
            Self::TotalOrders => "totalOrders",
            Self::LastOrderAt => "lastOrderAt",
            Self::FirstName => "firstName",
        }
    }

    /// Where `customer` stands in a list in this sort.
    pub fn position_of(self, customer: &CustomerSummary) -> Position {
        let value = match self {
            Self::CreatedAt => SortValue::Time(customer.created_at),
            Self::TotalSpentMinor => SortValue::Int(customer.total_spent_minor),
            Self::TotalOrders => SortValue::Int(customer.total_orders),
            Self::LastOrderAt => SortValue::or_null(customer.last_order_at, SortValue::Time),
            Self::FirstName => SortValue::or_null(customer.first_name.as_ref(), |name| {
                SortValue::Text(crate::customer::model::first_name_key(name))
            }),
        };
        Position {
            value,
            id: customer.id.as_str().to_owned(),
        }
    }

    /// Whether `position` can be a customer's place in this sort: a customer id, and a sort
    /// value of this sort's kind.
    fn holds(self, position: &Position) -> bool {
        let value_fits = matches!(
            (self, &position.value),
            (Self::CreatedAt, SortValue::Time(_))
                | (Self::TotalSpentMinor | Self::TotalOrders, SortValue::Int(_))
                | (Self::LastOrderAt, SortValue::Time(_) | SortValue::Null)
                | (Self::FirstName, SortValue::Text(_) | SortValue::Null)
        );
        value_fits && CustomerId::parse(&position.id).is_some()
    }

    fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|sort| sort.api_name() == s)
            .ok_or_else(|| {
                "must be one of createdAt, totalSpentMinor, totalOrders, lastOrderAt, firstName"
                    .to_owned()
            })
    }
}

/// The list's `sortDir`; ties are broken by id in the same direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortDirection {
    /// `asc`: smallest, oldest or A first.
    Asc,
    /// `desc`, the default: largest or newest first.
    #[default]
    Desc,
}

impl SortDirection {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err("must be asc or desc".into()),
        }
    }
}

/// The list's `lastOrderPeriod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastOrderPeriod {
    /// Since midnight in the store's time zone.
    Today,
    /// The last this many days up to now (`7d`, `30d`, `90d`).
    Days(i64),
}

impl LastOrderPeriod {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "today" => Ok(Self::Today),
            "7d" => Ok(Self::Days(7)),
            "30d" => Ok(Self::Days(30)),
            "90d" => Ok(Self::Days(90)),
            _ => Err("must be one of today, 7d, 30d, 90d".into()),
        }
    }

    /// The instant the period starts at.
    pub fn since(self, now: DateTime<Utc>, timezone: Tz) -> DateTime<Utc> {
        match self {
            Self::Days(days) => now - Duration::days(days),
            Self::Today => {
                let local_midnight = now
                    .with_timezone(&timezone)
                    .date_naive()
                    .and_hms_opt(0, 0, 0);
                local_midnight
                    .and_then(|midnight| timezone.from_local_datetime(&midnight).earliest())
                    .map(|start| start.with_timezone(&Utc))
                    .unwrap_or(now - Duration::days(1))
            }
        }
    }
}

/// The list's query parameters as they arrive (numbers and booleans already typed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerListParams {
    /// `page`, from 1.
    pub page: Option<i64>,
    /// `limit`, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `after`: a cursor of this list, or empty for its first page.
    pub after: Option<String>,
    /// `before`: a cursor of this list, or empty for its last page.
    pub before: Option<String>,
    /// `total`: `exact`, `bounded` or `none`.
    pub total: Option<String>,
    /// `sortBy`, one of [`CustomerSort`]'s API names.
    pub sort_by: Option<String>,
    /// `sortDir`, `asc` or `desc`.
    pub sort_dir: Option<String>,
    /// `acceptsMarketing`.
    pub accepts_marketing: Option<bool>,
    /// `isBlocked`.
    pub is_blocked: Option<bool>,
    /// `hasOrders`: whether `totalOrders` is above 0.
    pub has_orders: Option<bool>,
    /// `minSpent`, minor units, inclusive.
    pub min_spent: Option<i64>,
    /// `maxSpent`, minor units, inclusive; not below `minSpent`.
    pub max_spent: Option<i64>,
    /// `lastOrderPeriod`: `today`, `7d`, `30d` or `90d`.
    pub last_order_period: Option<String>,
    /// `q`: text to find in the name, email or phone, at most [`MAX_SEARCH_LEN`] characters.
    pub q: Option<String>,
    /// `allergen`: one allergen code.
    pub allergen: Option<String>,
}

/// Filters of the list; every one narrows it, absent ones do not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only customers who do (`true`) or do not accept marketing.
    pub accepts_marketing: Option<bool>,
    /// Only blocked (`true`) or unblocked customers.
    pub is_blocked: Option<bool>,
    /// Only customers with (`true`) or without orders.
    pub has_orders: Option<bool>,
    /// Inclusive bounds on `totalSpentMinor`.
    pub min_spent: Option<i64>,
    /// Upper bound on `totalSpentMinor`, inclusive.
    pub max_spent: Option<i64>,
    /// Customers whose last order is at or after this instant.
    pub last_order_since: Option<DateTime<Utc>>,
    /// Lower-cased text to find in name, email or phone (a plain substring: `%` and `_` are
    /// literal).
    pub text: Option<String>,
    /// Only customers who have declared this allergen.
    pub allergen: Option<Allergen>,
}

impl CustomerFilter {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A validated list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerListQuery {
    /// Which page, and how many rows on it (page numbers; with a cursor, page 1 of its limit).
    pub page: PageRequest,
    /// The cursor page asked for, if the list is walked by cursor (see [`crate::keyset`]).
    pub seek: Option<Seek>,
    /// How the matches are counted: always [`TotalMode::Exact`] with page numbers.
    pub total: TotalMode,
    /// What this list's cursors are bound to: its sort and filters.
    pub binding: Binding,
    /// The order of the rows.
    pub sort: CustomerSort,
    /// Ascending or descending.
    pub direction: SortDirection,
    /// Which customers are listed.
    pub filter: CustomerFilter,
}

impl CustomerListParams {
    /// The binding of this list's cursors: its sort and its filters as given (a period as
    /// named, so that a cursor of `lastOrderPeriod=7d` stays valid as the days pass; the
    /// search text as it is matched).
    fn binding(&self, sort: CustomerSort, direction: SortDirection, text: Option<&str>) -> Binding {
        Binding::of(&format!(
            "customers|{}|{direction:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            sort.api_name(),
            self.accepts_marketing,
            self.is_blocked,
            self.has_orders,
            self.min_spent,
            self.max_spent,
            self.last_order_period,
            text.map(str::to_lowercase),
            self.allergen,
        ))
    }
}

/// Longest search text accepted in `q`.
pub const MAX_SEARCH_LEN: usize = 200;

impl CustomerListParams {
    /// Validates every parameter; `timezone` and `now` resolve `lastOrderPeriod`.
    pub fn validate(
        &self,
        now: DateTime<Utc>,
        timezone: Tz,
    ) -> Result<CustomerListQuery, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let sort = self
            .sort_by
            .as_deref()
            .and_then(|s| errors.check("sortBy", CustomerSort::parse(s)))
            .unwrap_or_default();
        let direction = self
            .sort_dir
            .as_deref()
            .and_then(|s| errors.check("sortDir", SortDirection::parse(s)))
            .unwrap_or_default();
        let last_order_since = self
            .last_order_period
            .as_deref()
            .and_then(|s| errors.check("lastOrderPeriod", LastOrderPeriod::parse(s)))
            .map(|period| period.since(now, timezone));
        let allergen = self
            .allergen
            .as_deref()
            .and_then(|s| errors.check("allergen", s.parse::<Allergen>()));
        if let (Some(min), Some(max)) = (self.min_spent, self.max_spent)
            && min > max
        {
            errors.add("maxSpent", "must not be less than minSpent");
        }
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if text.is_some_and(|q| char_len(q) > MAX_SEARCH_LEN) {
            errors.add("q", format!("must be at most {MAX_SEARCH_LEN} characters"));
        }
        let binding = self.binding(sort, direction, text);
        let paging = PagingParams {
            page: self.page,
            limit: self.limit,
            after: self.after.clone(),
            before: self.before.clone(),
            total: self.total.clone(),
        };
        let (paging, total) = paging.validate(binding, |p| sort.holds(p), &mut errors);
        let (page, seek) = match paging {
            Paging::Numbered(page) => (page, None),
            Paging::Keyset(seek) => (PageRequest::first_of(seek.limit), Some(seek)),
        };
        let filter = CustomerFilter {
            accepts_marketing: self.accepts_marketing,
            is_blocked: self.is_blocked,
            has_orders: self.has_orders,
            min_spent: self.min_spent,
            max_spent: self.max_spent,
            last_order_since,
            text: text.map(str::to_lowercase),
            allergen,
        };
        errors.into_result(|| CustomerListQuery {
            page,
            seek,
            total,
            binding,
            sort,
            direction,
            filter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Copenhagen;

    fn now() -> DateTime<Utc> {
        "2026-03-15T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn defaults_are_newest_first_page_one() {
        let query = CustomerListParams::default()
            .validate(now(), Copenhagen)
            .unwrap();
        assert_eq!(query.sort, CustomerSort::CreatedAt);
        assert_eq!(query.direction, SortDirection::Desc);
        assert_eq!(query.page, PageRequest::first());
        assert!(query.filter.is_empty());
    }

    #[test]
    fn unknown_enum_values_are_refused() {
        let params = CustomerListParams {
            sort_by: Some("email".into()),
            sort_dir: Some("up".into()),
            last_order_period: Some("1y".into()),
            allergen: Some("gluten".into()),
            limit: Some(500),
            ..CustomerListParams::default()
        };
        let errors = params.validate(now(), Copenhagen).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sortBy", "sortDir", "lastOrderPeriod", "allergen", "limit"]
        );
    }

    #[test]
    fn spend_bounds_must_be_ordered() {
        let params = CustomerListParams {
            min_spent: Some(10),
            max_spent: Some(5),
            ..CustomerListParams::default()
        };
        assert_eq!(
            params.validate(now(), Copenhagen).unwrap_err().fields()[0].field,
            "maxSpent"
        );
        let equal = CustomerListParams {
            min_spent: Some(5),
            max_spent: Some(5),
            ..CustomerListParams::default()
        };
        assert!(equal.validate(now(), Copenhagen).is_ok());
    }

    #[test]
    fn search_text_is_trimmed_and_lower_cased() {
        let params = CustomerListParams {
            q: Some("  MaRiA ".into()),
            ..CustomerListParams::default()
        };
        let query = params.validate(now(), Copenhagen).unwrap();
        assert_eq!(query.filter.text.as_deref(), Some("maria"));
        let blank = CustomerListParams {
            q: Some("  ".into()),
            ..CustomerListParams::default()
        };
        assert_eq!(blank.validate(now(), Copenhagen).unwrap().filter.text, None);
    }

    #[test]
    fn today_starts_at_local_midnight() {
        // 10:00 UTC on 15 March is 11:00 in Copenhagen (CET); midnight there is 23:00 UTC.
        let since = LastOrderPeriod::Today.since(now(), Copenhagen);
        assert_eq!(
            since,
            "2026-03-14T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // In summer time (CEST) midnight is 22:00 UTC.
        let summer = "2026-07-01T21:30:00Z".parse().unwrap();
        assert_eq!(
            LastOrderPeriod::Today.since(summer, Copenhagen),
            "2026-06-30T22:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Just after local midnight the day has just begun.
        let late = "2026-03-14T23:30:00Z".parse().unwrap();
        assert_eq!(
            LastOrderPeriod::Today.since(late, Copenhagen),
            "2026-03-14T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn day_periods_count_back_from_now() {
        assert_eq!(
            LastOrderPeriod::Days(7).since(now(), Copenhagen),
            now() - Duration::days(7)
        );
        let params = CustomerListParams {
            last_order_period: Some("30d".into()),
            ..CustomerListParams::default()
        };
        let query = params.validate(now(), Copenhagen).unwrap();
        assert_eq!(
            query.filter.last_order_since,
            Some(now() - Duration::days(30))
        );
    }
}
