//! What only the core shows about writing, without FUSE, against the emulator over real
//! HTTP: the exact calls of a push (an untouched big page is checked with one retrieve-page
//! call), the saved bytes kept while Notion means the same, reading a page through the inode
//! of the temp file an editor renamed onto it, refusals the kernel gives before a request
//! reaches the filesystem, the emulator's move-page validation, and concurrent flushes of one
//! handle. Saves, crashes, conflicts and namespace operations that a mount shows too are in
//! `conformance.rs`, run both ways.

mod common;

use std::time::Duration;

use common::core::{cat, core, core_ttl, errno, ino, names, save, since, wait_clean, wait_state};
use common::emu::{only_page_titled, plain, prop, texts, DEEP_DIVE, ROW, SHOWCASE, TASKS};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};
use notionfs::fs::{AttrChange, ROOT_INO};
use notionfs::notion::model::Parent;

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
async fn a_push_reads_back_only_the_blocks_it_touches() {
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

    // The touched block reads back as the base has it: one read, one write.
    let before = core.client().stats();
    let edited = old.replace(line, "Edited without a read-back.");
    save(&core, ino, edited.as_bytes()).await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.count("GET /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(calls.count("GET /v1/blocks/{id}/children"), 0, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 1, "{calls:?}");
    assert_eq!(calls.total(), 2, "{calls:?}");

    // Notion changed another block meanwhile: still two calls, and both edits stay.
    let first = emu.control().children_ids(&demo::showcase_id())[0].clone();
    emu.control()
        .set_block_text(&first, "Changed in Notion meanwhile.")
        .unwrap();
    let before = core.client().stats();
    save(
        &core,
        ino,
        edited
            .replace("Edited without a read-back.", "Edited again.")
            .as_bytes(),
    )
    .await;
    wait_clean(&core, ino).await;
    let calls = since(&core, &before);
    assert_eq!(calls.total(), 2, "{calls:?}");
    assert_eq!(
        emu.control().plain_text(&first).unwrap(),
        "Changed in Notion meanwhile."
    );
    core.poll_changes().await.unwrap();
    let now = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(
        now.contains("Edited again.") && now.contains("Changed in Notion meanwhile."),
        "{now}"
    );

    // Notion changed the very block edited here: the page is read and it is a conflict.
    let target = emu
        .control()
        .children_ids(&demo::showcase_id())
        .into_iter()
        .find(|id| emu.control().plain_text(id).as_deref() == Some("Edited again."))
        .expect("the edited block");
    emu.control()
        .set_block_text(&target, "Notion's words.")
        .unwrap();
    let before = core.client().stats();
    save(&core, ino, now.replace("Edited again.", "Mine.").as_bytes()).await;
    let state = wait_state(&core, ino, |s| s.starts_with("conflict")).await;
    assert!(state.starts_with("conflict"), "{state}");
    let calls = since(&core, &before);
    assert!(calls.count("GET /v1/blocks/{id}/children") > 5, "{calls:?}");
    assert_eq!(calls.count("PATCH /v1/blocks/{id}"), 0, "{calls:?}");
    assert_eq!(
        emu.control().plain_text(&target).unwrap(),
        "Notion's words."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temp_file_renamed_onto_a_new_name_reads_through_its_inode() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let home = ino(&core, "Team Home").await;
    let (a, o) = core.create(home, ".Brand New.md.tmp-1234").await.unwrap();
    core.write(o.fh, 0, b"# Heading\n\nSaved by an editor.\n")
        .unwrap();
    core.close(o.fh).await.unwrap();
    assert_eq!(
        core.lookup(home, ".Brand New.md.tmp-1234")
            .await
            .unwrap()
            .ino,
        a.ino
    );
    core.rename(home, ".Brand New.md.tmp-1234", home, "Brand New.md")
        .await
        .expect("rename onto a new name");
    let id = only_page_titled(&emu, "Brand New");
    // The kernel keeps using the temp file's inode for the page.
    assert_eq!(
        cat(&core, a.ino).await,
        b"# Heading\n\nSaved by an editor.\n"
    );
    let page_ino = core.lookup(home, "Brand New.md").await.unwrap().ino;
    wait_clean(&core, page_ino).await;
    assert_eq!(texts(&emu, &id), ["Heading", "Saved by an editor."]);
}

/// Two flushes of one handle at the same moment (`dup`ed descriptors closed together, an
/// `fsync` racing a `close`) journal its content once, and never an older content after a
/// newer one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_flushes_of_one_handle_journal_each_content_once_in_order() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Nothing is pushed during the test: the journal keeps every record.
    let core = core(&emu, cache.path(), Duration::from_secs(3600));
    let ino = ino(&core, DEEP_DIVE).await;
    let journal = || core.write_back().expect("writes on").journal();
    let o = core.open(ino, libc::O_WRONLY).await.unwrap();
    let mut last = Vec::new();
    for round in 0..40u32 {
        let text = format!("# Round {round}\n\nThe body of round {round}.\n");
        let empty = AttrChange {
            size: Some(0),
            ..AttrChange::default()
        };
        core.setattr(ino, Some(o.fh), empty).await.unwrap();
        core.write(o.fh, 0, text.as_bytes()).unwrap();
        let (a, b) = tokio::join!(core.flush(o.fh), core.flush(o.fh));
        a.unwrap();
        b.unwrap();
        last = text.into_bytes();
        assert_eq!(
            journal().pending_count(),
            round as usize + 1,
            "round {round}"
        );
    }
    let records = journal().pending().unwrap();
    assert_eq!(records.last().unwrap().data, last);
}

/// `rm` whose trash reached Notion but whose answers were lost: sent again, it is refused
/// by Notion (the page is archived), which is the trash done, not a refusal to set aside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trash_whose_answer_was_lost_is_done_not_refused() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let home = ino(&core, "Team Home").await;
    let (a, o) = core.create(home, "Short Lived.md").await.unwrap();
    core.close(o.fh).await.unwrap();
    assert!(a.ino > 0);
    let id = only_page_titled(&emu, "Short Lived");
    // Every write is carried out and answered 502 from here on.
    emu.control().set_lost_response_rate(1.0);
    let r = core.unlink(home, "Short Lived.md").await;
    emu.control().set_lost_response_rate(0.0);
    // Every attempt was answered 502: the trash is queued, and sent again.
    r.expect("rm is accepted");
    assert_eq!(core.drain_namespace().await, None);
    let page = emu.control().page_json(&id).expect("page");
    assert_eq!(page["in_trash"], true, "{page}");
    let w = core.write_back().expect("writes on");
    assert_eq!(w.journal().pending_count(), 0);
    assert!(w.journal().set_aside().is_empty());
}

