//! `/openapi.json` describes exactly what the service serves; `/docs` serves its page.

use customers_http::routes::{ROUTES, paths};
use customers_tests::{TestServer, on_both_databases};
use reqwest::{Method, StatusCode};

on_both_databases!(
    the_document_lists_every_route_the_service_serves,
    the_reference_page_and_its_files_are_served,
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
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from outside"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    ] {
        assert!(html.contains(&format!("/docs/{asset}")), "{asset}");
        let file = s
            .send(Method::GET, &format!("/docs/{asset}"), None, None)
            .await;
        assert_eq!(file.status, StatusCode::OK, "{asset}");
        assert!(file.raw.len() > 1000, "{asset}");
    }
    let missing = s.send(Method::GET, "/docs/secret.txt", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "NOT_FOUND");
}
