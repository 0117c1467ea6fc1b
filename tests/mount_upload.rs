//! Real mounts through the kernel: files copied into a page's folder are uploaded (single
//! and multi-part) and appended as media blocks by type, list and read back as attachments,
//! `rm` deletes their block, and a file over the workspace's limit is refused with EFBIG.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

mod common;

use std::time::{Duration, Instant};

use common::emu::demo_emulator;
use common::mount::{fuse_usable, Mount};
use notionfs::emulator::demo;
use notionfs::emulator::Emulator;
use serde_json::Value;

const FOLDER: &str = "Engineering Wiki/Block Showcase";
const SEND: &str = "POST /v1/file_uploads/{id}/send";
const CREATE: &str = "POST /v1/file_uploads";
const COMPLETE: &str = "POST /v1/file_uploads/{id}/complete";

/// Deterministic bytes of `n` length (not all alike, so a misplaced part shows).
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[2] ^ seed)
        .collect()
}

/// The new last child of `page` once it is not `before`'s last one.
fn new_last(emu: &Emulator, page: &str, before: &[String]) -> Option<Value> {
    let ids = emu.control().children_ids(page);
    let last = ids.last()?;
    (!before.contains(last)).then(|| emu.control().block_json(last))?
}

/// Waits until `rel` is listed as an attachment (a block, not the local copy) and returns
/// its block id.
fn attachment_id(m: &Mount, rel: &str) -> String {
    m.wait(&format!("{rel} listed as an attachment"), || {
        m.xattr(rel, "user.notion.object") == "block"
    });
    m.xattr(rel, "user.notion.id")
}

#[test]
fn copies_become_media_blocks_and_rm_deletes_them() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let png = bytes(3000, 7);
    std::fs::write(src.path().join("diagram.png"), &png).unwrap();
    let txt = b"plain notes\n".to_vec();
    std::fs::write(src.path().join("minutes.txt"), &txt).unwrap();
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "200"]);
    let page = demo::showcase_id();
    m.shell(&format!("ls '{FOLDER}' > /dev/null"));
    let before = emu.control().children_ids(&page);
    emu.control().reset_stats();

    // A small PNG: one single-part upload, appended at the end as an image block.
    m.shell(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("diagram.png").display()
    ));
    let mut block = Value::Null;
    m.wait("an image block at the end of the page", || {
        block = new_last(&emu, &page, &before).unwrap_or(Value::Null);
        !block.is_null()
    });
    assert_eq!(block["type"], "image", "{block}");
    assert_eq!(block["image"]["type"], "file", "{block}");
    let url = block["image"]["file"]["url"].as_str().unwrap_or_default();
    assert!(
        url.split('?').next().unwrap().ends_with("/diagram.png"),
        "{url}"
    );
    let stats = emu.control().stats();
    assert_eq!(emu.control().calls(CREATE), 1, "{stats:?}");
    assert_eq!(emu.control().calls(SEND), 1, "{stats:?}");
    assert_eq!(emu.control().calls(COMPLETE), 0, "{stats:?}");

    // It lists as the attachment (that block) and reads back byte-exact from Notion.
    let rel = format!("{FOLDER}/diagram.png");
    let id = attachment_id(&m, &rel);
    assert_eq!(
        id.replace('-', ""),
        block["id"].as_str().unwrap().replace('-', "")
    );
    assert_eq!(std::fs::read(m.p(&rel)).unwrap(), png);
    let listing: Vec<String> = std::fs::read_dir(m.p(FOLDER))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        listing.iter().filter(|n| *n == "diagram.png").count(),
        1,
        "{listing:?}"
    );
    // The page's Markdown shows the new image.
    m.wait("the page shows the image", || {
        std::fs::read_to_string(m.p(&format!("{FOLDER}.md")))
            .unwrap_or_default()
            .contains("diagram.png")
    });

    // A text file becomes a `file` block named after it.
    let before_txt = emu.control().children_ids(&page);
    m.shell(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("minutes.txt").display()
    ));
    let mut fblock = Value::Null;
    m.wait("a file block at the end of the page", || {
        fblock = new_last(&emu, &page, &before_txt).unwrap_or(Value::Null);
        !fblock.is_null()
    });
    assert_eq!(fblock["type"], "file", "{fblock}");
    assert_eq!(fblock["file"]["name"], "minutes.txt", "{fblock}");
    attachment_id(&m, &format!("{FOLDER}/minutes.txt"));
    assert_eq!(
        std::fs::read(m.p(&format!("{FOLDER}/minutes.txt"))).unwrap(),
        txt
    );

    // Notion refuses an upload the local check let through (the limit shrank since it was
    // read): the file stays, and says why.
    emu.control().set_max_upload_size(1000);
    m.shell(&format!(
        "cp '{}' '{FOLDER}/late.png'",
        src.path().join("diagram.png").display()
    ));
    let late = format!("{FOLDER}/late.png");
    let mut sync = String::new();
    m.wait("the refusal in user.notionfs.sync", || {
        sync = m.xattr(&late, "user.notionfs.sync");
        sync.starts_with("failed: ")
    });
    assert!(sync.contains("1000 bytes"), "{sync}");
    assert_eq!(std::fs::read(m.p(&late)).unwrap(), png);
    emu.control().set_max_upload_size(5 * 1024 * 1024 * 1024);
    // `rm` of the refused copy drops it, journal record and staged bytes included.
    m.shell(&format!("rm '{late}'"));
    assert!(!m.p(&late).exists());
    let staged: Vec<_> = std::fs::read_dir(cache.path().join("uploads"))
        .unwrap()
        .map(|e| std::fs::metadata(e.unwrap().path()).unwrap().len())
        .collect();
    let jr: Vec<_> = std::fs::read_dir(cache.path().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(staged.is_empty(), "{staged:?} {jr:?}\n{}", m.stderr());
    let records: Vec<_> = std::fs::read_dir(cache.path().join("journal"))
        .unwrap()
        .collect();
    assert!(records.is_empty(), "{records:?}");

    // `rm` deletes the block.
    let image_id = block["id"].as_str().unwrap().to_string();
    m.shell(&format!("rm '{rel}'"));
    assert!(!emu.control().children_ids(&page).contains(&image_id));
    assert!(!m.p(&rel).exists());

    // A type Notion does not accept is refused at once, and nothing is sent.
    let o = m.sh(&format!("echo x > '{FOLDER}/archive.zip'"));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(emu.control().calls(CREATE), 3);
}

