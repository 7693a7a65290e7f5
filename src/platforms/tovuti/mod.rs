//! Tovuti LMS: inbound webhook events of the service's own Tovuti contract and their
//! verification, and the user API the sync engine writes through.

pub mod client;
pub mod events;
pub mod payloads;
pub mod snapshots;

pub use events::{ParseError, TovutiEvent, TovutiMeta, TovutiWebhook};
pub mod webhook;

pub use webhook::{
    AcceptPolicy, TovutiDelivery, TovutiScheme, TovutiVerifier, WebhookSecret, webhook_secret,
};

pub use client::{TovutiApi, TovutiError, UserWrite};
