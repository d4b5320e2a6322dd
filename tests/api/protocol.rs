//! The wire protocol: request ids, headers, 404/405, content types, body limits, health.

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(
    request_ids_are_echoed_or_made,
    security_headers_are_on_every_response,
    unknown_paths_and_methods_answer_in_the_envelope,
    bodies_must_be_json_objects_within_the_limit,
    health_and_readiness_answer,
    metrics_count_requests_by_route_pattern,
);

async fn request_ids_are_echoed_or_made(s: TestServer) {
    let response = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let a = s.get("/customers/cust_zzzzzzzzzzzz", &s.owner_token).await;
    let b = s.get("/customers/cust_zzzzzzzzzzzz", &s.owner_token).await;
    let id_a = a.header("x-request-id").unwrap().to_owned();
    assert_ne!(Some(id_a.as_str()), b.header("x-request-id"));
    assert_eq!(
        a.body["error"]["requestId"],
        id_a.as_str(),
        "the error names its request"
    );
}

async fn security_headers_are_on_every_response(s: TestServer) {
    let public = s.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(public.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(public.header("cache-control"), None);
    for reply in [
        s.get("/customers", &s.owner_token).await,
        s.send(Method::GET, "/customers", None, None).await,
    ] {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
    }
}

async fn unknown_paths_and_methods_answer_in_the_envelope(s: TestServer) {
    let missing = s.get("/nothing/here", &s.owner_token).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "NOT_FOUND");
    let put = s
        .send(
            Method::PUT,
            "/customers",
            Some(&s.owner_token),
            Some(&json!({})),
        )
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.code(), "METHOD_NOT_ALLOWED");
    assert_eq!(put.header("allow"), Some("POST, GET"));
    let post_one = s
        .send(
            Method::POST,
            "/customers/cust_zzzzzzzzzzzz",
            Some(&s.owner_token),
            None,
        )
        .await;
    assert_eq!(post_one.header("allow"), Some("GET, PATCH, DELETE"));
}

async fn bodies_must_be_json_objects_within_the_limit(s: TestServer) {
    let token = Some(s.owner_token.as_str());
    let send = |content_type: Option<&'static str>, body: &[u8]| {
        let body = body.to_vec();
        let s = &s;
        async move {
            s.send_raw(Method::POST, "/customers", token, content_type, body)
                .await
        }
    };
    let no_type = send(None, br#"{"firstName":"Maria"}"#).await;
    assert_eq!(
        (no_type.status, no_type.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
    );
    let text = send(Some("text/plain"), br#"{"firstName":"Maria"}"#).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for bad in [&b"{"[..], b"", b"[1,2]", b"\"text\"", b"null", b"{\"a\":}"] {
        let reply = send(Some("application/json"), bad).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(reply.code(), "MALFORMED_JSON");
    }
    let with_charset = send(
        Some("application/json; charset=utf-8"),
        br#"{"firstName":"Maria"}"#,
    )
    .await;
    assert_eq!(with_charset.status, StatusCode::CREATED);
    let huge = format!(r#"{{"adminNotes":"{}"}}"#, "x".repeat(70 * 1024));
    let too_large = send(Some("application/json"), huge.as_bytes()).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.code(), "PAYLOAD_TOO_LARGE");
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(
        list.body["meta"]["total"], 1,
        "only the valid request wrote"
    );
}

async fn health_and_readiness_answer(s: TestServer) {
    let health = s.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.data()["status"], "ok");
    let ready = s.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.data()["status"], "ready");
}

async fn metrics_count_requests_by_route_pattern(s: TestServer) {
    let id = s.customer(json!({})).await;
    for _ in 0..3 {
        s.get(&format!("/customers/{id}"), &s.owner_token).await;
    }
    s.get("/customers/cust_zzzzzzzzzzzz", &s.owner_token).await;
    let response = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    let text = response.text().await.unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let ok = r#"method="GET",route="/customers/{id}",status="200""#;
    let missing = r#"method="GET",route="/customers/{id}",status="404""#;
    assert_eq!(
        line(&format!("customers_http_requests_total{{{ok}}}")),
        3.0,
        "one series for every id"
    );
    assert_eq!(
        line(&format!("customers_http_requests_total{{{missing}}}")),
        1.0
    );
    assert_eq!(
        line(&format!(
            "customers_http_request_duration_seconds_count{{{ok}}}"
        )),
        3.0
    );
    assert_eq!(
        line(&format!(
            r#"customers_http_request_duration_seconds_bucket{{{ok},le="+Inf"}}"#
        )),
        3.0
    );
    assert!(line("customers_db_pool_max_connections") >= 1.0);
    assert!(line("customers_db_pool_connections") >= 1.0);
    assert_eq!(line("customers_db_pool_waiting"), 0.0);
    assert!(text.contains("customers_build_info{version="));
    assert!(!text.contains(&id), "no raw paths, so no ids");
}
