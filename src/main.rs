//! The `notionfs` command. This build carries the `convert` subcommand; the converter
//! itself lives in the library (`notionfs::markdown::convert`).

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// notionfs: a Notion workspace mounted as a folder of Markdown files.
#[derive(Parser)]
#[command(name = "notionfs", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        file: Option<std::path::PathBuf>,
    },
    /// JSON array of blocks as the API returns them (children inline) -> Markdown.
    BlocksToMd {
        /// Input file (stdin when absent).
        file: Option<std::path::PathBuf>,
    },
}

fn read_input(file: &Option<std::path::PathBuf>) -> Result<Vec<u8>, String> {
    match file {
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(buf)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert { direction } => match direction {
            Direction::MdToBlocks { file } => read_input(&file).and_then(|b| {
                notionfs::markdown::convert::md_to_blocks(&b).map_err(|e| e.to_string())
            }),
            Direction::BlocksToMd { file } => read_input(&file).and_then(|b| {
                notionfs::markdown::convert::blocks_to_md(&b).map_err(|e| e.to_string())
            }),
        },
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("notionfs: {msg}");
            ExitCode::from(1)
        }
    }
}
