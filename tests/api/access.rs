//! Credentials and roles: login, logout, `/auth/me`, users, and the access table enforced
//! cell by cell.

use customers_domain::access::{Access, Role};
use customers_http::routes::{Endpoint, ROUTES, Verb};
use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    login_gives_a_token_that_works_until_logout,
    failed_logins_look_alike,
    users_are_created_by_admins_without_exposing_hashes,
    every_route_enforces_its_row_of_the_access_table,
    missing_bad_and_forged_credentials_are_unauthorized,
    an_api_key_cannot_log_itself_out,
);

/// Keys are revoked by an admin (`DELETE /api-keys/{id}`, audited as such), never by
/// themselves: `POST /auth/logout` with a key is 403 and the key keeps working.
async fn an_api_key_cannot_log_itself_out(s: TestServer) {
    let (_, key) = s.api_key(&ALL_SCOPES).await;
    let reply = s.send(Method::POST, "/auth/logout", Some(&key), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.body);
    assert_eq!(reply.code(), "FORBIDDEN");
    let me = s.get("/auth/me", &key).await;
    assert_eq!(me.status, StatusCode::OK, "the key still works");
    assert_eq!(me.data()["kind"], "apiKey");
    assert_eq!(
        s.get("/customers", &key).await.status,
        StatusCode::OK,
        "and still reads what its scopes allow"
    );
}

async fn login_gives_a_token_that_works_until_logout(s: TestServer) {
    s.post(
        "/users",
        &s.owner_token,
        json!({"email": "Chef@Example.dk", "password": "a long enough password", "role": "manager", "name": "Chef"}),
    )
    .await;
    let reply = s
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"storeId": s.store_id, "email": "chef@example.dk", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.data()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("ord_live_sk_{}_", s.store_id)));
    assert_eq!(reply.data()["user"]["role"], "manager");
    assert_eq!(reply.data()["user"]["email"], "Chef@Example.dk");
    assert!(reply.data()["expiresAt"].as_str().unwrap().ends_with('Z'));

    let me = s.get("/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.data()["kind"], "staff");
    assert_eq!(me.data()["storeId"], s.store_id.as_str());
    assert_eq!(me.data()["user"]["role"], "manager");
    assert!(me.data().get("apiKey").is_none());
    assert_eq!(me.header("cache-control"), Some("no-store"));

    let logout = s
        .send(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let after = s.get("/auth/me", &token).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.get("/auth/me", &s.owner_token).await.status,
        StatusCode::OK,
        "other tokens live on"
    );
}

async fn failed_logins_look_alike(s: TestServer) {
    s.staff_token("staff").await;
    let attempt = |email: &'static str, password: &'static str, store: String| {
        let s = &s;
        async move {
            s.send(
                Method::POST,
                "/auth/login",
                None,
                Some(&json!({"storeId": store, "email": email, "password": password})),
            )
            .await
        }
    };
    let known = s.get("/users", &s.owner_token).await.data()[0]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let known: &'static str = Box::leak(known.into_boxed_str());
    let wrong_password = attempt(known, "not the password", s.store_id.clone()).await;
    let unknown_email = attempt("nobody@example.dk", "not the password", s.store_id.clone()).await;
    let unknown_store = attempt(known, "a long enough password", "store_zzzzzzzzzzzz".into()).await;
    for reply in [&wrong_password, &unknown_email, &unknown_store] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "UNAUTHORIZED");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            reply.body["error"]["message"],
            wrong_password.body["error"]["message"]
        );
    }
    let missing = s
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"email": known})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.fields(), ["storeId", "password"]);
}

