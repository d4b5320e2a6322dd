//! The value types of a customer profile. Each constructor enforces docs/api.md §4 and returns
//! the message shown to the API user when it does not hold.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::validation::{char_len, has_forbidden_controls, has_forbidden_identifier_chars};

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The value as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from storage, where it was written validated.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The value of a plain profile field (see [`plain_profile_fields!`](crate::plain_profile_fields)):
/// how the API's text becomes the value. [`fmt::Display`] writes it back as the API shows it.
pub trait ProfileValue: Clone + fmt::Debug + PartialEq + Eq + fmt::Display + Sized {
    /// Validates the API's text against docs/api.md §4; `Ok(None)` when the text means "no
    /// value" (a blank name). The error is the message for the field.
    fn parse_input(text: &str, today: NaiveDate) -> Result<Option<Self>, String>;
}

impl ProfileValue for PersonName {
    fn parse_input(text: &str, _today: NaiveDate) -> Result<Option<Self>, String> {
        Self::parse(text)
    }
}

impl ProfileValue for Email {
    fn parse_input(text: &str, _today: NaiveDate) -> Result<Option<Self>, String> {
        Self::parse(text).map(Some)
    }
}

impl ProfileValue for Phone {
    fn parse_input(text: &str, _today: NaiveDate) -> Result<Option<Self>, String> {
        Self::parse(text).map(Some)
    }
}

impl ProfileValue for AdminNotes {
    fn parse_input(text: &str, _today: NaiveDate) -> Result<Option<Self>, String> {
        Self::parse(text)
    }
}

impl ProfileValue for BirthDate {
    fn parse_input(text: &str, today: NaiveDate) -> Result<Option<Self>, String> {
        Self::parse(text, today).map(Some)
    }
}

/// Trims, then checks length and control characters of a one-line text.
/// An empty (or all-blank) text is `None`: it means "no value".
fn one_line(s: &str, max: usize) -> Result<Option<String>, String> {
    let trimmed = s.trim();
    if has_forbidden_controls(trimmed, false) {
        return Err("must not contain control or invisible characters".into());
    }
    if char_len(trimmed) > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

text_value!(
    /// A first or last name: trimmed, 1–100 characters, one line.
    PersonName);

impl PersonName {
    /// Longest name, in characters.
    pub const MAX: usize = 100;

    /// `Ok(None)` for an empty or blank name.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        one_line(s, Self::MAX).map(|v| v.map(Self))
    }
}

text_value!(
    /// An email address as the customer wrote it (trimmed); compared case-insensitively.
    Email);

impl Email {
    /// Longest email address, in characters.
    pub const MAX: usize = 254;

    /// Trims and checks the address; the error is the message for the field.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        const INVALID: &str = "must be a valid email address";
        if has_forbidden_identifier_chars(s) {
            return Err("must not contain control, invisible or direction characters".into());
        }
        if s.is_empty() || char_len(s) > Self::MAX {
            return Err(if s.is_empty() {
                INVALID.into()
            } else {
                format!("must be at most {} characters", Self::MAX)
            });
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(INVALID.into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || "!#$%&'*+/=?^_`{|}~.-".contains(c)
                    || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
            });
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| {
                        c.is_ascii_alphanumeric()
                            || c == '-'
                            || (!c.is_ascii() && c.is_alphanumeric())
                    })
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().all(|c| !c.is_ascii_digit()));
        if local_ok && domain_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(INVALID.into())
        }
    }

    /// The form uniqueness is decided on: lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

text_value!(
    /// A phone number in E.164: `+`, a non-zero digit, then 1–14 more digits.
    Phone);

impl Phone {
    /// Fewest digits after the `+`.
    pub const MIN_DIGITS: usize = 2;
    /// Most digits after the `+` (E.164).
    pub const MAX_DIGITS: usize = 15;

    /// Accepts only E.164, e.g. `+4520123456`; the error is the message for the field.
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = s.strip_prefix('+').unwrap_or("");
        let ok = (Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be in E.164 format, e.g. +4520123456".into())
        }
    }
}

