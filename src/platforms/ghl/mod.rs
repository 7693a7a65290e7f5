//! GoHighLevel: the outbound API client.

pub mod client;
