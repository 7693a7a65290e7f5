//! Validation reports every problem of a mapping file at once, each with its line and key.

use super::*;

const EXAMPLE: &str = include_str!("../../../config/mapping.example.toml");

#[test]
fn the_shipped_example_is_valid() {
    let m = load("mapping.example.toml", EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.file.fields.len(), 6);
    assert_eq!(m.phone_country, phonenumber::country::Id::US);
}

fn problems(text: &str) -> Vec<MappingProblem> {
    load("bad.toml", text).expect_err("should be invalid").0
}

fn has(ps: &[MappingProblem], line: usize, key: &str, needle: &str) -> bool {
    ps.iter()
        .any(|p| p.line == line && p.key == key && p.message.contains(needle))
}

#[test]
fn every_structural_error_is_reported_with_line_and_key() {
    let text = "version = 1\n\
                [settings]\n\
                default_phone_contry = \"US\"\n\
                [[fields]]\n\
                ghl = \"email\"\n\
                tovuti = \"email\"\n\
                type = \"emial\"\n\
                [[fields]]\n\
                ghl = \"phone\"\n\
                tovuti = { field_id = \"x\" }\n";
    let ps = problems(text);
    assert!(
        has(&ps, 3, "settings.default_phone_contry", "unknown field"),
        "{ps:#?}"
    );
    assert!(has(&ps, 7, "fields[0].type", "unknown variant"), "{ps:#?}");
    assert!(
        has(&ps, 10, "fields[1].tovuti", "Tovuti user field"),
        "{ps:#?}"
    );
    assert_eq!(ps.len(), 3);
    assert!(
        ps[0]
            .to_string()
            .starts_with("bad.toml:3: `settings.default_phone_contry`")
    );
}

#[test]
fn semantic_errors_are_all_reported_with_line_and_key() {
    let text = "version = 1\n\
                [[fields]]\n\
                ghl = \"email\"\n\
                tovuti = \"email\"\n\
                [[fields]]\n\
                ghl = \"email\"\n\
                tovuti = { field_id = 3 }\n\
                [[fields]]\n\
                ghl = \"nickname\"\n\
                tovuti = \"registerDate\"\n\
                type = \"date\"\n\
                missing = \"default\"\n\
                default = \"soon\"\n\
                [lms.user_created]\n\
                tags = [\"course:{{ cours.title }}\", \"{{ oops \"]\n";
    let ps = problems(text);
    assert!(
        has(
            &ps,
            6,
            "fields[1].ghl",
            "already written by `fields[0].ghl`"
        ),
        "{ps:#?}"
    );
    assert!(
        has(
            &ps,
            9,
            "fields[2].ghl",
            "unknown GHL contact field `nickname`"
        ),
        "{ps:#?}"
    );
    assert!(has(&ps, 10, "fields[2].tovuti", "read-only"), "{ps:#?}");
    assert!(has(&ps, 13, "fields[2].default", "does not fit"), "{ps:#?}");
    assert!(
        has(&ps, 15, "lms.user_created.tags[0]", "template error"),
        "{ps:#?}"
    );
    assert!(
        has(&ps, 15, "lms.user_created.tags[1]", "syntax"),
        "{ps:#?}"
    );
}

#[test]
fn a_ghl_custom_field_read_from_webhooks_needs_its_id() {
    let text =
        "version = 1\n[[fields]]\nghl = { key = \"contact.x\" }\ntovuti = { field_id = 3 }\n";
    let ps = problems(text);
    assert!(has(&ps, 3, "fields[0].ghl", "by `id` only"), "{ps:#?}");
    let ok = "version = 1\n[[fields]]\nghl = { key = \"contact.x\" }\ntovuti = { field_id = 3 }\ndirection = \"to_ghl\"\n";
    assert!(load("ok.toml", ok).is_ok());
}

#[test]
fn name_pair_and_field_pair_writing_first_name_collide() {
    let text = "version = 1\n[name]\ntovuti = \"name\"\n[[fields]]\nghl = \"firstName\"\ntovuti = { field_id = 19 }\n";
    let ps = problems(text);
    assert!(
        has(
            &ps,
            5,
            "fields[0].ghl",
            "firstName is already written by `name`"
        ),
        "{ps:#?}"
    );
}

#[test]
fn rule_checks_cover_thresholds_offsets_and_duplicate_tags() {
    let text = "version = 1\n\
                [[lms.milestones]]\n\
                on = \"progress\"\n\
                title = \"t\"\n\
                due_in = \"soon\"\n\
                [[ghl.tags]]\n\
                tag = \"VIP\"\n\
                [[ghl.tags]]\n\
                tag = \"vip\"\n";
    let ps = problems(text);
    assert!(has(&ps, 3, "lms.milestones[0].on", "threshold"), "{ps:#?}");
    assert!(has(&ps, 5, "lms.milestones[0].due_in", "`3d`"), "{ps:#?}");
    assert!(has(&ps, 9, "ghl.tags[1].tag", "two rules"), "{ps:#?}");
}

#[test]
fn a_missing_version_and_a_toml_syntax_error_are_reported() {
    let ps = problems("[settings]\nlist_separator = \n");
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert!(has(&ps, 1, "version", "must be 1"), "{ps:#?}");
    assert!(
        has(
            &ps,
            2,
            "settings.list_separator",
            "invalid string; expected"
        ),
        "{ps:#?}"
    );
    let ps = problems("[settings]\n");
    assert!(has(&ps, 1, "version", "must be 1"), "{ps:#?}");
}

#[test]
fn the_broken_fixture_names_every_mistake_with_line_and_key() {
    let text = include_str!("../../../tests/fixtures/mapping/broken.toml");
    let errors = load("broken.toml", text).expect_err("the fixture is broken");
    let lines: Vec<String> = errors
        .0
        .iter()
        .map(|p| format!("{}:{}", p.line, p.key))
        .collect();
    assert_eq!(
        lines,
        [
            "11:fields[1].ghl",
            "17:fields[2].type",
            "22:fields[3].trasnforms",
            "25:lms.enrollment_created.tags[0]",
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(
        text.contains("GHL email is already written by `fields[0].ghl`"),
        "{text}"
    );
    assert!(text.contains("unknown variant `telephone`"), "{text}");
    assert!(text.contains("unknown field `trasnforms`"), "{text}");
    assert!(text.contains("template error"), "{text}");
}

#[test]
fn on_missing_is_skip_by_default_fail_on_request_and_nothing_else() {
    use crate::mapping::policy::OnMissing;
    let m = load("m.toml", "version = 1\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.file.settings.on_missing, OnMissing::Skip);
    let m = load("m.toml", "version = 1\n[settings]\non_missing = \"fail\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.file.settings.on_missing, OnMissing::Fail);
    let ps = problems("version = 1\n[settings]\non_missing = \"drop\"\n");
    assert!(
        has(&ps, 3, "settings.on_missing", "unknown variant"),
        "{ps:#?}"
    );
}
