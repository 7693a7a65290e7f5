//! Runs a plan's actions exactly once each: every action is recorded under its
//! idempotency key before it is sent and finished with what it produced. A retried or
//! replayed event skips finished actions (reusing their results); an action an earlier
//! attempt started but never finished (a crash) is reconciled against the platform
//! before anything is created again.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::automation_ids::AutomationIds;
use super::errors::SyncError;
use super::field_ids::FieldIds;
use super::skipped::{self, Skipped};
use super::tovuti_known::TovutiKnown;
use super::{ghl_actions, tovuti_actions};
use crate::mapping::Action;
use crate::mapping::policy::OnMissing;
use crate::platforms::ghl::client::LocationApi;
use crate::platforms::tovuti::TovutiApi;
use crate::store::{ActionBegin, Connection, EventId, Millis, Store};
use crate::telemetry::Metrics;

/// Who the event is about on its own side, so ids found on the other side are linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    TovutiUser(u64),
    GhlContact(String),
    None,
}

/// The state of one event's run: where to send, and ids learnt along the way.
pub struct Run<'a> {
    pub store: &'a dyn Store,
    pub event_id: EventId,
    pub connection: &'a Connection,
    pub ghl: &'a LocationApi,
    pub tovuti: Option<Arc<dyn TovutiApi>>,
    pub anchor: Anchor,
    pub field_ids: &'a FieldIds,
    pub automation_ids: &'a AutomationIds,
    pub tovuti_known: &'a TovutiKnown,
    pub metrics: &'a Metrics,
    /// What to do about items the other side lacks.
    pub on_missing: OnMissing,
    /// Items left out of this run's writes.
    pub skipped: Vec<Skipped>,
    /// Contacts found or made by email in this run (lowercase email → id).
    pub contacts: HashMap<String, String>,
    /// Tovuti users found or made by email in this run.
    pub users: HashMap<String, u64>,
}

/// Whether an action may already have happened (an earlier attempt started it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Fresh,
    Reconcile,
}

impl Run<'_> {
    /// Runs every action in order; the first failure stops the run (later actions may
    /// depend on earlier ones, and the retry resumes where this one stopped).
    pub async fn all(&mut self, actions: &[Action]) -> Result<(), SyncError> {
        for action in actions {
            self.one(action).await?;
        }
        Ok(())
    }

    async fn one(&mut self, action: &Action) -> Result<(), SyncError> {
        let key = action.key();
        let begun = self
            .store
            .begin_action(key, self.event_id, &action.name(), Millis::now())
            .await?;
        let outcome = match begun {
            ActionBegin::Done(record) => record.outcome,
            ActionBegin::Fresh | ActionBegin::Unfinished { .. } => {
                let mode = if begun == ActionBegin::Fresh {
                    Mode::Fresh
                } else {
                    Mode::Reconcile
                };
                let outcome = self.perform(action, mode).await?;
                self.store
                    .finish_action(key, &outcome, Millis::now())
                    .await?;
                outcome
            }
        };
        self.adopt(action, &outcome).await
    }

    async fn perform(&mut self, action: &Action, mode: Mode) -> Result<Value, SyncError> {
        if let Some(outcome) = ghl_actions::perform(self, action, mode).await? {
            return Ok(outcome);
        }
        tovuti_actions::perform(self, action).await
    }

    /// Learns from an action's result: ids for later actions, identity links.
    async fn adopt(&mut self, action: &Action, outcome: &Value) -> Result<(), SyncError> {
        let text = |name: &str| outcome.get(name).and_then(Value::as_str).map(str::to_owned);
        match action {
            Action::UpsertContact { email, .. } => {
                if let Some(id) = text("contact_id") {
                    self.contacts.insert(email.to_lowercase(), id.clone());
                    if let Anchor::TovutiUser(user) = self.anchor {
                        self.link(user, &id).await?;
                    }
                }
            }
            Action::CreateTovutiUser { email, .. } => {
                if let Some(id) = outcome.get("user_id").and_then(Value::as_u64) {
                    self.users.insert(email.to_lowercase(), id);
                    if let Anchor::GhlContact(contact) = &self.anchor {
                        let contact = contact.clone();
                        self.link(id, &contact).await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub async fn link(&self, user: u64, contact: &str) -> Result<(), SyncError> {
        self.store
            .link_identity(&self.connection.id, &user.to_string(), contact)
            .await?;
        Ok(())
    }

    /// Records items a write leaves out, or fails when the mapping says so.
    pub fn skip(&mut self, items: Vec<Skipped>) -> Result<(), SyncError> {
        skipped::handle(self.metrics, self.on_missing, &items)?;
        self.skipped.extend(items);
        Ok(())
    }

    pub fn tovuti(&self) -> Result<Arc<dyn TovutiApi>, SyncError> {
        self.tovuti.clone().ok_or_else(|| {
            SyncError::Permanent(
                "no Tovuti API is configured for this connection (tovuti.base_url, tovuti.token)"
                    .into(),
            )
        })
    }
}
