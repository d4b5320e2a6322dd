//! The embedded migrations and how they are applied. `migrations/shared` (at the workspace root)
//! holds the migrations whose SQL is the same on both backends, such as adding a plain column;
//! `migrations/sqlite` and `migrations/postgres` hold the twins that differ. Each backend
//! applies its own directory and the shared one, in the order of their versions.
//!
//! diesel's migration harness is synchronous, so it runs on a blocking thread. Two processes
//! starting at once do not race: on SQLite the whole run is one `BEGIN IMMEDIATE`
//! transaction, on PostgreSQL it holds a session advisory lock.

use diesel::backend::Backend;
#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
use diesel::migration::{Migration, MigrationSource};
#[cfg(feature = "postgres")]
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
#[cfg(feature = "postgres")]
use diesel_async::pooled_connection::deadpool::Object;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::DatabaseError;
#[cfg(feature = "postgres")]
use crate::pool::PgConnection;
use crate::pool::{Database, Pool, checkout};

const SHARED: EmbeddedMigrations = embed_migrations!("../../migrations/shared");
const SQLITE: Migrations = Migrations(embed_migrations!("../../migrations/sqlite"));
#[cfg(feature = "postgres")]
const POSTGRES: Migrations = Migrations(embed_migrations!("../../migrations/postgres"));

/// One backend's migrations: its own directory and the shared one.
struct Migrations(EmbeddedMigrations);

impl<DB: Backend> MigrationSource<DB> for Migrations {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let mut all = MigrationSource::<DB>::migrations(&self.0)?;
        all.extend(MigrationSource::<DB>::migrations(&SHARED)?);
        all.sort_by(|a, b| a.name().version().cmp(&b.name().version()));
        Ok(all)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sqlite::Sqlite;

    fn versions_of(source: &dyn MigrationSource<Sqlite>) -> Vec<String> {
        source
            .migrations()
            .unwrap()
            .iter()
            .map(|migration| migration.name().version().to_string())
            .collect()
    }

    #[test]
    fn each_backend_applies_the_shared_migrations_in_version_order() {
        let sqlite = versions_of(&SQLITE);
        let shared = versions_of(&SHARED);
        assert!(shared.iter().all(|version| sqlite.contains(version)));
        let mut sorted = sqlite.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sqlite, sorted, "versions are unique and in order");
        #[cfg(feature = "postgres")]
        assert_eq!(
            versions_of(&POSTGRES),
            sqlite,
            "the twins have the same versions"
        );
    }
}
