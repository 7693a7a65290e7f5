//! What a contact belongs to: tags (added and removed one by one, never overwritten),
//! campaigns and workflows.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, GhlError, LocationApi};

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    tags: Vec<String>,
}

impl LocationApi {
    /// Adds tags, keeping the others; returns the contact's tags as GHL reports them.
    pub async fn add_tags(
        &self,
        contact_id: &str,
        tags: &[String],
    ) -> Result<Vec<String>, GhlError> {
        // Adding a tag the contact has changes nothing.
        let call = Call::new(Method::POST, "tags.add", &["contacts", contact_id, "tags"])
            .idempotent()
            .json(&json!({ "tags": tags }))?;
        Ok(self.send::<Tags>(call).await?.tags)
    }

    pub async fn remove_tags(
        &self,
        contact_id: &str,
        tags: &[String],
    ) -> Result<Vec<String>, GhlError> {
        let call = Call::new(
            Method::DELETE,
            "tags.remove",
            &["contacts", contact_id, "tags"],
        )
        .json(&json!({ "tags": tags }))?;
        Ok(self.send::<Tags>(call).await?.tags)
    }

    pub async fn add_to_campaign(
        &self,
        contact_id: &str,
        campaign_id: &str,
    ) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "campaigns", campaign_id];
        // A contact is in a campaign once, however often it is added.
        let call = Call::new(Method::POST, "campaigns.add", &segments)
            .idempotent()
            .json(&json!({}))?;
        self.send::<Value>(call).await.map(drop)
    }

    pub async fn remove_from_campaign(
        &self,
        contact_id: &str,
        campaign_id: &str,
    ) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "campaigns", campaign_id];
        let call = Call::new(Method::DELETE, "campaigns.remove", &segments);
        self.send::<Value>(call).await.map(drop)
    }

    /// Adds the contact to a workflow, optionally starting it at `event_start_time`
    /// (ISO 8601 with offset).
    pub async fn add_to_workflow(
        &self,
        contact_id: &str,
        workflow_id: &str,
        event_start_time: Option<&str>,
    ) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "workflow", workflow_id];
        let body = match event_start_time {
            Some(at) => json!({ "eventStartTime": at }),
            None => json!({}),
        };
        // Not idempotent: a workflow that allows re-entry would run a second time.
        let call = Call::new(Method::POST, "workflows.add", &segments).json(&body)?;
        self.send::<Value>(call).await.map(drop)
    }

    pub async fn remove_from_workflow(
        &self,
        contact_id: &str,
        workflow_id: &str,
    ) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "workflow", workflow_id];
        let call = Call::new(Method::DELETE, "workflows.remove", &segments).json(&json!({}))?;
        self.send::<Value>(call).await.map(drop)
    }
}
