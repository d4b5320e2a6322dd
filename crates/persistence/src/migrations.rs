//! The embedded migrations (`migrations/sqlite`, `migrations/postgres` at the workspace root)
//! and how they are applied.
//!
//! diesel's migration harness is synchronous, so it runs on a blocking thread. Two processes
//! starting at once do not race: on SQLite the whole run is one `BEGIN IMMEDIATE`
//! transaction, on PostgreSQL it holds a session advisory lock.

#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
#[cfg(feature = "postgres")]
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
#[cfg(feature = "postgres")]
use diesel_async::pooled_connection::deadpool::Object;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::DatabaseError;
#[cfg(feature = "postgres")]
use crate::pool::PgConnection;
use crate::pool::{Database, Pool, checkout};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The advisory lock key migrations hold on PostgreSQL ("ordeliya" in ASCII).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK: i64 = 0x6f72_6465_6c69_7961;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Database {
    /// Applies the pending embedded migrations of the live backend.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        run(self).await
    }
}

async fn run(database: &Database) -> Result<(), DatabaseError> {
    let unavailable =
        |error: customers_domain::ports::RepoError| DatabaseError::Unavailable(error.to_string());
    let applied = match &database.pool {
        Pool::Sqlite(pool) => {
            let mut connection = checkout(pool).await.map_err(unavailable)?;
            connection
                .spawn_blocking(|connection| {
                    Ok(connection.immediate_transaction(|connection| {
                        versions(connection.run_pending_migrations(SQLITE))
                    }))
                })
                .await
                .map_err(|error| DatabaseError::Migration(error.to_string()))?
        }
        #[cfg(feature = "postgres")]
        Pool::Postgres(pool) => {
            // The connection leaves the pool: it is wrapped for the synchronous harness and
            // closed afterwards, which also releases the lock if anything went wrong.
            let connection = Object::take(checkout(pool).await.map_err(unavailable)?);
            tokio::task::spawn_blocking(move || migrate_postgres(connection))
                .await
                .map_err(|error| DatabaseError::Migration(error.to_string()))?
        }
    }
    .map_err(|error| DatabaseError::Migration(error.to_string()))?;
    if applied.is_empty() {
        tracing::debug!("database schema is up to date");
    } else {
        tracing::info!(?applied, "database migrations applied");
    }
    Ok(())
}

#[cfg(feature = "postgres")]
fn migrate_postgres(connection: PgConnection) -> Result<Vec<String>, BoxError> {
    let mut connection = AsyncConnectionWrapper::<PgConnection>::from(connection);
    // A migration may rewrite a large table: the requests' statement timeout does not apply.
    connection.batch_execute("SET statement_timeout = 0")?;
    connection.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let applied = versions(connection.run_pending_migrations(POSTGRES));
    let unlocked =
        connection.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

fn versions(
    result: Result<Vec<diesel::migration::MigrationVersion<'_>>, BoxError>,
) -> Result<Vec<String>, BoxError> {
    result.map(|applied| applied.iter().map(ToString::to_string).collect())
}
