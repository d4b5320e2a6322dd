//! Keyset lists: pages that start after (or end before) a row rather than at an offset, so
//! that the thousandth page costs what the first does, and totals that may stop counting.
//!
//! A list in keyset mode is walked with opaque cursors. A cursor names one row's place in
//! the list's order (its sort value and its id) and is bound to the list's sort and filters:
//! a cursor of another list, or of the same list sorted or filtered otherwise, is refused.
//! Rows created or erased between two requests never make a page repeat or skip a row that
//! was there all along, because a page starts from a row's sort value, not from a count.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use crate::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::validation::ValidationErrors;

/// Where `total=bounded` stops counting.
pub const TOTAL_BOUND: u64 = 10_000;

/// The longest cursor accepted, in bytes (a cursor holds a sort value of at most a few hundred
/// bytes, an id and a checksum).
pub const MAX_CURSOR_LEN: usize = 1_024;

/// How a list counts its matches: the `total` parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TotalMode {
    /// Every match is counted (`exact`, the default of page numbers).
    Exact,
    /// Counted up to a bound (`bounded`: [`TOTAL_BOUND`]).
    Bounded(u64),
    /// Not counted (`none`, the default of cursors).
    #[default]
    None,
}

impl TotalMode {
    /// Reads `exact`, `bounded` or `none`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Self::Exact),
            "bounded" => Ok(Self::Bounded(TOTAL_BOUND)),
            "none" => Ok(Self::None),
            _ => Err("must be exact, bounded or none".into()),
        }
    }

    /// The most a count needs to find: `None` for every match, one past the bound for
    /// `bounded` (to tell "exactly the bound" from "more").
    pub fn count_limit(self) -> Option<u64> {
        match self {
            Self::Bounded(bound) => Some(bound.saturating_add(1)),
            Self::Exact | Self::None => None,
        }
    }
}

/// A list's number of matches, as far as it was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// Exactly this many (`totalRelation: "eq"`).
    Exact(u64),
    /// At least this many (`totalRelation: "gte"`): the count stopped at the bound.
    AtLeast(u64),
}

impl Total {
    /// The total from a count that found `found` matches, having stopped at `limit` (see
    /// [`TotalMode::count_limit`]).
    pub fn counted(found: u64, limit: Option<u64>) -> Self {
        match limit {
            Some(limit) if found >= limit => Self::AtLeast(limit - 1),
            _ => Self::Exact(found),
        }
    }

    /// The number shown as `total`.
    pub fn value(self) -> u64 {
        match self {
            Self::Exact(n) | Self::AtLeast(n) => n,
        }
    }

    /// `"eq"` or `"gte"`, the `totalRelation` shown with it.
    pub fn relation(self) -> &'static str {
        match self {
            Self::Exact(_) => "eq",
            Self::AtLeast(_) => "gte",
        }
    }
}

/// The value a row sorts by, as a cursor holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    /// The row has none (it sorts after every row that has one, in both directions).
    Null,
    /// A whole number.
    Int(i64),
    /// An instant.
    Time(DateTime<Utc>),
    /// Text, compared byte-wise.
    Text(String),
}

impl SortValue {
    /// `Null` for `None`.
    pub fn or_null<T>(value: Option<T>, f: impl FnOnce(T) -> Self) -> Self {
        value.map_or(Self::Null, f)
    }
}

/// A row's place in a list's order: its sort value, then its id (which breaks ties in the
/// same direction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The sort value.
    pub value: SortValue,
    /// The row's id.
    pub id: String,
}

