//! Placing the schema on Citus: the plan read from the migrated catalog (on plain PostgreSQL,
//! so CI checks it), and, where a Citus coordinator answers at `CITUS_TEST_URL`, applying it
//! twice.

use std::io::Write;

use customers_persistence::testing::TestDatabase;
use customers_persistence::{Database, DatabaseConfig, DatabaseError, Placement};

fn position(plan: &[customers_persistence::Step], table: &str) -> usize {
    plan.iter()
        .position(|step| step.table == table)
        .unwrap_or_else(|| panic!("{table} is in the plan"))
}

#[tokio::test]
async fn every_table_is_placed_by_store_after_the_tables_it_references() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let plan = database.database().citus_plan().await.unwrap();
    let global: Vec<(&str, Placement)> = plan
        .iter()
        .take_while(|step| step.table != "stores")
        .map(|step| (step.table.as_str(), step.placement))
        .collect();
    assert_eq!(
        global,
        [
            ("login_failures", Placement::Local),
            ("legacy_secret_stores", Placement::Reference)
        ],
        "the global tables first, then the anchor"
    );
    for step in &plan[global.len() + 1..] {
        assert_eq!(
            step.placement,
            Placement::Distributed { column: "store_id" },
            "{}",
            step.table
        );
    }
    for (referenced, referencing) in [
        ("customers", "customer_addresses"),
        ("customers", "customer_allergens"),
        ("customers", "orders"),
        ("orders", "order_items"),
        ("users", "credentials"),
        ("orders", "reviews"),
        ("orders", "reviews"),
    ] {
        assert!(
            position(&plan, referenced) < position(&plan, referencing),
            "{referenced} before {referencing}"
        );
    }
    let mut tables: Vec<&str> = plan.iter().map(|step| step.table.as_str()).collect();
    tables.sort();
    tables.dedup();
    assert_eq!(tables.len(), plan.len(), "each table once");
    assert!(!tables.iter().any(|t| t.starts_with("__diesel")));
}

#[tokio::test]
async fn distributing_without_citus_is_a_clear_error_and_changes_nothing() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    match database.database().citus_distribute().await {
        Err(DatabaseError::Distribution(message)) => {
            assert!(
                message.contains("citus extension is not installed"),
                "{message}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let sqlite = TestDatabase::sqlite().await;
    assert!(matches!(
        sqlite.database().citus_plan().await,
        Err(DatabaseError::Distribution(_))
    ));
}

#[tokio::test]
async fn on_a_citus_coordinator_the_plan_applies_once() {
    let Ok(url) = std::env::var("CITUS_TEST_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!! Citus test SKIPPED: set CITUS_TEST_URL to a coordinator's database (with the citus extension created) to run it. !!!!!!!!\n"
        );
        return;
    };
    let database = Database::connect(&DatabaseConfig::new(url)).await.unwrap();
    database.migrate().await.unwrap();
    let first = database.citus_distribute().await.unwrap();
    assert!(!first.is_empty());
    let again = database.citus_distribute().await.unwrap();
    assert!(
        again.iter().all(|(_, applied)| !applied),
        "a second run places nothing: {again:?}"
    );
    database.close();
}
