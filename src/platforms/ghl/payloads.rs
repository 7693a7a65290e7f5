//! Serde types for the bodies of GHL webhook events, one struct per payload shape.
//!
//! Shapes follow GHL's official examples (the `docs/webhook events/` pages of
//! https://github.com/GoHighLevel/highlevel-api-docs, read by the tests through
//! `spec_files`). Every
//! field but the entity id is optional because GHL omits empty fields, and every struct keeps
//! the fields it does not name in `extra`, so nothing GHL sends is lost on the way to mapping.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::platforms::lenient::null_as_default;

/// Body of ContactCreate / ContactUpdate / ContactDelete / ContactTagUpdate / ContactDndUpdate.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub website: Option<String>,
    pub source: Option<String>,
    pub date_added: Option<String>,
    pub date_of_birth: Option<String>,
    pub assigned_to: Option<String>,
    pub dnd: Option<bool>,
    /// Per channel (`SMS`, `Email`, `Call`, …); only ContactDndUpdate carries it.
    pub dnd_settings: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attachments: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A contact custom field as GHL reports it on read: `{id, value}`, where `value` may be a
/// string, number, array or object, so it stays a JSON value here.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CustomFieldValue {
    pub id: String,
    #[serde(default)]
    pub value: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of NoteCreate / NoteUpdate / NoteDelete.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub contact_id: Option<String>,
    pub body: Option<String>,
    pub date_added: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of TaskCreate / TaskComplete / TaskDelete (GHL sends no TaskUpdate).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub contact_id: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub assigned_to: Option<String>,
    pub due_date: Option<String>,
    pub date_added: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of AppointmentCreate / AppointmentUpdate / AppointmentDelete: the appointment is nested.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct AppointmentPayload {
    pub appointment: Appointment,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub id: String,
    pub calendar_id: Option<String>,
    pub contact_id: Option<String>,
    pub group_id: Option<String>,
    pub title: Option<String>,
    pub address: Option<String>,
    pub appointment_status: Option<String>,
    pub assigned_user_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<String>,
    pub notes: Option<String>,
    pub source: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub date_added: Option<String>,
    pub date_updated: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of CampaignStatusUpdate.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStatus {
    pub id: String,
    pub contact_id: Option<String>,
    pub status: Option<String>,
    pub template_id: Option<String>,
    pub replied: Option<Value>,
    pub date_added: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `INSTALL`. An agency-level install has `companyId` and no `locationId`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInstall {
    pub app_id: Option<String>,
    pub company_id: Option<String>,
    pub user_id: Option<String>,
    pub plan_id: Option<String>,
    pub version_id: Option<String>,
    pub install_type: Option<String>,
    pub company_name: Option<String>,
    pub is_whitelabel_company: Option<bool>,
    pub whitelabel_details: Option<Map<String, Value>>,
    pub trial: Option<Trial>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trial {
    pub on_trial: Option<bool>,
    pub trial_duration: Option<f64>,
    pub trial_start_date: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `UNINSTALL`: location level has `locationId`, agency level `companyId`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUninstall {
    pub app_id: Option<String>,
    pub company_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