impl Position {
    /// How `self` and `other` compare in a list's order, `descending` or not: by sort value
    /// (rows without one last in both directions), then by id in the same direction. Values
    /// of different kinds never share a list; they compare as equal.
    pub fn order(&self, other: &Position, descending: bool) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let directed = |ordering: Ordering| {
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        };
        let values = match (&self.value, &other.value) {
            (SortValue::Null, SortValue::Null) => Ordering::Equal,
            (SortValue::Null, _) => Ordering::Greater,
            (_, SortValue::Null) => Ordering::Less,
            (SortValue::Int(a), SortValue::Int(b)) => directed(a.cmp(b)),
            (SortValue::Time(a), SortValue::Time(b)) => directed(a.cmp(b)),
            (SortValue::Text(a), SortValue::Text(b)) => directed(a.as_bytes().cmp(b.as_bytes())),
            _ => Ordering::Equal,
        };
        values.then_with(|| directed(self.id.as_bytes().cmp(other.id.as_bytes())))
    }
}

impl Position {
    /// A row's place in a list read newest first: its creation instant, then its id.
    pub fn newest(at: DateTime<Utc>, id: &str) -> Self {
        Self {
            value: SortValue::Time(at),
            id: id.to_owned(),
        }
    }

    /// Whether this can be a place in a list read newest first whose ids `id_fits` accepts.
    pub fn fits_newest(&self, id_fits: impl Fn(&str) -> bool) -> bool {
        matches!(self.value, SortValue::Time(_)) && id_fits(&self.id)
    }
}

/// A validated request of a list read newest first (by creation, then id): its filter, how
/// it pages and counts, and what its cursors are bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRequest<F> {
    /// Which rows.
    pub filter: F,
    /// By page number or by cursor.
    pub paging: Paging,
    /// How the matches are counted ([`TotalMode::Exact`] with page numbers).
    pub total: TotalMode,
    /// The binding of the list's cursors.
    pub binding: Binding,
}

/// Which way a keyset page goes from its cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Travel {
    /// `after`: the rows that follow, in the list's order.
    Forward,
    /// `before`: the rows that precede; read in reverse order, shown in the list's order.
    Backward,
}

/// A keyset page request: which way, from where (`None`: from the start going forward, from
/// the end going backward) and how many rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seek {
    /// Which way.
    pub travel: Travel,
    /// The row the page starts after (forward) or ends before (backward), not included.
    pub from: Option<Position>,
    /// The most rows the page holds.
    pub limit: u32,
}

impl Seek {
    /// How many rows to read, in travel order: one more than the page holds, to learn whether
    /// there are more.
    pub fn take(&self) -> u32 {
        self.limit + 1
    }
}

/// A list's sort and filters, as a number that cursors carry: a cursor is accepted only by
/// a list with the same binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding(u32);

impl Binding {
    /// The binding of a list described by `canonical` (the list's name, its sort and its
    /// filters, each in one fixed spelling).
    pub fn of(canonical: &str) -> Self {
        Self(crc32fast::hash(canonical.as_bytes()))
    }
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the ends of a cursor's instants.
const MIN_INSTANT: i64 = -62_135_596_800;
const MAX_INSTANT: i64 = 253_402_300_799;

/// The message of a refused cursor.
pub const NOT_A_CURSOR: &str = "is not a cursor of this list (its sort or filters differ)";

/// Encodes a position as a cursor of the list `binding` describes.
pub fn encode(binding: Binding, position: &Position) -> String {
    let (kind, value) = match &position.value {
        SortValue::Null => ('n', String::new()),
        SortValue::Int(n) => ('i', n.to_string()),
        SortValue::Time(t) => (
            't',
            format!("{}.{:09}", t.timestamp(), t.timestamp_subsec_nanos()),
        ),
        SortValue::Text(s) => ('s', s.clone()),
    };
    let plain = format!("1|{:08x}|{kind}|{}|{value}", binding.0, position.id);
    URL_SAFE_NO_PAD.encode(plain)
}

/// The position a cursor of the list `binding` describes names; `None` for anything else
/// (not a cursor, or one of another list).
pub fn decode(binding: Binding, cursor: &str) -> Option<Position> {
    if cursor.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let plain = String::from_utf8(bytes).ok()?;
    let mut parts = plain.splitn(5, '|');
    let (version, bound, kind, id, value) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if version != "1" || u32::from_str_radix(bound, 16).ok() != Some(binding.0) || id.is_empty() {
        return None;
    }
    let value = match kind {
        "n" if value.is_empty() => SortValue::Null,
        "i" => SortValue::Int(value.parse().ok()?),
        "t" => {
            let (seconds, nanos) = value.split_once('.')?;
            if nanos.len() != 9 {
                return None;
            }
            let at = DateTime::from_timestamp(seconds.parse().ok()?, nanos.parse().ok()?)?;
            // Every instant the service stores lies in years 1–9999; beyond them lie values
            // some databases cannot hold.
            if !(MIN_INSTANT..=MAX_INSTANT).contains(&at.timestamp()) {
                return None;
            }
            SortValue::Time(at)
        }
        // No stored text holds U+0000, and PostgreSQL refuses it in a parameter.
        "s" if !value.contains('\0') => SortValue::Text(value.to_owned()),
        _ => return None,
    };
    Some(Position {
        value,
        id: id.to_owned(),
    })
}

/// How a list request pages: by page number, or by cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `page` (with an exact total).
    Numbered(crate::page::PageRequest),
    /// `after` or `before`.
    Keyset(Seek),
}

