//! Customer rows as stored, and their conversion to and from the domain's types.

use chrono::NaiveDate;
use customers_domain::customer::{
    Activity, Address, AdminNotes, Allergen, Allergens, BirthDate, Block, BlockReason, Customer,
    CustomerSummary, Email, Locale, PersonName, Phone, Profile,
};
use customers_domain::ids::{AddressId, CustomerId, StoreId};
use customers_domain::ports::RepoError;
use diesel::{AsChangeset, Insertable, Queryable, Selectable};

use crate::error::corrupt;
use crate::schema::{customer_addresses, customer_allergens, customers};
use crate::time::{from_db, to_db};
use chrono::NaiveDateTime;

/// The profile's columns, with the keys derived from them; written by insert and update.
#[derive(AsChangeset, Insertable)]
#[diesel(table_name = customers, treat_none_as_null = true)]
pub(crate) struct ProfileColumns {
    first_name: Option<String>,
    last_name: Option<String>,
    first_name_key: Option<String>,
    email: Option<String>,
    email_key: Option<String>,
    phone: Option<String>,
    accepts_marketing: bool,
    locale: String,
    admin_notes: Option<String>,
    birth_date: Option<NaiveDate>,
    search_text: String,
}

impl ProfileColumns {
    pub(crate) fn new(profile: &Profile) -> Self {
        let first_name = profile.first_name.as_ref().map(|n| n.as_str().to_owned());
        Self {
            first_name_key: profile.first_name_key(),
            first_name,
            last_name: profile.last_name.as_ref().map(|n| n.as_str().to_owned()),
            email: profile.email.as_ref().map(|e| e.as_str().to_owned()),
            email_key: profile.email.as_ref().map(Email::normalized),
            phone: profile.phone.as_ref().map(|p| p.as_str().to_owned()),
            accepts_marketing: profile.accepts_marketing,
            locale: profile.locale.as_str().to_owned(),
            admin_notes: profile.admin_notes.as_ref().map(|n| n.as_str().to_owned()),
            birth_date: profile.birth_date.map(|d| d.date()),
            search_text: profile.search_text(),
        }
    }
}

/// A new customer's row: the profile, then everything else.
#[derive(Insertable)]
#[diesel(table_name = customers)]
pub(crate) struct NewCustomer {
    store_id: String,
    id: String,
    #[diesel(embed)]
    profile: ProfileColumns,
    is_blocked: bool,
    blocked_reason: Option<String>,
    blocked_at: Option<NaiveDateTime>,
    total_spent_minor: i64,
    total_orders: i64,
    last_order_at: Option<NaiveDateTime>,
    loyalty_points: i64,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl NewCustomer {
    pub(crate) fn new(customer: &Customer) -> Self {
        Self {
            store_id: customer.store_id.as_str().to_owned(),
            id: customer.id.as_str().to_owned(),
            profile: ProfileColumns::new(&customer.profile),
            is_blocked: customer.block.is_some(),
            blocked_reason: customer
                .block
                .as_ref()
                .and_then(|b| b.reason.as_ref())
                .map(|r| r.as_str().to_owned()),
            blocked_at: customer.block.as_ref().map(|b| to_db(b.at)),
            total_spent_minor: customer.activity.total_spent_minor,
            total_orders: customer.activity.total_orders,
            last_order_at: customer.activity.last_order_at.map(to_db),
            loyalty_points: customer.activity.loyalty_points,
            version: customer.version,
            created_at: to_db(customer.created_at),
            updated_at: to_db(customer.updated_at),
        }
    }
}

/// A customer's default address, as written.
#[derive(Insertable)]
#[diesel(table_name = customer_addresses)]
pub(crate) struct NewAddress {
    pub(crate) store_id: String,
    pub(crate) id: String,
    pub(crate) customer_id: String,
    pub(crate) line: Option<String>,
    pub(crate) zipcode: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) is_default: bool,
}

