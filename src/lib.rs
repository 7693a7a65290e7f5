//! tovuti-ghl-bridge library.

pub mod mapping;
