//! One full poll scan of a large in-memory Tovuti tenant's users (no throttle), unchanged
//! and then with 1 % of the users changed: wall time, CPU time of this process (poller,
//! fake tenant and, on SQLite, the database), peak RSS growth during the scan, and the
//! store writes (snapshots saved, events queued, cursor saves).
//!
//! The tenant makes each page's users on demand from (id, version), so its own memory
//! does not grow with its size and the RSS growth is the poller's.
//!
//! Usage: poll_bench [USERS] [sqlite|postgres://…] (defaults: 100000, sqlite)

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl, InitialScan};
use tovuti_ghl_bridge::platforms::tovuti::TovutiError;
use tovuti_ghl_bridge::platforms::tovuti::client::{
    Award, CourseProgress, Page, PageRequest, TovutiLists,
};
use tovuti_ghl_bridge::platforms::tovuti::payloads::User;
use tovuti_ghl_bridge::poller::{
    Clock, PollContext, PollSettings, Resource, ScanMode, ScanSummary, Throttle, Unobserved, scan,
};
use tovuti_ghl_bridge::store::{self, NewConnection};
use tovuti_ghl_bridge::telemetry::Metrics;

/// Users `1..=count`; those in `changed` carry a different name.
struct Generated {
    count: u64,
    changed: Mutex<HashSet<u64>>,
}

/// The user `id` as the tenant lists it.
fn generated_user(id: u64, changed: bool) -> anyhow::Result<User> {
    let name = if changed {
        "Changed Learner"
    } else {
        "Learner"
    };
    Ok(serde_json::from_value(json!({
        "id": id,
        "name": format!("{name} {id}"),
        "email": format!("learner{id}@example.com"),
        "username": format!("learner{id}"),
        "status": "active",
        "customFields": [{"field_id": 3, "value": "Acme"}],
        "userGroupIds": [4, 5],
    }))?)
}

#[async_trait]
impl TovutiLists for Generated {
    async fn users_page(&self, request: PageRequest) -> Result<Page<User>, TovutiError> {
        let size = u64::from(request.page_size);
        let first = u64::from(request.page - 1) * size + 1;
        let last = (first + size - 1).min(self.count);
        let changed = self
            .changed
            .lock()
            .map_err(|_| TovutiError::NotConfigured)?;
        let items: Vec<User> = (first..=last)
            .filter_map(|id| generated_user(id, changed.contains(&id)).ok())
            .collect();
        Ok(Page {
            last: (items.len() as u64) < size,
            items,
            unreadable: 0,
        })
    }
    async fn progress_page(&self, _: PageRequest) -> Result<Page<CourseProgress>, TovutiError> {
        Ok(Page {
            items: Vec::new(),
            unreadable: 0,
            last: true,
        })
    }
    async fn awards_page(&self, _: PageRequest) -> Result<Page<Award>, TovutiError> {
        Ok(Page {
            items: Vec::new(),
            unreadable: 0,
            last: true,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let users: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let target = args.next().unwrap_or_else(|| "sqlite".to_owned());
    let dir = tempfile::tempdir()?;
    let url = if target == "sqlite" {
        format!("sqlite://{}/bench.db", dir.path().display())
    } else {
        target
    };
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(url);
    let store = store::connect(&config.store, None).await?;
    store.migrate().await?;
    store
        .upsert_connection(&NewConnection {
            id: "default".to_owned(),
            ghl_location_id: Some("loc".to_owned()),
            tovuti_base_url: Some("https://tenant.example".to_owned()),
        })
        .await?;
    let tenant = Arc::new(Generated {
        count: users,
        changed: Mutex::new(HashSet::new()),
    });
    config.poller.initial_scan = InitialScan::Baseline;
    let ctx = PollContext {
        store: store.clone(),
        lists: tenant.clone(),
        connection: "default".to_owned(),
        owner: "bench".to_owned(),
        settings: PollSettings::from_config(&config.poller, false),
        metrics: Arc::new(Metrics::new()),
        throttle: Throttle::none(),
        clock: Clock::System,
        shutdown: CancellationToken::new(),
    };
    println!(
        "# {users} users, store {}, page size {}",
        store.backend(),
        ctx.settings.page_size
    );
    println!(
        "| scan | wall s | process CPU s | peak RSS growth MiB | pages (cursor saves) | snapshots saved | events queued |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    measure("baseline (first scan, setup)", &ctx).await?;
    measure("unchanged", &ctx).await?;
    *tenant
        .changed
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))? =
        (1..=users).filter(|id| id % 100 == 0).collect();
    measure("1 % changed", &ctx).await?;
    measure("unchanged again", &ctx).await?;
    store.close().await;
    Ok(())
}

async fn measure(label: &str, ctx: &PollContext) -> anyhow::Result<()> {
    reset_peak_rss();
    let rss_before = status_kib("VmRSS:")?;
    let cpu_before = process_cpu()?;
    let started = Instant::now();
    let summary: ScanSummary = scan(ctx, Resource::Users, ScanMode::Poll, &mut Unobserved).await?;
    let wall = started.elapsed();
    let cpu = process_cpu()? - cpu_before;
    let growth = status_kib("VmHWM:")?.saturating_sub(rss_before);
    println!(
        "| {label} | {:.2} | {:.2} | {:.1} | {} | {} | {} |",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        growth as f64 / 1024.0,
        summary.pages,
        summary.snapshots_saved,
        summary.events,
    );
    Ok(())
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so each scan's peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/self/status"))?;
    let kib = line.split_whitespace().nth(1).unwrap_or("0");
    Ok(kib.parse()?)
}

/// utime + stime of this process, from `/proc/self/stat` (USER_HZ is 100 on Linux).
fn process_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc/self/stat"))?
            .parse()?)
    };
    let ticks = tick(11)? + tick(12)?;
    Ok(Duration::from_millis(ticks * 10))
}
