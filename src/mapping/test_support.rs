//! Helpers shared by the mapping's tests: the example mapping and the sample events.

use std::path::PathBuf;

use serde_json::Value;

use crate::mapping::plan::{Incoming, Known, Plan, plan};
use crate::mapping::{Action, Mapping, load, tovuti_names};
use crate::platforms::ghl::GhlWebhook;
use crate::platforms::tovuti::payloads::User;
use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

/// The example with its Tovuti names resolved as in the sandbox tenant (the ids the
/// sample events use).
pub fn example() -> Mapping {
    let text = include_str!("../../config/mapping.example.toml");
    resolved(&load("mapping.example.toml", text).unwrap_or_else(|e| panic!("{e}")))
}

fn resolved(m: &Mapping) -> Mapping {
    let (m, missing) = tovuti_names::resolve(m, &crate::sandbox::tovuti::example_lists());
    assert!(missing.is_empty(), "{missing:?}");
    m
}

/// The example with its job-title field pinned, both ways, to the id GHL's documented
/// webhook examples carry (a real location's id is found with `mapping validate --online`).
pub fn example_for_ghl_examples() -> Mapping {
    let text = crate::mapping::EXAMPLE.replace(
        "ghl = { key = \"contact.job_title\" }",
        "ghl = { id = \"BcdmQEsNgz6AVpgLVUJ0\", key = \"contact.job_title\" }",
    );
    let text = text.replace(
        "transforms = [\"trim\"]\ndirection = \"to_ghl\"\n",
        "transforms = [\"trim\"]\n",
    );
    resolved(&load("mapping.example.toml", &text).unwrap_or_else(|e| panic!("{e}")))
}

pub fn now() -> jiff::Timestamp {
    "2026-11-29T00:00:00Z".parse().unwrap()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn tovuti(name: &str) -> TovutiWebhook {
    let path = root()
        .join("tests/fixtures/tovuti")
        .join(format!("{name}.json"));
    TovutiWebhook::parse(&std::fs::read(&path).unwrap()).unwrap()
}

pub fn ghl(name: &str) -> GhlWebhook {
    let body = crate::platforms::ghl::spec_files::webhook_example(name)
        .unwrap_or_else(|message| panic!("{message}"));
    GhlWebhook::parse(&body).unwrap()
}

pub fn plan_tovuti(name: &str, known: &Known<'_>) -> Plan {
    plan(&example(), Incoming::Tovuti(&tovuti(name)), known)
}

pub fn plan_ghl(name: &str, known: &Known<'_>) -> Plan {
    plan(
        &example_for_ghl_examples(),
        Incoming::Ghl {
            event_id: "ghl-evt-1",
            webhook: &ghl(name),
        },
        known,
    )
}

/// Actions as JSON without their idempotency keys (checked on their own below).
pub fn shapes(p: &Plan) -> Vec<Value> {
    p.actions
        .iter()
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap();
            v.as_object_mut().unwrap().remove("key");
            v
        })
        .collect()
}

pub fn names(p: &Plan) -> Vec<String> {
    p.actions.iter().map(Action::name).collect()
}

pub fn ada() -> User {
    let TovutiEvent::UserCreated(d) = tovuti("user.created").event else {
        panic!("fixture")
    };
    d.user
}
