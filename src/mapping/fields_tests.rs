//! Reading and writing the field pairs, and the properties echo suppression relies on: both-way
//! fields survive GHL -> Tovuti -> GHL, and one person fingerprints alike from either side.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::mapping::fingerprint::fingerprint;
use crate::mapping::load;

/// Every type, with GHL custom fields named by id so both sides can be read.
const BOTH_WAYS: &str = r#"
version = 1
[name]
tovuti = "name"
[[fields]]
ghl = "email"
tovuti = "email"
type = "email"
[[fields]]
ghl = "phone"
tovuti = { field_id = 23 }
type = "phone"
[[fields]]
ghl = "dateOfBirth"
tovuti = { field_id = 26 }
type = "date"
[[fields]]
ghl = "companyName"
tovuti = { field_id = 22 }
transforms = ["squish"]
[[fields]]
ghl = { id = "statusId", key = "contact.lms_status" }
tovuti = "status"
map = { active = "Active", disabled = "Disabled" }
[[fields]]
ghl = { id = "optinId" }
tovuti = { field_id = 30 }
type = "bool"
[[fields]]
ghl = { id = "interestsId" }
tovuti = { field_id = 31 }
type = "list"
[[fields]]
ghl = { id = "scoreId" }
tovuti = { field_id = 32 }
type = "number"
[[fields]]
ghl = { id = "seenId" }
tovuti = { field_id = 33 }
type = "datetime"
"#;

fn mapping() -> Mapping {
    load("both.toml", BOTH_WAYS).unwrap_or_else(|e| panic!("{e}"))
}

fn contact(v: Value) -> Contact {
    serde_json::from_value(v).unwrap()
}

fn user(v: Value) -> User {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_value_that_does_not_convert_is_reported_and_the_rest_still_mapped() {
    let m = mapping();
    let c = contact(json!({"id": "c", "email": "A@B.com", "phone": "call Grace",
                           "customFields": [{"id": "optinId", "value": "Grace says maybe"},
                                            {"id": "statusId", "value": "Grace Hopper"}]}));
    let (state, problems) = from_ghl(&m, &c);
    assert_eq!(state.get("email=email"), Some(&json!("a@b.com")));
    let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "phone=field:23",
            "contact.lms_status=status",
            "optinId=field:30"
        ]
    );
    // Problems are logged: they say what is wrong, never quote the value.
    for problem in &problems {
        assert!(!problem.message.contains("Grace"), "{problem:?}");
    }
}

#[test]
fn custom_fields_missing_on_one_side_are_absent_not_errors() {
    let m = mapping();
    let u = user(
        json!({"id": 1, "name": "Cher", "customFields": [{"field_id": 22, "value": "0000-00-00"}]}),
    );
    let (state, problems) = from_tovuti(&m, &u);
    assert!(problems.is_empty());
    assert_eq!(state.keys().collect::<Vec<_>>(), ["name"]);
    // A name-only user: first name only, last name written empty.
    let out = to_ghl(&m, &state, &[NAME.to_owned()]);
    assert_eq!(out.standard["firstName"], json!("Cher"));
    assert_eq!(out.standard["lastName"], json!(""));
}

#[test]
fn missing_policies_clear_or_default_the_target() {
    let text = format!(
        "{BOTH_WAYS}\n[[fields]]\nghl = \"city\"\ntovuti = {{ field_id = 40 }}\nmissing = \"clear\"\n\
         [[fields]]\nghl = \"source\"\ntovuti = {{ field_id = 41 }}\nmissing = \"default\"\ndefault = \"LMS\"\n"
    );
    let m = load("m.toml", &text).unwrap();
    let (state, _) = from_tovuti(&m, &user(json!({"id": 1})));
    assert_eq!(state.get("city=field:40"), Some(&Value::Null));
    assert_eq!(state.get("source=field:41"), Some(&json!("LMS")));
    let labels = changed(&m, true, &state, None);
    let out = to_ghl(&m, &state, &labels);
    assert_eq!(out.standard.get("city"), Some(&Value::Null));
    assert_eq!(out.standard.get("source"), Some(&json!("LMS")));
}

