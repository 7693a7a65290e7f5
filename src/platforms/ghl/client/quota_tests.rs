//! The throttle's promise, measured at the fake: a backlog for one location uses the
//! quota without ever being refused.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::tests::settings;
use super::throttle::tests::busiest_window;
use super::*;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};

#[tokio::test(start_paused = true)]
async fn a_thousand_queued_calls_stay_inside_the_quota_and_finish_near_the_minimum_time() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", ALL_SCOPES);
    let metrics = Arc::new(Metrics::new());
    let client = GhlClient::new(settings(fake.base_url()), metrics).unwrap();
    let ghl = client.location("loc-1", Auth::private_token(token));
    let id = ghl
        .create_contact(&ContactInput::default())
        .await
        .unwrap()
        .id;

    let started = Instant::now();
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let (ghl, id) = (ghl.clone(), id.clone());
            tokio::spawn(async move { ghl.get_contact(&id).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();

    let log = fake.requests();
    assert!(
        log.iter().all(|r| r.status != 429),
        "no request was refused"
    );
    let times: Vec<Instant> = log.iter().map(|r| r.at).collect();
    assert!(busiest_window(&times, Duration::from_secs(10)) <= 100);
    // At the quota less the 2 % margin, 1,000 calls need 999 gaps of 10 s / 98.
    let minimum = Duration::from_secs(10).mul_f64(999.0 / 98.0);
    assert!(elapsed >= minimum.mul_f64(0.99), "{elapsed:?}");
    assert!(
        elapsed <= minimum.mul_f64(1.03),
        "{elapsed:?} against {minimum:?}"
    );
}
