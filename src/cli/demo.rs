//! `demo`: the real service against the in-process sandbox, a scripted story of signed
//! deliveries through its HTTP routes, then what each platform holds. Sends nothing outside
//! this process.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DatabaseUrl};
use crate::sandbox::wiring::{Sandbox, ScratchDir};
use crate::store::{self, EventStatus, Millis, Store};

#[path = "demo_delivery.rs"]
mod delivery;
#[path = "demo_poll.rs"]
mod poll;
#[path = "demo_report.rs"]
mod report;

use delivery::Delivery;
use poll::{Change, DemoPoller, Window};

pub use report::{ContactView, EventOutcome, Report, SentStep, UserView, Via};

/// Longest the whole story may take, from startup to the last event finished; generous
/// because a first run may share the machine with a build.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Pause between looks at the inbox or the readiness probe.
const POLL_PAUSE: Duration = Duration::from_millis(25);

/// The worker's idle pause: short, so the story moves at the speed of the fakes.
const WORKER_POLL_MS: u64 = 20;

/// Ada's Tovuti user id, as in the sample events (tests/fixtures/tovuti).
const ADA_USER_ID: u64 = 4211;
/// The course Ada takes, as the sandbox tenant's catalog names it.
const COURSE_ID: u64 = 101;
pub const ADA_EMAIL: &str = "ada@example.com";
pub const GRACE_EMAIL: &str = "grace@example.com";
/// The company step 4 writes in GHL, which must reach Ada's Tovuti profile.
pub const EDITED_COMPANY: &str = "Difference Engines Ltd";

/// Run the service against in-process sandbox GHL and Tovuti and play a scripted story.
#[derive(Debug, Default, clap::Args)]
pub struct DemoArgs {
    /// Store to use instead of a temporary SQLite file (give it an empty database).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// What one step does.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// A change in Tovuti, which the service learns from the poller's next scan.
    Polled(Change),
    /// A Tovuti sample event about Ada, pushed as a signed webhook.
    Tovuti(&'static str),
    /// Ada's contact as GHL holds it, with a new company name.
    EditAdaCompany,
    /// A new GHL contact, Grace, added with the purchase tag.
    TagGrace,
    /// The delivery of an earlier step (numbered from 1), byte for byte.
    Resend(usize),
    /// Ada's contact exactly as GHL holds it after the service's own write.
    EchoAda,
}

/// The story, in order: what each step is about, and what it does. Each step finishes
/// before the next starts, because later steps read what earlier ones created. Tovuti
/// documents no webhooks, so its learner changes come by the poller; one Tovuti event is
/// pushed as a webhook all the same, to show that path too.
const STORY: [(&str, Action); 9] = [
    ("Ada joins Tovuti", Action::Polled(Change::Joins)),
    ("Ada enrolls in course 101", Action::Polled(Change::Enrolls)),
    (
        "Ada completes it (a milestone: a task)",
        Action::Polled(Change::Completes),
    ),
    (
        "Ada earns its certificate (a task)",
        Action::Polled(Change::EarnsAward),
    ),
    (
        "a coach writes a note about Ada",
        Action::Tovuti("note.created"),
    ),
    ("GHL reports a new company for Ada", Action::EditAdaCompany),
    ("Grace buys course 101 (a tag)", Action::TagGrace),
    ("step 5's delivery again (a duplicate)", Action::Resend(5)),
    ("GHL echoes the service's own write", Action::EchoAda),
];

/// Runs the command: the story line by line, then the report; exit 1 unless every event
/// finished well in time.
pub async fn main(args: DemoArgs) -> ExitCode {
    match run_demo(&args, |line| println!("{line}")).await {
        Ok(report) => {
            print!("{report}");
            if report.succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the sandbox and the service, plays the story (each line to `print`), and reports
/// what each platform holds; the service is stopped and the temporary store removed.
pub async fn run_demo(args: &DemoArgs, print: impl FnMut(&str)) -> anyhow::Result<Report> {
    let scratch = ScratchDir::create("tovuti-ghl-bridge-demo")?;
    let sandbox = Sandbox::start().await?;
    let config = demo_config(&sandbox, args, &scratch)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the demo's port")?;
    let base = format!("http://{}", listener.local_addr()?);
    let token = CancellationToken::new();
    let mut service = tokio::spawn(crate::run(config.clone(), listener, token.clone()));
    let played = tokio::select! {
        report = play(&sandbox, &base, &config, print) => report,
        ended = &mut service => Err(service_ended(ended)),
    };
    token.cancel();
    if !service.is_finished() {
        // The service drains within its own grace period; its outcome adds nothing here.
        let _ = service.await;
    }
    played
}

fn service_ended(ended: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Error {
    match ended {
        Ok(Ok(())) => anyhow::anyhow!("the service stopped before the story ended"),
        Ok(Err(error)) => error.context("the service stopped"),
        Err(error) => anyhow::Error::new(error).context("the service task failed"),
    }
}

/// The defaults, pointed at the sandbox, on a throwaway SQLite file unless told otherwise.
/// The service's own poll schedule is off: the story runs each scan when its change is
/// made, rather than waiting minutes for the next interval.
fn demo_config(sandbox: &Sandbox, args: &DemoArgs, scratch: &ScratchDir) -> anyhow::Result<Config> {
    let mut config = Config::defaults();
    sandbox.configure(&mut config)?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/demo.db", scratch.path().display()),
    };
    config.store.url = DatabaseUrl::new(url);
    config.worker.poll_interval_ms = WORKER_POLL_MS;
    config.poller.enabled = false;
    Ok(config)
}

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
async fn play(
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
