//! The request log: one JSON line per request with its route pattern, status, latency, request
//! id and store — and never a secret or a customer's personal data.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn request_lines_carry_facts_and_no_personal_data_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&format!("sqlite://{}/customers.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn request_lines_carry_facts_and_no_personal_data_on_postgres() {
    let Some(database) = customers_persistence::testing::TestDatabase::postgres_empty().await
    else {
        return;
    };
    scenario(database.url()).await;
}

/// A scenario with personal data and secrets, logged at debug level.
async fn scenario(url: &str) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_customers"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
            "--log-format",
            "json",
        ])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first start prints the owner's token on stdout (not in the log).
    let mut stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    let mut buffer = [0u8; 4096];
    while !printed.contains("Use it as:") {
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "stdout closed before the token");
        printed.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let token = printed
        .lines()
        .find_map(|l| l.strip_prefix("Owner token (shown only this once): "))
        .unwrap()
        .to_owned();

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let secrets = [
        "maria.secret@example.dk",
        "+4520999888",
        "Allergic to everything, call first",
        "Nørrebrogade 99",
        "a password nobody should log",
        "a wrong password nobody should log",
        "threw the tiramisu at a waiter",
    ];
    let created: Value = client
        .post(format!("{base}/customers"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-log-1")
        .json(
            &json!({"firstName": "Maria", "email": secrets[0], "phone": secrets[1],
                      "adminNotes": secrets[2], "defaultAddressLine": secrets[3]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let store = created["data"]["storeId"].as_str().unwrap().to_owned();
    client
        .post(format!("{base}/users"))
        .bearer_auth(&token)
        .json(&json!({"email": "chef@example.dk", "password": secrets[4], "role": "manager"}))
        .send()
        .await
        .unwrap();
    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"storeId": store, "email": "chef@example.dk", "password": secrets[4]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let manager_token = login["data"]["token"].as_str().unwrap().to_owned();
    client
        .get(format!("{base}/customers/{id}?"))
        .bearer_auth(&manager_token)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/customers?q={}", "maria.secret"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/customers"))
        .bearer_auth("ord_live_sk_forged")
        .send()
        .await
        .unwrap();
    // A failed login, a block with a reason, an export and a new API key.
    client
        .post(format!("{base}/auth/login"))
        .json(&json!({"storeId": store, "email": "chef@example.dk", "password": secrets[5]}))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/customers/{id}/block"))
        .bearer_auth(&token)
        .json(&json!({"reason": secrets[6]}))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/customers/{id}/export"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let key: Value = client
        .post(format!("{base}/api-keys"))
        .bearer_auth(&token)
        .json(&json!({"name": "POS", "scopes": ["read:orders"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_key = key["data"]["key"].as_str().unwrap().to_owned();
    // A made-up method on a long unknown path, and a method longer than any HTTP defines.
    let long_path = format!("/unknown/{}", "p".repeat(3000));
    let long_method = "M".repeat(5000);
    client
        .request(
            reqwest::Method::from_bytes(b"MADEUPMETHOD").unwrap(),
            format!("{base}{long_path}"),
        )
        .send()
        .await
        .unwrap();
    let refused = client
        .request(
            reqwest::Method::from_bytes(long_method.as_bytes()).unwrap(),
            format!("{base}{long_path}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let log = String::from_utf8(output.stderr).unwrap();

    let requests: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 12, "one line per request:\n{log}");
    let first = &requests[0]["fields"];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["route"], "/customers");
    assert_eq!(first["status"], 201);
    assert_eq!(first["request_id"], "trace-log-1");
    assert_eq!(first["store"], store.as_str());
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        requests[3]["fields"]["route"], "/customers/{id}",
        "the pattern, not the id"
    );
    assert_eq!(requests[5]["fields"]["status"], 401);
    assert_eq!(requests[5]["fields"]["store"], "-");

    let made_up = &requests[10]["fields"];
    assert_eq!(made_up["method"], "MADEUPMETHOD");
    assert_eq!(made_up["route"], "(unmatched)");
    assert_eq!(made_up["status"], 404);
    let too_long = &requests[11]["fields"];
    assert_eq!(too_long["method"], "OTHER");
    assert_eq!(too_long["status"], 400);
    for line in log.lines() {
        assert!(line.len() <= 1000, "a log line of {} bytes", line.len());
    }
    assert!(
        !log.contains("ppppp"),
        "no raw path of an unmatched request"
    );
    assert!(!log.contains("MMMMM"), "no overlong method");

    for secret in secrets.iter().copied().chain([
        token.as_str(),
        manager_token.as_str(),
        api_key.as_str(),
        "maria.secret",
    ]) {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
}
