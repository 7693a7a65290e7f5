//! The Tovuti poller against an in-memory tenant, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set; and end to end, the real binary's polling and backfill
//! against the in-process fakes.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod backfill_runs;
mod binary;
#[path = "../common/mod.rs"]
mod common;
mod cursor_saves;
mod live;
mod scans;
mod schedule;
mod since;
mod support;
mod tenant;
mod throttle;

/// Generates one test per scenario and backend.
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
    scans::a_tenant_syncs_once_then_an_unchanged_rescan_writes_nothing_and_13_changes_make_13_events,
    scans::a_page_failing_with_500_timeout_and_garbage_is_retried_and_loses_nothing,
    scans::a_page_failing_past_its_retries_fails_the_scan_and_the_next_resumes_there,
    scans::a_scan_killed_between_pages_resumes_from_its_cursor_without_duplicates,
    scans::two_replicas_never_scan_one_resource_at_once,
    scans::a_to_b_to_a_makes_three_distinct_events,
    scans::a_baseline_queues_nothing_then_a_new_learner_is_created_and_enrolled,
    scans::backfill_queues_each_baselined_learner_once_and_the_poller_then_sees_nothing,
    schedule::scans_keep_their_interval_across_a_restart,
    cursor_saves::an_unchanged_rescan_saves_its_place_only_at_its_end_or_on_shutdown,
    since::a_backfill_since_a_date_asks_for_changes_from_it_and_a_plain_poll_does_not,
    throttle::a_scan_of_six_pages_at_20_per_second_takes_at_least_five_twentieths,
    throttle::a_failing_tenant_does_not_hold_up_another_connections_scan,
);

/// Generates one test per end-to-end scenario and backend the binary is given.
macro_rules! binary_on_both_backends {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod binary_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::$module::$scenario(crate::binary::Backend::Sqlite).await;
                }
            )*
        }
        mod binary_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::$module::$scenario(crate::binary::Backend::Postgres).await;
                }
            )*
        }
    };
}

binary_on_both_backends!(
    live::a_learner_created_and_enrolled_without_webhooks_becomes_a_tagged_contact_then_a_task,
    backfill_runs::backfill_queues_every_learner_once_and_serve_makes_exactly_one_contact_each,
    backfill_runs::a_backfill_cut_by_ctrl_c_exits_130_and_a_rerun_completes_without_duplicates,
    backfill_runs::backfill_from_ghl_creates_each_tagged_contacts_tovuti_user_once,
    backfill_runs::a_ghl_backfill_cut_by_ctrl_c_releases_its_lease_and_a_rerun_completes,
);
