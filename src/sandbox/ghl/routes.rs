//! The fake's route table: GHL's v2 paths mapped to handlers, every API route behind
//! the gate; the token endpoints stand outside it, as they take no bearer.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};

use super::activities::{self, Kind};
use super::gate::{self, CallerExt};
use super::{FakeGhlState, automations, calendars, contacts, oauth, search};

type S = State<Arc<FakeGhlState>>;
type One = Path<String>;
type Two = Path<(String, String)>;

pub fn router(shared: Arc<FakeGhlState>) -> Router {
    let api = Router::new()
        .route("/contacts/", post(contacts::create))
        .route("/contacts/upsert", post(contacts::upsert))
        .route("/contacts/search", post(search::search))
        .route("/contacts/search/duplicate", get(search::duplicate))
        .route(
            "/contacts/{id}",
            get(contacts::get)
                .put(contacts::update)
                .delete(contacts::delete),
        )
        .route(
            "/contacts/{id}/tasks/{item}/completed",
            put(activities::complete_task),
        )
        .route("/contacts/{id}/appointments", get(calendars::for_contact))
        .route(
            "/locations/{id}/customFields",
            get(search::custom_fields).post(search::create_custom_field),
        )
        .route("/campaigns/", get(automations::campaigns))
        .route("/workflows/", get(automations::workflows))
        .route("/calendars/events/appointments", post(calendars::create))
        .route(
            "/calendars/events/appointments/{id}",
            get(calendars::get).put(calendars::update),
        );
    let api = per_contact(per_contact(api, Kind::Task, "tasks"), Kind::Note, "notes");
    let api = memberships(tags(api)).route_layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        gate::gate,
    ));
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/locationToken", post(oauth::location_token))
        .merge(api)
        .with_state(shared)
}

/// List, create, get, update and delete of one per-contact collection.
fn per_contact(
    router: Router<Arc<FakeGhlState>>,
    kind: Kind,
    plural: &str,
) -> Router<Arc<FakeGhlState>> {
    let list = format!("/contacts/{{id}}/{plural}");
    let item = format!("{list}/{{item}}");
    router
        .route(
            &list,
            get(move |State(s): S, c: CallerExt, Path(id): One| activities::list(kind, s, c, id))
                .post(move |State(s): S, c: CallerExt, Path(id): One, b: Bytes| {
                    activities::create(kind, s, c, id, b)
                }),
        )
        .route(
            &item,
            get(move |State(s): S, c: CallerExt, Path((id, i)): Two| {
                activities::get(kind, s, c, id, i)
            })
            .put(move |State(s): S, c: CallerExt, Path(ids): Two, b: Bytes| {
                activities::update(kind, s, c, ids, b)
            })
            .delete(move |State(s): S, c: CallerExt, Path((id, i)): Two| {
                activities::delete(kind, s, c, id, i)
            }),
        )
}

fn tags(router: Router<Arc<FakeGhlState>>) -> Router<Arc<FakeGhlState>> {
    router.route(
        "/contacts/{id}/tags",
        post(|State(s): S, c: CallerExt, Path(id): One, b: Bytes| {
            activities::change_tags(true, s, c, id, b)
        })
        .delete(|State(s): S, c: CallerExt, Path(id): One, b: Bytes| {
            activities::change_tags(false, s, c, id, b)
        }),
    )
}

/// Campaign and workflow membership: add (POST) and remove (DELETE).
fn memberships(router: Router<Arc<FakeGhlState>>) -> Router<Arc<FakeGhlState>> {
    let paths = [
        (false, "/contacts/{id}/campaigns/{target}"),
        (true, "/contacts/{id}/workflow/{target}"),
    ];
    paths.into_iter().fold(router, |router, (workflow, path)| {
        router.route(
            path,
            post(move |State(s): S, c: CallerExt, Path(ids): Two| {
                activities::membership(workflow, true, s, c, ids)
            })
            .delete(move |State(s): S, c: CallerExt, Path(ids): Two| {
                activities::membership(workflow, false, s, c, ids)
            }),
        )
    })
}
