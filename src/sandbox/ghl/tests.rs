use serde_json::{Value, json};

use super::*;

const LOC: &str = "loc-1";

async fn fake() -> FakeGhl {
    FakeGhl::start(FakeSettings::default()).await.unwrap()
}

fn call(token: &str, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .header("Version", VERSION_CONTACTS)
}

#[tokio::test]
async fn creating_a_contact_answers_201_and_reads_back_custom_fields_as_id_value() {
    let fake = fake().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let body = json!({
        "locationId": LOC, "email": "Ada@Example.com", "firstName": "Ada",
        "customFields": [{ "key": "contact.level", "field_value": "gold" }],
    });
    let response = call(
        &token,
        reqwest::Method::POST,
        format!("{}/contacts/", fake.base_url()),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-ratelimit-max"], "100");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "99");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["contact"]["emailLowerCase"], "ada@example.com");
    assert_eq!(
        created["contact"]["customFields"],
        json!([{ "id": "cf_contact_level", "value": "gold" }])
    );
}

#[tokio::test]
async fn a_second_contact_with_the_same_email_is_refused_400_with_the_existing_id() {
    let fake = fake().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let url = format!("{}/contacts/", fake.base_url());
    let body = json!({ "locationId": LOC, "email": "a@b.co" });
    let first: Value = call(&token, reqwest::Method::POST, url.clone())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = call(&token, reqwest::Method::POST, url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 400);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["meta"]["contactId"], first["contact"]["id"]);
    assert_eq!(second["meta"]["matchingField"], "email");
}

#[tokio::test]
async fn bad_tokens_missing_scopes_and_missing_version_get_ghl_envelopes() {
    let fake = fake().await;
    let read_only = fake.issue_token(LOC, &["contacts.readonly"]);
    let url = format!("{}/contacts/", fake.base_url());
    let body = json!({ "locationId": LOC });
    let unauthorized = call("nope", reqwest::Method::POST, url.clone())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let envelope: Value = unauthorized.json().await.unwrap();
    assert_eq!(envelope["statusCode"], 401);
    assert_eq!(envelope["error"], "Unauthorized");
    let forbidden = call(&read_only, reqwest::Method::POST, url.clone())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let no_version = reqwest::Client::new()
        .post(url)
        .bearer_auth(&read_only)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 422);
    let envelope: Value = no_version.json().await.unwrap();
    assert!(envelope["message"].is_array(), "{envelope}");
}

#[tokio::test]
async fn a_task_without_its_required_fields_is_422() {
    let fake = fake().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let base = fake.base_url();
    let contact: Value = call(&token, reqwest::Method::POST, format!("{base}/contacts/"))
        .json(&json!({ "locationId": LOC }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = contact["contact"]["id"].as_str().unwrap();
    let task_url = format!("{base}/contacts/{id}/tasks");
    let bad = call(&token, reqwest::Method::POST, task_url.clone())
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let good = call(&token, reqwest::Method::POST, task_url)
        .json(&json!({ "title": "x", "dueDate": "2030-01-01T00:00:00.000Z", "completed": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 201);
}

#[tokio::test(start_paused = true)]
async fn the_101st_request_in_ten_seconds_gets_429_with_retry_after() {
    let fake = fake().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let url = format!("{}/contacts/missing", fake.base_url());
    for _ in 0..100 {
        let r = call(&token, reqwest::Method::GET, url.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    let limited = call(&token, reqwest::Method::GET, url)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_refresh_token_works_once() {
    let fake = fake().await;
    let refresh = fake.issue_refresh_token(LOC, ALL_SCOPES);
    let form = [
        ("client_id", "fake-client-id"),
        ("client_secret", "fake-client-secret"),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let url = format!("{}/oauth/token", fake.base_url());
    let first = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let pair: Value = first.json().await.unwrap();
    assert_ne!(pair["refresh_token"], refresh.as_str());
    let again = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(fake.token_endpoint_calls(), 2);
}

#[tokio::test]
async fn injected_faults_are_served_in_order_then_normal_answers_resume() {
    let fake = fake().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    fake.inject([Fault::Status(503), Fault::Reset]);
    let url = format!("{}/contacts/missing", fake.base_url());
    let first = call(&token, reqwest::Method::GET, url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 503);
    let reset = call(&token, reqwest::Method::GET, url.clone()).send().await;
    let broken = match reset {
        Err(error) => error.is_request(),
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(broken, "a reset must fail the exchange");
    let normal = call(&token, reqwest::Method::GET, url)
        .send()
        .await
        .unwrap();
    assert_eq!(normal.status(), 404);
}
