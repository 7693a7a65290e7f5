use super::*;
use crate::config::OptionalSecret;
use crate::platforms::tovuti::client::CatalogKind;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use crate::sandbox::tovuti::FakeTovuti;
use crate::verify::needs::tovuti_needs;

const TOVUTI_TOKEN: &str = "4|check-token";

fn config(fake: &FakeGhl, token: String) -> Config {
    let mut config = Config::defaults();
    config.ghl.base_url = fake.base_url();
    config.ghl.location_id = "loc-1".into();
    config.ghl.token = OptionalSecret::new(token);
    config
}

/// A fake Tovuti holding every record the shipped mapping names, and `config` pointed at it.
async fn with_tovuti(config: &mut Config) -> FakeTovuti {
    let fake = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    let src = Source::new(mapping::EXAMPLE_NAME, mapping::EXAMPLE);
    let m = mapping::load(src.file, src.text).unwrap();
    for (n, need) in tovuti_needs(&m, src).into_iter().enumerate() {
        let id = need.id.unwrap_or(1000 + n as u64);
        let title = need.name.as_deref().unwrap_or("record");
        match need.kind {
            CatalogKind::CustomFields => fake.insert_custom_field(id, title),
            CatalogKind::Groups => fake.insert_group(id, title),
            CatalogKind::Courses => fake.insert_course(id, title),
        }
    }
    config.tovuti.base_url = fake.base_url();
    config.tovuti.token = OptionalSecret::new(TOVUTI_TOKEN);
    fake
}

async fn add_contact(fake: &FakeGhl) {
    let mut config = config(fake, fake.issue_token("loc-1", ALL_SCOPES));
    config.ghl.retry_attempts = 1;
    let ghl = connect(&config).await.unwrap();
    let input = crate::platforms::ghl::client::ContactInput {
        email: Some("sample@example.com".into()),
        ..Default::default()
    };
    ghl.create_contact(&input).await.unwrap();
}

#[tokio::test]
async fn check_reports_each_capability_and_the_limits_it_saw() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", &["contacts.readonly"]);
    let report = check(&config(&fake, token), None).await.unwrap();
    let text = render(&report, false);
    assert!(!report.passed(true));
    assert!(text.contains("contacts.search"), "{text}");
    assert!(
        text.contains("forbidden (missing scope contacts.write)"),
        "{text}"
    );
    assert!(
        text.contains("forbidden (missing scope locations/customFields.readonly)"),
        "{text}"
    );
    assert!(text.contains("rate limit: "), "{text}");
    assert!(
        text.ends_with("some needed capabilities do not work\n"),
        "{text}"
    );
}

#[tokio::test]
async fn check_passes_when_both_platforms_have_everything_the_mapping_needs() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    add_contact(&fake).await;
    let mut config = config(&fake, fake.issue_token("loc-1", ALL_SCOPES));
    let _tovuti = with_tovuti(&mut config).await;
    let report = check(&config, None).await.unwrap();
    let text = render(&report, false);
    assert!(report.passed(false), "{text}");
    assert!(
        text.contains("(Intro to Sales): ok, `lms.courses[0].course_id`"),
        "{text}"
    );
    assert!(
        text.ends_with("everything the mapping needs works\n"),
        "{text}"
    );
}

#[tokio::test]
async fn an_empty_location_is_not_verified_and_fails_unless_allowed() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let mut config = config(&fake, fake.issue_token("loc-1", ALL_SCOPES));
    let _tovuti = with_tovuti(&mut config).await;
    let report = check(&config, None).await.unwrap();
    let text = render(&report, false);
    assert!(!report.passed(false), "{text}");
    assert!(report.passed(true), "{text}");
    assert!(
        text.contains("NOT verified: contacts.get, tasks.list"),
        "{text}"
    );
    assert!(
        text.contains("NOT VERIFIED (no contact to sample)"),
        "{text}"
    );
}

#[tokio::test]
async fn appointment_rules_need_calendar_scopes_and_a_401_scope_answer_names_the_scope() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    fake.refuse_scopes_with_401();
    add_contact(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let text = "version = 1\n[lms.event_registered]\ncalendar_id = \"cal\"\ntitle = \"t\"\n";
    std::fs::write(&path, text).unwrap();
    let no_calendars = [
        "contacts.readonly",
        "contacts.write",
        "locations/customFields.readonly",
    ];
    let mut config = config(&fake, fake.issue_token("loc-1", &no_calendars));
    config.mapping.file = path.display().to_string();
    let report = check(&config, None).await.unwrap();
    let text = render(&report, true);
    assert!(!report.passed(true), "{text}");
    assert!(
        text.contains("forbidden (missing scope calendars/events.write)"),
        "{text}"
    );
    assert!(
        text.contains("forbidden (missing scope calendars/events.readonly)"),
        "{text}"
    );
    assert!(!text.contains("unauthorized"), "{text}");
}

#[tokio::test]
async fn a_token_of_another_location_is_reported_as_such() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let report = check(&config(&fake, fake.issue_token("loc-2", ALL_SCOPES)), None)
        .await
        .unwrap();
    let text = render(&report, true);
    assert!(
        text.contains("forbidden (no access to this location)"),
        "{text}"
    );
}

#[tokio::test]
async fn tovuti_problems_name_tovuti_and_the_mapping_line() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    add_contact(&fake).await;
    let mut config = config(&fake, fake.issue_token("loc-1", ALL_SCOPES));
    let _tovuti = with_tovuti(&mut config).await;
    let mut lacking = config.clone();
    let empty = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    lacking.tovuti.base_url = empty.base_url();
    let text = render(&check(&lacking, None).await.unwrap(), false);
    let line = Source::new(mapping::EXAMPLE_NAME, mapping::EXAMPLE).locate(
        "lms.courses",
        Some(0),
        Some("course"),
    );
    let expected = format!(
        "{}:{line}: `lms.courses[0].course_id`: Tovuti has no course named \"Intro to Sales\"",
        mapping::EXAMPLE_NAME
    );
    assert!(text.contains(&expected), "{text}");

    config.tovuti.token = OptionalSecret::new("4|revoked");
    let report = check(&config, None).await.unwrap();
    let text = render(&report, false);
    assert!(!report.passed(true), "{text}");
    assert!(
        text.contains("problem: tovuti token: unauthorized"),
        "{text}"
    );
}

#[tokio::test]
async fn check_without_a_location_says_which_setting_is_missing() {
    let error = check(&Config::defaults(), None).await.unwrap_err();
    assert!(error.to_string().contains("ghl.location_id"));
}
