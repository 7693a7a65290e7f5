//! The deployment kit stays true to the service: the Kubernetes manifests set only
//! configuration keys, probe real routes and leave room for the measured memory; the
//! alert rules and the dashboard name only metrics the service exports; the
//! PrometheusRule carries exactly the promtool-tested rules.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod files;
mod manifests;
mod observability;
mod service;
