//! The Mapping page's "Missing in the accounts": the GHL contact custom fields and the
//! Tovuti fields, groups and courses the connection's mapping names that its accounts
//! lack (`crate::verify::provision`, as `mapping provision` finds them), and
//! `POST /console/connections/{id}/mapping/provision`, which creates the missing GHL
//! fields through the connection's own client, audited. Tovuti has no API to create
//! anything, so its gaps are only listed.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::Console;
use super::render::refused;
use super::session::Session;
use crate::http::admin::audit;
use crate::http::admin::check::{Clients, clients};
use crate::http::admin::connections::live;
use crate::http::{ApiError, AppState};
use crate::platforms::ErrorClass;
use crate::platforms::ghl::client::GhlError;
use crate::verify::provision::{
    Provisioned, TovutiMissing, WantedField, field_name, ghl_missing, provision_ghl, tovuti_missing,
};
use crate::verify::tovuti::ApiCatalog;

/// One GHL custom field the location lacks, as the page lists it.
#[derive(Serialize)]
struct GhlGap {
    /// Its key, or `id …` when the mapping names it by id alone (it cannot be created).
    key: String,
    /// The name it would be created with (empty without a key).
    name: String,
    data_type: &'static str,
    mapping_key: String,
}

impl From<&WantedField> for GhlGap {
    fn from(want: &WantedField) -> Self {
        let field = &want.field;
        let (key, name) = match (&field.key, &field.id) {
            (Some(key), _) => (key.clone(), field_name(key)),
            (None, id) => (
                format!("id {}", id.as_deref().unwrap_or_default()),
                String::new(),
            ),
        };
        Self {
            key,
            name,
            data_type: want.data_type,
            mapping_key: want.mapping_key.clone(),
        }
    }
}

/// What the section shows.
#[derive(Default, Serialize)]
pub(super) struct Missing {
    /// Why nothing could be checked (the mapping does not load, no such connection, …).
    problem: Option<String>,
    /// Why GHL could not be checked.
    ghl_problem: Option<String>,
    ghl: Vec<GhlGap>,
    /// How many of `ghl` can be created (those named by key).
    creatable: usize,
    /// `None`: the connection has no Tovuti API.
    tovuti: Option<TovutiMissing>,
}

/// What connection `id` lacks; every failure is a line on the page, never an error.
pub(super) async fn missing(state: &AppState, id: &str) -> Missing {
    let clients = match connected(state, id).await {
        Ok(clients) => clients,
        Err(error) => {
            return Missing {
                problem: Some(error.to_string()),
                ..Missing::default()
            };
        }
    };
    let loaded = &clients.mapping;
    let mut missing = Missing::default();
    match ghl_missing(&clients.ghl, &loaded.mapping).await {
        Ok(fields) => {
            missing.creatable = fields.iter().filter(|w| w.field.key.is_some()).count();
            missing.ghl = fields.iter().map(GhlGap::from).collect();
        }
        Err(error) => missing.ghl_problem = Some(ghl_problem(&error)),
    }
    if let Some(api) = &clients.tovuti {
        let catalog = ApiCatalog(api.as_ref());
        let lacking = tovuti_missing(&catalog, &loaded.mapping, loaded.source()).await;
        missing.tovuti = Some(lacking);
    }
    missing
}

/// Why GHL could not be checked, in the operator's terms: what to do about a refused
/// token differs from waiting for GHL to answer again. GHL's own answer is not quoted:
/// its status says enough here, and the event log keeps bodies where they matter.
fn ghl_problem(error: &GhlError) -> String {
    let answered = error
        .status()
        .map(|status| format!(" (it answered {status})"))
        .unwrap_or_default();
    match error.class() {
        ErrorClass::Unauthorized => {
            "GHL refused the connection's token (re-authorise it).".to_owned()
        }
        ErrorClass::NeedsReauth => {
            "GHL refused to renew the connection's authorisation (re-authorise it).".to_owned()
        }
        ErrorClass::Forbidden => format!(
            "GHL refused access to the location's custom fields: the token lacks the scope \
             locations/customFields.readonly or access to this location{answered}."
        ),
        ErrorClass::RateLimited { .. } => {
            "GHL is limiting this location's requests; try again shortly.".to_owned()
        }
        ErrorClass::Retryable if error.status().is_none() => {
            // A transport failure: the detail names the endpoint and the network error.
            format!("GHL cannot be reached: {error}.")
        }
        ErrorClass::Retryable => format!("GHL cannot be reached{answered}; try again later."),
        ErrorClass::Undecodable => "GHL's answer could not be read; try again later.".to_owned(),
        ErrorClass::NotFound | ErrorClass::Duplicate | ErrorClass::Permanent => {
            format!("GHL refused to list the location's custom fields{answered}.")
        }
    }
}

