//! Reference endpoints for `bench/intake.sh`, never part of the service's router:
//! `POST /ok` answers 200 (the ceiling of the HTTP stack on the machine) and `POST /verify`
//! only runs the service's own GHL verification and answers 200 (the ceiling of verified
//! intake, storing nothing).
//!
//! Usage: `bench_reference LISTEN_ADDR ED25519_PUBLIC_KEY_PEM_FILE`

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jiff::Timestamp;
use tovuti_ghl_bridge::platforms::ghl::GhlVerifier;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args
        .next()
        .context("usage: bench_reference LISTEN_ADDR PUBLIC_KEY_FILE")?;
    let key_file = args
        .next()
        .context("usage: bench_reference LISTEN_ADDR PUBLIC_KEY_FILE")?;
    let key = std::fs::read_to_string(&key_file).with_context(|| format!("reading {key_file}"))?;
    let verifier = Arc::new(GhlVerifier::new(&key, None, Duration::from_secs(300))?);
    let app = Router::new()
        .route("/ok", post(|| async { StatusCode::OK }))
        .route("/verify", post(verify))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn verify(
    State(verifier): State<Arc<GhlVerifier>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match verifier.verify(&headers, body, Timestamp::now()) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}
