//! The mapping between a Tovuti user and a GHL contact, and the sync rules, as data.
//! Pure: no I/O, no async, no clock reads (callers pass `now`).

pub mod value;
