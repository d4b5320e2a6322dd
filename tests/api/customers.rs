//! Customer profiles: create, get, PATCH, delete, and their rules.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::StatusCode;

on_both_databases!(
    the_seed_example_is_created_with_its_fields_and_defaults,
    every_profile_field_round_trips,
    invalid_fields_are_reported_by_name,
    unknown_and_read_only_fields_are_refused,
    wrong_types_name_their_field,
    emails_and_phones_are_unique_per_store,
    patch_changes_only_what_it_names,
    patch_manages_the_default_address,
    delete_erases_the_customer_and_frees_email_and_phone,
    another_stores_customer_does_not_exist,
    an_export_holds_everything_about_the_customer,
);

async fn the_seed_example_is_created_with_its_fields_and_defaults(s: TestServer) {
    let reply = s
        .post(
            "/customers",
            &s.owner_token,
            json!({
                "firstName": "Maria",
                "lastName": "Nielsen",
                "email": "maria@example.dk",
                "phone": "+4520123456",
                "acceptsMarketing": true,
                "locale": "da-DK"
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["success"], true);
    let c = reply.data();
    assert!(c["id"].as_str().unwrap().starts_with("cust_"));
    assert_eq!(c["storeId"], s.store_id.as_str());
    assert_eq!(c["firstName"], "Maria");
    assert_eq!(c["lastName"], "Nielsen");
    assert_eq!(c["email"], "maria@example.dk");
    assert_eq!(c["phone"], "+4520123456");
    assert_eq!(c["acceptsMarketing"], true);
    assert_eq!(c["locale"], "da-DK");
    assert_eq!(c["isBlocked"], false);
    assert_eq!(c["totalSpentMinor"], 0);
    assert_eq!(c["totalOrders"], 0);
    assert_eq!(c["lastOrderAt"], serde_json::Value::Null);
    assert_eq!(c["loyaltyPoints"], 0);
    assert_eq!(c["addresses"], json!([]));
    assert_eq!(c["allergens"], json!([]));
    let created = c["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2026-03-15T10:00:00.000Z".len(), "{created}");
    assert!(created.ends_with('Z'));

    let defaults = s.post("/customers", &s.owner_token, json!({})).await;
    assert_eq!(defaults.status, StatusCode::CREATED);
    assert_eq!(defaults.data()["locale"], "da-DK");
    assert_eq!(defaults.data()["acceptsMarketing"], false);
    assert_eq!(defaults.data()["firstName"], serde_json::Value::Null);
}

async fn every_profile_field_round_trips(s: TestServer) {
    let id = s
        .customer(json!({
            "firstName": "  Søren ",
            "lastName": "Kierkegaard",
            "email": "Soren@Example.DK",
            "phone": "+4512345678",
            "acceptsMarketing": false,
            "locale": "en-gb",
            "defaultAddressLine": "Nørrebrogade 1",
            "defaultZipcode": "2200",
            "defaultCity": "København N",
            "adminNotes": "Prefers the window table",
            "birthDate": "1990-05-15",
            "allergens": ["NUTS", "GLUTEN", "NUTS"]
        }))
        .await;
    let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let c = reply.data();
    assert_eq!(c["firstName"], "Søren", "names are trimmed");
    assert_eq!(c["email"], "Soren@Example.DK", "email kept as written");
    assert_eq!(c["locale"], "en-GB", "locale in canonical case");
    assert_eq!(c["birthDate"], "1990-05-15");
    assert_eq!(c["adminNotes"], "Prefers the window table");
    assert_eq!(
        c["allergens"],
        json!(["GLUTEN", "NUTS"]),
        "duplicates folded, EU order"
    );
    assert_eq!(c["defaultAddressLine"], "Nørrebrogade 1");
    assert_eq!(c["defaultZipcode"], "2200");
    assert_eq!(c["defaultCity"], "København N");
    let addresses = c["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 1);
    assert!(addresses[0]["id"].as_str().unwrap().starts_with("addr_"));
    assert_eq!(addresses[0]["isDefault"], true);
    assert_eq!(addresses[0]["city"], "København N");
    assert_eq!(c["blockedReason"], serde_json::Value::Null);
    assert_eq!(c["createdAt"], c["updatedAt"]);
}

async fn invalid_fields_are_reported_by_name(s: TestServer) {
    let reply = s
        .post(
            "/customers",
            &s.owner_token,
            json!({
                "firstName": "x".repeat(101),
                "email": "not-an-email",
                "phone": "20123456",
                "locale": "danish",
                "birthDate": "2999-01-01",
                "allergens": ["GLUTEN", "PEANUT"],
                "adminNotes": "n".repeat(5001)
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "VALIDATION_FAILED");
    let mut fields = reply.fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "adminNotes",
            "allergens[1]",
            "birthDate",
            "email",
            "firstName",
            "locale",
            "phone"
        ]
    );
    assert!(reply.body["error"]["requestId"].is_string());
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.body["meta"]["total"], 0, "nothing was written");

    for (body, field) in [
        (json!({"birthDate": "1899-12-31"}), "birthDate"),
        (json!({"birthDate": "1990-02-30"}), "birthDate"),
        (
            json!({"email": format!("{}@example.dk", "a".repeat(250))}),
            "email",
        ),
        (json!({"phone": "+0123456"}), "phone"),
        (json!({"acceptsMarketing": null}), "acceptsMarketing"),
        (json!({"locale": null}), "locale"),
    ] {
        let reply = s.post("/customers", &s.owner_token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), [field], "{body}");
    }
}

async fn unknown_and_read_only_fields_are_refused(s: TestServer) {
    let reply = s
        .post(
            "/customers",
            &s.owner_token,
            json!({
                "firstName": "Maria",
                "isBlocked": true,
                "totalSpentMinor": 100,
                "loyaltyPoints": 5,
                "storeId": "store_aaaaaaaaaaaa",
                "favouriteColour": "red"
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = reply.fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "favouriteColour",
            "isBlocked",
            "loyaltyPoints",
            "storeId",
            "totalSpentMinor"
        ]
    );
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let patch = s
        .patch(
            &format!("/customers/{id}"),
            &s.owner_token,
            json!({"totalOrders": 99}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(patch.fields(), ["totalOrders"]);
    let c = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(c.data()["totalOrders"], 0);
}

async fn wrong_types_name_their_field(s: TestServer) {
    for (body, field) in [
        (json!({"firstName": 5}), "firstName"),
        (json!({"acceptsMarketing": "yes"}), "acceptsMarketing"),
        (json!({"allergens": "GLUTEN"}), "allergens"),
        (json!({"allergens": ["GLUTEN", 3]}), "allergens[1]"),
    ] {
        let reply = s.post("/customers", &s.owner_token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), [field], "{body}");
    }
}

async fn emails_and_phones_are_unique_per_store(s: TestServer) {
    s.customer(json!({"email": "maria@example.dk", "phone": "+4520123456"}))
        .await;
    let email = s
        .post(
            "/customers",
            &s.owner_token,
            json!({"email": "MARIA@example.DK"}),
        )
        .await;
    assert_eq!(email.status, StatusCode::CONFLICT);
    assert_eq!(email.code(), "EMAIL_TAKEN");
    let phone = s
        .post(
            "/customers",
            &s.owner_token,
            json!({"phone": "+4520123456"}),
        )
        .await;
    assert_eq!(phone.status, StatusCode::CONFLICT);
    assert_eq!(phone.code(), "PHONE_TAKEN");

    let other = s.customer(json!({"email": "other@example.dk"})).await;
    let patch = s
        .patch(
            &format!("/customers/{other}"),
            &s.owner_token,
            json!({"email": "Maria@Example.dk"}),
        )
        .await;
    assert_eq!(patch.code(), "EMAIL_TAKEN");

    let (_, other_store_token) = s.other_store().await;
    let elsewhere = s
        .post(
            "/customers",
            &other_store_token,
            json!({"email": "maria@example.dk", "phone": "+4520123456"}),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::CREATED,
        "another store may hold the same email"
    );
}

async fn patch_changes_only_what_it_names(s: TestServer) {
    let id = s
        .customer(json!({
            "firstName": "Maria", "lastName": "Nielsen", "email": "maria@example.dk",
            "phone": "+4520123456", "allergens": ["DAIRY"], "acceptsMarketing": true
        }))
        .await;
    let path = format!("/customers/{id}");
    let before = s.get(&path, &s.owner_token).await;
    let manager = s.staff_token("manager").await;
    let reply = s
        .patch(
            &path,
            &manager,
            json!({"adminNotes": "VIP customer — always prioritize orders", "allergens": ["GLUTEN", "NUTS"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let c = reply.data();
    assert_eq!(c["adminNotes"], "VIP customer — always prioritize orders");
    assert_eq!(c["allergens"], json!(["GLUTEN", "NUTS"]));
    assert_eq!(c["firstName"], "Maria");
    assert_eq!(c["email"], "maria@example.dk");
    assert_eq!(c["acceptsMarketing"], true);
    assert_eq!(c["createdAt"], before.data()["createdAt"]);
    assert_ne!(c["updatedAt"], before.data()["updatedAt"]);

    let cleared = s
        .patch(
            &path,
            &manager,
            json!({"phone": null, "allergens": null, "lastName": null}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.data()["phone"], serde_json::Value::Null);
    assert_eq!(cleared.data()["lastName"], serde_json::Value::Null);
    assert_eq!(cleared.data()["allergens"], json!([]));
    assert_eq!(cleared.data()["firstName"], "Maria");

    let refused = s
        .patch(&path, &manager, json!({"acceptsMarketing": null}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.fields(), ["acceptsMarketing"]);

    let stored = s.get(&path, &s.owner_token).await;
    assert_eq!(
        stored.data(),
        cleared.data(),
        "GET shows what PATCH returned"
    );
}

async fn patch_manages_the_default_address(s: TestServer) {
    let id = s.customer(json!({"firstName": "Maria"})).await;
    let path = format!("/customers/{id}");
    let created = s
        .patch(
            &path,
            &s.owner_token,
            json!({"defaultAddressLine": "Vesterbrogade 2", "defaultZipcode": "1620"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let address_id = created.data()["addresses"][0]["id"].clone();
    assert!(address_id.as_str().unwrap().starts_with("addr_"));
    let updated = s
        .patch(&path, &s.owner_token, json!({"defaultCity": "København V"}))
        .await;
    let addresses = updated.data()["addresses"].as_array().unwrap().clone();
    assert_eq!(addresses.len(), 1);
    assert_eq!(
        addresses[0]["id"], address_id,
        "the default address is updated in place"
    );
    assert_eq!(addresses[0]["line"], "Vesterbrogade 2");
    assert_eq!(addresses[0]["city"], "København V");
    assert_eq!(updated.data()["defaultCity"], "København V");
    let removed = s
        .patch(
            &path,
            &s.owner_token,
            json!({"defaultAddressLine": null, "defaultZipcode": null, "defaultCity": null}),
        )
        .await;
    assert_eq!(removed.data()["addresses"], json!([]));
    assert_eq!(
        removed.data()["defaultAddressLine"],
        serde_json::Value::Null
    );
}

async fn delete_erases_the_customer_and_frees_email_and_phone(s: TestServer) {
    let id = s
        .customer(json!({"email": "gone@example.dk", "phone": "+4511111111"}))
        .await;
    let path = format!("/customers/{id}");
    let admin = s.staff_token("admin").await;
    let deleted = s.delete(&path, &admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, serde_json::Value::Null);
    assert_eq!(
        s.get(&path, &s.owner_token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.delete(&path, &admin).await.status, StatusCode::NOT_FOUND);
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.body["meta"]["total"], 0);
    s.customer(json!({"email": "gone@example.dk", "phone": "+4511111111"}))
        .await;
}

async fn another_stores_customer_does_not_exist(s: TestServer) {
    let (_, other_token) = s.other_store().await;
    let theirs = s
        .post(
            "/customers",
            &other_token,
            json!({"firstName": "Theirs", "email": "t@example.dk"}),
        )
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = s.customer(json!({"firstName": "Mine"})).await;
    let path = format!("/customers/{theirs}");
    for reply in [
        s.get(&path, &s.owner_token).await,
        s.patch(&path, &s.owner_token, json!({"firstName": "Stolen"}))
            .await,
        s.delete(&path, &s.owner_token).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.code(), "NOT_FOUND");
    }
    let missing = s.get("/customers/cust_zzzzzzzzzzzz", &s.owner_token).await;
    let foreign = s.get(&path, &s.owner_token).await;
    assert_eq!(
        missing.body["error"]["message"],
        foreign.body["error"]["message"]
    );
    let list = s.get("/customers?q=theirs", &s.owner_token).await;
    assert_eq!(list.body["meta"]["total"], 0);
    let all = s.get("/customers", &s.owner_token).await;
    let ids: Vec<_> = all
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [json!(mine)]);
    let theirs_still = s.get(&path, &other_token).await;
    assert_eq!(
        theirs_still.data()["firstName"],
        "Theirs",
        "nothing changed for its store"
    );
    for malformed in [
        "/customers/nope",
        "/customers/cust_%27%20OR%201=1",
        "/customers/usr_aaaaaaaaaaaa",
    ] {
        assert_eq!(
            s.get(malformed, &s.owner_token).await.status,
            StatusCode::NOT_FOUND,
            "{malformed}"
        );
    }
}

async fn an_export_holds_everything_about_the_customer(s: TestServer) {
    let id = s
        .customer(
            json!({"firstName": "Maria", "email": "maria@example.dk", "defaultCity": "Aarhus",
                         "adminNotes": "VIP", "allergens": ["NUTS"]}),
        )
        .await;
    let order = s
        .order(json!({"customerId": id, "items": [{"productId": "p", "productName": "Pizza", "quantity": 1, "unitPriceMinor": 12_000}]}))
        .await;
    s.post(
        &format!("/customers/{id}/loyalty/adjust"),
        &s.owner_token,
        json!({"delta": 30, "reason": "Bonus"}),
    )
    .await;
    let review = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order["id"], "rating": 5, "comment": "Great"}),
        )
        .await;
    s.customer(json!({"firstName": "Someone else"})).await;
    let reply = s
        .get(&format!("/customers/{id}/export"), &s.owner_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let e = reply.data();
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "addresses",
            "customer",
            "exportedAt",
            "loyaltyEntries",
            "orders",
            "reviews"
        ]
    );
    assert_eq!(e["customer"]["email"], "maria@example.dk");
    assert_eq!(e["customer"]["adminNotes"], "VIP");
    assert_eq!(e["addresses"][0]["city"], "Aarhus");
    assert_eq!(e["orders"].as_array().unwrap().len(), 1);
    assert_eq!(e["orders"][0]["id"], order["id"]);
    assert_eq!(e["reviews"][0]["id"], review.data()["id"]);
    assert_eq!(
        e["loyaltyEntries"].as_array().unwrap().len(),
        2,
        "earned and adjusted"
    );
    assert!(e["exportedAt"].as_str().unwrap().ends_with('Z'));
    let manager = s.staff_token("manager").await;
    assert_eq!(
        s.get(&format!("/customers/{id}/export"), &manager)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    s.delete(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(
        s.get(&format!("/customers/{id}/export"), &s.owner_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
