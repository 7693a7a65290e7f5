//! A check's outcome as JSON, for the admin API: one entry per GHL capability with a
//! machine-readable outcome, the token's limits and the Tovuti lines. The sampled contact
//! is left out: it is personal data, and the CLI shows it only to whoever ran it.

use serde::Serialize;

use super::Report;
use crate::platforms::ghl::client::{Capability, Verdict};

#[derive(Debug, Serialize)]
pub struct CheckView {
    /// Everything the mapping needs was verified and works.
    pub passed: bool,
    pub ghl: GhlCheck,
    /// `None` when the connection has no Tovuti API.
    pub tovuti: Option<TovutiCheck>,
    /// What could not be verified (e.g. capabilities that need a contact in an empty
    /// location).
    pub untested: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct GhlCheck {
    pub capabilities: Vec<CapabilityView>,
    pub rate_limits: Option<RateLimits>,
}

#[derive(Debug, Serialize)]
pub struct CapabilityView {
    pub name: &'static str,
    pub scope: &'static str,
    /// `ok`, `forbidden`, `no_location_access`, `unauthorized`, `unreachable`,
    /// `skipped` or `failed`.
    pub outcome: &'static str,
    /// The line a person reads: "forbidden (missing scope contacts.write)".
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct RateLimits {
    pub max: Option<u64>,
    pub remaining: Option<u64>,
    pub interval_ms: Option<u64>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct TovutiCheck {
    pub passed: bool,
    pub ok: Vec<String>,
    pub problems: Vec<String>,
}

impl From<&Report> for CheckView {
    fn from(report: &Report) -> Self {
        let ghl = &report.ghl;
        Self {
            passed: report.passed(false),
            ghl: GhlCheck {
                capabilities: ghl.capabilities.iter().map(capability).collect(),
                rate_limits: ghl.rate_limits.as_ref().map(|l| RateLimits {
                    max: l.max,
                    remaining: l.remaining,
                    interval_ms: l.interval_ms,
                    daily_limit: l.daily_limit,
                    daily_remaining: l.daily_remaining,
                }),
            },
            tovuti: report.tovuti.as_ref().map(|t| TovutiCheck {
                passed: t.passed(),
                ok: t.ok.clone(),
                problems: t.problems.clone(),
            }),
            untested: report.untested(),
        }
    }
}

fn capability(c: &Capability) -> CapabilityView {
    let outcome = match c.outcome {
        Verdict::Ok => "ok",
        Verdict::Forbidden { .. } => "forbidden",
        Verdict::NoLocationAccess => "no_location_access",
        Verdict::Unauthorized => "unauthorized",
        Verdict::Unreachable(_) => "unreachable",
        Verdict::Skipped(_) => "skipped",
        Verdict::Failed(_) => "failed",
    };
    CapabilityView {
        name: c.name,
        scope: c.scope,
        outcome,
        detail: c.outcome.to_string(),
    }
}
