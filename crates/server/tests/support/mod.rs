//! What the tests of the `customers` binary share: the binary as a command, free ports, stores
//! made by `store create`, and waiting for a process to be ready.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::Value;

/// The binary, pointed at `database_url`, logging warnings and worse.
pub fn customers(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customers"));
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("CUSTOMERS_LISTEN");
    command
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a `store create` command and checks its output: one JSON object on one line, with
/// `storeId`, `ownerUserId` and `token`.
pub fn created_store(mut command: Command) -> Value {
    let output = command.output().expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one line on stdout: {stdout:?}"
    );
    let json: Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["ownerUserId", "storeId", "token"]);
    assert!(json["storeId"].as_str().unwrap().starts_with("store_"));
    assert!(json["ownerUserId"].as_str().unwrap().starts_with("usr_"));
    assert!(json["token"].as_str().unwrap().starts_with("ord_live_sk_"));
    json
}

/// A store made by `customers store create` on `database_url`.
pub fn store_create(database_url: &str, name: &str, email: &str) -> Value {
    let mut command = customers(database_url);
    command.args(["store", "create", "--name", name, "--owner-email", email]);
    created_store(command)
}

/// Waits until `base` answers `/readyz` with 200, for at most `patience`.
pub async fn wait_until_ready(base: &str, patience: Duration) {
    let client = Client::new();
    let deadline = Instant::now() + patience;
    loop {
        if let Ok(reply) = client.get(format!("{base}/readyz")).send().await
            && reply.status() == StatusCode::OK
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
