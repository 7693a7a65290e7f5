//! Fresh stores for each test: a temporary SQLite file, or a new PostgreSQL database
//! created from `TEST_DATABASE_URL` and dropped afterwards.

use std::sync::Arc;

use sqlx::{Connection as _, Row as _};
use tempfile::TempDir;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl, StoreConfig};
use tovuti_ghl_bridge::store::{self, Cipher, EventStatus, Millis, NewEvent, Source, Store};

pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub config: StoreConfig,
    /// The encryption key of `store`, so another handle can read its credentials.
    key: String,
    kind: Kind,
}

enum Kind {
    Sqlite(#[expect(dead_code, reason = "held so the directory outlives the store")] TempDir),
    Postgres { admin_url: String, name: String },
}

pub fn store_config(url: &str) -> StoreConfig {
    let mut config = Config::defaults().store;
    config.url = DatabaseUrl::new(url);
    config
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
        let dir = tempfile::tempdir().unwrap();
        let config = store_config(&format!("sqlite://{}/bridge.db", dir.path().display()));
        let key = Cipher::generate_key();
        let store = store::connect(&config, Some(Cipher::from_base64(&key).unwrap()))
            .await
            .unwrap();
        Self {
            store,
            config,
            key,
            kind: Kind::Sqlite(dir),
        }
    }

    /// None (and a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.store.migrate().await.unwrap();
        Some(db)
    }

    /// A store on an empty PostgreSQL database (None when `TEST_DATABASE_URL` is unset).
    pub async fn postgres_unmigrated() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("TEST_DATABASE_URL is not set; skipping the PostgreSQL variant");
            return None;
        };
        let name = format!("bridge_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        let config = store_config(url.as_str());
        let key = Cipher::generate_key();
        let store = store::connect(&config, Some(Cipher::from_base64(&key).unwrap()))
            .await
            .unwrap();
        Some(Self {
            store,
            config,
            key,
            kind: Kind::Postgres { admin_url, name },
        })
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
        let sql = "SELECT ciphertext FROM connection_credentials";
        match &self.kind {
            Kind::Sqlite(_) => {
                let mut conn = sqlx::SqliteConnection::connect(self.config.url.expose())
                    .await
                    .unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
            Kind::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(self.config.url.expose())
                    .await
                    .unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// How the database would run `sql`, one plan line per row. PostgreSQL is told to
    /// avoid sequential scans, so that its tiny test tables show whether an index *can*
    /// serve the query, which is what a plan over a big inbox depends on.
    pub async fn query_plan(&self, sql: &str) -> String {
        let url = self.config.url.expose();
        let lines: Vec<String> = match &self.kind {
            Kind::Sqlite(_) => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                rows.iter().map(|r| r.get::<String, _>("detail")).collect()
            }
            Kind::Postgres { .. } => {
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
        let url = self.config.url.expose();
        match &self.kind {
            Kind::Sqlite(_) => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                initial_migrator("migrations/sqlite")
                    .await
                    .run(&mut conn)
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlite_seed).execute(&mut conn).await.unwrap();
            }
            Kind::Postgres { .. } => {
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
        if let Kind::Postgres { admin_url, name } = self.kind {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
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
