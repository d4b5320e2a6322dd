//! The customer, its writable profile, and how input becomes a profile.

use chrono::{DateTime, NaiveDate, Utc};

use crate::customer::values::{
    AddressPart, Allergens, BlockReason, Email, Locale, PersonName, Phone, ProfileValue,
};
use crate::ids::{AddressId, CustomerId, StoreId};
use crate::validation::ValidationErrors;

/// A field of an update: left as it is, cleared (`null`), or set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// The request did not name the field: it keeps its value.
    #[default]
    Unchanged,
    /// The request sent `null`: the field is emptied.
    Clear,
    /// The request sent this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the request left the field out.
    pub fn is_unchanged(&self) -> bool {
        matches!(self, Self::Unchanged)
    }

    /// Validates a set value, keeping `Unchanged` and `Clear` as they are.
    fn try_map<U>(&self, f: impl FnOnce(&T) -> Result<U, String>) -> Result<Patch<U>, String> {
        Ok(match self {
            Self::Unchanged => Patch::Unchanged,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(f(value)?),
        })
    }
}

/// A stored address. The profile has at most one, the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The address's id, `addr_` and a random part; kept when the address fields are patched.
    pub id: AddressId,
    /// Street and number, one line of at most 200 characters.
    pub line: Option<String>,
    /// Postal code, at most 20 characters.
    pub zipcode: Option<String>,
    /// City, at most 100 characters.
    pub city: Option<String>,
}

/// Builds the profile's types from the table of plain fields in `fields.rs`.
macro_rules! profile_types {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $api:literal, )*) => {
        /// Everything about a customer that create and PATCH may write.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Profile {
            $(
                #[doc = concat!("`", $api, "`:")]
                $(#[doc = $doc])*
                pub $field: Option<$ty>,
            )*
            /// `acceptsMarketing`; `false` unless the customer said yes.
            pub accepts_marketing: bool,
            /// `locale`, `da-DK` unless given.
            pub locale: Locale,
            /// The default address, made of `defaultAddressLine`, `defaultZipcode` and
            /// `defaultCity`; `None` while all three are empty.
            pub default_address: Option<Address>,
            /// `allergens`; empty when none are known.
            pub allergens: Allergens,
        }

        /// Profile fields as they arrive, before validation: for create, `Clear` counts as
        /// absent.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct ProfileInput {
            $(
                #[doc = concat!("`", $api, "`.")]
                pub $field: Patch<String>,
            )*
            /// `acceptsMarketing`; `null` is refused, as the field cannot be empty.
            pub accepts_marketing: Patch<bool>,
            /// `locale`; `null` is refused, as the field cannot be empty.
            pub locale: Patch<String>,
            /// `defaultAddressLine`.
            pub default_address_line: Patch<String>,
            /// `defaultZipcode`.
            pub default_zipcode: Patch<String>,
            /// `defaultCity`.
            pub default_city: Patch<String>,
            /// `allergens`, as codes (`GLUTEN`, `NUTS`, …); `null` empties the list.
            pub allergens: Patch<Vec<String>>,
        }

        /// The validated plain fields of an update.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        struct PlainChanges {
            $( $field: Patch<Option<$ty>>, )*
        }

        impl PlainChanges {
            fn validate(input: &ProfileInput, today: NaiveDate, errors: &mut ValidationErrors) -> Self {
                Self {
                    $(
                        $field: keep(
                            errors,
                            $api,
                            input.$field.try_map(|s| <$ty as ProfileValue>::parse_input(s, today)),
                        ),
                    )*
                }
            }

            fn apply(self, profile: &mut Profile) {
                $( apply(&mut profile.$field, set(self.$field)); )*
            }
        }

        impl Profile {
            /// The API names of the plain fields (see `plain_profile_fields!`), in table order.
            pub const PLAIN_FIELDS: &'static [&'static str] = &[$($api),*];

            /// The plain fields whose value differs in `after`, by API name.
            fn plain_changes(&self, after: &Profile) -> Vec<&'static str> {
                let mut changed = Vec::new();
                $( if self.$field != after.$field { changed.push($api); } )*
                changed
            }
        }

        impl ProfileInput {
            /// The input of the plain field the API calls `name` (one of
            /// [`Profile::PLAIN_FIELDS`]), for callers that go by name such as a form.
            pub fn plain_mut(&mut self, name: &str) -> Option<&mut Patch<String>> {
                match name {
                    $( $api => Some(&mut self.$field), )*
                    _ => None,
                }
            }
        }
    };
}

