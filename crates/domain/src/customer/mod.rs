//! The customer profile: its values, its rules, listing, and the customer use cases.

mod fields;
mod model;
pub mod ports;
mod query;
mod service;
mod values;

pub use model::{
    Activity, Address, Block, Customer, CustomerSummary, Patch, Profile, ProfileInput,
};
pub use ports::CustomerRepository;
pub use query::{
    CustomerFilter, CustomerListParams, CustomerListQuery, CustomerSort, LastOrderPeriod,
    MAX_SEARCH_LEN, SortDirection,
};
pub use service::{CustomerError, CustomerService};
pub use values::{
    AddressPart, AdminNotes, Allergen, Allergens, BirthDate, BlockReason, Email, Locale,
    PersonName, Phone, ProfileValue,
};
