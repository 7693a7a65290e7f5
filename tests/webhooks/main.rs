//! Webhook intake through the real router and a real SQLite store: signatures, dedupe,
//! routing, back-pressure and the answers senders rely on.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

#[path = "../common/mod.rs"]
mod common;
mod connections;
mod depth;
mod docs;
mod ghl;
mod properties;
mod pushback;
mod support;
mod tovuti;
