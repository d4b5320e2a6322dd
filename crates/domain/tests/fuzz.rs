//! Property fuzzing of every parser and validator of the domain: arbitrary input never
//! panics, and whatever is accepted keeps the rule it was checked against.
//!
//! `cargo test` runs a few hundred cases per property; `.ci/fuzz` runs them with
//! `PROPTEST_CASES=100000` in release mode. A failure found there is kept as a regression
//! case in `tests/fuzz.proptest-regressions` and turned into a unit test beside the rule.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use customers_domain::access::{NewApiKeyInput, NewUserInput, Password, secret};
use customers_domain::audit::{AuditAction, AuditListParams};
use customers_domain::customer::{
    AdminNotes, Allergens, BirthDate, BlockReason, CustomerListParams, Email, Locale, Patch,
    PersonName, Phone, Profile, ProfileInput,
};
use customers_domain::days::{DayRange, parse_day};
use customers_domain::idempotency::parse_key;
use customers_domain::ids::{AddressId, CustomerId, StoreId};
use customers_domain::loyalty::Adjustment;
use customers_domain::order::{OrderInput, OrderItemInput};
use customers_domain::page::PageRequest;
use customers_domain::review::{Rating, ReviewInput, ReviewListParams, parse_response_text};
use customers_domain::store::StoreSettings;
use customers_domain::validation::ValidationErrors;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-03-15T10:00:00Z".parse().unwrap()
}

/// Any text: mostly arbitrary Unicode, sometimes text near the rules' edges.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[a-zA-Z0-9 ._%+@'-]{0,40}",
        1 => "[+0-9 ]{0,20}",
        1 => "[a-z]{1,8}(-[A-Za-z0-9]{1,8}){0,3}",
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        1 => "[a-z]{2,5}_[a-z0-9]{10,42}",
        1 => "[\\u{0}-\\u{20}\\u{7f}\\u{200e}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069} a]{0,12}",
        1 => ".{0,300}",
    ]
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

/// Boxed: a dozen unboxed field strategies nested in tuples come close to overflowing a test
/// thread's stack (one more profile field does).
fn patch<T: std::fmt::Debug + Clone + 'static>(
    value: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Patch<T>> {
    prop_oneof![
        Just(Patch::Unchanged),
        Just(Patch::Clear),
        value.prop_map(Patch::Set),
    ]
    .boxed()
}

/// Any profile input: every plain field (by the domain's own table) and the others.
fn profile_input() -> impl Strategy<Value = ProfileInput> {
    (
        prop::collection::vec(patch(text()), Profile::PLAIN_FIELDS.len()),
        (
            patch(any::<bool>()),
            patch(text()),
            patch(text()),
            patch(text()),
            patch(text()),
            patch(proptest::collection::vec(text(), 0..20)),
        ),
    )
        .prop_map(|(plain, rest)| {
            let (marketing, locale, line, zipcode, city, allergens) = rest;
            let mut input = ProfileInput {
                accepts_marketing: marketing,
                locale,
                default_address_line: line,
                default_zipcode: zipcode,
                default_city: city,
                allergens,
                ..ProfileInput::default()
            };
            for (name, patch) in Profile::PLAIN_FIELDS.iter().zip(plain) {
                *input.plain_mut(name).expect("a plain field") = patch;
            }
            input
        })
}

fn address_id() -> AddressId {
    AddressId::parse("addr_000000000001").unwrap()
}

/// Every field error names a field and says something.
fn well_formed(errors: &ValidationErrors) -> bool {
    !errors.is_empty()
        && errors
            .fields()
            .iter()
            .all(|e| !e.field.is_empty() && !e.message.is_empty())
}

