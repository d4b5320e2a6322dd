//! Placing the schema on a Citus cluster, by store (docs/scale-out.md).
//!
//! The plan is read from the migrated catalog, so a table added by a later migration is placed
//! without a change here: every table of a store is distributed by its `store_id` and
//! colocated with `stores` (distributed by its `id`), so one store's rows live on one worker
//! and every query of a request stays there. The few tables that belong to no store are listed
//! in [`GLOBAL_TABLES`] with their place and reason; any other table without `store_id` stops
//! the plan. Reference tables come first, then `stores`, then each distributed table after the
//! tables its foreign keys name. Applying it is idempotent: a table Citus already places is
//! left as it is.

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;

use crate::error::DatabaseError;
use crate::pool::{Database, Pool, checkout};

/// The table every distributed table is colocated with, distributed by its own `id`.
const ANCHOR: &str = "stores";

/// The tables that belong to no store: where each stays on Citus, and why.
pub const GLOBAL_TABLES: [(&str, Placement, &str); 3] = [
    (
        "__diesel_schema_migrations",
        Placement::Local,
        "the migrations applied to the database: one list for every store",
    ),
    (
        "login_failures",
        Placement::Local,
        "throttle keys of a client address span stores; only the login path reads it, by key, \
         and it is joined to nothing",
    ),
    (
        "legacy_secret_stores",
        Placement::Reference,
        "the store of each secret issued before secrets named their store, found by its \
         digest alone; written once by a migration",
    ),
];

/// Where Citus keeps a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Stays a plain table of the coordinator, which the service talks to.
    Local,
    /// Copied whole to every worker.
    Reference,
    /// Sharded by the named column, colocated with `stores`.
    Distributed {
        /// `id` for `stores`, `store_id` for every other table.
        column: &'static str,
    },
}

/// One table of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The table's name.
    pub table: String,
    /// Where it goes.
    pub placement: Placement,
}

impl Step {
    /// The statement that places the table; none for a table that stays local.
    pub fn sql(&self) -> Option<String> {
        Some(match self.placement {
            Placement::Local => return None,
            Placement::Reference => format!("SELECT create_reference_table('{}')", self.table),
            Placement::Distributed { column } if self.table == ANCHOR => {
                format!(
                    "SELECT create_distributed_table('{}', '{column}')",
                    self.table
                )
            }
            Placement::Distributed { column } => format!(
                "SELECT create_distributed_table('{}', '{column}', colocate_with => '{ANCHOR}')",
                self.table
            ),
        })
    }
}

#[derive(QueryableByName)]
struct CatalogTable {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    has_store: bool,
    /// The other tables its foreign keys name, comma-separated.
    #[diesel(sql_type = Text)]
    references: String,
}

const CATALOG: &str = "
SELECT c.relname::text AS name,
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'store_id' AND NOT a.attisdropped)
         AS has_store,
       COALESCE((SELECT string_agg(DISTINCT r.relname::text, ',')
                 FROM pg_constraint f JOIN pg_class r ON r.oid = f.confrelid
                 WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), '')
         AS references
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND c.relname NOT LIKE '\\_\\_diesel%'
ORDER BY c.relname";

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    value: bool,
}

/// The place of a table that belongs to no store.
fn global(table: &str) -> Option<Placement> {
    GLOBAL_TABLES
        .iter()
        .find(|(name, _, _)| *name == table)
        .map(|(_, placement, _)| *placement)
}

/// The order of `tables`: the global tables (local, then reference), then `stores`, then each
/// distributed table after those it references (alphabetical among equals). A cycle of
/// foreign keys, or a table without `store_id` that is not a global one, is an error.
fn order(tables: Vec<(String, bool, Vec<String>)>) -> Result<Vec<Step>, String> {
    if let Some((stray, _, _)) = tables
        .iter()
        .find(|(name, has_store, _)| !has_store && name != ANCHOR && global(name).is_none())
    {
        return Err(format!(
            "the table `{stray}` has no store_id and is not one of the global tables"
        ));
    }
    let mut steps: Vec<Step> = [Placement::Local, Placement::Reference]
        .into_iter()
        .flat_map(|placement| {
            tables
                .iter()
                .filter(move |(name, _, _)| global(name) == Some(placement))
                .map(move |(name, _, _)| Step {
                    table: name.clone(),
                    placement,
                })
        })
        .collect();
    if !tables.iter().any(|(name, _, _)| name == ANCHOR) {
        return Err(format!(
            "the schema has no `{ANCHOR}` table: is it migrated?"
        ));
    }
    steps.push(Step {
        table: ANCHOR.to_owned(),
        placement: Placement::Distributed { column: "id" },
    });
    let mut pending: Vec<&(String, bool, Vec<String>)> = tables
        .iter()
        .filter(|(name, has_store, _)| *has_store && name != ANCHOR && global(name).is_none())
        .collect();
    while !pending.is_empty() {
        let placed = |table: &String| steps.iter().any(|step| &step.table == table);
        let Some(index) = pending
            .iter()
            .position(|(_, _, references)| references.iter().all(placed))
        else {
            let names: Vec<&str> = pending.iter().map(|(name, _, _)| name.as_str()).collect();
            return Err(format!(
                "foreign keys form a cycle (or name a table outside the schema) among: {}",
                names.join(", ")
            ));
        };
        let (name, _, _) = pending.remove(index);
        steps.push(Step {
            table: name.clone(),
            placement: Placement::Distributed { column: "store_id" },
        });
    }
    Ok(steps)
}

