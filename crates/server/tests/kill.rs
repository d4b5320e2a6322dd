//! The ledger under SIGKILL: 32 clients fire mixed writes at the real binary, which is killed
//! three times mid-load and restarted; clients retry what went unanswered with the same
//! Idempotency-Key or externalId. Afterwards every customer's balance equals the sum of their
//! ledger, and the ledger holds every acknowledged change exactly once and nothing else.
//!
//! Sizes: `KILL_TEST_OPERATIONS` (default 2,000) operations, `KILL_TEST_CLIENTS` (default 32)
//! clients, three kills; on SQLite and on PostgreSQL.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use customers_persistence::testing::TestDatabase;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::{free_port, store_create, wait_until_ready};

const CUSTOMERS: usize = 16;
const START_BALANCE: i64 = 1_000;
const KILLS: usize = 3;
/// A request left unanswered is retried until this long after the load began.
const PATIENCE: Duration = Duration::from_secs(240);

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `customers serve` process, restarted on the same port after each kill.
struct Server {
    child: Child,
    database_url: String,
    port: u16,
}

impl Server {
    fn spawn(database_url: &str, port: u16) -> Child {
        Command::new(env!("CARGO_BIN_EXE_customers"))
            .args([
                "serve",
                "--database-url",
                database_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "2",
                "--db-max-connections",
                "8",
            ])
            .env("RUST_LOG", "error")
            // 32 clients of one credential, as fast as they can: a load the per-credential
            // limits would refuse (429); what this test checks is durability.
            .env("CUSTOMERS_CREDENTIAL_CONCURRENCY", "0")
            .env("CUSTOMERS_CREDENTIAL_RATE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts")
    }

