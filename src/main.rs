//! Entry point: logs to stderr (secrets scrubbed), parses the command line, runs the command.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use source_zendesk_chat::{
    cli::Cli, install_panic_hook, protocol::Output, run, secrets::RedactingStderr,
};

fn main() -> ExitCode {
    tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(|| RedactingStderr)
        .with_ansi(false)
        .init();
    let out = Arc::new(Output::stdout());
    install_panic_hook(out.clone());
    if let Err(e) = out.spawn_flusher() {
        tracing::warn!("cannot start the stdout flusher ({e}); records are flushed with each page");
    }
    test_panic_trigger();
    run(Cli::parse(), out)
}

/// TEST-ONLY: `SOURCE_ZENDESK_CHAT_TEST_PANIC=1` makes the binary panic at start, so the tests
/// can check that a panic reaches the platform as a TRACE. It reads nothing else and has no
/// other effect.
fn test_panic_trigger() {
    if std::env::var_os("SOURCE_ZENDESK_CHAT_TEST_PANIC").is_some_and(|v| v == "1") {
        panic!("test-only panic requested by SOURCE_ZENDESK_CHAT_TEST_PANIC");
    }
}

/// API pages are buffers of several MB, allocated and freed once per page. glibc raises its mmap
/// threshold after freeing such a buffer and then serves the next ones from heap arenas, which
/// fragment: peak RSS grew with the number of pages (measured: 35 MB instead of 21 MB for 100,000
/// chats). A fixed threshold keeps large buffers in mmap, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets an allocator parameter; it runs first in main, before any other
    // thread exists, and an unsupported value is ignored (return value 0).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
