//! A store for each test on a scratch database (see `common::database`), and what the
//! store tests read past its interface: credentials as stored, query plans, old schemas.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection as _, Row as _};
use tovuti_ghl_bridge::config::StoreConfig;
use tovuti_ghl_bridge::store::{self, Cipher, Claim, EventStatus, Millis, NewEvent, Source, Store};

use crate::common::config::store_config;
use crate::common::{Backend, ScratchDb};

pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub config: StoreConfig,
    /// The encryption key of `store`, so another handle can read its credentials.
    key: String,
    db: ScratchDb,
}

pub fn cipher() -> Cipher {
    Cipher::from_base64(&Cipher::generate_key()).unwrap()
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let db = Self::sqlite_unmigrated().await;
        db.store.migrate().await.unwrap();
        db
    }

    /// A store on an empty SQLite file, for upgrade tests that migrate step by step.
    pub async fn sqlite_unmigrated() -> Self {
        Self::open(ScratchDb::sqlite()).await
    }

    /// None (and a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.store.migrate().await.unwrap();
        Some(db)
    }

    /// A store on an empty PostgreSQL database (None when `TEST_DATABASE_URL` is unset).
    pub async fn postgres_unmigrated() -> Option<Self> {
        Some(Self::open(ScratchDb::postgres().await?).await)
    }

    async fn open(db: ScratchDb) -> Self {
        let config = store_config(db.url());
        let key = Cipher::generate_key();
        let store = store::connect(&config, Some(Cipher::from_base64(&key).unwrap()))
            .await
            .unwrap();
        Self {
            store,
            config,
            key,
            db,
        }
    }

    /// The same database opened again, as a second replica (or a second process) would.
    pub async fn another_handle(&self, cipher: Option<Cipher>) -> Arc<dyn Store> {
        store::connect(&self.config, cipher).await.unwrap()
    }

    /// A second replica's handle on the same database, with the same encryption key.
    pub async fn another_replica(&self) -> Arc<dyn Store> {
        let cipher = Cipher::from_base64(&self.key).unwrap();
        store::connect(&self.config, Some(cipher)).await.unwrap()
    }

    /// Raw bytes of every stored credential, read past the store's interface.
    pub async fn raw_credential_bytes(&self) -> Vec<Vec<u8>> {
        let rows: Vec<(Vec<u8>,)> = self
            .db
            .fetch_all("SELECT ciphertext FROM connection_credentials")
            .await;
        rows.into_iter().map(|(bytes,)| bytes).collect()
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// How the database would run `sql`, one plan line per row. PostgreSQL is told to
    /// avoid sequential scans, so that its tiny test tables show whether an index *can*
    /// serve the query, which is what a plan over a big inbox depends on.
    pub async fn query_plan(&self, sql: &str) -> String {
        let url = self.db.url();
        let lines: Vec<String> = match self.db.backend() {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                rows.iter().map(|r| r.get::<String, _>("detail")).collect()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::query_scalar(&format!("EXPLAIN {sql}"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
            }
        };
        lines.join("\n") + "\n"
    }

    /// Applies only the first embedded migration, as a deployment of that version did,
    /// then runs the seed SQL for this backend, so an upgrade can be tested on real rows.
    pub async fn at_initial_schema_with(&self, sqlite_seed: &str, postgres_seed: &str) {
        let url = self.db.url();
        match self.db.backend() {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                initial_migrator("migrations/sqlite")
                    .await
                    .run(&mut conn)
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlite_seed).execute(&mut conn).await.unwrap();
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                initial_migrator("migrations/postgres")
                    .await
                    .run(&mut conn)
                    .await
                    .unwrap();
                sqlx::raw_sql(postgres_seed)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn finish(self) {
        self.store.close().await;
        self.db.remove().await;
    }
}

/// The migrations in `dir` cut down to the first. `migrations` is public but hidden in
/// sqlx; no other API stops a migrator at a version.
async fn initial_migrator(dir: &str) -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    migrator.migrations = migrator.migrations[..1].to_vec().into();
    migrator
}

/// A fixed instant, so lease and retry arithmetic is exact.
pub const T0: Millis = Millis(1_800_000_000_000);

/// How long a claim leases its events in these tests.
pub const LEASE: Duration = Duration::from_secs(30);

/// A claim of up to `limit` events due at `now`, leased to `owner` for [`LEASE`].
pub fn claim(owner: &str, now: Millis, limit: u32) -> Claim {
    Claim {
        owner: owner.to_owned(),
        now,
        lease: LEASE,
        limit,
    }
}

pub fn event(external_id: &str, entity: &str) -> NewEvent {
    NewEvent {
        source: Source::Ghl,
        connection_id: None,
        external_id: external_id.to_owned(),
        event_type: "ContactUpdate".to_owned(),
        entity_key: Some(entity.to_owned()),
        headers: serde_json::json!({ "content-type": "application/json" }),
        body: format!(r#"{{"webhookId":"{external_id}"}}"#).into(),
        status: EventStatus::Pending,
        note: None,
        received_at: T0,
    }
}

pub async fn status_count(store: &dyn Store, status: EventStatus) -> u64 {
    let counts = store.count_events_by_status().await.unwrap();
    counts
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| *n)
}
