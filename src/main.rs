//! The `notionfs` command: parses the command line and hands each subcommand to the library.
//! Errors become one line on stderr and an exit code here, at the binary's edge.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
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
    /// Mount the workspace the token can see.
    Mount(notionfs::cli::MountArgs),
    /// Start the built-in emulator with the demo workspace and mount it.
    Demo(notionfs::cli::DemoArgs),
    /// Show a running mount's pending, failed and conflicted saves, cache use and API calls.
    Status(notionfs::cli::status::StatusArgs),
    /// Push a running mount's pending saves now (--wait: until Notion has them all).
    Sync(notionfs::cli::status::SyncArgs),
    /// Read every page under PATH into a running mount's disk cache, with progress.
    Prefetch(notionfs::cli::prefetch::PrefetchArgs),
    /// Run the Notion API emulator alone (binds 127.0.0.1 only).
    Emulator(notionfs::emulator::cli::EmulatorArgs),
    /// Convert between Markdown and JSON arrays of Notion blocks.
    Convert {
        #[command(subcommand)]
        direction: Direction,
    },
}

#[derive(Subcommand)]
enum Direction {
    /// Markdown -> JSON array of blocks in the shape append-children accepts.
    MdToBlocks {
        /// Input file (stdin when absent).
        file: Option<PathBuf>,
    },
    /// JSON array of blocks as the API returns them (children inline) -> Markdown.
    BlocksToMd {
        /// Input file (stdin when absent).
        file: Option<PathBuf>,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("notionfs=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn read_input(file: &Option<PathBuf>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display())),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("cannot read stdin")?;
            Ok(buf)
        }
    }
}

fn convert(direction: Direction) -> anyhow::Result<()> {
    use notionfs::markdown::convert::{blocks_to_md, md_to_blocks};
    let out = match direction {
        Direction::MdToBlocks { file } => {
            let converted = md_to_blocks(&read_input(&file)?)?;
            // The JSON goes to stdout as one append request; what it leaves out is said here.
            for note in converted.notes() {
                eprintln!("notionfs: {note}");
            }
            converted.json
        }
        Direction::BlocksToMd { file } => blocks_to_md(&read_input(&file)?)?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .context("cannot write stdout")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Each arm gives the error line and the exit code. `mount` and `demo` set up logging
    // themselves (-v/-q, the detached daemon's log file).
    let result: Result<(), (String, u8)> = match cli.command {
        Command::Mount(args) => notionfs::cli::run_mount(args).map_err(fs_failure),
        Command::Demo(args) => notionfs::cli::run_demo(args).map_err(fs_failure),
        Command::Status(args) => notionfs::cli::status::run_status(args).map_err(control_failure),
        Command::Sync(args) => notionfs::cli::status::run_sync(args).map_err(control_failure),
        Command::Prefetch(args) => {
            notionfs::cli::prefetch::run_prefetch(args).map_err(control_failure)
        }
        Command::Emulator(args) => {
            init_logging();
            tokio::runtime::Runtime::new()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(notionfs::emulator::cli::run(args)))
                .map_err(failure)
        }
        Command::Convert { direction } => {
            init_logging();
            convert(direction).map_err(failure)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((message, code)) => {
            eprintln!("notionfs: {message}");
            ExitCode::from(code)
        }
    }
}

fn failure(e: anyhow::Error) -> (String, u8) {
    (format!("{e:#}"), 1)
}

fn control_failure(e: notionfs::cli::status::ControlError) -> (String, u8) {
    (e.to_string(), 1)
}

fn fs_failure(e: notionfs::cli::CliError) -> (String, u8) {
    let code = u8::try_from(e.exit_code()).unwrap_or(1);
    (e.to_string(), code)
}
