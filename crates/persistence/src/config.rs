//! Where the database is and how the pool behaves: [`DatabaseConfig`] and its URL.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::DatabaseError;

/// Connections kept for point reads unless configured otherwise.
pub const DEFAULT_POINT_READ_CONNECTIONS: usize = 2;

/// Where the database is and how the pool behaves.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `sqlite://PATH`, `postgres://…` or `postgresql://…`.
    pub url: String,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a query waits for a free connection before `Unavailable`.
    pub wait_timeout: Duration,
    /// How long opening (or checking) a connection may take before `Unavailable`.
    pub connect_timeout: Duration,
    /// How long one statement may run before it is cancelled and the request answers
    /// `Unavailable`: PostgreSQL's `statement_timeout` (lock waits included); on SQLite, whose
    /// statements only wait on locks, its `busy_timeout`. Migrations are exempt.
    pub statement_timeout: Duration,
    /// Connections kept for point reads (a row by its id), besides `max_connections`, so
    /// that those never queue behind scans holding every other connection.
    pub point_read_connections: usize,
}

impl DatabaseConfig {
    /// The URL with the defaults: 10 connections, 5 s wait, 3 s connect, 10 s per statement.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            wait_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
            point_read_connections: DEFAULT_POINT_READ_CONNECTIONS,
        }
    }

    /// The statement timeout in whole milliseconds, at least 1 (0 would mean "none").
    pub(crate) fn statement_timeout_ms(&self) -> u128 {
        self.statement_timeout.as_millis().max(1)
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("wait_timeout", &self.wait_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("point_read_connections", &self.point_read_connections)
            .finish()
    }
}

/// The URL with its password, if any (`user:password@` or `password=`), replaced by `***`:
/// safe to log.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((credentials, host)) if credentials.contains(':') => {
                    let user = credentials.split_once(':').map_or("", |(user, _)| user);
                    format!("{scheme}://{user}:***@{host}{path}")
                }
                _ => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    match query {
        Some(query) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => parameter.to_owned(),
                })
                .collect();
            format!("{base}?{}", parameters.join("&"))
        }
        None => base,
    }
}

/// What a database URL points at.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Reads a database URL. In-memory SQLite is refused: every pooled connection would get a
/// database of its own, and everything would vanish with the process.
/// The pool size for `url` when none is set. An embedded SQLite database gains nothing from
/// more connections than a few per core (one writer at a time; reads run on the process's
/// own threads) while each holds its own page cache and statements: 8. A PostgreSQL server
/// serves more at once: 16.
pub fn default_max_connections(url: &str) -> usize {
    match target(url) {
        Ok(Target::Sqlite(_)) => 8,
        _ => 16,
    }
}

pub(crate) fn target(url: &str) -> Result<Target, DatabaseError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_owned()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(DatabaseError::InvalidConfig(
                "a SQLite URL needs a file path: sqlite://PATH".into(),
            ));
        }
        if path.contains(":memory:") || path.contains("mode=memory") {
            return Err(in_memory_refused());
        }
        return Ok(Target::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") {
            return Err(in_memory_refused());
        }
        return Err(DatabaseError::InvalidConfig(
            "a SQLite URL is written sqlite://PATH".into(),
        ));
    }
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    Err(DatabaseError::InvalidConfig(format!(
        "unsupported database URL scheme {scheme:?}: use sqlite://PATH, postgres://… or postgresql://…"
    )))
}

fn in_memory_refused() -> DatabaseError {
    DatabaseError::InvalidConfig(
        "in-memory SQLite is not supported (each pooled connection would see its own empty \
         database); use a file: sqlite://PATH"
            .into(),
    )
}

#[cfg(feature = "postgres")]
/// Reads a PostgreSQL URL and fills in what it leaves open: the connect timeout, an
/// application name, and a TCP user timeout so that a query on a connection whose server
/// vanished (no reset, e.g. a network partition) fails instead of hanging.
pub(crate) fn postgres_config(
    url: &str,
    config: &DatabaseConfig,
) -> Result<tokio_postgres::Config, DatabaseError> {
    let mut postgres: tokio_postgres::Config = url.parse().map_err(|error| {
        DatabaseError::InvalidConfig(format!("invalid PostgreSQL URL: {error}"))
    })?;
    if postgres.get_connect_timeout().is_none() {
        postgres.connect_timeout(config.connect_timeout);
    }
    if postgres.get_application_name().is_none() {
        postgres.application_name("ordeliya-customers");
    }
    if postgres.get_tcp_user_timeout().is_none() {
        postgres.tcp_user_timeout(POSTGRES_TCP_USER_TIMEOUT);
    }
    // Set when the session starts, after any `options` of the URL (a URL that sets its own
    // statement_timeout keeps it).
    let given = postgres.get_options().unwrap_or_default().to_owned();
    if !given.contains("statement_timeout") {
        let timeout = format!("-c statement_timeout={}", config.statement_timeout_ms());
        postgres.options(format!("{given} {timeout}").trim());
    }
    Ok(postgres)
}

#[cfg(feature = "postgres")]
/// How long sent data may stay unacknowledged before the connection counts as dead (Linux).
const POSTGRES_TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_smaller_on_sqlite() {
        assert_eq!(default_max_connections("sqlite://data/customers.db"), 8);
        assert_eq!(default_max_connections("postgres://u@h/db"), 16);
    }

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            target("sqlite://data/customers.db"),
            Ok(Target::Sqlite(PathBuf::from("data/customers.db")))
        );
        assert_eq!(
            target("sqlite:///var/lib/customers.db"),
            Ok(Target::Sqlite(PathBuf::from("/var/lib/customers.db")))
        );
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=disable",
        ] {
            assert_eq!(target(url), Ok(Target::Postgres(url.to_owned())));
        }
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://",
            "sqlite:data.db",
        ] {
            assert!(
                matches!(target(url), Err(DatabaseError::InvalidConfig(_))),
                "{url}"
            );
        }
        let Err(DatabaseError::InvalidConfig(message)) = target("mysql://root:secret@h/db") else {
            panic!("mysql accepted");
        };
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn postgres_urls_get_timeouts_unless_they_set_their_own() {
        let config = DatabaseConfig::new("postgres://u@h/db");
        let postgres = postgres_config(&config.url, &config).unwrap();
        assert_eq!(
            postgres.get_connect_timeout(),
            Some(&config.connect_timeout)
        );
        assert_eq!(
            postgres.get_tcp_user_timeout(),
            Some(&POSTGRES_TCP_USER_TIMEOUT)
        );
        assert_eq!(postgres.get_application_name(), Some("ordeliya-customers"));
        let own = postgres_config(
            "postgres://u@h/db?connect_timeout=9&application_name=x",
            &config,
        )
        .unwrap();
        assert_eq!(own.get_connect_timeout(), Some(&Duration::from_secs(9)));
        assert_eq!(own.get_application_name(), Some("x"));
        assert!(matches!(
            postgres_config("postgres://u@h/db?nonsense=1", &config),
            Err(DatabaseError::InvalidConfig(_))
        ));
    }

    #[test]
    fn passwords_are_redact_url() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(
            redact_url("sqlite://data/customers.db"),
            "sqlite://data/customers.db"
        );
        let config = DatabaseConfig::new("postgresql://a:b@h/db");
        assert!(!format!("{config:?}").contains(":b@"));
    }
}
