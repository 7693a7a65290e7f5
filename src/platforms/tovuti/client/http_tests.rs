use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, json};

use super::*;
use crate::config::{Config, OptionalSecret, TovutiConfig};
use crate::sandbox::tovuti::{FIRST_ID, FakeTovuti, Fault, Target};

const TOKEN: &str = "12|abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";

async fn fake_and_client() -> (FakeTovuti, TovutiClient) {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let client = client_for(&fake, TOKEN);
    (fake, client)
}

fn client_for(fake: &FakeTovuti, token: &str) -> TovutiClient {
    TovutiClient::new(&fake.base_url(), token.into(), Duration::from_secs(5)).unwrap()
}

fn new_user(username: &str, email: &str) -> UserWrite {
    let mut write = UserWrite::default();
    write.core.insert("name".into(), json!("Ada Lovelace"));
    write.core.insert("username".into(), json!(username));
    write.core.insert("email".into(), json!(email));
    write
}

#[tokio::test]
async fn a_created_user_reads_back_with_its_parts_and_without_the_password() {
    let (fake, client) = fake_and_client().await;
    let mut field = Map::new();
    field.insert("field_id".into(), json!(19));
    field.insert("value".into(), json!("Ada"));
    let write = UserWrite {
        custom_fields: Some(vec![field]),
        user_group_ids: Some(vec![2]),
        enrolled_course_ids: Some(vec![30]),
        password: Some("Temp-pass-1".into()),
        ..new_user("ada", "ada@example.com")
    };

    let created = client.create_user(&write).await.unwrap();
    let read = client.get_user(created.id.0).await.unwrap().unwrap();

    assert_eq!(created.id.0, FIRST_ID);
    assert_eq!(read, created);
    assert_eq!(read.custom_fields[0].field_id.0, 19);
    assert_eq!(read.user_group_ids[0].0, 2);
    assert_eq!(read.enrolled_course_ids[0].0, 30);
    assert!(
        !serde_json::to_string(&read)
            .unwrap()
            .contains("Temp-pass-1")
    );
    let paths = [(Method::POST, "/user"), (Method::GET, "/user/1001")];
    let expected: Vec<_> = paths
        .iter()
        .map(|(m, p)| (m.clone(), (*p).to_owned()))
        .collect();
    assert_eq!(fake.requests(), expected);
}

#[tokio::test]
async fn users_are_found_by_email_ignoring_case_and_misses_are_none() {
    let (fake, client) = fake_and_client().await;
    client
        .create_user(&new_user("ada", "Ada@Example.com"))
        .await
        .unwrap();

    let found = client.find_user_by_email("ada@EXAMPLE.com").await.unwrap();
    let missing = client.find_user_by_email("bob@example.com").await.unwrap();
    let unknown_id = client.get_user(4242).await.unwrap();

    assert_eq!(found.map(|u| u.id.0), Some(FIRST_ID));
    assert_eq!(missing, None);
    assert_eq!(unknown_id, None);
    assert_eq!(fake.requests()[1], (Method::GET, "/users".to_owned()));
}

#[tokio::test]
async fn an_update_changes_only_the_parts_it_carries() {
    let (fake, client) = fake_and_client().await;
    let created = client
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    let write = UserWrite {
        user_group_ids: Some(vec![2, 51]),
        ..UserWrite::default()
    };

    let updated = client.update_user(created.id.0, &write).await.unwrap();

    assert_eq!(updated.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(updated.email.as_deref(), Some("ada@example.com"));
    let groups: Vec<u64> = updated.user_group_ids.iter().map(|g| g.0).collect();
    assert_eq!(groups, [2, 51]);
    assert_eq!(fake.user(created.id.0), Some(updated));
}

#[tokio::test]
async fn a_taken_username_is_a_permanent_422_with_tovutis_message() {
    let (_fake, client) = fake_and_client().await;
    client
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();

    let error = client
        .create_user(&new_user("ada", "other@example.com"))
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(422));
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("The username has already been taken.")
    );
}

#[tokio::test]
async fn a_503_is_retryable_and_carries_retry_after() {
    let (fake, client) = fake_and_client().await;
    fake.fail_next(503, 1);

    let error = client.get_user(1).await.unwrap_err();

    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(client.get_user(1).await.unwrap(), None);
}