#[test]
fn large_files_go_multi_part_and_files_over_the_limit_are_refused() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    // A workspace limit of 30 MiB: 25 MiB passes (in parts), 31 MiB does not.
    let limit: u64 = 30 * 1024 * 1024;
    emu.control().set_max_upload_size(limit);
    let (mpd, cache, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let big = bytes(25 * 1024 * 1024, 3);
    std::fs::write(src.path().join("talk.mp4"), &big).unwrap();
    std::fs::write(src.path().join("huge.png"), bytes(31 * 1024 * 1024, 5)).unwrap();
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "200"]);
    let page = demo::showcase_id();
    m.shell(&format!("ls '{FOLDER}' > /dev/null"));
    let before = emu.control().children_ids(&page);
    emu.control().reset_stats();

    // Over the limit: EFBIG, the limit logged, nothing sent and nothing listed.
    let o = m.sh(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("huge.png").display()
    ));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("File too large"), "{err}");
    assert!(m.stderr().contains(&limit.to_string()), "{}", m.stderr());
    assert!(!m.p(&format!("{FOLDER}/huge.png")).exists());
    assert_eq!(emu.control().calls(CREATE), 0);

    // 25 MiB: three parts of at most 10 MiB, completed, appended as a video block.
    m.shell(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("talk.mp4").display()
    ));
    let mut block = Value::Null;
    m.wait("a video block at the end of the page", || {
        block = new_last(&emu, &page, &before).unwrap_or(Value::Null);
        !block.is_null()
    });
    assert_eq!(block["type"], "video", "{block}");
    let stats = emu.control().stats();
    assert_eq!(emu.control().calls(CREATE), 1, "{stats:?}");
    assert_eq!(emu.control().calls(SEND), 3, "{stats:?}");
    assert_eq!(emu.control().calls(COMPLETE), 1, "{stats:?}");
    let rel = format!("{FOLDER}/talk.mp4");
    attachment_id(&m, &rel);
    assert!(std::fs::read(m.p(&rel)).unwrap() == big, "bytes differ");
    // Nothing is left in the journal once the block is in Notion.
    let left: Vec<_> = std::fs::read_dir(cache.path().join("uploads"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_copy_survives_kill_9_and_the_next_mount_uploads_it() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let pdf = bytes(40_000, 9);
    std::fs::write(src.path().join("report.pdf"), &pdf).unwrap();
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "200"]);
    let page = demo::showcase_id();
    m.shell(&format!("ls '{FOLDER}' > /dev/null"));
    let before = emu.control().children_ids(&page);

    // Notion is down: the copy is accepted (durable) but cannot be uploaded.
    let healthy = emu.control().faults();
    emu.control().set_faults(notionfs::emulator::Faults {
        fault_rate: 1.0,
        ..healthy
    });
    m.shell(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("report.pdf").display()
    ));
    let rel = format!("{FOLDER}/report.pdf");
    assert_eq!(m.xattr(&rel, "user.notionfs.sync"), "pending");
    // The staged copy (the local file's own spool, `spool-*`, goes with it).
    let staged: Vec<_> = std::fs::read_dir(cache.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("spool-")
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(staged, vec![pdf.clone()]);
    m.stop(libc::SIGKILL);
    assert_eq!(emu.control().children_ids(&page), before);

    // Notion is back: the next mount uploads it from the journal.
    emu.control().set_faults(healthy);
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "200"]);
    let mut block = Value::Null;
    m.wait("a pdf block at the end of the page", || {
        block = new_last(&emu, &page, &before).unwrap_or(Value::Null);
        !block.is_null()
    });
    assert_eq!(block["type"], "pdf", "{block}");
    attachment_id(&m, &rel);
    assert_eq!(std::fs::read(m.p(&rel)).unwrap(), pdf);
}

#[test]
fn sigterm_waits_for_an_upload_in_flight() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let png = bytes(5000, 11);
    std::fs::write(src.path().join("slow.png"), &png).unwrap();
    let mut m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "200"]);
    let page = demo::showcase_id();
    m.shell(&format!("ls '{FOLDER}' > /dev/null"));
    let before = emu.control().children_ids(&page);
    // Each request takes 300 ms: the upload (create, send, append) is still running when
    // the signal comes.
    let healthy = emu.control().faults();
    emu.control().set_faults(notionfs::emulator::Faults {
        latency_ms: 300,
        ..healthy
    });
    m.shell(&format!(
        "cp '{}' '{FOLDER}/'",
        src.path().join("slow.png").display()
    ));
    let mut c = m.child.take().unwrap();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while c.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", m.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    let block = new_last(&emu, &page, &before).expect("the block was appended before exit");
    assert_eq!(block["type"], "image", "{block}");
    let left: Vec<_> = std::fs::read_dir(cache.path().join("uploads"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