text_value!(
    /// A BCP 47 language tag (`da-DK`, `en`, `zh-Hant-TW`), kept in canonical case.
    Locale);

impl Locale {
    /// Longest tag accepted, in bytes.
    pub const MAX: usize = 35;

    /// Checks the tag and puts it in canonical case (`DA-dk` becomes `da-DK`).
    pub fn parse(s: &str) -> Result<Self, String> {
        const INVALID: &str = "must be a BCP 47 language tag such as da-DK";
        if s.is_empty() || s.len() > Self::MAX {
            return Err(INVALID.into());
        }
        let mut parts = s.split('-');
        let language = parts.next().unwrap_or("");
        if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(INVALID.into());
        }
        let mut canonical = language.to_ascii_lowercase();
        let mut seen_script = false;
        let mut seen_region = false;
        for part in parts {
            let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
            let digits = part.bytes().all(|b| b.is_ascii_digit());
            canonical.push('-');
            if part.len() == 4 && alpha && !seen_script && !seen_region {
                seen_script = true;
                let mut chars = part.chars();
                canonical.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                canonical.push_str(&chars.as_str().to_ascii_lowercase());
            } else if ((part.len() == 2 && alpha) || (part.len() == 3 && digits)) && !seen_region {
                seen_region = true;
                canonical.push_str(&part.to_ascii_uppercase());
            } else if (5..=8).contains(&part.len())
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
                || (part.len() == 4
                    && part.as_bytes()[0].is_ascii_digit()
                    && part.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                seen_region = true;
                canonical.push_str(&part.to_ascii_lowercase());
            } else {
                return Err(INVALID.into());
            }
        }
        Ok(Self(canonical))
    }

    /// `da-DK`, the locale of a customer who gave none.
    pub fn default_locale() -> Self {
        Self("da-DK".into())
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self::default_locale()
    }
}

text_value!(
    /// Internal notes about a customer, never shown to them: at most 5000 characters.
    AdminNotes);

impl AdminNotes {
    /// Longest note, in characters.
    pub const MAX: usize = 5000;

    /// `Ok(None)` for an empty text.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        if has_forbidden_controls(s, true) {
            return Err(
                "must not contain control characters other than line breaks and tabs, nor invisible ones".into(),
            );
        }
        if char_len(s) > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        Ok((!s.trim().is_empty()).then(|| Self(s.to_owned())))
    }
}

text_value!(
    /// The reason a customer was blocked: at most 500 characters.
    BlockReason);

impl BlockReason {
    /// Longest reason, in characters (after trimming).
    pub const MAX: usize = 500;

    /// Trims the reason; `Ok(None)` for an empty or blank one.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        if has_forbidden_controls(s, true) {
            return Err(
                "must not contain control characters other than line breaks and tabs, nor invisible ones".into(),
            );
        }
        if char_len(s.trim()) > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        Ok((!s.trim().is_empty()).then(|| Self(s.trim().to_owned())))
    }
}

/// One line of an address, a postal code or a city. Limits: line 200, zipcode 20, city 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressPart {
    /// The street line, at most 200 characters.
    Line,
    /// The postal code, at most 20 characters.
    Zipcode,
    /// The city, at most 100 characters.
    City,
}

impl AddressPart {
    /// Longest value of this part, in characters.
    pub fn max(self) -> usize {
        match self {
            Self::Line => 200,
            Self::Zipcode => 20,
            Self::City => 100,
        }
    }

    /// `Ok(None)` for an empty or blank value.
    pub fn parse(self, s: &str) -> Result<Option<String>, String> {
        one_line(s, self.max())
    }
}

