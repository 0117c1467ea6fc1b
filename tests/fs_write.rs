//! Write path of the filesystem core without FUSE, against the emulator over real HTTP:
//! saves are journaled before close returns, pushed after the quiet period with the fewest
//! calls (untouched blocks keep their ids), debounced, replayed after a crash, and shown
//! by `user.notionfs.sync`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};
use notionfs::fs::{FsCore, Settings, ROOT_INO};
use notionfs::notion::{Client, ClientConfig, StatsSnapshot, Token};

const DEEP_DIVE: &str = "Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    cfg.base_backoff = Duration::from_millis(5);
    cfg.max_backoff = Duration::from_millis(20);
    cfg.timeout = Duration::from_secs(5);
    Client::new(cfg).expect("client")
}

fn core(emu: &Emulator, cache: &std::path::Path, delay: Duration) -> Arc<FsCore> {
    core_ttl(emu, cache, delay, Duration::from_secs(60))
}

fn core_ttl(
    emu: &Emulator,
    cache: &std::path::Path,
    delay: Duration,
    ttl: Duration,
) -> Arc<FsCore> {
    let core = FsCore::new(
        client(emu),
        Settings {
            ttl,
            reconcile: Duration::ZERO,
            cache_size: 64 << 20,
            read_only: false,
            uid: 1000,
            gid: 1000,
            cache_dir: cache.to_path_buf(),
            max_in_flight: 8,
        },
    )
    .expect("core");
    core.enable_writes(&cache.join("journal"), delay)
        .expect("writes");
    Arc::new(core)
}

async fn ino(core: &FsCore, path: &str) -> u64 {
    let mut ino = ROOT_INO;
    for part in path.split('/') {
        ino = core.lookup(ino, part).await.expect("lookup").ino;
    }
    ino
}

async fn cat(core: &FsCore, ino: u64) -> Vec<u8> {
    let o = core.open(ino, libc::O_RDONLY).await.expect("open");
    let mut out = Vec::new();
    loop {
        let c = core.read(o.fh, out.len() as u64, 4096).expect("read");
        if c.is_empty() {
            break;
        }
        out.extend(c);
    }
    core.close(o.fh).await.expect("close");
    out
}

