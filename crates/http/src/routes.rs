//! The access table: every endpoint, its method, who may call it (docs/api.md §2), whether it
//! honours `Idempotency-Key`, which query parameters it takes and what it costs.
//!
//! The router is built from it, the auth middleware enforces it, `405 Allow` is derived from
//! it, the query parser reads its parameters, the OpenAPI document is made from it, and the
//! tests walk it. An endpoint that is not in this table does not exist.

use actix_web::http::Method;
use customers_domain::access::{Access, Action};

use crate::query::{PAGE_ONLY, Param};
use crate::{audit, customers, reviews};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }

    pub fn from_method(method: &Method) -> Option<Self> {
        [Self::Get, Self::Post, Self::Patch, Self::Delete]
            .into_iter()
            .find(|verb| verb.method() == method)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// Which handler serves a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    CreateCustomer,
    ListCustomers,
    GetCustomer,
    UpdateCustomer,
    DeleteCustomer,
    BlockCustomer,
    UnblockCustomer,
    CustomerOrders,
    AdjustLoyalty,
    CustomerLoyalty,
    CustomerAnalytics,
    ExportCustomer,
    RecordOrder,
    GetOrder,
    CancelOrder,
    CreateReview,
    ListReviews,
    ReviewStats,
    GetReview,
    ModerateReview,
    RespondToReview,
    DeleteReview,
    Login,
    Logout,
    Me,
    CreateUser,
    ListUsers,
    CreateApiKey,
    ListApiKeys,
    RevokeApiKey,
    Audit,
    Health,
    Ready,
    Metrics,
    OpenApi,
    Docs,
    DocsAsset,
}

/// One row of the access table.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub verb: Verb,
    /// actix path pattern, e.g. `/customers/{id}`.
    pub path: &'static str,
    /// Who may call it: what the domain demands of [`Route::action`], or anyone.
    pub access: Access,
    /// The use case the handler runs (`None` for the public endpoints: login, health, docs).
    pub action: Option<Action>,
    pub endpoint: Endpoint,
    pub summary: &'static str,
    /// Whether a repeat with the same `Idempotency-Key` answers the first response (docs/api.md
    /// §4, "Idempotency"). Exactly the handlers of rows so marked take
    /// [`crate::idempotent::Idempotent`], the only way to run [`crate::idempotent::run_once`]:
    /// `crate::app` does not compile otherwise. The OpenAPI operation documents the header and
    /// its errors from this field.
    pub idempotent: bool,
    /// The query parameters it takes: [`crate::query::QueryParams`] accepts these and no
    /// other, the handler reads each of them, and the OpenAPI operation lists them. Exactly the
    /// handlers of rows with parameters take `QueryParams` (checked by `crate::app`).
    pub query: &'static [Param],
    /// What a request costs the database: the per-credential scan cap
    /// (`crate::limits::Permit::scan`) holds the rows marked [`Cost::Scan`].
    pub cost: Cost,
}

/// What one request of a route costs the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Rows found by key: a read by id, a write, a credential. Bounded whatever the store's
    /// size.
    Point,
    /// A list, a search or an aggregate: its cost grows with the store's data (or one
    /// customer's history), and a slow one keeps a database core busy.
    Scan,
}

impl Route {
    /// This row, marked as a scan ([`Cost::Scan`]).
    const fn scan(self) -> Self {
        Self {
            cost: Cost::Scan,
            ..self
        }
    }

    /// This row, marked as honouring `Idempotency-Key`.
    const fn idempotent(self) -> Self {
        Self {
            idempotent: true,
            ..self
        }
    }

    /// This row, with the query parameters it takes.
    const fn query(self, query: &'static [Param]) -> Self {
        Self { query, ..self }
    }
}

/// A row whose handler runs the use case `action`: callers need what the domain's policy
/// demands of it ([`Action::access`]), so the table and the use case cannot disagree.
const fn route(
    verb: Verb,
    path: &'static str,
    action: Action,
    endpoint: Endpoint,
    summary: &'static str,
) -> Route {
    Route {
        verb,
        path,
        access: action.access(),
        action: Some(action),
        endpoint,
        summary,
        idempotent: false,
        query: &[],
        cost: Cost::Point,
    }
}

/// A row anyone may call: no use case of the domain runs behind it.
const fn public(
    verb: Verb,
    path: &'static str,
    endpoint: Endpoint,
    summary: &'static str,
) -> Route {
    Route {
        verb,
        path,
        access: Access::Public,
        action: None,
        endpoint,
        summary,
        idempotent: false,
        query: &[],
        cost: Cost::Point,
    }
}

use Endpoint as E;
use Verb::*;