/// The emulator, a core with writes on (20 ms quiet period), and the demo's task row 4:
/// its id, inode and file as first read.
struct RowSetup {
    emu: Emulator,
    _cache: tempfile::TempDir,
    core: std::sync::Arc<notionfs::fs::FsCore>,
    row: String,
    ino: u64,
    old: String,
}

async fn row_setup() -> RowSetup {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let ino = ino(&core, ROW).await;
    let old = String::from_utf8(cat(&core, ino).await).unwrap();
    RowSetup {
        emu,
        _cache: cache,
        core,
        row: demo::task_row_id(4),
        ino,
        old,
    }
}

/// A row save whose properties update was answered but whose body push failed, then a
/// newer save before the retry: the properties Notion holds are this mount's first save,
/// not a change made in Notion (found by the soak: the newer save ended as a conflict copy
/// and the file showed the older values). Core only: it times faults around one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_saved_again_after_its_body_failed_to_push_is_no_conflict() {
    let RowSetup {
        emu,
        _cache,
        core,
        row,
        ino,
        old,
    } = row_setup().await;
    let ctl = emu.control();
    // A slow properties update: time to fail every request after it.
    let mut faults = ctl.faults();
    faults.latency_ms = 300;
    ctl.set_faults(faults);
    ctl.reset_stats();
    let first = format!(
        "{}\nA line the first save adds.\n",
        old.replace("Notes: Notes for task 4.", "Notes: First save.")
    );
    save(&core, ino, first.as_bytes()).await;
    while ctl.calls("PATCH /v1/pages/{id}") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    faults.latency_ms = 0;
    faults.fault_rate = 1.0;
    ctl.set_faults(faults);
    // The update is answered; the body's part of the push fails (every retry too).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(plain(&prop(&emu, &row, "Notes")), "First save.");
    let second = first.replace("Notes: First save.", "Notes: Second save.");
    save(&core, ino, second.as_bytes()).await;
    faults.fault_rate = 0.0;
    ctl.set_faults(faults);
    wait_clean(&core, ino).await;
    assert_eq!(plain(&prop(&emu, &row, "Notes")), "Second save.");
    let copies: Vec<String> = names(&core, TASKS)
        .await
        .into_iter()
        .filter(|n| n.contains(".conflict-"))
        .collect();
    assert!(copies.is_empty(), "{copies:?}");
    assert_eq!(String::from_utf8(cat(&core, ino).await).unwrap(), second);
}

