//! The `tovuti-ghl-bridge` binary: everything happens in the library's `cli` module.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tovuti_ghl_bridge::cli::main().await
}
