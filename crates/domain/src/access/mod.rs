//! Staff users, roles, credentials and the rules of who may do what.

mod principal;
mod role;
pub mod secret;
mod service;
pub mod throttle;
mod user;

pub use principal::{Access, Forbidden, Holder, Principal};
pub use role::{Role, Scope};
pub use secret::SecretKind;
pub use service::{
    AccessService, AuthError, LoginOutcome, NewApiKey, NewStoreOutcome, STAFF_TOKEN_LIFETIME_DAYS,
};
pub use user::{ApiKey, Credential, NewApiKeyInput, NewUserInput, Password, StaffUser};
