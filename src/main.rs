//! The `notionfs` command (temporary wiring on the fs branch; the lead merges main.rs).

use clap::{Parser, Subcommand};
use notionfs::fs::cli::{run_demo, run_mount, DemoArgs, MountArgs};

/// Mount a Notion workspace as a folder of Markdown files.
#[derive(Parser)]
#[command(name = "notionfs", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Mount the workspace the token can see.
    Mount(MountArgs),
    /// Start the built-in emulator with the demo workspace and mount it.
    Demo(DemoArgs),
    /// Run the Notion API emulator alone.
    Emulator(notionfs::emulator::cli::EmulatorArgs),
}

fn main() {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Mount(a) => run_mount(a),
        Cmd::Demo(a) => run_demo(a),
        Cmd::Emulator(a) => {
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            if let Err(e) = rt.block_on(notionfs::emulator::cli::run(a)) {
                eprintln!("notionfs: {e}");
                std::process::exit(1);
            }
            Ok(())
        }
    };
    if let Err(e) = res {
        eprintln!("notionfs: {e}");
        std::process::exit(e.exit_code());
    }
}
