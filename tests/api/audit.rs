//! The audit trail over HTTP: what is recorded, what is not, and who may read it.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    every_customer_change_is_audited_without_personal_values,
    credential_events_are_audited_without_secrets,
    the_trail_is_for_admins_and_its_filters_are_checked,
    a_block_or_unblock_that_changes_nothing_records_nothing,
);

/// The id of the user behind a staff token.
async fn user_id(s: &TestServer, token: &str) -> String {
    let me = s.get("/auth/me", token).await;
    me.data()["user"]["id"].as_str().expect("a user").to_owned()
}

/// Every entry matching `query`, newest first, checked to be one page.
async fn trail(s: &TestServer, query: &str) -> Vec<Value> {
    let reply = s
        .get(&format!("/audit?limit=100&{query}"), &s.owner_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let entries = reply.data().as_array().expect("a list").clone();
    assert_eq!(reply.body["meta"]["total"], entries.len());
    entries
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn every_customer_change_is_audited_without_personal_values(s: TestServer) {
    let manager = s.staff_token("manager").await;
    let manager_id = user_id(&s, &manager).await;
    let admin = s.staff_token("admin").await;
    let admin_id = user_id(&s, &admin).await;
    let created = s
        .post(
            "/customers",
            &manager,
            json!({
                "firstName": "Karoline",
                "email": "karoline.secret@example.dk",
                "phone": "+4598765432",
                "adminNotes": "prefers the window table",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let patched = s
        .patch(
            &format!("/customers/{id}"),
            &manager,
            json!({"firstName": "Karo", "adminNotes": "allergic to staff jokes", "locale": "da-DK"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let blocked = s
        .post(
            &format!("/customers/{id}/block"),
            &manager,
            json!({"reason": "threw a plate"}),
        )
        .await;
    assert!(blocked.status.is_success());
    let unblock = s
        .send(
            Method::POST,
            &format!("/customers/{id}/unblock"),
            Some(&manager),
            None,
        )
        .await;
    assert!(unblock.status.is_success());
    let adjusted = s
        .post(
            &format!("/customers/{id}/loyalty/adjust"),
            &manager,
            json!({"delta": 40, "reason": "birthday of Karoline"}),
        )
        .await;
    assert_eq!(adjusted.status, StatusCode::OK, "{:?}", adjusted.body);
    let export = s.get(&format!("/customers/{id}/export"), &admin).await;
    assert_eq!(export.status, StatusCode::OK);
    let erased = s.delete(&format!("/customers/{id}"), &admin).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT);

    // The erased customer's trail stays, and says what happened in order.
    let entries = trail(&s, &format!("customerId={id}")).await;
    assert_eq!(
        actions(&entries),
        [
            "customer.deleted",
            "customer.exported",
            "loyalty.adjusted",
            "customer.unblocked",
            "customer.blocked",
            "customer.updated",
            "customer.created",
        ]
    );
    let by = |e: &Value| e["actor"].clone();
    assert_eq!(by(&entries[0]), json!({"type": "user", "id": admin_id}));
    assert_eq!(by(&entries[1]), json!({"type": "user", "id": admin_id}));
    for entry in &entries[2..] {
        assert_eq!(by(entry), json!({"type": "user", "id": manager_id}));
    }
    // Only the fields that changed: the locale already was da-DK.
    assert_eq!(entries[5]["fields"], json!(["firstName", "adminNotes"]));
    assert!(
        entries[2]["subjectId"]
            .as_str()
            .unwrap()
            .starts_with("loy_"),
        "the ledger entry"
    );
    let raw =
        String::from_utf8_lossy(&s.get("/audit?limit=100", &s.owner_token).await.raw).into_owned();
    for personal in [
        "Karoline",
        "Karo\"",
        "karoline.secret",
        "4598765432",
        "window table",
        "staff jokes",
        "threw a plate",
        "birthday",
    ] {
        assert!(!raw.contains(personal), "{personal} leaked into the trail");
    }
    let mut keys: Vec<_> = entries[0].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action",
            "actor",
            "at",
            "clientAddress",
            "customerId",
            "failureCount",
            "fields",
            "id",
            "subjectId"
        ]
    );

    // A write that is refused is not in the trail.
    let refused = s
        .post(
            &format!("/customers/{id}/block"),
            &manager,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(trail(&s, &format!("customerId={id}")).await.len(), 7);
}

async fn credential_events_are_audited_without_secrets(s: TestServer) {
    let password = "a long enough password";
    let created = s
        .post(
            "/users",
            &s.owner_token,
            json!({"email": "chef@example.dk", "password": password, "role": "staff"}),
        )
        .await;
    let chef = created.data()["id"].as_str().unwrap().to_owned();
    let owner = user_id(&s, &s.owner_token).await;
    let wrong = s
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"storeId": s.store_id, "email": "chef@example.dk", "password": "not it at all"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = s
        .send(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"storeId": s.store_id, "email": "ghost@example.dk", "password": "whatever it is"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let token = s.login(&s.store_id, "chef@example.dk", password).await;
    let out = s
        .send(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let (key, secret) = s.api_key(&["read:orders"]).await;
    let key_out = s
        .send(Method::POST, "/auth/logout", Some(&secret), None)
        .await;
    assert_eq!(
        key_out.status,
        StatusCode::FORBIDDEN,
        "keys are revoked by an admin"
    );
    let (other, _) = s.api_key(&["read:orders"]).await;
    let revoked = s
        .delete(&format!("/api-keys/{other}"), &s.owner_token)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);

    let entries = trail(&s, "").await;
    let summary: Vec<(String, Value, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].clone(),
                e["subjectId"].clone(),
            )
        })
        .collect();
    let owner_actor = json!({"type": "user", "id": owner});
    let anonymous = json!({"type": "anonymous", "id": null});
    let expected = [
        ("api_key.revoked", owner_actor.clone(), json!(other)),
        ("api_key.created", owner_actor.clone(), json!(other)),
        ("api_key.created", owner_actor.clone(), json!(key)),
    ];
    for (n, (action, actor, subject)) in expected.iter().enumerate() {
        assert_eq!(
            summary[n],
            ((*action).to_owned(), actor.clone(), subject.clone()),
            "entry {n}"
        );
    }
    assert_eq!(summary[3].0, "auth.logout");
    assert_eq!(summary[3].1, json!({"type": "user", "id": chef}));
    let login_token = summary[3].2.clone();
    assert_eq!(
        summary[4],
        (
            "auth.login".to_owned(),
            json!({"type": "user", "id": chef}),
            login_token
        ),
        "the logout names the token the login made"
    );
    assert_eq!(
        summary[5],
        (
            "auth.login_failed".to_owned(),
            anonymous.clone(),
            Value::Null
        ),
        "an unknown email names nobody"
    );
    assert_eq!(
        summary[6],
        ("auth.login_failed".to_owned(), anonymous, json!(chef)),
        "a wrong password names the user, not the email"
    );
    assert_eq!(
        summary[7],
        ("user.created".to_owned(), owner_actor, json!(chef))
    );
    assert_eq!(
        summary.last().unwrap().0,
        "user.created",
        "the first start made the owner"
    );
    assert_eq!(
        summary.last().unwrap().1,
        json!({"type": "system", "id": null})
    );

    let raw =
        String::from_utf8_lossy(&s.get("/audit?limit=100", &s.owner_token).await.raw).into_owned();
    for secret_or_personal in [
        "chef@example.dk",
        "ghost@example.dk",
        password,
        "not it at all",
        token.as_str(),
        secret.as_str(),
        s.owner_token.as_str(),
    ] {
        assert!(
            !raw.contains(secret_or_personal),
            "{secret_or_personal} leaked into the trail"
        );
    }
}

async fn the_trail_is_for_admins_and_its_filters_are_checked(s: TestServer) {
    let manager = s.staff_token("manager").await;
    assert_eq!(
        s.get("/audit", &manager).await.status,
        StatusCode::FORBIDDEN
    );
    let (_, key) = s
        .api_key(&[
            "read:customers",
            "read:orders",
            "read:analytics",
            "write:orders",
        ])
        .await;
    assert_eq!(s.get("/audit", &key).await.status, StatusCode::FORBIDDEN);
    let admin = s.staff_token("admin").await;
    assert_eq!(s.get("/audit", &admin).await.status, StatusCode::OK);

    let bad = s
        .get(
            "/audit?customerId=42&actor=someone&action=customer.read&dateFrom=yesterday&limit=0",
            &s.owner_token,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.fields(),
        ["limit", "customerId", "actor", "action", "dateFrom"]
    );
    let unknown = s.get("/audit?who=me", &s.owner_token).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    for n in 0..3 {
        s.customer(json!({"firstName": format!("Guest {n}")})).await;
    }
    let created = trail(&s, "action=customer.created").await;
    assert_eq!(created.len(), 3);
    let owner = user_id(&s, &s.owner_token).await;
    let mine = trail(&s, &format!("actor={owner}&action=customer.created")).await;
    assert_eq!(mine.len(), 3);
    let page = s
        .get(
            "/audit?action=customer.created&limit=2&page=2",
            &s.owner_token,
        )
        .await;
    assert_eq!(page.data().as_array().unwrap().len(), 1);
    assert_eq!(page.body["meta"]["total"], 3);
    assert_eq!(page.body["meta"]["totalPages"], 2);

    // Whole days in the store's time zone: today holds them, the day after tomorrow none.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Copenhagen)
        .date_naive();
    let around = format!(
        "action=customer.created&dateFrom={}&dateTo={}",
        today.pred_opt().unwrap(),
        today.succ_opt().unwrap()
    );
    assert_eq!(trail(&s, &around).await.len(), 3);
    let later = today.succ_opt().unwrap().succ_opt().unwrap();
    assert_eq!(trail(&s, &format!("dateFrom={later}")).await.len(), 0);

    // Another store's owner sees their own trail only.
    let (_, theirs) = s.other_store().await;
    let other = s.get("/audit?action=customer.created", &theirs).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body["meta"]["total"], 0);
}

/// Repeating a block with the same reason, or unblocking a customer who is not blocked,
/// answers as before but changes nothing: no audit entry, no new `updatedAt`.
async fn a_block_or_unblock_that_changes_nothing_records_nothing(s: TestServer) {
    let id = s.customer(json!({"firstName": "Ida"})).await;
    let block = |body: Value| {
        let s = &s;
        let id = &id;
        async move {
            let reply = s
                .post(&format!("/customers/{id}/block"), &s.owner_token, body)
                .await;
            assert!(reply.status.is_success(), "{:?}", reply.body);
        }
    };
    let unblock = || async {
        let reply = s
            .send(
                Method::POST,
                &format!("/customers/{id}/unblock"),
                Some(&s.owner_token),
                None,
            )
            .await;
        assert!(reply.status.is_success(), "{:?}", reply.body);
    };
    let updated_at = || async {
        let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
        reply.data()["updatedAt"].as_str().unwrap().to_owned()
    };
    let recorded = || async { actions(&trail(&s, &format!("customerId={id}")).await).join(" ") };

    unblock().await;
    assert_eq!(recorded().await, "customer.created", "was not blocked");
    block(json!({"reason": "no-show"})).await;
    let first = updated_at().await;
    block(json!({"reason": "no-show"})).await;
    assert_eq!(updated_at().await, first);
    assert_eq!(
        recorded().await,
        "customer.blocked customer.created",
        "the same block twice is one change"
    );
    block(json!({"reason": "rude"})).await;
    unblock().await;
    unblock().await;
    assert_eq!(
        recorded().await,
        "customer.unblocked customer.blocked customer.blocked customer.created",
        "a new reason and the first unblock are changes; the second unblock is not"
    );
}
