//! Requests nobody should send: made-up methods and paths, by the thousand, must neither grow
//! `/metrics` nor reach a route; a method longer than any HTTP defines is refused.

use customers_tests::{Reply, TestServer, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(
    junk_methods_and_paths_keep_metrics_small,
    overlong_methods_are_refused_in_the_envelope,
);

/// Distinct junk requests sent by the first test.
const JUNK_REQUESTS: usize = 10_000;
/// Clients sending them at once.
const SENDERS: usize = 8;

/// A made-up method of at most 16 bytes, distinct for each `i`.
fn junk_method(i: usize) -> Method {
    Method::from_bytes(format!("JUNK{i:012}").as_bytes()).expect("a token")
}

async fn junk_methods_and_paths_keep_metrics_small(s: TestServer) {
    let mut senders = tokio::task::JoinSet::new();
    for sender in 0..SENDERS {
        let remote = s.remote();
        let token = s.owner_token.clone();
        senders.spawn(async move {
            let mut statuses = Vec::new();
            for i in (sender..JUNK_REQUESTS).step_by(SENDERS) {
                // Made-up methods on unknown paths and on real ones, and real methods on
                // unknown paths: every one distinct.
                let (method, path) = match i % 3 {
                    0 => (junk_method(i), format!("/junk/{i}/{}", "x".repeat(i % 300))),
                    1 => (junk_method(i), "/customers".to_owned()),
                    _ => (Method::GET, format!("/no-such-path-{i}?q={i}")),
                };
                let token = (i % 2 == 0).then_some(token.as_str());
                let reply = remote.send(method, &path, token, None).await;
                statuses.push(reply.status);
            }
            statuses
        });
    }
    let mut answered = 0;
    while let Some(statuses) = senders.join_next().await {
        for status in statuses.unwrap() {
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                "{status}"
            );
            answered += 1;
        }
    }
    assert_eq!(answered, JUNK_REQUESTS);
    // And a few methods too long to be counted at all (refused: see the next test).
    for length in [17, 100, 4096] {
        let method = Method::from_bytes("X".repeat(length).as_bytes()).unwrap();
        s.remote().send(method, "/customers", None, None).await;
    }

    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.len() < 64 * 1024,
        "/metrics is {} bytes after {JUNK_REQUESTS} junk requests",
        metrics.len()
    );
    let count = |series: &str| -> f64 {
        metrics
            .lines()
            .find(|line| line.starts_with(&format!("customers_http_requests_total{{{series}}}")))
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        count(r#"method="OTHER",route="(unmatched)",status="404""#),
        (JUNK_REQUESTS / 3 + 1) as f64
    );
    assert_eq!(
        count(r#"method="OTHER",route="/customers",status="405""#),
        (JUNK_REQUESTS / 3) as f64
    );
    assert_eq!(
        count(r#"method="GET",route="(unmatched)",status="404""#),
        (JUNK_REQUESTS / 3) as f64
    );
    assert_eq!(
        count(r#"method="OTHER",route="(unmatched)",status="400""#),
        3.0
    );
    assert!(!metrics.contains("JUNK0"), "no made-up method is a label");
    assert!(!metrics.contains("/junk/"), "no raw path is a label");
    assert!(!metrics.contains("no-such-path"), "no raw path is a label");
}

fn assert_refused(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.code(), "BAD_REQUEST");
    let request_id = reply.body["error"]["requestId"].as_str().unwrap();
    assert_eq!(Some(request_id), reply.header("x-request-id"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

async fn overlong_methods_are_refused_in_the_envelope(s: TestServer) {
    let id = s
        .customer(customers_tests::json!({"firstName": "Ada"}))
        .await;
    let path = format!("/customers/{id}");
    // 16 bytes pass on to routing (a method the path does not take: 405); 17 do not.
    let sixteen = Method::from_bytes(b"BASELINE-CONTROL").unwrap();
    let reply = s.remote().send(sixteen, &path, None, None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    for method in ["GETGETGETGETGETGE", &"P".repeat(1000), &"D".repeat(60_000)] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // With a valid credential, on a real path: refused before routing and before the
        // credential is looked at.
        let reply = s
            .remote()
            .send(method.clone(), &path, Some(&s.owner_token), None)
            .await;
        assert_refused(&reply);
        let reply = s.remote().send(method, "/nowhere", None, None).await;
        assert_refused(&reply);
    }
    let still = s.get(&path, &s.owner_token).await;
    assert_eq!(still.status, StatusCode::OK, "nothing was changed");
    assert_eq!(still.data()["firstName"], "Ada");
}
