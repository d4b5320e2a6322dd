//! `GET /customers`: the list shape of docs/api.md §4, paging, sorting and filters.

use std::collections::HashSet;

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    the_list_has_the_seed_shape_and_meta,
    pages_never_repeat_or_skip_a_customer,
    first_names_sort_case_insensitively_with_blanks_last,
    search_matches_name_email_or_phone_literally,
    filters_narrow_the_list,
    bad_parameters_are_refused_by_name,
    activity_sorts_with_never_ordered_customers_last,
    activity_filters_use_totals_and_recency,
);

fn ids(reply: &customers_tests::Reply) -> Vec<String> {
    reply
        .data()
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_list_has_the_seed_shape_and_meta(s: TestServer) {
    let empty = s.get("/customers", &s.owner_token).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.data(), &json!([]));
    assert_eq!(
        empty.body["meta"],
        json!({"total": 0, "page": 1, "limit": 20, "totalPages": 0})
    );

    for i in 0..3 {
        s.customer(json!({"firstName": format!("C{i}"), "email": format!("c{i}@example.dk")}))
            .await;
    }
    let reply = s.get("/customers?page=1&limit=2", &s.owner_token).await;
    assert_eq!(
        reply.body["meta"],
        json!({"total": 3, "page": 1, "limit": 2, "totalPages": 2})
    );
    let row = &reply.data()[0];
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdAt",
            "email",
            "firstName",
            "id",
            "isBlocked",
            "lastName",
            "lastOrderAt",
            "phone",
            "totalOrders",
            "totalSpentMinor"
        ]
    );
    assert_eq!(row["firstName"], "C2", "newest first by default");

    let past_the_end = s.get("/customers?page=9&limit=2", &s.owner_token).await;
    assert_eq!(past_the_end.status, StatusCode::OK);
    assert_eq!(past_the_end.data(), &json!([]));
    assert_eq!(
        past_the_end.body["meta"],
        json!({"total": 3, "page": 9, "limit": 2, "totalPages": 2})
    );
}

async fn pages_never_repeat_or_skip_a_customer(s: TestServer) {
    let mut created = HashSet::new();
    for i in 0..7 {
        created.insert(
            s.customer(json!({"firstName": if i % 2 == 0 { "Same" } else { "Name" }}))
                .await,
        );
    }
    for sort in [
        "createdAt",
        "firstName",
        "totalSpentMinor",
        "totalOrders",
        "lastOrderAt",
    ] {
        for dir in ["asc", "desc"] {
            let mut seen = Vec::new();
            for page in 1..=3 {
                let reply = s
                    .get(
                        &format!("/customers?sortBy={sort}&sortDir={dir}&limit=3&page={page}"),
                        &s.owner_token,
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK);
                seen.extend(ids(&reply));
            }
            let unique: HashSet<_> = seen.iter().cloned().collect();
            assert_eq!(seen.len(), 7, "{sort} {dir}");
            assert_eq!(unique, created, "{sort} {dir}");
        }
    }
}

async fn first_names_sort_case_insensitively_with_blanks_last(s: TestServer) {
    let blank = s.customer(json!({})).await;
    let bo = s.customer(json!({"firstName": "bo"})).await;
    let anna = s.customer(json!({"firstName": "Anna"})).await;
    let carl = s.customer(json!({"firstName": "Carl"})).await;
    let asc = s
        .get("/customers?sortBy=firstName&sortDir=asc", &s.owner_token)
        .await;
    assert_eq!(
        ids(&asc),
        [anna.clone(), bo.clone(), carl.clone(), blank.clone()]
    );
    let desc = s
        .get("/customers?sortBy=firstName&sortDir=desc", &s.owner_token)
        .await;
    assert_eq!(ids(&desc), [carl, bo, anna, blank]);
}

