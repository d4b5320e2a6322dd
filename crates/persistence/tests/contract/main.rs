//! The repository contract: one suite of cases, each test on a fresh, empty backend of its own.
//!
//! - The cases generic over [`backend::Backend`] hold on every adapter of the repository
//!   ports: they run on SQLite, on PostgreSQL and on the domain's in-memory adapter (modules
//!   `sqlite`, `postgres` and `memory`).
//! - The cases that need SQL (pool sizes, held connections, closing, migrations) take a
//!   [`TestDatabase`](customers_persistence::testing::TestDatabase) and run on SQLite and
//!   PostgreSQL only.
//!
//! The PostgreSQL half uses `TEST_DATABASE_URL` (default: the local server); without a server
//! it is skipped loudly, and fails when `CI=true`.
//!
//! Another backend joins with an `impl Backend` (in `backend.rs`), an arm of [`open!`] and a
//! module that runs [`on_every_backend!`].

mod access;
mod analytics;
mod audit;
mod backend;
mod customers;
mod database;
mod hostile;
mod idempotency;
mod listing;
mod login_failures;
mod loyalty;
mod orders;
mod reviews;
mod schema;
mod support;

/// A fresh, empty instance of a backend, or `None` when the backend is not there (no
/// PostgreSQL server) and its tests are skipped.
macro_rules! open {
    (sqlite) => {
        Some(customers_persistence::testing::TestDatabase::sqlite().await)
    };
    (postgres) => {
        customers_persistence::testing::TestDatabase::postgres().await
    };
    (memory) => {
        Some(customers_domain::memory::Memory::new())
    };
}

/// Generates one test per `<module>::<case>`, each on a fresh instance of `$backend`, after
/// checking that the instance is the backend the module is named after.
macro_rules! cases {
    ($backend:ident: $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let Some(db) = open!($backend) else {
                    return;
                };
                assert_eq!(
                    crate::backend::Backend::name(&db),
                    stringify!($backend),
                );
                crate::$module::$case(&db).await;
            }
        )*
    };
}

