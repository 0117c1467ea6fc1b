//! `notionfs status` and `notionfs sync` against real mounts (through the kernel, against the
//! emulator): a save in its quiet period is listed as pending, `sync --wait` pushes it, a
//! failed push is listed with its reason, a conflict is named in `user.notionfs.sync`, and
//! the control socket is private, found from the mountpoint and cleaned up.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::emu::{demo_emulator, last_text, DEEP_DIVE};
use common::mount::{describe as text, fuse_usable, mounted, notionfs, Mount, BIN};
use notionfs::emulator::demo;
use notionfs::emulator::Emulator;
use serde_json::Value;

/// Long enough that a save stays pending for the whole test unless `sync` pushes it.
const LONG_DELAY: u64 = 60_000;

fn start(emu: &Emulator, mpd: &Path, cache: &Path, extra: &[&str]) -> Mount {
    let delay = LONG_DELAY.to_string();
    let mut args = vec!["--write-delay", delay.as_str()];
    args.extend_from_slice(extra);
    Mount::start_on(emu, mpd, cache, &args)
}

/// Appends a paragraph and makes it durable (fsync, then close).
fn append(m: &Mount, rel: &str, line: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(m.p(rel))
        .unwrap();
    f.write_all(format!("\n{line}\n").as_bytes()).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn status_lists_a_pending_save_and_sync_wait_pushes_it() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dmode_before = std::fs::metadata(cache.path())
        .unwrap()
        .permissions()
        .mode();
    let m = start(&emu, mpd.path(), cache.path(), &[]);
    let mp = m.mp.to_str().unwrap().to_string();

    // The root names the socket; the socket is private.
    let sock = cache.path().join("control.sock");
    assert_eq!(m.xattr("", "user.notionfs.control"), sock.to_str().unwrap());
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    // A --cache-dir that exists is the user's: its mode is left alone.
    let dmode = std::fs::metadata(cache.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dmode, dmode_before, "cache dir mode {dmode:o}");

    // Nothing saved yet.
    let s = m.status();
    assert_eq!(s["pending"], Value::Array(vec![]));
    assert_eq!(s["writes"], true);
    let o = notionfs(&["status", &mp]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Saves: all in Notion"),
        "{}",
        text(&o)
    );

    // A save in its quiet period is pending, with its path and since when.
    let page = demo::deep_dive_id();
    let before = last_text(&emu, &page);
    append(&m, DEEP_DIVE, "Pushed by notionfs sync.");
    assert_eq!(m.sync_xattr(DEEP_DIVE), "pending");
    let o = notionfs(&["status", &mp]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.contains("Pending saves (1):"), "{out}");
    assert!(out.contains(&format!("  {DEEP_DIVE}  since ")), "{out}");
    assert!(out.contains("API: "), "{out}");
    let s = m.status();
    let pending = s["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{s}");
    assert_eq!(pending[0]["path"], DEEP_DIVE);
    assert_eq!(pending[0]["page"], page.as_str());
    assert_eq!(pending[0]["kinds"], serde_json::json!(["body"]));
    assert!(pending[0]["since"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    // One record per flush (fsync, close): at least one.
    assert!(s["journal_records"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["api"]["calls"].as_u64().unwrap() > 0, "{s}");
    assert!(s["cache"]["memory_bytes"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["cache"]["dir"], cache.path().to_str().unwrap());
    // Notion does not have it yet (the quiet period is a minute).
    assert_eq!(last_text(&emu, &page), before);

    // sync --wait returns once Notion has it.
    let o = notionfs(&["sync", &mp, "--wait"]);
    assert!(o.status.success(), "{}\n{}", text(&o), m.stderr());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Notion has every save"),
        "{}",
        text(&o)
    );
    assert_eq!(last_text(&emu, &page), "Pushed by notionfs sync.");
    let s = m.status();
    assert_eq!(s["pending"], Value::Array(vec![]), "{s}");
    assert_eq!(s["failed"], Value::Array(vec![]), "{s}");
    assert_eq!(s["journal_records"], 0);
    assert_eq!(m.sync_xattr(DEEP_DIVE), "clean");

    // A path inside the mount means the mount; without a path, the only mount (other
    // mounts of this user may be running: then the error names them, ours among them).
    let o = notionfs(&[
        "status",
        m.p("Engineering Wiki").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = notionfs(&["status", "--json"]);
    if o.status.success() {
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(s["mountpoint"], mp.as_str());
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("several notionfs mounts"), "{}", text(&o));
        assert!(err.contains(&mp), "{}", text(&o));
    }

    // sync without --wait only starts the push.
    append(&m, DEEP_DIVE, "Pushed in the background.");
    let o = notionfs(&["sync", &mp]);
    assert!(o.status.success(), "{}", text(&o));
    let t = Instant::now();
    while last_text(&emu, &page) != "Pushed in the background." {
        assert!(t.elapsed() < Duration::from_secs(15), "not pushed");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A clean exit removes the socket.
    drop(m);
    assert!(!sock.exists(), "socket left behind");
}

#[test]
fn a_failed_push_is_listed_with_its_reason() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = start(&emu, mpd.path(), cache.path(), &[]);
    let mp = m.mp.to_str().unwrap().to_string();
    append(&m, DEEP_DIVE, "Saved while someone trashed the page.");
    // Someone moves the page to the trash in Notion: the push cannot succeed.
    emu.control().delete_block(&demo::deep_dive_id()).unwrap();

    let o = notionfs(&["sync", &mp, "--wait"]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", text(&o), m.stderr());
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("Failed (kept locally) (1):"), "{out}");
    assert!(out.contains(DEEP_DIVE), "{out}");
    assert!(out.contains("reason: "), "{out}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 failed"),
        "{}",
        text(&o)
    );

    let s = m.status();
    let failed = s["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{s}");
    assert_eq!(failed[0]["path"], DEEP_DIVE);
    let reason = failed[0]["reason"].as_str().unwrap().to_string();
    assert!(!reason.is_empty());
    assert_eq!(s["pending"], Value::Array(vec![]), "{s}");
    // The save stays in the journal, and the file says why.
    assert!(s["journal_records"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(m.sync_xattr(DEEP_DIVE), format!("failed: {reason}"));
    let o = notionfs(&["status", &mp]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("Failed saves (kept locally) (1):"), "{out}");
    assert!(out.contains(&format!("reason: {reason}")), "{out}");
}

#[test]
fn a_conflict_is_named_in_the_sync_attribute_and_listed() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = start(&emu, mpd.path(), cache.path(), &[]);
    let mp = m.mp.to_str().unwrap().to_string();
    // Edit the marker paragraph locally while someone edits it in Notion.
    let body = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    std::fs::write(m.p(DEEP_DIVE), body.replace(demo::MARKER, "local-edit")).unwrap();
    emu.control()
        .set_block_text(&demo::block_id(100), "The secret marker is remote-edit.")
        .unwrap();

    let o = notionfs(&["sync", &mp, "--wait", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", text(&o), m.stderr());
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let conflicts = r["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{r}");
    assert_eq!(conflicts[0]["path"], DEEP_DIVE);
    let copy = conflicts[0]["copy"].as_str().unwrap().to_string();
    let dir = "Engineering Wiki/Architecture/Storage Layer/";
    let name = copy.strip_prefix(dir).expect("copy beside the page");
    assert!(
        name.starts_with("Deep Dive: Compaction.conflict-") && name.ends_with(".md"),
        "{copy}"
    );
    // The copy holds the local version; the page keeps Notion's.
    let kept = std::fs::read_to_string(m.p(&copy)).unwrap();
    assert!(kept.contains("local-edit"), "{kept}");
    assert_eq!(m.sync_xattr(DEEP_DIVE), format!("conflict: {name}"));
    let s = m.status();
    assert_eq!(s["conflicts"][0]["copy"], copy.as_str(), "{s}");
    assert!(emu
        .control()
        .plain_text(&demo::block_id(100))
        .unwrap()
        .contains("remote-edit"));

    // The next successful save clears it.
    let now = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(now.contains("remote-edit"), "{now}");
    std::fs::write(m.p(DEEP_DIVE), now.replace("remote-edit", "merged-edit")).unwrap();
    let o = notionfs(&["sync", &mp, "--wait"]);
    assert!(o.status.success(), "{}\n{}", text(&o), m.stderr());
    assert_eq!(m.sync_xattr(DEEP_DIVE), "clean");
    assert_eq!(m.status()["conflicts"], Value::Array(vec![]));
}

#[test]
fn read_only_mounts_answer_status_and_a_stale_socket_is_replaced() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A socket file nobody listens on, as a crashed mount leaves it.
    let sock = cache.path().join("control.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());

    let m = start(&emu, mpd.path(), cache.path(), &["--read-only"]);
    let mp = m.mp.to_str().unwrap().to_string();
    std::fs::read(m.p(DEEP_DIVE)).unwrap();
    let s = m.status();
    assert_eq!(s["read_only"], true);
    assert_eq!(s["writes"], false);
    assert!(s["api"]["calls"].as_u64().unwrap() > 0, "{s}");
    assert!(
        s["api"]["by_endpoint"]["GET /v1/blocks/{id}/children"]
            .as_u64()
            .unwrap()
            > 0,
        "{s}"
    );
    assert!(s["cache"]["memory_bytes"].as_u64().unwrap() > 0, "{s}");
    let o = notionfs(&["status", &mp]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("read-only"), "{out}");
    assert!(out.contains("of pages in memory"), "{out}");
    let o = notionfs(&["sync", &mp, "--wait"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("does not accept writes"),
        "{}",
        text(&o)
    );

    // A second mount on the same cache dir is refused while this one runs.
    let mpd2 = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("mount")
        .arg(mpd2.path())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--read-only", "-q"])
        .env("NOTION_TOKEN", emu.token())
        .env("NOTION_API_URL", emu.base_url())
        .env("XDG_CONFIG_HOME", cache.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("in use by another running notionfs mount"),
        "{}",
        text(&o)
    );
    assert!(!mounted(&mpd2.path().canonicalize().unwrap()));
    // ... and leaves the running mount's socket alone.
    assert!(m.status()["read_only"] == true);
}

#[test]
fn status_on_something_else_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = notionfs(&["status", d]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        format!("notionfs: {d} is not a notionfs mount")
    );
    let o = notionfs(&["sync", d, "--wait"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a notionfs mount"));
    let missing = dir.path().join("missing");
    let o = notionfs(&["status", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("No such file or directory"),
        "{}",
        text(&o)
    );
}
