//! Reviews over HTTP: creation rules, moderation, responses, filters, statistics.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    a_review_of_an_order_answers_the_seed_shape,
    review_creation_rules,
    moderation_rules_featuring_and_unfeaturing,
    responses_record_who_answered_and_are_replaced,
    the_list_filters_and_pages_newest_first,
    statistics_have_every_rating_and_one_decimal,
    reviews_stay_when_their_customer_is_erased,
    another_stores_reviews_do_not_exist,
    reviews_page_by_cursor_too,
);

fn item() -> Value {
    json!({"productId": "p", "productName": "Pizza", "quantity": 1, "unitPriceMinor": 9000})
}

/// An order of a new customer: (customer id, order id).
async fn ordered(s: &TestServer) -> (String, String) {
    let customer = s.customer(json!({"firstName": "Maria"})).await;
    let order = s
        .order(json!({"customerId": customer, "items": [item()]}))
        .await;
    (customer, order["id"].as_str().unwrap().to_owned())
}

async fn review(s: &TestServer, order: &str, rating: i64) -> Value {
    let reply = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order, "rating": rating}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.data().clone()
}

async fn a_review_of_an_order_answers_the_seed_shape(s: TestServer) {
    let (customer, order) = ordered(&s).await;
    let staff = s.staff_token("staff").await;
    let reply = s
        .post(
            "/reviews",
            &staff,
            json!({"orderId": order, "customerId": customer, "rating": 5, "foodRating": 5, "deliveryRating": 4,
                   "comment": "Amazing pizza, slightly late delivery but worth the wait!"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let r = reply.data();
    assert!(r["id"].as_str().unwrap().starts_with("rev_"));
    let mut expected = json!({
        "orderId": order, "customerId": customer, "rating": 5, "foodRating": 5, "deliveryRating": 4,
        "packagingRating": null, "comment": "Amazing pizza, slightly late delivery but worth the wait!",
        "isApproved": false, "isPublic": true, "isFeatured": false, "response": null
    });
    expected["id"] = r["id"].clone();
    expected["createdAt"] = r["createdAt"].clone();
    assert_eq!(r, &expected);
    let read = s
        .get(&format!("/reviews/{}", r["id"].as_str().unwrap()), &staff)
        .await;
    assert_eq!(read.data(), r);
}

async fn review_creation_rules(s: TestServer) {
    let (customer, order) = ordered(&s).await;
    let anonymous_order = s.order(json!({"items": [item()]})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let defaulted = review(&s, &order, 4).await;
    assert_eq!(
        defaulted["customerId"],
        customer.as_str(),
        "the order's customer"
    );
    let again = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": order, "rating": 3}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "REVIEW_EXISTS");
    let other_customer = s.customer(json!({})).await;
    for (body, field) in [
        (
            json!({"orderId": anonymous_order, "customerId": other_customer, "rating": 3}),
            "customerId",
        ),
        (
            json!({"orderId": "ord_zzzzzzzzzzzz", "rating": 3}),
            "orderId",
        ),
        (json!({"rating": 3}), "orderId"),
        (json!({"orderId": anonymous_order}), "rating"),
        (json!({"orderId": anonymous_order, "rating": 6}), "rating"),
        (json!({"orderId": anonymous_order, "rating": 4.5}), "rating"),
        (
            json!({"orderId": anonymous_order, "rating": 3, "deliveryRating": 0}),
            "deliveryRating",
        ),
        (
            json!({"orderId": anonymous_order, "rating": 3, "comment": "c".repeat(2001)}),
            "comment",
        ),
        (
            json!({"orderId": anonymous_order, "rating": 3, "isApproved": true}),
            "isApproved",
        ),
    ] {
        let reply = s.post("/reviews", &s.owner_token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.fields(), [field], "{body}");
    }
    let anonymous = review(&s, &anonymous_order, 2).await;
    assert_eq!(anonymous["customerId"], Value::Null);
}

async fn moderation_rules_featuring_and_unfeaturing(s: TestServer) {
    let (_, order) = ordered(&s).await;
    let id = review(&s, &order, 5).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/reviews/{id}");
    let manager = s.staff_token("manager").await;
    let staff = s.staff_token("staff").await;
    assert_eq!(
        s.patch(&path, &staff, json!({"isApproved": true}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let early = s.patch(&path, &manager, json!({"isFeatured": true})).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.code(), "REVIEW_NOT_FEATURABLE");
    let featured = s
        .patch(
            &path,
            &manager,
            json!({"isApproved": true, "isFeatured": true}),
        )
        .await;
    assert_eq!(featured.status, StatusCode::OK);
    assert_eq!(
        (
            featured.data()["isApproved"].clone(),
            featured.data()["isFeatured"].clone()
        ),
        (json!(true), json!(true))
    );
    let hidden = s.patch(&path, &manager, json!({"isPublic": false})).await;
    assert_eq!(hidden.data()["isFeatured"], false, "hiding un-features");
    let refeature = s.patch(&path, &manager, json!({"isFeatured": true})).await;
    assert_eq!(refeature.code(), "REVIEW_NOT_FEATURABLE");
    s.patch(
        &path,
        &manager,
        json!({"isPublic": true, "isFeatured": true}),
    )
    .await;
    let unapproved = s.patch(&path, &manager, json!({"isApproved": false})).await;
    assert_eq!(
        unapproved.data()["isFeatured"],
        false,
        "un-approving un-features"
    );
    let null = s.patch(&path, &manager, json!({"isApproved": null})).await;
    assert_eq!(null.fields(), ["isApproved"]);
    let unknown = s.patch(&path, &manager, json!({"rating": 1})).await;
    assert_eq!(unknown.fields(), ["rating"]);
    assert_eq!(s.get(&path, &manager).await.data()["rating"], 5);
}

async fn responses_record_who_answered_and_are_replaced(s: TestServer) {
    let (_, order) = ordered(&s).await;
    let id = review(&s, &order, 3).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/reviews/{id}/response");
    let manager = s.staff_token("manager").await;
    let me = s.get("/auth/me", &manager).await.data()["user"]["id"].clone();
    let first = s
        .post(&path, &manager, json!({"responseText": "Thank you Maria!"}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.data()["id"], id.as_str());
    assert_eq!(first.data()["response"]["responseText"], "Thank you Maria!");
    assert_eq!(first.data()["response"]["respondedBy"], me);
    assert!(
        first.data()["response"]["respondedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let owner_me = s.get("/auth/me", &s.owner_token).await.data()["user"]["id"].clone();
    let second = s
        .post(
            &path,
            &s.owner_token,
            json!({"responseText": "We are improving delivery times."}),
        )
        .await;
    assert_eq!(
        second.data()["response"]["responseText"],
        "We are improving delivery times."
    );
    assert_eq!(
        second.data()["response"]["respondedBy"],
        owner_me,
        "the latest responder"
    );
    let review = s.get(&format!("/reviews/{id}"), &s.owner_token).await;
    assert_eq!(review.data()["response"], second.data()["response"]);
    for body in [
        json!({}),
        json!({"responseText": ""}),
        json!({"responseText": "x".repeat(2001)}),
    ] {
        let reply = s.post(&path, &manager, body.clone()).await;
        assert_eq!(reply.fields(), ["responseText"], "{body}");
    }
    let missing = s
        .post(
            "/reviews/rev_zzzzzzzzzzzz/response",
            &manager,
            json!({"responseText": "Hi"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn the_list_filters_and_pages_newest_first(s: TestServer) {
    let mut ids = Vec::new();
    let mut customers = Vec::new();
    for rating in [1, 3, 4, 5, 5] {
        let (customer, order) = ordered(&s).await;
        customers.push(customer);
        ids.push(
            review(&s, &order, rating).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let manager = s.staff_token("manager").await;
    s.patch(
        &format!("/reviews/{}", ids[3]),
        &manager,
        json!({"isApproved": true, "isFeatured": true}),
    )
    .await;
    s.patch(
        &format!("/reviews/{}", ids[2]),
        &manager,
        json!({"isApproved": true}),
    )
    .await;
    s.post(
        &format!("/reviews/{}/response", ids[0]),
        &manager,
        json!({"responseText": "Sorry"}),
    )
    .await;
    let list = |query: String| {
        let s = &s;
        async move {
            let reply = s.get(&format!("/reviews?{query}"), &s.owner_token).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
            let found: Vec<String> = reply
                .data()
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                reply.body["meta"]["total"],
                Value::from(found.len()),
                "{query}"
            );
            found
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list(String::new()).await, newest_first);
    assert_eq!(
        list("minRating=4".into()).await,
        [ids[4].clone(), ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(
        list("isApproved=true".into()).await,
        [ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(
        list("isApproved=false&minRating=5".into()).await,
        [ids[4].clone()]
    );
    assert_eq!(list("isFeatured=true".into()).await, [ids[3].clone()]);
    assert_eq!(list("hasResponse=true".into()).await, [ids[0].clone()]);
    assert_eq!(list("hasResponse=false".into()).await.len(), 4);
    assert_eq!(
        list(format!("customerId={}", customers[1])).await,
        [ids[1].clone()]
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Copenhagen)
        .date_naive();
    assert_eq!(
        list(format!("dateFrom={today}&dateTo={today}")).await.len(),
        5
    );
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(list(format!("dateFrom={tomorrow}")).await.len(), 0);
    assert_eq!(
        list(format!("dateTo={}", today.pred_opt().unwrap()))
            .await
            .len(),
        0
    );
    let page = s.get("/reviews?limit=2&page=2", &s.owner_token).await;
    assert_eq!(
        page.body["meta"],
        json!({"total": 5, "page": 2, "limit": 2, "totalPages": 3})
    );
    for (query, field) in [
        ("minRating=0", "minRating"),
        ("minRating=6", "minRating"),
        ("dateFrom=15-03-2026", "dateFrom"),
        ("dateFrom=2026-03-02&dateTo=2026-03-01", "dateTo"),
        ("isApproved=maybe", "isApproved"),
        ("sort=rating", "sort"),
    ] {
        let reply = s.get(&format!("/reviews?{query}"), &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.fields(), [field], "{query}");
    }
}

async fn statistics_have_every_rating_and_one_decimal(s: TestServer) {
    let empty = s.get("/reviews/stats", &s.owner_token).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.data(),
        &json!({"totalReviews": 0, "averageRating": null,
                "ratingDistribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
                "approvedCount": 0, "pendingCount": 0})
    );
    let mut ids = Vec::new();
    for rating in [5, 4, 4, 2] {
        let (_, order) = ordered(&s).await;
        ids.push(
            review(&s, &order, rating).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let manager = s.staff_token("manager").await;
    s.patch(
        &format!("/reviews/{}", ids[0]),
        &manager,
        json!({"isApproved": true}),
    )
    .await;
    let admin = s.staff_token("admin").await;
    assert_eq!(
        s.delete(&format!("/reviews/{}", ids[3]), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get(&format!("/reviews/{}", ids[3]), &admin).await.status,
        StatusCode::NOT_FOUND
    );
    let stats = s.get("/reviews/stats", &s.owner_token).await;
    assert_eq!(
        stats.data(),
        &json!({"totalReviews": 3, "averageRating": 4.3,
                "ratingDistribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
                "approvedCount": 1, "pendingCount": 2})
    );
    assert_eq!(
        s.delete(&format!("/reviews/{}", ids[0]), &manager)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn reviews_stay_when_their_customer_is_erased(s: TestServer) {
    let (customer, order) = ordered(&s).await;
    let id = review(&s, &order, 4).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.delete(&format!("/customers/{customer}"), &s.owner_token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let kept = s.get(&format!("/reviews/{id}"), &s.owner_token).await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.data()["customerId"], Value::Null);
    let order = s.get(&format!("/orders/{order}"), &s.owner_token).await;
    assert_eq!(order.data()["customerId"], Value::Null, "orders stay too");
    let stats = s.get("/reviews/stats", &s.owner_token).await;
    assert_eq!(stats.data()["totalReviews"], 1);
}

async fn another_stores_reviews_do_not_exist(s: TestServer) {
    let (_, other) = s.other_store().await;
    let their_order = s
        .post("/orders", &other, json!({"items": [item()]}))
        .await
        .data()["id"]
        .clone();
    let theirs = s
        .post(
            "/reviews",
            &other,
            json!({"orderId": their_order, "rating": 5}),
        )
        .await
        .data()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/reviews/{theirs}");
    assert_eq!(
        s.get(&path, &s.owner_token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.patch(&path, &s.owner_token, json!({"isApproved": true}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.delete(&path, &s.owner_token).await.status,
        StatusCode::NOT_FOUND
    );
    let respond = s
        .send(
            Method::POST,
            &format!("{path}/response"),
            Some(&s.owner_token),
            Some(&json!({"responseText": "x"})),
        )
        .await;
    assert_eq!(respond.status, StatusCode::NOT_FOUND);
    let mine = s
        .post(
            "/reviews",
            &s.owner_token,
            json!({"orderId": their_order, "rating": 5}),
        )
        .await;
    assert_eq!(
        mine.fields(),
        ["orderId"],
        "another store's order is unknown here"
    );
    assert_eq!(
        s.get("/reviews", &s.owner_token).await.body["meta"]["total"],
        0
    );
    assert_eq!(
        s.get("/reviews/stats", &s.owner_token).await.data()["totalReviews"],
        0
    );
}

async fn reviews_page_by_cursor_too(s: TestServer) {
    let mut made = Vec::new();
    for rating in [5, 1, 4, 2, 5] {
        let (_, order) = ordered(&s).await;
        made.push(
            review(&s, &order, rating).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    made.reverse(); // newest first
    let ids = |reply: &customers_tests::Reply| -> Vec<String> {
        reply
            .data()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = s
        .get(
            "/reviews?minRating=2&limit=2&after=&total=bounded",
            &s.owner_token,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let meta = &first.body["meta"];
    assert_eq!(
        (meta["total"].clone(), meta["totalRelation"].clone()),
        (json!(4), json!("eq"))
    );
    assert_eq!(meta["hasMore"], true);
    // The same rows as page numbers list them.
    let high = ids(&s
        .get("/reviews?minRating=2&limit=100", &s.owner_token)
        .await);
    let made = ids(&s.get("/reviews?limit=100", &s.owner_token).await);
    assert_eq!((high.len(), made.len()), (4, 5));
    assert_eq!(ids(&first), high[..2]);
    let next = meta["nextCursor"].as_str().unwrap();
    let rest = s
        .get(
            &format!("/reviews?minRating=2&limit=5&after={next}"),
            &s.owner_token,
        )
        .await;
    assert_eq!(ids(&rest), high[2..]);
    assert_eq!(rest.body["meta"]["hasMore"], false);
    let link = rest
        .headers
        .get("link")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        link.contains("rel=\"prev\"") && link.contains("minRating=2"),
        "{link}"
    );
    // Bound to its filter.
    let other = s
        .get(&format!("/reviews?limit=5&after={next}"), &s.owner_token)
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.fields(), ["after"]);
    let last = s.get("/reviews?limit=2&before=", &s.owner_token).await;
    assert_eq!(ids(&last), made[3..]);
}
