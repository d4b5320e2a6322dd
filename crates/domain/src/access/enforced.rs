//! Every use case refuses, by itself, the callers its [`Action`] does not admit: called directly
//! with a role below the action's or an API key without one of its scopes, it answers
//! `Forbidden` before touching any port (the mocks have no expectations: any call would panic).

use crate::access::{
    Access, Action, AuthError, NewApiKeyInput, NewUserInput, Principal, Role, Scope,
};
use crate::audit::{AuditError, AuditListParams};
use crate::customer::{CustomerError, CustomerListParams, ProfileInput};
use crate::loyalty::LoyaltyError;
use crate::order::{OrderError, OrderInput};
use crate::page::PageRequest;
use crate::review::{ModerationChange, ReviewError, ReviewInput, ReviewListParams};
use crate::testing::{TestPorts, api_key, staff};

const CUSTOMER: &str = "cust_000000000009";

/// Calls the use case of `action` as `caller`; whether it answered `Forbidden`.
async fn forbidden(action: Action, caller: &Principal) -> bool {
    let ports = TestPorts::new();
    let page = PageRequest::new(None, None).expect("the default page");
    use Action as A;
    match action {
        A::CreateCustomer => matches!(
            ports
                .customer_service()
                .create(caller, &ProfileInput::default())
                .await,
            Err(CustomerError::Forbidden)
        ),
        A::ListCustomers => matches!(
            ports
                .customer_service()
                .list(caller, &CustomerListParams::default())
                .await,
            Err(CustomerError::Forbidden)
        ),
        A::GetCustomer => matches!(
            ports.customer_service().get(caller, CUSTOMER).await,
            Err(CustomerError::Forbidden)
        ),
        A::UpdateCustomer => matches!(
            ports
                .customer_service()
                .update(caller, CUSTOMER, &ProfileInput::default())
                .await,
            Err(CustomerError::Forbidden)
        ),
        A::DeleteCustomer => matches!(
            ports.customer_service().delete(caller, CUSTOMER).await,
            Err(CustomerError::Forbidden)
        ),
        A::BlockCustomer => matches!(
            ports
                .customer_service()
                .block(caller, CUSTOMER, Some("x"))
                .await,
            Err(CustomerError::Forbidden)
        ),
        A::UnblockCustomer => matches!(
            ports.customer_service().unblock(caller, CUSTOMER).await,
            Err(CustomerError::Forbidden)
        ),
        A::ExportCustomer => matches!(
            ports.privacy_service().export(caller, CUSTOMER).await,
            Err(CustomerError::Forbidden)
        ),
        A::CustomerOrders => matches!(
            ports.order_service().history(caller, CUSTOMER, page).await,
            Err(OrderError::Forbidden)
        ),
        A::CustomerAnalytics => matches!(
            ports.order_service().analytics(caller, CUSTOMER).await,
            Err(OrderError::Forbidden)
        ),
        A::RecordOrder => matches!(
            ports
                .order_service()
                .record(caller, &OrderInput::default(), None)
                .await,
            Err(OrderError::Forbidden)
        ),
        A::GetOrder => matches!(
            ports.order_service().get(caller, "ord_000000000009").await,
            Err(OrderError::Forbidden)
        ),
        A::CancelOrder => matches!(
            ports
                .order_service()
                .cancel(caller, "ord_000000000009")
                .await,
            Err(OrderError::Forbidden)
        ),
        A::AdjustLoyalty => matches!(
            ports
                .loyalty_service()
                .adjust(caller, CUSTOMER, Some(5), Some("x"), None)
                .await,
            Err(LoyaltyError::Forbidden)
        ),
        A::CustomerLoyalty => {
            let loyalty = ports.loyalty_service();
            matches!(
                loyalty.ledger(caller, CUSTOMER, page).await,
                Err(LoyaltyError::Forbidden)
            ) && matches!(
                loyalty.balance(caller, CUSTOMER).await,
                Err(LoyaltyError::Forbidden)
            )
        }
        A::CreateReview => matches!(
            ports
                .review_service()
                .create(caller, &ReviewInput::default())
                .await,
            Err(ReviewError::Forbidden)
        ),
        A::ListReviews => matches!(
            ports
                .review_service()
                .list(caller, &ReviewListParams::default())
                .await,
            Err(ReviewError::Forbidden)
        ),
        A::ReviewStats => matches!(
            ports.review_service().stats(caller).await,
            Err(ReviewError::Forbidden)
        ),
        A::GetReview => matches!(
            ports.review_service().get(caller, "rev_000000000009").await,
            Err(ReviewError::Forbidden)
        ),
        A::ModerateReview => matches!(
            ports
                .review_service()
                .moderate(caller, "rev_000000000009", ModerationChange::default())
                .await,
            Err(ReviewError::Forbidden)
        ),
        A::RespondToReview => matches!(
            ports
                .review_service()
                .respond(caller, "rev_000000000009", Some("x"))
                .await,
            Err(ReviewError::Forbidden)
        ),
        A::DeleteReview => matches!(
            ports
                .review_service()
                .delete(caller, "rev_000000000009")
                .await,
            Err(ReviewError::Forbidden)
        ),
        A::ReadAudit => matches!(
            ports
                .audit_service()
                .list(caller, &AuditListParams::default())
                .await,
            Err(AuditError::Forbidden)
        ),
        A::Logout => matches!(
            ports.session_service().logout(caller).await,
            Err(AuthError::Forbidden)
        ),
        A::CreateUser => matches!(
            ports
                .staff_service()
                .create_user(caller, NewUserInput::default())
                .await,
            Err(AuthError::Forbidden)
        ),
        A::ListUsers => matches!(
            ports.staff_service().list_users(caller, page).await,
            Err(AuthError::Forbidden)
        ),
        A::CreateApiKey => matches!(
            ports
                .api_key_service()
                .create_api_key(caller, &NewApiKeyInput::default())
                .await,
            Err(AuthError::Forbidden)
        ),
        A::ListApiKeys => matches!(
            ports.api_key_service().list_api_keys(caller, page).await,
            Err(AuthError::Forbidden)
        ),
        A::RevokeApiKey => matches!(
            ports
                .api_key_service()
                .revoke_api_key(caller, "key_000000000009")
                .await,
            Err(AuthError::Forbidden)
        ),
        // Describes the caller itself: every credential may.
        A::Me => false,
    }
}

