//! Command line and environment (every flag has an environment variable).

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use customers_domain::order::DEFAULT_MAX_ORDER_MINOR;
use customers_domain::store::StoreSettings;
use customers_http::limits::CredentialLimits;
use customers_persistence::{
    DEFAULT_POINT_READ_CONNECTIONS, DatabaseConfig, default_max_connections,
};

use crate::adapters::HashingLimits;
use customers_domain::access::throttle::DEFAULT_MAX_FAILURES_PER_ADDRESS;
use customers_http::client_address::Cidr;

#[derive(Parser, Debug)]
#[command(
    name = "customers",
    version,
    about = "Ordeliya Customers: the CRM service of a restaurant ordering platform"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Serving options, for `serve` and for no subcommand. Like every flag they are global:
    /// accepted before or after the subcommand (and ignored by the others).
    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// `sqlite://PATH` (created when missing) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/customers.db",
        global = true
    )]
    pub database_url: String,

    /// Most database connections held open [default: 16 on PostgreSQL, 8 on SQLite]
    #[arg(long, env = "CUSTOMERS_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<usize>,

    /// How long a request may wait for a database connection (or to open one), in
    /// milliseconds; past it the request answers 503.
    #[arg(
        long,
        env = "CUSTOMERS_DB_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub db_timeout_ms: u64,

    /// How long one database statement may run (lock waits included), in milliseconds; past
    /// it the statement is cancelled and the request answers 503.
    #[arg(
        long,
        env = "CUSTOMERS_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,

    /// Database connections kept for point reads (a customer, order, review or credential by
    /// its id), besides --db-max-connections, so that they never queue behind list scans.
    #[arg(
        long,
        env = "CUSTOMERS_DB_POINT_READ_CONNECTIONS",
        default_value_t = DEFAULT_POINT_READ_CONNECTIONS,
        global = true
    )]
    pub db_point_read_connections: usize,

    /// Log line format, on standard error.
    #[arg(long, env = "CUSTOMERS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    pub fn database(&self) -> DatabaseConfig {
        let timeout = Duration::from_millis(self.db_timeout_ms.max(1));
        DatabaseConfig {
            url: self.database_url.clone(),
            max_connections: self
                .db_max_connections
                .unwrap_or_else(|| default_max_connections(&self.database_url))
                .max(1),
            wait_timeout: timeout,
            connect_timeout: timeout,
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms.max(1)),
            point_read_connections: self.db_point_read_connections.max(1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run migrations, then serve HTTP (the default).
    Serve,
    /// Run migrations and exit.
    Migrate,
    /// Manage stores.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Place the schema on a Citus cluster, by store (docs/scale-out.md).
    #[command(subcommand)]
    Citus(CitusCommand),
}

