//! Genuine deliveries nested deeper than the service reads are answered alike on both
//! front doors, whether the nesting is objects or arrays.

use axum::http::StatusCode;
use tovuti_ghl_bridge::store::EventStatus;

use crate::support::*;

/// serde_json reads at most 128 levels; these go far beyond.
const DEPTH: usize = 100_000;

fn deep_objects() -> String {
    format!("{}1{}", r#"{"a":"#.repeat(DEPTH), "}".repeat(DEPTH))
}

fn deep_arrays() -> String {
    format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH))
}

/// The same nesting under `data` of an otherwise valid event.
fn tovuti_event(data: &str) -> String {
    format!(r#"{{"id":"e","type":"user.created","data":{data}}}"#)
}

fn ghl_event(data: &str, webhook_id: &str) -> String {
    format!(
        r#"{{"type":"ContactCreate","locationId":"{LOCATION}","webhookId":"{webhook_id}","data":{data}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_beyond_the_limit_gets_the_same_400_on_both_paths() {
    let app = TestApp::with(|c| c.server.body_limit_bytes = 4 << 20).await;
    let mut answers = Vec::new();
    for (i, nested) in [deep_objects(), deep_arrays()].iter().enumerate() {
        for body in [nested.clone(), tovuti_event(nested)] {
            let id = format!("m{}", answers.len());
            answers.push(
                app.post_tovuti("/webhooks/tovuti", &id, &body, SECRET_A)
                    .await,
            );
        }
        for body in [nested.clone(), ghl_event(nested, &format!("w{i}"))] {
            answers.push(app.post_ghl(&body).await);
        }
    }

    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "case {i}: {:?}",
            answer.body
        );
        assert!(is_problem(answer), "case {i}");
    }
    assert_eq!(app.count(EventStatus::Ignored).await, 8, "every one stored");
}
