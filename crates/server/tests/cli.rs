//! The `customers` binary itself: first start, `store create`, `migrate`, SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use customers_persistence::testing::TestDatabase;
use serde_json::Value;
use support::{created_store, customers, free_port, store_create};

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/nested/folder/customers.db", dir.display())
}

/// A `customers serve` child process and the lines it printed up to its token (if any).
struct Served {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

impl Served {
    fn start(database_url: &str, expect_token: bool) -> Self {
        Self::start_with(database_url, expect_token, &[])
    }

    fn start_with(database_url: &str, expect_token: bool, flags: &[&str]) -> Self {
        let port = free_port();
        let mut child = customers(database_url)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "1",
            ])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut stdout = Vec::new();
        if expect_token {
            let reader = BufReader::new(child.stdout.take().unwrap());
            for line in reader.lines() {
                let line = line.unwrap();
                let done = line.starts_with("Use it as:");
                stdout.push(line);
                if done {
                    break;
                }
            }
        }
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            base,
            stdout,
        }
    }

    fn token(&self) -> Option<String> {
        self.stdout
            .iter()
            .find_map(|l| l.strip_prefix("Owner token (shown only this once): "))
            .map(str::to_owned)
    }

    fn signal_terminate(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        self.signal_terminate();
        self.exit_status()
    }

    /// The exit status, once the process has stopped.
    fn exit_status(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_customers(base: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/customers"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_start_prints_a_token_that_lists_customers() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let served = Served::start(&url, true);
    let token = served
        .token()
        .expect("the first start prints the owner token");
    assert!(
        served.stdout[0].starts_with("Created store store_"),
        "{:?}",
        served.stdout
    );
    assert!(served.stdout[2].contains(&format!("Bearer {token}")));
    let (status, body) = get_customers(&served.base, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["data"], serde_json::json!([]));
    assert_eq!(
        body["meta"],
        serde_json::json!({"total": 0, "page": 1, "limit": 20, "totalPages": 0})
    );

    // `store create` works while the server runs on the same database.
    let created = store_create(&url, "Second", "second@example.dk");
    let (status, _) = get_customers(&served.base, created["token"].as_str().unwrap()).await;
    assert_eq!(
        status, 200,
        "the new store's token works on the running server"
    );

    let status = served.terminate();
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");

    // A second start on the same database prints no token.
    let again = Served::start(&url, false);
    let (status, _) = get_customers(&again.base, &token).await;
    assert_eq!(status, 200, "the first token still works after a restart");
    let status = again.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigterm_the_service_drains_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let mut served = Served::start_with(&url, true, &["--drain-secs", "2"]);
    let token = served
        .token()
        .expect("the first start prints the owner token");
    let client = reqwest::Client::new();
    let ready = |base: String| {
        let client = client.clone();
        async move {
            let reply = client.get(format!("{base}/readyz")).send().await.unwrap();
            reply.status().as_u16()
        }
    };
    assert_eq!(ready(served.base.clone()).await, 200);

    served.signal_terminate();
    // Draining: not ready, so a balancer stops sending, but every request is still served.
    let deadline = Instant::now() + Duration::from_secs(1);
    while ready(served.base.clone()).await == 200 {
        assert!(Instant::now() < deadline, "/readyz still answers 200");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready(served.base.clone()).await, 503);
    let (status, _) = get_customers(&served.base, &token).await;
    assert_eq!(status, 200, "requests are served while draining");
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "still running while draining"
    );

    let status = served.exit_status();
    assert!(status.success(), "a drained stop is clean: {status:?}");
    assert!(
        std::net::TcpStream::connect(served.base.trim_start_matches("http://")).is_err(),
        "the listener is closed"
    );
}

#[test]
fn store_create_works_on_an_untouched_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let first = store_create(&url, "Pizzeria", "owner@example.dk");
    let second = store_create(&url, "Sushi", "owner@example.dk");
    assert_ne!(first["storeId"], second["storeId"]);
    assert!(dir.path().join("nested/folder/customers.db").exists());
}

#[test]
fn store_create_refuses_bad_settings_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let output = customers(&sqlite_url(dir.path()))
        .args([
            "store",
            "create",
            "--name",
            "X",
            "--owner-email",
            "nope",
            "--currency",
            "kroner",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("currency") && stderr.contains("ownerEmail"),
        "{stderr}"
    );
}

#[test]
fn a_stores_largest_order_is_set_by_create_and_update() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let refused = customers(&url)
        .args([
            "store",
            "create",
            "--name",
            "X",
            "--owner-email",
            "o@example.dk",
            "--max-order-minor",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("maxOrderMinor"));

    let store = store_create(&url, "Pizzeria", "owner@example.dk");
    let store_id = store["storeId"].as_str().unwrap();
    let update = |value: &str, id: &str| {
        customers(&url)
            .args([
                "store",
                "update",
                "--store-id",
                id,
                "--max-order-minor",
                value,
            ])
            .output()
            .unwrap()
    };
    let updated = update("250000000", store_id);
    assert!(
        updated.status.success(),
        "{}",
        String::from_utf8_lossy(&updated.stderr)
    );
    let printed: Value = serde_json::from_slice(&updated.stdout).expect("one JSON object");
    assert_eq!(
        printed,
        serde_json::json!({"storeId": store_id, "maxOrderMinor": 250_000_000})
    );
    for (value, id, says) in [
        ("-1", store_id, "maxOrderMinor"),
        ("5", "store_nosuchstore0001", "no store"),
    ] {
        let refused = update(value, id);
        assert!(!refused.status.success());
        assert!(refused.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[test]
fn migrate_runs_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let status = customers(&sqlite_url(dir.path()))
            .arg("migrate")
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[test]
fn an_unknown_database_scheme_is_a_clear_error() {
    let output = customers("mysql://localhost/x")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("mysql"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_on_postgres() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let created = store_create(database.url(), "Pizzeria", "owner@example.dk");
    let served = Served::start(database.url(), false);
    let (status, body) = get_customers(&served.base, created["token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(served.terminate().success());
}

/// `customers --database-url URL store create …`: the database flag before the subcommand,
/// with no `DATABASE_URL` in the environment, creates the store in that database.
fn store_create_with_the_flag_first(database_url: &str) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customers"));
    command
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .args(["--database-url", database_url, "store", "create"])
        .args(["--name", "Flag first", "--owner-email", "first@example.dk"]);
    created_store(command)
}

#[tokio::test(flavor = "multi_thread")]
async fn global_flags_come_before_the_subcommand_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_url(dir.path());
    let mut databases = vec![sqlite];
    let postgres = TestDatabase::postgres().await;
    databases.extend(postgres.as_ref().map(|db| db.url().to_owned()));
    for url in &databases {
        let created = store_create_with_the_flag_first(url);
        // The store is in the database the flag named: its token lists customers there.
        let served = Served::start(url, false);
        let (status, body) = get_customers(&served.base, created["token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(served.terminate().success());
    }
}
