//! Who may do what: one [`Action`] per use case and the [`Access`] it demands.
//!
//! Every use case that acts for a caller checks its action here before anything else, so a
//! service called directly (without the HTTP adapter) refuses exactly what the API refuses.
//! The HTTP access table names the routes and is tested against this table.

use crate::access::principal::{Access, Forbidden, Principal};
use crate::access::role::{Role, Scope};

/// A use case done on behalf of a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `POST /customers`: staff and above.
    CreateCustomer,
    /// `GET /customers`: any staff token, or a key with `read:customers`.
    ListCustomers,
    /// `GET /customers/:id`: any staff token, or a key with `read:customers`.
    GetCustomer,
    /// `PATCH /customers/:id`: manager and above.
    UpdateCustomer,
    /// `DELETE /customers/:id`: admin and owner.
    DeleteCustomer,
    /// `POST /customers/:id/block`: manager and above.
    BlockCustomer,
    /// `POST /customers/:id/unblock`: manager and above.
    UnblockCustomer,
    /// `GET /customers/:id/orders`: any staff token, or a key with `read:customers` and
    /// `read:orders`.
    CustomerOrders,
    /// `POST /customers/:id/loyalty/adjust`: manager and above.
    AdjustLoyalty,
    /// `GET /customers/:id/loyalty`: any staff token, or a key with `read:customers`.
    CustomerLoyalty,
    /// `GET /customers/:id/analytics`: any staff token, or a key with `read:customers` and
    /// `read:analytics`.
    CustomerAnalytics,
    /// `GET /customers/:id/export`: admin and owner.
    ExportCustomer,
    /// `POST /orders`: any staff token, or a key with `write:orders`.
    RecordOrder,
    /// `GET /orders/:id`: any staff token, or a key with `read:orders`.
    GetOrder,
    /// `POST /orders/:id/cancel`: any staff token, or a key with `write:orders`.
    CancelOrder,
    /// `POST /reviews`: any staff token; no API key.
    CreateReview,
    /// `GET /reviews`: any staff token, or a key with `read:orders`.
    ListReviews,
    /// `GET /reviews/stats`: any staff token, or a key with `read:orders`.
    ReviewStats,
    /// `GET /reviews/:id`: any staff token, or a key with `read:orders`.
    GetReview,
    /// `PATCH /reviews/:id`: manager and above.
    ModerateReview,
    /// `POST /reviews/:id/response`: manager and above.
    RespondToReview,
    /// `DELETE /reviews/:id`: admin and owner.
    DeleteReview,
    /// `POST /auth/logout`: any staff token; a key is revoked with `DELETE /api-keys/:id`.
    Logout,
    /// `GET /auth/me`: any credential.
    Me,
    /// `POST /users`: admin and owner (only an owner makes owners).
    CreateUser,
    /// `GET /users`: admin and owner.
    ListUsers,
    /// `POST /api-keys`: admin and owner.
    CreateApiKey,
    /// `GET /api-keys`: admin and owner.
    ListApiKeys,
    /// `DELETE /api-keys/:id`: admin and owner.
    RevokeApiKey,
    /// `GET /audit`: admin and owner.
    ReadAudit,
}

const READ_CUSTOMERS: &[Scope] = &[Scope::ReadCustomers];
const READ_CUSTOMER_ORDERS: &[Scope] = &[Scope::ReadCustomers, Scope::ReadOrders];
const READ_CUSTOMER_ANALYTICS: &[Scope] = &[Scope::ReadCustomers, Scope::ReadAnalytics];
const READ_ORDERS: &[Scope] = &[Scope::ReadOrders];
const WRITE_ORDERS: &[Scope] = &[Scope::WriteOrders];

impl Action {
    /// Every action, for the tests that walk them.
    pub const ALL: [Action; 30] = [
        Self::CreateCustomer,
        Self::ListCustomers,
        Self::GetCustomer,
        Self::UpdateCustomer,
        Self::DeleteCustomer,
        Self::BlockCustomer,
        Self::UnblockCustomer,
        Self::CustomerOrders,
        Self::AdjustLoyalty,
        Self::CustomerLoyalty,
        Self::CustomerAnalytics,
        Self::ExportCustomer,
        Self::RecordOrder,
        Self::GetOrder,
        Self::CancelOrder,
        Self::CreateReview,
        Self::ListReviews,
        Self::ReviewStats,
        Self::GetReview,
        Self::ModerateReview,
        Self::RespondToReview,
        Self::DeleteReview,
        Self::Logout,
        Self::Me,
        Self::CreateUser,
        Self::ListUsers,
        Self::CreateApiKey,
        Self::ListApiKeys,
        Self::RevokeApiKey,
        Self::ReadAudit,
    ];

    /// What the action demands of its caller (docs/api.md §2).
    pub const fn access(self) -> Access {
        use Access::{AnyCredential, Staff, StaffOrKey};
        match self {
            Self::CreateCustomer | Self::CreateReview | Self::Logout => Staff(Role::Staff),
            Self::ListCustomers | Self::GetCustomer | Self::CustomerLoyalty => {
                StaffOrKey(READ_CUSTOMERS)
            }
            Self::UpdateCustomer
            | Self::BlockCustomer
            | Self::UnblockCustomer
            | Self::AdjustLoyalty
            | Self::ModerateReview
            | Self::RespondToReview => Staff(Role::Manager),
            Self::DeleteCustomer
            | Self::ExportCustomer
            | Self::DeleteReview
            | Self::CreateUser
            | Self::ListUsers
            | Self::CreateApiKey
            | Self::ListApiKeys
            | Self::RevokeApiKey
            | Self::ReadAudit => Staff(Role::Admin),
            Self::CustomerOrders => StaffOrKey(READ_CUSTOMER_ORDERS),
            Self::CustomerAnalytics => StaffOrKey(READ_CUSTOMER_ANALYTICS),
            Self::RecordOrder | Self::CancelOrder => StaffOrKey(WRITE_ORDERS),
            Self::GetOrder | Self::ListReviews | Self::ReviewStats | Self::GetReview => {
                StaffOrKey(READ_ORDERS)
            }
            Self::Me => AnyCredential,
        }
    }
}

impl Principal {
    /// Whether this caller may do `action`; every use case asks before it does anything.
    pub fn may(&self, action: Action) -> Result<(), Forbidden> {
        self.authorize(action.access())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{api_key, staff};

    #[test]
    fn every_action_refuses_someone_but_the_owner_may_do_all() {
        for action in Action::ALL {
            assert_eq!(staff(Role::Owner).may(action), Ok(()), "{action:?}");
            if action != Action::Me {
                let no_scopes = api_key(&[]).may(action).is_err();
                assert!(no_scopes, "{action:?} lets a key without scopes through");
            }
        }
    }

    #[test]
    fn writes_of_customers_need_a_manager() {
        assert_eq!(
            staff(Role::Staff).may(Action::UpdateCustomer),
            Err(Forbidden)
        );
        assert_eq!(staff(Role::Manager).may(Action::UpdateCustomer), Ok(()));
        assert_eq!(
            api_key(&Scope::ALL).may(Action::AdjustLoyalty),
            Err(Forbidden)
        );
    }
}
