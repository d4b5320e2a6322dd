//! What opening and migrating a database can fail with, and how diesel, pool and task
//! failures become the domain's [`RepoError`].

use customers_domain::ports::{RepoError, Unique};
use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

/// Why [`Database::connect`](crate::Database::connect) or
/// [`Database::migrate`](crate::Database::migrate) failed. Messages never contain a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseError {
    /// The URL names no supported database, or the settings cannot work.
    #[error("invalid database configuration: {0}")]
    InvalidConfig(String),
    /// The database could not be opened or reached.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A migration failed; the database keeps the migrations applied before it.
    #[error("the database migrations failed: {0}")]
    Migration(String),
    /// Placing the schema on a Citus cluster failed or cannot start.
    #[error("cannot distribute the schema: {0}")]
    Distribution(String),
}

/// Each uniqueness rule the domain knows, by its PostgreSQL index name and by the columns
/// SQLite names in "UNIQUE constraint failed: …". On a Citus cluster the index of each shard
/// carries the shard's number after the name (`customers_email_key_unique_102086`), and a
/// violation names that: see [`names_index`].
const UNIQUE_RULES: [(Unique, &str, &str); 3] = [
    (
        Unique::CustomerEmail,
        "customers_email_key_unique",
        "customers.store_id, customers.email_key",
    ),
    (
        Unique::CustomerPhone,
        "customers_phone_unique",
        "customers.store_id, customers.phone",
    ),
    (
        Unique::UserEmail,
        "users_email_key_unique",
        "users.store_id, users.email_key",
    ),
];

/// The rule a unique violation broke, if it is one the domain knows.
fn broken_rule(info: &dyn DatabaseErrorInformation) -> Option<Unique> {
    let sqlite_columns = info.message().strip_prefix("UNIQUE constraint failed: ");
    UNIQUE_RULES
        .iter()
        .find(|(_, index, columns)| {
            info.constraint_name()
                .is_some_and(|name| names_index(name, index))
                || sqlite_columns == Some(*columns)
        })
        .map(|(rule, _, _)| *rule)
}

/// Whether the constraint a PostgreSQL error names is the index `index`: the name itself, or
/// (on a Citus cluster, where each shard has its own copy of the index) the name followed by
/// `_` and the shard's number.
fn names_index(constraint: &str, index: &str) -> bool {
    match constraint.strip_prefix(index) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('_')
            .is_some_and(|shard| !shard.is_empty() && shard.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// A failed query: unreachable database → `Unavailable`, known unique rule → `Conflict`,
/// anything else → `Internal`.
pub(crate) fn from_diesel(error: DieselError) -> RepoError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            match broken_rule(info.as_ref()) {
                Some(rule) => RepoError::Conflict(rule),
                None => RepoError::Internal(error.to_string()),
            }
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => RepoError::Unavailable(error.to_string()),
        // SQLite's SQLITE_BUSY / SQLITE_LOCKED, after busy_timeout ran out, and PostgreSQL's
        // statement_timeout: the database is too busy to answer in time.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if info.message().contains("database is locked")
                || info.message().contains("database table is locked")
                || info
                    .message()
                    .contains("canceling statement due to statement timeout") =>
        {
            RepoError::Unavailable(error.to_string())
        }
        _ => RepoError::Internal(error.to_string()),
    }
}

/// Whether a write broke a uniqueness rule (any: callers know which ones their write can
/// break).
pub(crate) fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Whether a write broke the unique index `index` (its PostgreSQL name), whose columns
/// SQLite names as `sqlite_columns` ("table.a, table.b").
pub(crate) fn breaks_unique_index(error: &DieselError, index: &str, sqlite_columns: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name()
                .is_some_and(|name| names_index(name, index))
                || info.message().strip_prefix("UNIQUE constraint failed: ") == Some(sqlite_columns)
        }
        _ => false,
    }
}

/// No connection in time, or none could be opened.
pub(crate) fn from_pool(error: PoolError) -> RepoError {
    RepoError::Unavailable(format!("no database connection: {error}"))
}

/// A spawned database task that did not finish.
pub(crate) fn from_join(error: tokio::task::JoinError) -> RepoError {
    if error.is_cancelled() {
        RepoError::Unavailable("the database task was cancelled".into())
    } else {
        RepoError::Internal("a database task panicked".into())
    }
}

