//! GHL campaigns and workflows as contact rules name them: by id, or by name (ids differ
//! per location), which the sync engine looks up in the location's lists.

use serde::Serialize;

use super::model::{ContactRule, CourseRule};

impl ContactRule {
    /// The campaign to start: by id when given, else by name.
    pub fn campaign_ref(&self) -> Option<AutomationRef> {
        AutomationRef::of(&self.campaign_id, &self.campaign)
    }

    pub fn workflow_ref(&self) -> Option<AutomationRef> {
        AutomationRef::of(&self.workflow_id, &self.workflow)
    }
}

/// A GHL campaign or workflow as a rule names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationRef {
    Id(String),
    /// Looked up in the location's list when the action runs.
    Name(String),
}

impl AutomationRef {
    fn of(id: &Option<String>, name: &Option<String>) -> Option<Self> {
        match (id, name) {
            (Some(id), _) => Some(Self::Id(id.clone())),
            (None, Some(name)) => Some(Self::Name(name.clone())),
            (None, None) => None,
        }
    }

    /// The id or name, for idempotency keys and messages.
    pub fn text(&self) -> &str {
        match self {
            Self::Id(s) | Self::Name(s) => s,
        }
    }
}

impl CourseRule {
    /// Its tags, campaign and workflow as a contact rule.
    pub fn as_contact_rule(&self) -> ContactRule {
        ContactRule {
            tags: self.tags.clone(),
            campaign_id: self.campaign_id.clone(),
            workflow_id: self.workflow_id.clone(),
            campaign: self.campaign.clone(),
            workflow: self.workflow.clone(),
        }
    }
}