/// A list's `page`, `limit`, `after`, `before` and `total` as they arrive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PagingParams {
    /// `page`, from 1.
    pub page: Option<i64>,
    /// `limit`, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `after`: a cursor, or empty for the first page.
    pub after: Option<String>,
    /// `before`: a cursor, or empty for the last page.
    pub before: Option<String>,
    /// `total`: `exact`, `bounded` or `none`.
    pub total: Option<String>,
}

impl PagingParams {
    /// Checks the paging parameters of a list whose cursors `binding` accepts, `accepts`
    /// telling which positions can be in it (the sort value's kind, the id's form). Errors are
    /// added to `errors`; page 1 comes back when there are some.
    ///
    /// Page numbers count exactly: `total` other than `exact` needs a cursor. `page` and a
    /// cursor, or both cursors, are refused together.
    pub fn validate(
        &self,
        binding: Binding,
        accepts: impl Fn(&Position) -> bool,
        errors: &mut ValidationErrors,
    ) -> (Paging, TotalMode) {
        let page = crate::page::PageRequest::new(self.page, self.limit);
        let limit = match &page {
            Ok(page) => page.limit(),
            Err(page_errors) => {
                for e in page_errors.fields() {
                    errors.add(e.field.clone(), e.message.clone());
                }
                DEFAULT_LIMIT.min(MAX_LIMIT)
            }
        };
        let total = self
            .total
            .as_deref()
            .and_then(|s| errors.check("total", TotalMode::parse(s)));
        let cursor = match (&self.after, &self.before) {
            (Some(_), Some(_)) => {
                errors.add("before", "cannot be given with after");
                None
            }
            (Some(after), None) => Some(("after", Travel::Forward, after)),
            (None, Some(before)) => Some(("before", Travel::Backward, before)),
            (None, None) => None,
        };
        match cursor {
            None => {
                if total.is_some_and(|t| t != TotalMode::Exact) {
                    errors.add(
                        "total",
                        "page numbers count exactly: use after or before for a bounded or no total",
                    );
                }
                let page = page.unwrap_or_else(|_| crate::page::PageRequest::first());
                (Paging::Numbered(page), TotalMode::Exact)
            }
            Some((name, travel, cursor)) => {
                if self.page.is_some() {
                    errors.add("page", format!("cannot be given with {name}"));
                }
                let from = if cursor.is_empty() {
                    None
                } else {
                    match decode(binding, cursor).filter(|p| accepts(p)) {
                        Some(position) => Some(position),
                        None => {
                            errors.add(name, NOT_A_CURSOR);
                            None
                        }
                    }
                };
                let seek = Seek {
                    travel,
                    from,
                    limit,
                };
                (Paging::Keyset(seek), total.unwrap_or_default())
            }
        }
    }
}

