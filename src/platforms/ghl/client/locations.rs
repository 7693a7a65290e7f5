//! `GET /locations/{locationId}/customFields`: the location's contact custom fields,
//! so writes can name a field by the `id` GHL's spec requires when the mapping gave
//! only its `key`.

use reqwest::Method;
use serde::Deserialize;

use super::{Call, Connection, GhlError};
use crate::platforms::ghl::custom_fields::CustomFieldDef;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomFields {
    #[serde(default)]
    custom_fields: Vec<CustomFieldDef>,
}

impl Connection {
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
}
