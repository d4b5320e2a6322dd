//! The migrated PostgreSQL schema is one a cluster sharded by store (Citus) can distribute:
//! every table is a store's (distributed by its store column) unless listed in
//! [`GLOBAL_TABLES`] with its reason, and every primary key, unique index and foreign key of a
//! store's table holds the store column — Citus refuses to distribute a table with a unique
//! index that lacks it, and a foreign key between two distributed tables must pair their
//! store columns. Read from the catalog (`pg_index`, `pg_constraint`), so a migration that
//! adds a key without the store fails here, on plain PostgreSQL, before any cluster sees it.

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use customers_persistence::GLOBAL_TABLES;
use customers_persistence::testing::TestDatabase;

/// Citus names each shard's copy of an index `<index>_<shard id>` (a 64-bit number, up to 19
/// digits), and cuts a longer name to fit PostgreSQL's 63 bytes with a hash in it: a unique
/// index whose violations the service tells apart by name must leave room for the suffix.
const LONGEST_UNIQUE_INDEX_NAME: usize = 63 - 20;

/// The column that names a table's store: `stores` is the store itself.
fn store_column(table: &str) -> &'static str {
    if table == "stores" { "id" } else { "store_id" }
}

fn is_global(table: &str) -> bool {
    GLOBAL_TABLES.iter().any(|(name, _, _)| *name == table)
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
    /// Comma-separated.
    #[diesel(sql_type = Text)]
    columns: String,
}

/// A primary key or unique index (unique constraints are unique indexes too).
#[derive(QueryableByName)]
struct UniqueIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    /// The key columns in order (`(expression)` for an expression), comma-separated; not the
    /// `INCLUDE`d ones, which are no part of the key.
    #[diesel(sql_type = Text)]
    columns: String,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    constraint_name: String,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Text)]
    referenced_columns: String,
    #[diesel(sql_type = Integer)]
    key_count: i32,
}

const TABLES: &str = "
    SELECT c.relname::text AS name,
           array_to_string(ARRAY(
               SELECT a.attname::text FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY a.attnum), ',') AS columns
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    ORDER BY 1";

const UNIQUE_INDEXES: &str = "
    SELECT c.relname::text AS table_name, i.relname::text AS index_name,
           x.indisprimary AS is_primary,
           array_to_string(ARRAY(
               SELECT COALESCE(a.attname::text, '(expression)')
               FROM unnest((x.indkey::int2[])[0:x.indnkeyatts - 1])
                    WITH ORDINALITY AS k(attnum, position)
               LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
               ORDER BY k.position), ',') AS columns
    FROM pg_index x
    JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND (x.indisunique OR x.indisprimary)
    ORDER BY 1, 2";

const FOREIGN_KEYS: &str = "
    SELECT c.relname::text AS table_name, k.conname::text AS constraint_name,
           f.relname::text AS referenced,
           array_to_string(ARRAY(
               SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, position)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
               ORDER BY u.position), ',') AS columns,
           array_to_string(ARRAY(
               SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, position)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum
               ORDER BY u.position), ',') AS referenced_columns,
           cardinality(k.conkey) AS key_count
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_class f ON f.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND k.contype = 'f'
    ORDER BY 1, 2";

