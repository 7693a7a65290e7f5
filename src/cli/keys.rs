//! `keys generate`: fresh secrets from the operating system's random source.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;

use crate::store::Cipher;

/// Bytes of a webhook signing secret (Standard Webhooks accepts 24 to 64).
const WEBHOOK_SECRET_BYTES: usize = 32;

pub fn run() -> ExitCode {
    println!("BRIDGE_ENCRYPTION_KEY={}", Cipher::generate_key());
    println!("BRIDGE_TOVUTI_WEBHOOK_SECRET={}", webhook_secret());
    ExitCode::SUCCESS
}

/// A Standard Webhooks secret: `whsec_` and the base64 of random bytes.
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; WEBHOOK_SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}
