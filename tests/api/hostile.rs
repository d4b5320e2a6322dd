//! Hostile input over HTTP: every one a 4xx in the envelope (or a closed slow connection),
//! nothing half-written, the server unharmed.

use std::time::{Duration, Instant};

use customers_tests::{TestServer, json, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_databases!(
    hostile_bodies_are_refused_in_the_envelope_and_write_nothing,
    hostile_values_are_stored_verbatim_or_refused_never_executed,
    a_client_dribbling_its_headers_is_cut_off,
);

/// Posts raw bytes as JSON and checks the answer is a 4xx in the envelope.
async fn refused(s: &TestServer, path: &str, body: Vec<u8>) -> (StatusCode, String) {
    let reply = s
        .send_raw(
            Method::POST,
            path,
            Some(&s.owner_token),
            Some("application/json"),
            body,
        )
        .await;
    assert!(
        reply.status.is_client_error(),
        "{path}: {} {:?}",
        reply.status,
        reply.body
    );
    assert_eq!(reply.body["success"], false, "{:?}", reply.body);
    assert!(reply.body["error"]["message"].is_string());
    (reply.status, reply.code().to_owned())
}

fn nested(depth: usize) -> String {
    format!(
        r#"{{"firstName": {}"x"{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

async fn hostile_bodies_are_refused_in_the_envelope_and_write_nothing(s: TestServer) {
    let customer = s.customer(json!({"firstName": "Existing"})).await;
    let adjust = format!("/customers/{customer}/loyalty/adjust");
    let cases: Vec<(&str, String, Vec<u8>, StatusCode)> = vec![
        (
            "a 60,000-character name",
            "/customers".into(),
            json!({"firstName": "x".repeat(60_000)}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a control character",
            "/customers".into(),
            json!({"firstName": "Ma\u{7}ria"}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a bidi override",
            "/customers".into(),
            json!({"lastName": "\u{202E}nesleiN"}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "invalid UTF-8",
            "/customers".into(),
            b"{\"firstName\": \"Ma\xff\xferia\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON nested 10,000 deep",
            "/customers".into(),
            nested(10_000).into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON nested 100 deep",
            "/customers".into(),
            nested(100).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a 100,000-element array",
            "/customers".into(),
            json!({"allergens": vec!["NUTS"; 100_000]}).to_string().into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "a 10,000-element array of numbers",
            "/customers".into(),
            json!({"allergens": vec![1; 10_000]}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a number beyond i64",
            adjust.clone(),
            br#"{"delta": 99999999999999999999999, "reason": "overflow"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "the largest i64",
            adjust.clone(),
            json!({"delta": i64::MAX, "reason": "overflow"}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a fractional number",
            adjust.clone(),
            br#"{"delta": 1.5, "reason": "half"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a quantity beyond i64",
            "/orders".into(),
            br#"{"items": [{"productId": "p", "productName": "P", "quantity": 1e30, "unitPriceMinor": 1}]}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an order total that overflows",
            "/orders".into(),
            json!({"items": [{"productId": "p", "productName": "P", "quantity": i64::MAX, "unitPriceMinor": i64::MAX}]})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a duplicate key",
            "/customers".into(),
            br#"{"firstName": "Anna", "firstName": "Bo"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a duplicate nested key",
            "/orders".into(),
            br#"{"items": [{"productId": "p", "productId": "q", "productName": "P", "quantity": 1, "unitPriceMinor": 1}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a NUL byte in a key",
            "/customers".into(),
            b"{\"first\\u0000Name\": \"Anna\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (what, path, body, status) in cases {
        let (got, code) = refused(&s, &path, body).await;
        assert_eq!(got, status, "{what}: {code}");
    }
    for content_type in [
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/json",
    ] {
        let reply = s
            .send_raw(
                Method::POST,
                "/customers",
                Some(&s.owner_token),
                Some(content_type),
                br#"{"firstName": "Typed"}"#.to_vec(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }
    // Nothing was written: the one customer, no order, no ledger entry.
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.body["meta"]["total"], 1);
    let ledger = s
        .get(&format!("/customers/{customer}/loyalty"), &s.owner_token)
        .await;
    assert_eq!(ledger.data()["balance"], 0);
    assert_eq!(ledger.body["meta"]["total"], 0);
    let health = s.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}

async fn hostile_values_are_stored_verbatim_or_refused_never_executed(s: TestServer) {
    let sneaky = "Robert'); DROP TABLE customers;--";
    let id = s
        .customer(json!({"firstName": sneaky, "lastName": "%_\\'\"", "adminNotes": "' OR '1'='1"}))
        .await;
    let stored = s.get(&format!("/customers/{id}"), &s.owner_token).await;
    assert_eq!(stored.data()["firstName"], sneaky);
    assert_eq!(stored.data()["lastName"], "%_\\'\"");
    for q in ["' OR 1=1 --", "%", "_", "\\", "%' OR '1'='1"] {
        let path = format!("/customers?q={}", urlencode(q));
        let reply = s.get(&path, &s.owner_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{q}");
        let total = reply.body["meta"]["total"].as_u64().unwrap();
        assert!(total <= 1, "{q} matched {total}");
    }
    let wildcard = s
        .get(&format!("/customers?q={}", urlencode("%_")), &s.owner_token)
        .await;
    assert_eq!(wildcard.body["meta"]["total"], 1, "matched literally");
    let bad_sort = s
        .get(
            "/customers?sortBy=id;DROP%20TABLE%20customers",
            &s.owner_token,
        )
        .await;
    assert_eq!(bad_sort.status, StatusCode::UNPROCESSABLE_ENTITY);
    let odd_id = s
        .get("/customers/cust_x'%20OR%20'1'='1", &s.owner_token)
        .await;
    assert_eq!(odd_id.status, StatusCode::NOT_FOUND);
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(list.body["meta"]["total"], 1, "the table is still there");
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn a_client_dribbling_its_headers_is_cut_off(s: TestServer) {
    let address = s.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /customers HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        s.owner_token
    );
    let started = Instant::now();
    let mut cut_off = None;
    // One byte every 300 ms: the whole request would take about 30 s.
    for byte in request.as_bytes() {
        if slow.write_all(&[*byte]).await.is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        // Meanwhile others are served as usual.
        if started.elapsed() > Duration::from_secs(1) && cut_off.is_none() {
            let other = s.get("/healthz", &s.owner_token).await;
            assert_eq!(other.status, StatusCode::OK);
        }
        let mut answer = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut answer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_off = Some(started.elapsed());
                break;
            }
            Ok(Ok(n)) => {
                let text = String::from_utf8_lossy(&answer[..n]).into_owned();
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
                cut_off = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let cut_off = cut_off.expect("the server hangs up on a dribbling client");
    assert!(cut_off < Duration::from_secs(15), "{cut_off:?}");
    let after = s.get("/customers", &s.owner_token).await;
    assert_eq!(after.status, StatusCode::OK, "the server is unharmed");
    let _ = Value::Null;
}
