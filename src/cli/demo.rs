//! `demo`: the real service against the in-process sandbox, a scripted story of signed
//! deliveries through its HTTP routes, then what each platform holds. Sends nothing outside
//! this process.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DatabaseUrl};
use crate::sandbox::wiring::{Sandbox, ScratchDir};

#[path = "demo_delivery.rs"]
mod delivery;
#[path = "demo_poll.rs"]
mod poll;
#[path = "demo_report.rs"]
mod report;
#[path = "demo_story.rs"]
mod story;

use poll::Change;
use story::play;

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
