//! One story of store behaviour, run on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (CI always sets it).

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod actions;
#[path = "../common/mod.rs"]
mod common;
mod connections;
mod ghl_refresh;
mod inbox;
mod inbox_outcomes;
mod merged_writes;
mod oauth_states;
mod plans;
mod records;
mod support;
mod sync_engine;
mod upgrade;

/// Generates one test per scenario and backend. Each scenario is an
/// `async fn(&support::TestDb)` in the modules above.
macro_rules! on_both_backends {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = crate::support::TestDb::sqlite().await;
                    crate::$module::$scenario(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(db) = crate::support::TestDb::postgres().await else { return };
                    crate::$module::$scenario(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    inbox::a_new_event_is_recorded_once_and_redeliveries_are_duplicates,
    inbox::fifty_concurrent_deliveries_of_one_event_make_one_row,
    inbox::claims_lease_due_events_in_receive_order,
    inbox::an_entity_is_never_claimed_twice_or_out_of_order,
    inbox::two_concurrent_claimers_never_get_the_same_event,
    inbox::an_expired_lease_is_reclaimed_and_the_old_owner_loses_it,
    inbox::an_extended_lease_outlives_its_first_expiry_only_for_its_owner,
    inbox_outcomes::a_retry_waits_until_its_time_and_counts_an_attempt,
    inbox_outcomes::a_postponed_event_does_not_spend_an_attempt,
    inbox_outcomes::a_dead_event_keeps_its_error_and_stops_blocking_its_entity,
    inbox_outcomes::released_leases_are_claimable_again_without_spending_attempts,
    inbox_outcomes::ignored_events_are_kept_but_never_claimed,
    inbox_outcomes::the_open_summary_counts_unfinished_events_and_their_oldest,
    inbox_outcomes::the_open_summary_reads_only_its_index_never_the_inbox,
    plans::the_worker_statements_never_walk_finished_history,
    merged_writes::many_events_finishing_at_once_each_get_their_own_answer,
    merged_writes::links_and_applied_times_written_at_once_keep_their_rules,
    records::credentials_are_encrypted_at_rest_and_round_trip,
    records::credentials_are_refused_without_an_encryption_key,
    records::connections_are_found_by_location_and_change_status,
    records::identity_links_are_one_to_one_and_relink,
    records::fingerprints_and_the_action_log_remember_writes,
    records::poll_cursors_and_snapshots_are_kept_per_connection,
    records::the_applied_time_of_an_entity_only_moves_forward,
    records::a_named_lease_has_one_holder_until_it_expires,
    records::migrations_are_reported_applied,
    connections::connections_are_created_listed_and_changed,
    connections::invalid_input_and_conflicts_are_refused,
    connections::the_default_connection_is_read_only,
    connections::views_never_carry_secrets,
    connections::secrets_rotate_with_overlap_and_revoke_at_once,
    connections::pause_resume_and_remove_change_the_connection,
    connections::tokens_are_refused_without_an_encryption_key,
    oauth_states::an_oauth_state_is_spent_once_and_forgotten_after_it_expires,
    oauth_states::concurrent_callbacks_with_one_state_spend_it_once,
    ghl_refresh::twenty_calls_on_two_replicas_with_an_expired_token_refresh_exactly_once,
    ghl_refresh::a_401_refreshes_once_and_the_call_succeeds,
    ghl_refresh::a_refused_refresh_marks_the_connection_and_new_credentials_resume_it,
    ghl_refresh::an_agency_install_mints_location_tokens_and_refreshes_itself,
    ghl_refresh::a_token_inside_the_margin_is_refreshed_before_it_is_sent,
    sync_engine::a_burst_of_updates_coalesces_to_the_newest,
    sync_engine::nothing_newer_supersedes_nothing,
    sync_engine::a_claim_says_which_events_have_a_newer_one_of_their_type_waiting,
    sync_engine::replay_by_id_resets_only_that_dead_event,
    sync_engine::replay_by_status_source_type_and_range_and_dry_run,
    sync_engine::replay_never_touches_a_processing_event,
    sync_engine::attempts_are_logged_in_order_per_event,
    sync_engine::pruning_removes_old_finished_events_with_their_history,
    actions::an_action_intent_survives_a_crash_and_is_finished_once,
    actions::record_action_finishes_a_started_intent,
    actions::object_links_remember_the_latest_remote_id,
    actions::concurrent_begins_of_one_action_leave_one_fresh,
);
