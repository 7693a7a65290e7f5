//! The store code both backends run, written once: one SQL text (sqlx's SQLite driver takes
//! the `$1, $2` placeholders PostgreSQL needs) and one body of binding and row reading.
//!
//! Why macros rather than generic functions over `sqlx::Database`: a generic body needs, for
//! every statement, bounds that each bound and read type encodes and decodes, that the pool
//! and the transaction are executors, and that every future stays `Send` for `async_trait`;
//! those bounds would outgrow the code. A macro expands the same text against each concrete
//! pool, so the compiler checks it twice and no bound is written. Rustfmt does not format
//! inside `macro_rules!`, so these bodies are kept formatted by hand.
//!
//! What a backend supplies (see the top of each backend's `mod.rs`), as inherent items:
//! - `reads()` and `writes()`: the pools reads and writes go to;
//! - `begin_write()`: a write transaction (SQLite takes its write lock up front);
//! - `id_param(EventId)`: an event id as the backend stores it (SQLite text, PostgreSQL UUID);
//! - the fields `writer` (the inbox inserts' group commit), `grouped` (the worker's writes'
//!   group commit, `store::grouped`) and `cipher`;
//! - `doomed_events` and `delete_doomed`: how a prune names the events it takes (SQLite by
//!   its query under the write lock, PostgreSQL by ids it locks);
//! - `WORKER_SQL`, `LEASED_SEQ_SQL` and `INSERT_ATTEMPT_SQL`: the statements whose text
//!   differs by nature (the claim, row locks, a JSONB column).

mod admin;
mod backfill_runs;
pub(crate) mod connection_settings;
mod connections;
mod console_sessions;
mod event_log;
mod inbox;
mod oauth_states;
mod polls_and_leases;
mod records;

pub(super) use admin::shared_admin;
pub(super) use backfill_runs::shared_backfill_runs;
pub(super) use connection_settings::shared_connection_settings;
pub(super) use connections::shared_connections;
pub(super) use console_sessions::shared_console_sessions;
pub(super) use event_log::shared_event_log;
pub(super) use inbox::shared_inbox;
pub(super) use oauth_states::shared_oauth_states;
pub(super) use polls_and_leases::shared_polls_and_leases;
pub(super) use records::shared_records;

/// Implements every store trait but [`Store`](super::Store) itself for `$store`, whose
/// database is `$db` and whose event ids are bound as `$id`, from the shared text.
macro_rules! impl_shared {
    ($store:ty, $db:ty, $id:ty) => {
        $crate::store::shared::shared_inbox!($store, $db, $id);
        $crate::store::shared::shared_event_log!($store);
        $crate::store::shared::shared_connections!($store);
        $crate::store::shared::shared_records!($store);
        $crate::store::shared::shared_polls_and_leases!($store);
        $crate::store::shared::shared_oauth_states!($store);
        $crate::store::shared::shared_admin!($store, $db);
        $crate::store::shared::shared_connection_settings!($store, $db);
        $crate::store::shared::shared_console_sessions!($store);
        $crate::store::shared::shared_backfill_runs!($store, $db);

        impl $store {
            /// Whether every migration `migrator` embeds is recorded as applied, once the
            /// migrations table exists (how to ask that differs per backend).
            async fn migrations_cover(
                &self,
                migrator: &sqlx::migrate::Migrator,
            ) -> $crate::store::StoreResult<bool> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(self.reads())
                    .await?;
                let applied: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                Ok($crate::store::covers_all(&applied, migrator))
            }
        }
    };
}

pub(super) use impl_shared;
