//! Pagination shared by every list.

use crate::validation::ValidationErrors;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most rows a page may hold.
pub const MAX_LIMIT: u32 = 100;
/// The highest page number: its rows' offset must fit 32 bits at the largest `limit`.
pub const MAX_PAGE: u32 = u32::MAX / MAX_LIMIT;

/// A validated page request: `page` ≥ 1, `limit` 1–100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    /// Checks `page` (1–[`MAX_PAGE`], default 1) and `limit` (1–[`MAX_LIMIT`], default
    /// [`DEFAULT_LIMIT`]), reporting both when both are wrong.
    pub fn new(page: Option<i64>, limit: Option<i64>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = page.unwrap_or(1);
        let limit = limit.unwrap_or(i64::from(DEFAULT_LIMIT));
        if !(1..=i64::from(MAX_PAGE)).contains(&page) {
            errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
        }
        if !(1..=i64::from(MAX_LIMIT)).contains(&limit) {
            errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        errors.into_result(|| Self {
            page: page as u32,
            limit: limit as u32,
        })
    }

    /// Page 1 with the default limit.
    pub fn first() -> Self {
        Self {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Page 1 of `limit` rows (at most [`MAX_LIMIT`]).
    pub fn first_of(limit: u32) -> Self {
        Self {
            page: 1,
            limit: limit.clamp(1, MAX_LIMIT),
        }
    }

    /// The page number, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The most rows the page holds.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Rows to skip before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }
}

/// One page of a list, with the exact total of matching rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's rows, at most `request.limit()`; empty past the last page.
    pub items: Vec<T>,
    /// How many rows match in all, over every page.
    pub total: u64,
    /// The page that was asked for.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// `ceil(total / limit)`, 0 when there is nothing.
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.request.limit()))
    }

    /// The same page with every row converted by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_first_page_of_twenty() {
        let request = PageRequest::new(None, None).unwrap();
        assert_eq!(
            (request.page(), request.limit(), request.offset()),
            (1, 20, 0)
        );
    }

    #[test]
    fn refuses_out_of_range_values() {
        let errors = PageRequest::new(Some(0), Some(101)).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["page", "limit"]);
        assert!(PageRequest::new(Some(1), Some(0)).is_err());
        assert!(PageRequest::new(Some(-3), None).is_err());
    }

    #[test]
    fn a_page_past_the_maximum_is_told_the_range() {
        assert!(PageRequest::new(Some(i64::from(MAX_PAGE)), Some(100)).is_ok());
        let errors = PageRequest::new(Some(i64::from(MAX_PAGE) + 1), None).unwrap_err();
        assert_eq!(
            errors.fields()[0].message,
            format!("must be between 1 and {MAX_PAGE}")
        );
    }

    #[test]
    fn offset_and_total_pages() {
        let request = PageRequest::new(Some(3), Some(10)).unwrap();
        assert_eq!(request.offset(), 20);
        let page = Page {
            items: vec![1],
            total: 21,
            request,
        };
        assert_eq!(page.total_pages(), 3);
        let empty: Page<u8> = Page {
            items: vec![],
            total: 0,
            request,
        };
        assert_eq!(empty.total_pages(), 0);
    }
}
