//! The worker's statements read open events only, however much finished history the
//! inbox keeps: the plans each database chooses over a big inbox with fresh statistics.
//! A claim that walked the primary key filtered out every finished event on the way, and
//! slowed down as history accumulated.

use serde_json::Value;
use sqlx::{Connection as _, Row as _};
use tovuti_ghl_bridge::store::row_statements;
use tovuti_ghl_bridge::store::worker_sql::{self, WorkerSql};

use crate::support::{T0, TestDb};

/// A backlog behind a longer history: the shape in which a planner that assumes waiting
/// rows are spread evenly expects a walk of the primary key to find a batch at once,
/// while every finished row comes first. Small enough to fill in well under a second.
const FINISHED: u32 = 20_000;
const WAITING: u32 = 5_000;
const LEASED: u32 = 20;

/// The partial indexes that hold open events only.
const OPEN_INDEXES: [&str; 5] = [
    "inbox_events_claimable",
    "inbox_events_due",
    "inbox_events_entity_open",
    "inbox_events_leased",
    "inbox_events_open",
];

pub async fn the_worker_statements_never_walk_finished_history(db: &TestDb) {
    fill(db).await;
    match db.backend() {
        "sqlite" => check_sqlite(db).await,
        _ => check_postgres(db).await,
    }
}

/// Finished events first (the oldest), then waiting and leased ones, as a long-running
/// inbox looks. Statistics are left to each check.
async fn fill(db: &TestDb) {
    let sqlite = db.backend() == "sqlite";
    let total = FINISHED + WAITING + LEASED;
    let (with, from, id, body) = if sqlite {
        (
            format!(
                "WITH RECURSIVE series(n) AS \
                 (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < {total}) "
            ),
            "series".to_owned(),
            "'id-' || n",
            "zeroblob(300)",
        )
    } else {
        (
            String::new(),
            format!("generate_series(1, {total}) AS series(n)"),
            "gen_random_uuid()",
            "convert_to(repeat('b', 300), 'UTF8')",
        )
    };
    let (t0, finished, waiting) = (T0.0, FINISHED, FINISHED + WAITING);
    let sql = format!(
        "{with}INSERT INTO inbox_events (id, source, external_id, event_type, entity_key, \
           received_at, headers, body, status, next_attempt_at, lease_owner, lease_expires_at, \
           updated_at) \
         SELECT {id}, 'ghl', 'wh-' || n, 'ContactUpdate', 'ghl:contact:' || (n % 5000), {t0} + n, \
           '{{}}', {body}, \
           CASE WHEN n <= {finished} THEN 'done' WHEN n <= {waiting} THEN 'pending' \
             ELSE 'processing' END, \
           {t0} + n, CASE WHEN n > {waiting} THEN 'w' END, \
           CASE WHEN n > {waiting} THEN {t0} END, {t0} + n \
         FROM {from}"
    );
    let url = db.config.url.expose();
    if sqlite {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
}

/// Each statement as SQLite plans it, before statistics (as a fresh installation runs:
/// the service never analyzes) and after `ANALYZE`.
async fn check_sqlite(db: &TestDb) {
    let mut conn = sqlx::SqliteConnection::connect(db.config.url.expose())
        .await
        .unwrap();
    for analyzed in [false, true] {
        if analyzed {
            sqlx::raw_sql("ANALYZE").execute(&mut conn).await.unwrap();
        }
        for (name, sql) in statements(&worker_sql::SQLITE) {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
            let context = format!("{name} (analyzed: {analyzed}):\n{}", plan.join("\n"));
            for step in plan.iter().filter(|s| reads_inbox_sqlite(s)) {
                assert!(sqlite_step_is_open_only(step), "{context}");
            }
            if name == "claim" {
                let walks_claimable = |s: &String| {
                    s.starts_with("SCAN e USING ") && s.ends_with("INDEX inbox_events_claimable")
                };
                assert!(plan.iter().any(walks_claimable), "{context}");
            }
        }
        check_sqlite_merged(&mut conn, analyzed).await;
    }
}

/// A completion merged over two rows, as SQLite plans it: through the leased events or by
/// each event's id.
async fn check_sqlite_merged(conn: &mut sqlx::SqliteConnection, analyzed: bool) {
    let sql = row_statements::COMPLETE.sqlite_sql(2);
    let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get("detail")).collect();
    let context = format!(
        "merged completion (analyzed: {analyzed}):\n{}",
        plan.join("\n")
    );
    let inbox: Vec<&String> = plan.iter().filter(|s| reads_inbox_sqlite(s)).collect();
    assert!(!inbox.is_empty(), "{context}");
    for step in inbox {
        let by_id =
            step.contains("INDEX sqlite_autoindex_inbox_events_") && step.ends_with("(id=?)");
        assert!(by_id || sqlite_step_is_open_only(step), "{context}");
    }
}

fn reads_inbox_sqlite(step: &str) -> bool {
    ["SCAN ", "SEARCH "].iter().any(|verb| {
        step.strip_prefix(verb).is_some_and(|rest| {
            ["inbox_events", "e", "p", "n"]
                .iter()
                .any(|t| rest == *t || rest.starts_with(&format!("{t} ")))
        })
    })
}