/// The callers `access` refuses that come closest to passing: the role just below its
/// minimum and any API key; for scoped rows, keys holding every scope but one.
fn just_refused(access: Access) -> Vec<Principal> {
    match access {
        Access::Public | Access::AnyCredential => Vec::new(),
        Access::Staff(min) => {
            let mut callers = vec![api_key(&Scope::ALL)];
            callers.extend(Role::ALL.into_iter().filter(|r| *r < min).map(staff));
            callers
        }
        Access::StaffOrKey(needed) => needed
            .iter()
            .map(|missing| {
                let held: Vec<Scope> = Scope::ALL.into_iter().filter(|s| s != missing).collect();
                api_key(&held)
            })
            .collect(),
    }
}

#[tokio::test]
async fn every_use_case_refuses_the_callers_its_action_does_not_admit() {
    let mut checked = 0;
    for action in Action::ALL {
        for caller in just_refused(action.access()) {
            assert!(
                forbidden(action, &caller).await,
                "{action:?} let {:?} through",
                caller.holder
            );
            checked += 1;
        }
    }
    // Every row but `Me` refuses someone.
    assert!(
        checked >= Action::ALL.len() - 1,
        "only {checked} refusals checked"
    );
}

#[tokio::test]
async fn a_manager_adjusts_points_but_staff_may_not() {
    assert!(forbidden(Action::AdjustLoyalty, &staff(Role::Staff)).await);
    // A manager passes the check and reaches the (mocked) ledger: the mock panics on the
    // unexpected call, which shows the refusal above came from the rule, not the port.
    let reached =
        tokio::spawn(async { forbidden(Action::AdjustLoyalty, &staff(Role::Manager)).await }).await;
    assert!(reached.is_err(), "a manager should get past the role check");
}
