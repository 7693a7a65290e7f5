//! Command-line subcommands, one file each.

pub mod samples;
pub mod send_test_event;
