//! Helpers shared by the fuzz targets: a fixed clock and header maps built from fuzz input.

use http::{HeaderMap, HeaderName, HeaderValue};
use jiff::Timestamp;

/// The instant every target verifies at, so a run is reproducible from its input alone.
pub const NOW_SECS: i64 = 1_764_400_000;

/// The freshness window the targets configure (the service's default).
pub const TOLERANCE_SECS: u64 = 300;

pub fn now() -> Timestamp {
    Timestamp::from_second(NOW_SECS).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Appends a header when the fuzzer's bytes form a legal header value; an illegal one could
/// never reach the service (hyper refuses it), so it is dropped rather than reported.
pub fn insert(headers: &mut HeaderMap, name: &'static str, value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        headers.append(HeaderName::from_static(name), value);
    }
}

/// The header's text as the verifiers read it: the first value, trimmed; `None` when absent,
/// empty or not text.
pub fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    (!text.is_empty()).then_some(text)
}
