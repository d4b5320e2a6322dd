//! The end-to-end harness: the real wiring (`customers_server::start`) on a fresh database,
//! listening on a free port, driven over real HTTP.
//!
//! Every test gets its own database (a temporary SQLite file, or a fresh PostgreSQL database
//! that is dropped afterwards), so tests run in parallel without seeing each other's rows.

use customers_persistence::testing::TestDatabase;
use customers_server::{RunningServer, ServeOptions};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

mod proxy;

pub use customers_persistence::testing;
pub use proxy::TcpProxy;
pub use serde_json::json;

/// Runs each named `async fn name(server: TestServer)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestServer::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(server) = $crate::TestServer::postgres().await {
                        super::$name(server).await;
                    }
                }
            )*
        }
    };
}

/// Runs each named `async fn name(database: TestDatabase)` once on SQLite and once on
/// PostgreSQL, for tests that start a server with settings of their own. The tests sit in a
/// module `configured`, beside those of [`on_both_databases!`].
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod configured {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::super::$case($crate::testing::TestDatabase::sqlite().await).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        if let Some(database) = $crate::testing::TestDatabase::postgres().await {
                            super::super::$case(database).await;
                        }
                    }
                )*
            }
        }
    };
}

/// A response: status, headers and the parsed JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    /// The body exactly as received.
    pub raw: Vec<u8>,
}

/// A client bound to a running server; `Clone + 'static`, for requests in spawned tasks.
#[derive(Clone)]
pub struct Remote {
    client: Client,
    base: String,
}

impl Remote {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.send_with(method, path, token, body, &[]).await
    }

    /// Sends with extra headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::read(request.send().await.expect("the server answers")).await
    }
}

