//! The mapping planner under the shipped example mapping, on arbitrary JSON read as a Tovuti
//! and as a GHL event.
//!
//! Input: one JSON object. An optional top-level `"_known"` object is taken out first and
//! read as what the engine knows besides the event: `links` (`tovuti_user_id`,
//! `ghl_contact_id`), `ghl_contact`, `tovuti_user`, `previous_ghl_tags`, `ghl_open_tasks`,
//! `now` (unix seconds). Asserts: no panic, and planning is deterministic (the same input
//! plans the same actions with the same idempotency keys).

#![no_main]

use std::sync::OnceLock;

use fuzz_support::NOW_SECS;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tovuti_ghl_bridge::mapping::{self, EXAMPLE, EXAMPLE_NAME, Incoming, Known, Mapping};
use tovuti_ghl_bridge::platforms::ghl::GhlWebhook;
use tovuti_ghl_bridge::platforms::ghl::payloads::{Contact, Task};
use tovuti_ghl_bridge::platforms::tovuti::TovutiWebhook;
use tovuti_ghl_bridge::platforms::tovuti::payloads::User;

fn example() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING.get_or_init(|| mapping::load(EXAMPLE_NAME, EXAMPLE).expect("the shipped mapping loads"))
}

/// What the `_known` object says, parsed leniently: a part that does not read is unknown.
struct KnownParts {
    tovuti_user_id: Option<u64>,
    ghl_contact_id: Option<String>,
    contact: Option<Contact>,
    user: Option<User>,
    tags: Option<Vec<String>>,
    tasks: Option<Vec<Task>>,
    now: Timestamp,
}

fn part<T: serde::de::DeserializeOwned>(known: &Value, key: &str) -> Option<T> {
    serde_json::from_value(known.get(key)?.clone()).ok()
}

impl KnownParts {
    fn read(known: &Value) -> Self {
        let links = known.get("links").cloned().unwrap_or(Value::Null);
        let now = known.get("now").and_then(Value::as_i64).unwrap_or(NOW_SECS);
        Self {
            tovuti_user_id: part(&links, "tovuti_user_id"),
            ghl_contact_id: part(&links, "ghl_contact_id"),
            contact: part(known, "ghl_contact"),
            user: part(known, "tovuti_user"),
            tags: part(known, "previous_ghl_tags"),
            tasks: part(known, "ghl_open_tasks"),
            now: Timestamp::from_second(now).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }

    fn known(&self) -> Known<'_> {
        let mut known = Known::at(self.now);
        known.links.tovuti_user_id = self.tovuti_user_id;
        known.links.ghl_contact_id = self.ghl_contact_id.clone();
        known.ghl_contact = self.contact.as_ref();
        known.tovuti_user = self.user.as_ref();
        known.previous_ghl_tags = self.tags.as_deref();
        known.ghl_open_tasks = self.tasks.as_deref();
        known
    }
}

fn plan_twice(incoming: Incoming<'_>, known: &Known<'_>) {
    let first = mapping::plan(example(), incoming, known);
    let second = mapping::plan(example(), incoming, known);
    assert_eq!(first, second, "planning is not deterministic");
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(mut event)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let parts = KnownParts::read(&event.remove("_known").unwrap_or(Value::Null));
    let known = parts.known();
    let event = Value::Object(event);
    let Ok(body) = serde_json::to_vec(&event) else {
        return;
    };
    if let Ok(webhook) = TovutiWebhook::parse(&body) {
        plan_twice(Incoming::Tovuti(&webhook), &known);
    }
    if let Ok(webhook) = GhlWebhook::from_value(event) {
        let event_id = webhook.webhook_id.clone().unwrap_or_default();
        plan_twice(
            Incoming::Ghl {
                event_id: &event_id,
                webhook: &webhook,
            },
            &known,
        );
    }
});
