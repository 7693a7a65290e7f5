use super::*;
use crate::config::OptionalSecret;
use crate::mapping::value::FieldType;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use crate::sandbox::tovuti::FakeTovuti;
use crate::verify::provision::{field_name, ghl_data_type};

const TEXT: &str = "version = 1\n\n[identity]\ntovuti_user_id_in_ghl = { key = \"contact.tovuti_user_id\" }\n\n\
                    [[fields]]\nghl = { key = \"contact.score\" }\ntovuti = { field_id = 23 }\n\
                    type = \"number\"\ndirection = \"to_ghl\"\n\n\
                    [[fields]]\nghl = { id = \"OldId\", key = \"contact.birth_day\" }\n\
                    tovuti = { field_id = 24 }\ntype = \"date\"\n\n\
                    [[lms.courses]]\ncourse_id = 101\n";

fn config(ghl: &FakeGhl, tovuti: &FakeTovuti) -> Config {
    let mut config = Config::defaults();
    config.ghl.base_url = ghl.base_url();
    config.ghl.location_id = "loc-1".into();
    config.ghl.token = OptionalSecret::new(ghl.issue_token("loc-1", ALL_SCOPES));
    config.tovuti.base_url = tovuti.base_url();
    config.tovuti.token = OptionalSecret::new("8|p");
    config
}

async fn provision_text(config: &Config, apply: bool) -> Provisioned {
    let m = mapping::load("m.toml", TEXT).unwrap();
    provision(&m, Source::new("m.toml", TEXT), config, apply)
        .await
        .unwrap()
}

#[tokio::test]
async fn missing_fields_are_listed_then_created_once_with_their_types() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let tovuti = FakeTovuti::start("8|p").await.unwrap();
    tovuti.insert_custom_field(23, "Score");
    tovuti.insert_custom_field(24, "Birthday");
    tovuti.insert_course(101, "Intro");
    let config = config(&ghl, &tovuti);

    let listed = provision_text(&config, false).await;
    assert!(listed.created.is_empty());
    assert_eq!(listed.todo.len(), 3, "{listed:?}");
    assert!(ghl.custom_fields().is_empty());

    let applied = provision_text(&config, true).await;
    assert_eq!(applied.created.len(), 3, "{applied:?}");
    let mut fields: Vec<(String, String)> = ghl
        .custom_fields()
        .into_iter()
        .map(|(key, _, data_type)| (key, data_type))
        .collect();
    fields.sort();
    let expected = [
        ("contact.birth_day", "DATE"),
        ("contact.score", "NUMERICAL"),
        ("contact.tovuti_user_id", "TEXT"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(fields, expected);
    // The id the mapping named is not the new field's: the user is told to replace it.
    assert_eq!(applied.todo.len(), 1, "{applied:?}");
    assert!(applied.todo[0].contains("names id `OldId`"), "{applied:?}");

    let again = provision_text(&config, true).await;
    assert!(again.created.is_empty(), "{again:?}");
    assert!(again.todo.is_empty(), "{again:?}");
    assert_eq!(ghl.custom_fields().len(), 3);
}

#[tokio::test]
async fn what_tovuti_lacks_is_listed_for_an_admin_with_its_line() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let tovuti = FakeTovuti::start("8|p").await.unwrap();
    let done = provision_text(&config(&ghl, &tovuti), true).await;
    let course = done
        .todo
        .iter()
        .find(|l| l.contains("Tovuti has no course with id 101"))
        .unwrap();
    assert!(
        course.starts_with("m.toml:18: `lms.courses[0].course_id`"),
        "{course}"
    );
    assert!(course.contains("an admin creates it in Tovuti"), "{course}");
    assert!(
        done.todo
            .iter()
            .any(|l| l.contains("custom field with id 23"))
    );
}

#[test]
fn names_give_back_their_keys_and_types_follow_the_mapping() {
    assert_eq!(field_name("contact.job_title"), "Job Title");
    assert_eq!(field_name("contact.lms_status"), "Lms Status");
    assert_eq!(ghl_data_type(FieldType::Phone), "PHONE");
    assert_eq!(ghl_data_type(FieldType::Bool), "TEXT");
}
