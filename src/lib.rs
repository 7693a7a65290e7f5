//! tovuti-ghl-bridge library.

pub mod cli;
pub mod platforms;