proptest! {
    #[test]
    fn names_notes_and_reasons(s in text()) {
        if let Ok(Some(name)) = PersonName::parse(&s) {
            prop_assert!(name.as_str().chars().count() <= PersonName::MAX);
            prop_assert_eq!(name.as_str(), name.as_str().trim());
            prop_assert!(!name.as_str().chars().any(char::is_control));
        }
        if let Ok(Some(notes)) = AdminNotes::parse(&s) {
            prop_assert!(notes.as_str().chars().count() <= AdminNotes::MAX);
        }
        if let Ok(Some(reason)) = BlockReason::parse(&s) {
            prop_assert!(reason.as_str().chars().count() <= BlockReason::MAX);
        }
    }

    #[test]
    fn emails(s in text()) {
        if let Ok(email) = Email::parse(&s) {
            prop_assert!(email.as_str().chars().count() <= Email::MAX);
            prop_assert!(email.as_str().contains('@'));
            prop_assert_eq!(email.normalized(), email.as_str().to_lowercase());
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
        }
    }

    #[test]
    fn phones(s in text()) {
        if let Ok(phone) = Phone::parse(&s) {
            let digits = &phone.as_str()[1..];
            prop_assert!(phone.as_str().starts_with('+'));
            prop_assert!((2..=15).contains(&digits.len()));
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'));
        }
    }

    #[test]
    fn locales_and_dates(s in text()) {
        if let Ok(locale) = Locale::parse(&s) {
            prop_assert_eq!(Locale::parse(locale.as_str()), Ok(locale.clone()));
        }
        if let Ok(birth) = BirthDate::parse(&s, today()) {
            let date = birth.date();
            prop_assert!(date <= today());
            prop_assert!(date >= NaiveDate::from_ymd_opt(1900, 1, 1).unwrap());
        }
        if let Ok(day) = parse_day(&s) {
            prop_assert_eq!(day.format("%Y-%m-%d").to_string(), s.clone());
        }
        let mut errors = ValidationErrors::new();
        let range = DayRange::validate(Some(&s), Some(&s), Tz::UTC, &mut errors);
        if errors.is_empty() {
            prop_assert!(range.from < range.before);
        }
    }

    #[test]
    fn allergens(codes in proptest::collection::vec(text(), 0..30)) {
        match Allergens::parse(&codes) {
            Ok(allergens) => prop_assert!(allergens.iter().count() <= 14),
            Err((index, message)) => {
                prop_assert!(index < codes.len());
                prop_assert!(!message.is_empty());
            }
        }
    }

    #[test]
    fn ids_secrets_keys_and_passwords(s in text()) {
        if let Some(id) = CustomerId::parse(&s) {
            prop_assert_eq!(id.as_str(), s.as_str());
        }
        prop_assert!(StoreId::parse(&s).is_none() || s.starts_with("store_"));
        // A recognised secret is one of ours, checksum and all; changing a character breaks it.
        if secret::recognize(&s).is_some() {
            let mut tampered = s.clone().into_bytes();
            let last = tampered.len() - 1;
            tampered[last] = if tampered[last] == b'a' { b'b' } else { b'a' };
            let tampered = String::from_utf8(tampered).unwrap();
            prop_assert!(secret::recognize(&tampered).is_none());
        }
        if let Ok(key) = parse_key(&s) {
            prop_assert!(!key.is_empty() && key.len() <= 255);
        }
        if let Ok(password) = Password::parse(&s) {
            prop_assert!(s.chars().count() >= Password::MIN);
            let _ = password;
        }
        prop_assert_eq!(AuditAction::parse(&s).map(AuditAction::as_str), AuditAction::ALL.iter().map(|a| a.as_str()).find(|a| *a == s));
    }

    #[test]
    fn profiles_are_created_and_patched_or_refused(
        create in profile_input(),
        change in profile_input(),
    ) {
        match Profile::create(&create, today(), address_id) {
            Ok(profile) => {
                prop_assert!(profile.changed_fields(&profile).is_empty());
                match profile.patched(&change, today(), address_id) {
                    Ok(patched) => {
                        // A patch that is applied twice changes nothing the second time.
                        let again = patched.patched(&change, today(), address_id).unwrap();
                        prop_assert!(patched.changed_fields(&again).is_empty());
                    }
                    Err(errors) => prop_assert!(well_formed(&errors)),
                }
            }
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
    }

    #[test]
    fn list_parameters(
        numbers in proptest::array::uniform4(proptest::option::of(any::<i64>())),
        texts in proptest::array::uniform6(maybe_text()),
        cursors in proptest::array::uniform3(maybe_text()),
        flags in proptest::array::uniform3(proptest::option::of(any::<bool>())),
    ) {
        let [page, limit, min_spent, max_spent] = numbers;
        let [sort_by, sort_dir, period, q, allergen, customer] = texts;
        let [after, before, total] = cursors;
        let customers = CustomerListParams {
            page,
            limit,
            after: after.clone(),
            before: before.clone(),
            total: total.clone(),
            sort_by,
            sort_dir,
            accepts_marketing: flags[0],
            is_blocked: flags[1],
            has_orders: flags[2],
            min_spent,
            max_spent,
            last_order_period: period.clone(),
            q: q.clone(),
            allergen,
        };
        match customers.validate(now(), Tz::Europe__Copenhagen) {
            Ok(query) => prop_assert!((1..=100).contains(&query.page.limit())),
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
        let reviews = ReviewListParams {
            page,
            limit,
            after,
            before,
            total,
            is_approved: flags[0],
            is_featured: flags[1],
            has_response: flags[2],
            min_rating: min_spent,
            customer_id: customer.clone(),
            date_from: period.clone(),
            date_to: q.clone(),
        };
        if let Err(errors) = reviews.validate(Tz::UTC) {
            prop_assert!(well_formed(&errors));
        }
        let audit = AuditListParams {
            page,
            limit,
            customer_id: customer,
            actor: q.clone(),
            action: period.clone(),
            date_from: period,
            date_to: q,
        };
        if let Err(errors) = audit.validate(Tz::UTC) {
            prop_assert!(well_formed(&errors));
        }
        if let Ok(request) = PageRequest::new(page, limit) {
            prop_assert!(request.page() >= 1);
            let _ = request.offset();
        }
    }

    #[test]
    fn orders_reviews_and_adjustments(
        numbers in proptest::array::uniform8(proptest::option::of(any::<i64>())),
        texts in proptest::array::uniform8(maybe_text()),
        items in 0usize..4,
    ) {
        let item = OrderItemInput {
            product_id: texts[0].clone(),
            product_name: texts[1].clone(),
            category_id: texts[2].clone(),
            category_name: texts[3].clone(),
            quantity: numbers[0],
            unit_price_minor: numbers[1],
        };
        let order = OrderInput {
            customer_id: texts[4].clone(),
            external_id: texts[5].clone(),
            placed_at: texts[6].clone(),
            items: (items > 0).then(|| vec![item; items]),
            total_minor: numbers[2],
        };
        match order.validate(now()) {
            Ok(valid) => prop_assert!(valid.total_minor >= 0),
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
        let review = ReviewInput {
            order_id: texts[4].clone(),
            customer_id: texts[5].clone(),
            rating: numbers[3],
            food_rating: numbers[4],
            delivery_rating: numbers[5],
            packaging_rating: numbers[6],
            comment: texts[7].clone(),
        };
        match review.validate() {
            Ok(valid) => prop_assert!((1..=5).contains(&valid.rating.value())),
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
        if let Some(rating) = numbers[3] {
            prop_assert_eq!(Rating::parse(rating).is_ok(), (1..=5).contains(&rating));
        }
        if let Err(errors) = parse_response_text(texts[7].as_deref()) {
            prop_assert!(well_formed(&errors));
        }
        match Adjustment::parse(numbers[7], texts[6].as_deref()) {
            Ok(adjustment) => prop_assert!(adjustment.delta != 0),
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
    }

    #[test]
    fn users_keys_and_stores(texts in proptest::array::uniform6(maybe_text()), scopes in proptest::option::of(proptest::collection::vec(text(), 0..8)), units in any::<i64>()) {
        let user = NewUserInput {
            email: texts[0].clone(),
            password: texts[1].clone(),
            role: texts[2].clone(),
            name: texts[3].clone(),
        };
        if let Err(errors) = user.validate() {
            prop_assert!(well_formed(&errors));
        }
        let key = NewApiKeyInput { name: texts[4].clone(), scopes };
        if let Ok((name, scopes)) = key.validate() {
            prop_assert!(!name.is_empty() && !scopes.is_empty());
        }
        let settings = StoreSettings {
            name: texts[5].clone().unwrap_or_default(),
            currency: texts[0].clone().unwrap_or_default(),
            timezone: texts[1].clone().unwrap_or_default(),
            minor_units_per_point: units,
            max_order_minor: units.rotate_left(17),
        };
        match settings.validate(StoreId::parse("store_aaaaaaaaaaaa").unwrap(), now()) {
            Ok(store) => prop_assert!(store.minor_units_per_point > 0 && store.max_order_minor > 0),
            Err(errors) => prop_assert!(well_formed(&errors)),
        }
    }
}
