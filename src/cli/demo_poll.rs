//! The demo's Tovuti side as the running service learns it: Tovuti sends no webhooks, so
//! each learner step changes the fake tenant and then runs the poller's scan of the list
//! that shows the change (the service's own schedule would run the same scan at its next
//! interval), and afterwards finds where the event that scan queued ended up.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::report::{EventOutcome, Via};
use super::{ADA_EMAIL, ADA_USER_ID, COURSE_ID};
use crate::config::Config;
use crate::config::DEFAULT_CONNECTION;
use crate::platforms::tovuti::payloads::User;
use crate::poller::{
    Clock, PollContext, PollSettings, Resource, ScanMode, ScanSummary, Throttle, Unobserved,
};
use crate::sandbox::tovuti::FakeTovuti;
use crate::store::{EventStatus, Millis, ReplayFilter, Source, Store};
use crate::telemetry::Metrics;

/// The award Ada earns in step 4.
const AWARD_ID: u64 = 55;
const AWARD_TITLE: &str = "Foundations Certificate";

/// Statuses in the order one is reported when a step's events differ: trouble first.
const REPORTED: [EventStatus; 7] = [
    EventStatus::Dead,
    EventStatus::Retrying,
    EventStatus::Pending,
    EventStatus::Done,
    EventStatus::Echo,
    EventStatus::Ignored,
    EventStatus::Superseded,
];

/// A change someone makes to Ada in Tovuti, which the poller then finds.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Ada's learner account is created.
    Joins,
    /// Ada is enrolled in the course.
    Enrolls,
    /// Ada finishes the course.
    Completes,
    /// Ada earns the course's certificate.
    EarnsAward,
}

impl Change {
    /// The list whose scan shows the change.
    pub fn resource(self) -> Resource {
        match self {
            Self::Joins => Resource::Users,
            Self::Enrolls | Self::Completes => Resource::Progress,
            Self::EarnsAward => Resource::Awards,
        }
    }

    /// The event the poller queues for it.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Joins => "user.created",
            Self::Enrolls => "enrollment.created",
            Self::Completes => "course.completed",
            Self::EarnsAward => "award.earned",
        }
    }

    /// Makes the change in the fake tenant.
    pub fn apply(self, tovuti: &FakeTovuti) -> anyhow::Result<()> {
        match self {
            Self::Joins => tovuti.insert_user(ada_in_tovuti()?),
            Self::Enrolls => {
                if !tovuti.enroll(ADA_USER_ID, COURSE_ID) {
                    bail!("Ada is not in the sandbox Tovuti");
                }
            }
            Self::Completes => tovuti.complete_course(ADA_USER_ID, COURSE_ID),
            Self::EarnsAward => {
                tovuti.grant_course_award(ADA_USER_ID, AWARD_ID, AWARD_TITLE, COURSE_ID);
            }
        }
        Ok(())
    }
}

/// Ada as she joins the LMS: with a company, in a group, enrolled in nothing yet.
fn ada_in_tovuti() -> anyhow::Result<User> {
    serde_json::from_value(json!({
        "id": ADA_USER_ID, "name": "Ada Lovelace", "email": ADA_EMAIL, "status": "active",
        "customFields": [{"field_id": 22, "value": "Analytical Engines", "title": "Company"}],
        "userGroupIds": [2],
    }))
    .context("building Ada's Tovuti user")
}

/// The poller of the service's default connection, driven step by step; it shares the
/// service's store, so its cursors, snapshots and queued events are the service's own.
pub struct DemoPoller {
    ctx: PollContext,
}

impl DemoPoller {
    /// The service's configuration decides the settings; the scans are the demo's to run.
    pub fn new(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let lists = crate::poller::default_lists(config)?
            .context("the sandbox configured no Tovuti API")?;
        Ok(Self {
            ctx: PollContext {
                store,
                lists,
                connection: DEFAULT_CONNECTION.to_owned(),
                owner: "demo".to_owned(),
                settings: PollSettings::from_config(&config.poller, false),
                metrics: Arc::new(Metrics::new()),
                throttle: Throttle::none(),
                clock: Clock::System,
                shutdown: CancellationToken::new(),
            },
        })
    }

    /// The first scan of every list: it only remembers what the tenant holds (nothing,
    /// yet), as on a fresh install; later scans queue what changed since.
    pub async fn first_scans(&self) -> anyhow::Result<()> {
        for resource in Resource::ALL {
            self.scan(resource).await?;
        }
        Ok(())
    }

    pub async fn scan(&self, resource: Resource) -> anyhow::Result<ScanSummary> {
        crate::poller::scan(&self.ctx, resource, ScanMode::Poll, &mut Unobserved)
            .await
            .with_context(|| format!("scanning the sandbox Tovuti's {}", resource.as_str()))
    }
}

/// The instants around a poll step's scan: the events it queued were received inside.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Millis,
    pub until: Millis,
}

/// Where the events of type `event_type` the poller queued inside `window` ended up.
pub async fn outcome(
    store: &dyn Store,
    step: usize,
    event_type: &str,
    window: Window,
) -> anyhow::Result<EventOutcome> {
    let mut status = None;
    for candidate in REPORTED {
        let filter = ReplayFilter {
            statuses: vec![candidate],
            source: Some(Source::Poller),
            event_type: Some(event_type.to_owned()),
            received_from: Some(window.from),
            received_until: Some(window.until),
            ..ReplayFilter::default()
        };
        // A dry run only counts what matches; nothing is replayed.
        let matched = store
            .replay_events(&filter, Millis::now(), true)
            .await
            .context("reading the inbox")?;
        if matched > 0 {
            status = Some(candidate);
            break;
        }
    }
    Ok(EventOutcome {
        step,
        event_type: event_type.to_owned(),
        via: Via::Poll,
        event_id: None,
        status,
        error: None,
    })
}