async fn users_are_created_by_admins_without_exposing_hashes(s: TestServer) {
    let admin = s.staff_token("admin").await;
    let created = s
        .post("/users", &admin, json!({"email": "new@example.dk", "password": "a long enough password", "role": "staff"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let user = created.data().as_object().unwrap();
    let mut keys: Vec<_> = user.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["createdAt", "email", "id", "name", "role"]);
    assert!(user["id"].as_str().unwrap().starts_with("usr_"));
    let raw = created.body.to_string();
    assert!(!raw.contains("argon2") && !raw.contains("a long enough password"));

    let duplicate = s
        .post("/users", &admin, json!({"email": "NEW@example.dk", "password": "a long enough password", "role": "staff"}))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.code(), "EMAIL_TAKEN");
    let short = s
        .post(
            "/users",
            &admin,
            json!({"email": "x@example.dk", "password": "short", "role": "staff"}),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.fields(), ["password"]);
    let bad_role = s
        .post(
            "/users",
            &admin,
            json!({"email": "y@example.dk", "password": "a long enough password", "role": "chef"}),
        )
        .await;
    assert_eq!(bad_role.fields(), ["role"]);
    let owner_by_admin = s
        .post(
            "/users",
            &admin,
            json!({"email": "o@example.dk", "password": "a long enough password", "role": "owner"}),
        )
        .await;
    assert_eq!(owner_by_admin.status, StatusCode::FORBIDDEN);
    let owner_by_owner = s
        .post(
            "/users",
            &s.owner_token,
            json!({"email": "o@example.dk", "password": "a long enough password", "role": "owner"}),
        )
        .await;
    assert_eq!(owner_by_owner.status, StatusCode::CREATED);

    let list = s.get("/users?limit=2", &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["meta"]["total"], 4,
        "owner, admin, new, second owner"
    );
    assert_eq!(list.body["meta"]["totalPages"], 2);
    assert!(!list.body.to_string().contains("argon2"));
}

/// A request that the route accepts when the caller may call it.
async fn sample_request(s: &TestServer, endpoint: Endpoint, n: usize) -> (String, Option<Value>) {
    let customer = || async { s.customer(json!({})).await };
    match endpoint {
        Endpoint::CreateCustomer => ("/customers".into(), Some(json!({"firstName": "Cell"}))),
        Endpoint::ListCustomers => ("/customers".into(), None),
        Endpoint::GetCustomer => (format!("/customers/{}", customer().await), None),
        Endpoint::UpdateCustomer => (
            format!("/customers/{}", customer().await),
            Some(json!({"firstName": "Cell"})),
        ),
        Endpoint::DeleteCustomer => (format!("/customers/{}", customer().await), None),
        Endpoint::BlockCustomer => (format!("/customers/{}/block", customer().await), None),
        Endpoint::UnblockCustomer => (format!("/customers/{}/unblock", customer().await), None),
        Endpoint::CustomerOrders => (format!("/customers/{}/orders", customer().await), None),
        Endpoint::CustomerLoyalty => (format!("/customers/{}/loyalty", customer().await), None),
        Endpoint::CustomerAnalytics => (format!("/customers/{}/analytics", customer().await), None),
        Endpoint::ExportCustomer => (format!("/customers/{}/export", customer().await), None),
        Endpoint::AdjustLoyalty => (
            format!("/customers/{}/loyalty/adjust", customer().await),
            Some(json!({"delta": 10, "reason": "cell"})),
        ),
        Endpoint::RecordOrder => ("/orders".into(), Some(order_body())),
        Endpoint::GetOrder => (
            format!(
                "/orders/{}",
                s.order(order_body()).await["id"].as_str().unwrap()
            ),
            None,
        ),
        Endpoint::CancelOrder => (
            format!(
                "/orders/{}/cancel",
                s.order(order_body()).await["id"].as_str().unwrap()
            ),
            None,
        ),
        Endpoint::CreateUser => (
            "/users".into(),
            Some(
                json!({"email": format!("cell{n}@example.dk"), "password": "a long enough password", "role": "staff"}),
            ),
        ),
        Endpoint::ListUsers => ("/users".into(), None),
        Endpoint::Me => ("/auth/me".into(), None),
        Endpoint::Logout => ("/auth/logout".into(), None),
        Endpoint::CreateReview => {
            let order = s.order(order_body()).await["id"].clone();
            (
                "/reviews".into(),
                Some(json!({"orderId": order, "rating": 5})),
            )
        }
        Endpoint::ListReviews => ("/reviews".into(), None),
        Endpoint::ReviewStats => ("/reviews/stats".into(), None),
        Endpoint::GetReview => (format!("/reviews/{}", review(s).await), None),
        Endpoint::ModerateReview => (
            format!("/reviews/{}", review(s).await),
            Some(json!({"isApproved": true})),
        ),
        Endpoint::RespondToReview => (
            format!("/reviews/{}/response", review(s).await),
            Some(json!({"responseText": "Thank you"})),
        ),
        Endpoint::DeleteReview => (format!("/reviews/{}", review(s).await), None),
        Endpoint::CreateApiKey => (
            "/api-keys".into(),
            Some(json!({"name": format!("cell {n}"), "scopes": ["read:orders"]})),
        ),
        Endpoint::ListApiKeys => ("/api-keys".into(), None),
        Endpoint::Audit => ("/audit".into(), None),
        Endpoint::RevokeApiKey => (
            format!("/api-keys/{}", s.api_key(&["read:orders"]).await.0),
            None,
        ),
        Endpoint::Login
        | Endpoint::Health
        | Endpoint::Ready
        | Endpoint::Metrics
        | Endpoint::OpenApi
        | Endpoint::Docs
        | Endpoint::DocsAsset => (String::new(), None),
    }
}

/// A review of a new order, made by the owner.
async fn review(s: &TestServer) -> String {
    let order = s.order(order_body()).await["id"].clone();
    let reply = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order, "rating": 4}),
        )
        .await;
    reply.data()["id"].as_str().expect("a review").to_owned()
}

