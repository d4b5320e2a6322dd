//! Field-level validation errors.

use std::fmt;

/// One field that broke a rule. `field` is the API's (camelCase) name of the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The API (camelCase) name of the field, e.g. `email` or `items[1].quantity`.
    pub field: String,
    /// What the rule demands, for the API user, e.g. `must be at most 100 characters`.
    pub message: String,
}

/// Every field error found in one input; never empty when returned as an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error for one field.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records that `field` broke a rule, explained by `message`.
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

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, in the order they were found.
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

/// Characters that show nothing, or change how the text around them displays, and that no
/// stored text may hold (besides control characters): the soft hyphen, zero-width space, word
/// joiner and invisible operators, the byte-order mark, the bidirectional embeddings,
/// overrides and isolates, deprecated format characters, interlinear annotations and the tag
/// characters. Text that uses them looks like other text: a name that reads as another's, an
/// email that differs from its look-alike only in what cannot be seen.
///
/// Free text and names keep U+200C and U+200D (Persian and Indic scripts and emoji sequences
/// need them) and the direction marks U+200E, U+200F and U+061C (mixed-direction text needs
/// them); identifiers refuse those too ([`has_forbidden_identifier_chars`]).
pub const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200B}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{E0000}', '\u{E007F}'),
];

/// Joiners and direction marks: allowed in prose and names, not in identifiers.
pub const JOINERS_AND_MARKS: &[(char, char)] =
    &[('\u{061C}', '\u{061C}'), ('\u{200C}', '\u{200F}')];

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|(from, to)| (*from..=*to).contains(&c))
}

/// The one policy for every stored text: no control character (but line breaks and tabs
/// where `allow_newlines`), and nothing [`INVISIBLE`].
pub fn has_forbidden_controls(s: &str, allow_newlines: bool) -> bool {
    s.chars().any(|c| {
        let line_break = c == '\n' || c == '\r' || c == '\t';
        (c.is_control() && !(allow_newlines && line_break)) || in_ranges(c, INVISIBLE)
    })
}

/// The policy for identifiers (email addresses): one line, nothing invisible, and no joiner
/// or direction mark either.
pub fn has_forbidden_identifier_chars(s: &str) -> bool {
    has_forbidden_controls(s, false) || s.chars().any(|c| in_ranges(c, JOINERS_AND_MARKS))
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
    fn invisible_and_tag_characters_are_refused_everywhere() {
        for hidden in [
            "Ma\u{200B}ria",
            "Maria\u{2060}",
            "\u{FEFF}Maria",
            "Ma\u{00AD}ria",
            "Maria\u{E0041}\u{E007F}",
            "Maria\u{206A}",
        ] {
            assert!(has_forbidden_controls(hidden, true), "{hidden:?}");
            assert!(has_forbidden_identifier_chars(hidden), "{hidden:?}");
        }
    }

    #[test]
    fn joiners_and_marks_are_for_prose_not_identifiers() {
        for prose in [
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0645}",
            "\u{1F469}\u{200D}\u{1F373}",
            "abc\u{200E}",
        ] {
            assert!(!has_forbidden_controls(prose, false), "{prose:?}");
            assert!(has_forbidden_identifier_chars(prose), "{prose:?}");
        }
        assert!(!has_forbidden_identifier_chars("maria@example.dk"));
        assert!(!has_forbidden_identifier_chars("søren@eksempel.dk"));
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
