//! OAuth install states: each is spent once, even by concurrent callbacks.

use std::time::Duration;

use tovuti_ghl_bridge::store::Millis;

use crate::support::{T0, TestDb};

pub async fn an_oauth_state_is_spent_once_and_forgotten_after_it_expires(db: &TestDb) {
    let keep_until = T0.plus(Duration::from_secs(600));
    let spend =
        |nonce: &'static str, now: Millis| db.store.spend_oauth_state(nonce, keep_until, now);

    assert!(spend("nonce-a", T0).await.unwrap(), "the first use");
    assert!(!spend("nonce-a", T0).await.unwrap(), "a second use");
    assert!(
        spend("nonce-b", T0).await.unwrap(),
        "states are independent"
    );

    // Once kept long enough, a spent state is pruned (the state itself has expired).
    let later = keep_until.plus(Duration::from_millis(1));
    assert!(spend("nonce-c", later).await.unwrap());
    assert!(spend("nonce-a", later).await.unwrap(), "pruned");
}

pub async fn concurrent_callbacks_with_one_state_spend_it_once(db: &TestDb) {
    let keep_until = T0.plus(Duration::from_secs(600));
    let spends = (0..20).map(|_| {
        let store = db.store.clone();
        tokio::spawn(async move { store.spend_oauth_state("nonce-race", keep_until, T0).await })
    });
    let results = futures::future::join_all(spends).await;
    let won = results
        .into_iter()
        .filter(|r| *r.as_ref().unwrap().as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
}
