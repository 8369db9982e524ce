//! The `connect-sessions` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: a request makes many small,
/// short-lived allocations (form trees, JSON, futures), and glibc's malloc
/// spent about a seventh of the server's CPU on them under load (bench/profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = connect_sessions::cli::Cli::parse();
    connect_sessions::cli::run(cli)
}
