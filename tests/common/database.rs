//! A database for one test: a SQLite file in a temporary directory, or a new PostgreSQL
//! database made from `TEST_DATABASE_URL` (CI always sets it) and dropped afterwards.

use std::path::Path;

use sqlx::Connection as _;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use tempfile::TempDir;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An empty database, not yet migrated, and a temporary directory that lives as long.
pub struct ScratchDb {
    url: String,
    /// Holds the SQLite file, and any other file a test needs next to the store.
    dir: TempDir,
    /// The PostgreSQL database to drop in [`ScratchDb::remove`].
    postgres: Option<Made>,
}

struct Made {
    admin_url: String,
    name: String,
}

impl ScratchDb {
    /// A database on `backend`; `None` (and a note) for PostgreSQL without
    /// `TEST_DATABASE_URL`.
    pub async fn on(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/bridge.db", dir.path().display());
        Self {
            url,
            dir,
            postgres: None,
        }
    }

    /// A new PostgreSQL database; `None` (and a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
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
        Some(Self {
            url: url.to_string(),
            dir: tempfile::tempdir().unwrap(),
            postgres: Some(Made { admin_url, name }),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        match self.postgres {
            Some(_) => Backend::Postgres,
            None => Backend::Sqlite,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Drops a PostgreSQL database (connections still open are ended); the SQLite file
    /// goes with its directory when this is dropped. Close the stores on it first.
    pub async fn remove(&self) {
        if let Some(Made { admin_url, name }) = &self.postgres {
            let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }

    /// Every row `sql` returns, read past the store's interface on a connection of its own.
    pub async fn fetch_all<T>(&self, sql: &str) -> Vec<T>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        match self.backend() {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }

    /// The one row `sql` returns, read as [`ScratchDb::fetch_all`] reads.
    pub async fn fetch_one<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        let mut rows = self.fetch_all(sql).await;
        assert_eq!(rows.len(), 1, "one row from {sql}");
        rows.remove(0)
    }
}