#[cfg(feature = "postgres")]
/// An error and its causes: "outer: inner: …".
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A stored value the domain does not accept (a corrupt or newer row).
pub(crate) fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Internal(format!("stored {what} {value:?} is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Info {
        message: &'static str,
        constraint: Option<&'static str>,
    }

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.message
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn unique(message: &'static str, constraint: Option<&'static str>) -> RepoError {
        from_diesel(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(Info {
                message,
                constraint,
            }),
        ))
    }

    #[test]
    fn sqlite_unique_violations_are_told_apart_by_columns() {
        let email = unique(
            "UNIQUE constraint failed: customers.store_id, customers.email_key",
            None,
        );
        assert_eq!(email, RepoError::Conflict(Unique::CustomerEmail));
        let phone = unique(
            "UNIQUE constraint failed: customers.store_id, customers.phone",
            None,
        );
        assert_eq!(phone, RepoError::Conflict(Unique::CustomerPhone));
        let user = unique(
            "UNIQUE constraint failed: users.store_id, users.email_key",
            None,
        );
        assert_eq!(user, RepoError::Conflict(Unique::UserEmail));
        let key = unique(
            "UNIQUE constraint failed: customers.store_id, customers.id",
            None,
        );
        assert!(matches!(key, RepoError::Internal(_)));
    }

    #[test]
    fn postgres_unique_violations_are_told_apart_by_index() {
        let message = "duplicate key value violates unique constraint";
        let phone = unique(message, Some("customers_phone_unique"));
        assert_eq!(phone, RepoError::Conflict(Unique::CustomerPhone));
        let digest = unique(message, Some("credentials_digest_unique"));
        assert!(matches!(digest, RepoError::Internal(_)));
    }

    #[test]
    fn citus_shard_indexes_are_recognised_by_their_name_and_shard_number() {
        let message = "duplicate key value violates unique constraint";
        let email = unique(message, Some("customers_email_key_unique_102086"));
        assert_eq!(email, RepoError::Conflict(Unique::CustomerEmail));
        let phone = unique(message, Some("customers_phone_unique_102090"));
        assert_eq!(phone, RepoError::Conflict(Unique::CustomerPhone));
        let user = unique(message, Some("users_email_key_unique_7"));
        assert_eq!(user, RepoError::Conflict(Unique::UserEmail));
        // Only a shard number may follow the name: another index sharing its start is not it.
        for other in [
            "customers_email_key_unique_",
            "customers_email_key_unique_102086x",
            "customers_email_key_unique_old",
            "customers_email_key_uniqueness",
            "customers_email_key",
            "customers_pkey_102086",
        ] {
            assert!(
                matches!(unique(message, Some(other)), RepoError::Internal(_)),
                "{other}"
            );
        }
    }

    #[test]
    fn names_index_takes_the_name_or_the_name_and_a_shard_number() {
        assert!(names_index("reviews_order_unique", "reviews_order_unique"));
        assert!(names_index(
            "reviews_order_unique_102008",
            "reviews_order_unique"
        ));
        assert!(!names_index(
            "reviews_order_unique_",
            "reviews_order_unique"
        ));
        assert!(!names_index(
            "reviews_order_unique_1a",
            "reviews_order_unique"
        ));
        assert!(!names_index("reviews_order", "reviews_order_unique"));
        assert!(!names_index(
            "reviews_order_unique",
            "reviews_order_unique_1"
        ));
    }

    #[test]
    fn a_unique_index_is_recognised_on_both_backends() {
        let violation = |message, constraint| {
            DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                Box::new(Info {
                    message,
                    constraint,
                }),
            )
        };
        let (index, columns) = ("reviews_order_unique", "reviews.store_id, reviews.order_id");
        let sqlite = violation(
            "UNIQUE constraint failed: reviews.store_id, reviews.order_id",
            None,
        );
        assert!(breaks_unique_index(&sqlite, index, columns));
        let postgres = violation("duplicate key value", Some("reviews_order_unique"));
        assert!(breaks_unique_index(&postgres, index, columns));
        let shard = violation("duplicate key value", Some("reviews_order_unique_102240"));
        assert!(breaks_unique_index(&shard, index, columns));
        let primary_key = violation(
            "UNIQUE constraint failed: reviews.store_id, reviews.id",
            None,
        );
        assert!(!breaks_unique_index(&primary_key, index, columns));
        let pkey = violation("duplicate key value", Some("reviews_pkey"));
        assert!(!breaks_unique_index(&pkey, index, columns));
        assert!(!breaks_unique_index(&DieselError::NotFound, index, columns));
    }

    #[test]
    fn lost_connections_and_busy_databases_are_unavailable() {
        let closed = from_diesel(DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("connection closed".to_owned()),
        ));
        assert!(matches!(closed, RepoError::Unavailable(_)));
        let busy = from_diesel(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_owned()),
        ));
        assert!(matches!(busy, RepoError::Unavailable(_)));
        assert!(matches!(
            from_diesel(DieselError::NotFound),
            RepoError::Internal(_)
        ));
    }
}