crate::plain_profile_fields!(profile_types);

/// What the customer's orders add up to; written only by order recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Sum of `totalMinor` over the orders not cancelled, in the store's currency's minor units.
    pub total_spent_minor: i64,
    /// Number of orders recorded and not cancelled.
    pub total_orders: i64,
    /// `placedAt` of the newest order not cancelled; `None` with no such order.
    pub last_order_at: Option<DateTime<Utc>>,
    /// Current loyalty balance: always the sum of the customer's ledger entries, never below 0.
    pub loyalty_points: i64,
}

/// Why and since when a customer is blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// `blockedReason`, at most 500 characters; `None` when no reason was given.
    pub reason: Option<BlockReason>,
    /// `blockedAt`: when the customer was first blocked (blocking again keeps it).
    pub at: DateTime<Utc>,
}

impl Block {
    /// The customer's block after asking for `wanted` (a block, or `None` to unblock) while
    /// `current` holds, or `None` when nothing changes: blocking again with the same reason and
    /// unblocking a customer who is not blocked write nothing (and audit nothing). Blocking
    /// again with another reason keeps the time of the first block.
    pub fn change(current: Option<&Block>, wanted: Option<Block>) -> Option<Option<Block>> {
        match (current, wanted) {
            (None, None) => None,
            (Some(_), None) => Some(None),
            (None, Some(block)) => Some(Some(block)),
            (Some(current), Some(block)) if current.reason == block.reason => None,
            (Some(current), Some(block)) => Some(Some(Block {
                reason: block.reason,
                at: current.at,
            })),
        }
    }
}

/// A customer of one store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// The customer's id, `cust_` and a random part.
    pub id: CustomerId,
    /// The store the customer belongs to; no other store sees them.
    pub store_id: StoreId,
    /// What create and PATCH write.
    pub profile: Profile,
    /// Order totals and loyalty balance, kept by order recording and the ledger.
    pub activity: Activity,
    /// `Some` while the customer is blocked from new orders.
    pub block: Option<Block>,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
    /// When the profile or the block last changed.
    pub updated_at: DateTime<Utc>,
    /// Goes up with every profile change; guards against lost updates.
    pub version: i64,
}

/// A row of the customer list: the list fields of docs/api.md §4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerSummary {
    /// The customer's id.
    pub id: CustomerId,
    /// `firstName`, if any.
    pub first_name: Option<PersonName>,
    /// `lastName`, if any.
    pub last_name: Option<PersonName>,
    /// `email`, if any.
    pub email: Option<Email>,
    /// `phone`, if any.
    pub phone: Option<Phone>,
    /// Whether the customer is blocked from new orders.
    pub is_blocked: bool,
    /// See [`Activity::total_spent_minor`].
    pub total_spent_minor: i64,
    /// See [`Activity::total_orders`].
    pub total_orders: i64,
    /// See [`Activity::last_order_at`].
    pub last_order_at: Option<DateTime<Utc>>,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
}

/// A validated change to a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ProfileChanges {
    plain: PlainChanges,
    accepts_marketing: Patch<bool>,
    locale: Patch<Locale>,
    address_line: Patch<Option<String>>,
    zipcode: Patch<Option<String>>,
    city: Patch<Option<String>>,
    allergens: Patch<Allergens>,
}

/// The validated value, or the default after recording the error.
fn keep<T: Default>(errors: &mut ValidationErrors, field: &str, result: Result<T, String>) -> T {
    errors.check(field, result).unwrap_or_default()
}

fn set<T>(patch: Patch<Option<T>>) -> Patch<T> {
    match patch {
        Patch::Unchanged => Patch::Unchanged,
        Patch::Clear | Patch::Set(None) => Patch::Clear,
        Patch::Set(Some(value)) => Patch::Set(value),
    }
}

