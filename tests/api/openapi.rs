//! `/openapi.json` describes exactly what the service serves; `/docs` serves its page.

use customers_http::routes::{ROUTES, paths};
use customers_tests::{TestServer, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(
    the_document_lists_every_route_the_service_serves,
    the_reference_page_and_its_files_are_served,
    the_reference_page_may_not_be_framed_or_run_foreign_script,
    a_page_past_the_maximum_is_told_the_range,
);

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "cust_zzzzzzzzzzzz")
        .replace("{asset}", "swagger-ui.css")
}

async fn the_document_lists_every_route_the_service_serves(s: TestServer) {
    let reply = s.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = reply.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let documented = doc["paths"].as_object().expect("paths");
    for route in ROUTES {
        assert!(
            documented[route.path][route.verb.as_str().to_lowercase()].is_object(),
            "{} {} is served but not documented",
            route.verb.as_str(),
            route.path
        );
    }
    // Every path the router knows is documented, and for each of them the service answers
    // exactly the documented methods: any other is 405.
    assert_eq!(documented.len(), paths().len());
    for path in paths() {
        let item = documented[path].as_object().expect("a documented path");
        for method in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::PUT,
        ] {
            let reply = s
                .send(method.clone(), &concrete(path), Some(&s.owner_token), None)
                .await;
            let documented = item.contains_key(&method.as_str().to_lowercase());
            assert_eq!(
                reply.status != StatusCode::METHOD_NOT_ALLOWED,
                documented,
                "{method} {path}: {} ({:?})",
                reply.status,
                reply.body
            );
        }
    }
}

async fn the_reference_page_and_its_files_are_served(s: TestServer) {
    let page = s.send(Method::GET, "/docs", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8(page.raw).unwrap();
    let start = s.send(Method::GET, "/docs/start.js", None, None).await;
    assert!(
        String::from_utf8(start.raw)
            .unwrap()
            .contains("\"/openapi.json\""),
        "the page reads this service's document"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from outside"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "start.js",
    ] {
        assert!(html.contains(&format!("/docs/{asset}")), "{asset}");
        let file = s
            .send(Method::GET, &format!("/docs/{asset}"), None, None)
            .await;
        assert_eq!(file.status, StatusCode::OK, "{asset}");
        assert!(file.raw.len() > 200, "{asset}");
    }
    let missing = s.send(Method::GET, "/docs/secret.txt", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "NOT_FOUND");
}

/// `/docs` and its files carry a policy that allows only this origin's scripts (none inline),
/// forbids framing, and turns off type sniffing.
async fn the_reference_page_may_not_be_framed_or_run_foreign_script(s: TestServer) {
    for path in ["/docs", "/docs/start.js", "/docs/swagger-ui.css"] {
        let reply = s.send(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let policy = reply
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has a policy"));
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-eval"), "{path}: {policy}");
        assert!(
            !policy
                .split(';')
                .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")),
            "{path}: {policy}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let html = String::from_utf8(s.send(Method::GET, "/docs", None, None).await.raw).unwrap();
    assert!(!html.contains("<script>"), "no inline script on the page");
}

/// The highest page is named in the message, not "at least 1".
async fn a_page_past_the_maximum_is_told_the_range(s: TestServer) {
    let max = customers_domain::page::MAX_PAGE;
    for path in ["/customers", "/reviews", "/audit"] {
        let reply = s
            .get(
                &format!("{path}?page={}", u64::from(max) + 1),
                &s.owner_token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(reply.code(), "VALIDATION_FAILED");
        let field = &reply.body["error"]["details"][0];
        assert_eq!(field["field"], "page", "{path}: {:?}", reply.body);
        assert_eq!(
            field["message"],
            format!("must be between 1 and {max}"),
            "{path}"
        );
        let last = s
            .get(&format!("{path}?page={max}&limit=100"), &s.owner_token)
            .await;
        assert_eq!(
            last.status,
            StatusCode::OK,
            "{path}: the highest page is a page"
        );
    }
}