/// A date of birth: a real date, year 1900 or later, not after today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// The earliest year of birth accepted.
    pub const MIN_YEAR: i32 = 1900;

    /// Accepts a strict `YYYY-MM-DD` date from [`Self::MIN_YEAR`] up to `today`.
    pub fn parse(s: &str, today: NaiveDate) -> Result<Self, String> {
        let strict = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        let date = strict
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| "must be a real date in the form YYYY-MM-DD".to_owned())?;
        if date.year() < Self::MIN_YEAR {
            return Err(format!("must be in {} or later", Self::MIN_YEAR));
        }
        if date > today {
            return Err("must not be in the future".into());
        }
        Ok(Self(date))
    }

    /// Wraps a date read back from storage, where it was written validated.
    pub fn from_stored(date: NaiveDate) -> Self {
        Self(date)
    }

    /// The date itself.
    pub fn date(&self) -> NaiveDate {
        self.0
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// The 14 allergens the EU requires restaurants to declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Allergen {
    /// `GLUTEN`: cereals containing gluten.
    Gluten,
    /// `CRUSTACEANS`.
    Crustaceans,
    /// `EGGS`.
    Eggs,
    /// `FISH`.
    Fish,
    /// `PEANUTS`.
    Peanuts,
    /// `SOY`.
    Soy,
    /// `DAIRY`: milk and milk products.
    Dairy,
    /// `NUTS`: tree nuts.
    Nuts,
    /// `CELERY`.
    Celery,
    /// `MUSTARD`.
    Mustard,
    /// `SESAME`.
    Sesame,
    /// `SULPHITES`: sulphur dioxide and sulphites.
    Sulphites,
    /// `LUPIN`.
    Lupin,
    /// `MOLLUSCS`.
    Molluscs,
}

impl Allergen {
    /// All 14, in the EU list's order (which is also the sort order).
    pub const ALL: [Allergen; 14] = [
        Self::Gluten,
        Self::Crustaceans,
        Self::Eggs,
        Self::Fish,
        Self::Peanuts,
        Self::Soy,
        Self::Dairy,
        Self::Nuts,
        Self::Celery,
        Self::Mustard,
        Self::Sesame,
        Self::Sulphites,
        Self::Lupin,
        Self::Molluscs,
    ];

    /// The API code, e.g. `GLUTEN`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Gluten => "GLUTEN",
            Self::Crustaceans => "CRUSTACEANS",
            Self::Eggs => "EGGS",
            Self::Fish => "FISH",
            Self::Peanuts => "PEANUTS",
            Self::Soy => "SOY",
            Self::Dairy => "DAIRY",
            Self::Nuts => "NUTS",
            Self::Celery => "CELERY",
            Self::Mustard => "MUSTARD",
            Self::Sesame => "SESAME",
            Self::Sulphites => "SULPHITES",
            Self::Lupin => "LUPIN",
            Self::Molluscs => "MOLLUSCS",
        }
    }
}

impl FromStr for Allergen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == s)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|a| a.code()).collect();
                format!("must be one of {}", codes.join(", "))
            })
    }
}

impl fmt::Display for Allergen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A customer's allergens: duplicates folded, kept in the EU list's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allergens(BTreeSet<Allergen>);

impl Allergens {
    /// Parses codes; the error names the index of the first unknown code.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, (usize, String)> {
        codes
            .iter()
            .enumerate()
            .map(|(i, code)| code.as_ref().parse::<Allergen>().map_err(|e| (i, e)))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// The allergens in the EU list's order.
    pub fn iter(&self) -> impl Iterator<Item = Allergen> + '_ {
        self.0.iter().copied()
    }

    /// Whether no allergen is declared.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The API codes, in the EU list's order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.iter().map(Allergen::code).collect()
    }
}

impl FromIterator<Allergen> for Allergens {
    fn from_iter<I: IntoIterator<Item = Allergen>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited() {
        assert_eq!(
            PersonName::parse("  Maria ").unwrap().unwrap().as_str(),
            "Maria"
        );
        assert_eq!(PersonName::parse("   ").unwrap(), None);
        assert!(PersonName::parse(&"å".repeat(100)).unwrap().is_some());
        assert!(PersonName::parse(&"å".repeat(101)).is_err());
        assert!(PersonName::parse("Ma\u{7}ria").is_err());
        assert!(PersonName::parse("Ma\nria").is_err());
    }

