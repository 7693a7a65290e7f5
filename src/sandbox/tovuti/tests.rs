use reqwest::Method;
use serde_json::{Value, json};

use super::*;

const TOKEN: &str = "7|fake-tovuti-token";

async fn send(
    fake: &FakeTovuti,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn created_users_get_ids_from_1001_and_no_stored_password() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let body = json!({ "username": "ada", "email": "ada@example.com", "password": "pw" });
    let response = send(&fake, Method::POST, "/user", Some(body)).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["id"], FIRST_ID);
    assert_eq!(created["status"], "active");
    assert!(created.get("password").is_none());
    assert!(fake.user(FIRST_ID).unwrap().extra.get("password").is_none());
}

#[tokio::test]
async fn a_taken_username_is_refused_422_in_laravels_shape() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let mut existing = bare_user(5);
    existing.username = Some("Ada".into());
    fake.insert_user(existing);
    let response = send(
        &fake,
        Method::POST,
        "/user",
        Some(json!({ "username": "ada" })),
    )
    .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"]["username"][0],
        "The username has already been taken."
    );
    assert_eq!(fake.users().len(), 1);
}

#[tokio::test]
async fn unknown_users_answer_404_with_tovutis_wording() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let response = send(&fake, Method::GET, "/user/42", None).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "User id = 42 not found");
}

#[tokio::test]
async fn requests_without_the_token_are_refused_401_and_still_logged() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/users?email=a@b.co", fake.base_url()))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(fake.requests(), vec![(Method::GET, "/users".to_owned())]);
    fake.reset_log();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn queued_failures_answer_their_status_the_given_number_of_times() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    fake.fail_next(503, 2);
    for _ in 0..2 {
        let response = send(&fake, Method::GET, "/users", None).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    assert_eq!(send(&fake, Method::GET, "/users", None).await.status(), 200);
}

#[tokio::test]
async fn a_tenant_refuses_custom_fields_groups_and_courses_it_lacks() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    fake.insert_user(bare_user(5));
    fake.define_only(Known {
        custom_fields: [22].into(),
        groups: [2].into(),
        courses: [].into(),
    });
    let body = json!({
        "customFields": [{"field_id": 22, "value": "x"}, {"field_id": 23, "value": "y"}],
        "userGroupIds": [2, 7],
    });
    let response = send(&fake, Method::PATCH, "/user/5", Some(body)).await;
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["message"],
        "The selected customFields.1.field_id is invalid. (and 1 more error)"
    );
    assert_eq!(
        answer["errors"]["userGroupIds.1"][0],
        "The selected userGroupIds.1 is invalid."
    );
    assert!(
        fake.user(5).unwrap().custom_fields.is_empty(),
        "nothing stored"
    );
    let known_only =
        json!({ "customFields": [{"field_id": 22, "value": "x"}], "userGroupIds": [2] });
    let response = send(&fake, Method::PATCH, "/user/5", Some(known_only)).await;
    assert_eq!(response.status(), 200);
}
