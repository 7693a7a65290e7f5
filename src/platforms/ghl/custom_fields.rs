//! `GET /locations/{locationId}/customFields`: the location's contact custom fields, so
//! `mapping validate --online` can check the ids and keys a mapping names.

use serde::Deserialize;

/// The API version this endpoint is documented under (apps/locations.json).
const VERSION: &str = "2021-07-28";

/// One custom field definition (`CustomFieldSchema`, the fields we use).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldDef {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// e.g. `contact.job_title`.
    #[serde(default)]
    pub field_key: String,
    #[serde(default)]
    pub data_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    custom_fields: Vec<CustomFieldDef>,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomFieldsError {
    #[error("cannot reach GHL: {0}")]
    Transport(#[source] reqwest::Error),
    /// The body is kept for the operator; GHL error bodies carry no secrets.
    #[error("GHL answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("GHL's answer is not the documented custom-field list: {0}")]
    Decode(#[source] reqwest::Error),
}

/// Lists the contact custom fields of a location.
pub async fn list_contact_fields(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    location_id: &str,
) -> Result<Vec<CustomFieldDef>, CustomFieldsError> {
    let url = format!(
        "{}/locations/{location_id}/customFields",
        base_url.trim_end_matches('/')
    );
    let response = http
        .get(url)
        .query(&[("model", "contact")])
        .bearer_auth(token)
        .header("Version", VERSION)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(CustomFieldsError::Transport)?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(500).collect();
        return Err(CustomFieldsError::Status {
            status: status.as_u16(),
            body,
        });
    }
    let list: ListResponse = response.json().await.map_err(CustomFieldsError::Decode)?;
    Ok(list.custom_fields)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::extract::{Path, Query};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use serde_json::json;

    use super::*;

    async fn fake(
        Path(location): Path<String>,
        Query(q): Query<std::collections::HashMap<String, String>>,
        headers: HeaderMap,
    ) -> (StatusCode, axum::Json<serde_json::Value>) {
        let authed = headers
            .get("authorization")
            .is_some_and(|v| v == "Bearer pit-123");
        let versioned = headers.get("version").is_some_and(|v| v == VERSION);
        if !authed {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"statusCode": 401, "message": "Invalid JWT"})),
            );
        }
        assert!(versioned, "the Version header is required");
        assert_eq!(q.get("model").map(String::as_str), Some("contact"));
        let fields = json!({"customFields": [
            {"id": "BcdmQEsNgz6AVpgLVUJ0", "name": "Job title", "fieldKey": "contact.job_title",
             "dataType": "TEXT", "locationId": location, "model": "contact", "position": 0}
        ]});
        (StatusCode::OK, axum::Json(fields))
    }

    async fn serve() -> String {
        let app = Router::new().route("/locations/{location}/customFields", get(fake));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn lists_the_location_contact_fields() {
        let base = serve().await;
        let http = reqwest::Client::new();
        let fields = list_contact_fields(&http, &base, "pit-123", "loc1")
            .await
            .unwrap();
        assert_eq!(
            fields,
            vec![CustomFieldDef {
                id: "BcdmQEsNgz6AVpgLVUJ0".to_owned(),
                name: "Job title".to_owned(),
                field_key: "contact.job_title".to_owned(),
                data_type: "TEXT".to_owned(),
            }]
        );
    }

    #[tokio::test]
    async fn a_rejected_token_is_reported_with_its_status() {
        let base = serve().await;
        let http = reqwest::Client::new();
        let err = list_contact_fields(&http, &base, "wrong", "loc1")
            .await
            .unwrap_err();
        assert!(
            matches!(err, CustomFieldsError::Status { status: 401, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("Invalid JWT"));
    }
}