#[derive(Subcommand, Debug)]
pub enum CitusCommand {
    /// Print, one JSON line per table, where each table goes and the statement that puts it
    /// there; changes nothing.
    Plan,
    /// Migrate, then distribute every table not yet placed (run on the coordinator, with the
    /// `citus` extension created); idempotent. Prints one JSON line per table.
    Distribute,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "CUSTOMERS_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// Email of the owner created on the first start against an empty database.
    #[arg(
        long,
        env = "CUSTOMERS_OWNER_EMAIL",
        default_value = "owner@example.invalid",
        global = true
    )]
    pub owner_email: String,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CUSTOMERS_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// How long a request may take, in milliseconds; past it the client gets 503 (a write
    /// already under way still completes or rolls back whole).
    #[arg(
        long,
        env = "CUSTOMERS_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Requests per second each credential may make on average (a token bucket's rate);
    /// past it, 429. 0: no rate limit.
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_RATE", default_value_t = CredentialLimits::DEFAULT_RATE_PER_SEC, global = true)]
    pub credential_rate: u32,

    /// Requests each credential may make at once above its rate (the bucket's size).
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_BURST", default_value_t = CredentialLimits::DEFAULT_BURST, global = true)]
    pub credential_burst: u32,

    /// Requests of one credential in progress at once; past it, 429. 0: no cap.
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_CONCURRENCY", default_value_t = CredentialLimits::DEFAULT_CONCURRENCY, global = true)]
    pub credential_concurrency: u32,

    /// Lists, searches and statistics of one credential running at once; past it a scan
    /// waits up to `--credential-scan-wait-ms` for one to end, then gets 429. 0: no cap
    /// [default: half the cores, at least 1].
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_SCANS", global = true)]
    pub credential_scans: Option<u32>,

    /// Milliseconds a scan past `--credential-scans` waits for one of its credential's scans
    /// to end before it gets 429. 0: refused at once.
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_SCAN_WAIT_MS", default_value_t = CredentialLimits::DEFAULT_SCAN_WAIT_MS, global = true)]
    pub credential_scan_wait_ms: u64,

    /// After one of a credential's scans ends, its slot rests for this percentage of the
    /// time the scan took (at most a second) before the credential scans again: at 100 its
    /// scans keep a database core busy half the time at most. 0: no rest.
    #[arg(long, env = "CUSTOMERS_CREDENTIAL_SCAN_REST", default_value_t = CredentialLimits::DEFAULT_SCAN_REST_PERCENT, global = true)]
    pub credential_scan_rest: u32,

    /// Seconds between SIGTERM (or SIGINT) and closing the listener, during which `/readyz`
    /// answers 503 while requests are still served: a balancer's health check takes the
    /// replica out of rotation before it stops accepting. Set it above the balancer's check
    /// interval times its failure count. 0: stop accepting at once.
    #[arg(long, env = "CUSTOMERS_DRAIN_SECS", default_value_t = 0, global = true)]
    pub drain_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(
        long,
        env = "CUSTOMERS_SHUTDOWN_GRACE_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// Reverse proxies (comma-separated IPv4/IPv6 CIDR blocks or addresses) whose
    /// `X-Forwarded-For` names the client; from any other peer the socket's address is the
    /// client's.
    #[arg(
        long,
        env = "CUSTOMERS_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Failed logins allowed from one client address (any account, any store) within 15
    /// minutes before its logins are refused with 429.
    #[arg(
        long,
        env = "CUSTOMERS_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = DEFAULT_MAX_FAILURES_PER_ADDRESS,
        global = true
    )]
    pub login_max_failures_per_address: usize,

    /// Password hashes (argon2id, 19 MiB each) running at once [default: one per core].
    #[arg(long, env = "CUSTOMERS_PASSWORD_HASH_CONCURRENCY", global = true)]
    pub password_hash_concurrency: Option<usize>,

    /// Logins waiting for a password check beyond those running; past them a login answers
    /// 503 with `Retry-After`.
    #[arg(
        long,
        env = "CUSTOMERS_PASSWORD_HASH_QUEUE",
        default_value_t = 32,
        global = true
    )]
    pub password_hash_queue: usize,
}

impl ServeArgs {
    pub fn hashing(&self) -> HashingLimits {
        let defaults = HashingLimits::default();
        HashingLimits {
            concurrency: self
                .password_hash_concurrency
                .unwrap_or(defaults.concurrency)
                .max(1),
            queue: self.password_hash_queue,
        }
    }
}