fn apply<T>(field: &mut Option<T>, patch: Patch<T>) {
    match patch {
        Patch::Unchanged => {}
        Patch::Clear => *field = None,
        Patch::Set(value) => *field = Some(value),
    }
}

/// The validated allergen codes; an unknown code is reported with its index.
fn allergens(input: &Patch<Vec<String>>, errors: &mut ValidationErrors) -> Patch<Allergens> {
    match input {
        Patch::Unchanged => Patch::Unchanged,
        Patch::Clear => Patch::Clear,
        Patch::Set(codes) => match Allergens::parse(codes) {
            Ok(allergens) => Patch::Set(allergens),
            Err((index, message)) => {
                errors.add(format!("allergens[{index}]"), message);
                Patch::Unchanged
            }
        },
    }
}

impl ProfileInput {
    /// Checks every field against docs/api.md §4, reporting all broken rules at once: the
    /// plain fields in table order, then the others.
    fn validate(&self, today: NaiveDate) -> Result<ProfileChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let plain = PlainChanges::validate(self, today, &mut errors);
        let changes = ProfileChanges {
            plain,
            accepts_marketing: keep(
                &mut errors,
                "acceptsMarketing",
                match self.accepts_marketing {
                    Patch::Clear => Err("must be true or false, not null".into()),
                    ref other => Ok(other.clone()),
                },
            ),
            locale: keep(
                &mut errors,
                "locale",
                match &self.locale {
                    Patch::Clear => Err("must be a language tag, not null".into()),
                    other => other.try_map(|s| Locale::parse(s)),
                },
            ),
            address_line: keep(
                &mut errors,
                "defaultAddressLine",
                self.default_address_line
                    .try_map(|s| AddressPart::Line.parse(s)),
            ),
            zipcode: keep(
                &mut errors,
                "defaultZipcode",
                self.default_zipcode
                    .try_map(|s| AddressPart::Zipcode.parse(s)),
            ),
            city: keep(
                &mut errors,
                "defaultCity",
                self.default_city.try_map(|s| AddressPart::City.parse(s)),
            ),
            allergens: allergens(&self.allergens, &mut errors),
        };
        errors.into_result(|| changes)
    }
}

impl Profile {
    /// The API names of the fields that differ in `after`: the plain fields in table order,
    /// then the others (for the audit trail, which records which fields changed, never their
    /// values).
    pub fn changed_fields(&self, after: &Profile) -> Vec<&'static str> {
        let address = |p: &Profile, part: fn(&Address) -> &Option<String>| {
            p.default_address.as_ref().and_then(|a| part(a).clone())
        };
        let mut changed = self.plain_changes(after);
        changed.extend(
            [
                (
                    "acceptsMarketing",
                    self.accepts_marketing != after.accepts_marketing,
                ),
                ("locale", self.locale != after.locale),
                (
                    "defaultAddressLine",
                    address(self, |a| &a.line) != address(after, |a| &a.line),
                ),
                (
                    "defaultZipcode",
                    address(self, |a| &a.zipcode) != address(after, |a| &a.zipcode),
                ),
                (
                    "defaultCity",
                    address(self, |a| &a.city) != address(after, |a| &a.city),
                ),
                ("allergens", self.allergens != after.allergens),
            ]
            .into_iter()
            .filter_map(|(name, changed)| changed.then_some(name)),
        );
        changed
    }

    /// The profile of a new customer: defaults, then the input. `null` counts as absent.
    pub fn create(
        input: &ProfileInput,
        today: NaiveDate,
        new_address_id: impl FnOnce() -> AddressId,
    ) -> Result<Profile, ValidationErrors> {
        let mut profile = Profile::default();
        profile.apply(input.validate(today)?, new_address_id);
        Ok(profile)
    }

    /// This profile with an update applied: absent fields unchanged, `null` clears.
    pub fn patched(
        &self,
        input: &ProfileInput,
        today: NaiveDate,
        new_address_id: impl FnOnce() -> AddressId,
    ) -> Result<Profile, ValidationErrors> {
        let mut profile = self.clone();
        profile.apply(input.validate(today)?, new_address_id);
        Ok(profile)
    }

    fn apply(&mut self, changes: ProfileChanges, new_address_id: impl FnOnce() -> AddressId) {
        changes.plain.apply(self);
        if let Patch::Set(accepts) = changes.accepts_marketing {
            self.accepts_marketing = accepts;
        }
        if let Patch::Set(locale) = changes.locale {
            self.locale = locale;
        }
        match changes.allergens {
            Patch::Unchanged => {}
            Patch::Clear => self.allergens = Allergens::default(),
            Patch::Set(allergens) => self.allergens = allergens,
        }
        self.apply_address(
            changes.address_line,
            changes.zipcode,
            changes.city,
            new_address_id,
        );
    }

    /// The default address follows its three flat fields: created when one is first set,
    /// removed when all three end up empty.
    fn apply_address(
        &mut self,
        line: Patch<Option<String>>,
        zipcode: Patch<Option<String>>,
        city: Patch<Option<String>>,
        new_address_id: impl FnOnce() -> AddressId,
    ) {
        if line.is_unchanged() && zipcode.is_unchanged() && city.is_unchanged() {
            return;
        }
        let mut address = self.default_address.take().unwrap_or_else(|| Address {
            id: new_address_id(),
            line: None,
            zipcode: None,
            city: None,
        });
        apply(&mut address.line, set(line));
        apply(&mut address.zipcode, set(zipcode));
        apply(&mut address.city, set(city));
        if address.line.is_some() || address.zipcode.is_some() || address.city.is_some() {
            self.default_address = Some(address);
        }
    }
}