    #[test]
    fn emails_must_be_valid() {
        for ok in [
            "maria@example.dk",
            "a.b+tag@sub.example.com",
            " Maria@Example.DK ",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "maria",
            "@example.dk",
            "maria@",
            "maria@example",
            "ma ria@example.dk",
            "maria@@example.dk",
            ".maria@example.dk",
            "maria@exa_mple.dk",
            "maria@example.123",
            "maria@-example.dk",
            "ma..ria@example.dk",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@{}.dk", "a".repeat(64), "b".repeat(187));
        assert_eq!(long.len(), 255);
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn emails_compare_case_insensitively() {
        let a = Email::parse("Maria@Example.DK").unwrap();
        assert_eq!(a.as_str(), "Maria@Example.DK");
        assert_eq!(a.normalized(), "maria@example.dk");
    }

    #[test]
    fn phones_must_be_e164() {
        for ok in ["+4520123456", "+12", "+123456789012345"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "4520123456",
            "+0520123456",
            "+1",
            "+1234567890123456",
            "+45 2012 3456",
            "+45-20",
            "",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locales_are_bcp47_in_canonical_case() {
        assert_eq!(Locale::parse("da-DK").unwrap().as_str(), "da-DK");
        assert_eq!(Locale::parse("DA-dk").unwrap().as_str(), "da-DK");
        assert_eq!(Locale::parse("en").unwrap().as_str(), "en");
        assert_eq!(Locale::parse("zh-hant-tw").unwrap().as_str(), "zh-Hant-TW");
        assert_eq!(Locale::parse("es-419").unwrap().as_str(), "es-419");
        for bad in [
            "", "d", "danish", "da_DK", "da-", "da-DK-DK", "1a-DK", "da-DKK1",
        ] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Locale::default().as_str(), "da-DK");
    }

    #[test]
    fn birth_dates_are_real_past_dates_from_1900() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        assert_eq!(
            BirthDate::parse("1990-05-15", today).unwrap().to_string(),
            "1990-05-15"
        );
        assert!(BirthDate::parse("2026-03-15", today).is_ok());
        assert!(BirthDate::parse("2026-03-16", today).is_err());
        assert!(BirthDate::parse("1899-12-31", today).is_err());
        assert!(BirthDate::parse("1990-02-30", today).is_err());
        assert!(BirthDate::parse("1990-5-15", today).is_err());
        assert!(BirthDate::parse("15-05-1990", today).is_err());
        assert!(BirthDate::parse("1990-05-15T00:00:00Z", today).is_err());
    }

    #[test]
    fn allergens_fold_duplicates_and_refuse_unknown_codes() {
        let set = Allergens::parse(&["NUTS", "GLUTEN", "NUTS"]).unwrap();
        assert_eq!(set.codes(), ["GLUTEN", "NUTS"]);
        assert_eq!(Allergens::parse(&["GLUTEN", "gluten"]).unwrap_err().0, 1);
        assert_eq!(Allergens::parse(&["PEANUT"]).unwrap_err().0, 0);
        assert_eq!(Allergen::ALL.len(), 14);
        for a in Allergen::ALL {
            assert_eq!(a.code().parse::<Allergen>(), Ok(a));
        }
    }

    #[test]
    fn notes_and_reasons_have_limits() {
        assert!(AdminNotes::parse(&"x".repeat(5000)).unwrap().is_some());
        assert!(AdminNotes::parse(&"x".repeat(5001)).is_err());
        assert!(AdminNotes::parse("line one\nline two").unwrap().is_some());
        assert_eq!(AdminNotes::parse("").unwrap(), None);
        assert!(BlockReason::parse(&"x".repeat(501)).is_err());
        assert_eq!(
            BlockReason::parse(" late ").unwrap().unwrap().as_str(),
            "late"
        );
    }

    #[test]
    fn address_parts_have_limits() {
        assert_eq!(
            AddressPart::Zipcode.parse(" 2100 ").unwrap().as_deref(),
            Some("2100")
        );
        assert!(AddressPart::Zipcode.parse(&"1".repeat(21)).is_err());
        assert!(AddressPart::Line.parse(&"a".repeat(200)).is_ok());
        assert_eq!(AddressPart::City.parse("").unwrap(), None);
    }
}
