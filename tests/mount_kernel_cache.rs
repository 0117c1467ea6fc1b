//! The kernel's caches over a real mount (notionfs(1), CACHING): entries, attributes, file
//! pages and listings are kept by the kernel for as long as they are valid, so a warm read
//! costs no `LOOKUP`, `GETATTR`, `READ` or `FLUSH`; and whatever changes — a remote edit or
//! rename the change feed sees, a save through another descriptor, a remount with the disk
//! cache — reaches the kernel, so `stat`, `ls` and reads never show what is gone.
//! With `--read-only --no-open` a warm read reaches the mount not at all, and every read
//! is still whole.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use common::emu::{demo_emulator, DEEP_DIVE};
use common::mount::{fuse_usable, Mount};
use notionfs::emulator::demo;
use serde_json::Value;

/// The FUSE requests the mount served so far, by operation (`notionfs status`).
fn fuse_counts(m: &Mount) -> BTreeMap<String, u64> {
    let s: Value = m.status();
    serde_json::from_value(s["fuse"].clone()).expect("fuse counts")
}

/// The requests served between two counts (operations that served none left out).
fn since(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn size(m: &Mount, rel: &str) -> std::io::Result<u64> {
    std::fs::metadata(m.p(rel)).map(|md| md.len())
}

#[test]
fn a_warm_read_is_served_by_the_kernel_and_a_remote_edit_reaches_it() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--ttl", "0.3"]);
    let old = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(old.contains(demo::MARKER));
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), old.len() as u64);

    // Warm: the kernel answers lookups, attributes and data itself; the mount sees the
    // open and the release, nothing else.
    let before = fuse_counts(&m);
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), old);
    let mut warm = since(&before, &fuse_counts(&m));
    // (`notionfs status` itself finds the socket through the root's extended attribute.)
    warm.remove("getxattr");
    let want: BTreeMap<String, u64> = [("open".to_string(), 1), ("release".to_string(), 1)].into();
    assert_eq!(warm, want, "a warm read of a cached page");

    // Cached attributes: a `stat` does not reach the mount.
    let getattrs = |m: &Mount| fuse_counts(m).get("getattr").copied().unwrap_or(0);
    let g = getattrs(&m);
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), old.len() as u64);
    assert_eq!(
        getattrs(&m),
        g,
        "a stat of a file whose attributes are cached"
    );

    // A remote edit: once the feed sees it, the kernel is told to forget the file's
    // attributes and pages — a `stat` alone (no open) reaches the mount again, whose
    // answer (the old size, no longer exact) the kernel does not keep.
    let edited = "Edited remotely, and longer than the paragraph it replaces.";
    emu.control()
        .set_block_text(&demo::block_id(100), edited)
        .expect("edit");
    m.wait("the kernel asking for the attributes again", || {
        let g = getattrs(&m);
        size(&m, DEEP_DIVE).unwrap();
        getattrs(&m) > g
    });
    let new = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(new.contains(edited), "{new}");
    assert!(!new.contains(demo::MARKER), "{new}");
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), new.len() as u64);
    // (Not asserted: that the kernel caches it again at once. An edit in the current
    // minute is marked stale again by each poll that still sees it, so the kernel may be
    // told again.)

    // A remote rename: the kernel forgets the old entry (a cached positive entry would
    // answer for a day), the new name resolves to the same file, the listing follows.
    let cafe = "Team Home/Café ☕ Ünïcödé 🚀.md";
    let ino = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(m.p(cafe)).unwrap().ino()
    };
    assert!(m.ls("Team Home").contains("Café ☕ Ünïcödé 🚀.md"));
    emu.control()
        .rename_page(&demo::unicode_title_id(), "Renamed remotely")
        .unwrap();
    m.wait("the old name gone", || size(&m, cafe).is_err());
    let renamed = "Team Home/Renamed remotely.md";
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(m.p(renamed)).unwrap().ino(), ino);
    }
    let names = m.ls("Team Home");
    assert!(names.contains("Renamed remotely.md"), "{names:?}");
    assert!(!names.contains("Café ☕ Ünïcödé 🚀.md"), "{names:?}");
}

