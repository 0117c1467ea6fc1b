//! The `notionfs` command: parses the command line and hands each subcommand to the library.
//! Errors become one line on stderr and an exit code here, at the binary's edge.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// notionfs: a Notion workspace mounted as a folder of Markdown files.
#[derive(Parser)]
#[command(name = "notionfs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Notion API emulator alone (binds 127.0.0.1 only).
    Emulator(notionfs::emulator::cli::EmulatorArgs),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("notionfs=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Emulator(args) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(notionfs::emulator::cli::run(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notionfs: {e:#}");
            ExitCode::FAILURE
        }
    }
}