impl NewAddress {
    pub(crate) fn default_of(
        store: &StoreId,
        customer: &CustomerId,
        profile: &Profile,
    ) -> Option<Self> {
        profile.default_address.as_ref().map(|address| Self {
            store_id: store.as_str().to_owned(),
            id: address.id.as_str().to_owned(),
            customer_id: customer.as_str().to_owned(),
            line: address.line.clone(),
            zipcode: address.zipcode.clone(),
            city: address.city.clone(),
            is_default: true,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = customer_allergens)]
pub(crate) struct NewAllergen {
    store_id: String,
    customer_id: String,
    allergen: &'static str,
}

impl NewAllergen {
    pub(crate) fn all_of(store: &StoreId, customer: &CustomerId, profile: &Profile) -> Vec<Self> {
        profile
            .allergens
            .iter()
            .map(|allergen| Self {
                store_id: store.as_str().to_owned(),
                customer_id: customer.as_str().to_owned(),
                allergen: allergen.code(),
            })
            .collect()
    }
}

/// A customer row as read back (without the derived keys).
#[derive(Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    store_id: String,
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    accepts_marketing: bool,
    locale: String,
    admin_notes: Option<String>,
    birth_date: Option<NaiveDate>,
    is_blocked: bool,
    blocked_reason: Option<String>,
    blocked_at: Option<NaiveDateTime>,
    total_spent_minor: i64,
    total_orders: i64,
    last_order_at: Option<NaiveDateTime>,
    loyalty_points: i64,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = customer_addresses, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct AddressRow {
    id: String,
    line: Option<String>,
    zipcode: Option<String>,
    city: Option<String>,
}

impl CustomerRow {
    /// The customer, given its default address and allergen codes.
    pub(crate) fn into_customer(
        self,
        address: Option<AddressRow>,
        allergen_codes: &[String],
    ) -> Result<Customer, RepoError> {
        let allergens = allergen_codes
            .iter()
            .map(|code| {
                code.parse::<Allergen>()
                    .map_err(|_| corrupt("allergen", code))
            })
            .collect::<Result<Allergens, _>>()?;
        let block = stored_block(self.is_blocked, self.blocked_reason, self.blocked_at);
        Ok(Customer {
            id: CustomerId::from_stored(self.id),
            store_id: StoreId::from_stored(self.store_id),
            profile: Profile {
                first_name: self.first_name.map(PersonName::from_stored),
                last_name: self.last_name.map(PersonName::from_stored),
                email: self.email.map(Email::from_stored),
                phone: self.phone.map(Phone::from_stored),
                accepts_marketing: self.accepts_marketing,
                locale: Locale::from_stored(self.locale),
                default_address: address.map(|a| Address {
                    id: AddressId::from_stored(a.id),
                    line: a.line,
                    zipcode: a.zipcode,
                    city: a.city,
                }),
                admin_notes: self.admin_notes.map(AdminNotes::from_stored),
                birth_date: self.birth_date.map(BirthDate::from_stored),
                allergens,
            },
            activity: Activity {
                total_spent_minor: self.total_spent_minor,
                total_orders: self.total_orders,
                last_order_at: self.last_order_at.map(from_db),
                loyalty_points: self.loyalty_points,
            },
            block,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
            version: self.version,
        })
    }
}

/// A row of the customer list: only the columns of [`CustomerSummary`].
#[derive(Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct SummaryRow {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    is_blocked: bool,
    total_spent_minor: i64,
    total_orders: i64,
    last_order_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl From<SummaryRow> for CustomerSummary {
    fn from(row: SummaryRow) -> Self {
        CustomerSummary {
            id: CustomerId::from_stored(row.id),
            first_name: row.first_name.map(PersonName::from_stored),
            last_name: row.last_name.map(PersonName::from_stored),
            email: row.email.map(Email::from_stored),
            phone: row.phone.map(Phone::from_stored),
            is_blocked: row.is_blocked,
            total_spent_minor: row.total_spent_minor,
            total_orders: row.total_orders,
            last_order_at: row.last_order_at.map(from_db),
            created_at: from_db(row.created_at),
        }
    }
}

/// The block the columns `is_blocked`, `blocked_reason` and `blocked_at` hold.
pub(crate) fn stored_block(
    blocked: bool,
    reason: Option<String>,
    at: Option<NaiveDateTime>,
) -> Option<Block> {
    match (blocked, at) {
        (true, Some(at)) => Some(Block {
            reason: reason.map(BlockReason::from_stored),
            at: from_db(at),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_store_the_domains_search_text_and_sort_key() {
        let profile = Profile {
            first_name: Some(PersonName::from_stored("ÅSE Bo".into())),
            email: Some(Email::from_stored("Ase@Example.DK".into())),
            ..Profile::default()
        };
        let columns = ProfileColumns::new(&profile);
        assert_eq!(columns.first_name_key, profile.first_name_key());
        assert_eq!(columns.search_text, profile.search_text());
        assert!(columns.search_text.contains("ase@example.dk"));
    }
}
