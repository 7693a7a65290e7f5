//! The `tovuti-ghl-bridge` binary: everything happens in the library's `cli` module.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: webhook intake allocates and frees small buffers on
/// every request from several threads, where glibc's arenas showed up as about a tenth of
/// the CPU in profiles (bench/README.md, intake). Built without transparent huge pages
/// (`no_thp`): mimalloc otherwise asks for them over its whole arena, and each page it
/// touches then costs 2 MiB of resident memory; the idle process held 42 MiB instead of
/// 25 (bench/README.md, memory).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tovuti_ghl_bridge::cli::main().await
}