impl Profile {
    /// What the list's `q` searches, a plain substring of it: the lower-cased
    /// `"first last\nemail\nphone"` (an absent part is empty). Every adapter stores or
    /// matches this same text.
    pub fn search_text(&self) -> String {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        format!(
            "{} {}\n{}\n{}",
            text(self.first_name.as_ref().map(PersonName::as_str)),
            text(self.last_name.as_ref().map(PersonName::as_str)),
            text(self.email.as_ref().map(Email::as_str)),
            text(self.phone.as_ref().map(Phone::as_str)),
        )
        .to_lowercase()
    }

    /// What the list sorts `firstName` by: the first name with ASCII letters lower-cased
    /// (compared byte-wise; customers without one come last in either direction).
    pub fn first_name_key(&self) -> Option<String> {
        self.first_name.as_ref().map(first_name_key)
    }
}

/// What the list sorts a first name by: ASCII letters lower-cased, compared byte-wise.
pub fn first_name_key(name: &PersonName) -> String {
    name.as_str().to_ascii_lowercase()
}

impl Customer {
    /// Whether the customer is blocked from new orders.
    pub fn is_blocked(&self) -> bool {
        self.block.is_some()
    }

    /// The customer as a row of the list.
    pub fn summary(&self) -> CustomerSummary {
        CustomerSummary {
            id: self.id.clone(),
            first_name: self.profile.first_name.clone(),
            last_name: self.profile.last_name.clone(),
            email: self.profile.email.clone(),
            phone: self.profile.phone.clone(),
            is_blocked: self.is_blocked(),
            total_spent_minor: self.activity.total_spent_minor,
            total_orders: self.activity.total_orders,
            last_order_at: self.activity.last_order_at,
            created_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_holds_name_email_and_phone_in_lower_case() {
        let profile = Profile {
            first_name: Some(PersonName::from_stored("Maria".into())),
            last_name: Some(PersonName::from_stored("Ørsted".into())),
            email: Some(Email::from_stored("Maria@Example.DK".into())),
            phone: Some(Phone::from_stored("+4520123456".into())),
            ..Profile::default()
        };
        assert_eq!(
            profile.search_text(),
            "maria ørsted\nmaria@example.dk\n+4520123456"
        );
        assert_eq!(Profile::default().search_text(), " \n\n");
    }

    #[test]
    fn the_first_name_sort_key_folds_ascii_only() {
        let profile = Profile {
            first_name: Some(PersonName::from_stored("ÅSE Bo".into())),
            ..Profile::default()
        };
        assert_eq!(profile.first_name_key().as_deref(), Some("Åse bo"));
        assert_eq!(Profile::default().first_name_key(), None);
    }

    #[test]
    fn a_block_changes_only_what_differs_and_keeps_the_first_time() {
        let first = chrono::DateTime::UNIX_EPOCH;
        let later = first + chrono::Duration::hours(1);
        let block = |reason: Option<&str>, at| Block {
            reason: reason.map(|r| BlockReason::from_stored(r.into())),
            at,
        };
        assert_eq!(Block::change(None, None), None);
        assert_eq!(
            Block::change(Some(&block(Some("fraud"), first)), None),
            Some(None)
        );
        assert_eq!(
            Block::change(None, Some(block(None, later))),
            Some(Some(block(None, later)))
        );
        let fraud = block(Some("fraud"), first);
        assert_eq!(
            Block::change(Some(&fraud), Some(block(Some("fraud"), later))),
            None
        );
        assert_eq!(
            Block::change(Some(&fraud), Some(block(Some("abuse"), later))),
            Some(Some(block(Some("abuse"), first)))
        );
        assert_eq!(
            Block::change(Some(&fraud), Some(block(None, later))),
            Some(Some(block(None, first)))
        );
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()
    }

    fn addr() -> AddressId {
        AddressId::parse("addr_aaaaaaaaaaaa").unwrap()
    }

    fn seed_input() -> ProfileInput {
        ProfileInput {
            first_name: Patch::Set("Maria".into()),
            last_name: Patch::Set("Nielsen".into()),
            email: Patch::Set("maria@example.dk".into()),
            phone: Patch::Set("+4520123456".into()),
            accepts_marketing: Patch::Set(true),
            locale: Patch::Set("da-DK".into()),
            ..ProfileInput::default()
        }
    }

    #[test]
    fn create_applies_defaults() {
        let profile = Profile::create(&ProfileInput::default(), today(), addr).unwrap();
        assert_eq!(profile.locale.as_str(), "da-DK");
        assert!(!profile.accepts_marketing);
        assert_eq!(profile.default_address, None);
        assert!(profile.allergens.is_empty());
    }

    #[test]
    fn create_takes_the_seed_example() {
        let profile = Profile::create(&seed_input(), today(), addr).unwrap();
        assert_eq!(profile.first_name.unwrap().as_str(), "Maria");
        assert_eq!(profile.email.unwrap().as_str(), "maria@example.dk");
        assert!(profile.accepts_marketing);
    }

    #[test]
    fn plain_fields_are_reachable_by_their_api_name() {
        let mut input = ProfileInput::default();
        for name in Profile::PLAIN_FIELDS {
            assert_eq!(input.plain_mut(name), Some(&mut Patch::Unchanged), "{name}");
        }
        assert_eq!(input.plain_mut("locale"), None, "not a plain field");
        *input.plain_mut("lastName").unwrap() = Patch::Set(" Holm ".into());
        *input.plain_mut("phone").unwrap() = Patch::Set("+4520123456".into());
        let profile = Profile::create(&input, today(), addr).unwrap();
        assert_eq!(
            profile.last_name.as_ref().map(PersonName::as_str),
            Some("Holm")
        );
        assert_eq!(
            profile.phone.as_ref().map(Phone::as_str),
            Some("+4520123456")
        );
        assert_eq!(
            Profile::default().changed_fields(&profile),
            ["lastName", "phone"]
        );
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field() {
        let input = ProfileInput {
            first_name: Patch::Set("x".repeat(101)),
            email: Patch::Set("not-an-email".into()),
            phone: Patch::Set("20123456".into()),
            locale: Patch::Set("danish".into()),
            birth_date: Patch::Set("2030-01-01".into()),
            allergens: Patch::Set(vec!["GLUTEN".into(), "PEANUT".into()]),
            admin_notes: Patch::Set("n".repeat(5001)),
            ..ProfileInput::default()
        };
        let errors = Profile::create(&input, today(), addr).unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "firstName",
                "email",
                "phone",
                "adminNotes",
                "birthDate",
                "locale",
                "allergens[1]"
            ]
        );
    }

    #[test]
    fn null_on_a_field_that_cannot_be_empty_is_refused() {
        let input = ProfileInput {
            accepts_marketing: Patch::Clear,
            locale: Patch::Clear,
            ..ProfileInput::default()
        };
        let errors = Profile::default()
            .patched(&input, today(), addr)
            .unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["acceptsMarketing", "locale"]);
    }

