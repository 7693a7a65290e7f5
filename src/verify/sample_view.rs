//! Both sample round trips run together (the GHL test contact, and the Tovuti test user
//! when the connection has a Tovuti API), and their outcome as the console shows it.
//! The values are the made-up sample's, never a real person's.

use jiff::Timestamp;
use serde::Serialize;

use super::sample::{self, RoundTrip, text};
use super::sample_tovuti;
use crate::mapping::Mapping;
use crate::platforms::ghl::client::LocationApi;
use crate::platforms::tovuti::TovutiApi;

/// What the round trips found.
#[derive(Debug, Clone)]
pub struct Samples {
    pub ghl: RoundTrip,
    /// `None` when the connection has no Tovuti API.
    pub tovuti: Option<RoundTrip>,
}

impl Samples {
    /// Every field of every round trip came back equal, and nothing was left behind.
    pub fn passed(&self) -> bool {
        self.ghl.passed() && self.tovuti.as_ref().is_none_or(RoundTrip::passed)
    }
}

/// Runs the GHL round trip and, when there is a Tovuti API, the Tovuti one: what
/// `check --sample` and the console's sample button both run.
pub async fn round_trips(
    ghl: &LocationApi,
    tovuti: Option<&dyn TovutiApi>,
    mapping: &Mapping,
    now: Timestamp,
) -> Samples {
    let ghl = sample::round_trip(ghl, mapping, now).await;
    let tovuti = match tovuti {
        Some(api) => Some(sample_tovuti::round_trip(api, mapping, now).await),
        None => None,
    };
    Samples { ghl, tovuti }
}

/// The round trips as a page shows them.
#[derive(Debug, Serialize)]
pub struct SampleView {
    pub passed: bool,
    pub ghl: TripView,
    pub tovuti: Option<TripView>,
}

#[derive(Debug, Serialize)]
pub struct TripView {
    pub passed: bool,
    pub rows: Vec<RowView>,
    pub problems: Vec<String>,
}

/// One field: what was sent, what was read back, and whether they are equal.
#[derive(Debug, Serialize)]
pub struct RowView {
    pub field: String,
    pub sent: String,
    pub read_back: String,
    pub equal: bool,
}

impl From<&Samples> for SampleView {
    fn from(samples: &Samples) -> Self {
        Self {
            passed: samples.passed(),
            ghl: TripView::from(&samples.ghl),
            tovuti: samples.tovuti.as_ref().map(TripView::from),
        }
    }
}

impl From<&RoundTrip> for TripView {
    fn from(trip: &RoundTrip) -> Self {
        let rows = trip
            .rows
            .iter()
            .map(|row| RowView {
                field: row.field.clone(),
                sent: text(&row.sent),
                read_back: text(&row.read_back),
                equal: row.equal(),
            })
            .collect();
        Self {
            passed: trip.passed(),
            rows,
            problems: trip.problems.clone(),
        }
    }
}