fn citus_error(error: impl std::fmt::Display) -> DatabaseError {
    DatabaseError::Distribution(error.to_string())
}

impl Database {
    /// The Citus placement of every table of the migrated schema, in the order to apply it.
    /// PostgreSQL only; reads the catalog and changes nothing.
    pub async fn citus_plan(&self) -> Result<Vec<Step>, DatabaseError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(citus_error(
                "Citus is a PostgreSQL extension; this is SQLite",
            ));
        };
        let mut connection = checkout(pool).await.map_err(citus_error)?;
        let tables = diesel::sql_query(CATALOG)
            .load::<CatalogTable>(&mut *connection)
            .await
            .map_err(citus_error)?;
        order(
            tables
                .into_iter()
                .map(|t| {
                    let references = t
                        .references
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect();
                    (t.name, t.has_store, references)
                })
                .collect(),
        )
        .map_err(citus_error)
    }

    /// Applies [`citus_plan`](Self::citus_plan) on a Citus coordinator: each table not yet
    /// placed is distributed or made a reference table (its rows move to the workers).
    /// Returns every step with whether it was applied now (`false`: already in place).
    pub async fn citus_distribute(&self) -> Result<Vec<(Step, bool)>, DatabaseError> {
        let plan = self.citus_plan().await?;
        let Pool::Postgres(pool) = &self.pool else {
            return Err(citus_error(
                "Citus is a PostgreSQL extension; this is SQLite",
            ));
        };
        let mut connection = checkout(pool).await.map_err(citus_error)?;
        let installed = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS value",
        )
        .get_result::<Flag>(&mut *connection)
        .await
        .map_err(citus_error)?;
        if !installed.value {
            return Err(citus_error(
                "the citus extension is not installed in this database (CREATE EXTENSION citus on the coordinator first)",
            ));
        }
        let mut applied = Vec::with_capacity(plan.len());
        for step in plan {
            let placed = diesel::sql_query(format!(
                "SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '{}'::regclass) AS value",
                step.table
            ))
            .get_result::<Flag>(&mut *connection)
            .await
            .map_err(citus_error)?;
            let statement = step.sql().filter(|_| !placed.value);
            if let Some(statement) = &statement {
                diesel::sql_query(statement)
                    .execute(&mut *connection)
                    .await
                    .map_err(|error| citus_error(format!("{}: {error}", step.table)))?;
            }
            applied.push((step, statement.is_some()));
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, has_store: bool, references: &[&str]) -> (String, bool, Vec<String>) {
        (
            name.to_owned(),
            has_store,
            references.iter().map(|r| r.to_string()).collect(),
        )
    }

    #[test]
    fn global_tables_then_the_anchor_then_each_table_after_what_it_references() {
        let plan = order(vec![
            table("audit", true, &["stores"]),
            table("customers", true, &["stores"]),
            table("ledger", true, &["customers", "stores"]),
            table("legacy_secret_stores", true, &[]),
            table("login_failures", false, &[]),
            table("stores", false, &[]),
        ])
        .unwrap();
        let names: Vec<&str> = plan.iter().map(|s| s.table.as_str()).collect();
        assert_eq!(
            names,
            [
                "login_failures",
                "legacy_secret_stores",
                "stores",
                "audit",
                "customers",
                "ledger"
            ]
        );
        assert_eq!(plan[0].sql(), None, "stays on the coordinator");
        assert_eq!(
            plan[1].sql().as_deref(),
            Some("SELECT create_reference_table('legacy_secret_stores')")
        );
        assert_eq!(
            plan[2].sql().as_deref(),
            Some("SELECT create_distributed_table('stores', 'id')")
        );
        assert_eq!(
            plan[5].sql().as_deref(),
            Some(
                "SELECT create_distributed_table('ledger', 'store_id', colocate_with => 'stores')"
            )
        );
    }

    #[test]
    fn a_cycle_a_stray_table_or_a_missing_anchor_is_an_error() {
        let cycle = order(vec![
            table("stores", false, &[]),
            table("a", true, &["b"]),
            table("b", true, &["a"]),
        ]);
        assert!(cycle.unwrap_err().contains("a, b"));
        assert!(order(vec![table("customers", true, &[])]).is_err());
        let stray = order(vec![
            table("stores", false, &[]),
            table("cache", false, &[]),
        ]);
        assert!(stray.unwrap_err().contains("`cache` has no store_id"));
    }
}
