//! Tovuti LMS: inbound webhook events of the service's own Tovuti contract and their verification.

pub mod events;
pub mod payloads;

pub use events::{ParseError, TovutiEvent, TovutiMeta, TovutiWebhook};
pub mod webhook;

pub use webhook::{AcceptPolicy, TovutiDelivery, TovutiScheme, TovutiVerifier, WebhookSecret};
