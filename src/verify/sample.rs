//! The sample contact round trip (`check --sample`, the console's Connection page): a
//! round trip through the real mapping. A sample Tovuti user (the
//! shipped `user.created` fixture, with a value in every custom field the mapping reads)
//! is planned into a GHL contact, created as a clearly marked test contact, read back and
//! compared field by field; the contact is deleted afterwards whatever happened.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::mapping::fields::GhlFields;
use crate::mapping::model::{TovutiCustomRef, TovutiRef};
use crate::mapping::tovuti_names::{self, TenantLists};
use crate::mapping::value::FieldType;
use crate::mapping::{self, Action, Incoming, Known, Mapping};
use crate::platforms::ghl::client::{Contact, ContactInput, CustomFieldInput, LocationApi};
use crate::platforms::tovuti::TovutiWebhook;
use crate::sandbox::samples;

/// The tag every test contact carries, so one left behind is easy to find and remove.
pub const SAMPLE_TAG: &str = "bridge-check";

/// One compared field.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub field: String,
    pub sent: Value,
    pub read_back: Value,
}

impl Row {
    /// Equal as GHL keeps it: numbers and booleans may come back as text, emails in any case.
    pub fn equal(&self) -> bool {
        text(&self.sent).eq_ignore_ascii_case(&text(&self.read_back))
    }
}

/// What the round trip found.
#[derive(Debug, Clone, Default)]
pub struct RoundTrip {
    pub rows: Vec<Row>,
    /// The test contact was created and then deleted (a failed delete is a problem).
    pub problems: Vec<String>,
}

impl RoundTrip {
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty() && self.rows.iter().all(Row::equal)
    }
}

/// Creates the test contact from the sample user, reads it back, deletes it.
pub async fn round_trip(ghl: &LocationApi, m: &Mapping, now: Timestamp) -> RoundTrip {
    let m = &with_sample_ids(m);
    let mut trip = RoundTrip::default();
    let Some(mut fields) = planned_fields(m, now) else {
        trip.problems
            .push("the mapping writes no contact fields for a new Tovuti user".into());
        return trip;
    };
    resolve_ids(ghl, &mut fields).await;
    let email = format!(
        "bridge-check+{}@example.invalid",
        uuid::Uuid::new_v4().simple()
    );
    let input = input(&email, &fields);
    let created = match ghl.create_contact(&input).await {
        Ok(contact) => contact,
        Err(e) => {
            trip.problems
                .push(format!("creating the test contact failed: {e}"));
            return trip;
        }
    };
    match ghl.get_contact(&created.id).await {
        Ok(read) => {
            // A key GHL did not know may have been defined by this write: name it by id
            // now, or it cannot be found among the `{id, value}` pairs read back.
            resolve_ids(ghl, &mut fields).await;
            trip.rows = compare(&email, &fields, &read);
        }
        Err(e) => trip
            .problems
            .push(format!("reading the test contact back failed: {e}")),
    }
    if let Err(e) = ghl.delete_contact(&created.id).await {
        trip.problems.push(format!(
            "deleting the test contact {} failed ({e}); remove it by its tag `{SAMPLE_TAG}`",
            created.id
        ));
    }
    trip
}

/// The GHL fields the mapping plans for the sample user's `user.created`.
fn planned_fields(m: &Mapping, now: Timestamp) -> Option<GhlFields> {
    let mut body = samples::tovuti("user.created", "evt_bridge_check", now);
    if let Some(fields) = body.pointer_mut("/data/user/customFields") {
        *fields = Value::Array(sample_custom_fields(m));
    }
    let bytes = serde_json::to_vec(&body).ok()?;
    let webhook = TovutiWebhook::parse(&bytes).ok()?;
    let plan = mapping::plan(m, Incoming::Tovuti(&webhook), &Known::at(now));
    plan.actions.into_iter().find_map(|action| match action {
        Action::UpsertContact { fields, .. } => Some(fields),
        _ => None,
    })
}

/// The mapping with each Tovuti name given an id of its own: the sample user is made up,
/// so its fields need ids only to be told apart.
fn with_sample_ids(m: &Mapping) -> Mapping {
    let (_, names) = tovuti_names::resolve(m, &TenantLists::new());
    let mut lists = TenantLists::new();
    for (n, name) in names.into_iter().enumerate() {
        let id = 900_000 + n as u64;
        lists.entry(name.kind).or_default().push((id, name.name));
    }
    tovuti_names::resolve(m, &lists).0
}

/// A plausible value for every Tovuti custom field a pair reads, by the pair's type.
fn sample_custom_fields(m: &Mapping) -> Vec<Value> {
    let mut out = Vec::new();
    for pair in &m.file.fields {
        let TovutiRef::Custom(TovutiCustomRef {
            field_id: Some(field_id),
            ..
        }) = &pair.tovuti
        else {
            continue;
        };
        let value = match pair.ty {
            FieldType::Email => json!("sample.learner@example.invalid"),
            FieldType::Phone => json!("+14155550123"),
            FieldType::Date => json!("1990-04-01"),
            FieldType::Datetime => json!("2026-01-02T03:04:05Z"),
            FieldType::Number => json!(42),
            FieldType::Bool => json!(true),
            FieldType::List => json!("alpha,beta"),
            FieldType::String => json!("Bridge check sample"),
        };
        out.push(json!({ "field_id": field_id, "value": value }));
    }
    out
}

