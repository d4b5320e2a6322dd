//! The regular expressions of the text rules (docs/api.md §1): which characters a text may
//! hold, and how the service trims it before checking its length.

use customers_domain::customer::Phone;
use customers_domain::validation;

/// Characters `str::trim` removes (Unicode `White_Space`).
pub const WHITE_SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// White space that is not a control character.
pub(super) const PLAIN_WHITE_SPACE: &str =
    r"\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Every control character (Unicode `Cc`).
const CONTROLS_ONLY: &str = r"\u0000-\u001f\u007f-\u009f";
/// Control characters other than line breaks and tabs.
const CONTROLS_BUT_LINE_BREAKS_ONLY: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// A character class body (`\uXXXX-\uYYYY…`) for the domain's character ranges. Ranges past
/// U+FFFF (the tag characters) cannot be written in a pattern's class without the `u` flag;
/// the service refuses them all the same.
fn class_of(ranges: &[(char, char)]) -> String {
    ranges
        .iter()
        .filter(|(from, _)| u32::from(*from) <= 0xFFFF)
        .map(|(from, to)| {
            if from == to {
                format!("\\u{:04x}", u32::from(*from))
            } else {
                format!("\\u{:04x}-\\u{:04x}", u32::from(*from), u32::from(*to))
            }
        })
        .collect()
}

/// What no one-line text may hold: control and invisible characters.
fn controls() -> String {
    format!("{CONTROLS_ONLY}{}", class_of(validation::INVISIBLE))
}

/// What no free text may hold: control characters but line breaks and tabs, and invisible ones.
pub(super) fn controls_but_line_breaks() -> String {
    format!(
        "{CONTROLS_BUT_LINE_BREAKS_ONLY}{}",
        class_of(validation::INVISIBLE)
    )
}

/// Free text: line breaks and tabs allowed, other control characters and invisible ones not.
pub fn free_text() -> String {
    format!("^[^{}]*$", controls_but_line_breaks())
}

/// An identifier (an email address): none of the one-line text's characters, nor a joiner or
/// direction mark.
pub fn identifier_text() -> String {
    format!(
        "^[^{}{}]*$",
        controls(),
        class_of(validation::JOINERS_AND_MARKS)
    )
}

/// A text the service trims before checking it: white space (from `ends`) at either end, then
/// at most `max` characters of which none is in `forbidden` and the first and last are not
/// white space. With `required`, the trimmed text must not be empty.
pub fn trimmed(max: usize, required: bool, forbidden: &str, ends: &str) -> String {
    let edge = format!("[^{WHITE_SPACE}{forbidden}]");
    let core = format!(
        "{edge}(?:[^{forbidden}]{{0,{}}}{edge})?",
        max.saturating_sub(2)
    );
    let core = if required {
        core
    } else {
        format!("(?:{core})?")
    };
    format!("^[{ends}]*{core}[{ends}]*$")
}

/// One line, trimmed: no control character once trimmed.
pub fn one_line(max: usize, required: bool) -> String {
    trimmed(max, required, &controls(), WHITE_SPACE)
}

/// Free text, trimmed, then checked: line breaks and tabs allowed inside.
pub fn free_text_trimmed(max: usize, required: bool) -> String {
    trimmed(max, required, &controls_but_line_breaks(), WHITE_SPACE)
}

/// Any text without U+0000, which no string of the API may hold.
pub const NO_NUL: &str = r"^[^\u0000]*$";

/// E.164: `+`, a non-zero digit, then the rest of the digits the domain allows.
pub(super) fn e164() -> String {
    format!(
        r"^\+[1-9][0-9]{{{},{}}}$",
        Phone::MIN_DIGITS - 1,
        Phone::MAX_DIGITS - 1
    )
}

/// A BCP 47 language tag: language, then optional script, region and variants.
pub const BCP47: &str = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$";
/// `YYYY-MM-DD`.
pub const DATE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