/// One keyset page: its rows in the list's order, whether more follow in the direction
/// travelled, cursors to the pages on either side, and the total if it was counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice<T> {
    /// The rows, at most `limit`.
    pub items: Vec<T>,
    /// The most rows the page holds.
    pub limit: u32,
    /// Whether more rows come after this page in the direction travelled (after the last row
    /// going forward, before the first going backward).
    pub has_more: bool,
    /// `after` this for the rows that follow; `None` when none do.
    pub next: Option<String>,
    /// `before` this for the rows that precede; `None` at the start of the list.
    pub prev: Option<String>,
    /// The number of matches, unless `total=none`.
    pub total: Option<Total>,
}

impl<T> Slice<T> {
    /// The page made of `rows`, read in travel order (at most [`Seek::take`] of them), with
    /// cursors made by `position` of the list `binding` describes.
    pub fn from_rows(
        mut rows: Vec<T>,
        seek: &Seek,
        binding: Binding,
        position: impl Fn(&T) -> Position,
        total: Option<Total>,
    ) -> Self {
        let limit = seek.limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let cursor = |row: Option<&T>| row.map(|row| encode(binding, &position(row)));
        let (next, prev) = match seek.travel {
            Travel::Forward => {
                let next = if has_more { cursor(rows.last()) } else { None };
                let prev = seek.from.as_ref().and_then(|_| cursor(rows.first()));
                (next, prev)
            }
            Travel::Backward => {
                rows.reverse();
                let prev = if has_more { cursor(rows.first()) } else { None };
                let next = seek.from.as_ref().and_then(|_| cursor(rows.last()));
                (next, prev)
            }
        };
        Slice {
            items: rows,
            limit: seek.limit,
            has_more,
            next,
            prev,
            total,
        }
    }

    /// The same page with every row converted by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Slice<U> {
        Slice {
            items: self.items.into_iter().map(f).collect(),
            limit: self.limit,
            has_more: self.has_more,
            next: self.next,
            prev: self.prev,
            total: self.total,
        }
    }
}

/// A list answered either by page number or by cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing<T> {
    /// `page` mode, with its exact total.
    Page(crate::page::Page<T>),
    /// Cursor mode.
    Slice(Slice<T>),
}

impl<T> Listing<T> {
    /// The rows, in the list's order.
    pub fn items(&self) -> &[T] {
        match self {
            Self::Page(page) => &page.items,
            Self::Slice(slice) => &slice.items,
        }
    }

    /// The page, if the list was read by page number.
    pub fn into_page(self) -> Option<crate::page::Page<T>> {
        match self {
            Self::Page(page) => Some(page),
            Self::Slice(_) => None,
        }
    }

    /// The slice, if the list was read by cursor.
    pub fn into_slice(self) -> Option<Slice<T>> {
        match self {
            Self::Slice(slice) => Some(slice),
            Self::Page(_) => None,
        }
    }
}