#[test]
fn a_save_through_one_descriptor_is_seen_by_the_next_open() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--write-delay", "60000"]);
    let old = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    // A reader that holds the file open across the save (its pages are in the kernel).
    let reader = std::fs::File::open(m.p(DEEP_DIVE)).unwrap();
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(m.p(DEEP_DIVE))
            .unwrap();
        f.write_all(b"\nAppended locally.\n").unwrap();
        f.sync_all().unwrap();
    }
    let new = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(new.starts_with(old.trim_end()), "{new}");
    assert!(new.contains("Appended locally."), "{new}");
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), new.len() as u64);
    // Its own `fstat` follows too.
    assert_eq!(reader.metadata().unwrap().len(), new.len() as u64);
    drop(reader);
    // And again, warm.
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), new);
}

#[test]
fn after_a_remount_an_unread_page_shows_its_cached_size() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &[]);
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(!text.is_empty());
    m.stop(libc::SIGTERM);

    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &[]);
    let ctl = emu.control();
    ctl.reset_stats();
    // No open: the size is the disk cache's, exact, and no page is read for it.
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), text.len() as u64);
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children"),
        0,
        "{:?}",
        ctl.stats()
    );
    // Reading serves the cached rendering, byte for byte.
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), text);
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children"),
        0,
        "{:?}",
        ctl.stats()
    );
    // A page never read is not in the disk cache: its size is not known yet (the lookup
    // reads its parent, not the page).
    assert_eq!(size(&m, "Team Home/Meeting Notes.md").unwrap(), 0);

    // Changed remotely while unmounted: the cached size is not trusted any more.
    m.stop(libc::SIGTERM);
    let edited = "Changed while nothing was mounted, a longer paragraph than before.";
    ctl.set_block_text(&demo::block_id(100), edited).unwrap();
    // (A remount from the snapshot serves once the feed has caught up.)
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &[]);
    assert_ne!(size(&m, DEEP_DIVE).unwrap(), text.len() as u64);
    let new = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(new.contains(edited), "{new}");
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), new.len() as u64);
}

/// Every file under `dir` (path relative to `root` → bytes).
fn read_tree(root: &std::path::Path, dir: &std::path::Path, out: &mut BTreeMap<String, Vec<u8>>) {
    // The whole listing first, then each entry, as find and grep -r do. (Reading the
    // subtree between a listing's first and last getdents(2) can keep the kernel from
    // completing its cache of that listing, which it then asks for on every walk.)
    let entries: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            read_tree(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
            out.insert(rel, bytes);
        }
    }
}

