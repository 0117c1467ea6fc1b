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
        Direction::MdToBlocks { file } => md_to_blocks(&read_input(&file)?)?,
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
    init_logging();
    let result = match cli.command {
        Command::Emulator(args) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(notionfs::emulator::cli::run(args))),
        Command::Convert { direction } => convert(direction),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notionfs: {e:#}");
            ExitCode::FAILURE
        }
    }
}
