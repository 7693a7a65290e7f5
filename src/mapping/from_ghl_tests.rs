//! GHL → Tovuti plans for every official contact, note, task and appointment webhook example,
//! under the shipped example mapping.

use serde_json::json;

use crate::mapping::plan::{Incoming, Known, plan};
use crate::mapping::test_support::*;
use crate::platforms::ghl::payloads::Task;
use crate::platforms::tovuti::payloads::User;

fn linked(user: &User) -> Known<'_> {
    let mut known = Known::at(now());
    known.links.tovuti_user_id = Some(4211);
    known.links.ghl_contact_id = Some("nmFmQEsNgz6AVpgLVUJ0".to_owned());
    known.tovuti_user = Some(user);
    known
}

#[test]
fn every_official_example_plans_the_expected_actions_for_a_linked_user() {
    let ada = ada();
    let expected: &[(&str, &[&str])] = &[
        ("ContactCreate", &["patch_tovuti_user"]),
        ("ContactUpdate", &["patch_tovuti_user"]),
        ("ContactDndUpdate", &["patch_tovuti_user"]),
        ("ContactTagUpdate", &[]),
        ("ContactDelete", &["unlink"]),
        ("NoteCreate", &["patch_tovuti_user"]),
        ("NoteUpdate", &["patch_tovuti_user"]),
        ("NoteDelete", &[]),
        ("TaskCreate", &["patch_tovuti_user"]),
        ("TaskComplete", &["patch_tovuti_user"]),
        ("TaskDelete", &["patch_tovuti_user"]),
        // Appointments in 2023 are past at `now`, so the next-appointment summary stays.
        ("AppointmentCreate", &[]),
        ("AppointmentUpdate", &[]),
        ("AppointmentDelete", &[]),
    ];
    for (name, actions) in expected {
        let p = plan_ghl(name, &linked(&ada));
        assert_eq!(names(&p), *actions, "{name}: {p:#?}");
        assert!(p.problems.is_empty(), "{name}: {:?}", p.problems);
    }
}

#[test]
fn contact_changes_patch_the_user_with_the_full_custom_field_array() {
    let ada = ada();
    let p = plan_ghl("ContactUpdate", &linked(&ada));
    let ada_fields = [
        json!({"field_id": 19, "value": "Ada", "title": "First Name", "type": "text"}),
        json!({"field_id": 20, "value": "Lovelace", "title": "Last Name", "type": "text"}),
    ];
    assert_eq!(
        shapes(&p),
        vec![
            json!({"action": "patch_tovuti_user", "user": {"id": 4211}, "fields": {
            "core": {"email": "johndeo@gmail.comm", "name": "John Deo"},
            "customFields": [ada_fields[0], ada_fields[1],
                {"field_id": 23, "value": "+919509597501"},
                {"field_id": 22, "value": "Loram ipsum"},
                {"field_id": 26, "value": "2000-01-05"},
                {"field_id": 25, "value": "XYZ Corp"}],
            "custom_fields_complete": true}})
        ]
    );
    assert!(p.written_fingerprint.is_some());
}

#[test]
fn an_unlinked_contact_edit_plans_nothing_but_still_fingerprints() {
    let p = plan_ghl("ContactUpdate", &Known::at(now()));
    assert!(p.actions.is_empty());
    assert!(p.source_fingerprint.is_some());
    assert!(p.notes[0].contains("not linked"), "{:?}", p.notes);
}

#[test]
fn a_purchase_tag_creates_the_user_enrolls_and_groups_them() {
    let mut wh = ghl("ContactTagUpdate");
    let crate::platforms::ghl::GhlEvent::ContactTagUpdate(c) = &mut wh.event else {
        panic!()
    };
    c.tags.push("Purchased:Course-101".to_owned());
    let previous = vec![
        "id magna sed Lorem".to_owned(),
        "Duis dolor commodo aliqua".to_owned(),
    ];
    let mut known = Known::at(now());
    known.previous_ghl_tags = Some(&previous);
    let p = plan(
        &example(),
        Incoming::Ghl {
            event_id: "e1",
            webhook: &wh,
        },
        &known,
    );
    let actions = shapes(&p);
    assert_eq!(names(&p), ["create_tovuti_user"]);
    assert_eq!(actions[0]["email"], json!("johndeo@gmail.comm"));
    assert_eq!(actions[0]["group_ids"], json!([2, 7]));
    assert_eq!(actions[0]["enrolled_course_ids"], json!([101]));
    assert_eq!(actions[0]["fields"]["core"]["name"], json!("John Deo"));
}

fn with_tag(tag: Option<&str>) -> crate::platforms::ghl::GhlWebhook {
    let mut wh = ghl("ContactTagUpdate");
    let crate::platforms::ghl::GhlEvent::ContactTagUpdate(c) = &mut wh.event else {
        panic!()
    };
    c.tags.extend(tag.map(str::to_owned));
    wh
}

