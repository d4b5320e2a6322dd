//! Identifiers: `<prefix>_<random>`, the random part at least 12 lowercase alphanumerics.

use std::fmt;

/// Shortest random part an id may have.
pub const MIN_RANDOM_LEN: usize = 12;
/// Longest random part accepted when parsing (ids are generated with [`GENERATED_RANDOM_LEN`]).
pub const MAX_RANDOM_LEN: usize = 40;
/// Random part length of generated ids: 16 characters of base32, 80 bits.
pub const GENERATED_RANDOM_LEN: usize = 16;

/// Whether `s` is `<prefix>_<12–40 lowercase alphanumerics>`.
pub fn is_well_formed(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|random| {
            (MIN_RANDOM_LEN..=MAX_RANDOM_LEN).contains(&random.len())
                && random
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The kind's prefix, written before the `_`.
            pub const PREFIX: &'static str = $prefix;

            /// Accepts only a well-formed id of this kind; anything else cannot exist.
            pub fn parse(s: &str) -> Option<Self> {
                is_well_formed(Self::PREFIX, s).then(|| Self(s.to_owned()))
            }

            /// Wraps an id read back from storage, where it was written well-formed.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            /// The id as text, e.g. `cust_…`.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A restaurant: the tenant every other record belongs to.
    StoreId, "store");
id_type!(
    /// A staff user of one store.
    UserId, "usr");
id_type!(
    /// A credential: a staff token or an API key.
    CredentialId, "key");
id_type!(
    /// A customer of one store.
    CustomerId, "cust");
id_type!(
    /// A customer's address.
    AddressId, "addr");
id_type!(
    /// An order recorded for a store (and usually a customer).
    OrderId, "ord");
id_type!(
    /// One entry of a customer's loyalty ledger.
    LedgerEntryId, "loy");
id_type!(
    /// A customer's review of an order.
    ReviewId, "rev");
id_type!(
    /// An entry of a store's audit trail.
    AuditId, "aud");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_ids_only() {
        assert!(CustomerId::parse("cust_abcdefghij12").is_some());
        assert!(CustomerId::parse("cust_abcdefghij1").is_none(), "too short");
        assert!(
            CustomerId::parse("cust_ABCDEFGHIJ12").is_none(),
            "upper case"
        );
        assert!(
            CustomerId::parse("usr_abcdefghij12").is_none(),
            "other prefix"
        );
        assert!(
            CustomerId::parse("cust-abcdefghij12").is_none(),
            "separator"
        );
        assert!(
            CustomerId::parse("cust_abcdefghij1é").is_none(),
            "non-ascii"
        );
        assert!(CustomerId::parse(&format!("cust_{}", "a".repeat(41))).is_none());
    }

    #[test]
    fn round_trips_as_text() {
        let id = StoreId::parse("store_r4k7r4k7r4k7").unwrap();
        assert_eq!(id.to_string(), "store_r4k7r4k7r4k7");
        assert_eq!(id.as_str(), StoreId::PREFIX.to_owned() + "_r4k7r4k7r4k7");
    }
}