#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    route(Post, "/customers", Action::CreateCustomer, E::CreateCustomer, "Create a customer profile"),
    route(Get, "/customers", Action::ListCustomers, E::ListCustomers, "List customers with filtering and sorting").query(customers::LIST_QUERY).scan(),
    route(Get, "/customers/{id}", Action::GetCustomer, E::GetCustomer, "Get a customer's full profile"),
    route(Patch, "/customers/{id}", Action::UpdateCustomer, E::UpdateCustomer, "Update a customer profile"),
    route(Delete, "/customers/{id}", Action::DeleteCustomer, E::DeleteCustomer, "Erase a customer"),
    route(Post, "/customers/{id}/block", Action::BlockCustomer, E::BlockCustomer, "Block a customer from new orders"),
    route(Post, "/customers/{id}/unblock", Action::UnblockCustomer, E::UnblockCustomer, "Remove a customer's block"),
    route(Get, "/customers/{id}/orders", Action::CustomerOrders, E::CustomerOrders, "A customer's order history, newest first").query(PAGE_ONLY).scan(),
    route(Post, "/customers/{id}/loyalty/adjust", Action::AdjustLoyalty, E::AdjustLoyalty, "Add or deduct loyalty points by hand").idempotent(),
    route(Get, "/customers/{id}/loyalty", Action::CustomerLoyalty, E::CustomerLoyalty, "A customer's balance and ledger, newest first").query(PAGE_ONLY).scan(),
    route(Get, "/customers/{id}/analytics", Action::CustomerAnalytics, E::CustomerAnalytics, "A customer's purchase analytics").scan(),
    route(Get, "/customers/{id}/export", Action::ExportCustomer, E::ExportCustomer, "Everything held about a customer, in one document").scan(),
    route(Post, "/orders", Action::RecordOrder, E::RecordOrder, "Record an order").idempotent(),
    route(Get, "/orders/{id}", Action::GetOrder, E::GetOrder, "Get an order"),
    route(Post, "/orders/{id}/cancel", Action::CancelOrder, E::CancelOrder, "Cancel an order once"),
    route(Post, "/reviews", Action::CreateReview, E::CreateReview, "Create a review of an order"),
    route(Get, "/reviews", Action::ListReviews, E::ListReviews, "List the store's reviews, newest first").query(reviews::LIST_QUERY).scan(),
    // Before "/reviews/{id}", which would otherwise take "stats" for an id.
    route(Get, "/reviews/stats", Action::ReviewStats, E::ReviewStats, "Aggregate review statistics").scan(),
    route(Get, "/reviews/{id}", Action::GetReview, E::GetReview, "Get a review"),
    route(Patch, "/reviews/{id}", Action::ModerateReview, E::ModerateReview, "Approve, hide or feature a review"),
    route(Post, "/reviews/{id}/response", Action::RespondToReview, E::RespondToReview, "Add or replace the store's response"),
    route(Delete, "/reviews/{id}", Action::DeleteReview, E::DeleteReview, "Delete a review"),
    public(Post, "/auth/login", E::Login, "Exchange a password for a staff token"),
    route(Post, "/auth/logout", Action::Logout, E::Logout, "Revoke the staff token in use"),
    route(Get, "/auth/me", Action::Me, E::Me, "Describe the credential in use"),
    route(Post, "/users", Action::CreateUser, E::CreateUser, "Add a staff user"),
    route(Get, "/users", Action::ListUsers, E::ListUsers, "List staff users").query(PAGE_ONLY).scan(),
    route(Post, "/api-keys", Action::CreateApiKey, E::CreateApiKey, "Create an API key (its secret is shown once)"),
    route(Get, "/api-keys", Action::ListApiKeys, E::ListApiKeys, "List the store's API keys").query(PAGE_ONLY).scan(),
    route(Delete, "/api-keys/{id}", Action::RevokeApiKey, E::RevokeApiKey, "Revoke an API key at once"),
    route(Get, "/audit", Action::ReadAudit, E::Audit, "Read the audit trail of customer changes and credential events").query(audit::LIST_QUERY).scan(),
    public(Get, "/healthz", E::Health, "Liveness: the process answers"),
    public(Get, "/readyz", E::Ready, "Readiness: the database answers"),
    public(Get, "/metrics", E::Metrics, "Prometheus metrics"),
    public(Get, "/openapi.json", E::OpenApi, "This API's OpenAPI 3.1 document"),
    public(Get, "/docs", E::Docs, "Interactive API reference"),
    public(Get, "/docs/{asset}", E::DocsAsset, "A file of the API reference page"),
];

/// The row of an endpoint, for constant evaluation (see `crate::app`).
pub const fn row(endpoint: Endpoint) -> &'static Route {
    let mut i = 0;
    while i < ROUTES.len() {
        if ROUTES[i].endpoint as usize == endpoint as usize {
            return &ROUTES[i];
        }
        i += 1;
    }
    panic!("an endpoint without a row in the access table")
}

