//! A GHL stand-in for the benchmarks that run the service as its own process
//! (`bench/memory.sh`): the sandbox's fake GHL with its quota lifted, in a process of its
//! own so that what it keeps (every contact, every request) is not counted in the
//! service's memory. Prints `BASE_URL TOKEN` on one line, then serves until killed.
//!
//! Usage: `bench_ghl_standin LOCATION`

use std::io::Write as _;
use std::time::Duration;

use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Limits};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let location = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: bench_ghl_standin LOCATION"))?;
    let settings = FakeSettings {
        limits: Limits {
            burst_max: u32::MAX,
            interval: Duration::from_millis(1),
            daily_max: u64::MAX,
        },
        ..FakeSettings::default()
    };
    let ghl = FakeGhl::start(settings).await?;
    let token = ghl.issue_token(&location, ALL_SCOPES);
    println!("{} {token}", ghl.base_url());
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}