async fn search_matches_name_email_or_phone_literally(s: TestServer) {
    let maria = s
        .customer(json!({"firstName": "Maria", "lastName": "Nielsen", "email": "maria@example.dk", "phone": "+4520123456"}))
        .await;
    let percent = s
        .customer(json!({"firstName": "100%", "lastName": "Pizza_Fan"}))
        .await;
    s.customer(json!({"firstName": "Ole", "email": "ole@test.dk"}))
        .await;
    let s = &s;
    let search = |q: &str| {
        let path = format!("/customers?q={q}");
        async move { ids(&s.get(&path, &s.owner_token).await) }
    };
    assert_eq!(search("MARIA").await, [maria.as_str()]);
    assert_eq!(search("nielsen").await, [maria.as_str()]);
    assert_eq!(search("example.dk").await, [maria.as_str()]);
    assert_eq!(
        search("%2B4520").await,
        [maria.as_str()],
        "phone with its +"
    );
    assert_eq!(search("%25").await, [percent.as_str()], "% is literal");
    assert_eq!(search("a_f").await, [percent.as_str()], "_ is literal");
    assert_eq!(search("zzz").await, Vec::<String>::new());
    let reply = s.get("/customers?q=ia", &s.owner_token).await;
    assert_eq!(reply.body["meta"]["total"], 1);
}

async fn filters_narrow_the_list(s: TestServer) {
    let news = s
        .customer(json!({"firstName": "News", "acceptsMarketing": true, "allergens": ["GLUTEN"]}))
        .await;
    let quiet = s
        .customer(json!({"firstName": "Quiet", "allergens": ["DAIRY", "NUTS"]}))
        .await;
    let s = &s;
    let list = |query: &'static str| {
        let path = format!("/customers?{query}");
        async move {
            let reply = s.get(&path, &s.owner_token).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
            let mut found = ids(&reply);
            found.sort();
            assert_eq!(
                reply.body["meta"]["total"],
                Value::from(found.len()),
                "{query}"
            );
            found
        }
    };
    let mut both = vec![news.clone(), quiet.clone()];
    both.sort();
    assert_eq!(list("acceptsMarketing=true").await, [news.as_str()]);
    assert_eq!(list("acceptsMarketing=false").await, [quiet.as_str()]);
    assert_eq!(list("isBlocked=false").await, both);
    assert_eq!(list("isBlocked=true").await, Vec::<String>::new());
    assert_eq!(list("hasOrders=false").await, both);
    assert_eq!(list("hasOrders=true").await, Vec::<String>::new());
    assert_eq!(list("minSpent=0&maxSpent=0").await, both);
    assert_eq!(list("minSpent=1").await, Vec::<String>::new());
    assert_eq!(list("lastOrderPeriod=30d").await, Vec::<String>::new());
    assert_eq!(list("lastOrderPeriod=today").await, Vec::<String>::new());
    assert_eq!(list("allergen=NUTS").await, [quiet.as_str()]);
    assert_eq!(
        list("allergen=GLUTEN&acceptsMarketing=true").await,
        [news.as_str()]
    );
    assert_eq!(
        list("allergen=GLUTEN&acceptsMarketing=false").await,
        Vec::<String>::new()
    );
}

async fn bad_parameters_are_refused_by_name(s: TestServer) {
    for (query, fields) in [
        ("sortBy=email", vec!["sortBy"]),
        ("sortDir=up", vec!["sortDir"]),
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("page=0", vec!["page"]),
        ("page=abc", vec!["page"]),
        ("isBlocked=yes", vec!["isBlocked"]),
        ("minSpent=ten", vec!["minSpent"]),
        ("minSpent=10&maxSpent=5", vec!["maxSpent"]),
        ("lastOrderPeriod=1y", vec!["lastOrderPeriod"]),
        ("allergen=PEANUT", vec!["allergen"]),
        ("colour=red", vec!["colour"]),
        ("page=1&page=2", vec!["page"]),
    ] {
        let reply = s.get(&format!("/customers?{query}"), &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.code(), "VALIDATION_FAILED", "{query}");
        assert_eq!(reply.fields(), fields, "{query}");
    }
}