    #[test]
    fn patch_keeps_absent_fields_and_clears_null_ones() {
        let mut input = seed_input();
        input.allergens = Patch::Set(vec!["NUTS".into()]);
        input.admin_notes = Patch::Set("VIP".into());
        let profile = Profile::create(&input, today(), addr).unwrap();
        let patch = ProfileInput {
            phone: Patch::Clear,
            allergens: Patch::Clear,
            admin_notes: Patch::Set("VIP customer".into()),
            ..ProfileInput::default()
        };
        let patched = profile.patched(&patch, today(), addr).unwrap();
        assert_eq!(patched.first_name, profile.first_name);
        assert_eq!(patched.email, profile.email);
        assert_eq!(patched.phone, None);
        assert!(patched.allergens.is_empty());
        assert_eq!(patched.admin_notes.unwrap().as_str(), "VIP customer");
    }

    #[test]
    fn blank_names_are_stored_as_no_name() {
        let input = ProfileInput {
            first_name: Patch::Set("   ".into()),
            ..ProfileInput::default()
        };
        let mut profile = Profile::create(&seed_input(), today(), addr).unwrap();
        profile = profile.patched(&input, today(), addr).unwrap();
        assert_eq!(profile.first_name, None);
    }

    #[test]
    fn address_fields_create_update_and_remove_the_default_address() {
        let input = ProfileInput {
            default_address_line: Patch::Set("Nørrebrogade 1".into()),
            default_zipcode: Patch::Set("2200".into()),
            ..ProfileInput::default()
        };
        let profile = Profile::create(&input, today(), addr).unwrap();
        let address = profile.default_address.clone().unwrap();
        assert_eq!(address.id, addr());
        assert_eq!(address.line.as_deref(), Some("Nørrebrogade 1"));
        assert_eq!(address.city, None);

        let city = ProfileInput {
            default_city: Patch::Set("København N".into()),
            ..ProfileInput::default()
        };
        let other_id = || AddressId::parse("addr_bbbbbbbbbbbb").unwrap();
        let with_city = profile.patched(&city, today(), other_id).unwrap();
        let address = with_city.default_address.clone().unwrap();
        assert_eq!(
            address.id,
            addr(),
            "the existing address is updated, not replaced"
        );
        assert_eq!(address.city.as_deref(), Some("København N"));
        assert_eq!(address.zipcode.as_deref(), Some("2200"));

        let clear_all = ProfileInput {
            default_address_line: Patch::Clear,
            default_zipcode: Patch::Clear,
            default_city: Patch::Clear,
            ..ProfileInput::default()
        };
        let cleared = with_city.patched(&clear_all, today(), other_id).unwrap();
        assert_eq!(cleared.default_address, None);
    }

