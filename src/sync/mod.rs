//! The sync engine: one stored event becomes its downstream effects, exactly once.
//! Parse the stored body, look up who it is about on the other side, ask the mapping
//! for a plan, drop it when it only reflects our own last write (echo), run the plan's
//! actions under their idempotency keys, then remember links and what was written.

mod assemble;
mod automation_ids;
mod clients;
mod coalesce;
mod contact_body;
mod context;
mod echo;
mod effects;
mod errors;
mod field_ids;
mod freshness;
mod gate;
mod ghl_actions;
mod polled;
mod processor;
mod refresh_gate;
pub mod seen;
mod skipped;
mod tenants;
mod tovuti_actions;
mod tovuti_known;
mod tovuti_names;
mod tovuti_writes;

use std::sync::Arc;

use async_trait::async_trait;

pub use clients::Clients;
pub use effects::Anchor;
pub use errors::SyncError;
pub use processor::{ProcessError, Processor};

use self::effects::Run;
use self::skipped::Skipped;
use crate::mapping::{Incoming, Mapping, Plan, plan};
use crate::platforms::ghl::client::{GhlError, LocationApi};
use crate::platforms::ghl::{GhlEvent, GhlWebhook};
use crate::platforms::tovuti::TovutiWebhook;
use crate::store::{
    Completion, Connection, ConnectionStatus, Direction, Millis, Source, Store, StoredEvent,
};
use crate::telemetry::Metrics;

pub struct SyncEngine {
    store: Arc<dyn Store>,
    mapping: Arc<Mapping>,
    /// The process's clients, shared with the HTTP handlers.
    clients: Arc<Clients>,
    field_ids: field_ids::FieldIds,
    automation_ids: automation_ids::AutomationIds,
    /// Per connection: its mapping and its Tovuti tenant's catalog.
    tenants: tenants::Tenants,
    metrics: Arc<Metrics>,
    /// This process's lease owner name (coalescing touches only events it holds).
    owner: String,
}

#[async_trait]
impl Processor for SyncEngine {
    async fn process(&self, event: &StoredEvent) -> Result<Completion, ProcessError> {
        // Refused credentials are not marked on the connection here: the OAuth session
        // does that when a refresh is refused, and a static token's 401 may be passing.
        self.sync(event)
            .await
            .map_err(|error| error.into_process_error(Millis::now()))
    }
}

