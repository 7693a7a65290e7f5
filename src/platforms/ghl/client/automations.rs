//! The location's campaigns (`GET /campaigns/`, scope `campaigns.readonly`) and workflows
//! (`GET /workflows/`, scope `workflows.readonly`), so a mapping can name them by name.

use reqwest::Method;
use serde::Deserialize;

use super::{Call, GhlError, LocationApi};

/// A campaign or workflow: its id and name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Automation {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutomationKind {
    Campaign,
    Workflow,
}

impl AutomationKind {
    /// `campaign`, `workflow`: in messages and metric labels.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Workflow => "workflow",
        }
    }
}

#[derive(Deserialize)]
struct Campaigns {
    #[serde(default)]
    campaigns: Vec<Automation>,
}

#[derive(Deserialize)]
struct Workflows {
    #[serde(default)]
    workflows: Vec<Automation>,
}

impl LocationApi {
    /// Every campaign or workflow of the location.
    pub async fn automations(&self, kind: AutomationKind) -> Result<Vec<Automation>, GhlError> {
        let location = self.location_id().to_owned();
        match kind {
            AutomationKind::Campaign => {
                let call = Call::new(Method::GET, "campaigns.list", &["campaigns", ""])
                    .query("locationId", &location);
                Ok(self.send::<Campaigns>(call).await?.campaigns)
            }
            AutomationKind::Workflow => {
                let call = Call::new(Method::GET, "workflows.list", &["workflows", ""])
                    .query("locationId", &location);
                Ok(self.send::<Workflows>(call).await?.workflows)
            }
        }
    }
}