/// The row for a method on a matched path pattern.
pub fn find(method: &Method, pattern: &str) -> Option<&'static Route> {
    let verb = Verb::from_method(method)?;
    ROUTES
        .iter()
        .find(|route| route.verb == verb && route.path == pattern)
}

/// `Allow` for a path pattern: the methods the table has for it.
pub fn allowed_methods(pattern: &str) -> String {
    ROUTES
        .iter()
        .filter(|route| route.path == pattern)
        .map(|route| route.verb.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every distinct path, in table order.
pub fn paths() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use customers_domain::access::{Role, Scope};
    use std::collections::HashSet;

    #[test]
    fn each_method_and_path_appears_once() {
        let mut seen = HashSet::new();
        for route in ROUTES {
            assert!(
                seen.insert((route.verb, route.path)),
                "{:?} {}",
                route.verb,
                route.path
            );
        }
        let endpoints: HashSet<_> = ROUTES.iter().map(|r| r.endpoint).collect();
        assert_eq!(endpoints.len(), ROUTES.len(), "one route per endpoint");
    }

    #[test]
    fn the_table_matches_the_contract_for_customers() {
        let access = |verb, path| find(&Verb::method(verb), path).unwrap().access;
        assert_eq!(access(Post, "/customers"), Access::Staff(Role::Staff));
        assert_eq!(
            access(Patch, "/customers/{id}"),
            Access::Staff(Role::Manager)
        );
        assert_eq!(
            access(Delete, "/customers/{id}"),
            Access::Staff(Role::Admin)
        );
        assert_eq!(
            access(Get, "/customers/{id}"),
            Access::StaffOrKey(&[Scope::ReadCustomers])
        );
        assert_eq!(access(Post, "/users"), Access::Staff(Role::Admin));
        assert_eq!(
            access(Get, "/customers/{id}/orders"),
            Access::StaffOrKey(&[Scope::ReadCustomers, Scope::ReadOrders])
        );
        assert_eq!(
            access(Post, "/customers/{id}/loyalty/adjust"),
            Access::Staff(Role::Manager)
        );
        assert_eq!(
            access(Post, "/orders"),
            Access::StaffOrKey(&[Scope::WriteOrders])
        );
        // A repeated externalId shows the order to exactly those who may read it.
        assert_eq!(
            access(Get, "/orders/{id}"),
            customers_domain::access::Action::GetOrder.access()
        );
    }

    /// The use case behind an endpoint, for those that act for a caller.
    /// Every use case of the domain has exactly one route, and only the routes with none are
    /// public.
    #[test]
    fn every_use_case_has_one_route_and_the_others_are_public() {
        let mut covered = Vec::new();
        for route in ROUTES {
            match route.action {
                Some(action) => {
                    assert_eq!(route.access, action.access(), "{}", route.path);
                    assert!(!covered.contains(&action), "{action:?} has two routes");
                    covered.push(action);
                }
                None => assert_eq!(route.access, Access::Public, "{}", route.path),
            }
        }
        for action in Action::ALL {
            assert!(covered.contains(&action), "{action:?} has no route");
        }
        assert!(matches!(
            find(&Method::POST, "/auth/login").map(|r| r.action),
            Some(None)
        ));
    }

    /// Every list (a row with query parameters) and every aggregate is a scan; reads by id,
    /// writes and public rows are not.
    #[test]
    fn lists_and_aggregates_are_scans_and_reads_by_id_are_not() {
        let scans: Vec<_> = ROUTES
            .iter()
            .filter(|route| route.cost == Cost::Scan)
            .map(|route| route.endpoint)
            .collect();
        for route in ROUTES {
            if !route.query.is_empty() {
                assert_eq!(route.cost, Cost::Scan, "{}", route.path);
            }
            if route.verb != Get || route.access == Access::Public {
                assert_eq!(route.cost, Cost::Point, "{}", route.path);
            }
        }
        for endpoint in [
            E::CustomerAnalytics,
            E::ExportCustomer,
            E::ReviewStats,
            E::ListCustomers,
        ] {
            assert!(scans.contains(&endpoint), "{endpoint:?}");
        }
        for endpoint in [E::GetCustomer, E::GetOrder, E::GetReview, E::Me] {
            assert_eq!(row(endpoint).cost, Cost::Point, "{endpoint:?}");
        }
    }

    #[test]
    fn allow_lists_the_methods_of_a_path() {
        assert_eq!(allowed_methods("/customers/{id}"), "GET, PATCH, DELETE");
        assert_eq!(allowed_methods("/healthz"), "GET");
        assert!(find(&Method::PUT, "/customers").is_none());
    }
}