/// The cases that hold on every backend: `async fn <case><B: Backend>(&B)`.
macro_rules! on_every_backend {
    ($backend:ident) => {
        cases!($backend:
            customers::insert_and_find_round_trip_every_field,
            customers::customer_email_is_unique_per_store_case_insensitively,
            customers::customer_phone_is_unique_per_store,
            customers::another_stores_id_sees_nothing,
            customers::stale_version_changes_nothing,
            customers::update_replaces_columns_address_and_allergens,
            customers::conflicting_update_changes_nothing,
            customers::delete_frees_email_phone_and_counts_down,
            customers::dropped_write_still_completes_whole,
            customers::blocking_again_keeps_the_first_time_and_takes_the_new_reason,
            orders::recording_moves_totals_points_and_ledger_together,
            orders::orders_without_a_customer_earn_nothing,
            orders::an_unknown_customer_is_refused,
            orders::a_blocked_customer_is_refused_and_nothing_is_written,
            orders::an_external_id_is_recorded_once,
            orders::concurrent_duplicates_record_one_order,
            orders::an_idempotency_claim_records_once,
            orders::cancelling_reverses_totals_and_finds_the_new_last_order,
            orders::cancelling_takes_back_points_but_never_below_zero,
            orders::cancelling_twice_changes_nothing,
            orders::another_stores_order_is_not_found,
            orders::history_is_newest_first_in_pages,
            orders::erasing_a_customer_keeps_orders_and_removes_the_ledger,
            hostile::orders_and_cancels_store_their_actor_and_audit_entry,
            hostile::totals_that_cannot_be_stored_are_refused_and_nothing_is_written,
            hostile::a_stores_largest_order_is_kept_and_changed,
            hostile::erasing_a_customer_deletes_the_keys_that_name_them,
            analytics::analytics_count_orders_containing_a_product,
            analytics::analytics_ties_go_by_name_and_names_sort_bytewise,
            analytics::analytics_average_rounds_half_away_from_zero,
            analytics::analytics_without_orders_are_zero,
            loyalty::adjustments_report_the_balance_before_and_after,
            loyalty::an_adjustment_below_zero_is_refused_and_writes_nothing,
            loyalty::a_used_claim_returns_its_entry,
            loyalty::unknown_customers_cannot_be_adjusted,
            loyalty::concurrent_adjustments_never_lose_an_update,
            loyalty::ledger_pages_are_newest_first,
            idempotency::a_new_key_proceeds_and_a_repeat_replays,
            idempotency::another_request_with_the_key_is_a_mismatch,
            idempotency::a_running_request_holds_its_key_until_its_lease_ends,
            idempotency::a_live_holder_keeps_its_key_until_it_gives_it_up,
            idempotency::a_claim_whose_process_died_is_taken_over_at_once,
            idempotency::keys_are_forgotten_after_their_lifetime,
            idempotency::a_released_key_is_free,
            idempotency::concurrent_first_requests_let_exactly_one_proceed,
            idempotency::keys_belong_to_one_store_and_credential,
            listing::every_filter_matches_the_model,
            listing::every_sort_in_both_directions_matches_the_model,
            listing::pages_never_repeat_or_skip,
            listing::totals_from_the_counter_equal_real_counts,
            listing::text_search_is_literal_and_case_insensitive,
            listing::list_sees_only_its_store,
            listing::keyset_pages_walk_every_sort_both_ways_like_the_model,
            listing::a_keyset_page_starts_from_a_position_that_is_gone,
            listing::counts_are_exact_or_stop_at_their_bound,
            access::users_are_unique_per_store_and_listed_oldest_first,
            access::staff_tokens_and_api_keys_are_found_while_active,
            access::revoking_needs_the_right_store,
            access::api_keys_are_listed_newest_first_with_the_revoked,
            access::only_an_active_api_key_of_the_store_is_revoked,
            access::stores_are_created_with_their_owner,
            access::store_creation_is_all_or_nothing,
            login_failures::attempts_are_counted_per_key_and_refused_past_the_limit,
            login_failures::concurrent_claims_let_at_most_the_limit_through,
            login_failures::a_failed_attempt_stays_counted_and_a_forgotten_one_goes,
            login_failures::a_refusal_is_noted_once_per_key_and_window,
            login_failures::the_sweep_forgets_every_old_row,
            database::parallel_writes_all_succeed,
            reviews::reviews_round_trip_every_field,
            reviews::one_review_per_order,
            reviews::another_store_sees_no_review,
            reviews::review_list_filters_and_totals_match_the_model,
            reviews::review_pages_never_repeat_or_skip,
            reviews::review_keyset_pages_and_counts_match_the_model,
            reviews::stale_moderation_changes_nothing,
            reviews::responding_again_replaces_the_response,
            reviews::deleting_a_review_counts_it_out,
            reviews::erasing_a_customer_keeps_their_reviews,
            reviews::a_review_of_an_erased_customer_is_kept_without_them,
            reviews::review_counters_equal_a_recount,
            reviews::concurrent_review_writes_keep_the_counters_exact,
            audit::entries_round_trip_every_field,
            audit::audited_changes_store_their_entry_with_the_change,
            audit::changes_that_do_not_happen_leave_no_entry,
            audit::a_change_whose_entry_fails_is_rolled_back,
            audit::the_list_filters_and_pages_newest_first,
            audit::credential_events_are_stored_with_the_credential,
        );
    };
}

/// The cases that need SQL: `async fn <case>(&TestDatabase)`.
macro_rules! on_sql_backends {
    ($backend:ident) => {
        cases!($backend:
            listing::every_filter_matches_the_model_on_one_connection,
            database::ping_and_pool_status,
            database::closed_database_is_unavailable,
            database::point_reads_pass_a_full_main_pool,
            access::secrets_without_a_store_are_found_through_the_stores_the_migration_recorded,
            idempotency::a_claim_of_another_live_process_holds_until_its_session_ends,
        );
    };
}

mod sqlite {
    on_every_backend!(sqlite);
    on_sql_backends!(sqlite);
}

mod postgres {
    on_every_backend!(postgres);
    on_sql_backends!(postgres);
    // The catalog of a schema a cluster sharded by store can distribute.
    cases!(postgres:
        schema::every_key_of_a_stores_table_holds_the_store,
        schema::keys_without_the_store_are_reported,
    );
}

mod memory {
    on_every_backend!(memory);
}
