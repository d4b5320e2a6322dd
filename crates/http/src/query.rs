//! Strict query strings: known parameters only, each at most once, typed values checked.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use actix_web::web;
use customers_domain::page::PageRequest;
use customers_domain::validation::ValidationErrors;

use crate::error::ApiError;

/// The parameters of one request, checked against the names an endpoint knows.
#[derive(Debug, Default)]
pub struct QueryParams {
    values: HashMap<String, String>,
    errors: ValidationErrors,
}

impl QueryParams {
    pub fn parse(query_string: &str, known: &[&str]) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
            .map_err(|_| ApiError::invalid_field("query", "is not a valid query string"))?
            .into_inner();
        let mut errors = ValidationErrors::new();
        let mut values = HashMap::new();
        for (name, value) in pairs {
            if !known.contains(&name.as_str()) {
                errors.add(name, "is not a known query parameter");
                continue;
            }
            if value.contains('\0') {
                errors.add(name, crate::body::NUL_MESSAGE);
                continue;
            }
            match values.entry(name) {
                Entry::Occupied(entry) => {
                    errors.add(entry.key().clone(), "must be given at most once")
                }
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        if errors.is_empty() {
            Ok(Self {
                values,
                errors: ValidationErrors::new(),
            })
        } else {
            Err(ApiError::validation(&errors))
        }
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// A whole number, or a recorded error.
    pub fn integer(&mut self, name: &str) -> Option<i64> {
        let value = self.values.get(name)?;
        match value.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.add(name, "must be a whole number");
                None
            }
        }
    }

    /// `true` or `false`, or a recorded error.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.values.get(name)?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.errors.add(name, "must be true or false");
                None
            }
        }
    }

    /// The typed values, or every type error found while reading them.
    pub fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::validation(&self.errors))
        }
    }
}

/// `page` and `limit` of a list that takes no other parameter.
pub fn page_only(query_string: &str) -> Result<PageRequest, ApiError> {
    let mut query = QueryParams::parse(query_string, &["page", "limit"])?;
    let (page, limit) = (query.integer("page"), query.integer("limit"));
    query.finish(())?;
    PageRequest::new(page, limit).map_err(|e| ApiError::validation(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown_and_repeated_parameters() {
        let error = QueryParams::parse("page=1&page=2&color=red", &["page"]).unwrap_err();
        let fields: Vec<_> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["page", "color"]);
    }

    #[test]
    fn types_values_and_collects_errors() {
        let mut params =
            QueryParams::parse("page=x&isBlocked=yes&q=a%25b", &["page", "isBlocked", "q"])
                .unwrap();
        assert_eq!(params.text("q").as_deref(), Some("a%b"));
        assert_eq!(params.integer("page"), None);
        assert_eq!(params.boolean("isBlocked"), None);
        let error = params.finish(()).unwrap_err();
        assert_eq!(error.details.len(), 2);
    }

    #[test]
    fn refuses_nul_characters() {
        let error = QueryParams::parse("q=a%00b", &["q"]).unwrap_err();
        assert_eq!(error.details[0].field, "q");
    }

    #[test]
    fn absent_parameters_are_none() {
        let mut params = QueryParams::parse("", &["page"]).unwrap();
        assert_eq!(params.integer("page"), None);
        assert!(params.finish(()).is_ok());
    }
}
