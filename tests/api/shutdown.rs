//! Graceful shutdown: requests already being handled finish, new ones are refused.

use std::time::Duration;

use tovuti_ghl_bridge::config::DatabaseUrl;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_request_in_flight_when_shutdown_starts_still_gets_its_answer() {
    // A "database" that accepts connections and never answers keeps /readyz busy inside
    // its handler until the store check times out, so the request is provably in flight.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = black_hole.local_addr().unwrap().port();
    let app = spawn_app_with(|c| {
        c.store.url = DatabaseUrl::new(format!("postgres://bridge:pw@127.0.0.1:{port}/bridge"));
        c.store.run_migrations = false;
        c.server.shutdown_grace_secs = 10;
        // The worker, or the poller listing stored connections, would reach the store
        // first and take the one accepted connection.
        c.worker.enabled = false;
        c.poller.enabled = false;
    })
    .await;
    let in_flight = tokio::spawn(app.client.get(app.url("/readyz")).send());
    let (_held, _) = black_hole.accept().await.unwrap();

    app.shutdown.cancel();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(
        response.status(),
        503,
        "answered by the handler, not cut off"
    );
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .unwrap()
        .unwrap();
    stopped.unwrap();
    let after = reqwest::Client::new()
        .get(format!("http://{}/healthz", app.address))
        .send()
        .await;
    assert!(after.is_err(), "the listener is closed after shutdown");
}
