//! In-process stand-ins for the platforms, faithful to their official shapes, status
//! codes and limits: used by tests and offered as a sandbox to users without credentials.

pub mod faults;
pub mod ghl;
pub mod samples;
pub mod tovuti;
pub mod wiring;