/// The rows of an ordered list (`ordered`, already filtered and in the list's order) that a
/// keyset page reads, in travel order: for adapters that hold every row at hand.
/// `position` gives each row's place; `precedes(a, b)` whether position `a` comes before `b`
/// in the list's order.
pub fn seek_in<T: Clone>(
    ordered: &[T],
    seek: &Seek,
    position: impl Fn(&T) -> Position,
    precedes: impl Fn(&Position, &Position) -> bool,
) -> Vec<T> {
    let take = seek.take() as usize;
    match (seek.travel, &seek.from) {
        (Travel::Forward, None) => ordered.iter().take(take).cloned().collect(),
        (Travel::Forward, Some(from)) => ordered
            .iter()
            .filter(|row| precedes(from, &position(row)))
            .take(take)
            .cloned()
            .collect(),
        (Travel::Backward, None) => ordered.iter().rev().take(take).cloned().collect(),
        (Travel::Backward, Some(from)) => ordered
            .iter()
            .rev()
            .filter(|row| precedes(&position(row), from))
            .take(take)
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: i64, id: &str) -> Position {
        Position {
            value: SortValue::Int(n),
            id: id.into(),
        }
    }

    fn binding() -> Binding {
        Binding::of("test|createdAt|desc")
    }

    #[test]
    fn a_cursor_names_its_position_to_its_own_list_only() {
        let values = [
            SortValue::Null,
            SortValue::Int(-42),
            SortValue::Time("2026-03-01T10:00:00.123456789Z".parse().unwrap()),
            SortValue::Text("åse | bo".into()),
        ];
        for value in values {
            let position = Position {
                value,
                id: "cust_1".into(),
            };
            let cursor = encode(binding(), &position);
            assert!(
                cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(decode(binding(), &cursor), Some(position));
            assert_eq!(decode(Binding::of("test|createdAt|asc"), &cursor), None);
        }
    }

    #[test]
    fn anything_else_is_not_a_cursor() {
        let forged = |plain: &str| URL_SAFE_NO_PAD.encode(plain);
        let bound = format!("{:08x}", binding().0);
        for text in [
            String::new(),
            "not base64!".into(),
            forged("garbage"),
            forged(&format!("2|{bound}|i|cust_1|5")),
            forged(&format!("1|{bound}|i||5")),
            forged(&format!("1|{bound}|i|cust_1|five")),
            forged(&format!("1|{bound}|n|cust_1|5")),
            forged(&format!("1|{bound}|x|cust_1|5")),
            forged(&format!("1|{bound}|t|cust_1|{}.000000000", i64::MAX)),
            forged(&format!("1|{bound}|t|cust_1|5.5")),
            forged(&format!("1|{bound}|t|cust_1|{}.000000000", MIN_INSTANT - 1)),
            forged(&format!("1|{bound}|t|cust_1|{}.000000000", MAX_INSTANT + 1)),
            forged(&format!("1|{bound}|s|cust_1|a\0b")),
            "A".repeat(MAX_CURSOR_LEN + 1),
        ] {
            assert_eq!(decode(binding(), &text), None, "{text}");
        }
        assert!(decode(binding(), &forged(&format!("1|{bound}|i|cust_1|5"))).is_some());
        for edge in [MIN_INSTANT, MAX_INSTANT] {
            let cursor = forged(&format!("1|{bound}|t|cust_1|{edge}.000000000"));
            assert!(decode(binding(), &cursor).is_some(), "{edge}");
        }
    }

    #[test]
    fn bounded_totals_say_when_they_stopped() {
        let limit = TotalMode::Bounded(TOTAL_BOUND).count_limit();
        assert_eq!(Total::counted(10_000, limit), Total::Exact(10_000));
        assert_eq!(Total::counted(10_001, limit), Total::AtLeast(10_000));
        assert_eq!(Total::counted(10_001, limit).relation(), "gte");
        assert_eq!(Total::counted(1_000_000, None), Total::Exact(1_000_000));
        assert_eq!(Total::counted(3, limit).relation(), "eq");
    }

    fn params(after: Option<&str>, before: Option<&str>) -> PagingParams {
        PagingParams {
            after: after.map(Into::into),
            before: before.map(Into::into),
            ..PagingParams::default()
        }
    }

    fn validate(params: &PagingParams) -> Result<(Paging, TotalMode), Vec<String>> {
        let mut errors = ValidationErrors::new();
        let found = params.validate(binding(), |p| p.id.starts_with("cust_"), &mut errors);
        if errors.is_empty() {
            Ok(found)
        } else {
            Err(errors.fields().iter().map(|e| e.field.clone()).collect())
        }
    }

    #[test]
    fn page_numbers_are_the_default_and_count_exactly() {
        let (paging, total) = validate(&PagingParams::default()).unwrap();
        assert_eq!(paging, Paging::Numbered(crate::page::PageRequest::first()));
        assert_eq!(total, TotalMode::Exact);
        let bounded = PagingParams {
            total: Some("bounded".into()),
            ..PagingParams::default()
        };
        assert_eq!(validate(&bounded).unwrap_err(), ["total"]);
    }

    #[test]
    fn an_empty_cursor_starts_at_either_end() {
        let (paging, total) = validate(&params(Some(""), None)).unwrap();
        assert_eq!(
            paging,
            Paging::Keyset(Seek {
                travel: Travel::Forward,
                from: None,
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(total, TotalMode::None);
        let (paging, _) = validate(&params(None, Some(""))).unwrap();
        assert!(matches!(
            paging,
            Paging::Keyset(Seek {
                travel: Travel::Backward,
                from: None,
                ..
            })
        ));
    }

    #[test]
    fn cursors_conflict_with_each_other_and_with_page() {
        assert_eq!(
            validate(&params(Some(""), Some(""))).unwrap_err(),
            ["before"]
        );
        let both = PagingParams {
            page: Some(2),
            after: Some(String::new()),
            ..PagingParams::default()
        };
        assert_eq!(validate(&both).unwrap_err(), ["page"]);
    }

    #[test]
    fn a_cursor_of_another_list_or_an_unfit_position_is_refused() {
        let other = encode(Binding::of("other"), &at(1, "cust_1"));
        assert_eq!(
            validate(&params(Some(&other), None)).unwrap_err(),
            ["after"]
        );
        let unfit = encode(binding(), &at(1, "rev_1"));
        assert_eq!(
            validate(&params(None, Some(&unfit))).unwrap_err(),
            ["before"]
        );
        let fit = encode(binding(), &at(1, "cust_1"));
        let (paging, _) = validate(&params(Some(&fit), None)).unwrap();
        assert!(matches!(paging, Paging::Keyset(Seek { from: Some(_), .. })));
    }

    /// The list 1..=7 by value, ids "cust_<n>".
    fn numbers() -> Vec<i64> {
        (1..=7).collect()
    }

    fn position(n: &i64) -> Position {
        at(*n, &format!("cust_{n}"))
    }

    fn precedes(a: &Position, b: &Position) -> bool {
        match (&a.value, &b.value) {
            (SortValue::Int(x), SortValue::Int(y)) => x < y,
            _ => false,
        }
    }

    fn page(travel: Travel, from: Option<i64>, limit: u32) -> Slice<i64> {
        let seek = Seek {
            travel,
            from: from.map(|n| position(&n)),
            limit,
        };
        let rows = seek_in(&numbers(), &seek, position, precedes);
        Slice::from_rows(rows, &seek, binding(), position, None)
    }

    fn cursor_of(n: i64) -> Option<String> {
        Some(encode(binding(), &position(&n)))
    }

    #[test]
    fn forward_pages_walk_the_list_once() {
        let first = page(Travel::Forward, None, 3);
        assert_eq!(first.items, [1, 2, 3]);
        assert!(first.has_more);
        assert_eq!(
            (first.next.clone(), first.prev.clone()),
            (cursor_of(3), None)
        );
        let second = page(Travel::Forward, Some(3), 3);
        assert_eq!(second.items, [4, 5, 6]);
        assert_eq!(
            (second.next.clone(), second.prev.clone()),
            (cursor_of(6), cursor_of(4))
        );
        let last = page(Travel::Forward, Some(6), 3);
        assert_eq!(last.items, [7]);
        assert!(!last.has_more);
        assert_eq!((last.next, last.prev), (None, cursor_of(7)));
    }

    #[test]
    fn backward_pages_come_in_the_lists_order() {
        let last = page(Travel::Backward, None, 3);
        assert_eq!(last.items, [5, 6, 7]);
        assert!(last.has_more);
        assert_eq!((last.next.clone(), last.prev.clone()), (None, cursor_of(5)));
        let before = page(Travel::Backward, Some(5), 3);
        assert_eq!(before.items, [2, 3, 4]);
        assert_eq!((before.next, before.prev), (cursor_of(4), cursor_of(2)));
        let first = page(Travel::Backward, Some(2), 3);
        assert_eq!(first.items, [1]);
        assert!(!first.has_more);
        assert_eq!(first.prev, None);
    }
}
