//! The sample round trip, the Tovuti half (`check --sample`, the console): a sample GHL contact, clearly marked
//! (`bridge-check+…@example.invalid`), goes through the mapping's GHL→Tovuti direction
//! into a Tovuti test user, which is created, read back and compared field by field,
//! then deactivated. The user is deactivated rather than deleted: the Tovuti API this
//! service follows documents no user deletion it could verify, and the sync engine
//! itself only ever deactivates users.

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::sample::{RoundTrip, Row};
use crate::mapping::tovuti_names::{self, TenantLists};
use crate::mapping::write::TovutiFields;
use crate::mapping::{self, Action, Incoming, Known, Mapping};
use crate::platforms::ghl::GhlWebhook;
use crate::platforms::tovuti::UserWrite;
use crate::platforms::tovuti::client::{CatalogKind, TovutiApi};
use crate::platforms::tovuti::payloads::User;
use crate::sandbox::samples;

/// The name the test user carries, so one left behind is easy to find.
pub const SAMPLE_NAME: &str = "Bridge Check";

/// Says what became of the test user, for the table's last lines.
pub const DEACTIVATED: &str = "(deactivated, not deleted: no user deletion is documented for Tovuti's API; remove it in Tovuti's admin if you wish)";

/// Creates the test user from the sample contact, reads it back, deactivates it.
pub async fn round_trip(api: &dyn TovutiApi, m: &Mapping, now: Timestamp) -> RoundTrip {
    let mut trip = RoundTrip::default();
    let (m, lists) = for_test_user(api, m).await;
    let email = format!(
        "bridge-check+{}@example.invalid",
        uuid::Uuid::new_v4().simple()
    );
    let Some(fields) = planned_fields(&m, &email, now) else {
        trip.problems
            .push("the mapping writes no Tovuti fields for a new GHL contact".into());
        return trip;
    };
    let write = user_write(&email, &fields);
    let created = match api.create_user(&write).await {
        Ok(user) => user,
        Err(e) => {
            trip.problems
                .push(format!("creating the Tovuti test user failed: {e}"));
            return trip;
        }
    };
    let id = created.id.0;
    match api.get_user(id).await {
        Ok(Some(read)) => trip.rows = compare(&write, &read, &lists),
        Ok(None) => trip
            .problems
            .push(format!("the Tovuti test user {id} could not be read back")),
        Err(e) => trip
            .problems
            .push(format!("reading the Tovuti test user back failed: {e}")),
    }
    let mut disable = UserWrite::default();
    disable.core.insert("status".into(), json!("disabled"));
    if let Err(e) = api.update_user(id, &disable).await {
        trip.problems.push(format!(
            "deactivating the Tovuti test user {id} failed ({e}); find it by its name `{SAMPLE_NAME}`"
        ));
    }
    trip
}

/// The mapping with the tenant's ids for the names it uses, creating users from GHL
/// contacts (whatever `ghl.create_users` says: this is the direction under test) and
/// putting the test user in no group; and the tenant's lists it read.
async fn for_test_user(api: &dyn TovutiApi, m: &Mapping) -> (Mapping, TenantLists) {
    let mut lists = TenantLists::new();
    for kind in tovuti_names::named_kinds(m) {
        if let Some(Ok(items)) = api.catalog(kind).await {
            let named = items
                .iter()
                .filter_map(|item| Some((item.id.0, item.label()?.to_owned())));
            lists.insert(kind, named.collect());
        }
    }
    let mut m = tovuti_names::resolve(m, &lists).0;
    m.file.ghl.create_users = true;
    m.file.ghl.new_user_group_ids.clear();
    (m, lists)
}

/// The Tovuti fields the mapping plans for the sample contact's `ContactCreate`.
fn planned_fields(m: &Mapping, email: &str, now: Timestamp) -> Option<TovutiFields> {
    let mut body = samples::ghl("ContactCreate", "bridge-check", "bridge-check", now);
    let sample = json!({
        "id": "bridge-check-contact", "email": email, "firstName": "Bridge",
        "lastName": "Check", "name": SAMPLE_NAME, "tags": [super::sample::SAMPLE_TAG],
        "companyName": "Bridge Check Ltd", "phone": "+14155550123",
        "dateOfBirth": "1990-04-01",
    });
    for (key, value) in sample.as_object()? {
        body[key] = value.clone();
    }
    let webhook = GhlWebhook::from_value(body).ok()?;
    let incoming = Incoming::Ghl {
        event_id: "bridge-check",
        webhook: &webhook,
    };
    let plan = mapping::plan(m, incoming, &Known::at(now));
    plan.actions.into_iter().find_map(|action| match action {
        Action::CreateTovutiUser { fields, .. } => Some(fields),
        _ => None,
    })
}

