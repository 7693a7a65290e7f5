//! GoHighLevel: inbound webhook events and their verification, and the API client.

pub mod client;
pub mod custom_fields;
pub mod events;
pub mod payloads;
#[cfg(test)]
pub mod spec_files;

pub use events::{GhlEvent, GhlMeta, GhlWebhook, ParseError};
pub mod webhook;

pub use webhook::{GhlDelivery, GhlScheme, GhlVerifier};
