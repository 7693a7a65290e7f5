use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::config::{Config, TovutiListsConfig};
use crate::platforms::tovuti::payloads::TovutiId;
use crate::sandbox::tovuti::{FakeTovuti, Fault, Target};

const TOKEN: &str = "12|lists-token";

async fn fake_and_client() -> (FakeTovuti, TovutiClient) {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let client = client_at(&fake.base_url(), defaults());
    (fake, client)
}

fn defaults() -> TovutiListsConfig {
    Config::defaults().tovuti.lists
}

fn client_at(base: &str, lists: TovutiListsConfig) -> TovutiClient {
    TovutiClient::new(base, TOKEN.into(), Duration::from_secs(5))
        .unwrap()
        .with_lists(lists)
}

fn page(page: u32, page_size: u32) -> PageRequest {
    PageRequest {
        page,
        page_size,
        changed_since: None,
    }
}

/// A server answering every GET with `body`, keeping each request's query.
async fn canned(body: Value) -> (String, Arc<Mutex<Vec<String>>>) {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (body, seen) = (body.clone(), seen.clone());
        async move {
            seen.lock()
                .unwrap()
                .push(uri.query().unwrap_or("").to_owned());
            axum::Json(body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, queries)
}

fn ids(users: &Page<User>) -> Vec<u64> {
    users.items.iter().map(|u| u.id.0).collect()
}

#[tokio::test]
async fn pages_are_read_in_id_order_up_to_the_short_last_one() {
    let (fake, client) = fake_and_client().await;
    let seeded = fake.seed_users(250);
    let mut read = Vec::new();
    let mut lasts = Vec::new();
    for number in 1..=3 {
        let users = client.users_page(page(number, 100)).await.unwrap();
        read.extend(ids(&users));
        lasts.push((users.items.len(), users.last, users.unreadable));
    }
    assert_eq!(lasts, [(100, false, 0), (100, false, 0), (50, true, 0)]);
    assert_eq!(read, seeded.collect::<Vec<_>>());
}

#[tokio::test]
async fn a_list_of_whole_pages_ends_with_an_empty_last_page() {
    let (fake, client) = fake_and_client().await;
    fake.seed_users(200);
    let second = client.users_page(page(2, 100)).await.unwrap();
    let third = client.users_page(page(3, 100)).await.unwrap();
    assert_eq!((second.items.len(), second.last), (100, false));
    assert_eq!((third.items.len(), third.last), (0, true));
}

#[tokio::test]
async fn progress_and_awards_read_from_the_fake_tenant() {
    let (fake, client) = fake_and_client().await;
    fake.insert_course(30, "Safety");
    let users = fake.seed_enrolled_users(2, &[30, 31]);
    let (ada, bob) = (users.start, users.start + 1);
    fake.set_progress(ada, 31, 40.0);
    fake.complete_course(bob, 30);
    fake.grant_course_award(bob, 900, "Safety certificate", 30);

    let rows = client.progress_page(page(1, 10)).await.unwrap();
    assert_eq!((rows.items.len(), rows.last, rows.unreadable), (4, true, 0));
    let key = |r: &CourseProgress| (r.user_id.0, r.course_id.0);
    let keys: Vec<_> = rows.items.iter().map(key).collect();
    assert_eq!(keys, [(ada, 30), (ada, 31), (bob, 30), (bob, 31)]);
    assert_eq!(rows.items[0].course_title.as_deref(), Some("Safety"));
    assert_eq!(
        (rows.items[1].percent, rows.items[1].completed),
        (Some(40.0), false)
    );
    let done = &rows.items[2];
    assert!(done.completed && done.completed_at.is_some() && done.enrolled_at.is_some());

    let awards = client.awards_page(page(1, 10)).await.unwrap();
    assert_eq!(awards.items.len(), 1);
    let award = &awards.items[0];
    assert_eq!(
        (award.award_id, award.user_id),
        (TovutiId(900), TovutiId(bob))
    );
    assert_eq!(award.course_id, Some(TovutiId(30)));
    assert_eq!(award.title.as_deref(), Some("Safety certificate"));
}

#[tokio::test]
async fn configured_keys_and_field_names_are_followed() {
    let body = json!({ "results": [{
        "learner": "5", "course": { "id": 9, "name": "Forklifts" }, "pct": "55 %",
        "done": "yes", "finishedOn": "2026-02-03 04:05:06",
    }]});
    let (base, queries) = canned(body).await;
    let lists = TovutiListsConfig {
        progress_path: "reports/progress".into(),
        results_key: "results".into(),
        page_param: "p".into(),
        page_size_param: "limit".into(),
        progress_user_field: "learner".into(),
        progress_course_field: "course.id".into(),
        progress_course_title_field: "course.name".into(),
        progress_percent_field: "pct".into(),
        progress_completed_field: "done".into(),
        progress_completed_at_field: "finishedOn".into(),
        ..defaults()
    };
    let rows = client_at(&base, lists)
        .progress_page(page(2, 50))
        .await
        .unwrap();
    let row = &rows.items[0];
    assert_eq!((row.user_id.0, row.course_id.0), (5, 9));
    assert_eq!(row.course_title.as_deref(), Some("Forklifts"));
    assert_eq!((row.percent, row.completed), (Some(55.0), true));
    let finished: Timestamp = "2026-02-03T04:05:06Z".parse().unwrap();
    assert_eq!(row.completed_at, Some(finished));
    assert!(rows.last, "one item of 50 asked for is the last page");
    assert_eq!(queries.lock().unwrap().as_slice(), ["p=2&limit=50"]);
}

#[tokio::test]
async fn items_that_do_not_read_are_counted_and_skipped() {
    let body = json!({ "data": [
        { "id": "77", "userId": 5, "title": "Badge", "earnedAt": "2026-01-01 00:00:00" },
        { "id": 78, "title": "no learner" },
        "not an object",
        { "id": 79, "userId": "5", "earnedAt": "0000-00-00 00:00:00", "courseId": "x" },
    ]});
    let (base, _) = canned(body).await;
    let awards = client_at(&base, defaults())
        .awards_page(page(1, 4))
        .await
        .unwrap();
    assert_eq!((awards.items.len(), awards.unreadable), (2, 2));
    assert!(!awards.last, "four raw items fill a page of four");
    let lenient = &awards.items[1];
    assert_eq!((lenient.award_id.0, lenient.user_id.0), (79, 5));
    assert_eq!((lenient.earned_at, lenient.course_id), (None, None));

    let users = json!({ "data": [{ "id": 1, "name": "Ada" }, { "name": "no id" }] });
    let (base, _) = canned(users).await;
    let read = client_at(&base, defaults())
        .users_page(page(1, 10))
        .await
        .unwrap();
    assert_eq!((ids(&read), read.unreadable, read.last), (vec![1], 1, true));
}

#[tokio::test]
async fn an_answer_that_is_not_a_page_is_a_decode_error() {
    let (fake, client) = fake_and_client().await;
    fake.seed_users(30);
    fake.inject_on(&Target::route("GET /users?page=2"), [Fault::Garbage]);
    assert!(client.users_page(page(1, 10)).await.is_ok());
    let error = client.users_page(page(2, 10)).await.unwrap_err();
    assert!(
        matches!(
            error,
            TovutiError::Decode {
                endpoint: "users.list",
                ..
            }
        ),
        "{error:?}"
    );
    let again = client.users_page(page(2, 10)).await.unwrap();
    assert_eq!(again.items.len(), 10, "the page reads when asked again");

    let (base, _) = canned(json!({ "items": [] })).await;
    let error = client_at(&base, defaults()).users_page(page(1, 10)).await;
    let Err(TovutiError::Decode { detail, .. }) = error else {
        panic!("{error:?}");
    };
    assert!(detail.contains("`data`"), "{detail}");
}

#[tokio::test]
async fn refusals_and_silence_are_the_usual_retryable_errors() {
    let (fake, client) = fake_and_client().await;
    fake.seed_users(5);
    let progress = Target::route("GET /users/courseProgress");
    fake.inject_on(&progress, [Fault::Status(500), Fault::Status(503)]);
    fake.inject_on(&progress, [Fault::RateLimited(Duration::from_secs(7))]);
    let error = client.progress_page(page(1, 10)).await.unwrap_err();
    assert_eq!((error.status(), error.is_retryable()), (Some(500), true));
    let error = client.progress_page(page(1, 10)).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    let error = client.awards_page(page(1, 10)).await;
    assert!(error.is_ok(), "the awards list is not targeted: {error:?}");
    let error = client.progress_page(page(1, 10)).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));

    fake.inject_on(&Target::route("GET /users"), [Fault::Hang]);
    let impatient =
        TovutiClient::new(&fake.base_url(), TOKEN.into(), Duration::from_millis(300)).unwrap();
    let error = impatient.users_page(page(1, 10)).await.unwrap_err();
    assert!(matches!(error, TovutiError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn changed_since_is_sent_only_when_a_parameter_is_configured() {
    let (fake, full_scans) = fake_and_client().await;
    let t0: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    let t1: Timestamp = "2026-03-02T00:00:00Z".parse().unwrap();
    fake.set_clock(Some(t0));
    let users = fake.seed_users(20);
    fake.set_clock(Some(t1));
    assert!(fake.update_user_name(users.start + 3, "Renamed"));
    let since = PageRequest {
        changed_since: Some(t1),
        ..page(1, 50)
    };

    let everyone = full_scans.users_page(since).await.unwrap();
    assert_eq!(everyone.items.len(), 20);

    let lists = TovutiListsConfig {
        changed_since_param: "updatedSince".into(),
        ..defaults()
    };
    let incremental = client_at(&fake.base_url(), lists);
    let changed = incremental.users_page(since).await.unwrap();
    assert_eq!(ids(&changed), [users.start + 3]);
    assert_eq!(changed.items[0].name.as_deref(), Some("Renamed"));
    let unbounded = incremental.users_page(page(1, 50)).await.unwrap();
    assert_eq!(unbounded.items.len(), 20);

    let (base, queries) = canned(json!({ "data": [] })).await;
    let lists = TovutiListsConfig {
        changed_since_param: "modifiedAfter".into(),
        ..defaults()
    };
    client_at(&base, lists).awards_page(since).await.unwrap();
    let sent = queries.lock().unwrap().clone();
    assert_eq!(
        sent,
        ["page=1&pageSize=50&modifiedAfter=2026-03-02T00%3A00%3A00Z"]
    );
}
