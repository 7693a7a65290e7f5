//! `GET /locations/{locationId}/customFields`: the location's contact custom fields,
//! so writes can name a field by the `id` GHL's spec requires when the mapping gave
//! only its `key`; and `POST` there, so `mapping provision --apply` can create the ones
//! a fresh location lacks.

use reqwest::Method;
use serde::Deserialize;

use super::{Call, GhlError, LocationApi};
use crate::platforms::ghl::custom_fields::CustomFieldDef;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomFields {
    #[serde(default)]
    custom_fields: Vec<CustomFieldDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    custom_field: CustomFieldDef,
}

impl LocationApi {
    /// The contact custom fields defined in this location.
    pub async fn contact_custom_fields(&self) -> Result<Vec<CustomFieldDef>, GhlError> {
        let call = Call::new(
            Method::GET,
            "locations.customFields",
            &["locations", &self.location_id, "customFields"],
        )
        .query("model", "contact");
        let list: CustomFields = self.send(call).await?;
        Ok(list.custom_fields)
    }

    /// Creates a contact custom field; GHL derives its key from `name` (`Job Title` →
    /// `contact.job_title`). Sent once: a lost answer is not retried blind.
    pub async fn create_contact_custom_field(
        &self,
        name: &str,
        data_type: &str,
    ) -> Result<CustomFieldDef, GhlError> {
        let body = serde_json::json!({ "name": name, "dataType": data_type, "model": "contact" });
        let call = Call::new(
            Method::POST,
            "locations.customFields.create",
            &["locations", &self.location_id, "customFields"],
        )
        .json(&body)?;
        let created: Created = self.send(call).await?;
        Ok(created.custom_field)
    }
}
