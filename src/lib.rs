//! tovuti-ghl-bridge library.

pub mod platforms;
