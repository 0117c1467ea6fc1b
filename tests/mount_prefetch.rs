//! `notionfs prefetch` against real mounts (through the control socket, against the
//! emulator): every page under the path ends up in the disk cache (reading them all then
//! costs no block call), the plain output is a line per 100 pages and a last line, a second
//! run reads nothing, `notionfs status` shows a prefetch while it runs, and an interrupted
//! prefetch stops in the mount and is resumed by the next run.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

mod common;

use std::process::{Command, Stdio};

use common::emu::demo_emulator;
use common::mount::{describe, fuse_usable, notionfs, Mount, BIN};
use notionfs::emulator::Faults;
use serde_json::Value;

/// The `.md` files under the mount (pages, rows).
fn pages(m: &Mount) -> Vec<std::path::PathBuf> {
    let o = m.sh("find . -name '*.md' -type f");
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| m.p(l.trim_start_matches("./")))
        .collect()
}

/// Everything is in the disk cache: reading every page makes no block call.
fn reading_every_page_costs_no_block_call(m: &Mount, ctl: &notionfs::emulator::Control) {
    ctl.reset_stats();
    for p in pages(m) {
        std::fs::read(&p).unwrap();
    }
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children"),
        0,
        "{:?}",
        ctl.stats()
    );
}

/// The numbers of the last line: (done, found, read, already cached, failed).
fn last_line(out: &str) -> (u64, u64, u64, u64, u64) {
    let l = out.lines().last().unwrap_or_default();
    assert!(l.starts_with("prefetched: "), "{out}");
    let nums: Vec<u64> = l
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2], nums[3], nums[4])
}

#[test]
fn prefetch_reads_every_page_once_and_a_second_run_reads_none() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &[]);
    let mp = m.mp.to_str().unwrap().to_string();
    let ctl = emu.control();

    let o = notionfs(&["prefetch", &mp]);
    assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (done, found, read, skipped, failed) = last_line(&out);
    let files = pages(&m).len() as u64;
    assert_eq!((done, found, failed), (files, files, 0), "{out}");
    assert_eq!(read + skipped, files, "{out}");
    assert!(read > 0, "{out}");

    // Everything is cached: reading every page costs no block call.
    reading_every_page_costs_no_block_call(&m, &ctl);

    // A second run reads nothing and makes no block call.
    ctl.reset_stats();
    let o = notionfs(&["prefetch", &mp]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(last_line(&out), (files, files, 0, files, 0), "{out}");
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children"),
        0,
        "{:?}",
        ctl.stats()
    );

    // A path inside the mount: only what is under it.
    let o = notionfs(&["prefetch", &format!("{mp}/Team Home")]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let under = m.sh("find 'Team Home' -name '*.md' -type f | wc -l");
    let under: u64 = String::from_utf8_lossy(&under.stdout)
        .trim()
        .parse()
        .unwrap();
    assert_eq!(last_line(&out).1, under, "{out}");

    // Something that is not in a mount is refused clearly.
    let o = notionfs(&["prefetch", "/tmp"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not a notionfs mount"),
        "{}",
        describe(&o)
    );
}

#[test]
fn status_shows_a_running_prefetch_and_an_interrupted_one_resumes() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &[]);
    let mp = m.mp.to_str().unwrap().to_string();
    let files = pages(&m).len() as u64;
    // Slow enough that the prefetch is seen running.
    let ctl = emu.control();
    ctl.set_faults(Faults {
        latency_ms: 150,
        ..ctl.faults()
    });
    let mut child = Command::new(BIN)
        .args(["prefetch", &mp])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen: Option<Value> = None;
    m.wait("a running prefetch in status", || {
        let p = m.status()["prefetch"].clone();
        let reading = p["read"].as_u64().unwrap_or(0) > 0;
        if reading {
            seen = Some(p);
        }
        reading
    });
    let p = seen.unwrap();
    assert_eq!(p["running"], true, "{p}");
    assert_eq!(p["path"], "", "{p}");
    let o = notionfs(&["status", &mp]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Prefetch: "),
        "{}",
        describe(&o)
    );

    // Interrupted: the mount stops it (status shows none), having read some pages.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
    m.wait("the prefetch stopped", || m.status()["prefetch"].is_null());
    let calls = ctl.total_calls();
    std::thread::sleep(std::time::Duration::from_millis(500));
    // (Only the feed's polls, if any, run meanwhile.)
    assert!(
        ctl.total_calls() - calls <= 1,
        "calls after the interruption: {:?}",
        ctl.stats()
    );

    // The next run skips what the interrupted one read.
    ctl.set_faults(Faults {
        latency_ms: 0,
        ..ctl.faults()
    });
    let o = notionfs(&["prefetch", &mp]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (done, found, read, skipped, failed) = last_line(&out);
    assert_eq!((done, found, failed), (files, files, 0), "{out}");
    assert!(skipped > 0 && read > 0, "{out}");
}

#[test]
fn prefetch_at_mount_fills_the_disk_cache_in_the_background() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let ctl = emu.control();
    // Slow answers: the mount serves while the prefetch runs, and status shows it.
    let mut f = ctl.faults();
    f.latency_ms = 30;
    ctl.set_faults(f);
    let m = Mount::start(&emu, &["--prefetch"]);
    let st = m.status();
    assert_eq!(st["prefetch"]["path"], "", "{st}");
    assert!(std::fs::read_dir(&m.mp).unwrap().count() > 0);
    m.wait("the prefetch at mount to end", || {
        m.stderr().contains("prefetch at mount ended")
    });
    assert!(m.status()["prefetch"].is_null());
    f.latency_ms = 0;
    ctl.set_faults(f);
    reading_every_page_costs_no_block_call(&m, &ctl);
}