#[tokio::test]
async fn a_wrong_token_is_a_401_that_never_shows_a_token() {
    let (fake, client) = fake_and_client().await;
    let wrong = "13|wrongwrongwrongwrongwrongwrongwrongwrong";
    let intruder = client_for(&fake, wrong);

    let error = intruder.find_user_by_email("a@b.co").await.unwrap_err();

    assert_eq!(error.status(), Some(401));
    assert_eq!(error.class(), ErrorClass::Unauthorized);
    assert!(!error.is_retryable());
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{intruder:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(wrong) && !text.contains(TOKEN), "{text}");
    }
}

#[tokio::test]
async fn an_unreachable_tenant_is_a_retryable_error_with_nothing_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let base = format!("http://{address}/api/v1");
    let client = TovutiClient::new(&base, TOKEN.into(), Duration::from_secs(5)).unwrap();

    let error = client.get_user(1).await.unwrap_err();

    assert!(
        matches!(error, TovutiError::Unreachable { .. }),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::Retryable);
    assert!(!error.may_have_applied());
}

#[test]
fn no_client_is_built_without_a_base_url_and_a_token() {
    let config = |base: &str, token: &str| TovutiConfig {
        base_url: base.to_owned(),
        token: OptionalSecret::new(token),
        timeout_ms: 30_000,
        custom_fields_path: "customFields".into(),
        groups_path: "userGroups".into(),
        courses_path: "courses".into(),
        lists: Config::defaults().tovuti.lists,
    };
    let none = TovutiClient::from_config(&config("", TOKEN)).unwrap();
    let no_token = TovutiClient::from_config(&config("https://api.tovuti.io/api/v1", "")).unwrap();
    let some = TovutiClient::from_config(&config("https://api.tovuti.io/api/v1", TOKEN)).unwrap();
    assert!(none.is_none() && no_token.is_none() && some.is_some());
    assert!(TovutiClient::new("not a url", TOKEN.into(), DEFAULT_TIMEOUT).is_err());
}

#[tokio::test]
async fn a_tenant_that_never_answers_is_a_retryable_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    // Accepts and holds connections without ever answering.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = TovutiClient::new(&base, TOKEN.into(), Duration::from_millis(200)).unwrap();

    let error = client.get_user(1).await.unwrap_err();

    silent.abort();
    assert_eq!(
        error,
        TovutiError::Timeout {
            endpoint: "user.get"
        }
    );
    assert!(error.is_retryable());
}

fn posts(fake: &FakeTovuti) -> usize {
    let requests = fake.requests();
    requests
        .iter()
        .filter(|(m, p)| *m == Method::POST && p == "/user")
        .count()
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_after_it_was_made_is_an_unknown_outcome() {
    let (fake, client) = fake_and_client().await;
    fake.inject_on(&Target::route("POST /user"), [Fault::AppliedThenReset]);

    let error = client
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap_err();

    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(error.to_string().contains("outcome unknown"), "{error}");
    assert!(error.is_retryable());
    assert_eq!(posts(&fake), 1);
    assert_eq!(fake.users().len(), 1, "Tovuti made the user");
}

#[tokio::test]
async fn a_create_that_timed_out_or_met_a_502_is_an_unknown_outcome() {
    let fake = FakeTovuti::start(TOKEN).await.unwrap();
    let client =
        TovutiClient::new(&fake.base_url(), TOKEN.into(), Duration::from_millis(200)).unwrap();
    let create = Target::route("POST /user");
    fake.inject_on(&create, [Fault::AppliedThenHang, Fault::Status(502)]);

    let timed_out = client
        .create_user(&new_user("ada", "ada@example.com"))
        .await;
    let proxied = client
        .create_user(&new_user("bob", "bob@example.com"))
        .await;

    for error in [timed_out.unwrap_err(), proxied.unwrap_err()] {
        assert!(error.is_outcome_unknown(), "{error:?}");
    }
    assert_eq!(posts(&fake), 2);
}

#[tokio::test]
async fn a_create_refused_or_an_update_cut_short_is_not_an_unknown_outcome() {
    let (fake, client) = fake_and_client().await;
    fake.inject_on(&Target::route("POST /user"), [Fault::Status(503)]);
    let refused = client
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(503));
    assert!(!refused.is_outcome_unknown());

    let made = client
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    fake.inject_on(&Target::route("PATCH /user/*"), [Fault::AppliedThenReset]);
    let cut = client
        .update_user(made.id.0, &UserWrite::default())
        .await
        .unwrap_err();
    assert!(matches!(cut, TovutiError::Connection { .. }), "{cut:?}");
}