/// The create the sync engine would send for a new user, minus groups and courses.
fn user_write(email: &str, fields: &TovutiFields) -> UserWrite {
    let mut write = UserWrite {
        core: fields.core.clone(),
        ..UserWrite::default()
    };
    write.core.insert("email".into(), json!(email));
    write.core.entry("username".into()).or_insert(json!(email));
    write
        .core
        .entry("name".into())
        .or_insert(json!(SAMPLE_NAME));
    write.core.insert("status".into(), json!("active"));
    write.core.insert("requireReset".into(), json!(true));
    write.custom_fields = Some(fields.custom_fields.clone());
    // Nobody logs in as the test user: a password no one sees.
    let password = format!("Bc1!{}", uuid::Uuid::new_v4().simple());
    write.password = Some(SecretString::from(password));
    write
}

/// Each core field and custom field sent, beside what the read user holds.
fn compare(write: &UserWrite, read: &User, lists: &TenantLists) -> Vec<Row> {
    let fields = lists.get(&CatalogKind::CustomFields);
    let name = |id: u64| {
        let found = fields.and_then(|f| f.iter().find(|(known, _)| *known == id));
        found.map_or_else(|| id.to_string(), |(_, name)| name.clone())
    };
    let json = serde_json::to_value(read).unwrap_or_default();
    let core = write
        .core
        .iter()
        .filter(|(name, _)| name.as_str() != "requireReset")
        .map(|(name, sent)| Row {
            field: format!("tovuti {name}"),
            sent: sent.clone(),
            read_back: json.get(name).cloned().unwrap_or(Value::Null),
        });
    let custom = write.custom_fields.iter().flatten().map(|field| {
        let id = field.get("field_id").and_then(Value::as_u64);
        let label = name(id.unwrap_or_default());
        let read_back = read
            .custom_fields
            .iter()
            .find(|c| Some(c.field_id.0) == id)
            .map_or(Value::Null, |c| c.value.clone());
        Row {
            field: format!("tovuti field {label}"),
            sent: field.get("value").cloned().unwrap_or(Value::Null),
            read_back,
        }
    });
    core.chain(custom).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, OptionalSecret};
    use crate::platforms::tovuti::client::TovutiClient;
    use crate::sandbox::tovuti::FakeTovuti;
    use crate::verify::sample::render_with;

    #[tokio::test]
    async fn the_sample_contact_makes_a_tovuti_test_user_that_round_trips_then_is_deactivated() {
        let fake = FakeTovuti::start("sample-token").await.unwrap();
        fake.insert_example_catalog();
        let mut config = Config::defaults();
        config.tovuti.base_url = fake.base_url();
        config.tovuti.token = OptionalSecret::new("sample-token");
        let client = TovutiClient::from_config(&config.tovuti).unwrap().unwrap();
        let m = mapping::load(mapping::EXAMPLE_NAME, mapping::EXAMPLE).unwrap();

        let trip = round_trip(&client, &m, Timestamp::now()).await;

        let table = render_with(&trip, "passed", "failed");
        assert!(trip.passed(), "{table}");
        let fields: Vec<&str> = trip.rows.iter().map(|r| r.field.as_str()).collect();
        for expected in ["tovuti email", "tovuti name", "tovuti field Company"] {
            assert!(fields.contains(&expected), "{expected} missing: {table}");
        }
        assert!(table.contains("Bridge Check Ltd"), "{table}");
        let users = fake.users();
        assert_eq!(users.len(), 1, "one test user");
        let user = &users[0];
        let email = user.email.clone().unwrap_or_default();
        assert!(email.starts_with("bridge-check+") && email.ends_with("@example.invalid"));
        assert_eq!(user.status.as_deref(), Some("disabled"), "{user:?}");
        assert!(user.user_group_ids.is_empty() && user.enrolled_course_ids.is_empty());
    }
}