impl Reply {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
            raw: bytes.to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The `field`s of `error.details`.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|details| {
                details
                    .iter()
                    .filter_map(|d| d["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running service on a fresh database, with the first-start store's owner token.
pub struct TestServer {
    pub base: String,
    pub store_id: String,
    pub owner_token: String,
    pub client: Client,
    server: Option<RunningServer>,
    database: TestDatabase,
}

impl TestServer {
    pub async fn sqlite() -> Self {
        Self::start(TestDatabase::sqlite().await).await
    }

    /// `None` (after saying so loudly) when no PostgreSQL answers, unless `CI=true`.
    pub async fn postgres() -> Option<Self> {
        Some(Self::start(TestDatabase::postgres().await?).await)
    }

    async fn start(database: TestDatabase) -> Self {
        Self::start_with(database, |_| {}).await
    }

    /// Serves `database` with the test settings, then whatever `configure` changes.
    pub async fn start_with(
        database: TestDatabase,
        configure: impl FnOnce(&mut ServeOptions),
    ) -> Self {
        let mut options = ServeOptions::new(database.url());
        options.workers = Some(2);
        options.database.max_connections = 8;
        // Many tests fire hundreds of requests at once with one credential; the tests of the
        // per-credential limits (`tests/api/limits.rs`) set limits of their own.
        options.limits = customers_http::limits::CredentialLimits::off();
        configure(&mut options);
        let server = customers_server::start(options)
            .await
            .expect("the server starts");
        let first = server
            .first_start
            .clone()
            .expect("a fresh database gets a first store");
        Self {
            base: server.base_url(),
            store_id: first.store_id,
            owner_token: first.token,
            client: Client::new(),
            server: Some(server),
            database,
        }
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// The running service's own database handle (its pools).
    pub fn served_database(&self) -> &customers_persistence::Database {
        &self
            .server
            .as_ref()
            .expect("the server is running")
            .database
    }

    /// A cheap handle for requests from spawned tasks.
    pub fn remote(&self) -> Remote {
        Remote {
            client: self.client.clone(),
            base: self.base.clone(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.remote().send(method, path, token, body).await
    }

    /// Sends raw bytes with the given content type (or none).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        Reply::read(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a customer as the owner and returns its id.
    pub async fn customer(&self, body: Value) -> String {
        let reply = self.post("/customers", &self.owner_token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.data()["id"].as_str().expect("an id").to_owned()
    }

    /// Records an order as the owner and returns its JSON.
    pub async fn order(&self, body: Value) -> Value {
        let reply = self.post("/orders", &self.owner_token, body).await;
        assert!(reply.status.is_success(), "{:?}", reply.body);
        reply.data().clone()
    }

    /// Adds a staff user of `role` to the first store and logs them in; returns their token.
    pub async fn staff_token(&self, role: &str) -> String {
        let email = format!("{role}-{}@example.dk", self.client_counter());
        let password = "a long enough password";
        let created = self
            .post(
                "/users",
                &self.owner_token,
                json!({"email": email, "password": password, "role": role}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        self.login(&self.store_id, &email, password).await
    }

    pub async fn login(&self, store_id: &str, email: &str, password: &str) -> String {
        let reply = self
            .send(
                Method::POST,
                "/auth/login",
                None,
                Some(&json!({"storeId": store_id, "email": email, "password": password})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.data()["token"].as_str().expect("a token").to_owned()
    }

    /// Creates an API key with `scopes` as the owner; returns (id, secret).
    pub async fn api_key(&self, scopes: &[&str]) -> (String, String) {
        let reply = self
            .post(
                "/api-keys",
                &self.owner_token,
                json!({"name": "integration", "scopes": scopes}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let data = reply.data();
        (
            data["id"].as_str().expect("an id").to_owned(),
            data["key"].as_str().expect("a secret").to_owned(),
        )
    }

    /// A second store on the same database, with its owner's token.
    pub async fn other_store(&self) -> (String, String) {
        let settings = customers_domain::store::StoreSettings {
            name: "Other restaurant".into(),
            ..Default::default()
        };
        let outcome = customers_server::create_store(
            self.database.database(),
            &settings,
            "other@example.dk",
            None,
        )
        .await
        .expect("a second store");
        (outcome.store.id.to_string(), outcome.token)
    }

    /// Sets the first store's largest order, as `customers store update --max-order-minor`.
    pub async fn set_max_order_minor(&self, max_order_minor: i64) {
        customers_server::set_max_order_minor(
            self.database.database(),
            &self.store_id,
            max_order_minor,
        )
        .await
        .expect("the store is updated");
    }

    /// Sets a customer's order totals directly, as recording orders will.
    pub async fn set_activity(
        &self,
        id: &str,
        spent: i64,
        orders: i64,
        last_order_at: Option<&str>,
    ) {
        let activity = customers_domain::customer::Activity {
            total_spent_minor: spent,
            total_orders: orders,
            last_order_at: last_order_at.map(|at| at.parse().expect("an RFC 3339 instant")),
            loyalty_points: 0,
        };
        let store = customers_domain::ids::StoreId::parse(&self.store_id).expect("a store id");
        let customer = customers_domain::ids::CustomerId::parse(id).expect("a customer id");
        let found = self
            .database
            .set_activity(&store, &customer, &activity)
            .await
            .expect("stored");
        assert!(found, "no customer {id}");
    }

    /// Blocks a customer directly, as the block endpoint will.
    pub async fn set_blocked(&self, id: &str) {
        let store = customers_domain::ids::StoreId::parse(&self.store_id).expect("a store id");
        let customer = customers_domain::ids::CustomerId::parse(id).expect("a customer id");
        let block = customers_domain::customer::Block {
            reason: None,
            at: chrono_now(),
        };
        assert!(
            self.database
                .set_block(&store, &customer, Some(&block))
                .await
                .expect("stored")
        );
    }

    fn client_counter(&self) -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        COUNTER.fetch_add(1, Ordering::Relaxed)
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            // Stop accepting at once; the database is dropped after.
            let handle = tokio::runtime::Handle::try_current();
            if let Ok(handle) = handle {
                let _ = std::thread::spawn(move || handle.block_on(server.stop())).join();
            }
        }
    }
}
