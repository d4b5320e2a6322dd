//! Schemas of single fields, with the rules the domain enforces on them (lengths, patterns,
//! enumerations), for the body types' `#[schema(schema_with = …)]` and the query parameters.

use customers_domain::access::{NewApiKeyInput, Password, Role, Scope};
use customers_domain::audit::AuditAction;
use customers_domain::customer::{
    AddressPart, AdminNotes, Allergen, BirthDate, BlockReason, Email, Locale, PersonName, Phone,
};
use customers_domain::ids::{self, CredentialId, CustomerId, LedgerEntryId, OrderId, UserId};
use customers_domain::review::Rating;
use customers_domain::{loyalty, order, review};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, Object, ObjectBuilder, OneOfBuilder,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};

use super::patterns::{
    BCP47, DATE, NO_NUL, PLAIN_WHITE_SPACE, controls_but_line_breaks, e164, free_text,
    free_text_trimmed, identifier_text, one_line, trimmed,
};

fn typed(types: &[Type]) -> SchemaType {
    match types {
        [one] => SchemaType::new(one.clone()),
        many => many.iter().cloned().collect(),
    }
}

/// A string (or `null` when `nullable`).
pub fn text(nullable: bool) -> ObjectBuilder {
    let types: &[Type] = if nullable {
        &[Type::String, Type::Null]
    } else {
        &[Type::String]
    };
    ObjectBuilder::new().schema_type(typed(types))
}

pub fn integer(nullable: bool) -> ObjectBuilder {
    let types: &[Type] = if nullable {
        &[Type::Integer, Type::Null]
    } else {
        &[Type::Integer]
    };
    ObjectBuilder::new()
        .schema_type(typed(types))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

pub fn boolean(nullable: bool) -> ObjectBuilder {
    let types: &[Type] = if nullable {
        &[Type::Boolean, Type::Null]
    } else {
        &[Type::Boolean]
    };
    ObjectBuilder::new().schema_type(typed(types))
}

/// A string that is one of `values`.
pub fn one_of(values: &[&str]) -> Object {
    text(false)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A text field of the profile: nullable, at most `max` characters once trimmed, one line.
fn line(max: usize, description: &str) -> Object {
    text(true)
        .pattern(Some(one_line(max, false)))
        .description(Some(description))
        .build()
}

pub fn person_name() -> Object {
    line(PersonName::MAX, "Trimmed; blank means no value.")
}

/// The schema of a plain profile field's value type (the domain's `plain_profile_fields!`
/// table): `null` or a string that keeps the type's rules. The description is the field's, from
/// the table, followed by [`ValueSchema::rule`].
pub trait ValueSchema {
    /// The value as a client sends it.
    fn sent() -> ObjectBuilder;

    /// The value as the service shows it: what was stored after validation.
    fn shown() -> ObjectBuilder {
        text(true)
    }

    /// A sentence on the rule, where the field's description does not say it.
    fn rule() -> Option<String> {
        None
    }
}

impl ValueSchema for PersonName {
    fn sent() -> ObjectBuilder {
        text(true).pattern(Some(one_line(PersonName::MAX, false)))
    }
}

impl ValueSchema for Email {
    fn sent() -> ObjectBuilder {
        email_text(true)
    }
}

impl ValueSchema for Phone {
    fn sent() -> ObjectBuilder {
        text(true).pattern(Some(e164()))
    }
}

impl ValueSchema for AdminNotes {
    fn sent() -> ObjectBuilder {
        text(true)
            .max_length(Some(AdminNotes::MAX))
            .pattern(Some(free_text()))
    }
}

impl ValueSchema for BirthDate {
    fn sent() -> ObjectBuilder {
        text(true)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(DATE))
    }

    fn shown() -> ObjectBuilder {
        text(true).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
    }

    fn rule() -> Option<String> {
        Some(format!(
            "A real date, year {} or later, not in the future.",
            BirthDate::MIN_YEAR
        ))
    }
}

/// The description of a plain field: its doc lines from the table, joined, then the rule.
fn described<T: ValueSchema>(schema: ObjectBuilder, doc: &str) -> Object {
    let mut description = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rule) = T::rule() {
        description = format!("{description} {rule}");
    }
    schema.description(Some(description)).build()
}

/// A plain profile field as a client sends it.
pub fn sent<T: ValueSchema>(doc: &str) -> Object {
    described::<T>(T::sent(), doc)
}

/// A plain profile field as the service shows it.
pub fn shown<T: ValueSchema>(doc: &str) -> Object {
    described::<T>(T::shown(), doc)
}

pub fn address_line() -> Object {
    line(
        AddressPart::Line.max(),
        "Street address of the default address.",
    )
}

pub fn zipcode() -> Object {
    line(
        AddressPart::Zipcode.max(),
        "Postal code of the default address.",
    )
}

pub fn city() -> Object {
    line(AddressPart::City.max(), "City of the default address.")
}

fn email_text(nullable: bool) -> ObjectBuilder {
    text(nullable)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .pattern(Some(identifier_text()))
        .max_length(Some(Email::MAX))
}

