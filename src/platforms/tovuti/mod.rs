//! Tovuti LMS: inbound webhook event types of the service's own Tovuti contract.

pub mod events;
pub mod payloads;

pub use events::{ParseError, TovutiEvent, TovutiMeta, TovutiWebhook};