/// Through an open-events index, or a lookup of one row by its key.
fn sqlite_step_is_open_only(step: &str) -> bool {
    let by_open_index = OPEN_INDEXES
        .iter()
        .any(|index| step.contains(&format!("INDEX {index}")));
    by_open_index || step.contains("USING INTEGER PRIMARY KEY (rowid=?)")
}

/// Each statement as PostgreSQL plans it after `ANALYZE`, both as planned for the
/// values at hand and as the generic plan a prepared statement switches to after five
/// runs (sqlx prepares every statement).
async fn check_postgres(db: &TestDb) {
    let mut conn = sqlx::PgConnection::connect(db.config.url.expose())
        .await
        .unwrap();
    sqlx::raw_sql("ANALYZE inbox_events")
        .execute(&mut conn)
        .await
        .unwrap();
    let t0 = T0.0;
    let args = |name: &str| match name {
        "claim" => format!("'w2', {}, {t0} + 10000000, 32", t0 + 30_000),
        "reclaim" => format!("{t0} + 1"),
        "newest_open" => "'ghl:contact:1', 1, 'ContactUpdate'".to_owned(),
        _ => format!("{t0}, 1, 'ghl:contact:1', 'ContactUpdate', 5001"),
    };
    for (name, sql) in statements(&worker_sql::POSTGRES) {
        sqlx::raw_sql(&format!("PREPARE {name} AS {sql}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for mode in ["force_custom_plan", "force_generic_plan"] {
            sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let explain = format!("EXPLAIN (FORMAT JSON) EXECUTE {name}({})", args(name));
            let row = sqlx::query(&explain).fetch_one(&mut conn).await.unwrap();
            // `json` has no sqlx decoder without its feature; the text is the JSON.
            let text: String = row.try_get_unchecked(0).unwrap();
            let plan: Value = serde_json::from_str(&text).unwrap();
            let mut scans = Vec::new();
            collect_scans(&plan[0]["Plan"], &mut scans);
            let context = format!("{name} ({mode}): {scans:#?}");
            assert!(!scans.is_empty(), "{context}");
            for scan in &scans {
                assert!(postgres_scan_is_open_only(scan), "{context}");
            }
            if name == "claim" {
                let walks_claimable =
                    |s: &&Value| s["Alias"] == "e" && s["Index Name"] == "inbox_events_claimable";
                assert!(scans.iter().any(walks_claimable), "{context}");
            }
        }
    }
    check_postgres_merged(&mut conn).await;
}

/// A completion merged over two rows, as PostgreSQL plans it: through the leased events or
/// by each event's id.
async fn check_postgres_merged(conn: &mut sqlx::PgConnection) {
    let sql = row_statements::COMPLETE.postgres_sql();
    sqlx::raw_sql(&format!("PREPARE complete AS {sql}"))
        .execute(&mut *conn)
        .await
        .unwrap();
    let ids = format!("{{{},{}}}", uuid::Uuid::nil(), uuid::Uuid::max());
    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
            .execute(&mut *conn)
            .await
            .unwrap();
        let explain = format!(
            "EXPLAIN (FORMAT JSON) EXECUTE complete('{ids}', '{{w,w}}', '{{done,done}}', '{{1,1}}')"
        );
        let row = sqlx::query(&explain).fetch_one(&mut *conn).await.unwrap();
        let text: String = row.try_get_unchecked(0).unwrap();
        let plan: Value = serde_json::from_str(&text).unwrap();
        let mut scans = Vec::new();
        collect_scans(&plan[0]["Plan"], &mut scans);
        let context = format!("merged completion ({mode}): {scans:#?}");
        assert!(!scans.is_empty(), "{context}");
        for scan in &scans {
            assert!(postgres_scan_is_open_only(scan), "{context}");
        }
    }
}

/// Every node that reads `inbox_events` or one of its indexes (the update node only
/// writes the rows found below it).
fn collect_scans<'p>(node: &'p Value, scans: &mut Vec<&'p Value>) {
    let is_scan = node["Node Type"]
        .as_str()
        .is_some_and(|kind| kind.ends_with("Scan"));
    if is_scan && (node["Relation Name"] == "inbox_events" || node.get("Index Name").is_some()) {
        scans.push(node);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_scans(child, scans);
    }
}

/// Through an open-events index, or a lookup of rows by key equality; never a sequential
/// scan nor a walk of a whole-table index.
fn postgres_scan_is_open_only(scan: &Value) -> bool {
    let index = scan["Index Name"].as_str().unwrap_or_default();
    if OPEN_INDEXES.contains(&index) {
        return true;
    }
    let lookup = |cond: &str| cond.starts_with("(seq = ") || cond.starts_with("(id = ");
    match scan["Node Type"].as_str().unwrap_or_default() {
        // A bitmap heap scan reads only what its index scans below it found.
        "Bitmap Heap Scan" => true,
        "Index Scan" | "Index Only Scan" | "Bitmap Index Scan" => {
            scan["Index Cond"].as_str().is_some_and(lookup)
        }
        _ => false,
    }
}

fn statements(sql: &WorkerSql) -> [(&'static str, &'static str); 4] {
    [
        ("claim", sql.claim),
        ("reclaim", sql.reclaim),
        ("newest_open", sql.newest_open),
        ("supersede", sql.supersede),
    ]
}
