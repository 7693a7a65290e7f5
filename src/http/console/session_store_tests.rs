//! Sessions over a real SQLite store, on a clock the test moves by hand.

use std::sync::atomic::{AtomicI64, Ordering};

use super::*;
use crate::config::{Config, DatabaseUrl};

const MINUTE: i64 = 60_000;

fn caller(access: Access) -> Caller {
    Caller {
        token_id: "abcd1234".into(),
        access,
    }
}

async fn sessions() -> (Sessions, Arc<AtomicI64>, Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults().store;
    config.url = DatabaseUrl::new(format!("sqlite://{}/s.db", dir.path().display()));
    let store = crate::store::connect(&config, None).await.unwrap();
    store.migrate().await.unwrap();
    let now = Arc::new(AtomicI64::new(1_800_000_000_000));
    let sessions = Sessions::new(store.clone(), Clock::manual(now.clone()));
    (sessions, now, store, dir)
}

#[tokio::test]
async fn a_session_ends_after_the_idle_timeout_but_use_keeps_it_alive() {
    let (sessions, now, _store, _dir) = sessions().await;
    let id = sessions.open(&caller(Access::Full)).await.unwrap();
    let idle = i64::try_from(IDLE_TIMEOUT.as_millis()).unwrap();

    // Used just before the idle timeout: still live, and its idle clock starts again.
    now.fetch_add(idle - MINUTE, Ordering::SeqCst);
    let session = sessions.touch(&id).await.unwrap().expect("still live");
    assert!(session.can_write());
    assert_eq!(session.caller.token_id, "abcd1234");
    now.fetch_add(idle - MINUTE, Ordering::SeqCst);
    assert!(sessions.touch(&id).await.unwrap().is_some(), "use reset it");

    // Then left alone for the whole idle timeout: gone, and it stays gone.
    now.fetch_add(idle, Ordering::SeqCst);
    assert!(sessions.touch(&id).await.unwrap().is_none());
    now.fetch_sub(idle, Ordering::SeqCst);
    assert!(
        sessions.touch(&id).await.unwrap().is_none(),
        "an ended session was deleted, not only refused"
    );
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_lifetime() {
    let (sessions, now, _store, _dir) = sessions().await;
    let id = sessions.open(&caller(Access::ReadOnly)).await.unwrap();
    let lifetime = i64::try_from(LIFETIME.as_millis()).unwrap();
    let step = 20 * MINUTE;
    let mut elapsed = 0;
    while elapsed + step < lifetime {
        now.fetch_add(step, Ordering::SeqCst);
        elapsed += step;
        let session = sessions.touch(&id).await.unwrap().expect("live");
        assert!(!session.can_write(), "read-only stays read-only");
    }
    now.fetch_add(lifetime - elapsed, Ordering::SeqCst);
    assert!(sessions.touch(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn the_store_keeps_a_hash_not_the_id_and_a_sign_in_prunes_ended_sessions() {
    let (sessions, now, store, _dir) = sessions().await;
    let old = sessions.open(&caller(Access::Full)).await.unwrap();
    let idle = i64::try_from(IDLE_TIMEOUT.as_millis()).unwrap();
    now.fetch_add(idle + MINUTE, Ordering::SeqCst);
    let new = sessions.open(&caller(Access::Full)).await.unwrap();
    assert_ne!(old, new);
    // The old one was deleted by the sign-in; nothing is left to prune.
    let ended = store
        .prune_console_sessions(Millis(now.load(Ordering::SeqCst)), Millis(0))
        .await
        .unwrap();
    assert_eq!(ended, 0);
    assert!(
        store
            .touch_console_session(&new, Millis(now.load(Ordering::SeqCst)), Millis(0))
            .await
            .unwrap()
            .is_none(),
        "the raw id is not a key"
    );
    let session = sessions.touch(&new).await.unwrap().expect("live");
    assert_eq!(session.csrf, csrf_token(&new));
    assert_ne!(session.csrf, id_hash(&new));
    sessions.revoke(&new).await.unwrap();
    assert!(sessions.touch(&new).await.unwrap().is_none());
}
