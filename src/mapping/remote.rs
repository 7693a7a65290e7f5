//! Checks a mapping against the custom-field definitions GHL reports for the location (the
//! caller fetches them; this stays pure), for `mapping validate --online`.

use super::model::{GhlCustomRef, GhlRef};
use super::validate::Mapping;
use crate::platforms::ghl::custom_fields::CustomFieldDef;

/// Every GHL custom field the mapping names, with the dotted key that names it.
pub fn ghl_custom_refs(m: &Mapping) -> Vec<(String, GhlCustomRef)> {
    let f = &m.file;
    let pairs = f
        .fields
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("fields[{i}].ghl"), &p.ghl));
    let others = [
        (
            "identity.tovuti_user_id_in_ghl",
            f.identity.tovuti_user_id_in_ghl.as_ref(),
        ),
        ("extra.ghl", f.extra.ghl.as_ref()),
    ];
    let others = others
        .into_iter()
        .filter_map(|(k, r)| r.map(|r| (k.to_owned(), r)));
    pairs
        .chain(others)
        .filter_map(|(k, r)| match r {
            GhlRef::Custom(c) => Some((k, c.clone())),
            GhlRef::Standard(_) => None,
        })
        .collect()
}

/// What the online check found: problems, and for each field the id/key it resolved to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineReport {
    pub problems: Vec<String>,
    pub found: Vec<String>,
}

/// Checks that each referenced id and key exists, and that an id and key given together
/// name the same field.
pub fn check_ghl(m: &Mapping, defs: &[CustomFieldDef]) -> OnlineReport {
    let mut report = OnlineReport::default();
    for (key, r) in ghl_custom_refs(m) {
        let by_id =
            r.id.as_deref()
                .map(|id| (id, defs.iter().find(|d| d.id == id)));
        let by_key = r
            .key
            .as_deref()
            .map(|k| (k, defs.iter().find(|d| d.field_key == k)));
        match (by_id, by_key) {
            (Some((id, None)), _) => report.problems.push(format!(
                "`{key}`: GHL has no contact custom field with id `{id}`"
            )),
            (_, Some((k, None))) => report.problems.push(format!(
                "`{key}`: GHL has no contact custom field with key `{k}`"
            )),
            (Some((_, Some(a))), Some((_, Some(b)))) if a.id != b.id => {
                report.problems.push(format!(
                    "`{key}`: id `{}` is the field `{}`, but key `{}` is the field `{}`",
                    a.id, a.field_key, b.field_key, b.id
                ))
            }
            (Some((_, Some(d))), _) | (_, Some((_, Some(d)))) => {
                report.found.push(format!(
                    "`{key}`: {} (id {}, key {}, {})",
                    d.name, d.id, d.field_key, d.data_type
                ));
            }
            (None, None) => {}
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, key: &str) -> CustomFieldDef {
        CustomFieldDef {
            id: id.to_owned(),
            name: key.to_owned(),
            field_key: key.to_owned(),
            data_type: "TEXT".to_owned(),
        }
    }

    #[test]
    fn the_example_mapping_checks_against_the_location_fields() {
        let m = crate::mapping::test_support::example_for_ghl_examples();
        let defs = [
            def("BcdmQEsNgz6AVpgLVUJ0", "contact.job_title"),
            def("s1", "contact.lms_status"),
            def("t1", "contact.tovuti_user_id"),
        ];
        let report = check_ghl(&m, &defs);
        assert!(report.problems.is_empty(), "{report:?}");
        assert_eq!(report.found.len(), 3);

        let report = check_ghl(
            &m,
            &[
                def("BcdmQEsNgz6AVpgLVUJ0", "contact.other"),
                def("x", "contact.job_title"),
            ],
        );
        assert!(
            report.problems.iter().any(|p| p.contains(
                "`fields[4].ghl`: id `BcdmQEsNgz6AVpgLVUJ0` is the field `contact.other`"
            )),
            "{report:?}"
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("no contact custom field with key `contact.lms_status`")),
            "{report:?}"
        );
    }
}
