//! Appointments: a contact's list (contacts family) and create / update / get through
//! the calendars API, which requires `Version: 2021-04-15`.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Call, GhlError, LocationApi};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub id: String,
    pub calendar_id: Option<String>,
    pub location_id: Option<String>,
    pub contact_id: Option<String>,
    pub title: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub appointment_status: Option<String>,
    pub assigned_user_id: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// `AppointmentCreateSchema` less `locationId`, which the connection adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAppointment {
    pub calendar_id: String,
    pub contact_id: String,
    /// ISO 8601 with offset, e.g. `2021-06-23T03:30:00+05:30`.
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `new`, `confirmed`, `cancelled`, `showed`, `noshow` or `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Book even outside the calendar's free slots (LMS sessions are fixed in time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_free_slot_validation: Option<bool>,
}

/// `AppointmentEditSchema`: only the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_status: Option<String>,
}

#[derive(Deserialize)]
struct Wrapped {
    event: Appointment,
}

#[derive(Deserialize)]
struct Many {
    #[serde(default)]
    events: Vec<Appointment>,
}

impl LocationApi {
    pub async fn contact_appointments(
        &self,
        contact_id: &str,
    ) -> Result<Vec<Appointment>, GhlError> {
        let segments = ["contacts", contact_id, "appointments"];
        let call = Call::new(Method::GET, "appointments.for_contact", &segments);
        Ok(self.send::<Many>(call).await?.events)
    }

    pub async fn create_appointment(&self, new: &NewAppointment) -> Result<Appointment, GhlError> {
        let mut body = serde_json::to_value(new).map_err(|e| GhlError::Decode {
            endpoint: "appointments.create",
            detail: e.to_string(),
        })?;
        body["locationId"] = Value::String(self.location_id.clone());
        let segments = ["calendars", "events", "appointments"];
        let call = Call::new(Method::POST, "appointments.create", &segments)
            .calendars()
            .json(&body)?;
        self.send(call).await
    }

    pub async fn update_appointment(
        &self,
        event_id: &str,
        update: &AppointmentUpdate,
    ) -> Result<Appointment, GhlError> {
        let segments = ["calendars", "events", "appointments", event_id];
        let call = Call::new(Method::PUT, "appointments.update", &segments)
            .calendars()
            .json(update)?;
        self.send(call).await
    }

    pub async fn get_appointment(&self, event_id: &str) -> Result<Appointment, GhlError> {
        let segments = ["calendars", "events", "appointments", event_id];
        let call = Call::new(Method::GET, "appointments.get", &segments).calendars();
        Ok(self.send::<Wrapped>(call).await?.event)
    }
}
