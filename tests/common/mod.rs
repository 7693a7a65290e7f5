//! What the integration-test binaries share, included by each with
//! `#[path = "../common/mod.rs"] mod common;`: a scratch database on either backend, the
//! configuration a test starts from, and the sandbox fakes wired into it.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses its own part of the toolkit; an `expect` would fail in the binaries that use all of a part"
)]

pub mod config;
pub mod database;
pub mod fakes;

pub use database::{Backend, ScratchDb};

/// A local port nothing listens on at the moment it is returned.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