/// What in the database's schema a cluster could not distribute by store, one line each.
async fn undistributable(t: &TestDatabase) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(t.url())
        .await
        .expect("a PostgreSQL connection");
    let tables: Vec<Table> = diesel::sql_query(TABLES).load(&mut conn).await.unwrap();
    let indexes: Vec<UniqueIndex> = diesel::sql_query(UNIQUE_INDEXES)
        .load(&mut conn)
        .await
        .unwrap();
    let foreign_keys: Vec<ForeignKey> = diesel::sql_query(FOREIGN_KEYS)
        .load(&mut conn)
        .await
        .unwrap();
    assert!(
        tables.iter().any(|t| t.name == "customers"),
        "the catalog query sees the migrated tables"
    );

    let mut problems = Vec::new();
    for table in tables.iter().filter(|t| !is_global(&t.name)) {
        let store = store_column(&table.name);
        if !table.columns.split(',').any(|c| c == store) {
            problems.push(format!("table {} has no {store} column", table.name));
        }
    }
    for index in indexes.iter().filter(|i| !is_global(&i.table_name)) {
        let kind = if index.is_primary {
            "primary key"
        } else {
            "unique index"
        };
        let store = store_column(&index.table_name);
        if !index.columns.split(',').any(|c| c == store) {
            problems.push(format!(
                "{kind} {} on {} ({}) lacks {store}",
                index.index_name, index.table_name, index.columns
            ));
        }
        if !index.is_primary && index.index_name.len() > LONGEST_UNIQUE_INDEX_NAME {
            problems.push(format!(
                "unique index {} is longer than {LONGEST_UNIQUE_INDEX_NAME} bytes: a shard's \
                 copy would not keep its name",
                index.index_name
            ));
        }
    }
    for key in &foreign_keys {
        let (from, to) = (&key.table_name, &key.referenced);
        if is_global(from) || is_global(to) {
            problems.push(format!(
                "foreign key {} joins {from} and {to}, not both a store's tables",
                key.constraint_name
            ));
            continue;
        }
        // The referencing table's store column must reference the referenced table's.
        let columns: Vec<&str> = key.columns.split(',').collect();
        let referenced: Vec<&str> = key.referenced_columns.split(',').collect();
        assert_eq!(columns.len(), usize::try_from(key.key_count).unwrap());
        let paired = columns
            .iter()
            .zip(&referenced)
            .any(|(c, r)| *c == store_column(from) && *r == store_column(to));
        if !paired {
            problems.push(format!(
                "foreign key {} of {from} ({}) references {to} ({}) without pairing {} with {}",
                key.constraint_name,
                key.columns,
                key.referenced_columns,
                store_column(from),
                store_column(to),
            ));
        }
    }
    problems
}

/// The migrated schema: every key of a store's table holds its store.
pub async fn every_key_of_a_stores_table_holds_the_store(t: &TestDatabase) {
    let problems = undistributable(t).await;
    assert!(
        problems.is_empty(),
        "a cluster sharded by store could not distribute:\n{}",
        problems.join("\n")
    );
}

/// The check finds each kind of key that lacks the store.
pub async fn keys_without_the_store_are_reported(t: &TestDatabase) {
    t.execute_sql(
        "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT);
         CREATE TABLE tags (
             store_id TEXT NOT NULL,
             id TEXT NOT NULL,
             customer_id TEXT,
             label TEXT NOT NULL,
             PRIMARY KEY (id),
             UNIQUE (store_id, label),
             FOREIGN KEY (customer_id, store_id) REFERENCES customers (store_id, id)
         );
         CREATE UNIQUE INDEX tags_label_everywhere ON tags (label) INCLUDE (store_id);
         CREATE UNIQUE INDEX customers_with_a_very_long_unique_index_name_x
             ON customers (store_id, id);
         ALTER TABLE login_failures ADD COLUMN store_id TEXT;
         ALTER TABLE login_failures ADD COLUMN customer_id TEXT;
         ALTER TABLE login_failures ADD FOREIGN KEY (store_id, customer_id)
             REFERENCES customers (store_id, id);",
    )
    .await;
    let problems = undistributable(t).await;
    let expected = [
        "table notes has no store_id column",
        "primary key notes_pkey on notes (id) lacks store_id",
        "primary key tags_pkey on tags (id) lacks store_id",
        "unique index tags_label_everywhere on tags (label) lacks store_id",
        "unique index customers_with_a_very_long_unique_index_name_x is longer than 43 bytes",
        "foreign key tags_customer_id_store_id_fkey of tags (customer_id,store_id) references \
         customers (store_id,id) without pairing store_id with store_id",
        "foreign key login_failures_store_id_customer_id_fkey joins login_failures and \
         customers",
    ];
    for line in expected {
        assert!(
            problems.iter().any(|problem| problem.starts_with(line)),
            "{line:?} is not among {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}
