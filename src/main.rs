//! The `tovuti-ghl-bridge` binary: everything happens in the library's `cli` module.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: webhook intake allocates and frees small buffers on
/// every request from several threads, where glibc's arenas showed up as about a tenth of
/// the CPU in profiles (bench/README.md, intake).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tovuti_ghl_bridge::cli::main().await
}
