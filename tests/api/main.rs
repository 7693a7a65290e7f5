//! The service through its front door: the real router and `run` on port 0, and the
//! real binary for signals, exit codes and logs.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod abuse;
mod admin_audit;
mod admin_auth;
mod admin_backfills;
mod admin_cli;
mod admin_connections;
mod admin_events;
mod admin_install_link;
mod admin_lane;
mod admin_secrets;
mod admin_support;
mod admin_tools;
mod backfill_support;
mod binary;
mod binary_serve;
mod check;
#[path = "../common/mod.rs"]
mod common;
mod connections_cli;
mod console;
mod console_backfills;
mod console_install;
mod console_lane;
mod console_pages;
mod console_provision;
mod console_sessions;
mod console_support;
mod console_tools;
mod health;
mod helpers;
mod middleware;
mod oauth;
mod openapi;
mod preflight;
mod shutdown;
