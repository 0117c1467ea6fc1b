//! What only the kernel path shows about reading, on a real mount (`notionfs mount`, the
//! binary, against the in-process emulator): shell tools (`grep -r`, `ls -R`, `find`, `cat`,
//! `cp`, `stat`, `getfattr`) see what the syscalls see, a first read can be a shared `mmap`,
//! the command line's errors, `-d`, SIGTERM and `fusermount3 -u`, and `notionfs demo`.
//! Reading behaviour shared with the core is in `conformance.rs`, run both ways.
//!
//! Skipped (with the reason printed) only where FUSE cannot work: no /dev/fuse or no
//! fusermount3.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::emu::{demo_emulator as emulator, DEEP_DIVE};
use common::mount::{fuse_usable, mounted, Mount, BIN};
use notionfs::emulator::demo;

/// Paths of `ls -R` output (relative, `./` stripped).
fn ls_r_paths(out: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let mut dir = String::new();
    for line in out.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(d) = line.strip_suffix(':') {
            dir = d
                .trim_start_matches('.')
                .trim_start_matches('/')
                .to_string();
            continue;
        }
        set.insert(if dir.is_empty() {
            line.to_string()
        } else {
            format!("{dir}/{line}")
        });
    }
    set
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn shell_tools_see_what_the_syscalls_see() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let m = Mount::start(&emu, &[]);
    // grep -r reads every file and finds the marker four levels deep, once.
    let g = m.sh(&format!("grep -r {} .", demo::MARKER));
    assert!(g.status.success(), "{}", m.stderr());
    let out = stdout(&g);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with(&format!("./{DEEP_DIVE}:")), "{out}");
    // ls -R and find see the same tree (find also the hidden files).
    let ls = m.sh("ls -R -1 --quoting-style=literal .");
    assert!(ls.status.success());
    let tree = ls_r_paths(&stdout(&ls));
    let found: BTreeSet<String> = stdout(&m.sh("find . -mindepth 1"))
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect();
    let visible: BTreeSet<String> = found
        .iter()
        .filter(|p| !p.rsplit('/').next().unwrap_or("").starts_with('.'))
        .cloned()
        .collect();
    assert_eq!(tree, visible);
    assert!(found.contains("Engineering Wiki/Tasks/.schema.yaml"));
    // cat, cp, stat and getfattr agree with the syscalls.
    let row = "Engineering Wiki/Tasks/Write spec.md";
    let text = std::fs::read_to_string(m.p(row)).unwrap();
    assert_eq!(stdout(&m.sh(&format!("cat '{row}'"))), text);
    let st = m.sh(&format!("stat -c %s '{row}'"));
    assert_eq!(stdout(&st).trim(), text.len().to_string());
    let mt = m.sh("stat -c %Y 'Engineering Wiki.md'");
    let secs: u64 = stdout(&mt).trim().parse().unwrap();
    let mtime = std::fs::metadata(m.p("Engineering Wiki.md"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        secs,
        mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    let gf = m.sh("getfattr --only-values -n user.notion.id 'Engineering Wiki.md'");
    assert_eq!(stdout(&gf), demo::wiki_id());
    let cp = m.sh("cp 'Engineering Wiki/Block Showcase/spec.pdf' /dev/stdout");
    assert_eq!(cp.stdout, demo::PDF_TEXT.as_bytes());
    assert!(mounted(&m.mp));
}

#[test]
fn the_first_read_of_a_page_can_be_a_shared_mmap() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let m = Mount::start(&emu, &["--read-only", "--ttl", "1"]);
    // The size is learnt at open, with no direct I/O: the page cache serves the mapping.
    let planning = m.p("Team Home/Q3\u{2215}Q4 Planning.md");
    let f = std::fs::File::open(&planning).unwrap();
    let len = f.metadata().unwrap().len() as usize;
    assert!(len > 0);
    // SAFETY: mapping an open file read-only for its whole length, unmapped below.
    let mapped = unsafe {
        use std::os::fd::AsRawFd;
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(p, libc::MAP_FAILED, "mmap failed");
        let v = std::slice::from_raw_parts(p as *const u8, len).to_vec();
        libc::munmap(p, len);
        v
    };
    assert_eq!(mapped, std::fs::read(&planning).unwrap());
    // After a remote edit, `cat` shows what a read shows.
    emu.control()
        .set_block_text(&demo::block_id(100), "Edited remotely, longer than before.")
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let new = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(new.contains("Edited remotely"), "{new}");
    assert_eq!(stdout(&m.sh(&format!("cat '{DEEP_DIVE}'"))), new);
}

