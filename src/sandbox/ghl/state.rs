//! The fake GHL's memory: tokens, records, rate windows, queued faults and the request
//! log. Only plain data and synchronous rules live here; handlers live beside it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::contact_table::ContactTable;

use crate::sandbox::faults::FaultPlan;

/// What an access token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub location_id: String,
    pub company_id: String,
    pub scopes: BTreeSet<String>,
    /// `Location` or `Company`, as GHL's token response says.
    pub user_type: String,
    pub expires_at: Option<Instant>,
    pub revoked: bool,
}

impl Grant {
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The location of the token, when the token was valid.
    pub location_id: Option<String>,
    pub status: u16,
    pub at: Instant,
    /// The headers that matter for contract checks.
    pub version: Option<String>,
    pub user_agent: Option<String>,
    pub body: Option<Value>,
}

/// The rate-limit answer for one request.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub allowed: bool,
    pub remaining: u32,
    pub daily_remaining: u64,
    pub retry_after: Duration,
}

/// The limits the fake enforces, GHL's documented values by default.
#[derive(Debug, Clone)]
pub struct Limits {
    pub burst_max: u32,
    pub interval: Duration,
    pub daily_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            burst_max: 100,
            interval: Duration::from_secs(10),
            daily_max: 200_000,
        }
    }
}

#[derive(Default)]
pub struct Inner {
    pub tokens: HashMap<String, Grant>,
    /// Refresh token → the grant it renews; removed when used (single use).
    pub refresh_tokens: HashMap<String, Grant>,
    /// Authorization codes from a simulated install → the grant they exchange for.
    pub codes: HashMap<String, Grant>,
    pub inactive_locations: HashSet<String>,
    pub allow_duplicate_contacts: bool,
    pub contacts: ContactTable,
    pub tasks: BTreeMap<String, Value>,
    pub notes: BTreeMap<String, Value>,
    pub events: BTreeMap<String, Value>,
    pub campaigns: BTreeSet<(String, String)>,
    pub workflows: BTreeSet<(String, String)>,
    /// Campaigns and workflows the location defines: id → name.
    pub campaign_defs: BTreeMap<String, String>,
    pub workflow_defs: BTreeMap<String, String>,
    /// Custom field key → id, so writes by key read back by id.
    pub custom_field_ids: BTreeMap<String, String>,
    /// Ids of fields deleted since (see `FakeGhl::recreate_custom_field`): a write naming
    /// one is accepted and ignored, as GHL does with an id the location does not have.
    pub deleted_field_ids: BTreeSet<String>,
    /// Custom field key → `(name, dataType)` of fields created through the API.
    pub custom_field_defs: BTreeMap<String, (String, String)>,
    /// Refuse a missing scope with 401, as GHL does on most routes (else 403).
    pub scope_refusal_401: bool,
    pub windows: HashMap<String, VecDeque<Instant>>,
    pub daily_used: HashMap<String, u64>,
    pub faults: FaultPlan,
    pub log: Vec<LoggedRequest>,
    pub token_endpoint_calls: u32,
    pub location_token_calls: u32,
    seq: u64,
}

impl Inner {
    /// A fresh 20-character id; ids sort in creation order, like GHL's search order here.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}{:0>width$}", self.seq, width = 20 - prefix.len())
    }

    /// A fresh opaque secret (token, code).
    pub fn next_secret(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}-{}", self.seq, uuid::Uuid::new_v4().simple())
    }

    /// Counts one request against `location`'s sliding window and daily budget.
    pub fn take_window(&mut self, location: &str, limits: &Limits, now: Instant) -> Window {
        let window = self.windows.entry(location.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limits.interval)
        {
            window.pop_front();
        }
        let used_today = self.daily_used.entry(location.to_owned()).or_default();
        let full = window.len() >= limits.burst_max as usize || *used_today >= limits.daily_max;
        let retry_after = window
            .front()
            .map_or(Duration::ZERO, |t| limits.interval.saturating_sub(now - *t));
        if !full {
            window.push_back(now);
            *used_today += 1;
        }
        let in_window = u32::try_from(window.len()).unwrap_or(u32::MAX);
        Window {
            allowed: !full,
            remaining: limits.burst_max.saturating_sub(in_window),
            daily_remaining: limits.daily_max.saturating_sub(*used_today),
            retry_after,
        }
    }
}

/// ISO 8601 UTC with milliseconds, as GHL writes `dateAdded`, from Unix milliseconds.
pub fn iso_millis(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    // Civil-from-days (H. Hinnant), valid for the whole proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (s, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_millis_formats_like_ghl() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_625_711_400_000), "2021-07-08T02:30:00.000Z");
        assert_eq!(iso_millis(951_825_600_123), "2000-02-29T12:00:00.123Z");
    }

    #[test]
    fn the_window_refuses_the_101st_request_and_reopens_after_the_interval() {
        let limits = Limits::default();
        let mut inner = Inner::default();
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(inner.take_window("loc", &limits, t0).allowed);
        }
        let refused = inner.take_window("loc", &limits, t0 + Duration::from_secs(4));
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        assert!(inner.take_window("other", &limits, t0).allowed);
        assert!(
            inner
                .take_window("loc", &limits, t0 + Duration::from_secs(10))
                .allowed
        );
    }
}
