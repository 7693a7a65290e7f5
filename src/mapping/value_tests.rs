//! Every field type and its awkward inputs: zero-dates, loose booleans, phones with and
//! without country codes, several date spellings.

use super::*;
use serde_json::json;

fn opts() -> TypeOptions<'static> {
    TypeOptions {
        phone_country: phonenumber::country::Id::US,
        list_separator: ",",
    }
}

fn norm(ty: FieldType, raw: &Value) -> Result<Option<Value>, ConvertError> {
    normalize(ty, raw, opts())
}

#[test]
fn blank_null_and_zero_dates_are_missing_for_every_type() {
    for ty in [
        FieldType::String,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Number,
        FieldType::Bool,
        FieldType::List,
    ] {
        for raw in [
            json!(null),
            json!(""),
            json!("   "),
            json!([]),
            json!("0000-00-00"),
            json!("0000-00-00 00:00:00"),
        ] {
            assert_eq!(norm(ty, &raw), Ok(None), "{ty:?} {raw}");
        }
    }
}

#[test]
fn strings_keep_their_text_and_stringify_scalars() {
    assert_eq!(
        norm(FieldType::String, &json!(" Acme ")),
        Ok(Some(json!(" Acme ")))
    );
    assert_eq!(norm(FieldType::String, &json!(42)), Ok(Some(json!("42"))));
    assert!(matches!(
        norm(FieldType::String, &json!({"a": 1})),
        Err(ConvertError::Shape { .. })
    ));
}

#[test]
fn emails_are_trimmed_and_lower_cased() {
    assert_eq!(
        norm(FieldType::Email, &json!("  JohnDeo@Gmail.COM ")),
        Ok(Some(json!("johndeo@gmail.com")))
    );
    assert!(norm(FieldType::Email, &json!("not-an-email")).is_err());
    assert!(norm(FieldType::Email, &json!("a@b@c")).is_err());
}

#[test]
fn phones_with_and_without_country_codes_become_e164() {
    assert_eq!(
        norm(FieldType::Phone, &json!("(415) 555-0132")),
        Ok(Some(json!("+14155550132")))
    );
    assert_eq!(
        norm(FieldType::Phone, &json!("+44 20 7946 0958")),
        Ok(Some(json!("+442079460958")))
    );
    assert_eq!(
        norm(FieldType::Phone, &json!("+919509597501")),
        Ok(Some(json!("+919509597501")))
    );
    assert!(matches!(
        norm(FieldType::Phone, &json!("12")),
        Err(ConvertError::Phone { .. })
    ));
    assert!(norm(FieldType::Phone, &json!("call me")).is_err());
}

#[test]
fn phones_use_the_default_country_when_none_is_given() {
    let uk = TypeOptions {
        phone_country: phonenumber::country::Id::GB,
        list_separator: ",",
    };
    assert_eq!(
        normalize(FieldType::Phone, &json!("020 7946 0958"), uk),
        Ok(Some(json!("+442079460958")))
    );
}

#[test]
fn dates_keep_the_calendar_day_as_written() {
    assert_eq!(
        norm(FieldType::Date, &json!("2000-01-05")),
        Ok(Some(json!("2000-01-05")))
    );
    assert_eq!(
        norm(FieldType::Date, &json!("2000-01-05T00:00:00.000Z")),
        Ok(Some(json!("2000-01-05")))
    );
    assert_eq!(
        norm(FieldType::Date, &json!("2000-01-05 23:59:59")),
        Ok(Some(json!("2000-01-05")))
    );
    assert!(norm(FieldType::Date, &json!("05/01/2000")).is_err());
    assert!(norm(FieldType::Date, &json!("2000-13-01")).is_err());
}

