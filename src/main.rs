//! The `connect-sessions` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = connect_sessions::cli::Cli::parse();
    connect_sessions::cli::run(cli)
}
