//! What `check` prints, and whether it passed: one line per GHL capability (with its
//! scope), the limits, the sample contact, the Tovuti lines, then the verdict.

use std::fmt::Write as _;

use super::tovuti::TovutiReport;
use crate::platforms::ghl::client::Verification;

/// Everything `check` learned.
#[derive(Debug, Clone)]
pub struct Report {
    pub ghl: Verification,
    /// `None` when no Tovuti API is configured.
    pub tovuti: Option<TovutiReport>,
}

impl Report {
    /// Nothing failed, and nothing went unverified unless that is allowed.
    pub fn passed(&self, allow_untested: bool) -> bool {
        let failed = !self.ghl.none_failed() || self.tovuti.as_ref().is_some_and(|t| !t.passed());
        !failed && (allow_untested || self.untested().is_empty())
    }

    /// What could not be verified, by name.
    pub fn untested(&self) -> Vec<String> {
        let mut names: Vec<String> = self.ghl.untested().map(|c| c.name.to_owned()).collect();
        if self.tovuti.is_none() {
            names.push("tovuti (no Tovuti API configured)".to_owned());
        }
        names
    }
}

/// The report as printed.
pub fn render(report: &Report, allow_untested: bool) -> String {
    let mut out = String::new();
    let ghl = &report.ghl;
    for c in &ghl.capabilities {
        let _ = writeln!(out, "{:<26} {:<32} {}", c.name, c.scope, c.outcome);
    }
    match &ghl.rate_limits {
        Some(l) => {
            let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |n| n.to_string());
            let _ = writeln!(
                out,
                "rate limit: {}/{} left per {} ms; daily {}/{} left",
                show(l.remaining),
                show(l.max),
                show(l.interval_ms),
                show(l.daily_remaining),
                show(l.daily_limit)
            );
        }
        None => out.push_str("rate limit: no X-RateLimit-* headers seen\n"),
    }
    if let Some(contact) = &ghl.sample {
        let shown = serde_json::to_string_pretty(contact).unwrap_or_default();
        let _ = writeln!(out, "sample contact {}:\n{shown}", contact.id);
    }
    match &report.tovuti {
        None => out.push_str("tovuti: no Tovuti API configured (tovuti.base_url, tovuti.token)\n"),
        Some(t) => {
            for line in &t.ok {
                let _ = writeln!(out, "{line}");
            }
            for line in &t.problems {
                let _ = writeln!(out, "problem: {line}");
            }
        }
    }
    let untested = report.untested();
    if !untested.is_empty() {
        let _ = writeln!(out, "NOT verified: {}", untested.join(", "));
    }
    let verdict = match (report.passed(allow_untested), untested.is_empty()) {
        (true, true) => "everything the mapping needs works",
        (true, false) => {
            "everything verified works; some needs were NOT verified (--allow-untested)"
        }
        (false, _) if report.passed(true) => {
            "some needs were NOT verified (add a contact, or pass --allow-untested)"
        }
        (false, _) => "some needed capabilities do not work",
    };
    let _ = writeln!(out, "{verdict}");
    out
}