#[test]
fn datetimes_become_utc_whole_seconds() {
    assert_eq!(
        norm(FieldType::Datetime, &json!("2023-09-25T16:00:00+05:30")),
        Ok(Some(json!("2023-09-25T10:30:00Z")))
    );
    assert_eq!(
        norm(FieldType::Datetime, &json!("2021-11-26T12:41:02.193Z")),
        Ok(Some(json!("2021-11-26T12:41:02Z")))
    );
    assert_eq!(
        norm(FieldType::Datetime, &json!("2024-01-02 03:04:05")),
        Ok(Some(json!("2024-01-02T03:04:05Z")))
    );
    assert_eq!(
        norm(FieldType::Datetime, &json!("2024-01-02")),
        Ok(Some(json!("2024-01-02T00:00:00Z")))
    );
    assert_eq!(
        norm(FieldType::Datetime, &json!(1_700_000_000_000_i64)),
        Ok(Some(json!("2023-11-14T22:13:20Z")))
    );
    assert_eq!(
        norm(FieldType::Datetime, &json!(1_700_000_000)),
        Ok(Some(json!("2023-11-14T22:13:20Z")))
    );
    assert!(norm(FieldType::Datetime, &json!("yesterday")).is_err());
}

#[test]
fn numbers_compare_equal_whatever_their_spelling() {
    assert_eq!(norm(FieldType::Number, &json!("5")), Ok(Some(json!(5))));
    assert_eq!(norm(FieldType::Number, &json!(5.0)), Ok(Some(json!(5))));
    assert_eq!(
        norm(FieldType::Number, &json!(" 2.5 ")),
        Ok(Some(json!(2.5)))
    );
    assert!(norm(FieldType::Number, &json!("five")).is_err());
}

#[test]
fn booleans_are_read_leniently() {
    for yes in [
        json!(true),
        json!(1),
        json!("1"),
        json!("yes"),
        json!("TRUE"),
        json!("on"),
    ] {
        assert_eq!(norm(FieldType::Bool, &yes), Ok(Some(json!(true))), "{yes}");
    }
    for no in [
        json!(false),
        json!(0),
        json!("0"),
        json!("No"),
        json!("false"),
    ] {
        assert_eq!(norm(FieldType::Bool, &no), Ok(Some(json!(false))), "{no}");
    }
    assert!(norm(FieldType::Bool, &json!("maybe")).is_err());
    assert!(norm(FieldType::Bool, &json!(2)).is_err());
}

#[test]
fn lists_come_from_arrays_or_separated_text() {
    assert_eq!(
        norm(FieldType::List, &json!("a, b,,c ")),
        Ok(Some(json!(["a", "b", "c"])))
    );
    assert_eq!(
        norm(FieldType::List, &json!([" a", 2, ""])),
        Ok(Some(json!(["a", "2"])))
    );
    let semi = TypeOptions {
        phone_country: phonenumber::country::Id::US,
        list_separator: ";",
    };
    assert_eq!(
        normalize(FieldType::List, &json!("x;y"), semi),
        Ok(Some(json!(["x", "y"])))
    );
}

#[test]
fn a_conversion_error_names_the_defect_never_the_value() {
    // The message reaches logs and the event log, where personal data must not go.
    let cases = [
        (
            FieldType::Email,
            json!("Grace Hopper <grace.pii2@example.com>"),
        ),
        (FieldType::Phone, json!("Grace 555 0199 ext grace")),
        (FieldType::Phone, json!("+1 555 0199 0199 0199 0199")),
        (FieldType::Date, json!("Grace's birthday")),
        (FieldType::Datetime, json!("Grace at noon")),
        (FieldType::Number, json!("Grace")),
        (FieldType::Bool, json!("Grace")),
        (FieldType::Bool, json!(5550199)),
        (FieldType::String, json!({ "name": "Grace" })),
    ];
    for (ty, raw) in cases {
        let error = norm(ty, &raw).expect_err("the value does not convert");
        for text in [error.to_string(), format!("{error:?}")] {
            let lower = text.to_lowercase();
            assert!(
                !lower.contains("grace") && !lower.contains("0199"),
                "{ty:?}: {text}"
            );
        }
    }
}