impl SyncEngine {
    pub fn new(
        store: Arc<dyn Store>,
        mapping: Arc<Mapping>,
        clients: Arc<Clients>,
        metrics: Arc<Metrics>,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            store,
            mapping,
            clients,
            field_ids: field_ids::FieldIds::default(),
            automation_ids: automation_ids::AutomationIds::default(),
            tenants: tenants::Tenants::default(),
            metrics,
            owner: owner.into(),
        }
    }

    async fn sync(&self, event: &StoredEvent) -> Result<Completion, SyncError> {
        let Some(connection) = self.connection(event).await? else {
            return Ok(Completion::Ignored);
        };
        if self.superseded(event).await? {
            return Ok(Completion::Superseded);
        }
        match event.source {
            Source::Tovuti | Source::Poller => self.tovuti_event(event, &connection).await,
            Source::Ghl | Source::Sweep => self.ghl_event(event, &connection).await,
        }
    }

    async fn tovuti_event(
        &self,
        event: &StoredEvent,
        connection: &Connection,
    ) -> Result<Completion, SyncError> {
        let mut webhook = TovutiWebhook::parse(&event.body)
            .map_err(|e| SyncError::Permanent(format!("the stored event does not parse: {e}")))?;
        if self.stale(event, connection, webhook.occurred_at).await? {
            return Ok(Completion::Superseded);
        }
        let ghl = self.ghl(connection).await?;
        let tovuti = self.clients.tovuti(connection).await?;
        if event.source == Source::Poller {
            context::complete_polled_user(&mut webhook, tovuti.as_deref()).await?;
        }
        let tenant = self.tenants.of(connection, &self.mapping)?;
        let mapping = tenant
            .known
            .mapping(tovuti.as_deref(), &tenant.mapping)
            .await;
        let gathered = context::for_tovuti(self.store.as_ref(), &connection.id, &webhook).await?;
        let plan = plan(&mapping, Incoming::Tovuti(&webhook), &gathered.known());
        let user = gathered.links.tovuti_user_id;
        if let Some(user) = user
            && self
                .is_echo(
                    connection,
                    &format!("tovuti:user:{user}"),
                    Direction::ToTovuti,
                    &plan,
                )
                .await?
        {
            return Ok(Completion::Echo);
        }
        let anchor = user.map_or(Anchor::None, Anchor::TovutiUser);
        let mut run = self.run(event, connection, &ghl, tovuti, anchor, &tenant);
        run.all(&plan.actions).await?;
        let contact = gathered
            .links
            .ghl_contact_id
            .clone()
            .or_else(|| run.contacts.values().next().cloned());
        let written = skipped::written_fingerprint(&mapping, &plan, &run.skipped);
        let fingerprint = async {
            if let (Some(fingerprint), Some(contact)) = (&written, contact) {
                let entity = format!("ghl:contact:{contact}");
                self.remember_written(connection, &entity, Direction::ToGhl, fingerprint)
                    .await?;
                // What was written is what the contact now holds: a sweep must not take it
                // for a change made in GHL.
                seen::remember(self.store.as_ref(), &connection.id, &contact, fingerprint).await?;
            }
            Ok(())
        };
        let pushed = async {
            if event.source == Source::Tovuti {
                polled::remember_pushed(self.store.as_ref(), &connection.id, &webhook.event)
                    .await?;
            }
            Ok(())
        };
        // Rows independent of each other: written at once, they share a batch of the group
        // commit instead of waiting for one each in turn.
        tokio::try_join!(
            fingerprint,
            self.applied(event, connection, webhook.occurred_at),
            pushed
        )?;
        Ok(finished(&plan))
    }

    async fn ghl_event(
        &self,
        event: &StoredEvent,
        connection: &Connection,
    ) -> Result<Completion, SyncError> {
        let webhook = GhlWebhook::parse(&event.body)
            .map_err(|e| SyncError::Permanent(format!("the stored event does not parse: {e}")))?;
        match &webhook.event {
            GhlEvent::Uninstall(_) => return self.uninstall(connection).await,
            GhlEvent::Install(_) | GhlEvent::Unknown { .. } => return Ok(Completion::Ignored),
            _ => {}
        }
        if self.stale(event, connection, webhook.timestamp).await? {
            return Ok(Completion::Superseded);
        }
        let ghl = self.ghl(connection).await?;
        let tovuti = self.clients.tovuti(connection).await?;
        let tenant = self.tenants.of(connection, &self.mapping)?;
        let mapping = tenant
            .known
            .mapping(tovuti.as_deref(), &tenant.mapping)
            .await;
        let gathered = context::for_ghl(
            self.store.as_ref(),
            connection,
            &mapping,
            &webhook,
            &ghl,
            tovuti.as_deref(),
        )
        .await?;
        let event_id = event.id.to_string();
        let incoming = Incoming::Ghl {
            event_id: &event_id,
            webhook: &webhook,
        };
        let plan = plan(&mapping, incoming, &gathered.known());
        let contact = gathered.links.ghl_contact_id.clone();
        if let Some(contact) = &contact
            && self
                .is_echo(
                    connection,
                    &format!("ghl:contact:{contact}"),
                    Direction::ToGhl,
                    &plan,
                )
                .await?
        {
            gathered
                .save_tags(self.store.as_ref(), &connection.id)
                .await?;
            seen::remember_event(
                self.store.as_ref(),
                &tenant.mapping,
                &connection.id,
                &webhook.event,
            )
            .await?;
            return Ok(Completion::Echo);
        }
        let anchor = contact.clone().map_or(Anchor::None, Anchor::GhlContact);
        let mut run = self.run(event, connection, &ghl, tovuti, anchor, &tenant);
        run.skip(plan.unresolved.iter().map(Skipped::unresolved).collect())?;
        run.all(&plan.actions).await?;
        let user = gathered
            .links
            .tovuti_user_id
            .or_else(|| run.users.values().next().copied());
        let written = skipped::written_fingerprint(&mapping, &plan, &run.skipped);
        if let (Some(fingerprint), Some(user)) = (&written, user) {
            let entity = format!("tovuti:user:{user}");
            self.remember_written(connection, &entity, Direction::ToTovuti, fingerprint)
                .await?;
        }
        gathered
            .save_tags(self.store.as_ref(), &connection.id)
            .await?;
        seen::remember_event(
            self.store.as_ref(),
            &tenant.mapping,
            &connection.id,
            &webhook.event,
        )
        .await?;
        self.applied(event, connection, webhook.timestamp).await?;
        Ok(finished(&plan))
    }

    fn run<'a>(
        &'a self,
        event: &StoredEvent,
        connection: &'a Connection,
        ghl: &'a LocationApi,
        tovuti: Option<Arc<dyn crate::platforms::tovuti::TovutiApi>>,
        anchor: Anchor,
        tenant: &'a tenants::Tenant,
    ) -> Run<'a> {
        Run {
            store: self.store.as_ref(),
            event_id: event.id,
            connection,
            ghl,
            tovuti,
            anchor,
            field_ids: &self.field_ids,
            automation_ids: &self.automation_ids,
            tovuti_known: &tenant.known,
            metrics: &self.metrics,
            on_missing: tenant.mapping.file.settings.on_missing,
            skipped: Vec::new(),
            contacts: std::collections::HashMap::new(),
            users: std::collections::HashMap::new(),
        }
    }

    async fn ghl(&self, connection: &Connection) -> Result<LocationApi, SyncError> {
        self.clients.ghl(connection).await.map_err(|e| match e {
            GhlError::Credentials(reason) => SyncError::NeedsReauth(reason),
            other => SyncError::Ghl(other),
        })
    }

    /// The platforms this engine syncs through; a sweep shares their GHL lanes, so the
    /// location's quota is counted in one place.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The configured mapping (the `default` connection's, and any without its own).
    pub fn mapping(&self) -> &Arc<Mapping> {
        &self.mapping
    }

    /// The mapping `connection` syncs with: its own `mapping_path`, else the configured
    /// one. A mapping file that no longer loads is a permanent error.
    pub fn mapping_of(&self, connection: &Connection) -> Result<Arc<Mapping>, SyncError> {
        let tenant = self.tenants.of(connection, &self.mapping)?;
        Ok(Arc::clone(&tenant.mapping))
    }

    /// The app was removed from the location: stop syncing it and erase its tokens.
    async fn uninstall(&self, connection: &Connection) -> Result<Completion, SyncError> {
        self.store
            .set_connection_status(
                &connection.id,
                ConnectionStatus::Disconnected,
                Some("the app was uninstalled from the location"),
            )
            .await?;
        let erased = self.store.erase_credentials(&connection.id).await?;
        self.clients.forget(&connection.id);
        tracing::info!(connection = %connection.id, erased, "connection disconnected: app uninstalled");
        Ok(Completion::Done)
    }
}

/// Done when the plan had work or nothing to do; problems in single fields are logged
/// (the rest was still synced).
fn finished(plan: &Plan) -> Completion {
    for problem in &plan.problems {
        if crate::telemetry::warnings::FIELD_NOT_SYNCED.admit() {
            tracing::warn!(event.id = %plan.event_id, field = %problem.field, reason = %problem.message, "a field was not synced");
        }
    }
    Completion::Done
}