/// Key-only custom fields named by id, as the worker does, so they read back by id.
async fn resolve_ids(ghl: &LocationApi, fields: &mut GhlFields) {
    let Ok(defs) = ghl.contact_custom_fields().await else {
        return;
    };
    for field in &mut fields.custom_fields {
        let def = field
            .key
            .as_ref()
            .and_then(|k| defs.iter().find(|d| &d.field_key == k));
        if let (None, Some(def)) = (&field.id, def) {
            field.id = Some(def.id.clone());
        }
    }
}

fn input(email: &str, fields: &GhlFields) -> ContactInput {
    let mut other: Map<String, Value> = fields.standard.clone().into_iter().collect();
    other.remove("email");
    ContactInput {
        email: Some(email.to_owned()),
        tags: Some(vec![SAMPLE_TAG.to_owned()]),
        custom_fields: fields
            .custom_fields
            .iter()
            .map(|f| CustomFieldInput {
                id: f.id.clone(),
                key: if f.id.is_some() { None } else { f.key.clone() },
                field_value: f.field_value.clone(),
            })
            .collect(),
        other,
        ..ContactInput::default()
    }
}

fn compare(email: &str, fields: &GhlFields, read: &Contact) -> Vec<Row> {
    let json = serde_json::to_value(read).unwrap_or_default();
    let mut rows = vec![Row {
        field: "email".into(),
        sent: json!(email),
        read_back: json.get("email").cloned().unwrap_or(Value::Null),
    }];
    for (name, sent) in fields.standard.iter().filter(|(n, _)| *n != "email") {
        let read_back = json.get(name).cloned().unwrap_or(Value::Null);
        rows.push(Row {
            field: name.clone(),
            sent: sent.clone(),
            read_back,
        });
    }
    for f in &fields.custom_fields {
        let label = f.key.clone().or_else(|| f.id.clone()).unwrap_or_default();
        let read_back =
            f.id.as_ref()
                .and_then(|id| read.custom_fields.iter().find(|c| &c.id == id))
                .map_or(Value::Null, |c| c.value.clone());
        rows.push(Row {
            field: label,
            sent: f.field_value.clone(),
            read_back,
        });
    }
    rows
}

/// The table `check --sample` prints for the test contact.
pub fn render(trip: &RoundTrip) -> String {
    render_with(
        trip,
        "sample contact: every field round-trips (test contact deleted)",
        "sample contact: some fields do NOT round-trip",
    )
}

/// A round-trip table, ending with `passed` or `failed`.
pub fn render_with(trip: &RoundTrip, passed: &str, failed: &str) -> String {
    let mut out = format!("{:<28} {:<32} {:<32} equal\n", "field", "sent", "read back");
    for row in &trip.rows {
        let mark = if row.equal() { "yes" } else { "NO" };
        let (sent, back) = (text(&row.sent), text(&row.read_back));
        let _ = writeln!(out, "{:<28} {sent:<32} {back:<32} {mark}", row.field);
    }
    for p in &trip.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    let verdict = if trip.passed() { passed } else { failed };
    let _ = writeln!(out, "{verdict}");
    out
}

/// A value as the table shows it.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::platforms::ghl::client::{Auth, ClientSettings, GhlClient};
    use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
    use crate::telemetry::Metrics;

    #[tokio::test]
    async fn the_sample_user_round_trips_and_the_test_contact_is_deleted() {
        let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
        let mut config = Config::defaults();
        config.ghl.base_url = fake.base_url();
        let settings = ClientSettings::from_config(&config.ghl);
        let client = GhlClient::new(settings, Arc::new(Metrics::new())).unwrap();
        let token = fake.issue_token("loc-1", ALL_SCOPES);
        let ghl = client
            .location("loc-1", Auth::private_token(&token))
            .interactive();
        let m = mapping::load(mapping::EXAMPLE_NAME, mapping::EXAMPLE).unwrap();

        let trip = round_trip(&ghl, &m, Timestamp::now()).await;
        let table = render(&trip);
        assert!(trip.passed(), "{table}");
        let fields: Vec<&str> = trip.rows.iter().map(|r| r.field.as_str()).collect();
        for expected in ["email", "firstName", "phone", "contact.lms_status"] {
            assert!(fields.contains(&expected), "{expected} missing: {table}");
        }
        assert!(table.contains("+14155550123"), "{table}");
        assert!(
            fake.contacts().is_empty(),
            "the test contact was left behind"
        );
        let created = fake.requests();
        let post = created
            .iter()
            .find(|r| r.method == "POST" && r.path == "/contacts/");
        let body = post.and_then(|r| r.body.clone()).unwrap_or_default();
        assert_eq!(body["tags"], json!([SAMPLE_TAG]));
        let email = body["email"].as_str().unwrap_or_default();
        assert!(email.starts_with("bridge-check+") && email.ends_with("@example.invalid"));
    }

    #[test]
    fn a_field_that_comes_back_different_fails_the_round_trip() {
        let row = |sent: Value, read_back: Value| Row {
            field: "f".into(),
            sent,
            read_back,
        };
        let same = row(json!(42), json!("42"));
        let lost = row(json!("Ada"), Value::Null);
        assert!(same.equal() && !lost.equal());
        let trip = RoundTrip {
            rows: vec![same, lost],
            problems: Vec::new(),
        };
        assert!(!trip.passed());
        assert!(render(&trip).contains("(none)"));
        assert!(render(&trip).contains("NO"));
    }
}
