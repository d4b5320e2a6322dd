//! Staff users, roles, credentials and the rules of who may do what.

#[cfg(test)]
mod enforced;
mod policy;
pub mod ports;
mod principal;
mod role;
pub mod secret;
mod service;
pub mod throttle;
mod user;

pub use policy::Action;
pub use ports::{
    AttemptClaim, Busy, CredentialRepository, LoginFailureRepository, PasswordHasher,
    TokenDigester, UserRepository,
};
pub use principal::{Access, Forbidden, Holder, Principal};
pub use role::{Role, Scope};
pub use secret::SecretKind;
pub use service::{
    ApiKeyService, AuthError, LoginOutcome, NewApiKey, STAFF_TOKEN_LIFETIME_DAYS, SessionPorts,
    SessionService, StaffService,
};
pub(crate) use service::{hash_password, staff_token};
pub use user::{ApiKey, Credential, NewApiKeyInput, NewUserInput, Password, StaffUser};
