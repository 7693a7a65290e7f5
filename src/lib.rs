//! tovuti-ghl-bridge library.
