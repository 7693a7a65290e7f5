//! `demo`: the real service against the in-process sandbox, a scripted story of signed
//! deliveries through its HTTP routes, then what each platform holds. Sends nothing outside
//! this process.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DatabaseUrl, StoreConfig};
use crate::platforms::tovuti::payloads::User;
use crate::sandbox::ghl::{ALL_SCOPES, VERSION_CONTACTS};
use crate::sandbox::wiring::{LOCATION, Sandbox, ScratchDir};
use crate::store::{self, EventStatus, Store};

#[path = "demo_delivery.rs"]
mod delivery;
#[path = "demo_report.rs"]
mod report;

use delivery::Delivery;

pub use report::{ContactView, EventOutcome, Report, SentStep, UserView};

/// Longest the whole story may take, from startup to the last event finished; generous
/// because a first run may share the machine with a build.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Pause between looks at the inbox or the readiness probe.
const POLL_PAUSE: Duration = Duration::from_millis(25);

/// The worker's idle pause: short, so the story moves at the speed of the fakes.
const WORKER_POLL_MS: u64 = 20;

/// Ada's Tovuti user id in the sample events (tests/fixtures/tovuti).
const ADA_USER_ID: u64 = 4211;
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

/// What one step sends.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// A Tovuti sample event about Ada.
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

/// The story, in order: what each step is about, and what it sends. Each step finishes
/// before the next is sent, because later steps read what earlier ones created.
const STORY: [(&str, Action); 7] = [
    (
        "Ada enrolls in course 101",
        Action::Tovuti("enrollment.created"),
    ),
    (
        "Ada completes it (a milestone: a task)",
        Action::Tovuti("course.completed"),
    ),
    (
        "a coach writes a note about Ada",
        Action::Tovuti("note.created"),
    ),
    ("GHL reports a new company for Ada", Action::EditAdaCompany),
    ("Grace buys course 101 (a tag)", Action::TagGrace),
    ("step 3's delivery again (a duplicate)", Action::Resend(3)),
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
    let store_config = config.store.clone();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the demo's port")?;
    let base = format!("http://{}", listener.local_addr()?);
    let token = CancellationToken::new();
    let mut service = tokio::spawn(crate::run(config, listener, token.clone()));
    let played = tokio::select! {
        report = play(&sandbox, &base, &store_config, print) => report,
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
fn demo_config(sandbox: &Sandbox, args: &DemoArgs, scratch: &ScratchDir) -> anyhow::Result<Config> {
    let mut config = Config::defaults();
    sandbox.configure(&mut config)?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/demo.db", scratch.path().display()),
    };
    config.store.url = DatabaseUrl::new(url);
    config.worker.poll_interval_ms = WORKER_POLL_MS;
    Ok(config)
}

/// Everything a step needs: the fakes, a client and the store, read beside the service.
struct Story<'a> {
    sandbox: &'a Sandbox,
    http: reqwest::Client,
    base: &'a str,
    store: std::sync::Arc<dyn Store>,
    deadline: Instant,
    sent: Vec<(SentStep, Delivery)>,
}

