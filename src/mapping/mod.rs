//! The mapping between a Tovuti user and a GHL contact, and the sync rules, as data.
//! Pure: no I/O, no async, no clock reads (callers pass `now`).

pub mod model;
pub mod source;
pub mod template;
pub mod transform;
pub mod validate;
pub mod value;

pub use validate::{Mapping, Problem, ValidationErrors, load};