#[test]
fn command_line_errors_and_clean_unmount_on_sigterm() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let mp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], token: Option<&str>, url: &str| {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("NOTION_API_URL", url)
            .env_remove("NOTION_TOKEN");
        if let Some(t) = token {
            c.env("NOTION_TOKEN", t);
        }
        c.env("XDG_CONFIG_HOME", mp.path()).output().unwrap()
    };
    let mps = mp.path().to_str().unwrap();
    let url = emu.base_url();
    let o = run(&["mount", mps], None, &url);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        e.contains("NOTION_TOKEN") && e.contains("--token-file"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1);
    let o = run(&["mount", mps], Some("secret_wrong_token_123"), &url);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(e.contains("rejected"), "{e}");
    assert!(!e.contains("secret_wrong_token_123"));
    let o = run(&["mount", mps], Some(emu.token()), "http://127.0.0.1:9");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach"));
    let o = run(&["mount", "/nonexistent/mp"], Some(emu.token()), &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));
    // Busy.
    let m = Mount::start(&emu, &[]);
    let o = run(&["mount", m.mp.to_str().unwrap()], Some(emu.token()), &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("busy"));
    // SIGTERM unmounts cleanly.
    let mut m = m;
    let mut child = m.child.take().unwrap();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{}", m.stderr());
    assert!(!mounted(&m.mp));
    // -d detaches once mounted; the token can come from a file (given as a mount option).
    let token_file = mp.path().join("token");
    std::fs::write(&token_file, format!("{}\n", emu.token())).unwrap();
    let mpd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("mount")
        .arg(mpd.path())
        .arg("-d")
        .arg("-o")
        .arg(format!(
            "token_file={},cache_dir={},ttl=5,noatime",
            token_file.display(),
            cache.path().display()
        ))
        .env("NOTION_API_URL", &url)
        .env_remove("NOTION_TOKEN")
        .env("XDG_CONFIG_HOME", mp.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dmp = mpd.path().canonicalize().unwrap();
    assert!(mounted(&dmp));
    assert!(std::fs::read_dir(&dmp).unwrap().count() >= 4);
    let ok = Command::new("fusermount3")
        .arg("-u")
        .arg(&dmp)
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(cache.path().join("notionfs.log").exists());
    // fusermount3 -u ends a mount too.
    let m2 = Mount::start(&emu, &[]);
    let ok = Command::new("fusermount3")
        .arg("-u")
        .arg(&m2.mp)
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(!mounted(&m2.mp));
}

#[test]
fn demo_mounts_the_demo_workspace() {
    if !fuse_usable() {
        return;
    }
    let mpd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mp = mpd.path().canonicalize().unwrap();
    let mut child = Command::new(BIN)
        .arg("demo")
        .arg(&mp)
        .arg("--cache-dir")
        .arg(cache.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !mounted(&mp) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "demo not mounted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let names: BTreeSet<String> = std::fs::read_dir(&mp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let text = std::fs::read_to_string(
        mp.join("Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md"),
    );
    let _ = Command::new("fusermount3").arg("-u").arg(&mp).status();
    let _ = child.wait();
    assert!(names.contains("Engineering Wiki.md") && names.contains("Team Home"));
    assert!(text.unwrap().contains(demo::MARKER));
}
