//! The names an embedding service needs most: the services, their errors, the ports and the
//! caller. `use customers_domain::prelude::*;`

pub use crate::access::{
    Access, Action, ApiKeyService, AuthError, CredentialRepository, Forbidden, Holder,
    LoginFailureRepository, PasswordHasher, Principal, Role, Scope, SessionPorts, SessionService,
    StaffService, TokenDigester, UserRepository,
};
pub use crate::audit::{AuditError, AuditRepository, AuditService};
pub use crate::customer::{
    Customer, CustomerError, CustomerListParams, CustomerRepository, CustomerService, Patch,
    ProfileInput,
};
pub use crate::idempotency::{Idempotency, IdempotencyRepository};
pub use crate::loyalty::{LoyaltyError, LoyaltyRepository, LoyaltyService};
#[cfg(feature = "memory")]
pub use crate::memory::{Memory, block_on};
pub use crate::order::{
    Order, OrderError, OrderInput, OrderItemInput, OrderRepository, OrderService,
};
pub use crate::page::{Page, PageRequest};
pub use crate::ports::{Clock, IdGenerator, RepoError, System};
pub use crate::privacy::PrivacyService;
pub use crate::review::{ReviewError, ReviewRepository, ReviewService};
pub use crate::services::{Repositories, Services};
pub use crate::store::{Store, StoreError, StoreRepository, StoreService, StoreSettings};