fn order_body() -> Value {
    json!({"items": [{"productId": "p1", "productName": "Pizza", "quantity": 1, "unitPriceMinor": 8900}]})
}

fn method(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::GET,
        Verb::Post => Method::POST,
        Verb::Patch => Method::PATCH,
        Verb::Delete => Method::DELETE,
    }
}

/// What a cell of the matrix must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Success,
    Unauthorized,
    Forbidden,
    NotFound,
}

fn check(expect: Expect, reply: &customers_tests::Reply, cell: &str) {
    let ok = match expect {
        Expect::Success => reply.status.is_success(),
        Expect::Unauthorized => {
            reply.status == StatusCode::UNAUTHORIZED && reply.code() == "UNAUTHORIZED"
        }
        Expect::Forbidden => reply.status == StatusCode::FORBIDDEN && reply.code() == "FORBIDDEN",
        Expect::NotFound => reply.status == StatusCode::NOT_FOUND && reply.code() == "NOT_FOUND",
    };
    assert!(
        ok,
        "{cell}: expected {expect:?}, got {} {:?}",
        reply.status, reply.body
    );
}

const ALL_SCOPES: [&str; 4] = [
    "read:customers",
    "read:orders",
    "read:analytics",
    "write:orders",
];

/// Every non-public route of the access table, against every kind of caller: no credential,
/// a malformed one, a revoked staff token, a revoked API key, each role, API keys with all
/// scopes, with exactly the scopes the row lists and with each of those missing, and another
/// store's owner for routes that name one of this store's resources.
async fn every_route_enforces_its_row_of_the_access_table(s: TestServer) {
    let mut tokens = std::collections::HashMap::new();
    for role in Role::ALL {
        let token = match role {
            Role::Owner => s.owner_token.clone(),
            _ => s.staff_token(role.as_str()).await,
        };
        tokens.insert(role, token);
    }
    let revoked_token = s.staff_token("admin").await;
    assert_eq!(
        s.send(Method::POST, "/auth/logout", Some(&revoked_token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let (revoked_key_id, revoked_key) = s.api_key(&ALL_SCOPES).await;
    assert_eq!(
        s.delete(&format!("/api-keys/{revoked_key_id}"), &s.owner_token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let (_, all_scopes_key) = s.api_key(&ALL_SCOPES).await;
    let (_, other_owner) = s.other_store().await;

    let mut cells = 0usize;
    for (n, route) in ROUTES.iter().enumerate() {
        if route.access == Access::Public {
            continue;
        }
        let name = |who: &str| format!("{who} {:?} {}", route.verb, route.path);
        let logout = route.endpoint == Endpoint::Logout;
        let mut seq = n * 100;
        let mut cell = |who: &str, credential: Option<String>, expect: Expect| {
            seq += 1;
            let label = name(who);
            let s = &s;
            async move {
                let (path, body) = sample_request(s, route.endpoint, seq).await;
                let reply = s
                    .send(
                        method(route.verb),
                        &path,
                        credential.as_deref(),
                        body.as_ref(),
                    )
                    .await;
                check(expect, &reply, &label);
            }
        };
        cell("anonymous", None, Expect::Unauthorized).await;
        cell(
            "malformed",
            Some("ord_live_sk_nonsense".into()),
            Expect::Unauthorized,
        )
        .await;
        cell(
            "revoked token",
            Some(revoked_token.clone()),
            Expect::Unauthorized,
        )
        .await;
        cell(
            "revoked key",
            Some(revoked_key.clone()),
            Expect::Unauthorized,
        )
        .await;
        cells += 4;
        for role in Role::ALL {
            let allowed = match route.access {
                Access::Staff(min) => role >= min,
                _ => true,
            };
            let token = if logout {
                s.staff_token(role.as_str()).await
            } else {
                tokens[&role].clone()
            };
            cell(
                role.as_str(),
                Some(token),
                if allowed {
                    Expect::Success
                } else {
                    Expect::Forbidden
                },
            )
            .await;
            cells += 1;
        }
        let key_with = |scopes: Vec<&'static str>| {
            let s = &s;
            let reuse =
                (!logout && scopes.len() == ALL_SCOPES.len()).then(|| all_scopes_key.clone());
            async move {
                match reuse {
                    Some(key) => key,
                    None => s.api_key(&scopes).await.1,
                }
            }
        };
        match route.access {
            Access::Staff(_) => {
                cell(
                    "key with every scope",
                    Some(key_with(ALL_SCOPES.to_vec()).await),
                    Expect::Forbidden,
                )
                .await;
                cells += 1;
            }
            Access::AnyCredential => {
                cell(
                    "key with every scope",
                    Some(key_with(ALL_SCOPES.to_vec()).await),
                    Expect::Success,
                )
                .await;
                cells += 1;
            }
            Access::StaffOrKey(needed) => {
                let needed: Vec<&'static str> = needed.iter().map(|scope| scope.as_str()).collect();
                cell(
                    "key with every scope",
                    Some(key_with(ALL_SCOPES.to_vec()).await),
                    Expect::Success,
                )
                .await;
                cell(
                    "key with the listed scopes",
                    Some(key_with(needed.clone()).await),
                    Expect::Success,
                )
                .await;
                cells += 2;
                for missing in &needed {
                    let others: Vec<&'static str> = ALL_SCOPES
                        .iter()
                        .copied()
                        .filter(|scope| scope != missing)
                        .collect();
                    cell(
                        &format!("key without {missing}"),
                        Some(key_with(others).await),
                        Expect::Forbidden,
                    )
                    .await;
                    cells += 1;
                }
            }
            Access::Public => {}
        }
        let names_a_resource = route.path.contains("{id}");
        let allowed_for_owner = !matches!(route.access, Access::Staff(Role::Owner));
        if names_a_resource && allowed_for_owner {
            cell(
                "another store's owner",
                Some(other_owner.clone()),
                Expect::NotFound,
            )
            .await;
            cells += 1;
        }
    }
    eprintln!("access matrix: {cells} cells");
    let protected = ROUTES.iter().filter(|r| r.access != Access::Public).count();
    assert!(
        cells >= protected * 9,
        "every protected route got its credential cells: {cells}"
    );
}

async fn missing_bad_and_forged_credentials_are_unauthorized(s: TestServer) {
    let mut forged = s.owner_token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'a' { 'b' } else { 'a' });
    let wrong_kind = s.owner_token.replace("ord_live_sk_", "ord_live_ak_");
    for header in [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer nonsense".to_owned()),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {wrong_kind}")),
        Some(format!("Basic {}", s.owner_token)),
    ] {
        let mut request = s.client.get(format!("{}/customers", s.base));
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    }
}
