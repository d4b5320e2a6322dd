//! API keys and login throttling.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(
    an_api_key_is_shown_once_and_works_until_revoked,
    api_keys_are_for_admins_and_validated,
    repeated_failed_logins_are_slowed_down,
    a_key_issued_before_secrets_named_their_store_keeps_working,
);

/// An API key secret in the format used before secrets named their store (prefix, 43 random
/// characters, checksum; the domain's `secret` tests build it from 32 bytes of 9), and its
/// SHA-256.
const OLD_FORMAT_KEY: &str = "ord_live_ak_28pwpFvXuOCuClQJSgvJUKf8mA3ApwedogOvpU3VfJJ1hadHZ";
const OLD_FORMAT_KEY_DIGEST: &str =
    "94529035040c001cd56b1188d39147c89b45dc09da5d51b659afa8c8202c6926";
/// A staff token in the old format whose digest was never recorded.
const UNRECORDED_OLD_TOKEN: &str = "ord_live_sk_1fJjkkpe9PiTw9KSulA8Ghct30vZz4HpdQ5c5b9cPF13RjxU2";

/// A key whose secret names no store is found through the store the migration recorded for
/// its digest, and is revoked like any other; an old-format secret nobody recorded is 401.
async fn a_key_issued_before_secrets_named_their_store_keeps_working(s: TestServer) {
    let (id, secret) = s.api_key(&["read:customers"]).await;
    assert!(
        secret.starts_with(&format!("ord_live_ak_{}_", s.store_id)),
        "{secret}"
    );
    // As the migration leaves a key issued before: its digest is that of an old-format
    // secret, recorded with its store.
    s.database()
        .execute_sql(&format!(
            "UPDATE credentials SET digest = '{OLD_FORMAT_KEY_DIGEST}'
                 WHERE store_id = '{store}' AND id = '{id}';
             INSERT INTO legacy_secret_stores (digest, store_id)
                 VALUES ('{OLD_FORMAT_KEY_DIGEST}', '{store}');",
            store = s.store_id
        ))
        .await;

    let me = s.get("/auth/me", OLD_FORMAT_KEY).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.data()["storeId"], s.store_id.as_str());
    assert_eq!(me.data()["apiKey"]["id"], id.as_str());
    assert_eq!(
        s.get("/customers", OLD_FORMAT_KEY).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get("/auth/me", UNRECORDED_OLD_TOKEN).await.status,
        StatusCode::UNAUTHORIZED
    );

    let revoked = s.delete(&format!("/api-keys/{id}"), &s.owner_token).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);
    assert_eq!(
        s.get("/customers", OLD_FORMAT_KEY).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn an_api_key_is_shown_once_and_works_until_revoked(s: TestServer) {
    let created = s
        .post(
            "/api-keys",
            &s.owner_token,
            json!({"name": "POS", "scopes": ["read:customers", "read:orders"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key = created.data();
    let secret = key["key"].as_str().unwrap().to_owned();
    let id = key["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(&format!("ord_live_ak_{}_", s.store_id)));
    assert!(id.starts_with("key_"));
    assert_eq!(key["scopes"], json!(["read:customers", "read:orders"]));
    assert_eq!(s.get("/customers", &secret).await.status, StatusCode::OK);
    let me = s.get("/auth/me", &secret).await;
    assert_eq!(me.data()["kind"], "apiKey");
    assert_eq!(
        me.data()["apiKey"],
        json!({"id": id, "name": "POS", "scopes": ["read:customers", "read:orders"]})
    );
    assert!(me.data().get("user").is_none());

    let listed = s.get("/api-keys", &s.owner_token).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["meta"]["total"], 1);
    assert_eq!(listed.data()[0]["id"], id.as_str());
    assert_eq!(listed.data()[0]["revokedAt"], serde_json::Value::Null);
    assert!(
        !listed.body.to_string().contains(&secret),
        "never the secret"
    );
    assert!(listed.data()[0].get("key").is_none());

    let revoked = s.delete(&format!("/api-keys/{id}"), &s.owner_token).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let refused = s.get("/customers", &secret).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "revoked at once");
    assert_eq!(
        s.delete(&format!("/api-keys/{id}"), &s.owner_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = s.get("/api-keys", &s.owner_token).await;
    assert!(
        listed.data()[0]["revokedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let me_id = s.get("/auth/me", &s.owner_token).await.data()["user"]["id"].clone();
    assert!(me_id.is_string());
}

async fn api_keys_are_for_admins_and_validated(s: TestServer) {
    let manager = s.staff_token("manager").await;
    let denied = s
        .post(
            "/api-keys",
            &manager,
            json!({"name": "x", "scopes": ["read:orders"]}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    for (body, fields) in [
        (json!({"scopes": ["read:orders"]}), vec!["name"]),
        (json!({"name": "x"}), vec!["scopes"]),
        (json!({"name": "x", "scopes": []}), vec!["scopes"]),
        (
            json!({"name": "x", "scopes": ["read:orders", "admin"]}),
            vec!["scopes[1]"],
        ),
        (
            json!({"name": "x", "scopes": "read:orders"}),
            vec!["scopes"],
        ),
        (
            json!({"name": "x", "scopes": ["read:orders"], "key": "mine"}),
            vec!["key"],
        ),
    ] {
        let reply = s.post("/api-keys", &s.owner_token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), fields, "{body}");
    }
    let (_, other_owner) = s.other_store().await;
    let (id, _) = s.api_key(&["read:orders"]).await;
    let foreign = s.delete(&format!("/api-keys/{id}"), &other_owner).await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "another store's key does not exist"
    );
    let token_id = s.get("/auth/me", &s.owner_token).await;
    assert_eq!(token_id.status, StatusCode::OK);
    let staff_token_as_key = s.delete("/api-keys/key_zzzzzzzzzzzz", &s.owner_token).await;
    assert_eq!(staff_token_as_key.status, StatusCode::NOT_FOUND);
}

async fn repeated_failed_logins_are_slowed_down(s: TestServer) {
    let email = "slow@example.dk";
    s.post(
        "/users",
        &s.owner_token,
        json!({"email": email, "password": "the right password", "role": "staff"}),
    )
    .await;
    let attempt = |password: &'static str| {
        let s = &s;
        async move {
            s.send(
                Method::POST,
                "/auth/login",
                None,
                Some(&json!({"storeId": s.store_id, "email": email, "password": password})),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("wrong guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let slowed = attempt("wrong guess").await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(slowed.code(), "RATE_LIMITED");
    let wait: u64 = slowed.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let even_right = attempt("the right password").await;
    assert_eq!(
        even_right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "no guessing through the limit"
    );
}