impl ServeArgs {
    pub fn limits(&self) -> CredentialLimits {
        CredentialLimits {
            rate_per_sec: f64::from(self.credential_rate),
            // A burst below one would refuse everything.
            burst: self.credential_burst.max(1),
            concurrency: self.credential_concurrency,
            scans: self
                .credential_scans
                .unwrap_or_else(CredentialLimits::default_scans),
            scan_wait: std::time::Duration::from_millis(self.credential_scan_wait_ms),
            scan_rest_percent: self.credential_scan_rest,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Create a store and its owner; prints `{"storeId", "ownerUserId", "token"}`.
    Create(StoreCreateArgs),
    /// Change an existing store's settings; prints `{"storeId", "maxOrderMinor"}`.
    Update(StoreUpdateArgs),
}

#[derive(Args, Debug, Clone)]
pub struct StoreUpdateArgs {
    #[arg(long)]
    pub store_id: String,
    /// The largest order the store records (its `totalMinor` and its items' sum), in minor
    /// units; larger orders are refused with 422.
    #[arg(long, allow_hyphen_values = true)]
    pub max_order_minor: i64,
}

#[derive(Args, Debug, Clone)]
pub struct StoreCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub owner_email: String,
    /// Without it, the owner signs in with the printed token only.
    #[arg(long)]
    pub owner_password: Option<String>,
    #[arg(long, default_value = "DKK")]
    pub currency: String,
    #[arg(long, default_value = "Europe/Copenhagen")]
    pub timezone: String,
    #[arg(long, default_value_t = 100)]
    pub minor_units_per_point: i64,
    /// The largest order the store records (its `totalMinor` and its items' sum), in minor
    /// units; larger orders are refused with 422.
    #[arg(long, default_value_t = DEFAULT_MAX_ORDER_MINOR, allow_hyphen_values = true)]
    pub max_order_minor: i64,
}

impl StoreCreateArgs {
    pub fn settings(&self) -> StoreSettings {
        StoreSettings {
            name: self.name.clone(),
            currency: self.currency.clone(),
            timezone: self.timezone.clone(),
            minor_units_per_point: self.minor_units_per_point,
            max_order_minor: self.max_order_minor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["customers"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.listen, "127.0.0.1:8080");
        assert_eq!(cli.global.database_url, "sqlite://data/customers.db");
    }

    #[test]
    fn store_create_takes_the_contract_flags() {
        let cli = Cli::try_parse_from([
            "customers",
            "store",
            "create",
            "--name",
            "Pizza",
            "--owner-email",
            "o@example.dk",
            "--currency",
            "EUR",
            "--minor-units-per-point",
            "50",
        ])
        .unwrap();
        let Some(Command::Store(StoreCommand::Create(args))) = cli.command else {
            panic!("expected store create");
        };
        let settings = args.settings();
        assert_eq!(
            (settings.currency.as_str(), settings.minor_units_per_point),
            ("EUR", 50)
        );
        assert_eq!(settings.timezone, "Europe/Copenhagen");
        assert_eq!(settings.max_order_minor, 100_000_000);
    }

    #[test]
    fn a_stores_largest_order_is_set_on_create_and_update() {
        let cli = Cli::try_parse_from([
            "customers",
            "store",
            "create",
            "--name",
            "Pizza",
            "--owner-email",
            "o@example.dk",
            "--max-order-minor",
            "5000000",
        ])
        .unwrap();
        let Some(Command::Store(StoreCommand::Create(args))) = cli.command else {
            panic!("expected store create");
        };
        assert_eq!(args.settings().max_order_minor, 5_000_000);
        let cli = Cli::try_parse_from([
            "customers",
            "store",
            "update",
            "--store-id",
            "store_aaaaaaaaaaaa",
            "--max-order-minor",
            "250000000",
        ])
        .unwrap();
        let Some(Command::Store(StoreCommand::Update(args))) = cli.command else {
            panic!("expected store update");
        };
        assert_eq!(
            (args.store_id.as_str(), args.max_order_minor),
            ("store_aaaaaaaaaaaa", 250_000_000)
        );
    }

    /// Every flag is global, so none can be refused for its place on the command line.
    #[test]
    fn every_flag_is_accepted_before_and_after_a_subcommand() {
        use clap::CommandFactory;
        let command = Cli::command();
        let local: Vec<_> = command
            .get_arguments()
            .filter(|arg| !arg.is_global_set() && arg.get_long().is_some())
            .map(|arg| arg.get_id().to_string())
            .collect();
        assert_eq!(local, Vec::<String>::new(), "flags that are not global");
    }

    #[test]
    fn global_flags_work_before_the_subcommand() {
        let flags = [
            "--database-url",
            "postgres://x/y",
            "--db-max-connections",
            "3",
        ];
        let command = [
            "store",
            "create",
            "--name",
            "Pizza",
            "--owner-email",
            "o@x.dk",
        ];
        let cli = Cli::try_parse_from(["customers"].iter().chain(&flags).chain(&command)).unwrap();
        assert_eq!(cli.global.database_url, "postgres://x/y");
        assert_eq!(cli.global.db_max_connections, Some(3));
        assert!(matches!(
            cli.command,
            Some(Command::Store(StoreCommand::Create(_)))
        ));
        let cli = Cli::try_parse_from(["customers", "--database-url", "postgres://x/y", "migrate"])
            .unwrap();
        assert_eq!(cli.global.database_url, "postgres://x/y");
    }

    #[test]
    fn serving_flags_work_on_either_side_of_serve() {
        for args in [
            &["customers", "--listen", "0.0.0.0:9000", "serve"][..],
            &["customers", "serve", "--listen", "0.0.0.0:9000"],
            &["customers", "--listen", "0.0.0.0:9000"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.serve.listen, "0.0.0.0:9000", "{args:?}");
        }
    }

    #[test]
    fn credential_limits_default_to_at_least_100_per_second_and_are_configurable() {
        let defaults = Cli::try_parse_from(["customers"]).unwrap().serve.limits();
        assert_eq!(defaults, CredentialLimits::default());
        assert!(defaults.rate_per_sec >= 100.0 && defaults.burst >= 100);
        let cli = Cli::try_parse_from([
            "customers",
            "--credential-rate",
            "0",
            "--credential-burst",
            "0",
            "--credential-concurrency",
            "4",
            "--credential-scans",
            "3",
            "--credential-scan-wait-ms",
            "0",
            "--credential-scan-rest",
            "50",
        ])
        .unwrap();
        assert_eq!(
            cli.serve.limits(),
            CredentialLimits {
                rate_per_sec: 0.0,
                burst: 1,
                concurrency: 4,
                scans: 3,
                scan_wait: std::time::Duration::ZERO,
                scan_rest_percent: 50,
            }
        );
        let no_scan_cap = Cli::try_parse_from(["customers", "serve", "--credential-scans", "0"])
            .unwrap()
            .serve
            .limits();
        assert_eq!(no_scan_cap.scans, 0);
    }

    #[test]
    fn login_protection_is_configurable() {
        let defaults = Cli::try_parse_from(["customers"]).unwrap();
        assert!(defaults.serve.trusted_proxies.is_empty());
        assert_eq!(defaults.serve.login_max_failures_per_address, 100);
        assert_eq!(defaults.serve.hashing(), HashingLimits::default());
        let cli = Cli::try_parse_from([
            "customers",
            "--trusted-proxies",
            "10.0.0.0/8,2001:db8::/32",
            "--login-max-failures-per-address",
            "40",
            "--password-hash-concurrency",
            "3",
            "--password-hash-queue",
            "5",
        ])
        .unwrap();
        let proxies: Vec<String> = cli
            .serve
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(proxies, ["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(cli.serve.login_max_failures_per_address, 40);
        assert_eq!(
            cli.serve.hashing(),
            HashingLimits {
                concurrency: 3,
                queue: 5
            }
        );
        assert!(Cli::try_parse_from(["customers", "--trusted-proxies", "10.0.0.0/33"]).is_err());
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["customers", "migrate", "--database-url", "postgres://x/y"])
            .unwrap();
        assert_eq!(cli.global.database_url, "postgres://x/y");
    }

    #[test]
    fn timeouts_are_configurable() {
        let defaults = Cli::try_parse_from(["customers"]).unwrap();
        assert_eq!(defaults.serve.request_timeout_ms, 30_000);
        assert_eq!(
            defaults.global.database().statement_timeout,
            Duration::from_secs(10)
        );
        let cli = Cli::try_parse_from([
            "customers",
            "--request-timeout-ms",
            "1500",
            "--db-statement-timeout-ms",
            "250",
            "--db-timeout-ms",
            "700",
        ])
        .unwrap();
        assert_eq!(cli.serve.request_timeout_ms, 1500);
        let database = cli.global.database();
        assert_eq!(database.statement_timeout, Duration::from_millis(250));
        assert_eq!(database.wait_timeout, Duration::from_millis(700));
        assert_eq!(
            database.point_read_connections,
            DEFAULT_POINT_READ_CONNECTIONS
        );
        let cli = Cli::try_parse_from(["customers", "--db-point-read-connections", "3"]).unwrap();
        assert_eq!(cli.global.database().point_read_connections, 3);
    }
}
