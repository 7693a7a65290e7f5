//! `GET /api/v1/connections/{id}/links?tovuti_user=…|ghl_contact=…|email=…`: one
//! learner or contact, linked or not, with its recent events. An email is looked up on
//! Tovuti (then GHL) first; the address is never logged or audited.

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::params::{Params, bad};
use super::store_failed;
use crate::admin::links::{LinkView, Who, lookup};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::Connection;

const PARAMS: &[&str] = &["tovuti_user", "ghl_contact", "email"];

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LinkView>, ApiError> {
    let params = Params::parse(raw.as_deref(), PARAMS)?;
    let connection = super::connections::live(&state, &id).await?;
    let given = [
        params.text("tovuti_user")?.map(Who::TovutiUser),
        params.text("ghl_contact")?.map(Who::GhlContact),
    ];
    let email = params.text("email")?;
    let who = match (given, email) {
        ([Some(who), None], None) | ([None, Some(who)], None) => who,
        ([None, None], Some(email)) => by_email(&state, &connection, &email).await?,
        _ => {
            return Err(bad(
                "tovuti_user",
                "give exactly one of tovuti_user, ghl_contact or email",
            ));
        }
    };
    let view = lookup(state.store.as_ref(), &id, who)
        .await
        .map_err(store_failed)?;
    Ok(Json(view))
}

/// The Tovuti user with this email, else the GHL contact; 404 when neither side has one.
async fn by_email(state: &AppState, connection: &Connection, email: &str) -> Result<Who, ApiError> {
    let clients = &state.clients;
    let unreachable = |side: &str| {
        ApiError::Unavailable(format!(
            "{side} could not be asked; try again, or look up by id"
        ))
    };
    let tovuti = clients
        .tovuti(connection)
        .await
        .map_err(|_| unreachable("Tovuti"))?;
    if let Some(api) = tovuti
        && let Some(user) = api
            .find_user_by_email(email)
            .await
            .map_err(|_| unreachable("Tovuti"))?
    {
        return Ok(Who::TovutiUser(user.id.to_string()));
    }
    let ghl = clients
        .ghl(connection)
        .await
        .map_err(|_| unreachable("GHL"))?
        .interactive();
    match ghl
        .find_duplicate(Some(email), None)
        .await
        .map_err(|_| unreachable("GHL"))?
    {
        Some(contact) => Ok(Who::GhlContact(contact.id)),
        None => Err(ApiError::NotFound(
            "no Tovuti user or GHL contact has this email".into(),
        )),
    }
}
