//! `keys generate`: fresh secrets from the operating system's random source.

use std::process::ExitCode;

use crate::platforms::tovuti::webhook_secret;
use crate::store::Cipher;

pub fn run() -> ExitCode {
    println!("BRIDGE_ENCRYPTION_KEY={}", Cipher::generate_key());
    println!("BRIDGE_TOVUTI_WEBHOOK_SECRET={}", webhook_secret());
    ExitCode::SUCCESS
}