/// Ada spent most, Bo ordered most, Cy ordered last, Di never ordered.
async fn four_customers(s: &TestServer) -> [String; 4] {
    let ada = s.customer(json!({"firstName": "Ada"})).await;
    let bo = s.customer(json!({"firstName": "Bo"})).await;
    let cy = s.customer(json!({"firstName": "Cy"})).await;
    let di = s.customer(json!({"firstName": "Di"})).await;
    let now = chrono::Utc::now();
    let ago = |days: i64| (now - chrono::Duration::days(days)).to_rfc3339();
    s.set_activity(ada.as_str(), 90_000, 2, Some(&ago(40)))
        .await;
    s.set_activity(bo.as_str(), 50_000, 9, Some(&ago(5))).await;
    s.set_activity(cy.as_str(), 10_000, 1, Some(&now.to_rfc3339()))
        .await;
    [ada, bo, cy, di]
}

async fn activity_sorts_with_never_ordered_customers_last(s: TestServer) {
    let [ada, bo, cy, di] = four_customers(&s).await;
    let order = |query: &'static str| {
        let s = &s;
        async move { ids(&s.get(&format!("/customers?{query}"), &s.owner_token).await) }
    };
    assert_eq!(
        order("sortBy=totalSpentMinor&sortDir=desc").await,
        [ada.as_str(), bo.as_str(), cy.as_str(), di.as_str()]
    );
    assert_eq!(
        order("sortBy=totalSpentMinor&sortDir=asc").await,
        [di.as_str(), cy.as_str(), bo.as_str(), ada.as_str()]
    );
    assert_eq!(
        order("sortBy=totalOrders&sortDir=desc").await,
        [bo.as_str(), ada.as_str(), cy.as_str(), di.as_str()]
    );
    assert_eq!(
        order("sortBy=lastOrderAt&sortDir=desc").await,
        [cy.as_str(), bo.as_str(), ada.as_str(), di.as_str()]
    );
    assert_eq!(
        order("sortBy=lastOrderAt&sortDir=asc").await,
        [ada.as_str(), bo.as_str(), cy.as_str(), di.as_str()],
        "no orders last, ascending too"
    );
    let first = s
        .get(
            "/customers?sortBy=totalSpentMinor&sortDir=desc&limit=1",
            &s.owner_token,
        )
        .await;
    assert_eq!(first.data()[0]["totalSpentMinor"], 90_000);
    assert_eq!(first.data()[0]["totalOrders"], 2);
    assert!(
        first.data()[0]["lastOrderAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
}

async fn activity_filters_use_totals_and_recency(s: TestServer) {
    let [ada, bo, cy, di] = four_customers(&s).await;
    s.set_blocked(&di).await;
    let list = |query: &'static str| {
        let s = &s;
        async move {
            let reply = s
                .get(
                    &format!("/customers?{query}&sortBy=firstName&sortDir=asc"),
                    &s.owner_token,
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}");
            assert_eq!(
                reply.body["meta"]["total"],
                Value::from(reply.data().as_array().unwrap().len())
            );
            ids(&reply)
        }
    };
    assert_eq!(
        list("hasOrders=true").await,
        [ada.as_str(), bo.as_str(), cy.as_str()]
    );
    assert_eq!(list("hasOrders=false").await, [di.as_str()]);
    assert_eq!(list("minSpent=50000").await, [ada.as_str(), bo.as_str()]);
    assert_eq!(
        list("maxSpent=50000").await,
        [bo.as_str(), cy.as_str(), di.as_str()]
    );
    assert_eq!(
        list("minSpent=10000&maxSpent=50000").await,
        [bo.as_str(), cy.as_str()]
    );
    assert_eq!(list("lastOrderPeriod=today").await, [cy.as_str()]);
    assert_eq!(list("lastOrderPeriod=7d").await, [bo.as_str(), cy.as_str()]);
    assert_eq!(
        list("lastOrderPeriod=90d").await,
        [ada.as_str(), bo.as_str(), cy.as_str()]
    );
    assert_eq!(list("isBlocked=true").await, [di.as_str()]);
    assert_eq!(
        list("isBlocked=false&hasOrders=true&minSpent=20000").await,
        [ada.as_str(), bo.as_str()]
    );
    let blocked = s.get(&format!("/customers/{di}"), &s.owner_token).await;
    assert_eq!(blocked.data()["isBlocked"], true);
    assert!(blocked.data()["blockedAt"].as_str().unwrap().ends_with('Z'));
}