#[test]
fn a_no_open_mount_reads_every_file_whole_with_no_round_trip_when_warm() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let ctl = emu.control();
    // A page larger than the kernel's reads (several `READ`s, each by inode).
    let big = "Team Home/Meeting Notes (2).md";
    for n in 0..2 {
        let paras: Vec<Value> = (0..100)
            .map(|i| {
                let text = format!("Paragraph {n}-{i} {}", "x".repeat(1000));
                serde_json::json!({"type": "paragraph",
                    "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
            })
            .collect();
        ctl.append_blocks(&demo::meeting_notes_2_id(), Value::Array(paras))
            .unwrap();
    }
    // What every file reads as through a writable mount (walked twice: a page's folder
    // that holds only attachments shows once the page was read).
    let want = {
        let rw = Mount::start(&emu, &[]);
        read_tree(&rw.mp, &rw.mp, &mut BTreeMap::new());
        let mut t = BTreeMap::new();
        read_tree(&rw.mp, &rw.mp, &mut t);
        t
    };
    assert!(
        want.keys().any(|k| k.ends_with(".png")),
        "{:?}",
        want.keys()
    );
    assert!(want.keys().any(|k| k.ends_with(".schema.yaml")));

    // (No feed poll during the test: the demo's pages, edited within the minute, would be
    // read again at each one.)
    let m = Mount::start(&emu, &["--read-only", "--no-open", "--ttl", "3600"]);
    // The kernel keeps a listing it read until the mount tells it the listing changed:
    // reading a page shows its folder of attachments in its parent, and the kernel is
    // told.
    let names = |rel: &str| -> Vec<String> {
        let entries = std::fs::read_dir(m.p(rel)).unwrap();
        entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(!names("Engineering Wiki").contains(&"Block Showcase".to_string()));
    std::fs::read(m.p("Engineering Wiki/Block Showcase.md")).unwrap();
    m.wait("the folder listed", || {
        names("Engineering Wiki").contains(&"Block Showcase".to_string())
    });
    // With no open to load a page, its size is made exact before any answer that
    // carries it: a `stat` of a page never read loads it, so `fstat` (and an mmap sized
    // by it) is right too.
    let unread = "Team Home/Meeting Notes.md";
    assert_eq!(size(&m, unread).unwrap(), want[unread].len() as u64);
    // Readers that first read one page at once all read it whole: no answer with an
    // unknown size overtakes another reader's exact one (the kernel would then read an
    // empty file).
    let first = DEEP_DIVE;
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let p = m.p(first);
            std::thread::spawn(move || std::fs::read(p).unwrap())
        })
        .collect();
    for r in readers {
        assert!(r.join().unwrap() == want[first], "a first read at once");
    }
    // A read that cannot reach Notion fails with EIO (and works once Notion is back).
    let healthy = ctl.faults();
    ctl.set_faults(notionfs::emulator::Faults {
        fault_rate: 1.0,
        ..healthy
    });
    let err = std::fs::read(m.p(big)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    ctl.set_faults(healthy);
    assert!(want[big].len() > 200_000, "{}", want[big].len());
    assert_eq!(std::fs::read(m.p(big)).unwrap(), want[big]);
    // So does every file: pages, rows, schemas, attachments.
    read_tree(&m.mp, &m.mp, &mut BTreeMap::new());
    let mut got = BTreeMap::new();
    read_tree(&m.mp, &m.mp, &mut got);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (rel, bytes) in &want {
        assert!(
            got[rel] == *bytes,
            "{rel}: {:?} read-only vs {:?} writable",
            String::from_utf8_lossy(&got[rel]),
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(size(&m, unread).unwrap(), want[unread].len() as u64);
    let counts = fuse_counts(&m);
    assert_eq!(
        counts.get("open"),
        Some(&1),
        "answered ENOSYS once: {counts:?}"
    );
    assert_eq!(counts.get("release"), None, "{counts:?}");
    assert!(counts.get("flush").copied().unwrap_or(0) <= 1, "{counts:?}");

    // Once more: nothing changes, and no entry is looked up again.
    read_tree(&m.mp, &m.mp, &mut BTreeMap::new());
    // Warm: the kernel serves every listing and every read; the mount sees no request.
    let before = fuse_counts(&m);
    let mut warm_read = BTreeMap::new();
    read_tree(&m.mp, &m.mp, &mut warm_read);
    assert!(warm_read == got, "a warm walk read what the one before did");
    let mut warm = since(&before, &fuse_counts(&m));
    warm.remove("getxattr");
    assert_eq!(warm, BTreeMap::new(), "a warm walk of a --no-open mount");
}

#[test]
fn a_no_open_mount_follows_remote_edits_and_listing_changes() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let ctl = emu.control();
    let m = Mount::start(&emu, &["--read-only", "--no-open", "--ttl", "0.3"]);
    let old = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(old.contains(demo::MARKER));
    assert!(m.ls("Team Home").contains("Meeting Notes.md"));

    // Listings the kernel keeps follow remote changes: the feed's change marks them stale
    // and the kernel is told to drop them.
    let added = ctl
        .create_page(&demo::team_home_id(), "Added remotely")
        .unwrap();
    m.wait("a page added remotely listed", || {
        m.ls("Team Home").contains("Added remotely.md")
    });
    ctl.rename_page(&added, "Renamed remotely").unwrap();
    m.wait("the rename listed", || {
        let names = m.ls("Team Home");
        names.contains("Renamed remotely.md") && !names.contains("Added remotely.md")
    });
    ctl.trash_page(&added).unwrap();
    m.wait("the trashed page unlisted", || {
        !m.ls("Team Home").contains("Renamed remotely.md")
    });
    let counts = fuse_counts(&m);
    assert_eq!(
        counts.get("opendir"),
        Some(&1),
        "answered ENOSYS once: {counts:?}"
    );
    assert_eq!(counts.get("releasedir"), None, "{counts:?}");

    // A remote edit: the feed tells the kernel to drop the file, whose next read is the
    // new content, at its new size.
    let edited = "Edited remotely while a read-only mount had the page cached, longer.";
    ctl.set_block_text(&demo::block_id(100), edited)
        .expect("edit");
    m.wait("the remote edit read", || {
        std::fs::read_to_string(m.p(DEEP_DIVE))
            .unwrap()
            .contains(edited)
    });
    let new = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(!new.contains(demo::MARKER), "{new}");
    assert_eq!(size(&m, DEEP_DIVE).unwrap(), new.len() as u64);
    // And it stays read-only.
    let err = std::fs::write(m.p(DEEP_DIVE), "x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
}
