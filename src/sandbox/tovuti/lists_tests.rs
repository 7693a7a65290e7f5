use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;

const TOKEN: &str = "7|fake-lists-token";

async fn get(fake: &FakeTovuti, path_and_query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path_and_query}", fake.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn field(body: &Value, key: &str) -> Vec<Value> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].clone())
        .collect()
}

#[tokio::test]
async fn a_hundred_thousand_users_seed_fast_and_page_by_id() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let started = Instant::now();
    let ids = fake.seed_enrolled_users(100_000, &[30]);
    let seeding = started.elapsed();
    // Well under a second in release; a debug build gets slack.
    let limit = if cfg!(debug_assertions) { 3.0 } else { 0.5 };
    assert!(seeding.as_secs_f64() < limit, "{seeding:?}");
    assert_eq!((ids.start, ids.end), (FIRST_ID, FIRST_ID + 100_000));
    assert_eq!(fake.learning_counts(), (100_000, 0));

    let (status, last) = get(&fake, "/users?page=1000&pageSize=100").await;
    assert_eq!(status, 200);
    assert_eq!(field(&last, "id").len(), 100);
    assert_eq!(last["data"][99]["id"], FIRST_ID + 99_999);
    assert_eq!(
        last["data"][0]["email"],
        format!("learner{}@example.com", FIRST_ID + 99_900)
    );
    assert_eq!(last["data"][0]["enrolledCourseIds"], json!([30]));
    assert_eq!(last["total"], 100_000);
    let (_, beyond) = get(&fake, "/users?page=1001&pageSize=100").await;
    assert_eq!(beyond["data"], json!([]));
}

#[tokio::test]
async fn progress_rows_and_awards_list_in_key_order() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    fake.insert_course(31, "Forklifts");
    let users = fake.seed_users(2);
    let (ada, bob) = (users.start, users.start + 1);
    assert!(fake.enroll(bob, 31));
    assert!(fake.enroll(ada, 31));
    assert!(fake.enroll(ada, 30));
    assert!(!fake.enroll(9, 30), "no such user");
    fake.complete_course(bob, 31);
    fake.grant_award(ada, 502, "Badge");
    fake.grant_course_award(bob, 501, "Certificate", 31);

    assert_eq!(fake.user(ada).unwrap().enrolled_course_ids.len(), 2);
    let (_, rows) = get(&fake, "/users/courseProgress?pageSize=2").await;
    assert_eq!(field(&rows, "userId"), [json!(ada), json!(ada)]);
    assert_eq!(field(&rows, "courseId"), [json!(30), json!(31)]);
    assert_eq!(
        field(&rows, "courseTitle"),
        [Value::Null, json!("Forklifts")]
    );
    assert_eq!(field(&rows, "progress"), [json!(0.0), json!(0.0)]);
    let (_, rest) = get(&fake, "/users/courseProgress?page=2&pageSize=2").await;
    assert_eq!(field(&rest, "userId"), [json!(bob)]);
    assert_eq!(field(&rest, "completed"), [json!(true)]);
    assert!(rest["data"][0]["completedAt"].is_string());

    let (_, awards) = get(&fake, "/users/awards").await;
    assert_eq!(field(&awards, "id"), [json!(501), json!(502)]);
    assert_eq!(field(&awards, "courseId"), [json!(31), Value::Null]);
    assert_eq!(field(&awards, "userId"), [json!(bob), json!(ada)]);
}

#[tokio::test]
async fn enrolling_through_patch_creates_a_progress_row() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let id = fake.seed_users(1).start;
    let response = reqwest::Client::new()
        .patch(format!("{}/user/{id}", fake.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({ "enrolledCourseIds": [44] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, rows) = get(&fake, "/users/courseProgress").await;
    assert_eq!(field(&rows, "courseId"), [json!(44)]);
    assert_eq!(field(&rows, "progress"), [json!(0.0)]);
}

#[tokio::test]
async fn updated_since_lists_only_what_changed_from_that_instant() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let t0: Timestamp = "2026-04-01T00:00:00Z".parse().unwrap();
    let t1: Timestamp = "2026-04-01T00:10:00Z".parse().unwrap();
    fake.set_clock(Some(t0));
    let users = fake.seed_enrolled_users(5, &[30]);
    fake.grant_award(users.start, 1, "Old badge");
    fake.set_clock(Some(t1));
    fake.update_user_name(users.start + 1, "Grace");
    fake.set_progress(users.start + 2, 30, 60.0);
    fake.grant_award(users.start + 4, 2, "New badge");

    let since = "updatedSince=2026-04-01T00:05:00Z";
    let (_, changed) = get(&fake, &format!("/users?{since}")).await;
    assert_eq!(field(&changed, "id"), [json!(users.start + 1)]);
    assert_eq!(changed["total"], 1);
    let (_, rows) = get(&fake, &format!("/users/courseProgress?{since}")).await;
    assert_eq!(field(&rows, "userId"), [json!(users.start + 2)]);
    let (_, awards) = get(&fake, &format!("/users/awards?{since}")).await;
    assert_eq!(field(&awards, "id"), [json!(2)]);
    let (_, inclusive) = get(&fake, "/users?updatedSince=2026-04-01T00:10:00%2B00:00").await;
    assert_eq!(field(&inclusive, "id").len(), 1);
    let (_, all) = get(&fake, "/users?updatedSince=2026-04-01T00:00:00Z").await;
    assert_eq!(field(&all, "id").len(), 5);

    let (status, refusal) = get(&fake, "/users?updatedSince=yesterday").await;
    assert_eq!(status, 422);
    assert!(refusal["errors"]["updatedSince"].is_array());
}

#[tokio::test]
async fn a_fault_can_target_one_page_of_a_list() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    fake.seed_users(30);
    fake.inject_on(&Target::route("GET /users?page=3"), [Fault::Status(500)]);
    for page in 1..=2 {
        let (status, _) = get(&fake, &format!("/users?page={page}&pageSize=10")).await;
        assert_eq!(status, 200);
    }
    let (status, _) = get(&fake, "/users?pageSize=10&page=3").await;
    assert_eq!(status, 500);
    let (status, body) = get(&fake, "/users?pageSize=10&page=3").await;
    assert_eq!((status, field(&body, "id").len()), (200, 10));
    assert_eq!(fake.faults_injected(), 1);
}
