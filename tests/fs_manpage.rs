//! The man page documents every long option of `mount`, `demo`, `emulator`, `status` and
//! `sync`, as the clap definitions declare them.

use clap::{Args, Command};

fn longs(cmd: &Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

#[test]
fn every_long_option_is_in_the_man_page() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/notionfs.1"))
        .expect("man/notionfs.1");
    // roff writes a literal dash as "\-".
    let text = page.replace("\\-", "-");
    let cmds = [
        notionfs::cli::MountArgs::augment_args(Command::new("mount")),
        notionfs::cli::DemoArgs::augment_args(Command::new("demo")),
        notionfs::emulator::cli::EmulatorArgs::augment_args(Command::new("emulator")),
        notionfs::cli::status::StatusArgs::augment_args(Command::new("status")),
        notionfs::cli::status::SyncArgs::augment_args(Command::new("sync")),
    ];
    let mut checked = 0;
    for cmd in &cmds {
        assert!(
            text.contains(&format!("notionfs {}", cmd.get_name())),
            "subcommand {} missing",
            cmd.get_name()
        );
        for long in longs(cmd) {
            assert!(
                text.contains(&format!("--{long}")),
                "--{long} of {} is not documented",
                cmd.get_name()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} options found");
    for section in [
        ".SH EXIT STATUS",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH EXAMPLES",
    ] {
        assert!(page.contains(section), "{section}");
    }
    for sub in [
        "status",
        "sync",
        "convert md-to-blocks",
        "convert blocks-to-md",
    ] {
        assert!(text.contains(&format!("notionfs {sub}")), "{sub}");
    }
}
