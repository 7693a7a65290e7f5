//! Whether a request may be sent again after a failure the platform may have acted on,
//! one rule for both clients. A create whose answer was lost is never sent again blind:
//! the platform may have made the record, and neither GHL's notes, tasks and
//! appointments nor Tovuti's users take an idempotency key.

use reqwest::Method;

/// How a call may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Sending it twice has the effect of sending it once: reads, upserts by email, a
    /// PUT, PATCH or DELETE of a known id.
    Safe,
    /// Each send may make a record: once it may have reached the platform, the caller
    /// looks up what it would have made before anything is sent again.
    Once,
}

impl Replay {
    /// The rule for `method` when the call says nothing else: a POST creates.
    pub fn of(method: &Method) -> Self {
        if *method == Method::POST {
            Self::Once
        } else {
            Self::Safe
        }
    }
}

/// Whether an answer with this status may have come after the request took effect.
///
/// A 500 may come from the platform's handler failing after its insert; a 502 or 504 (and
/// the other 5xx of proxies and CDNs) from a proxy that lost the origin's answer. A 503
/// ("unavailable"), 501 or 505 says the request was not taken on; a 429 or any 4xx
/// answers before an effect.
pub fn status_may_follow_effect(status: u16) -> bool {
    (500..=599).contains(&status) && !matches!(status, 501 | 503 | 505)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_create_and_only_server_failures_other_than_refusals_are_ambiguous() {
        assert_eq!(Replay::of(&Method::POST), Replay::Once);
        assert_eq!(Replay::of(&Method::PUT), Replay::Safe);
        for status in [500, 502, 504, 520, 524] {
            assert!(status_may_follow_effect(status), "{status}");
        }
        for status in [200, 400, 404, 408, 422, 429, 501, 503, 505] {
            assert!(!status_may_follow_effect(status), "{status}");
        }
    }
}
