//! Contacts: get, create, update, upsert, delete, search and duplicate lookup. Custom
//! fields are written `{id|key, field_value}` and read `{id, value}`; an update has no
//! `tags` field at all, because GHL would overwrite every tag with it.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Call, GhlError, LocationApi};

/// A contact as GHL returns it; fields the service does not use stay in `extra`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub location_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldValue>,
    pub date_added: Option<String>,
    pub date_updated: Option<String>,
    /// The paging cursor `POST /contacts/search` puts on each result.
    pub search_after: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// A custom field as GHL reads it back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CustomFieldValue {
    pub id: String,
    #[serde(default)]
    pub value: Value,
}

/// A custom field as GHL takes it: by `id` or by `key` (`contact.my_field`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomFieldInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub field_value: Value,
}

/// The body of create and upsert (`CreateContactDto` / `UpsertContactDto`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Only on create/upsert, where it sets the initial tags; later changes go
    /// through the tag endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldInput>,
    /// Further standard fields by their API name (`dateOfBirth`, `address1`, …).
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// The body of an update (`UpdateContactDto`): deliberately without `tags`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldInput>,
    /// Further standard fields by their API name (`dateOfBirth`, `address1`, …).
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// What an upsert did.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upserted {
    /// True when GHL created the contact, false when it updated an existing one.
    pub new: bool,
    pub contact: Contact,
    pub trace_id: Option<String>,
}

/// One page of `POST /contacts/search`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// Results per page (GHL: 1..=500).
    pub page_limit: u32,
    /// The last result's `searchAfter`, to get the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_after: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Value>,
    /// Result order; the paging cursor then carries the sort values (`searchAfter`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SearchSort>,
}

impl SearchQuery {
    /// Contacts changed at or after `since`, oldest change first: what a sweep for missed
    /// changes pages through. Ties on `dateUpdated` are broken by GHL's own order, which
    /// the `searchAfter` cursor carries.
    pub fn updated_since(since: jiff::Timestamp, page_limit: u32) -> Self {
        Self {
            page_limit,
            filters: vec![updated_since_filter(since)],
            sort: vec![SearchSort {
                field: "dateUpdated".into(),
                direction: SortDirection::Asc,
            }],
            ..Self::default()
        }
    }
}

/// The search filter for contacts whose `dateUpdated` is at or after `since`.
pub fn updated_since_filter(since: jiff::Timestamp) -> serde_json::Value {
    serde_json::json!({
        "field": "dateUpdated",
        "operator": "range",
        "value": { "gte": since.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string() },
    })
}

/// One sort key of a search (`{field, direction}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchSort {
    pub field: String,
    pub direction: SortDirection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SearchPage {
    #[serde(default)]
    pub contacts: Vec<Contact>,
    pub total: Option<u64>,
}

impl SearchPage {
    /// The cursor for the next page, when this one was full.
    pub fn next_cursor(&self, page_limit: u32) -> Option<Vec<Value>> {
        let full = self.contacts.len() >= usize::try_from(page_limit).unwrap_or(usize::MAX);
        full.then(|| self.contacts.last()?.search_after.clone())
            .flatten()
    }
}

#[derive(Deserialize)]
struct One {
    contact: Contact,
}

#[derive(Deserialize)]
struct Maybe {
    contact: Option<Contact>,
}

/// Adds the connection's `locationId` to a body, as create, upsert and search need.
fn located(body: &impl Serialize, location_id: &str) -> Result<Value, GhlError> {
    let mut value = serde_json::to_value(body).map_err(|e| GhlError::Decode {
        endpoint: "contacts.body",
        detail: e.to_string(),
    })?;
    if let Value::Object(map) = &mut value {
        map.insert("locationId".into(), Value::String(location_id.to_owned()));
    }
    Ok(value)
}

impl LocationApi {
    pub async fn get_contact(&self, id: &str) -> Result<Contact, GhlError> {
        let call = Call::new(Method::GET, "contacts.get", &["contacts", id]);
        Ok(self.send::<One>(call).await?.contact)
    }

    /// Creates a contact; a duplicate answers [`ErrorClass::Duplicate`](crate::platforms::ErrorClass)
    /// with the existing id in `Failure::duplicate_of`.
    pub async fn create_contact(&self, input: &ContactInput) -> Result<Contact, GhlError> {
        let body = located(input, &self.location_id)?;
        let call = Call::new(Method::POST, "contacts.create", &["contacts", ""]).json(&body)?;
        Ok(self.send::<One>(call).await?.contact)
    }

    pub async fn update_contact(
        &self,
        id: &str,
        update: &ContactUpdate,
    ) -> Result<Contact, GhlError> {
        let call = Call::new(Method::PUT, "contacts.update", &["contacts", id]).json(update)?;
        Ok(self.send::<One>(call).await?.contact)
    }

    /// Creates or updates by the location's duplicate rule (email, then phone).
    pub async fn upsert_contact(&self, input: &ContactInput) -> Result<Upserted, GhlError> {
        let body = located(input, &self.location_id)?;
        let call = Call::new(Method::POST, "contacts.upsert", &["contacts", "upsert"])
            .idempotent()
            .json(&body)?;
        self.send(call).await
    }

    pub async fn delete_contact(&self, id: &str) -> Result<(), GhlError> {
        let call = Call::new(Method::DELETE, "contacts.delete", &["contacts", id]);
        self.send::<Value>(call).await.map(drop)
    }

    pub async fn search_contacts(&self, query: &SearchQuery) -> Result<SearchPage, GhlError> {
        let body = located(query, &self.location_id)?;
        let call = Call::new(Method::POST, "contacts.search", &["contacts", "search"])
            .idempotent()
            .json(&body)?;
        self.send(call).await
    }

    /// The contact GHL would treat as a duplicate of this email and/or phone.
    pub async fn find_duplicate(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Option<Contact>, GhlError> {
        let mut call = Call::new(
            Method::GET,
            "contacts.duplicate",
            &["contacts", "search", "duplicate"],
        )
        .query("locationId", self.location_id.clone());
        if let Some(email) = email {
            call = call.query("email", email);
        }
        if let Some(phone) = phone {
            call = call.query("number", phone);
        }
        Ok(self.send::<Maybe>(call).await?.contact)
    }
}
