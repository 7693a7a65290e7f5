//! The sync engine end to end: signed webhooks through the real HTTP routes, the worker
//! stepped explicitly, effects checked at the fake GHL and fake Tovuti. Every scenario
//! runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set (CI always sets it).

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod ambiguous;
mod backfill_jobs;
#[path = "../common/mod.rs"]
mod common;
mod connections;
mod crm;
mod field_ids;
mod lms;
mod missing;
mod polled;
mod reliability;
mod support;
mod sweep;
mod sweep_tags;
mod tasks;

/// Generates one test per scenario and backend; each scenario is an
/// `async fn(support::Backend)`.
macro_rules! on_both_backends {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::$module::$scenario(crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::$module::$scenario(crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    connections::each_connection_syncs_its_own_tenant_to_its_own_location,
    connections::a_connection_moved_to_another_tenant_syncs_with_the_new_one,
    connections::a_rotated_secret_overlaps_then_expires_and_a_revoke_is_at_once,
    connections::a_paused_connection_keeps_its_events_until_resumed,
    connections::stored_connections_with_a_tovuti_api_are_polled_unless_switched_off,
    polled::a_pushed_user_update_the_poller_sees_later_is_not_synced_twice,
    polled::a_polled_completion_reaches_the_learners_contact_with_their_name,
    missing::a_fresh_location_gets_the_contact_without_the_fields_it_lacks,
    missing::a_fresh_tenant_gets_the_learner_without_what_it_lacks,
    missing::on_missing_fail_makes_the_event_dead_naming_the_items,
    missing::a_tenant_whose_catalog_lacks_the_items_is_never_sent_them,
    missing::every_sample_flow_ends_done_against_fresh_platforms,
    field_ids::a_custom_field_recreated_in_ghl_is_written_under_its_new_id,
    field_ids::events_in_flight_on_a_cold_cache_read_the_field_list_once,
    missing::a_tag_removed_skips_and_records_the_groups_and_courses_the_tenant_lacks,
    lms::an_enrollment_upserts_the_contact_with_fields_and_tags,
    lms::an_enrollment_skips_a_workflow_the_location_lacks,
    lms::milestones_become_tasks_and_notes,
    lms::a_registration_books_one_appointment_and_moves_it,
    tasks::a_completion_rule_closes_the_task_another_rule_created,
    crm::a_contact_edit_updates_the_linked_tovuti_user,
    crm::a_purchase_tag_creates_enrolls_and_groups_the_learner,
    crm::crm_activity_reaches_the_tovuti_summaries,
    crm::tasks_and_appointments_reach_the_tovuti_summaries,
    crm::contact_delete_unlinks_and_uninstall_disconnects,
    reliability::the_same_webhook_three_times_has_one_effect,
    reliability::a_burst_of_edits_costs_one_request_and_ends_newest,
    reliability::our_own_write_echoed_back_is_not_forwarded,
    reliability::a_5xx_then_success_is_done_after_two_attempts,
    reliability::a_422_is_dead_with_the_answer_then_replayed,
    reliability::an_expired_token_mid_stream_refreshes_once,
    reliability::an_older_update_arriving_late_does_not_roll_back,
    reliability::a_retried_update_never_overwrites_a_newer_one,
    ambiguous::a_note_made_whose_answer_timed_out_is_made_once,
    ambiguous::a_task_made_whose_answer_was_reset_is_made_once,
    ambiguous::an_appointment_made_whose_answer_was_reset_is_made_once,
    ambiguous::a_tovuti_user_made_whose_answer_was_lost_is_made_once,
    sweep::a_contact_changed_while_its_webhook_was_dropped_is_repaired_in_one_sweep,
    sweep::a_sweep_over_unchanged_contacts_synthesizes_nothing,
    sweep::a_sweep_after_the_real_webhook_was_processed_synthesizes_nothing,
    sweep::the_same_change_found_by_two_sweeps_is_recorded_once,
    sweep::a_sweep_pages_through_every_changed_contact,
    sweep::two_sweepers_of_one_location_make_one_sweep,
    sweep::a_ghl_backfill_queues_each_tagged_contact_once,
    backfill_jobs::a_ghl_backfill_job_queues_each_tagged_contact_once,
    sweep::a_ghl_backfill_since_a_date_selects_only_contacts_updated_from_it,
    sweep::a_location_is_swept_once_per_interval,
    sweep::a_location_without_a_tovuti_api_is_not_swept,
    sweep_tags::a_tag_changed_while_its_webhook_was_dropped_is_repaired_by_the_tag_rules,
    sweep_tags::a_tag_no_rule_names_is_not_repaired,
    sweep_tags::a_sweep_and_a_backfill_follow_the_connections_own_mapping,
);