/// `open(O_WRONLY|O_TRUNC)`, write everything, close.
async fn save(core: &FsCore, ino: u64, data: &[u8]) {
    let o = core
        .open(ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .expect("open for writing");
    for (i, chunk) in data.chunks(7).enumerate() {
        core.write(o.fh, (i * 7) as u64, chunk).expect("write");
    }
    core.close(o.fh).await.expect("close");
}

fn sync_state(core: &FsCore, ino: u64) -> String {
    String::from_utf8(core.getxattr(ino, "user.notionfs.sync").expect("xattr")).expect("utf-8")
}

async fn wait_clean(core: &FsCore, ino: u64) {
    let t = Instant::now();
    loop {
        let s = sync_state(core, ino);
        if s == "clean" {
            return;
        }
        assert!(!s.starts_with("failed"), "push failed: {s}");
        assert!(t.elapsed() < Duration::from_secs(10), "still {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn since(core: &FsCore, before: &StatsSnapshot) -> StatsSnapshot {
    core.client().stats().since(before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_updates_one_block_in_place_with_the_fewest_calls() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(150));
    let ino = ino(&core, DEEP_DIVE).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(old.contains(demo::MARKER), "{old}");
    let ids = emu.control().children_ids(&demo::deep_dive_id());
    let new = old.replace(demo::MARKER, "edited-in-place");

    let before = core.client().stats();
    save(&core, ino, new.as_bytes()).await;
    // Durable and pending before any call was made.
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 1);
    assert_eq!(sync_state(&core, ino), "pending");
    assert_eq!(since(&core, &before).total(), 0);
    // The file shows the saved bytes at once.
    assert_eq!(cat(&core, ino).await, new.as_bytes());

    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    // One read of the page (remote check: the page's blocks fit in one call) and one
    // in-place update.
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("GET /v1/blocks/{id}/children"), 1, "{calls:?}");
    assert_eq!(calls.total(), 2, "{calls:?}");
    assert_eq!(emu.control().children_ids(&demo::deep_dive_id()), ids);
    let text = emu.control().plain_text(&demo::block_id(100)).unwrap();
    assert!(text.contains("edited-in-place"), "{text}");
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 0);
    assert_eq!(cat(&core, ino).await, new.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_keeps_ids_and_saves_are_debounced() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(300));
    let ino = ino(&core, DEEP_DIVE).await;
    let old = cat(&core, ino).await;
    let ids = emu.control().children_ids(&demo::deep_dive_id());

    let before = core.client().stats();
    // Two appends (`echo >>`: no truncate, write at the end), closes 50 ms apart.
    for line in ["First appended line.\n", "Second appended line.\n"] {
        let o = core.open(ino, libc::O_RDWR).await.unwrap();
        let size = core.getattr(ino).unwrap().size;
        core.write(o.fh, size, format!("\n{line}").as_bytes())
            .unwrap();
        core.close(o.fh).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 2);
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    // One push for both saves: one positioned append of two paragraphs.
    assert_eq!(
        calls.count("PATCH /v1/blocks/{id}/children"),
        1,
        "{calls:?}"
    );
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 0, "{calls:?}");
    let now = emu.control().children_ids(&demo::deep_dive_id());
    assert_eq!(now.len(), ids.len() + 2);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(
        emu.control().plain_text(&now[ids.len() + 1]).unwrap(),
        "Second appended line."
    );
    let mut want = old.clone();
    want.extend_from_slice(b"\nFirst appended line.\n\nSecond appended line.\n");
    assert_eq!(cat(&core, ino).await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_survives_a_crash_and_is_pushed_by_the_next_mount() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    {
        // A quiet period long enough that the "crash" (dropping the core) comes first.
        let core = core(&emu, cache.path(), Duration::from_secs(3600));
        let ino = ino(&core, DEEP_DIVE).await;
        let old = String::from_utf8(cat(&core, ino).await).unwrap();
        save(
            &core,
            ino,
            old.replace(demo::MARKER, "after-crash").as_bytes(),
        )
        .await;
    }
    let text = emu.control().plain_text(&demo::block_id(100)).unwrap();
    assert!(text.contains(demo::MARKER), "pushed too early: {text}");
    let core = core(&emu, cache.path(), Duration::from_millis(10));
    let writer = core.write_back().unwrap().clone();
    assert_eq!(writer.journal().pending_count(), 1);
    writer.flush_all().await;
    assert_eq!(writer.journal().pending_count(), 0);
    let text = emu.control().plain_text(&demo::block_id(100)).unwrap();
    assert!(text.contains("after-crash"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_writes_are_refused_and_the_content_is_kept_on_failure() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(50));
    // Directories cannot be opened for writing.
    let dir = ino(&core, "Engineering Wiki").await;
    assert_eq!(
        core.open(dir, libc::O_RDWR).await.unwrap_err().errno(),
        libc::EISDIR
    );
    // A body that is not UTF-8 is kept locally and reported as failed.
    let ino = ino(&core, DEEP_DIVE).await;
    save(&core, ino, b"\xff\xfe not text\n").await;
    let t = Instant::now();
    while !sync_state(&core, ino).starts_with("failed") {
        assert!(t.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sync_state(&core, ino),
        "failed: the file is not UTF-8 text (invalid bytes at byte 0)"
    );
    assert_eq!(cat(&core, ino).await, b"\xff\xfe not text\n");
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 1);
    let text = emu.control().plain_text(&demo::block_id(100)).unwrap();
    assert!(text.contains(demo::MARKER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_keeps_the_saved_bytes_while_notion_means_the_same() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let ttl = Duration::from_millis(200);
    let core = core_ttl(&emu, cache.path(), Duration::from_millis(20), ttl);
    let ino = ino(&core, DEEP_DIVE).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    // Extra blank lines: the same blocks, rendered differently.
    let saved = old
        .replace(demo::MARKER, "kept-bytes")
        .replace("\n\n", "\n\n\n\n");
    assert_ne!(saved, old);
    save(&core, ino, saved.as_bytes()).await;
    wait_clean(&core, ino).await;
    assert!(emu
        .control()
        .plain_text(&demo::block_id(100))
        .unwrap()
        .contains("kept-bytes"));
    // The feed sees the page edited (by this save): read again, it still means the same.
    core.poll_changes().await.unwrap();
    assert_eq!(String::from_utf8(cat(&core, ino).await).unwrap(), saved);
    // A real change in Notion is shown (rendered from Notion again).
    emu.control()
        .set_block_text(&demo::block_id(100), "Changed remotely.")
        .unwrap();
    core.poll_changes().await.unwrap();
    let now = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(now.contains("Changed remotely."), "{now}");
    assert!(!now.contains("\n\n\n"), "{now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_keeps_notions_version_and_the_local_one_beside_it() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let ttl = Duration::from_millis(200);
    let core = core_ttl(&emu, cache.path(), Duration::from_millis(20), ttl);
    let ino = ino(&core, DEEP_DIVE).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    // The same block changed in Notion after the file was read, then saved locally.
    emu.control()
        .set_block_text(&demo::block_id(100), "Remote wins.")
        .unwrap();
    let local = old.replace(demo::MARKER, "local-loses");
    let before = core.client().stats();
    save(&core, ino, local.as_bytes()).await;
    // The attribute names the conflict copy (spec: `conflict: PATH`).
    let t = Instant::now();
    let state = loop {
        let s = sync_state(&core, ino);
        if s != "pending" {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "still pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 0, "{calls:?}");
    assert_eq!(
        emu.control().plain_text(&demo::block_id(100)).unwrap(),
        "Remote wins."
    );
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 0);
    let dir = ino_of_dir(&core).await;
    let names: Vec<String> = core
        .readdir(dir)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    let copy = names
        .iter()
        .find(|n| n.starts_with("Deep Dive: Compaction.conflict-") && n.ends_with(".md"))
        .unwrap_or_else(|| panic!("no conflict copy in {names:?}"));
    assert_eq!(state, format!("conflict: {copy}"));
    let copy_ino = core.lookup(dir, copy).await.unwrap().ino;
    assert_eq!(cat(&core, copy_ino).await, local.as_bytes());
    let page = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(page.contains("Remote wins."), "{page}");
    assert!(emu.control().pages_titled(copy).is_empty());
}

async fn ino_of_dir(core: &FsCore) -> u64 {
    ino(core, "Engineering Wiki/Architecture/Storage Layer").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_moves_a_page_to_the_trash() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let dir = ino_of_dir(&core).await;
    let _ = ino(&core, DEEP_DIVE).await;
    let before = core.client().stats();
    core.unlink(dir, "Deep Dive: Compaction.md").await.unwrap();
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 1, "{calls:?}");
    let page = emu.control().page_json(&demo::deep_dive_id());
    assert!(page.is_none_or(|p| p["in_trash"] == true), "not trashed");
    assert_eq!(
        core.lookup(dir, "Deep Dive: Compaction.md")
            .await
            .unwrap_err()
            .errno(),
        libc::ENOENT
    );
    let names: Vec<String> = core
        .readdir(dir)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("Deep Dive")),
        "{names:?}"
    );
    // Only pages (and local files) can be removed.
    assert_eq!(
        core.unlink(ROOT_INO, "Engineering Wiki")
            .await
            .unwrap_err()
            .errno(),
        libc::EROFS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mv_in_a_folder_renames_the_page() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let dir = ino_of_dir(&core).await;
    let page_ino = ino(&core, DEEP_DIVE).await;
    let before = core.client().stats();
    core.rename(dir, "Deep Dive: Compaction.md", dir, "Compaction Notes.md")
        .await
        .unwrap();
    assert_eq!(since(&core, &before).count("PATCH /v1/pages/{id}"), 1);
    assert_eq!(
        emu.control().plain_text(&demo::deep_dive_id()).unwrap(),
        "Compaction Notes"
    );
    let a = core.lookup(dir, "Compaction Notes.md").await.unwrap();
    assert_eq!(a.ino, page_ino);
    assert!(core.lookup(dir, "Deep Dive: Compaction.md").await.is_err());
    // To the root: Notion's move API takes no workspace parent.
    let err = core
        .rename(dir, "Compaction Notes.md", ROOT_INO, "X.md")
        .await
        .unwrap_err();
    assert_eq!(err.errno(), libc::EPERM);
}

// ----- rows (front matter + body) -----------------------------------------------------------

const ROW: &str = "Engineering Wiki/Tasks/Implement write-back.md";

fn prop(emu: &Emulator, row: &str, name: &str) -> serde_json::Value {
    emu.control().page_json(row).expect("row")["properties"][name].clone()
}

fn rich(text: &str) -> serde_json::Value {
    serde_json::json!({"rich_text": [{"type": "text", "text": {"content": text}}]})
}

fn plain(v: &serde_json::Value) -> String {
    v["rich_text"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["plain_text"].as_str().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_failed(core: &FsCore, ino: u64) -> String {
    let t = Instant::now();
    loop {
        let s = sync_state(core, ino);
        if s.starts_with("failed: ") {
            return s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "still {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn options(emu: &Emulator, name: &str, kind: &str) -> Vec<String> {
    let ds = emu
        .control()
        .object_json(&demo::tasks_ds_id())
        .expect("data source");
    ds["properties"][name][kind]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_save_sends_only_the_edited_properties_in_one_call() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let row = demo::task_row_id(4);
    let ino = ino(&core, ROW).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    let ids = emu.control().children_ids(&row);
    // Changed in Notion after the file was read: the save does not touch it.
    emu.control()
        .set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    let new = old
        .replace("Status: Not started", "Status: Done")
        .replace("Estimate: 8", "Estimate: 13");
    assert_ne!(new, old);

    let before = core.client().stats();
    save(&core, ino, new.as_bytes()).await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 0, "{calls:?}");
    assert_eq!(
        calls.count("PATCH /v1/blocks/{id}/children"),
        0,
        "{calls:?}"
    );
    assert_eq!(calls.count("DELETE /v1/blocks/{id}"), 0, "{calls:?}");
    // The body did not change: not even read.
    assert_eq!(calls.total(), 1, "{calls:?}");
    assert_eq!(prop(&emu, &row, "Status")["status"]["name"], "Done");
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 13);
    assert_eq!(plain(&prop(&emu, &row, "Notes")), "Changed in Notion.");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(emu.control().children_ids(&row), ids);
    assert_eq!(cat(&core, ino).await, new.as_bytes());
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 0);

    // A save that changes nothing in the front matter makes no update-page call.
    let body_only = new.replace("Body of task 4", "Body of task four");
    let before = core.client().stats();
    save(&core, ino, body_only.as_bytes()).await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 0, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(emu.control().children_ids(&row), ids);
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .starts_with("Body of task four"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_save_with_front_matter_and_body_pushes_both() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let row = demo::task_row_id(4);
    let ino = ino(&core, ROW).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    let ids = emu.control().children_ids(&row);
    let new = old
        .replace("Priority: Low", "Priority: High")
        .replace("  - backend\n", "  - backend\n  - docs\n")
        .replace("Done: false", "Done: true")
        .replace("Due: null", "Due: 2025-08-01")
        .replace("Body of task 4", "Rewritten body of task 4");
    let before = core.client().stats();
    save(&core, ino, new.as_bytes()).await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(prop(&emu, &row, "Done")["checkbox"], true);
    assert_eq!(prop(&emu, &row, "Due")["date"]["start"], "2025-08-01");
    let tags: Vec<String> = prop(&emu, &row, "Tags")["multi_select"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tags, ["infra", "backend", "docs"]);
    assert_eq!(emu.control().children_ids(&row), ids);
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .starts_with("Rewritten body of task 4"));
    assert_eq!(cat(&core, ino).await, new.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_properties_are_reported_and_the_rest_goes_through() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let row = demo::task_row_id(4);
    let ino = ino(&core, ROW).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    let ids = emu.control().children_ids(&row);
    let priorities = options(&emu, "Priority", "select");
    let bad = old
        .replace("Estimate: 8", "Estimate: 21\nBogus: 1")
        .replace("Priority: Low", "Priority: Urgent")
        .replace("Done: false", "Done: maybe")
        .replace("Score: 16", "Score: 99")
        .replace("Body of task 4", "Body kept despite refusals");
    let before = core.client().stats();
    save(&core, ino, bad.as_bytes()).await;
    let state = wait_failed(&core, ino).await;
    for want in [
        "property \"Bogus\": no such property",
        "property \"Priority\": option \"Urgent\" does not exist",
        "property \"Done\": expected true or false",
        "property \"Score\": formula properties are read-only",
    ] {
        assert!(state.contains(want), "{want} not in {state}");
    }
    let calls = since(&core, &before);
    // The valid property in one call, the body in place; the schema read again once
    // (the option might have been added in Notion meanwhile).
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("GET /v1/data_sources/{id}"), 1, "{calls:?}");
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 21);
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(prop(&emu, &row, "Done")["checkbox"], false);
    assert_eq!(options(&emu, "Priority", "select"), priorities);
    assert_eq!(emu.control().children_ids(&row), ids);
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .starts_with("Body kept despite refusals"));
    // The user's bytes stay, in the file and in the journal (with the reason).
    assert_eq!(cat(&core, ino).await, bad.as_bytes());
    let journal = core.write_back().unwrap().journal();
    let pending = journal.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].failure.as_deref(),
        state.strip_prefix("failed: ")
    );
    assert_eq!(
        core.write_back().unwrap().state(&row),
        notionfs::writeback::SyncState::Failed(state["failed: ".len()..].to_string())
    );

    // A later save fixing them clears the failure and confirms every record.
    let fixed = bad
        .replace("\nBogus: 1", "")
        .replace("Priority: Urgent", "Priority: Medium")
        .replace("Done: maybe", "Done: true")
        .replace("Score: 99", "Score: 16");
    save(&core, ino, fixed.as_bytes()).await;
    wait_clean(&core, ino).await;
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Medium");
    assert_eq!(prop(&emu, &row, "Done")["checkbox"], true);
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 21);
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 0);
    assert_eq!(cat(&core, ino).await, fixed.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_front_matter_is_refused_whole_and_the_body_still_pushed() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let row = demo::task_row_id(4);
    let ino = ino(&core, ROW).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    let ids = emu.control().children_ids(&row);
    let bad = old
        .replace("Estimate: 8", "Estimate: 9")
        .replace("Priority: Low", "Priority: [High")
        .replace("Body of task 4", "Body pushed anyway");
    let before = core.client().stats();
    save(&core, ino, bad.as_bytes()).await;
    let state = wait_failed(&core, ino).await;
    assert!(
        state.starts_with("failed: front matter: malformed YAML at line "),
        "{state}"
    );
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 0, "{calls:?}");
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 8);
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .starts_with("Body pushed anyway"));
    assert_eq!(cat(&core, ino).await, bad.as_bytes());

    // No closing `---`: the body cannot be told apart, nothing is pushed.
    let open = bad
        .replacen("---\n## Details", "## Details", 1)
        .replace("Body pushed anyway", "Never pushed");
    let before = core.client().stats();
    save(&core, ino, open.as_bytes()).await;
    let t = Instant::now();
    while !sync_state(&core, ino).contains("no closing") {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{}",
            sync_state(&core, ino)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 0, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 0, "{calls:?}");

    // Fixed: the properties go out, the failure is gone.
    let fixed = bad.replace("Priority: [High", "Priority: High");
    save(&core, ino, fixed.as_bytes()).await;
    wait_clean(&core, ino).await;
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 9);
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(core.write_back().unwrap().journal().pending_count(), 0);
    assert_eq!(emu.control().children_ids(&row), ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_save_survives_a_crash_and_is_pushed_by_the_next_mount() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let row = demo::task_row_id(4);
    let ids = emu.control().children_ids(&row);
    {
        let core = core(&emu, cache.path(), Duration::from_secs(3600));
        let ino = ino(&core, ROW).await;
        let old = String::from_utf8(cat(&core, ino).await).unwrap();
        let new = old
            .replace("Status: Not started", "Status: In progress")
            .replace("Body of task 4", "Replayed body");
        save(&core, ino, new.as_bytes()).await;
    }
    assert_eq!(prop(&emu, &row, "Status")["status"]["name"], "Not started");
    // Changed in Notion meanwhile, not by the save: kept.
    emu.control()
        .set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(10));
    let writer = core.write_back().unwrap().clone();
    let before = core.client().stats();
    writer.flush_all().await;
    assert_eq!(writer.journal().pending_count(), 0);
    let calls = since(&core, &before);
    assert_eq!(calls.count("PATCH /v1/pages/{id}"), 1, "{calls:?}");
    assert_eq!(prop(&emu, &row, "Status")["status"]["name"], "In progress");
    assert_eq!(plain(&prop(&emu, &row, "Notes")), "Changed in Notion.");
    assert_eq!(emu.control().children_ids(&row), ids);
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .starts_with("Replayed body"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mv_renames_a_row() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let dir = ino(&core, "Engineering Wiki/Tasks").await;
    let body = cat(&core, ino(&core, ROW).await).await;
    core.rename(dir, "Implement write-back.md", dir, "Write-back.md")
        .await
        .unwrap();
    assert_eq!(
        emu.control().plain_text(&demo::task_row_id(4)).unwrap(),
        "Write-back"
    );
    let a = core.lookup(dir, "Write-back.md").await.unwrap();
    // The same file, but for what the rename itself changed in Notion (its edit time).
    let without_edit = |b: Vec<u8>| -> Vec<String> {
        String::from_utf8(b)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Last edited"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(without_edit(cat(&core, a.ino).await), without_edit(body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_not_pushed_before_a_restart_is_what_the_file_shows_and_is_built_on() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let first = {
        // A mount accepts a save, then dies before its quiet period ends.
        let a = core(&emu, cache.path(), Duration::from_secs(3600));
        let f = ino(&a, DEEP_DIVE).await;
        let text = String::from_utf8(cat(&a, f).await).unwrap();
        let edited = text.replace(demo::MARKER, "saved-before-the-crash");
        save(&a, f, edited.as_bytes()).await;
        edited
    };
    assert!(emu
        .control()
        .plain_text(&demo::block_id(100))
        .unwrap()
        .contains(demo::MARKER));

    // The next mount shows the save (not Notion's older text), even before replaying it...
    let b = core(&emu, cache.path(), Duration::from_millis(20));
    let f = ino(&b, DEEP_DIVE).await;
    assert_eq!(String::from_utf8(cat(&b, f).await).unwrap(), first);
    // ...so an edit made now builds on it, and both reach Notion.
    let second = format!("{first}\nAdded after the restart.\n");
    save(&b, f, second.as_bytes()).await;
    wait_clean(&b, f).await;
    assert!(emu
        .control()
        .plain_text(&demo::block_id(100))
        .unwrap()
        .contains("saved-before-the-crash"));
    let now = emu.control().children_ids(&page);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(
        emu.control().plain_text(now.last().unwrap()).unwrap(),
        "Added after the restart."
    );
    assert_eq!(b.write_back().unwrap().journal().pending_count(), 0);
}

