//! The mapping between a Tovuti user and a GHL contact, and the sync rules, as data.
//! Pure: no I/O, no async, no clock reads (callers pass `now`).

pub mod action;
mod automations;
mod extra;
pub mod fields;
pub mod file;
pub mod fingerprint;
mod from_ghl;
mod from_ghl_summaries;
mod from_tovuti;
mod from_tovuti_activity;
mod from_tovuti_context;
pub mod model;
pub mod plan;
pub mod policy;
pub mod remote;
mod rules;
pub mod source;
pub mod template;
#[cfg(test)]
mod test_support;
pub mod tovuti_names;
pub mod transform;
pub mod validate;
pub mod value;
pub mod write;

pub use action::{Action, ContactRef, UserRef};
pub use fingerprint::fingerprint;
pub use plan::{Incoming, Known, Links, Plan, plan};
pub use validate::{Mapping, MappingProblem, ValidationErrors, load};

/// The shipped example mapping, which is also the default.
pub const EXAMPLE: &str = include_str!("../../config/mapping.example.toml");
/// The name the shipped example is reported under.
pub const EXAMPLE_NAME: &str = "config/mapping.example.toml (built in)";