pub fn email(nullable: bool) -> Object {
    email_text(nullable)
        .description(Some(
            "Unique per store, compared case-insensitively; kept as written.",
        ))
        .build()
}

pub fn accepts_marketing() -> Object {
    boolean(false)
        .description(Some("Newsletter opt-in; `null` is refused."))
        .default(Some(false.into()))
        .build()
}

pub fn locale() -> Object {
    text(false)
        .pattern(Some(BCP47))
        .max_length(Some(Locale::MAX))
        .description(Some(
            "BCP 47 language tag, stored in canonical case; `null` is refused.",
        ))
        .default(Some(Locale::default_locale().as_str().into()))
        .build()
}

fn allergen_codes() -> Vec<&'static str> {
    Allergen::ALL.iter().map(|a| a.code()).collect()
}

pub fn allergen() -> Object {
    one_of(&allergen_codes())
}

/// Allergen codes as the API shows them.
pub fn allergens() -> ArrayBuilder {
    ArrayBuilder::new().items(allergen())
}

/// Allergen codes as a client sends them: duplicates folded, `null` clears.
pub fn allergens_input() -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(typed(&[Type::Array, Type::Null]))
        .items(allergen())
        .description(Some(
            "EU allergen codes; duplicates are folded, `null` clears.",
        ))
}

pub fn role() -> Object {
    one_of(&Role::ALL.map(Role::as_str))
}

pub fn scope() -> Object {
    one_of(&Scope::ALL.map(Scope::as_str))
}

pub fn scopes() -> ArrayBuilder {
    ArrayBuilder::new().items(scope())
}

pub fn audit_action() -> Object {
    one_of(&AuditAction::ALL.map(AuditAction::as_str))
}

pub fn actor_type() -> Object {
    one_of(&["user", "apiKey", "system", "anonymous"])
}

/// The kind of a ledger entry's actor, or `null`.
pub fn ledger_actor_type() -> Object {
    text(true)
        .enum_values(Some([
            serde_json::Value::from("user"),
            serde_json::Value::from("apiKey"),
            serde_json::Value::Null,
        ]))
        .build()
}

/// An id of one of the kinds `prefixes` name, as the service makes them.
pub fn id_pattern(prefixes: &[&str]) -> String {
    let prefix = match prefixes {
        [one] => (*one).to_owned(),
        many => format!("({})", many.join("|")),
    };
    format!(
        "^{prefix}_[a-z0-9]{{{},{}}}$",
        ids::MIN_RANDOM_LEN,
        ids::MAX_RANDOM_LEN
    )
}

/// A user id or an API key id.
pub fn actor_pattern() -> String {
    id_pattern(&[UserId::PREFIX, CredentialId::PREFIX])
}

/// A user id or an API key id, `null` for the system and anonymous actors.
pub fn actor_id() -> Object {
    text(true).pattern(Some(actor_pattern())).build()
}

/// A user, API key, token or ledger entry id, or `null`.
pub fn subject_id() -> Object {
    text(true)
        .pattern(Some(id_pattern(&[
            UserId::PREFIX,
            CredentialId::PREFIX,
            LedgerEntryId::PREFIX,
            OrderId::PREFIX,
        ])))
        .build()
}

/// A customer's id that may lead nowhere any more (the customer was erased), or `null`.
pub fn audited_customer_id() -> Object {
    optional_customer_id()
}

/// The client's IP address (of a failed or refused login), or `null`.
pub fn client_address() -> Object {
    text(true)
        .description(Some(
            "For auth.login_failed and auth.login_refused: the client's IP address (the socket's \
             peer, or behind a trusted proxy the address it forwards for)",
        ))
        .build()
}

/// How many failures were counted when logins began to be refused, or `null`.
pub fn failure_count() -> Object {
    integer(true)
        .minimum(Some(0))
        .description(Some(
            "For auth.login_refused: the failures counted under the refusing rule",
        ))
        .build()
}

pub fn field_names() -> ArrayBuilder {
    ArrayBuilder::new().items(text(false).build())
}

pub fn credential_kind() -> Object {
    one_of(&["staff", "apiKey"])
}

pub fn order_status() -> Object {
    one_of(&["recorded", "cancelled"])
}

pub fn ledger_source() -> Object {
    one_of(&["manual", "order", "order_cancel"])
}

/// `{"1": n, …, "5": n}`.
pub fn rating_distribution() -> Object {
    let mut object = ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Object))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for key in (Rating::MIN..=Rating::MAX).map(|rating| rating.to_string()) {
        object = object
            .property(&key, integer(false).minimum(Some(0)))
            .required(key);
    }
    object.build()
}

/// An id of the given prefix, as the service makes them.
pub fn id(prefix: &str) -> Object {
    text(false).pattern(Some(id_pattern(&[prefix]))).build()
}

/// A rating as a client sends it.
pub fn rating(nullable: bool) -> Object {
    integer(nullable)
        .minimum(Some(Rating::MIN))
        .maximum(Some(Rating::MAX))
        .build()
}