/// Waits for the service, tells the story, and gathers the report.
async fn play(
    sandbox: &Sandbox,
    base: &str,
    store_config: &StoreConfig,
    mut print: impl FnMut(&str),
) -> anyhow::Result<Report> {
    let deadline = Instant::now() + TIMEOUT;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    wait_ready(&http, base, deadline).await?;
    // Read-only beside the service: events only, so no credentials and no cipher.
    let store = store::connect(store_config, None).await?;
    sandbox.tovuti.insert_user(ada_in_tovuti()?);
    print(&report::intro(sandbox, base, ADA_USER_ID));
    let mut story = Story {
        sandbox,
        http,
        base,
        store,
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

/// Ada as the LMS already knows her, so a GHL edit has a user to update.
fn ada_in_tovuti() -> anyhow::Result<User> {
    serde_json::from_value(json!({
        "id": ADA_USER_ID, "name": "Ada Lovelace", "email": ADA_EMAIL, "status": "active",
        "customFields": [{"field_id": 22, "value": "Analytical Engines", "title": "Company"}],
        "userGroupIds": [2], "enrolledCourseIds": [101],
    }))
    .context("building Ada's Tovuti user")
}

impl Story<'_> {
    /// Plays every step, each settled before the next; true when time ran out.
    async fn tell(&mut self, print: &mut impl FnMut(&str)) -> anyhow::Result<bool> {
        print("\nStory");
        for (index, (title, action)) in STORY.into_iter().enumerate() {
            let delivery = self.delivery(action).await?;
            let sent = self.send(index + 1, title, &delivery).await?;
            print(&sent.to_string());
            self.sent.push((sent, delivery));
            if !self.settle().await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The signed request a step sends, built from what the fakes hold now.
    async fn delivery(&self, action: Action) -> anyhow::Result<Delivery> {
        match action {
            Action::Tovuti(event_type) => Delivery::tovuti(self.sandbox, event_type),
            Action::EditAdaCompany => {
                let mut contact = self.ada_contact()?;
                contact["companyName"] = json!(EDITED_COMPANY);
                Delivery::ghl(self.sandbox, "ContactUpdate", contact)
            }
            Action::TagGrace => Delivery::ghl(
                self.sandbox,
                "ContactTagUpdate",
                self.add_grace_in_ghl().await?,
            ),
            Action::Resend(step) => self
                .sent
                .get(step.saturating_sub(1))
                .map(|(_, delivery)| delivery.clone())
                .with_context(|| format!("step {step} has not been sent")),
            Action::EchoAda => Delivery::ghl(self.sandbox, "ContactUpdate", self.ada_contact()?),
        }
    }

    fn ada_contact(&self) -> anyhow::Result<Value> {
        self.sandbox
            .ghl
            .contacts()
            .into_iter()
            .find(|contact| contact["email"] == ADA_EMAIL)
            .context("the enrollment created no GHL contact for Ada")
    }

    /// Grace as someone adds her in GHL (through the fake's own API), already carrying the
    /// purchase tag; returns the contact as GHL holds it.
    async fn add_grace_in_ghl(&self) -> anyhow::Result<Value> {
        let ghl = &self.sandbox.ghl;
        let response = self
            .http
            .post(format!("{}/contacts/", ghl.base_url()))
            .bearer_auth(ghl.issue_token(LOCATION, ALL_SCOPES))
            .header("Version", VERSION_CONTACTS)
            .json(&json!({
                "locationId": LOCATION, "firstName": "Grace", "lastName": "Hopper",
                "email": GRACE_EMAIL, "tags": ["purchased:course-101"],
            }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("adding Grace to the sandbox GHL")?;
        let mut created: Value = response.json().await.context("reading Grace's contact")?;
        match created.get_mut("contact") {
            Some(contact) => Ok(contact.take()),
            None => bail!("the sandbox GHL answered without a contact: {created}"),
        }
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
            platform: delivery.platform,
            event_type: delivery.event_type.clone(),
            status: answer.status,
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
        for (sent, _) in &self.sent {
            events.push(self.outcome(sent).await?);
        }
        Ok(Report {
            steps: self.sent.iter().map(|(sent, _)| sent.clone()).collect(),
            events,
            contacts: report::contacts(&self.sandbox.ghl),
            users: report::users(&self.sandbox.tovuti),
            timed_out,
        })
    }

    async fn outcome(&self, sent: &SentStep) -> anyhow::Result<EventOutcome> {
        let stored = match sent.event_id {
            Some(id) => self.store.event(id).await.context("reading an event")?,
            None => None,
        };
        Ok(EventOutcome {
            step: sent.number,
            event_type: sent.event_type.clone(),
            event_id: sent.event_id,
            status: stored.as_ref().map(|event| event.status),
            error: stored.and_then(|event| event.last_error),
        })
    }
}