    async fn start(database_url: &str) -> Server {
        let port = free_port();
        let server = Server {
            child: Self::spawn(database_url, port),
            database_url: database_url.to_owned(),
            port,
        };
        server.wait_until_healthy().await;
        server
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_until_healthy(&self) {
        wait_until_ready(&self.base(), Duration::from_secs(60)).await;
    }

    /// SIGKILL, then a new process on the same port; `started` is set to when it started.
    async fn kill_and_restart(&mut self, started: &Mutex<Instant>) {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed process is reaped");
        tokio::time::sleep(Duration::from_millis(200)).await;
        *started.lock().unwrap() = Instant::now();
        self.child = Self::spawn(&self.database_url, self.port);
        self.wait_until_healthy().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One logical operation of a client.
#[derive(Clone, Debug)]
enum Op {
    Adjust {
        customer: usize,
        delta: i64,
        key: String,
    },
    /// Sends an earlier adjustment again, same key and body (a double click).
    Repeat {
        of: usize,
    },
    Order {
        customer: usize,
        external_id: String,
        quantity: i64,
        key: String,
    },
    Cancel {
        of: usize,
    },
}

/// What the service answered for an operation, once it answered for good.
#[derive(Clone, Debug)]
enum Outcome {
    Adjusted { reason: String, delta: i64 },
    Refused,
    Ordered { id: String, points: i64 },
    Cancelled { order: String, points: i64 },
    Replayed,
}

/// A small deterministic generator (no dependency needed for test data).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Each client's operations, in order; a repeat or a cancel refers to an earlier operation of
/// the same client.
fn plan(clients: usize, operations: usize, run: &str) -> Vec<Vec<Op>> {
    let mut random = Lcg(0x5eed);
    let mut plans: Vec<Vec<Op>> = vec![Vec::new(); clients];
    for n in 0..operations {
        let ops = &mut plans[n % clients];
        let adjusts: Vec<usize> = (0..ops.len())
            .filter(|&i| matches!(ops[i], Op::Adjust { .. }))
            .collect();
        let orders: Vec<usize> = (0..ops.len())
            .filter(|&i| matches!(ops[i], Op::Order { .. }))
            .collect();
        let customer = random.below(CUSTOMERS as u64) as usize;
        let op = match random.below(10) {
            0 if !adjusts.is_empty() => Op::Repeat {
                of: adjusts[random.below(adjusts.len() as u64) as usize],
            },
            1 if !orders.is_empty() => Op::Cancel {
                of: orders[random.below(orders.len() as u64) as usize],
            },
            2..=5 => Op::Order {
                customer,
                external_id: format!("{run}-order-{n}"),
                quantity: 1 + random.below(5) as i64,
                key: format!("{run}-order-key-{n}"),
            },
            _ => Op::Adjust {
                customer,
                delta: random.below(120) as i64 - 60,
                key: format!("{run}-adjust-{n}"),
            }
            .nonzero(),
        };
        ops.push(op);
    }
    plans
}

impl Op {
    fn nonzero(self) -> Self {
        match self {
            Op::Adjust {
                customer,
                delta: 0,
                key,
            } => Op::Adjust {
                customer,
                delta: 7,
                key,
            },
            other => other,
        }
    }
}

/// Statuses seen, for the "no 5xx but 503" rule.
#[derive(Default)]
struct Seen {
    unavailable: usize,
    unanswered: usize,
    in_progress: usize,
    other_5xx: Vec<String>,
    /// For each keyed request an attempt of which was cut off by a kill: from the start of
    /// the server that answered it for good to that answer.
    recoveries: Vec<Duration>,
}

struct Shared {
    client: Client,
    base: String,
    token: String,
    seen: Mutex<Seen>,
    answered: AtomicUsize,
    /// When the server now running was started (the last restart).
    started: Mutex<Instant>,
}

impl Shared {
    /// Sends until the service answers for good: retried after a lost connection, a 503 or
    /// a 409 for a request with the same key still running.
    async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
        began: Instant,
    ) -> (StatusCode, Value) {
        let mut cut = false;
        loop {
            assert!(began.elapsed() < PATIENCE, "{path} never got an answer");
            let mut request = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(10));
            if let Some(key) = key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let reply = match request.send().await {
                Ok(reply) => reply,
                Err(_) => {
                    cut = true;
                    self.seen.lock().unwrap().unanswered += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let status = reply.status();
            let Ok(json) = reply.json::<Value>().await else {
                // Cut off mid-answer by the kill.
                cut = true;
                self.seen.lock().unwrap().unanswered += 1;
                continue;
            };
            if status == StatusCode::SERVICE_UNAVAILABLE {
                self.seen.lock().unwrap().unavailable += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            if status == StatusCode::CONFLICT && json["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
            {
                // Another request with the key is still running (a double click), or the
                // first attempt died with a server whose claim is not yet known as dead.
                self.seen.lock().unwrap().in_progress += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            if status.is_server_error() {
                self.seen
                    .lock()
                    .unwrap()
                    .other_5xx
                    .push(format!("{method} {path}: {status} {json}"));
            }
            if cut && key.is_some() {
                let since_start = self.started.lock().unwrap().elapsed();
                self.seen.lock().unwrap().recoveries.push(since_start);
            }
            self.answered.fetch_add(1, Ordering::Relaxed);
            return (status, json);
        }
    }
}

async fn run_client(
    shared: Arc<Shared>,
    customers: Arc<Vec<String>>,
    ops: Vec<Op>,
    began: Instant,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(ops.len());
    for op in &ops {
        let outcome = match op {
            Op::Adjust {
                customer,
                delta,
                key,
            } => {
                let path = format!("/customers/{}/loyalty/adjust", customers[*customer]);
                let body = json!({"delta": delta, "reason": key});
                let (status, json) = shared
                    .send(Method::POST, &path, Some(key), Some(&body), began)
                    .await;
                match status {
                    StatusCode::OK => Outcome::Adjusted {
                        reason: key.clone(),
                        delta: *delta,
                    },
                    StatusCode::UNPROCESSABLE_ENTITY
                        if json["error"]["code"] == "INSUFFICIENT_POINTS" =>
                    {
                        Outcome::Refused
                    }
                    other => panic!("adjust {key}: {other} {json}"),
                }
            }
            Op::Repeat { of } => {
                let Op::Adjust {
                    customer,
                    delta,
                    key,
                } = &ops[*of]
                else {
                    unreachable!("a repeat names an adjustment")
                };
                let path = format!("/customers/{}/loyalty/adjust", customers[*customer]);
                let body = json!({"delta": delta, "reason": key});
                let (status, json) = shared
                    .send(Method::POST, &path, Some(key), Some(&body), began)
                    .await;
                match (&outcomes[*of], status) {
                    (Outcome::Adjusted { .. }, StatusCode::OK) => Outcome::Replayed,
                    // A refusal frees the key: the repeat is a new attempt.
                    (Outcome::Refused, StatusCode::OK) => Outcome::Adjusted {
                        reason: key.clone(),
                        delta: *delta,
                    },
                    (Outcome::Refused, StatusCode::UNPROCESSABLE_ENTITY) => Outcome::Refused,
                    (first, other) => panic!("repeat of {key} after {first:?}: {other} {json}"),
                }
            }
            Op::Order {
                customer,
                external_id,
                quantity,
                key,
            } => {
                let body = json!({
                    "customerId": customers[*customer],
                    "externalId": external_id,
                    "items": [{
                        "productId": "p-1",
                        "productName": "Pizza",
                        "quantity": quantity,
                        "unitPriceMinor": 7_500,
                    }],
                });
                let (status, json) = shared
                    .send(Method::POST, "/orders", Some(key), Some(&body), began)
                    .await;
                assert!(
                    status == StatusCode::CREATED || status == StatusCode::OK,
                    "order {external_id}: {status} {json}"
                );
                Outcome::Ordered {
                    id: json["data"]["id"].as_str().unwrap().to_owned(),
                    points: json["data"]["pointsEarned"].as_i64().unwrap(),
                }
            }
            Op::Cancel { of } => {
                let Outcome::Ordered { id, points } = &outcomes[*of] else {
                    unreachable!("a cancel names an order")
                };
                let path = format!("/orders/{id}/cancel");
                let (status, json) = shared.send(Method::POST, &path, None, None, began).await;
                assert_eq!(status, StatusCode::OK, "cancel {id}: {json}");
                Outcome::Cancelled {
                    order: id.clone(),
                    points: *points,
                }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Every page of a customer's ledger.
async fn ledger(shared: &Shared, customer: &str) -> (i64, Vec<Value>) {
    let mut entries = Vec::new();
    let mut balance = 0;
    for page in 1.. {
        let path = format!("/customers/{customer}/loyalty?limit=100&page={page}");
        let (status, json) = shared
            .send(Method::GET, &path, None, None, Instant::now())
            .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        balance = json["data"]["balance"].as_i64().unwrap();
        let rows = json["data"]["entries"].as_array().unwrap().clone();
        if rows.is_empty() {
            break;
        }
        entries.extend(rows);
    }
    (balance, entries)
}

async fn ledger_survives_kills(database_url: &str, run: &str) {
    let operations = setting("KILL_TEST_OPERATIONS", 2_000);
    let clients = setting("KILL_TEST_CLIENTS", 32);
    let token = store_create(database_url, "Kill test", "owner@example.dk")["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let mut server = Server::start(database_url).await;
    let shared = Arc::new(Shared {
        client: Client::builder().pool_max_idle_per_host(0).build().unwrap(),
        base: server.base(),
        token,
        seen: Mutex::new(Seen::default()),
        answered: AtomicUsize::new(0),
        started: Mutex::new(Instant::now()),
    });

    let setup = Instant::now();
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        let (status, json) = shared
            .send(
                Method::POST,
                "/customers",
                None,
                Some(&json!({"firstName": format!("Guest {n}")})),
                setup,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        let id = json["data"]["id"].as_str().unwrap().to_owned();
        let path = format!("/customers/{id}/loyalty/adjust");
        let body = json!({"delta": START_BALANCE, "reason": "start"});
        let (status, json) = shared
            .send(Method::POST, &path, None, Some(&body), setup)
            .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        customers.push(id);
    }
    let customers = Arc::new(customers);

    let began = Instant::now();
    let before = shared.answered.load(Ordering::Relaxed);
    let plans = plan(clients, operations, run);
    let tasks: Vec<_> = plans
        .iter()
        .cloned()
        .map(|ops| {
            tokio::spawn(run_client(
                Arc::clone(&shared),
                Arc::clone(&customers),
                ops,
                began,
            ))
        })
        .collect();
    let mut kills = 0;
    while kills < KILLS {
        let answered = shared.answered.load(Ordering::Relaxed) - before;
        if answered >= operations * (kills + 1) / (KILLS + 1) {
            server.kill_and_restart(&shared.started).await;
            kills += 1;
        } else if tasks.iter().all(|t| t.is_finished()) {
            break;
        } else {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut outcomes = Vec::new();
    for (ops, task) in plans.into_iter().zip(tasks) {
        let results = task.await.expect("a client finished");
        outcomes.extend(ops.into_iter().zip(results));
    }
    let load = began.elapsed();

    // What the clients were told, per customer.
    let mut told: Vec<i64> = vec![START_BALANCE; CUSTOMERS];
    let mut adjusted: HashMap<String, (usize, i64)> = HashMap::new();
    let mut orders: HashMap<String, (usize, i64)> = HashMap::new();
    let mut cancelled: BTreeMap<String, i64> = BTreeMap::new();
    let customer_of_key: HashMap<&str, usize> = outcomes
        .iter()
        .filter_map(|(op, _)| match op {
            Op::Adjust { customer, key, .. } => Some((key.as_str(), *customer)),
            _ => None,
        })
        .collect();
    for (op, outcome) in &outcomes {
        match (op, outcome) {
            (Op::Adjust { .. } | Op::Repeat { .. }, Outcome::Adjusted { reason, delta }) => {
                let customer = customer_of_key[reason.as_str()];
                assert!(
                    adjusted
                        .insert(reason.clone(), (customer, *delta))
                        .is_none(),
                    "{reason} acknowledged as new twice"
                );
                told[customer] += delta;
            }
            (Op::Order { customer, .. }, Outcome::Ordered { id, points }) => {
                orders.insert(id.clone(), (*customer, *points));
                told[*customer] += points;
            }
            (Op::Cancel { .. }, Outcome::Cancelled { order, points }) => {
                cancelled.insert(order.clone(), *points);
            }
            _ => {}
        }
    }

    let mut entries_checked = 0;
    for (n, customer) in customers.iter().enumerate() {
        let (balance, entries) = ledger(&shared, customer).await;
        let sum: i64 = entries.iter().map(|e| e["delta"].as_i64().unwrap()).sum();
        assert_eq!(balance, sum, "{customer}: balance == Σ ledger");
        assert!(balance >= 0);
        assert!(
            entries
                .iter()
                .all(|e| e["balanceAfter"].as_i64().unwrap() >= 0)
        );
        let mut expected = told[n];
        let mut manual = 0;
        for entry in &entries {
            let delta = entry["delta"].as_i64().unwrap();
            match entry["source"].as_str().unwrap() {
                "manual" => {
                    let reason = entry["reason"].as_str().unwrap();
                    if reason != "start" {
                        assert_eq!(
                            adjusted.get(reason),
                            Some(&(n, delta)),
                            "{reason} is an acknowledged adjustment of this customer"
                        );
                        manual += 1;
                    }
                }
                "order" => {
                    let order = entry["orderId"].as_str().unwrap();
                    assert_eq!(orders.get(order), Some(&(n, delta)), "{order}'s points");
                }
                "order_cancel" => {
                    let order = entry["orderId"].as_str().unwrap();
                    let earned = cancelled.get(order).expect("an acknowledged cancel");
                    assert!(delta < 0 && -delta <= *earned, "{order}: {delta}");
                    expected += delta;
                }
                other => panic!("unexpected source {other}"),
            }
        }
        let mine = adjusted.values().filter(|(c, _)| *c == n).count();
        assert_eq!(
            manual, mine,
            "{customer}: every acknowledged adjustment once"
        );
        let earned = entries.iter().filter(|e| e["source"] == "order").count();
        let ordered = orders
            .values()
            .filter(|(c, points)| *c == n && *points > 0)
            .count();
        assert_eq!(earned, ordered, "{customer}: every order's points once");
        assert_eq!(
            balance, expected,
            "{customer}: start + every acknowledged change"
        );
        let take_backs: Vec<_> = entries
            .iter()
            .filter(|e| e["source"] == "order_cancel")
            .map(|e| e["orderId"].as_str().unwrap().to_owned())
            .collect();
        let mut unique = take_backs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), take_backs.len(), "a cancel takes back once");
        entries_checked += entries.len();
    }
    let mut seen = shared.seen.lock().unwrap();
    assert!(
        seen.other_5xx.is_empty(),
        "5xx other than 503: {:?}",
        seen.other_5xx
    );
    eprintln!(
        "{run}: {operations} operations by {clients} clients in {load:?}, {kills} kills; \
         {} adjustments, {} orders, {} cancels acknowledged; retried: {} unanswered, \
         {} answered 503, {} in progress; {entries_checked} ledger entries checked",
        adjusted.len(),
        orders.len(),
        cancelled.len(),
        seen.unanswered,
        seen.unavailable,
        seen.in_progress,
    );
    // A figure, not an assertion (no timed assertions in tests): see docs/reliability.md.
    seen.recoveries.sort();
    let quantile = |q: f64| {
        let last = seen.recoveries.len().saturating_sub(1);
        seen.recoveries
            .get((last as f64 * q).round() as usize)
            .map_or_else(|| "-".to_owned(), |d| format!("{} ms", d.as_millis()))
    };
    eprintln!(
        "{run}: {} keyed requests cut off by a kill; from the restart to their answer: \
         p50 {}, p99 {}, max {}",
        seen.recoveries.len(),
        quantile(0.5),
        quantile(0.99),
        quantile(1.0),
    );
    assert!(
        !seen.recoveries.is_empty(),
        "the kills cut off keyed requests"
    );
    assert_eq!(kills, KILLS, "the load outlasted every kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_survives_kills_on_sqlite() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kill.db", folder.path().display());
    ledger_survives_kills(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_survives_kills_on_postgres() {
    let Some(database) = TestDatabase::postgres_empty().await else {
        return;
    };
    ledger_survives_kills(database.url(), "postgres").await;
}