#[test]
fn a_known_user_is_enrolled_and_a_removed_tag_reverses_it() {
    let ada = ada();
    let m = example();
    let base = vec![
        "id magna sed Lorem".to_owned(),
        "Duis dolor commodo aliqua".to_owned(),
    ];
    let mut known = linked(&ada);
    known.previous_ghl_tags = Some(&base);
    let bought = with_tag(Some("purchased:course-101"));
    let p = plan(
        &m,
        Incoming::Ghl {
            event_id: "e1",
            webhook: &bought,
        },
        &known,
    );
    // Ada is already enrolled in 101 (enrolledCourseIds), so only the group is added.
    assert_eq!(
        shapes(&p),
        vec![json!({"action": "add_to_groups", "user": {"id": 4211}, "group_ids": [7]})]
    );

    let mut after = base.clone();
    after.push("purchased:course-101".to_owned());
    known.previous_ghl_tags = Some(&after);
    let p = plan(
        &m,
        Incoming::Ghl {
            event_id: "e2",
            webhook: &with_tag(None),
        },
        &known,
    );
    assert_eq!(names(&p), ["unenroll", "remove_from_groups"]);
}

#[test]
fn summaries_render_into_their_tovuti_fields() {
    let ada = ada();
    let p = plan_ghl("NoteCreate", &linked(&ada));
    let fields = &shapes(&p)[0]["fields"]["customFields"];
    assert_eq!(fields[2], json!({"field_id": 51, "value": "Loram ipsum"}));

    let open: Vec<Task> = vec![
        serde_json::from_value(
            json!({"id": "t0", "title": "Call back", "dueDate": "2021-01-01T00:00:00Z"}),
        )
        .unwrap(),
    ];
    let mut known = linked(&ada);
    known.ghl_open_tasks = Some(&open);
    let p = plan_ghl("TaskCreate", &known);
    assert_eq!(
        shapes(&p)[0]["fields"]["customFields"][2]["value"],
        json!("2 open: Call back; Loram ipsum")
    );
    let p = plan_ghl("TaskComplete", &known);
    assert_eq!(
        shapes(&p)[0]["fields"]["customFields"][2]["value"],
        json!("1 open: Call back")
    );

    let mut known = linked(&ada);
    known.now = "2023-09-01T00:00:00Z".parse().unwrap();
    let p = plan_ghl("AppointmentCreate", &known);
    assert_eq!(
        shapes(&p)[0]["fields"]["customFields"][2],
        json!({"field_id": 52, "value": "Appointment with GHL Dev team at 2023-09-25T16:00:00+05:30"})
    );
}

#[test]
fn contact_deletion_follows_the_configured_behaviour() {
    let text = include_str!("../../config/mapping.example.toml").replace(
        "contact_deleted = \"unlink\"",
        "contact_deleted = \"deactivate\"",
    );
    let m = crate::mapping::load("m.toml", &text).unwrap();
    let ada = ada();
    let wh = ghl("ContactDelete");
    let p = plan(
        &m,
        Incoming::Ghl {
            event_id: "e1",
            webhook: &wh,
        },
        &linked(&ada),
    );
    assert_eq!(
        shapes(&p),
        vec![json!({"action": "deactivate_tovuti_user", "user": {"id": 4211}})]
    );
}

#[test]
fn a_status_tag_added_in_ghl_sets_the_tovuti_field() {
    let text = format!(
        "{}\n[[tag_values]]\ntovuti = {{ field_id = 60 }}\nvalue = \"vip\"\notherwise = \"regular\"\ntag = \"VIP\"\ndirection = \"both\"\n",
        include_str!("../../config/mapping.example.toml")
    );
    let m = crate::mapping::load("m.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let ada = ada();
    let base = vec![
        "id magna sed Lorem".to_owned(),
        "Duis dolor commodo aliqua".to_owned(),
    ];
    let mut known = linked(&ada);
    known.previous_ghl_tags = Some(&base);
    let p = plan(
        &m,
        Incoming::Ghl {
            event_id: "e1",
            webhook: &with_tag(Some("vip")),
        },
        &known,
    );
    assert_eq!(names(&p), ["patch_tovuti_user"]);
    assert_eq!(
        shapes(&p)[0]["fields"]["customFields"][2],
        json!({"field_id": 60, "value": "vip"})
    );

    let mut after = base.clone();
    after.push("VIP".to_owned());
    known.previous_ghl_tags = Some(&after);
    let p = plan(
        &m,
        Incoming::Ghl {
            event_id: "e2",
            webhook: &with_tag(None),
        },
        &known,
    );
    assert_eq!(
        shapes(&p)[0]["fields"]["customFields"][2],
        json!({"field_id": 60, "value": "regular"})
    );
}

#[test]
fn a_tag_value_rule_writing_tovuti_needs_otherwise() {
    let text = format!(
        "{}\n[[tag_values]]\ntovuti = {{ field_id = 60 }}\nvalue = \"vip\"\ntag = \"VIP\"\ndirection = \"both\"\n",
        include_str!("../../config/mapping.example.toml")
    );
    let err = crate::mapping::load("m.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`tag_values[1].direction`: writing Tovuti needs `otherwise`"),
        "{err}"
    );
}
