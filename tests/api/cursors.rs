//! `GET /customers` by cursor: `after`/`before` pages, their meta and `Link`s, totals that
//! are exact, bounded or absent, and the cursors' binding to the list.

use customers_tests::{Reply, TestServer, json, on_both_databases};
use reqwest::StatusCode;

on_both_databases!(
    cursor_pages_walk_the_list_both_ways_by_their_links,
    a_cursor_page_has_its_own_meta_and_totals_as_asked,
    cursors_hold_their_place_while_customers_come_and_go,
    cursor_mistakes_are_refused_by_name,
    page_numbers_link_to_the_pages_around_them,
);

fn ids(reply: &Reply) -> Vec<String> {
    reply
        .data()
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The targets of the reply's `Link` header by relation.
fn links(reply: &Reply) -> Vec<(String, String)> {
    let header = reply
        .headers
        .get("link")
        .expect("a Link header")
        .to_str()
        .expect("ASCII");
    header
        .split(", ")
        .map(|link| {
            let (target, rel) = link.split_once("; rel=").expect("target; rel=");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            (rel.trim_matches('"').to_owned(), target.to_owned())
        })
        .collect()
}

fn link(reply: &Reply, rel: &str) -> Option<String> {
    links(reply)
        .into_iter()
        .find(|(found, _)| found == rel)
        .map(|(_, target)| target)
}

/// Seven customers, two without a first name; their ids in `firstName` order.
async fn seven(s: &TestServer) -> Vec<String> {
    for name in [
        Some("Ea"),
        None,
        Some("bo"),
        Some("Ada"),
        None,
        Some("cy"),
        Some("Di"),
    ] {
        let body = match name {
            Some(name) => json!({"firstName": name}),
            None => json!({"lastName": "Nameless"}),
        };
        s.customer(body).await;
    }
    let all = s
        .get(
            "/customers?sortBy=firstName&sortDir=asc&limit=100",
            &s.owner_token,
        )
        .await;
    ids(&all)
}

async fn cursor_pages_walk_the_list_both_ways_by_their_links(s: TestServer) {
    let want = seven(&s).await;
    let first = "/customers?sortBy=firstName&sortDir=asc&limit=2&after=";
    let mut reply = s.get(first, &s.owner_token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        link(&reply, "prev"),
        None,
        "the first page has none before it"
    );
    let mut walked = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        walked.extend(ids(&reply));
        let next = link(&reply, "next");
        assert_eq!(next.is_some(), reply.body["meta"]["hasMore"] == true);
        let Some(next) = next else { break };
        assert!(next.starts_with("/customers?"), "{next}");
        assert!(next.contains("sortBy=firstName") && next.contains("limit=2"));
        reply = s.get(&next, &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    assert_eq!(walked, want, "forward, nameless last");
    assert_eq!(pages, 4);

    let last = link(&reply, "last").expect("a last link");
    assert!(last.ends_with("before="), "{last}");
    let mut reply = s.get(&last, &s.owner_token).await;
    let mut back = Vec::new();
    loop {
        let mut page = ids(&reply);
        page.reverse();
        back.extend(page);
        let Some(prev) = link(&reply, "prev") else {
            break;
        };
        reply = s.get(&prev, &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    back.reverse();
    assert_eq!(back, want, "backward from the end");
}

async fn a_cursor_page_has_its_own_meta_and_totals_as_asked(s: TestServer) {
    let want = seven(&s).await;
    let bounded = s
        .get(
            "/customers?sortBy=firstName&sortDir=asc&limit=3&after=&total=bounded",
            &s.owner_token,
        )
        .await;
    let meta = &bounded.body["meta"];
    assert_eq!(meta["limit"], 3);
    assert_eq!(meta["hasMore"], true);
    assert_eq!(meta["prevCursor"], json!(null));
    assert_eq!(
        (meta["total"].clone(), meta["totalRelation"].clone()),
        (json!(7), json!("eq"))
    );
    assert_eq!(ids(&bounded), want[..3]);
    let next = meta["nextCursor"].as_str().expect("a cursor");

    // The default counts nothing; the rest of the list follows the cursor.
    let rest = s
        .get(
            &format!("/customers?sortBy=firstName&sortDir=asc&limit=10&after={next}"),
            &s.owner_token,
        )
        .await;
    let meta = rest.body["meta"].as_object().expect("meta");
    let mut keys: Vec<&str> = meta.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["hasMore", "limit", "nextCursor", "prevCursor"]);
    assert_eq!(meta["hasMore"], false);
    assert_eq!(meta["nextCursor"], json!(null));
    assert!(meta["prevCursor"].is_string());
    assert_eq!(ids(&rest), want[3..]);

    let filtered = s
        .get("/customers?q=nameless&before=&total=exact", &s.owner_token)
        .await;
    assert_eq!(filtered.body["meta"]["total"], 2);
    assert_eq!(filtered.body["meta"]["totalRelation"], "eq");
    assert_eq!(filtered.body["meta"]["hasMore"], false);
    assert_eq!(ids(&filtered).len(), 2);
}

async fn cursors_hold_their_place_while_customers_come_and_go(s: TestServer) {
    let mut made = Vec::new();
    for n in 0..6 {
        made.push(s.customer(json!({"firstName": format!("Old{n}")})).await);
    }
    made.reverse(); // newest first, the default order
    let first = s.get("/customers?limit=2&after=", &s.owner_token).await;
    assert_eq!(ids(&first), made[..2]);
    let next = first.body["meta"]["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    // Newer customers come before the cursor, one already listed and one not yet are erased.
    for n in 0..3 {
        s.customer(json!({"firstName": format!("New{n}")})).await;
    }
    for gone in [&made[0], &made[3]] {
        let reply = s
            .delete(&format!("/customers/{gone}"), &s.owner_token)
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    }
    let rest = s
        .get(&format!("/customers?limit=10&after={next}"), &s.owner_token)
        .await;
    assert_eq!(
        ids(&rest),
        [made[2].clone(), made[4].clone(), made[5].clone()]
    );
    // The erased customer's cursor still marks a place.
    let from_gone = s
        .get(
            &format!("/customers?limit=10&before={next}&total=exact"),
            &s.owner_token,
        )
        .await;
    assert_eq!(from_gone.status, StatusCode::OK);
    assert_eq!(
        ids(&from_gone).len(),
        3,
        "the three new customers came before it"
    );
    assert_eq!(from_gone.body["meta"]["total"], 7);
}

async fn cursor_mistakes_are_refused_by_name(s: TestServer) {
    s.customer(json!({"firstName": "Ada"})).await;
    let by_name = s
        .get("/customers?sortBy=firstName&limit=1&after=", &s.owner_token)
        .await;
    let cursor = by_name.body["meta"]["prevCursor"].clone();
    assert_eq!(cursor, json!(null));
    let two = s.customer(json!({"firstName": "Bo"})).await;
    assert!(!two.is_empty());
    let by_name = s
        .get("/customers?sortBy=firstName&limit=1&after=", &s.owner_token)
        .await;
    let cursor = by_name.body["meta"]["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    for (query, fields) in [
        ("after=not*a*cursor".to_owned(), vec!["after"]),
        ("after=bm90IGEgY3Vyc29y".to_owned(), vec!["after"]),
        (format!("after={cursor}"), vec!["after"]),
        (
            format!("sortBy=firstName&sortDir=asc&before={cursor}"),
            vec!["before"],
        ),
        (
            format!("sortBy=firstName&q=a&after={cursor}"),
            vec!["after"],
        ),
        ("after=&before=".to_owned(), vec!["before"]),
        ("page=2&after=".to_owned(), vec!["page"]),
        ("total=bounded".to_owned(), vec!["total"]),
        ("after=&total=many".to_owned(), vec!["total"]),
        (format!("after={}", "A".repeat(1_100)), vec!["after"]),
    ] {
        let reply = s.get(&format!("/customers?{query}"), &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.code(), "VALIDATION_FAILED", "{query}");
        assert_eq!(reply.fields(), fields, "{query}");
    }
    let fits = s
        .get(
            &format!("/customers?sortBy=firstName&after={cursor}"),
            &s.owner_token,
        )
        .await;
    assert_eq!(fits.status, StatusCode::OK, "the same sort and filters");
}

async fn page_numbers_link_to_the_pages_around_them(s: TestServer) {
    for n in 0..5 {
        s.customer(json!({"firstName": format!("C{n}")})).await;
    }
    let middle = s
        .get("/customers?isBlocked=false&limit=2&page=2", &s.owner_token)
        .await;
    assert_eq!(
        middle.body["meta"],
        json!({"total": 5, "page": 2, "limit": 2, "totalPages": 3})
    );
    let found = links(&middle);
    let rels: Vec<&str> = found.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(rels, ["first", "prev", "next", "last"]);
    assert_eq!(
        link(&middle, "next").as_deref(),
        Some("/customers?isBlocked=false&limit=2&page=3")
    );
    assert_eq!(
        link(&middle, "last").as_deref(),
        Some("/customers?isBlocked=false&limit=2&page=3")
    );
    assert_eq!(
        link(&middle, "prev").as_deref(),
        Some("/customers?isBlocked=false&limit=2&page=1")
    );
    let first = s.get("/customers?limit=5", &s.owner_token).await;
    let rels: Vec<String> = links(&first).into_iter().map(|(rel, _)| rel).collect();
    assert_eq!(rels, ["first", "last"]);
}