async fn connected(state: &AppState, id: &str) -> Result<Clients, ApiError> {
    let connection = live(state, id).await?;
    clients(state, &connection).await
}

/// The outcome of the last creation, as the redirect carries it back to the page.
#[derive(Default, Deserialize)]
pub(super) struct ProvisionResult {
    created: Option<String>,
    unresolved: Option<String>,
}

/// The outcome as the page shows it.
#[derive(Serialize)]
pub(super) struct Done {
    /// How many fields were created.
    created: usize,
    /// How many could not be created as named (still listed as missing).
    unresolved: usize,
}

impl ProvisionResult {
    /// `None` without an outcome (or with one that is not two counts).
    pub(super) fn done(&self) -> Option<Done> {
        Some(Done {
            created: self.created.as_deref()?.parse().ok()?,
            unresolved: self.unresolved.as_deref()?.parse().ok()?,
        })
    }
}

/// Creates the missing GHL custom fields named by key, audits the keys created, and
/// redirects back to the Mapping page, which shows the outcome and what is still missing.
pub async fn create(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let back = format!("/console/connections/{id}/mapping");
    let Ok(clients) = connected(&state, &id).await else {
        // The page says why the connection cannot be checked.
        return super::see_other(&back);
    };
    let Ok(fields) = ghl_missing(&clients.ghl, &clients.mapping.mapping).await else {
        return super::see_other(&back);
    };
    let creatable: Vec<WantedField> = fields
        .into_iter()
        .filter(|w| w.field.key.is_some())
        .collect();
    let mut done = Provisioned::default();
    provision_ghl(&clients.ghl, &creatable, true, &mut done).await;
    let detail = serde_json::json!({ "created": done.created_keys });
    if let Err(error) = audit(
        &state,
        &session.caller,
        "mapping.provision",
        Some(&id),
        None,
        detail,
    )
    .await
    {
        return refused(&console, &session, error);
    }
    let created = done.created.len();
    let unresolved = creatable.len().saturating_sub(created);
    super::see_other(&format!("{back}?created={created}&unresolved={unresolved}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::ghl::client::Failure;

    fn answered(status: u16) -> GhlError {
        GhlError::Status(Box::new(Failure {
            endpoint: "custom fields",
            status,
            trace_id: None,
            body: r#"{"message":"GHL's own words"}"#.to_owned(),
            duplicate_of: None,
            retry_after: None,
        }))
    }

    #[test]
    fn each_class_reads_as_what_the_operator_should_do() {
        let refused = ghl_problem(&answered(401));
        assert_eq!(
            refused,
            "GHL refused the connection's token (re-authorise it)."
        );
        assert!(ghl_problem(&answered(403)).contains("locations/customFields.readonly"));
        assert!(ghl_problem(&answered(429)).contains("try again shortly"));
        let down = ghl_problem(&answered(503));
        assert_eq!(
            down,
            "GHL cannot be reached (it answered 503); try again later."
        );
        let unreachable = GhlError::Unreachable {
            endpoint: "custom fields",
            detail: "connection refused".to_owned(),
        };
        assert!(ghl_problem(&unreachable).starts_with("GHL cannot be reached: "));
        for status in [401, 403, 404, 422, 429, 503] {
            assert!(
                !ghl_problem(&answered(status)).contains("own words"),
                "{status}"
            );
        }
    }
}
