//! Field-level validation errors.

use std::fmt;

/// One field that broke a rule. `field` is the API's (camelCase) name of the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every field error found in one input; never empty when returned as an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Runs a parse, keeping the value or recording the error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when no error was recorded.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Number of characters (Unicode scalar values), the unit every length rule counts in.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Refuses control characters (other than ordinary whitespace in free text), and the
/// bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
/// which make stored text display as something else. The plain marks U+200E and U+200F,
/// which mixed-direction text needs, are allowed.
pub fn has_forbidden_controls(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| {
        let line_break = c == '\n' || c == '\r' || c == '\t';
        (c.is_control() && !(allow_newlines && line_break)) || is_bidi_control(c)
    })
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_are_controls_but_direction_marks_are_not() {
        assert!(has_forbidden_controls("\u{202E}nesleiN", true));
        assert!(has_forbidden_controls("a\u{2066}b", false));
        assert!(!has_forbidden_controls("שלום\u{200F} Maria", false));
        assert!(has_forbidden_controls("a\nb", false));
        assert!(!has_forbidden_controls("a\nb\tc", true));
        assert!(has_forbidden_controls("a\u{7}b", true));
    }

    #[test]
    fn collects_every_error() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check::<u8>("a", Err("bad".into())), None);
        assert_eq!(errors.check("b", Ok(3)), Some(3));
        errors.add("c", "also bad");
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["a", "c"]);
        assert!(errors.into_result(|| ()).is_err());
    }

    #[test]
    fn empty_errors_give_the_value() {
        assert_eq!(ValidationErrors::new().into_result(|| 7), Ok(7));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(char_len("Søren"), 5);
        assert!(has_forbidden_controls("a\u{0}b", true));
        assert!(!has_forbidden_controls("a\nb", true));
        assert!(has_forbidden_controls("a\nb", false));
    }
}
