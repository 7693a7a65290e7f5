//! The client's metrics name the connection whose work sent each request.

use std::sync::Arc;
use std::time::Duration;

use super::tests::{LOC, settings};
use super::*;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Fault};

#[tokio::test]
async fn two_connections_requests_waits_and_429s_are_counted_apart() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let client = GhlClient::new(settings(fake.base_url()), metrics.clone()).unwrap();
    let token = |location: &str| Auth::private_token(fake.issue_token(location, ALL_SCOPES));
    let acme = client.location(LOC, token(LOC)).for_connection("acme");
    let zenith = client
        .location("loc-2", token("loc-2"))
        .for_connection("zenith");
    acme.get_contact("missing").await.unwrap_err();
    zenith.get_contact("missing").await.unwrap_err();
    zenith.get_contact("missing").await.unwrap_err();
    fake.inject([Fault::RateLimited(Duration::ZERO)]);
    zenith.get_contact("missing").await.unwrap_err();
    let text = metrics.encode();
    let count = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let requests = r#"bridge_ghl_requests_total{connection="#;
    assert_eq!(
        count(&format!(
            r#"{requests}"acme",endpoint="contacts.get",outcome="404"}}"#
        )),
        1
    );
    assert_eq!(
        count(&format!(
            r#"{requests}"zenith",endpoint="contacts.get",outcome="404"}}"#
        )),
        3
    );
    assert_eq!(
        count(&format!(
            r#"{requests}"zenith",endpoint="contacts.get",outcome="429"}}"#
        )),
        1
    );
    assert_eq!(
        count(r#"bridge_ghl_rate_limited_total{connection="zenith",location="loc-2"}"#),
        1
    );
    assert_eq!(
        count(r#"bridge_ghl_rate_limited_total{connection="acme",location="loc-1"}"#),
        0
    );
    assert_eq!(
        count(r#"bridge_ghl_throttle_wait_seconds_count{connection="acme"}"#),
        1
    );
    assert_eq!(
        count(r#"bridge_ghl_throttle_wait_seconds_count{connection="zenith"}"#),
        4
    );
}