/// Block Showcase: a page whose content takes many list-children calls to read.
const SHOWCASE: &str = "Engineering Wiki/Block Showcase.md";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_checks_an_untouched_big_page_with_one_retrieve_page_call() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let ino = ino(&core, SHOWCASE).await;
    let before = core.client().stats();
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    let reading = since(&core, &before).count("GET /v1/blocks/{id}/children");
    assert!(reading > 5, "the showcase reads in {reading} calls");
    let line = "A paragraph with a yellow background block color.";
    assert!(old.contains(line), "{old}");

    // Notion's edit time says nothing changed since the read: no content read-back.
    let before = core.client().stats();
    save(
        &core,
        ino,
        old.replace(line, "Edited without a read-back.").as_bytes(),
    )
    .await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.count("GET /v1/pages/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("GET /v1/blocks/{id}/children"), 0, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(calls.total(), 2, "{calls:?}");

    // After an edit in Notion the edit time moved: the content is read, the edits merged.
    let cache2 = tempfile::tempdir().unwrap();
    let core = self::core(&emu, cache2.path(), Duration::from_millis(20));
    let ino = self::ino(&core, SHOWCASE).await;
    let text = String::from_utf8(cat(&core, ino).await).unwrap();
    let first = emu.control().children_ids(&demo::showcase_id())[0].clone();
    emu.control()
        .set_block_text(&first, "Changed in Notion meanwhile.")
        .unwrap();
    let before = core.client().stats();
    save(
        &core,
        ino,
        text.replace("Edited without a read-back.", "Edited again.")
            .as_bytes(),
    )
    .await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert!(calls.count("GET /v1/blocks/{id}/children") > 5, "{calls:?}");
    assert_eq!(
        emu.control().plain_text(&first).unwrap(),
        "Changed in Notion meanwhile."
    );
    assert!(String::from_utf8(cat(&core, ino).await)
        .unwrap()
        .contains("Edited again."),);
}
