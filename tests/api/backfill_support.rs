//! What the backfill job tests share: a fake Tovuti tenant of five learners, the default
//! connection on it, the users scan lease held as another process would hold it, and a
//! two-backend macro whose apps are configured for that tenant.

use std::time::Duration;

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::Millis;

use crate::admin_support::{AdminApp, Answer, FULL};

const TOKEN: &str = "7|backfill-jobs-tovuti-token";
pub const LEARNERS: u64 = 5;
/// The scan lease of the default connection's users, as the poller names it.
const USERS_LEASE: &str = "poll:default:users";

/// One test per scenario and backend (PostgreSQL when `TEST_DATABASE_URL` is set), each
/// app on its own fake tenant.
macro_rules! on_both_backends_with_a_tenant {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let tovuti = crate::backfill_support::tenant().await;
                    let url = tovuti.base_url();
                    let app = crate::admin_support::AdminApp::sqlite_with(|c| crate::backfill_support::configure(c, url)).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let tovuti = crate::backfill_support::tenant().await;
                    let url = tovuti.base_url();
                    let Some(app) = crate::admin_support::AdminApp::postgres_with(|c| crate::backfill_support::configure(c, url)).await else { return };
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}

pub(crate) use on_both_backends_with_a_tenant;

/// A tenant of five learners.
pub async fn tenant() -> FakeTovuti {
    let tovuti = FakeTovuti::start(TOKEN).await.unwrap();
    for id in 1..=LEARNERS {
        let user = serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("Learner {id}"),
            "email": format!("learner{id}@example.com"), "status": "active",
        }))
        .unwrap();
        tovuti.insert_user(user);
    }
    tovuti
}

/// The default connection on the fake tenant, two items a page, no rate limit.
pub fn configure(config: &mut Config, tovuti_url: String) {
    config.ghl.location_id = "loc-backfill".into();
    config.tovuti.base_url = tovuti_url;
    config.tovuti.token = OptionalSecret::new(TOKEN);
    config.poller.page_size = 2;
    config.poller.requests_per_second = 0.0;
}

/// Holds the users scan lease as another process would (the poller mid-scan), so a
/// started run waits before its first page.
pub async fn hold_users_scan(app: &AdminApp) {
    let held = app
        .state
        .store
        .try_acquire_lease(
            USERS_LEASE,
            "another-replica",
            Millis::now(),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    assert!(held);
}

pub async fn release_users_scan(app: &AdminApp) {
    app.state
        .store
        .release_lease(USERS_LEASE, "another-replica")
        .await
        .unwrap();
}

pub async fn start(app: &AdminApp, token: &str, body: serde_json::Value) -> Answer {
    app.post("/api/v1/connections/default/backfills", token, body)
        .await
}

pub async fn audit_actions(app: &AdminApp) -> Vec<(String, String, String)> {
    let audit = app.get("/api/v1/audit?connection=default", FULL).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
            (text("action"), text("target"), text("token_id"))
        })
        .collect()
}
