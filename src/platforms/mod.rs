//! Adapters to the two platforms: clients, authentication, and payload types.

pub mod ghl;
