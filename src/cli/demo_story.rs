//! The demo's story played against the running service: each step made (a change the
//! poller scans, or a signed delivery), settled before the next, then each event's outcome
//! and both platforms' contents gathered into the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::delivery::{self, Delivery};
use super::poll::{self, Change, DemoPoller, Window};
use super::report::{self, EventOutcome, Report, SentStep, Via};
use super::{ADA_EMAIL, Action, EDITED_COMPANY, POLL_PAUSE, STORY, TIMEOUT};
use crate::config::Config;
use crate::sandbox::wiring::Sandbox;
use crate::store::{self, EventStatus, Millis, Store};

/// Everything a step needs: the fakes, a client, the store read beside the service and
/// the poller that scans the fake Tovuti into it.
struct Story<'a> {
    sandbox: &'a Sandbox,
    http: reqwest::Client,
    base: &'a str,
    store: Arc<dyn Store>,
    poller: DemoPoller,
    deadline: Instant,
    sent: Vec<Played>,
}

/// A step as it was played: its line, and what is needed to find its event later.
struct Played {
    step: SentStep,
    how: How,
}

enum How {
    /// The delivery, kept so a later step can send it again.
    Delivered(Delivery),
    /// The poll step's scan, when its events were received.
    Polled(Window),
}

/// Waits for the service, tells the story, and gathers the report.
pub(super) async fn play(
    sandbox: &Sandbox,
    base: &str,
    config: &Config,
    mut print: impl FnMut(&str),
) -> anyhow::Result<Report> {
    let deadline = Instant::now() + TIMEOUT;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    wait_ready(&http, base, deadline).await?;
    // Beside the service: events, poll cursors and snapshots only, so no credentials and
    // no cipher.
    let store = store::connect(&config.store, None).await?;
    let poller = DemoPoller::new(config, store.clone())?;
    poller.first_scans().await?;
    print(&report::intro(sandbox, base));
    let mut story = Story {
        sandbox,
        http,
        base,
        store,
        poller,
        deadline,
        sent: Vec::new(),
    };
    let timed_out = story.tell(&mut print).await?;
    let report = story.report(timed_out).await;
    story.store.close().await;
    report
}

/// Waits until `/readyz` answers 200: migrations applied, connection recorded.
async fn wait_ready(http: &reqwest::Client, base: &str, deadline: Instant) -> anyhow::Result<()> {
    let url = format!("{base}/readyz");
    loop {
        if let Ok(response) = http.get(&url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("the service was not ready within {} s", TIMEOUT.as_secs());
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
}

impl Story<'_> {
    /// Plays every step, each settled before the next; true when time ran out.
    async fn tell(&mut self, print: &mut impl FnMut(&str)) -> anyhow::Result<bool> {
        print("\nStory");
        for (index, (title, action)) in STORY.into_iter().enumerate() {
            let played = match action {
                Action::Polled(change) => self.poll(index + 1, title, change).await?,
                _ => {
                    let delivery = self.delivery(action).await?;
                    let step = self.send(index + 1, title, &delivery).await?;
                    Played {
                        step,
                        how: How::Delivered(delivery),
                    }
                }
            };
            print(&played.step.to_string());
            self.sent.push(played);
            if !self.settle().await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Makes the change in the fake Tovuti, then runs the scan that finds it.
    async fn poll(
        &self,
        number: usize,
        title: &'static str,
        change: Change,
    ) -> anyhow::Result<Played> {
        change.apply(&self.sandbox.tovuti)?;
        let from = Millis::now();
        let summary = self.poller.scan(change.resource()).await?;
        // Past the scan's last millisecond, so its events are inside the window.
        let until = Millis(Millis::now().0 + 1);
        Ok(Played {
            step: SentStep {
                number,
                title,
                via: Via::Poll,
                platform: "tovuti",
                event_type: change.event_type().to_owned(),
                status: None,
                outcome: report::queued(change.resource().as_str(), summary.events),
                event_id: None,
            },
            how: How::Polled(Window { from, until }),
        })
    }

    /// The signed request a step sends, built from what the fakes hold now.
    async fn delivery(&self, action: Action) -> anyhow::Result<Delivery> {
        match action {
            Action::Polled(_) => bail!("a poll step sends no webhook"),
            Action::Tovuti(event_type) => Delivery::tovuti(self.sandbox, event_type),
            Action::EditAdaCompany => {
                let mut contact = self.ada_contact()?;
                contact["companyName"] = json!(EDITED_COMPANY);
                Delivery::ghl(self.sandbox, "ContactUpdate", contact)
            }
            Action::TagGrace => Delivery::ghl(
                self.sandbox,
                "ContactTagUpdate",
                delivery::add_grace_in_ghl(&self.http, self.sandbox).await?,
            ),
            Action::Resend(step) => match self.sent.get(step.saturating_sub(1)) {
                Some(Played {
                    how: How::Delivered(delivery),
                    ..
                }) => Ok(delivery.clone()),
                _ => bail!("step {step} sent no delivery"),
            },
            Action::EchoAda => Delivery::ghl(self.sandbox, "ContactUpdate", self.ada_contact()?),
        }
    }

    fn ada_contact(&self) -> anyhow::Result<Value> {
        self.sandbox
            .ghl
            .contacts()
            .into_iter()
            .find(|contact| contact["email"] == ADA_EMAIL)
            .context("Ada's polled Tovuti account created no GHL contact")
    }

    async fn send(
        &self,
        number: usize,
        title: &'static str,
        delivery: &Delivery,
    ) -> anyhow::Result<SentStep> {
        let answer = delivery.send(&self.http, self.base).await?;
        Ok(SentStep {
            number,
            title,
            via: Via::Webhook,
            platform: delivery.platform,
            event_type: delivery.event_type.clone(),
            status: Some(answer.status),
            outcome: answer.outcome,
            event_id: answer.event_id,
        })
    }

    /// Waits until no event is pending, processing or retrying; false at the deadline.
    async fn settle(&self) -> anyhow::Result<bool> {
        loop {
            let open: u64 = self
                .store
                .open_events_summary()
                .await
                .context("reading the inbox")?
                .iter()
                .filter(|events| events.status != EventStatus::Dead)
                .map(|events| events.count)
                .sum();
            if open == 0 {
                return Ok(true);
            }
            if Instant::now() >= self.deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL_PAUSE).await;
        }
    }

    /// Each event's final status, then both platforms' contents.
    async fn report(&self, timed_out: bool) -> anyhow::Result<Report> {
        let mut events = Vec::new();
        for played in &self.sent {
            events.push(self.outcome(played).await?);
        }
        Ok(Report {
            steps: self.sent.iter().map(|played| played.step.clone()).collect(),
            events,
            contacts: report::contacts(&self.sandbox.ghl),
            users: report::users(&self.sandbox.tovuti),
            timed_out,
        })
    }

    async fn outcome(&self, played: &Played) -> anyhow::Result<EventOutcome> {
        let sent = &played.step;
        if let How::Polled(window) = played.how {
            return poll::outcome(self.store.as_ref(), sent.number, &sent.event_type, window).await;
        }
        let stored = match sent.event_id {
            Some(id) => self.store.event(id).await.context("reading an event")?,
            None => None,
        };
        Ok(EventOutcome {
            step: sent.number,
            event_type: sent.event_type.clone(),
            via: sent.via,
            event_id: sent.event_id,
            status: stored.as_ref().map(|event| event.status),
            error: stored.and_then(|event| event.last_error),
        })
    }
}
