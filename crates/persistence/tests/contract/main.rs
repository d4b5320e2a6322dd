//! The repository contract: one suite of cases, run on SQLite and on PostgreSQL, each test on
//! a fresh database of its own.
//!
//! The PostgreSQL half uses `TEST_DATABASE_URL` (default: the local server); without a server
//! it is skipped loudly, and fails when `CI=true`.

mod access;
mod customers;
mod database;
mod listing;
mod support;

/// Generates `sqlite::<case>` and `postgres::<case>` tests from `async fn <case>(&TestDatabase)`.
macro_rules! on_every_backend {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() {
                    let db = customers_persistence::testing::TestDatabase::sqlite().await;
                    crate::$module::$case(&db).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() {
                    let Some(db) = customers_persistence::testing::TestDatabase::postgres().await else {
                        return;
                    };
                    crate::$module::$case(&db).await;
                }
            )*
        }
    };
}

on_every_backend!(
    customers::insert_and_find_round_trip_every_field,
    customers::customer_email_is_unique_per_store_case_insensitively,
    customers::customer_phone_is_unique_per_store,
    customers::another_stores_id_sees_nothing,
    customers::stale_version_changes_nothing,
    customers::update_replaces_columns_address_and_allergens,
    customers::conflicting_update_changes_nothing,
    customers::delete_frees_email_phone_and_counts_down,
    customers::dropped_write_still_completes_whole,
    listing::every_filter_matches_the_model,
    listing::every_sort_in_both_directions_matches_the_model,
    listing::pages_never_repeat_or_skip,
    listing::totals_from_the_counter_equal_real_counts,
    listing::text_search_is_literal_and_case_insensitive,
    listing::list_sees_only_its_store,
    access::users_are_unique_per_store_and_listed_oldest_first,
    access::staff_tokens_and_api_keys_are_found_while_active,
    access::revoking_needs_the_right_store,
    access::stores_are_created_with_their_owner,
    access::store_creation_is_all_or_nothing,
    database::ping_and_pool_status,
    database::parallel_writes_all_succeed,
    database::closed_database_is_unavailable,
);
