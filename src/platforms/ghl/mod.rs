//! GoHighLevel: inbound webhook event types (and, later, verification and the API client).

pub mod events;
pub mod payloads;

pub use events::{GhlEvent, GhlMeta, GhlWebhook, ParseError};
