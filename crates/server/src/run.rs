//! Starting the service, migrating, creating stores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use customers_domain::store::StoreRepository;
use customers_domain::store::StoreSettings;
use customers_domain::store::{NewStoreOutcome, StoreError, StoreService};
use customers_http::limits::{CredentialLimits, Limiter};
use customers_http::metrics::{PoolGauges, PoolProbe};
use customers_http::{AppState, ReadinessCheck};
use customers_persistence::{Database, DatabaseConfig, DatabaseError};
pub use customers_stack::open_database;
use tokio::task::JoinHandle;

use customers_domain::access::LoginFailureRepository;
use customers_domain::access::throttle::{self, Policy};
use customers_http::client_address::{Cidr, TrustedProxies};

use crate::adapters::{Argon2Passwords, HashingLimits, Sha256Digests, production, system};

/// How often rows of the login throttle older than its window are swept away.
pub const LOGIN_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("first start: {0}")]
    FirstStart(StoreError),
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub database: DatabaseConfig,
    pub listen: String,
    /// Owner created on the first start against an empty database.
    pub owner_email: String,
    pub workers: Option<usize>,
    /// Longest a request may take before it answers 503.
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    /// After SIGTERM or SIGINT, how long `/readyz` answers 503 before the listener closes.
    pub drain: Duration,
    /// Per-credential rate, concurrency and scan limits.
    pub limits: CredentialLimits,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<Cidr>,
    /// Failed logins allowed from one address within the throttle's window.
    pub login_max_failures_per_address: usize,
    /// Password hashes running at once, and waiting beyond them.
    pub hashing: HashingLimits,
}

impl ServeOptions {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database: DatabaseConfig::new(database_url),
            listen: "127.0.0.1:0".into(),
            owner_email: "owner@example.invalid".into(),
            workers: None,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            drain: Duration::ZERO,
            limits: CredentialLimits::default(),
            trusted_proxies: Vec::new(),
            login_max_failures_per_address: throttle::DEFAULT_MAX_FAILURES_PER_ADDRESS,
            hashing: HashingLimits::default(),
        }
    }
}

/// The store made on the first start, and its owner's token (shown once).
#[derive(Clone, Debug)]
pub struct FirstStart {
    pub store_id: String,
    pub owner_email: String,
    pub token: String,
}

/// A service that is serving.
pub struct RunningServer {
    pub address: SocketAddr,
    pub first_start: Option<FirstStart>,
    pub database: Database,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
    sweep: JoinHandle<()>,
    draining: Arc<AtomicBool>,
    drain: Duration,
}

impl RunningServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), closes the
    /// pool.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
        self.sweep.abort();
        self.database.close();
    }

    /// Serves until SIGTERM or SIGINT, then drains: `/readyz` answers 503 for the drain
    /// period while requests are still served, the listener closes, in-flight requests get
    /// the grace period, and the pool closes.
    pub async fn wait(mut self) -> std::io::Result<()> {
        tokio::select! {
            result = &mut self.task => return self.finish(result),
            signal = stop_signal() => signal?,
        }
        self.draining.store(true, Ordering::SeqCst);
        tracing::info!(drain_secs = self.drain.as_secs(), "stopping: draining");
        tokio::time::sleep(self.drain).await;
        self.handle.stop(true).await;
        let result = (&mut self.task).await;
        self.finish(result)
    }

    fn finish(
        self,
        result: Result<std::io::Result<()>, tokio::task::JoinError>,
    ) -> std::io::Result<()> {
        let result = match result {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        };
        self.sweep.abort();
        self.database.close();
        result
    }
}

/// The first SIGTERM or SIGINT.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// The store use cases over `database`, with the production password hashing and digests.
fn stores(database: &Database) -> StoreService<Database, Argon2Passwords> {
    StoreService::new(
        Arc::new(database.clone()),
        Arc::new(Argon2Passwords::default()),
        Arc::new(Sha256Digests),
        system(),
    )
}

/// Creates a store with its owner and the owner's first token.
pub async fn create_store(
    database: &Database,
    settings: &StoreSettings,
    owner_email: &str,
    owner_password: Option<&str>,
) -> Result<NewStoreOutcome, StoreError> {
    stores(database)
        .create_store(settings, owner_email, owner_password)
        .await
}

/// Sets an existing store's largest order (`customers store update --max-order-minor`).
pub async fn set_max_order_minor(
    database: &Database,
    store_id: &str,
    max_order_minor: i64,
) -> Result<(), String> {
    stores(database)
        .set_max_order_minor(store_id, max_order_minor)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => format!("no store {store_id}"),
            other => describe(other),
        })
}

/// A store use case's failure as one line: each invalid field with its message.
pub fn describe(error: StoreError) -> String {
    match error {
        StoreError::Invalid(errors) => errors
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Migrates, creates the first store when the database has none, and starts serving.
pub async fn start(options: ServeOptions) -> Result<RunningServer, RunError> {
    let database = open_database(&options.database).await?;
    let first_start = if database
        .any_exists()
        .await
        .map_err(|e| RunError::FirstStart(e.into()))?
    {
        None
    } else {
        let outcome = create_store(
            &database,
            &StoreSettings::default(),
            &options.owner_email,
            None,
        )
        .await
        .map_err(RunError::FirstStart)?;
        Some(FirstStart {
            store_id: outcome.store.id.to_string(),
            owner_email: outcome.owner.email.to_string(),
            token: outcome.token,
        })
    };
    let ready_db = database.clone();
    let draining = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&draining);
    let ready: ReadinessCheck = Arc::new(move || {
        let db = ready_db.clone();
        let stopping = stopping.load(Ordering::SeqCst);
        Box::pin(async move { !stopping && db.ping().await.is_ok() })
    });
    let pool_db = database.clone();
    let pool: PoolProbe = Arc::new(move || {
        let status = pool_db.pool_status();
        PoolGauges {
            max_size: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    });
    let mut state = AppState::new(production(database.clone(), options.hashing), ready, pool);
    state.request_timeout = options.request_timeout;
    state.limiter = Limiter::new(options.limits);
    state.trusted_proxies = Arc::new(TrustedProxies::new(options.trusted_proxies.clone()));
    state.sessions = state.sessions.with_throttle(Policy {
        max_failures_per_address: options.login_max_failures_per_address.max(1),
    });
    let mut server = HttpServer::new(move || customers_http::app(state.clone()))
        .shutdown_timeout(options.shutdown_grace.as_secs())
        // `RunningServer::wait` handles the signals, to drain first.
        .disable_signals();
    if let Some(workers) = options.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .bind(&options.listen)
        .map_err(|source| RunError::Listen {
            address: options.listen.clone(),
            source,
        })?;
    let address = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| RunError::Listen {
            address: options.listen.clone(),
            source: std::io::Error::other("no address bound"),
        })?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    let sweep = tokio::spawn(sweep_login_failures(database.clone()));
    Ok(RunningServer {
        address,
        first_start,
        database,
        handle,
        task,
        sweep,
        draining,
        drain: options.drain,
    })
}

/// Every [`LOGIN_SWEEP_INTERVAL`], forgets the login throttle's rows older than its window,
/// whichever keys they were counted under (a key that never fails again is swept too).
async fn sweep_login_failures(database: Database) {
    let mut ticks = tokio::time::interval(LOGIN_SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let before = chrono::Utc::now() - throttle::WINDOW;
        match database.forget_before(before).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "login throttle rows swept"),
            Err(error) => tracing::warn!(%error, "sweeping the login throttle failed"),
        }
    }
}
