//! The table of the profile's plain fields: one optional value each, sent and shown as a JSON
//! string (or `null`), validated by its type's [`ProfileValue`](super::ProfileValue) rule.
//!
//! Everything else about such a field follows from its line here: the fields of
//! [`Profile`](super::Profile) and [`ProfileInput`](super::ProfileInput), validation, `null`
//! clearing, the audit trail's changed fields, and in the HTTP crate the request body, the
//! response and the OpenAPI schemas. Adding one is a line here, a column (a migration in
//! `migrations/shared`, `schema.rs`, the persistence crate's `customers/rows.rs`) and its
//! paragraph in docs/api.md.

/// Calls the macro `$callback` with the table of plain profile fields, each as
/// `/// description` lines, then `field_name: ValueType = "apiName",`. The description is the
/// field's rustdoc and its OpenAPI description.
#[macro_export]
macro_rules! plain_profile_fields {
    ($callback:ident) => {
        $callback! {
            /// Given name; blank means no value.
            first_name: $crate::customer::PersonName = "firstName",
            /// Family name; blank means no value.
            last_name: $crate::customer::PersonName = "lastName",
            /// Email address, unique per store compared case-insensitively; kept as written.
            email: $crate::customer::Email = "email",
            /// Phone number in E.164 (e.g. +4520123456), unique per store.
            phone: $crate::customer::Phone = "phone",
            /// Internal notes, never shown to the customer.
            admin_notes: $crate::customer::AdminNotes = "adminNotes",
            /// Date of birth.
            birth_date: $crate::customer::BirthDate = "birthDate",
        }
    };
}