#[test]
fn lists_are_written_as_arrays_to_ghl_and_text_to_tovuti() {
    let m = mapping();
    let (state, _) = from_ghl(
        &m,
        &contact(json!({"id": "c", "customFields": [{"id": "interestsId", "value": ["a", "b"]}]})),
    );
    let labels = vec!["interestsId=field:31".to_owned()];
    let mut out = TovutiFields::from_known(None);
    to_tovuti(&m, &state, &labels, &mut out);
    assert_eq!(out.custom_fields[0]["value"], json!("a,b"));
    assert!(!out.custom_fields_complete);
    let ghl = to_ghl(&m, &state, &labels);
    assert_eq!(ghl.custom_fields[0].field_value, json!(["a", "b"]));
}

/// One person, spelled as each platform spells it.
#[derive(Debug, Clone)]
struct Person {
    first: Vec<String>,
    last: Vec<String>,
    email: String,
    phone: Option<usize>,
    dob: Option<(i16, i8, i8)>,
    company: Vec<String>,
    active: bool,
    optin: Option<bool>,
    interests: Vec<String>,
    score: Option<i32>,
    /// Epoch seconds after 2001: GHL sends epoch milliseconds, which `datetime` tells from
    /// seconds by size.
    seen: Option<i64>,
}

const PHONES: [(&str, &str); 3] = [
    ("+14155550132", "(415) 555-0132"),
    ("+442079460958", "+44 20 7946 0958"),
    ("+919509597501", "+91 95095 97501"),
];

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][a-z]{0,7}"
}

fn person() -> impl Strategy<Value = Person> {
    let names = (
        prop::collection::vec(word(), 1..3),
        prop::collection::vec(word(), 0..3),
    );
    let contact = (
        "[a-z]{1,8}@[a-z]{1,8}\\.com",
        prop::option::of(0..3usize),
        prop::option::of((1950i16..2010, 1i8..13, 1i8..29)),
    );
    let profile = (
        prop::collection::vec(word(), 0..3),
        any::<bool>(),
        prop::option::of(any::<bool>()),
    );
    let more = (
        prop::collection::vec(word(), 0..3),
        prop::option::of(-1000i32..1000),
        prop::option::of(1_000_000_000i64..4_000_000_000),
    );
    (names, contact, profile, more).prop_map(
        |(
            (first, last),
            (email, phone, dob),
            (company, active, optin),
            (interests, score, seen),
        )| Person {
            first,
            last,
            email,
            phone,
            dob,
            company,
            active,
            optin,
            interests,
            score,
            seen,
        },
    )
}

fn ghl_of(p: &Person) -> Contact {
    let mut custom =
        vec![json!({"id": "statusId", "value": if p.active { "Active" } else { "Disabled" }})];
    if let Some(o) = p.optin {
        custom.push(json!({"id": "optinId", "value": o}));
    }
    custom.push(json!({"id": "interestsId", "value": p.interests}));
    if let Some(s) = p.score {
        custom.push(json!({"id": "scoreId", "value": s}));
    }
    if let Some(s) = p.seen {
        custom.push(json!({"id": "seenId", "value": s * 1000}));
    }
    contact(json!({
        "id": "c", "firstName": p.first.join(" "), "lastName": p.last.join(" "),
        "email": format!(" {} ", p.email.to_uppercase()),
        "phone": p.phone.map(|i| PHONES[i].0),
        "dateOfBirth": p.dob.map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}T00:00:00.000Z")),
        "companyName": p.company.join("   "),
        "customFields": custom,
    }))
}

