//! `mapping preview` and the admin API's preview: what a mapping would do with one sample
//! event, with nothing known about the other side. Pure: no request is sent.

use crate::mapping::{self, Incoming, Known, Mapping, Plan};
use crate::platforms::ghl::GhlWebhook;
use crate::platforms::tovuti::TovutiWebhook;

/// Plans a sample event with nothing known about the other side. Tovuti event types have a
/// dot (`user.created`); GHL's do not (`ContactCreate`).
pub fn plan_event(m: &Mapping, body: &[u8], now: jiff::Timestamp) -> Result<Plan, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the event is not JSON: {e}"))?;
    let is_tovuti = value
        .get("type")
        .and_then(|t| t.as_str())
        .is_some_and(|t| t.contains('.'));
    let known = Known::at(now);
    if is_tovuti {
        let wh = TovutiWebhook::parse(body).map_err(|e| format!("not a Tovuti event: {e}"))?;
        return Ok(mapping::plan(m, Incoming::Tovuti(&wh), &known));
    }
    let wh = GhlWebhook::parse(body).map_err(|e| format!("not a GHL webhook: {e}"))?;
    let id = wh
        .webhook_id
        .clone()
        .unwrap_or_else(|| "preview".to_owned());
    Ok(mapping::plan(
        m,
        Incoming::Ghl {
            event_id: &id,
            webhook: &wh,
        },
        &known,
    ))
}