/// The feed's copy of a row, asked for while this mount's update of the row was on its way,
/// holds the row's previous values with the same (minute-rounded) edit time: it must not
/// become what the file shows once the update is in Notion. A poll that reads two pages of
/// search results gets the row on the first, before the update lands, and applies it after
/// (found by the soak: a worker's `cat` right after its save showed the save before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_copy_asked_for_during_a_rows_update_does_not_show_older_values() {
    let RowSetup {
        emu,
        _cache,
        core,
        row,
        ino,
        old,
    } = row_setup().await;
    let ctl = emu.control();
    // Enough pages for a second page of search results.
    for i in 0..150 {
        ctl.create_page(&demo::wiki_id(), &format!("Filler {i}"))
            .unwrap();
    }
    // The row's edits fall in a later minute: it comes first, newest first.
    ctl.advance_clock(Duration::from_secs(120));
    let first = old.replace("Notes: Notes for task 4.", "Notes: First save.");
    save(&core, ino, first.as_bytes()).await;
    wait_clean(&core, ino).await;
    // Every response takes 500 ms: the second save's push (a retrieve, then the update)
    // lands between the poll's first page of results (the row with the first save's
    // values) and its second.
    let mut faults = ctl.faults();
    faults.latency_ms = 500;
    ctl.set_faults(faults);
    ctl.reset_stats();
    let second = first.replace("Notes: First save.", "Notes: Second save.");
    save(&core, ino, second.as_bytes()).await;
    while ctl.calls("GET /v1/pages/{id}") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    core.poll_changes().await.unwrap();
    assert!(ctl.calls("POST /v1/search") >= 2, "{:?}", ctl.stats());
    faults.latency_ms = 0;
    ctl.set_faults(faults);
    wait_clean(&core, ino).await;
    assert_eq!(plain(&prop(&emu, &row, "Notes")), "Second save.");
    let shown = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(shown.contains("Notes: Second save."), "{shown}");
    // The next poll brings Notion's copy after the update: the same values.
    core.poll_changes().await.unwrap();
    let shown = String::from_utf8(cat(&core, ino).await).unwrap();
    assert!(shown.contains("Notes: Second save."), "{shown}");
}

/// The kernel answers these itself (the name exists, or is a file where a directory is
/// meant) before a request reaches the filesystem; the core refuses them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_kernel_refuses_itself_are_refused_by_the_core_too() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_millis(20));
    let home = ino(&core, "Team Home").await;
    let wiki = ino(&core, "Engineering Wiki").await;
    assert_eq!(
        errno(core.mkdir(home, "Meeting Notes (2).md").await),
        libc::EEXIST
    );
    assert_eq!(errno(core.rmdir(wiki, "Tasks.md").await), libc::ENOENT);
    assert_eq!(
        errno(core.rmdir(wiki, "Architecture.md").await),
        libc::ENOTDIR
    );
    // Only pages (and local files) can be removed with unlink.
    assert_eq!(
        errno(core.unlink(ROOT_INO, "Engineering Wiki").await),
        libc::EROFS
    );
    assert!(emu
        .control()
        .page_json(&demo::wiki_id())
        .is_some_and(|p| p["in_trash"] == false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_move_takes_only_page_or_data_source_parents() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let c = common::core::client(&emu);
    let page = demo::unicode_title_id();
    for parent in [Parent::database(demo::tasks_db_id()), Parent::workspace()] {
        let e = c.move_page(&page, &parent).await.expect_err("refused");
        assert!(e.to_string().contains("validation"), "{e}");
    }
    let p = c
        .move_page(&page, &Parent::data_source(demo::tasks_ds_id()))
        .await
        .expect("data source parent");
    assert_eq!(
        p.parent.data_source_id.as_deref(),
        Some(demo::tasks_ds_id().as_str())
    );
    let p = c
        .move_page(&page, &Parent::page(demo::wiki_id()))
        .await
        .expect("page parent");
    assert_eq!(p.parent.page_id.as_deref(), Some(demo::wiki_id().as_str()));
}