/// A rating as the API shows it.
fn shown_rating(nullable: bool) -> Object {
    let types: &[Type] = if nullable {
        &[Type::Integer, Type::Null]
    } else {
        &[Type::Integer]
    };
    ObjectBuilder::new()
        .schema_type(typed(types))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(Rating::MIN))
        .maximum(Some(Rating::MAX))
        .build()
}

pub fn review_rating() -> Object {
    shown_rating(false)
}

pub fn review_part_rating() -> Object {
    shown_rating(true)
}

/// The average of the ratings, or `null` with none.
pub fn average_rating() -> Object {
    ObjectBuilder::new()
        .schema_type(typed(&[Type::Number, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        .description(Some("Rounded to one decimal; `null` with no reviews."))
        .minimum(Some(Rating::MIN))
        .maximum(Some(Rating::MAX))
        .build()
}

pub fn required_rating() -> Object {
    rating(false)
}

pub fn optional_rating() -> Object {
    rating(true)
}

/// A text of an order: one line of at most `order::MAX_TEXT` characters once trimmed.
pub fn item_text(nullable: bool) -> Object {
    text(nullable)
        .pattern(Some(one_line(order::MAX_TEXT, !nullable)))
        .build()
}

/// How many of a product an order line holds.
pub fn quantity() -> Object {
    integer(false)
        .minimum(Some(1))
        .maximum(Some(order::MAX_QUANTITY))
        .build()
}

/// The price of one of a line's products, in minor units.
pub fn unit_price_minor() -> Object {
    integer(false)
        .minimum(Some(0))
        .maximum(Some(order::MAX_UNIT_PRICE_MINOR))
        .build()
}

/// The lines of an order: at least one, at most `order::MAX_ITEMS`.
pub fn order_items() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            <crate::orders::OrderItemBody as utoipa::ToSchema>::name(),
        )))
        .min_items(Some(1))
        .max_items(Some(order::MAX_ITEMS))
}

pub fn required_item_text() -> Object {
    item_text(false)
}

pub fn optional_item_text() -> Object {
    item_text(true)
}

pub fn into_schema(object: impl Into<Schema>) -> RefOr<Schema> {
    RefOr::T(object.into())
}

/// Control characters (but line breaks and tabs) are refused before trimming, the length after.
pub fn block_reason() -> Object {
    text(true)
        .pattern(Some(trimmed(
            BlockReason::MAX,
            false,
            &controls_but_line_breaks(),
            PLAIN_WHITE_SPACE,
        )))
        .description(Some(format!(
            "At most {} characters once trimmed.",
            BlockReason::MAX
        )))
        .build()
}

pub fn customer_id() -> Object {
    id(CustomerId::PREFIX)
}

pub fn optional_customer_id() -> Object {
    text(true)
        .pattern(Some(id_pattern(&[CustomerId::PREFIX])))
        .build()
}

pub fn order_id() -> Object {
    id(OrderId::PREFIX)
}

pub fn placed_at() -> Object {
    text(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
}

pub fn comment() -> Object {
    text(true)
        .pattern(Some(free_text_trimmed(review::MAX_TEXT, false)))
        .description(Some(format!(
            "At most {} characters once trimmed.",
            review::MAX_TEXT
        )))
        .build()
}

pub fn response_text() -> Object {
    text(false)
        .pattern(Some(free_text_trimmed(review::MAX_TEXT, true)))
        .description(Some(format!(
            "1–{} characters once trimmed.",
            review::MAX_TEXT
        )))
        .build()
}

/// A non-zero number of points, at most `loyalty::MAX_ADJUSTMENT` either way.
pub fn delta() -> Schema {
    OneOfBuilder::new()
        .item(
            integer(false)
                .minimum(Some(-loyalty::MAX_ADJUSTMENT))
                .maximum(Some(-1)),
        )
        .item(
            integer(false)
                .minimum(Some(1))
                .maximum(Some(loyalty::MAX_ADJUSTMENT)),
        )
        .description(Some(
            "Points to add (positive) or deduct (negative); never zero.",
        ))
        .build()
        .into()
}

pub fn adjust_reason() -> Object {
    text(false)
        .pattern(Some(free_text_trimmed(loyalty::MAX_REASON, true)))
        .description(Some(format!(
            "1–{} characters once trimmed.",
            loyalty::MAX_REASON
        )))
        .build()
}

pub fn user_email() -> Object {
    email(false)
}

pub fn password() -> Object {
    text(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .pattern(Some(NO_NUL))
        .min_length(Some(Password::MIN))
        .max_length(Some(Password::MAX))
        .build()
}

pub fn api_key_name() -> Object {
    text(false)
        .pattern(Some(one_line(NewApiKeyInput::MAX_NAME, true)))
        .description(Some(format!(
            "1–{} characters on one line once trimmed.",
            NewApiKeyInput::MAX_NAME
        )))
        .build()
}

pub fn scopes_input() -> ArrayBuilder {
    ArrayBuilder::new().items(scope()).min_items(Some(1))
}

/// A text with no rule but the API's: no U+0000.
pub fn plain_text() -> Object {
    text(false).pattern(Some(NO_NUL)).build()
}

pub fn login_password() -> Object {
    text(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .pattern(Some(NO_NUL))
        .build()
}