fn tovuti_of(p: &Person) -> User {
    let seen = p
        .seen
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string());
    user(json!({
        "id": 7, "name": format!("{}  {}", p.first.join("  "), p.last.join(" ")),
        "email": p.email, "status": if p.active { "active" } else { "disabled" },
        "customFields": [
            {"field_id": 23, "value": p.phone.map_or("", |i| PHONES[i].1)},
            {"field_id": 26, "value": p.dob.map_or("0000-00-00".to_owned(), |(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))},
            {"field_id": 22, "value": p.company.join(" ")},
            {"field_id": 30, "value": p.optin.map_or("", |o| if o { "1" } else { "0" })},
            {"field_id": 31, "value": p.interests.join(", ")},
            {"field_id": 32, "value": p.score.map(|s| s.to_string())},
            {"field_id": 33, "value": seen},
        ],
    }))
}

fn all_labels(m: &Mapping) -> Vec<String> {
    let mut l: Vec<String> = m.file.fields.iter().map(label).collect();
    l.push(NAME.to_owned());
    l
}

/// What the writers produce, read back as the platform would send it.
fn written_to_tovuti(m: &Mapping, state: &Canonical) -> User {
    let mut out = TovutiFields::from_known(None);
    to_tovuti(m, state, &all_labels(m), &mut out);
    let mut obj = serde_json::Map::new();
    obj.insert("id".to_owned(), json!(7));
    obj.extend(out.core);
    obj.insert("customFields".to_owned(), json!(out.custom_fields));
    user(Value::Object(obj))
}

fn written_to_ghl(m: &Mapping, state: &Canonical) -> Contact {
    let out = to_ghl(m, state, &all_labels(m));
    let mut obj = serde_json::Map::new();
    obj.insert("id".to_owned(), json!("c"));
    obj.extend(out.standard);
    let custom: Vec<Value> = out
        .custom_fields
        .iter()
        .map(|f| json!({"id": f.id, "value": f.field_value}))
        .collect();
    obj.insert("customFields".to_owned(), json!(custom));
    contact(Value::Object(obj))
}

proptest! {
    #[test]
    fn the_fingerprint_is_the_same_whichever_side_it_is_read_from(p in person()) {
        let m = mapping();
        let (from_g, pg) = from_ghl(&m, &ghl_of(&p));
        let (from_t, pt) = from_tovuti(&m, &tovuti_of(&p));
        prop_assert!(pg.is_empty() && pt.is_empty(), "{pg:?} {pt:?}");
        prop_assert_eq!(&from_g, &from_t);
        prop_assert_eq!(fingerprint(&from_g), fingerprint(&from_t));
    }

    #[test]
    fn ghl_to_tovuti_to_ghl_is_stable_on_both_way_fields(p in person()) {
        let m = mapping();
        let (first, _) = from_ghl(&m, &ghl_of(&p));
        let (via_tovuti, _) = from_tovuti(&m, &written_to_tovuti(&m, &first));
        let (back, _) = from_ghl(&m, &written_to_ghl(&m, &via_tovuti));
        prop_assert_eq!(&first, &via_tovuti);
        prop_assert_eq!(&first, &back);
    }
}

#[test]
fn identity_fields_are_read_back_from_either_side() {
    let text = format!(
        "{BOTH_WAYS}\n[identity]\ntovuti_user_id_in_ghl = {{ id = \"tid\" }}\nghl_contact_id_in_tovuti = {{ field_id = 41 }}\n"
    );
    let m = load("m.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let c = contact(json!({"id": "c", "customFields": [{"id": "tid", "value": " 4211 "}]}));
    assert_eq!(tovuti_id_in_ghl(&m, &c), Some(4211));
    let u = user(json!({"id": 1, "customFields": [{"field_id": 41, "value": "c9"}]}));
    assert_eq!(ghl_id_in_tovuti(&m, &u).as_deref(), Some("c9"));
    assert_eq!(tovuti_id_in_ghl(&mapping(), &c), None);
}