    #[test]
    fn null_on_create_counts_as_absent() {
        let input = ProfileInput {
            first_name: Patch::Clear,
            allergens: Patch::Clear,
            ..ProfileInput::default()
        };
        let profile = Profile::create(&input, today(), addr).unwrap();
        assert_eq!(profile.first_name, None);
        assert!(profile.allergens.is_empty());
    }

    #[test]
    fn changed_fields_name_what_differs_in_api_terms() {
        let before = Profile::create(
            &ProfileInput {
                first_name: Patch::Set("Maria".into()),
                default_city: Patch::Set("Aarhus".into()),
                ..ProfileInput::default()
            },
            NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
            || AddressId::from_stored("addr_000000000001".into()),
        )
        .unwrap();
        let after = before
            .patched(
                &ProfileInput {
                    first_name: Patch::Set("Maria".into()),
                    email: Patch::Set("maria@example.dk".into()),
                    default_zipcode: Patch::Set("8000".into()),
                    allergens: Patch::Set(vec!["NUTS".into()]),
                    ..ProfileInput::default()
                },
                NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
                || AddressId::from_stored("addr_000000000002".into()),
            )
            .unwrap();
        assert_eq!(
            before.changed_fields(&after),
            ["email", "defaultZipcode", "allergens"]
        );
        assert!(after.changed_fields(&after).is_empty());
    }
}
