//! One scenario, two drivers: each behaviour the core and a real mount share is written
//! once against [`Driver`] and run directly on the core (`NAME::core`) and through the kernel
//! (`NAME::mount`), as rclone's VFS conformance suite runs directly and through a mount.
//! Reads, names and attributes; saves, appends, crashes and conflicts; creating, removing,
//! renaming and moving pages and rows; what is refused, with its errno.
//!
//! The mount half is skipped (with the reason printed) only where FUSE cannot work, and
//! fails instead with `NOTIONFS_REQUIRE_FUSE=1`. What only one side shows stays in its own
//! suite: exact read costs and the journal in `fs_core`/`fs_write`, real editors, signals
//! and the command line in the `mount_*` suites.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::driver::{errno, CoreDriver, Driver, MountDriver, Setup, Stop};
use common::emu::*;
use common::{block_on, wait_for, wait_within};
use notionfs::emulator::{demo, Faults, Seed};
use notionfs::fs::render::PathMap;
use notionfs::notion::tree::fetch_tree;
use serde_json::json;

/// A `core` and a `mount` test for each scenario, with the setup given.
macro_rules! scenarios {
    ($($name:ident: $setup:expr;)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn core() {
                let mut d = CoreDriver::start($setup);
                super::$name(&mut d);
            }

            #[test]
            fn mount() {
                let Some(mut d) = MountDriver::start($setup) else {
                    return;
                };
                super::$name(&mut d);
            }
        }
    )*};
}

scenarios! {
    the_tree_follows_the_layout_and_naming_rules: Setup::default();
    bodies_are_the_converters_output: Setup::default();
    extended_attributes: Setup::default();
    attachments_are_byte_exact: Setup::default();
    remote_edits_and_renames_show_after_the_ttl: Setup {
        ttl: Duration::from_secs(1),
        read_only: true,
        ..Setup::default()
    };
    a_read_only_mount_refuses_every_write: Setup {
        read_only: true,
        ..Setup::default()
    };
    reads_survive_faults_and_a_dead_api_gives_eio: Setup::default();
    a_remount_serves_unchanged_pages_from_the_disk_cache: Setup::default();
    a_save_updates_one_block_in_place: Setup::default();
    appends_keep_ids_and_are_pushed_once: Setup {
        write_delay: Duration::from_millis(500),
        ..Setup::default()
    };
    an_unmount_pushes_pending_saves_and_a_crash_loses_none: Setup::default();
    a_row_save_survives_a_crash: Setup::default();
    a_row_save_replayed_without_its_versions_still_goes_out: Setup::default();
    a_row_saved_again_in_the_same_minute_shows_the_newer_save: Setup {
        ttl: Duration::from_millis(300),
        ..Setup::default()
    };
    conflicts_of_two_rows_in_one_second_name_their_own_copies: Setup::default();
    a_row_saved_again_after_a_lost_update_answer_is_no_conflict: Setup {
        write_delay: Duration::from_millis(50),
        ..Setup::default()
    };
    a_replayed_save_never_overwrites_a_remote_edit: Setup::default();
    a_conflict_keeps_notions_version_and_the_local_one_beside_it: Setup::default();
    bad_bodies_are_refused_and_nothing_else_is_lost: Setup {
        seed: Some(two_pages()),
        write_delay: Duration::from_millis(100),
        ..Setup::default()
    };
    a_row_save_sends_only_the_edited_properties: Setup::default();
    a_row_save_with_front_matter_and_body_pushes_both: Setup::default();
    refused_properties_are_reported_and_the_rest_goes_through: Setup::default();
    malformed_front_matter_is_refused_whole_and_the_body_still_pushed: Setup::default();
    creating_pages_and_rows: Setup::default();
    mkdir_and_rmdir: Setup::default();
    rm_moves_a_page_to_the_trash: Setup::default();
    mv_in_a_folder_renames_the_page_or_row: Setup::default();
    mv_across_folders_moves_pages_and_rows: Setup::default();
    mv_of_a_folder_moves_the_page_and_its_subtree: Setup::default();
    a_stale_buffer_saved_after_a_reload_keeps_the_remote_edit: Setup {
        ttl: Duration::from_millis(500),
        ..Setup::default()
    };
    a_stale_row_buffer_saved_after_a_reload_keeps_the_remote_edit: Setup {
        ttl: Duration::from_millis(500),
        ..Setup::default()
    };
    remote_new_pages_moves_and_trash_show_up: Setup {
        ttl: Duration::from_millis(500),
        ..Setup::default()
    };
    a_row_trashed_in_notion_leaves_its_folder_by_the_reconcile: Setup {
        ttl: Duration::from_secs(60),
        reconcile: Duration::from_millis(300),
        ..Setup::default()
    };
    a_slow_api_does_not_hold_up_reads_of_what_is_cached: Setup {
        ttl: Duration::from_millis(300),
        ..Setup::default()
    };
}

// ----- reading --------------------------------------------------------------------------------

/// Every entry under `dir` and whether it is a directory, depth first.
fn walk(d: &dyn Driver, dir: &str, out: &mut Vec<(String, bool)>) {
    let names = d
        .list(dir)
        .unwrap_or_else(|e| panic!("{}: ls {dir}: {e}", d.kind()));
    for name in names {
        let p = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        let is_dir = d.stat(&p).expect("stat").dir;
        out.push((p.clone(), is_dir));
        if is_dir {
            walk(d, &p, out);
        }
    }
}

fn the_tree_follows_the_layout_and_naming_rules(d: &mut dyn Driver) {
    let mut all = Vec::new();
    walk(d, "", &mut all);
    let paths: BTreeSet<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "Engineering Wiki.md",
        "Engineering Wiki",
        "Engineering Wiki/Architecture.md",
        "Engineering Wiki/Architecture/Storage Layer.md",
        DEEP_DIVE,
        SHOWCASE,
        "Engineering Wiki/Tasks/.schema.yaml",
        "Engineering Wiki/Tasks/Write spec.md",
        "Engineering Wiki/Tracker/Bugs",
        "Engineering Wiki/Tracker/Features",
        "Engineering Wiki/Tracker/Bugs/.schema.yaml",
        "Engineering Wiki/Tracker/Features/.schema.yaml",
        "Team Home.md",
        "Team Home/Meeting Notes.md",
        "Team Home/Meeting Notes (2).md",
        "Team Home/Q3\u{2215}Q4 Planning.md",
        "Team Home/Café ☕ Ünïcödé 🚀.md",
        "Team Home/Untitled.md",
    ] {
        assert!(paths.contains(want), "missing {want}; have {paths:#?}");
    }
    // A database with one data source is a folder of rows; with several, a folder per source.
    let ctl = d.emu().control();
    let rows = all
        .iter()
        .filter(|(p, _)| p.starts_with("Engineering Wiki/Tasks/") && p.ends_with(".md"))
        .filter(|(p, _)| p.matches('/').count() == 2)
        .count();
    assert_eq!(rows as u32, demo::TASK_ROWS);
    let bugs = all
        .iter()
        .filter(|(p, _)| p.starts_with("Engineering Wiki/Tracker/Bugs/") && p.ends_with(".md"))
        .count();
    assert_eq!(bugs, ctl.rows(&demo::bugs_ds_id()).len());
    let all_rows = demo::TASK_ROWS as usize
        + ctl.rows(&demo::bugs_ds_id()).len()
        + ctl.rows(&demo::features_ds_id()).len();
    let md = all.iter().filter(|(p, _)| p.ends_with(".md")).count();
    assert!(md >= all_rows + 10, "{md} .md files");
    // Kinds: .md and .yaml files are files, page folders are directories.
    for (p, dir) in &all {
        if p.ends_with(".md") || p.ends_with(".yaml") {
            assert!(!dir, "{p} is a directory");
        }
    }
    assert!(all.contains(&("Engineering Wiki/Architecture".to_string(), true)));
    // Duplicates: the first created keeps the name.
    let id = |p: &str| String::from_utf8(d.xattr(p, "user.notion.id").unwrap()).unwrap();
    assert_eq!(id("Team Home/Meeting Notes.md"), demo::meeting_notes_1_id());
    assert_eq!(
        id("Team Home/Meeting Notes (2).md"),
        demo::meeting_notes_2_id()
    );
}

/// The front matter context of a row whose hosted files are attachments in `stem/`.
fn row_context(
    page: &notionfs::notion::model::Page,
    stem: &str,
) -> notionfs::frontmatter::MemoryContext {
    use notionfs::notion::model::property::PropertyData;
    use notionfs::notion::model::FileObject;
    let mut ctx = notionfs::frontmatter::MemoryContext::default();
    for v in page.properties.values() {
        if let PropertyData::Files(files) = &v.data {
            for f in files {
                if let (FileObject::File(h), Some(n)) = (&f.file, &f.name) {
                    ctx = ctx.with_attachment(&h.url, &format!("{stem}/{n}"));
                }
            }
        }
    }
    ctx
}

fn bodies_are_the_converters_output(d: &mut dyn Driver) {
    // What the converters make of Notion's data, read by an independent client.
    let other = common::core::client(d.emu());
    let (arch, page, schema, row) = block_on(async {
        let permits = tokio::sync::Semaphore::new(4);
        let arch = fetch_tree(&other, &demo::architecture_id(), Some(&permits))
            .await
            .unwrap();
        let page = other.page(&demo::task_row_id(1)).await.unwrap();
        let schema = other.data_source(&demo::tasks_ds_id()).await.unwrap();
        let row = fetch_tree(&other, &demo::task_row_id(1), Some(&permits))
            .await
            .unwrap();
        (arch, page, schema, row)
    });
    // A plain page with a child page: links point into its folder.
    let mut links = PathMap::default();
    links.children.insert(
        demo::storage_id(),
        "Architecture/Storage Layer.md".to_string(),
    );
    let want = notionfs::markdown::render_with(&arch, &links);
    let got = d.text("Engineering Wiki/Architecture.md");
    assert_eq!(got, want);
    // A row: front matter of its properties, then its blocks.
    let want_row = format!(
        "{}{}",
        notionfs::frontmatter::render(&page, &schema, &row_context(&page, "Write spec")),
        notionfs::markdown::render(&row)
    );
    assert_eq!(d.text("Engineering Wiki/Tasks/Write spec.md"), want_row);
    // The schema file.
    assert_eq!(
        d.text("Engineering Wiki/Tasks/.schema.yaml"),
        notionfs::frontmatter::schema_yaml(&schema)
    );
    // stat: the exact size once read, mode 0644 / 0755, mtime = last_edited_time.
    let row_stat = d.stat("Engineering Wiki/Tasks/Write spec.md").unwrap();
    assert_eq!(row_stat.size, want_row.len() as u64);
    assert_eq!(row_stat.perm & 0o777, 0o644);
    let arch_stat = d.stat("Engineering Wiki/Architecture.md").unwrap();
    assert_eq!(arch_stat.size, got.len() as u64);
    let dir = d.stat("Engineering Wiki").unwrap();
    assert!(dir.dir);
    assert_eq!(dir.perm & 0o777, 0o755);
    let edited = d.emu().control().page_json(&demo::wiki_id()).unwrap()["last_edited_time"]
        .as_str()
        .unwrap()
        .to_string();
    let mtime = d.stat("Engineering Wiki.md").unwrap().mtime;
    let secs = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(
        secs,
        chrono::DateTime::parse_from_rfc3339(&edited)
            .unwrap()
            .timestamp()
    );
}

fn extended_attributes(d: &mut dyn Driver) {
    let page = "Engineering Wiki.md";
    let x = |p: &str, n: &str| String::from_utf8(d.xattr(p, n).unwrap()).unwrap();
    assert_eq!(x(page, "user.notion.id"), demo::wiki_id());
    assert_eq!(x(page, "user.notion.object"), "page");
    assert!(x(page, "user.notion.url").starts_with("https://"));
    assert!(x(page, "user.notion.last_edited_time").starts_with("2025-"));
    assert_eq!(x(page, "user.notionfs.sync"), "clean");
    assert_eq!(d.xattr_names(page).unwrap().len(), 5);
    assert_eq!(
        x("Engineering Wiki/Tasks", "user.notion.object"),
        "database"
    );
    assert_eq!(
        x("Engineering Wiki/Tracker/Bugs", "user.notion.object"),
        "data_source"
    );
    assert_eq!(errno(d.xattr(page, "user.other")), libc::ENODATA);
}

fn attachments_are_byte_exact(d: &mut dyn Driver) {
    // Read straight away: nothing has read Block Showcase's blocks before.
    let png = demo_png();
    let logo = "Engineering Wiki/Block Showcase/logo.png";
    assert_eq!(d.read(logo).unwrap(), png);
    assert_eq!(
        d.read("Engineering Wiki/Block Showcase/spec.pdf").unwrap(),
        demo::PDF_TEXT.as_bytes()
    );
    assert_eq!(d.stat(logo).unwrap().size, png.len() as u64);
    assert_eq!(d.xattr(logo, "user.notion.object").unwrap(), b"block");
    // A row's hosted files are attachments in the row's folder.
    let row = d.text("Engineering Wiki/Tasks/Write spec.md");
    assert!(row.contains("  - Write spec/logo.png\n"), "{row}");
    let row_logo = "Engineering Wiki/Tasks/Write spec/logo.png";
    assert_eq!(&d.read(row_logo).unwrap()[1..4], b"PNG");
    assert_eq!(
        d.xattr(row_logo, "user.notion.id").unwrap(),
        demo::task_row_id(1).into_bytes()
    );
}

fn remote_edits_and_renames_show_after_the_ttl(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let old = d.text(DEEP_DIVE);
    assert!(old.contains(demo::MARKER));
    ctl.set_block_text(&demo::block_id(100), "Edited remotely, longer than before.")
        .expect("edit");
    // Until the feed reports it: the cached body, read without a call for its blocks
    // (only the feed's own searches run meanwhile).
    let before = ctl.stats();
    assert_eq!(d.text(DEEP_DIVE), old);
    let since = |k: &str| ctl.calls(k) - before.get(k).copied().unwrap_or(0);
    assert_eq!(
        since("GET /v1/blocks/{id}/children"),
        0,
        "{:?}",
        ctl.stats()
    );
    assert_eq!(since("GET /v1/pages/{id}"), 0, "{:?}", ctl.stats());

    let cafe = "Team Home/Café ☕ Ünïcödé 🚀.md";
    let ino = d.stat(cafe).unwrap().ino;
    let home = d.text("Team Home.md");
    ctl.rename_page(&demo::unicode_title_id(), "Renamed/remotely")
        .unwrap();
    // Within two polls of the feed.
    wait_within(Duration::from_secs(10), "the remote edit", || {
        d.text(DEEP_DIVE).contains("Edited remotely")
    });
    let new = d.text(DEEP_DIVE);
    assert!(!new.contains(demo::MARKER));
    // The size follows (the kernel's attribute cache expires within its TTL).
    wait_for("the new size", || {
        d.stat(DEEP_DIVE).unwrap().size == new.len() as u64
    });
    // The renamed page: the new name, the same inode, and the parent links to it.
    wait_within(Duration::from_secs(10), "the new name", || {
        d.list("Team Home")
            .unwrap()
            .contains("Renamed\u{2215}remotely.md")
    });
    let names = d.list("Team Home").unwrap();
    assert!(!names.contains("Café ☕ Ünïcödé 🚀.md"), "{names:?}");
    assert_eq!(
        d.stat("Team Home/Renamed\u{2215}remotely.md").unwrap().ino,
        ino
    );
    let new_home = d.text("Team Home.md");
    assert_ne!(new_home, home);
    assert!(
        new_home.contains("Team Home/Renamed\u{2215}remotely.md"),
        "{new_home}"
    );
}

fn a_read_only_mount_refuses_every_write(d: &mut dyn Driver) {
    assert_eq!(d.stat("Team Home.md").unwrap().perm & 0o777, 0o444);
    let ctl = d.emu().control();
    let before = ctl.stats();
    for (what, r) in [
        ("create", d.write("Team Home/New.md", b"x")),
        ("overwrite", d.write("Team Home.md", b"x")),
        ("append", d.append("Team Home.md", b"x")),
        ("mkdir", d.mkdir("Team Home/Dir")),
        ("unlink", d.unlink("Team Home.md")),
        ("rename", d.rename("Team Home.md", "Other.md")),
    ] {
        assert_eq!(errno(r), libc::EROFS, "{what}");
    }
    // Nothing reached Notion.
    let writes = |s: &std::collections::BTreeMap<String, u64>| -> u64 {
        s.iter()
            .filter(|(k, _)| {
                !k.starts_with("GET ") && !k.contains("/query") && !k.contains("/search")
            })
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(
        writes(&before),
        writes(&ctl.stats()),
        "a read-only mount wrote"
    );
    assert!(d.text("Team Home.md").len() > 10);
}

fn reads_survive_faults_and_a_dead_api_gives_eio(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let healthy = ctl.faults();
    // Server errors are retried.
    ctl.set_faults(Faults {
        fault_rate: 0.2,
        ..healthy
    });
    let body = d.read(SHOWCASE).unwrap();
    assert!(body.len() > 100);
    let api = d.api_use();
    assert!(api.retries > 0 || api.server_errors == 0, "{api:?}");
    // 429s from the API's own limiter are waited out.
    ctl.set_faults(Faults {
        rate: Some(2.0),
        burst: 1,
        ..healthy
    });
    for name in ["Meeting Notes.md", "Untitled.md"] {
        d.read(&format!("Team Home/{name}")).unwrap();
    }
    // The API goes away: what was not read fails with EIO...
    d.stop_api();
    assert_eq!(errno(d.read("Team Home/Meeting Notes (2).md")), libc::EIO);
    if let Some(log) = d.log() {
        assert!(log.contains("I/O error"), "{log}");
    }
    // ...and what was read is still served, listings too.
    assert_eq!(d.read(SHOWCASE).unwrap(), body);
    assert!(d.list("").unwrap().len() >= 4);
}

fn a_remount_serves_unchanged_pages_from_the_disk_cache(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let (arch, row, wiki) = (
        "Engineering Wiki/Architecture.md",
        "Engineering Wiki/Tasks/Write spec.md",
        "Engineering Wiki.md",
    );
    let a1 = d.read(arch).unwrap();
    let r1 = d.read(row).unwrap();
    let d1 = d.text(DEEP_DIVE);
    let w1 = d.text(wiki);
    assert!(w1.contains("<page path="), "{w1}");
    d.stop(Stop::Clean);
    ctl.set_block_text(&demo::block_id(100), "Changed since.")
        .unwrap();
    let ids = ctl.children_ids(&demo::wiki_id());

    d.start();
    ctl.reset_stats();
    assert_eq!(d.text(wiki), w1);
    assert_eq!(ctl.calls("GET /v1/blocks/{id}/children"), 0);
    // (Listing a page's folder reads the page's blocks: look the deeper files up first.)
    for p in [arch, row, DEEP_DIVE] {
        d.stat(p).unwrap();
    }
    let children = ctl.calls("GET /v1/blocks/{id}/children");
    assert_eq!(d.read(arch).unwrap(), a1);
    assert_eq!(d.read(row).unwrap(), r1);
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children"),
        children,
        "{:?}",
        ctl.stats()
    );
    // A page edited since is read again.
    let d2 = d.text(DEEP_DIVE);
    assert_ne!(d2, d1);
    assert!(d2.contains("Changed since."), "{d2}");

    // A body from the disk cache (no blocks in memory) saves with its links understood:
    // every block keeps its id.
    d.append(wiki, b"\nAdded after a remount.\n").unwrap();
    d.settle();
    let now = ctl.children_ids(&demo::wiki_id());
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(now.len(), ids.len() + 1);
    assert_eq!(
        last_text(d.emu(), &demo::wiki_id()),
        "Added after a remount."
    );
    assert_eq!(d.sync_state(wiki), "clean");
}

// ----- saving ---------------------------------------------------------------------------------

fn a_save_updates_one_block_in_place(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    // Directories cannot be opened for writing.
    assert_eq!(errno(d.write("Engineering Wiki", b"x")), libc::EISDIR);
    let old = d.text(DEEP_DIVE);
    assert!(old.contains(demo::MARKER), "{old}");
    let ids = ctl.children_ids(&demo::deep_dive_id());
    let new = old.replace(demo::MARKER, "edited-in-place");

    ctl.reset_stats();
    d.write(DEEP_DIVE, new.as_bytes()).unwrap();
    // Durable and pending before any call was made; the file shows the saved bytes.
    assert_eq!(d.journal_records(), 1);
    assert_eq!(d.sync_state(DEEP_DIVE), "pending");
    assert_eq!(ctl.total_calls(), 0, "{:?}", ctl.stats());
    assert_eq!(d.text(DEEP_DIVE), new);

    d.settle();
    // The remote check reads back the one block the edit touches, then one in-place
    // update; every block keeps its id.
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("GET /v1/blocks/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("GET /v1/blocks/{id}/children"), 0);
    assert_eq!(ctl.total_calls(), 2, "{:?}", ctl.stats());
    assert_eq!(ctl.children_ids(&demo::deep_dive_id()), ids);
    let text = text(d.emu(), &demo::block_id(100));
    assert!(text.contains("edited-in-place"), "{text}");
    assert_eq!(d.journal_records(), 0);
    assert_eq!(d.sync_state(DEEP_DIVE), "clean");
    assert_eq!(d.text(DEEP_DIVE), new);
}

fn appends_keep_ids_and_are_pushed_once(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let old = d.text(DEEP_DIVE);
    let ids = ctl.children_ids(&demo::deep_dive_id());
    ctl.reset_stats();
    // Two appends (`echo >>`), 50 ms apart: one push after the quiet period.
    for line in ["First appended line.", "Second appended line."] {
        d.append(DEEP_DIVE, format!("\n{line}\n").as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.journal_records(), 2);
    d.wait_clean(DEEP_DIVE);
    // One positioned append of two paragraphs; the other blocks keep their ids.
    assert_eq!(
        ctl.calls("PATCH /v1/blocks/{id}/children"),
        1,
        "{:?}",
        ctl.stats()
    );
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 0);
    let now = ctl.children_ids(&demo::deep_dive_id());
    assert_eq!(now.len(), ids.len() + 2);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(text(d.emu(), &now[ids.len()]), "First appended line.");
    assert_eq!(text(d.emu(), &now[ids.len() + 1]), "Second appended line.");
    assert_eq!(
        d.text(DEEP_DIVE),
        format!("{old}\nFirst appended line.\n\nSecond appended line.\n")
    );
}

/// The journal's records left on disk by a mount that is not running.
fn records_on_disk(d: &dyn Driver) -> usize {
    notionfs::sync::Journal::open(d.cache_dir().join("journal"))
        .expect("journal")
        .pending_count()
}

fn an_unmount_pushes_pending_saves_and_a_crash_loses_none(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let page = demo::deep_dive_id();
    // An unmount with a save in its quiet period pushes it first.
    d.append(DEEP_DIVE, b"\nSaved before unmounting.\n")
        .unwrap();
    assert_eq!(d.sync_state(DEEP_DIVE), "pending");
    d.stop(Stop::Clean);
    assert_eq!(last_text(d.emu(), &page), "Saved before unmounting.");

    // A crash with a save in its quiet period: nothing pushed, the journal has it.
    d.start();
    let ids = ctl.children_ids(&page);
    let first = d
        .text(DEEP_DIVE)
        .replace(demo::MARKER, "saved-before-the-crash");
    d.write(DEEP_DIVE, first.as_bytes()).unwrap();
    d.stop(Stop::Crash);
    let marker = text(d.emu(), &demo::block_id(100));
    assert!(marker.contains(demo::MARKER), "pushed too early: {marker}");
    assert_eq!(records_on_disk(d), 1);

    // The next mount shows the save (not Notion's older text) and pushes it; an edit made
    // now builds on it, and both reach Notion.
    d.start();
    assert_eq!(d.text(DEEP_DIVE), first);
    let second = format!("{first}\nAdded after the restart.\n");
    d.write(DEEP_DIVE, second.as_bytes()).unwrap();
    d.settle();
    let marker = text(d.emu(), &demo::block_id(100));
    assert!(marker.contains("saved-before-the-crash"), "{marker}");
    let now = ctl.children_ids(&page);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(last_text(d.emu(), &page), "Added after the restart.");
    assert_eq!(d.journal_records(), 0);
    assert_eq!(d.sync_state(DEEP_DIVE), "clean");
}

fn a_row_save_survives_a_crash(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let new = d
        .text(ROW)
        .replace("Status: Not started", "Status: In progress")
        .replace("Body of task 4", "Replayed body");
    d.write(ROW, new.as_bytes()).unwrap();
    d.stop(Stop::Crash);
    assert_eq!(
        prop(d.emu(), &row, "Status")["status"]["name"],
        "Not started"
    );
    // Changed in Notion meanwhile, not by the save: kept.
    ctl.set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    ctl.reset_stats();
    d.start();
    d.settle();
    assert_eq!(d.journal_records(), 0);
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Status")["status"]["name"], "In progress");
    assert_eq!(plain(&prop(emu, &row, "Notes")), "Changed in Notion.");
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(emu, &ids[1]).starts_with("Replayed body"));
}

/// A save replayed after a crash that also lost the versions (the cache's `versions/`): the
/// journal's record of what the edit started from decides, and the save still goes out.
fn a_row_save_replayed_without_its_versions_still_goes_out(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let new = d
        .text(ROW)
        .replace("Status: Not started", "Status: In progress")
        .replace("Body of task 4", "Replayed without versions");
    d.write(ROW, new.as_bytes()).unwrap();
    d.stop(Stop::Crash);
    std::fs::remove_dir_all(d.cache_dir().join("versions")).unwrap();
    ctl.set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    d.start();
    d.settle();
    assert_eq!(d.journal_records(), 0);
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Status")["status"]["name"], "In progress");
    assert_eq!(plain(&prop(emu, &row, "Notes")), "Changed in Notion.");
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(emu, &ids[1]).starts_with("Replayed without versions"));
}

/// Notion rounds edit times to the minute: saves of a row within one minute leave its time
/// unchanged, and the feed (which reads such a page again) must still take the newer
/// properties, not keep showing the first save's (found by the soak).
fn a_row_saved_again_in_the_same_minute_shows_the_newer_save(d: &mut dyn Driver) {
    let row = demo::task_row_id(4);
    let mut file = d.text(ROW);
    let mut notes = "Notes for task 4.".to_string();
    // Four saves within a few seconds: at least two of them share a minute.
    for i in 0..4 {
        let next = format!("Saved {i}.");
        file = file.replace(&format!("Notes: {notes}\n"), &format!("Notes: {next}\n"));
        notes = next;
        d.write(ROW, file.as_bytes()).unwrap();
        d.settle();
        assert_eq!(plain(&prop(d.emu(), &row, "Notes")), notes);
        // The feed polls a few times (TTL 300 ms) and reads the row again (its read-only
        // `Last edited` changes; the properties stay the save's).
        std::thread::sleep(Duration::from_millis(1000));
        let shown = d.text(ROW);
        let line = shown.lines().find(|l| l.starts_with("Notes: "));
        assert_eq!(
            line,
            Some(format!("Notes: {notes}").as_str()),
            "after save {i}"
        );
    }
    assert_eq!(d.sync_state(ROW), "clean");
}

/// A properties update carried out in Notion whose answer was lost (a 502 after the
/// change): a newer save of the row pushed after it is not a clash with "a change made in
/// Notion" — it is this mount's own earlier update (found by the soak).
fn a_row_saved_again_after_a_lost_update_answer_is_no_conflict(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let old = d.text(ROW);
    ctl.reset_stats();
    ctl.set_lost_response_rate(1.0);
    let first = old
        .replace("Notes: Notes for task 4.", "Notes: First save.")
        .replace("Estimate: 8", "Estimate: 1");
    d.write(ROW, first.as_bytes()).unwrap();
    wait_for("the first update sent", || {
        ctl.calls("PATCH /v1/pages/{id}") > 0
    });
    // Carried out, answered 502; nothing gets through while the next save is made.
    let mut faults = ctl.faults();
    faults.fault_rate = 1.0;
    ctl.set_faults(faults);
    ctl.set_lost_response_rate(0.0);
    assert_eq!(plain(&prop(d.emu(), &row, "Notes")), "First save.");
    let second = first
        .replace("Notes: First save.", "Notes: Second save.")
        .replace("Estimate: 1", "Estimate: 2");
    d.write(ROW, second.as_bytes()).unwrap();
    faults.fault_rate = 0.0;
    ctl.set_faults(faults);
    d.settle();
    let emu = d.emu();
    assert_eq!(plain(&prop(emu, &row, "Notes")), "Second save.");
    assert_eq!(prop(emu, &row, "Estimate")["number"], 2);
    assert_eq!(d.sync_state(ROW), "clean");
    assert_eq!(d.text(ROW), second);
    let copies: Vec<String> = d
        .list(TASKS)
        .unwrap()
        .into_iter()
        .filter(|n| n.contains(".conflict-"))
        .collect();
    assert!(copies.is_empty(), "{copies:?}");
    assert_eq!(d.journal_records(), 0);
}

/// Two rows of one folder conflicting in the same second: each one's sync state (and
/// `notionfs status`) names its own copy, not the other row's (found by the soak).
fn conflicts_of_two_rows_in_one_second_name_their_own_copies(d: &mut dyn Driver) {
    let other = format!("{TASKS}/Journal replay.md");
    let ctl = d.emu().control();
    let ids = [
        demo::task_row_id(4),
        only_page_titled(d.emu(), "Journal replay"),
    ];
    let buffers = [d.text(ROW), d.text(&other)];
    for id in &ids {
        ctl.set_property(id, "Notes", rich("Changed in Notion."))
            .unwrap();
    }
    for (path, old) in [ROW, other.as_str()].into_iter().zip(&buffers) {
        let notes = old.lines().find(|l| l.starts_with("Notes: ")).unwrap();
        d.write(path, old.replace(notes, "Notes: Changed here.").as_bytes())
            .unwrap();
    }
    // Both pushed at once: both clash, within a second.
    d.settle();
    for path in [ROW, other.as_str()] {
        let state = d.sync_state(path);
        let stem = path.rsplit('/').next().unwrap().trim_end_matches(".md");
        let copy = state
            .strip_prefix("conflict: ")
            .unwrap_or_else(|| panic!("{state}"));
        assert!(
            copy.starts_with(&format!("{stem}.conflict-")),
            "{path}: {state}"
        );
        assert!(d
            .text(&format!("{TASKS}/{copy}"))
            .contains("Notes: Changed here."));
    }
}

/// The conflict copies beside [`DEEP_DIVE`].
fn conflict_copies(d: &dyn Driver) -> Vec<String> {
    d.list(STORAGE)
        .unwrap()
        .into_iter()
        .filter(|n| n.starts_with("Deep Dive: Compaction.conflict-") && n.ends_with(".md"))
        .collect()
}

fn a_replayed_save_never_overwrites_a_remote_edit(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let page = demo::deep_dive_id();
    let saved = d.text(DEEP_DIVE).replace(demo::MARKER, "local-marker");
    d.write(DEEP_DIVE, saved.as_bytes()).unwrap();
    d.stop(Stop::Crash);
    // Meanwhile the same paragraph is edited in Notion.
    ctl.set_block_text(&demo::block_id(100), "Edited in Notion meanwhile.")
        .unwrap();
    let ids = ctl.children_ids(&page);

    // The replay sees Notion changed since the save's base: Notion's version stays and the
    // save is kept beside the page.
    d.start();
    d.settle();
    wait_for("the conflict copy", || !conflict_copies(d).is_empty());
    let copy = conflict_copies(d).remove(0);
    assert_eq!(d.text(&format!("{STORAGE}/{copy}")), saved);
    assert_eq!(
        text(d.emu(), &demo::block_id(100)),
        "Edited in Notion meanwhile."
    );
    assert_eq!(ctl.children_ids(&page), ids);
    let now = d.text(DEEP_DIVE);
    assert!(now.contains("Edited in Notion meanwhile."), "{now}");
    // The local version is also kept on disk, private to the user.
    use std::os::unix::fs::PermissionsExt;
    let kept: Vec<_> = std::fs::read_dir(d.cache_dir().join("conflicts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), saved);
    let mode = std::fs::metadata(&kept[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn a_conflict_keeps_notions_version_and_the_local_one_beside_it(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let old = d.text(DEEP_DIVE);
    // The same block changed in Notion after the file was read, then saved locally.
    ctl.set_block_text(&demo::block_id(100), "Remote wins.")
        .unwrap();
    let local = old.replace(demo::MARKER, "local-loses");
    ctl.reset_stats();
    d.write(DEEP_DIVE, local.as_bytes()).unwrap();
    d.settle();
    let state = d.sync_state(DEEP_DIVE);
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(text(d.emu(), &demo::block_id(100)), "Remote wins.");
    assert_eq!(d.journal_records(), 0);
    // The attribute names the copy beside the page, which holds the local version; the
    // page shows Notion's; the copy is local only.
    let copies = conflict_copies(d);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(state, format!("conflict: {}", copies[0]));
    assert_eq!(d.text(&format!("{STORAGE}/{}", copies[0])), local);
    let page = d.text(DEEP_DIVE);
    assert!(page.contains("Remote wins."), "{page}");
    assert!(ctl.pages_titled(&copies[0]).is_empty());

    // The next successful save clears it.
    d.write(
        DEEP_DIVE,
        page.replace("Remote wins.", "Merged.").as_bytes(),
    )
    .unwrap();
    d.settle();
    assert_eq!(d.sync_state(DEEP_DIVE), "clean");
    assert_eq!(text(d.emu(), &demo::block_id(100)), "Merged.");
}

const ALPHA: &str = "5e5e5e5e-0000-4000-8000-000000000301";
const BRAVO: &str = "5e5e5e5e-0000-4000-8000-000000000302";

/// Two workspace pages of two paragraphs: Alpha and Bravo.
fn two_pages() -> Seed {
    let page = |id: &str, title: &str| {
        json!({"id": id, "parent": {"workspace": true}, "title": title, "children": [
            {"type": "paragraph", "paragraph": {"rich_text": [
                {"type": "text", "text": {"content": format!("{title} first")}}]}},
            {"type": "paragraph", "paragraph": {"rich_text": [
                {"type": "text", "text": {"content": format!("{title} second")}}]}},
        ]})
    };
    let seed = json!({
        "workspace_name": "Bad input",
        "workspace_id": "5e5e5e5e-0000-4000-8000-000000000001",
        "bot": {"id": "5e5e5e5e-0000-4000-8000-0000000000b0", "name": "Bot"},
        "pages": [page(ALPHA, "Alpha"), page(BRAVO, "Bravo")],
    });
    Seed::from_json(&seed.to_string()).expect("seed")
}

/// A 3 MB single line, invalid UTF-8 and a binary file (a PNG) saved as a page's `.md`:
/// each is refused with a clear reason (one log line), Notion keeps the page, the local
/// bytes stay readable, another page saves fine meanwhile, and a later good save clears the
/// failure. The 3 MB line is refused, not split: one line is one paragraph, and a block holds
/// at most 100 rich text runs of 2000 characters.
fn bad_bodies_are_refused_and_nothing_else_is_lost(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let original = d.read("Alpha.md").unwrap();
    let ids = ctl.children_ids(ALPHA);
    let before = texts(d.emu(), ALPHA);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    png.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    let mut long = "x".repeat(3_000_000);
    long.push('\n');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "3 MB line",
            long.into_bytes(),
            "rich_text has 1500 elements, at most 100",
        ),
        (
            "invalid UTF-8",
            b"\xff\xfe not text\n".to_vec(),
            "the file is not UTF-8 text (invalid bytes at byte 0)",
        ),
        ("PNG", png, "binary data"),
    ];
    for (n, (what, bytes, reason)) in cases.into_iter().enumerate() {
        d.write("Alpha.md", &bytes)
            .unwrap_or_else(|e| panic!("{what}: save: {e}"));
        let state = d.wait_state("Alpha.md", &|s| s != "pending");
        assert!(
            state.starts_with("failed: ") && state.contains(reason),
            "{what}: {state}"
        );
        if n == 0 {
            // The save stays in the journal, with the reason.
            assert_eq!(d.journal_records(), 1);
            let reason = state.strip_prefix("failed: ").unwrap().to_string();
            assert_eq!(d.failed(), [(ALPHA.to_string(), reason)]);
        }
        // Notion unchanged; the local bytes kept and readable.
        assert_eq!(texts(d.emu(), ALPHA), before, "{what}");
        assert_eq!(ctl.children_ids(ALPHA), ids, "{what}");
        assert_eq!(d.read("Alpha.md").unwrap(), bytes, "{what}");
        // The mount keeps working: another page saves.
        let good = format!("Bravo first\n\nBravo saved {n}\n");
        d.write("Bravo.md", good.as_bytes()).unwrap();
        d.wait_clean("Bravo.md");
        assert_eq!(
            texts(d.emu(), BRAVO),
            ["Bravo first".to_string(), format!("Bravo saved {n}")]
        );
    }
    if let Some(log) = d.log() {
        for reason in ["at most 100", "not UTF-8", "binary data"] {
            let lines = log
                .lines()
                .filter(|l| l.contains("push refused") && l.contains(reason))
                .count();
            assert_eq!(lines, 1, "one log line for {reason}:\n{log}");
        }
    }
    // A good save of the same file clears the failure and reaches Notion; the untouched
    // paragraph keeps its id.
    let fixed = String::from_utf8(original)
        .unwrap()
        .replace("Alpha second", "Alpha fixed");
    d.write("Alpha.md", fixed.as_bytes()).unwrap();
    d.wait_clean("Alpha.md");
    assert_eq!(texts(d.emu(), ALPHA), ["Alpha first", "Alpha fixed"]);
    assert_eq!(ctl.children_ids(ALPHA)[0], ids[0]);
    assert_eq!(d.text("Alpha.md"), fixed);
}

// ----- rows -----------------------------------------------------------------------------------

fn a_row_save_sends_only_the_edited_properties(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let old = d.text(ROW);
    assert!(old.contains("\nStatus: Not started\n"), "{old}");
    assert!(old.contains("\nEstimate: 8\n"), "{old}");
    // Changed in Notion after the file was read; the save does not touch it: kept.
    ctl.set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    let new = old
        .replace("Status: Not started", "Status: Done")
        .replace("Estimate: 8", "Estimate: 13");

    ctl.reset_stats();
    d.write(ROW, new.as_bytes()).unwrap();
    d.settle();
    // One read of the row (to merge with Notion's properties) and one update-page call;
    // the body did not change: not even read.
    let stats = ctl.stats();
    assert_eq!(ctl.calls("GET /v1/pages/{id}"), 1, "{stats:?}");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{stats:?}");
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 0, "{stats:?}");
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}/children"), 0, "{stats:?}");
    assert_eq!(ctl.calls("DELETE /v1/blocks/{id}"), 0, "{stats:?}");
    assert_eq!(ctl.total_calls(), 2, "{stats:?}");
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Status")["status"]["name"], "Done");
    assert_eq!(prop(emu, &row, "Estimate")["number"], 13);
    assert_eq!(plain(&prop(emu, &row, "Notes")), "Changed in Notion.");
    assert_eq!(prop(emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(ctl.children_ids(&row), ids);
    assert_eq!(d.text(ROW), new);
    assert_eq!(d.journal_records(), 0);
    assert_eq!(d.sync_state(ROW), "clean");

    // A save that changes nothing in the front matter makes no update-page call.
    let body_only = new.replace("Body of task 4", "Body of task four");
    ctl.reset_stats();
    d.write(ROW, body_only.as_bytes()).unwrap();
    d.settle();
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 1);
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(d.emu(), &ids[1]).starts_with("Body of task four"));

    // `echo >>`: the body grows by one paragraph; no update-page call.
    ctl.reset_stats();
    d.append(ROW, b"\nAppended to a row.\n").unwrap();
    d.settle();
    let now = ctl.children_ids(&row);
    assert_eq!(now.len(), ids.len() + 1);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(text(d.emu(), &now[ids.len()]), "Appended to a row.");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}/children"), 1);
    assert_eq!(d.sync_state(ROW), "clean");
}

fn a_row_save_with_front_matter_and_body_pushes_both(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let old = d.text(ROW);
    let new = old
        .replace("Priority: Low", "Priority: High")
        .replace("  - backend\n", "  - backend\n  - docs\n")
        .replace("Done: false", "Done: true")
        .replace("Due: null", "Due: 2025-08-01")
        .replace("Body of task 4", "Rewritten body of task 4");
    assert_ne!(new, old);
    ctl.reset_stats();
    d.write(ROW, new.as_bytes()).unwrap();
    d.settle();
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 1, "{:?}", ctl.stats());
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(prop(emu, &row, "Done")["checkbox"], true);
    assert_eq!(prop(emu, &row, "Due")["date"]["start"], "2025-08-01");
    let tags: Vec<String> = prop(emu, &row, "Tags")["multi_select"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tags, ["infra", "backend", "docs"]);
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(emu, &ids[1]).starts_with("Rewritten body of task 4"));
    assert_eq!(d.text(ROW), new);
    assert_eq!(d.sync_state(ROW), "clean");
}

fn refused_properties_are_reported_and_the_rest_goes_through(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let old = d.text(ROW);
    let priorities = options(d.emu(), "Priority", "select");

    // Unknown key, missing option, bad value, read-only property: each refused and named;
    // the valid change and the body go out.
    let bad = old
        .replace("Estimate: 8", "Estimate: 21\nBogus: 1")
        .replace("Priority: Low", "Priority: Urgent")
        .replace("Done: false", "Done: maybe")
        .replace("Score: 16", "Score: 99")
        .replace("Body of task 4", "Body kept despite refusals");
    ctl.reset_stats();
    d.write(ROW, bad.as_bytes()).unwrap();
    d.settle();
    let state = d.sync_state(ROW);
    for want in [
        "property \"Bogus\": no such property in this data source",
        "property \"Priority\": option \"Urgent\" does not exist",
        "property \"Done\": expected true or false",
        "property \"Score\": formula properties are read-only",
    ] {
        assert!(state.contains(want), "{want} not in {state}");
    }
    // The valid property in one call, the body in place; the schema read again once (the
    // option might have been added in Notion meanwhile).
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("GET /v1/data_sources/{id}"), 1);
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Estimate")["number"], 21);
    assert_eq!(prop(emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(prop(emu, &row, "Done")["checkbox"], false);
    assert_eq!(options(emu, "Priority", "select"), priorities);
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(emu, &ids[1]).starts_with("Body kept despite refusals"));
    // The user's bytes stay, in the file and in the journal (with the reason), logged once.
    assert_eq!(d.text(ROW), bad);
    assert_eq!(d.journal_records(), 1);
    let reason = state.strip_prefix("failed: ").expect("failed").to_string();
    assert_eq!(d.failed(), [(row.clone(), reason)]);
    if let Some(log) = d.log() {
        assert_eq!(log.matches("no such property").count(), 1, "{log}");
    }

    // Only the option left wrong: only it is reported.
    let urgent = bad
        .replace("\nBogus: 1", "")
        .replace("Done: maybe", "Done: true")
        .replace("Score: 99", "Score: 16")
        .replace("Body kept despite refusals", "Body of task four");
    d.write(ROW, urgent.as_bytes()).unwrap();
    d.settle();
    let state = d.sync_state(ROW);
    assert!(
        state.starts_with("failed: property \"Priority\": option \"Urgent\" does not exist"),
        "{state}\n{:?}",
        d.log()
    );
    assert!(!state.contains("Bogus"), "{state}");
    assert_eq!(prop(d.emu(), &row, "Priority")["select"]["name"], "Low");
    assert_eq!(prop(d.emu(), &row, "Done")["checkbox"], true);
    assert_eq!(options(d.emu(), "Priority", "select"), priorities);
    assert_eq!(ctl.children_ids(&row), ids);
    assert!(text(d.emu(), &ids[1]).starts_with("Body of task four"));
    // The mount keeps working: the folder lists, other rows read.
    assert!(d.list(TASKS).unwrap().len() > demo::TASK_ROWS as usize);
    assert!(d.read("Engineering Wiki/Tasks/Write spec.md").is_ok());

    // Every property fixed: the failure clears and every record is confirmed.
    let fixed = urgent.replace("Priority: Urgent", "Priority: Medium");
    ctl.reset_stats();
    d.write(ROW, fixed.as_bytes()).unwrap();
    d.settle();
    assert_eq!(d.sync_state(ROW), "clean");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Priority")["select"]["name"], "Medium");
    assert_eq!(prop(emu, &row, "Done")["checkbox"], true);
    assert_eq!(prop(emu, &row, "Estimate")["number"], 21);
    assert_eq!(d.journal_records(), 0);
    assert_eq!(d.text(ROW), fixed);
}

fn malformed_front_matter_is_refused_whole_and_the_body_still_pushed(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let old = d.text(ROW);
    // Malformed YAML: the front matter is refused whole; the body still goes out.
    let malformed = old
        .replace("Estimate: 8", "Estimate: 9")
        .replace("Priority: Low", "Priority: [High")
        .replace("Body of task 4", "Body pushed anyway");
    ctl.reset_stats();
    d.write(ROW, malformed.as_bytes()).unwrap();
    d.settle();
    let state = d.sync_state(ROW);
    assert!(
        state.starts_with("failed: front matter: malformed YAML at line "),
        "{state}"
    );
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(prop(d.emu(), &row, "Estimate")["number"], 8);
    assert!(text(d.emu(), &ids[1]).starts_with("Body pushed anyway"));
    assert_eq!(d.text(ROW), malformed);

    // No closing `---`: the body cannot be told apart, nothing is pushed.
    let open = malformed
        .replacen("---\n## Details", "## Details", 1)
        .replace("Body pushed anyway", "Never pushed");
    ctl.reset_stats();
    d.write(ROW, open.as_bytes()).unwrap();
    d.settle();
    let state = d.sync_state(ROW);
    assert!(state.contains("no closing"), "{state}");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 0, "{:?}", ctl.stats());

    // A good save clears the failure and confirms every record.
    let fixed = malformed.replace("Priority: [High", "Priority: High");
    ctl.reset_stats();
    d.write(ROW, fixed.as_bytes()).unwrap();
    d.settle();
    assert_eq!(d.sync_state(ROW), "clean");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Estimate")["number"], 9);
    assert_eq!(prop(emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(d.journal_records(), 0);
    assert_eq!(ctl.children_ids(&row), ids);
    assert_eq!(d.text(ROW), fixed);
}

// ----- creating, removing, renaming -----------------------------------------------------------

/// `set` plus `names`.
fn with(set: &BTreeSet<String>, names: &[&str]) -> BTreeSet<String> {
    let mut s = set.clone();
    s.extend(names.iter().map(|n| n.to_string()));
    s
}

fn creating_pages_and_rows(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let home0 = d.list("Team Home").unwrap();
    assert!(!d.text("Team Home.md").contains("Fresh Page"));

    // touch: an empty page, one create-page call, listed at once, other names unchanged.
    ctl.reset_stats();
    d.write("Team Home/Fresh Page.md", b"").unwrap();
    assert_eq!(ctl.calls("POST /v1/pages"), 1, "{:?}", ctl.stats());
    let fresh = only_page_titled(d.emu(), "Fresh Page");
    assert_eq!(parent(d.emu(), &fresh)["page_id"], demo::team_home_id());
    assert!(ctl.children_ids(&fresh).is_empty());
    assert_eq!(
        d.list("Team Home").unwrap(),
        with(&home0, &["Fresh Page.md"])
    );
    assert_eq!(d.stat("Team Home/Fresh Page.md").unwrap().size, 0);
    assert_eq!(d.read("Team Home/Fresh Page.md").unwrap(), b"");
    // No folder for it until it has children (or a mkdir).
    assert_eq!(errno(d.stat("Team Home/Fresh Page")), libc::ENOENT);
    // The parent's body is read again on its next open: it now links to the new page.
    let home = d.text("Team Home.md");
    assert!(home.contains("Team Home/Fresh Page.md"), "{home}");

    // echo >: the page with its content, which goes through the save path.
    d.write("Team Home/Echoed.md", b"Hello from echo.\n")
        .unwrap();
    let echoed = only_page_titled(d.emu(), "Echoed");
    assert_eq!(d.text("Team Home/Echoed.md"), "Hello from echo.\n");
    d.settle();
    assert_eq!(texts(d.emu(), &echoed), ["Hello from echo."]);
    assert_eq!(d.sync_state("Team Home/Echoed.md"), "clean");

    // cp file.md Folder/: another folder, a heading and a paragraph.
    d.write(
        "Engineering Wiki/Copied In.md",
        b"# Copied\n\nCopied through the kernel.\n",
    )
    .unwrap();
    let copied = only_page_titled(d.emu(), "Copied In");
    assert_eq!(parent(d.emu(), &copied)["page_id"], demo::wiki_id());
    assert!(d.list("Engineering Wiki").unwrap().contains("Copied In.md"));
    d.settle();
    assert_eq!(
        texts(d.emu(), &copied),
        ["Copied", "Copied through the kernel."]
    );

    // An editor's atomic save of a new file: a temp file (local only), then renamed onto
    // the new name.
    let tmp = "Team Home/.Brand New.md.tmp-1234";
    d.write(tmp, b"# Heading\n\nSaved by an editor.\n").unwrap();
    assert!(ctl.pages_titled(".Brand New.md.tmp-1234").is_empty());
    d.rename(tmp, "Team Home/Brand New.md").unwrap();
    let brand = only_page_titled(d.emu(), "Brand New");
    let names = d.list("Team Home").unwrap();
    assert!(names.contains("Brand New.md"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("tmp")), "{names:?}");
    assert_eq!(
        d.text("Team Home/Brand New.md"),
        "# Heading\n\nSaved by an editor.\n"
    );
    d.settle();
    assert_eq!(texts(d.emu(), &brand), ["Heading", "Saved by an editor."]);

    // Rows: in a data source's folder a row titled by the name (front matter shown); in one
    // data source folder of a database with several, the same.
    let rows0 = ctl.rows(&demo::tasks_ds_id()).len();
    d.write("Engineering Wiki/Tasks/Brand new task.md", b"")
        .unwrap();
    let task = only_page_titled(d.emu(), "Brand new task");
    assert_eq!(
        parent(d.emu(), &task)["data_source_id"],
        demo::tasks_ds_id()
    );
    assert_eq!(ctl.rows(&demo::tasks_ds_id()).len(), rows0 + 1);
    assert!(d.list(TASKS).unwrap().contains("Brand new task.md"));
    let shown = d.text("Engineering Wiki/Tasks/Brand new task.md");
    assert!(
        shown.starts_with("---\n"),
        "a row shows its front matter: {shown}"
    );
    d.write(
        "Engineering Wiki/Tracker/Bugs/Crash on save.md",
        b"Row body.\n",
    )
    .unwrap();
    let bug = only_page_titled(d.emu(), "Crash on save");
    assert_eq!(parent(d.emu(), &bug)["data_source_id"], demo::bugs_ds_id());
    d.settle();
    assert_eq!(texts(d.emu(), &bug), ["Row body."]);

    // Where Notion cannot: the root (internal integrations make no workspace pages) and a
    // database with several data sources (it holds folders, not rows).
    assert_eq!(errno(d.write("Top.md", b"")), libc::EPERM);
    assert_eq!(
        errno(d.write("Engineering Wiki/Tracker/Bug.md", b"")),
        libc::EPERM
    );
    assert!(ctl.pages_titled("Top").is_empty());
    assert!(ctl.pages_titled("Bug").is_empty());
    assert!(!d.list("").unwrap().contains("Top.md"));
}

fn mkdir_and_rmdir(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let home0 = d.list("Team Home").unwrap();
    let planning = "Team Home/Q3\u{2215}Q4 Planning";
    assert!(home0.contains("Q3\u{2215}Q4 Planning.md"));
    assert!(!home0.contains("Q3\u{2215}Q4 Planning"));

    // Beside an existing page: only shows its folder (its blocks, read by the lookup, say
    // it has no children: that read is what `ls` of the folder costs anyway); rmdir hides
    // it again. No API call either way; the page stays.
    assert_eq!(errno(d.stat(planning)), libc::ENOENT);
    let calls = ctl.total_calls();
    d.mkdir(planning).unwrap();
    assert_eq!(ctl.total_calls(), calls, "no API call: {:?}", ctl.stats());
    assert!(d
        .list("Team Home")
        .unwrap()
        .contains("Q3\u{2215}Q4 Planning"));
    assert!(d.list(planning).unwrap().is_empty());
    d.rmdir(planning).unwrap();
    assert_eq!(ctl.total_calls(), calls, "no API call: {:?}", ctl.stats());
    assert_eq!(d.list("Team Home").unwrap(), home0);
    assert_eq!(errno(d.rmdir(planning)), libc::ENOENT);

    // A new name: the page and its folder.
    d.mkdir("Team Home/Projects").unwrap();
    let projects = only_page_titled(d.emu(), "Projects");
    assert_eq!(parent(d.emu(), &projects)["page_id"], demo::team_home_id());
    assert_eq!(
        d.list("Team Home").unwrap(),
        with(&home0, &["Projects", "Projects.md"])
    );
    assert!(d.list("Team Home/Projects").unwrap().is_empty());
    assert!(d.stat("Team Home/Projects").unwrap().dir);

    // A page made inside it (its parent is the new page), then folders deeper (mkdir -p).
    d.write("Team Home/Projects/Plan.md", b"Plan.\n").unwrap();
    d.mkdir("Team Home/Projects/Q1").unwrap();
    d.mkdir("Team Home/Projects/Q1/Week 1").unwrap();
    let plan = only_page_titled(d.emu(), "Plan");
    let q1 = only_page_titled(d.emu(), "Q1");
    let week = only_page_titled(d.emu(), "Week 1");
    assert_eq!(parent(d.emu(), &plan)["page_id"], projects.as_str());
    assert_eq!(parent(d.emu(), &q1)["page_id"], projects.as_str());
    assert_eq!(parent(d.emu(), &week)["page_id"], q1.as_str());
    let want: BTreeSet<String> = ["Plan.md", "Q1", "Q1.md"].map(String::from).into();
    assert_eq!(d.list("Team Home/Projects").unwrap(), want);

    // rmdir: an empty folder is hidden (the page stays); a full one is refused.
    d.rmdir("Team Home/Projects/Q1/Week 1").unwrap();
    let want: BTreeSet<String> = ["Week 1.md".to_string()].into();
    assert_eq!(d.list("Team Home/Projects/Q1").unwrap(), want);
    assert!(ctl.page_json(&week).is_some_and(|p| p["in_trash"] == false));
    for full in [
        "Team Home/Projects",
        "Engineering Wiki/Tasks",
        "Engineering Wiki/Architecture",
    ] {
        assert_eq!(errno(d.rmdir(full)), libc::ENOTEMPTY, "{full}");
    }
    assert!(d.stat("Team Home/Projects").unwrap().dir);
    assert_eq!(errno(d.rmdir("Engineering Wiki/Tasks.md")), libc::ENOENT);
    assert_eq!(
        errno(d.rmdir("Engineering Wiki/Architecture.md")),
        libc::ENOTDIR
    );

    // rmdir of a new page's empty folder keeps the page; showing and hiding it again is
    // local.
    d.mkdir("Team Home/Touchless").unwrap();
    d.rmdir("Team Home/Touchless").unwrap();
    let names = d.list("Team Home").unwrap();
    assert!(names.contains("Touchless.md") && !names.contains("Touchless"));
    let calls = ctl.total_calls();
    d.mkdir("Team Home/Touchless").unwrap();
    d.rmdir("Team Home/Touchless").unwrap();
    assert_eq!(ctl.total_calls(), calls, "showing a folder is local");
    assert_eq!(ctl.pages_titled("Touchless").len(), 1);

    // In a data source folder: a row with its folder.
    d.mkdir("Engineering Wiki/Tasks/Row with folder").unwrap();
    let row = only_page_titled(d.emu(), "Row with folder");
    assert_eq!(parent(d.emu(), &row)["data_source_id"], demo::tasks_ds_id());
    let tasks = d.list(TASKS).unwrap();
    assert!(tasks.contains("Row with folder") && tasks.contains("Row with folder.md"));

    // The root cannot hold new pages; a name that is taken.
    assert_eq!(errno(d.mkdir("Top")), libc::EPERM);
    assert!(ctl.pages_titled("Top").is_empty());
    assert_eq!(
        errno(d.mkdir("Team Home/Meeting Notes (2).md")),
        libc::EEXIST
    );
}

fn rm_moves_a_page_to_the_trash(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    d.stat(DEEP_DIVE).unwrap();
    ctl.reset_stats();
    d.unlink(DEEP_DIVE).unwrap();
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    let page = ctl.page_json(&demo::deep_dive_id());
    assert!(page.is_none_or(|p| p["in_trash"] == true), "not trashed");
    assert_eq!(errno(d.stat(DEEP_DIVE)), libc::ENOENT);
    let names = d.list(STORAGE).unwrap();
    assert!(
        !names.iter().any(|n| n.starts_with("Deep Dive")),
        "{names:?}"
    );
}

fn mv_in_a_folder_renames_the_page_or_row(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    // A page: its title; the same file (inode and content) under the new name.
    let notes = format!("{STORAGE}/Compaction Notes.md");
    let names0 = d.list(STORAGE).unwrap();
    let body = d.read(DEEP_DIVE).unwrap();
    let ino = d.stat(DEEP_DIVE).unwrap().ino;
    ctl.reset_stats();
    d.rename(DEEP_DIVE, &notes).unwrap();
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(text(d.emu(), &demo::deep_dive_id()), "Compaction Notes");
    assert_eq!(d.stat(&notes).unwrap().ino, ino);
    assert_eq!(d.read(&notes).unwrap(), body);
    assert!(!d.exists(DEEP_DIVE));
    let mut want = names0.clone();
    want.remove("Deep Dive: Compaction.md");
    want.insert("Compaction Notes.md".to_string());
    assert_eq!(d.list(STORAGE).unwrap(), want);
    // To the root: Notion's move API takes no workspace parent.
    assert_eq!(errno(d.rename(&notes, "Compaction Notes.md")), libc::EPERM);

    // A row: its title property; the same file, but for what the rename itself changed in
    // Notion (its edit time).
    let body = d.text(ROW);
    d.rename(ROW, "Engineering Wiki/Tasks/Write-back.md")
        .unwrap();
    assert_eq!(text(d.emu(), &demo::task_row_id(4)), "Write-back");
    let without_edit = |b: &str| -> Vec<String> {
        b.lines()
            .filter(|l| !l.starts_with("Last edited"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        without_edit(&d.text("Engineering Wiki/Tasks/Write-back.md")),
        without_edit(&body)
    );
}

fn mv_across_folders_moves_pages_and_rows(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let cafe = demo::unicode_title_id();
    let name = "Café ☕ Ünïcödé 🚀.md";
    let (home, wiki) = ("Team Home", "Engineering Wiki");
    let home0 = d.list(home).unwrap();
    let wiki0 = d.list(wiki).unwrap();
    let body = d.read(&format!("{home}/{name}")).unwrap();
    let ino = d.stat(&format!("{home}/{name}")).unwrap().ino;
    let without = |set: &BTreeSet<String>, n: &str| {
        let mut s = set.clone();
        s.remove(n);
        s
    };

    // Across folders, same name: one move call; the same file; other names unchanged.
    ctl.reset_stats();
    d.rename(&format!("{home}/{name}"), &format!("{wiki}/{name}"))
        .unwrap();
    assert_eq!(
        ctl.calls("POST /v1/pages/{id}/move"),
        1,
        "{:?}",
        ctl.stats()
    );
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 0, "{:?}", ctl.stats());
    assert_eq!(parent(d.emu(), &cafe)["page_id"], demo::wiki_id());
    assert_eq!(d.list(home).unwrap(), without(&home0, name));
    assert_eq!(d.list(wiki).unwrap(), with(&wiki0, &[name]));
    assert_eq!(d.stat(&format!("{wiki}/{name}")).unwrap().ino, ino);
    assert_eq!(d.read(&format!("{wiki}/{name}")).unwrap(), body);

    // Across folders with a new name: moved and titled.
    d.rename(&format!("{wiki}/{name}"), "Team Home/Coffee.md")
        .unwrap();
    assert_eq!(text(d.emu(), &cafe), "Coffee");
    assert_eq!(parent(d.emu(), &cafe)["page_id"], demo::team_home_id());
    assert_eq!(
        d.list(home).unwrap(),
        with(&without(&home0, name), &["Coffee.md"])
    );
    assert_eq!(d.list(wiki).unwrap(), wiki0);

    // Into a data source folder: the page becomes a row (title kept), then renamed as a row
    // (its title property).
    d.rename("Team Home/Coffee.md", "Engineering Wiki/Tasks/Coffee.md")
        .unwrap();
    assert_eq!(
        parent(d.emu(), &cafe)["data_source_id"],
        demo::tasks_ds_id()
    );
    assert_eq!(text(d.emu(), &cafe), "Coffee");
    assert!(d.list(TASKS).unwrap().contains("Coffee.md"));
    let row = d.text("Engineering Wiki/Tasks/Coffee.md");
    assert!(
        row.starts_with("---\n"),
        "a row renders its front matter: {row}"
    );
    d.rename(
        "Engineering Wiki/Tasks/Coffee.md",
        "Engineering Wiki/Tasks/Coffee run.md",
    )
    .unwrap();
    assert_eq!(text(d.emu(), &cafe), "Coffee run");
    let tasks = d.list(TASKS).unwrap();
    assert!(tasks.contains("Coffee run.md") && !tasks.contains("Coffee.md"));
    // Into a data source folder with a new name in one step: a row, titled by the name.
    let planning = demo::slash_title_id();
    d.rename(
        "Team Home/Q3\u{2215}Q4 Planning.md",
        "Engineering Wiki/Tasks/Roadmap task.md",
    )
    .unwrap();
    assert_eq!(
        parent(d.emu(), &planning)["data_source_id"],
        demo::tasks_ds_id()
    );
    assert_eq!(text(d.emu(), &planning), "Roadmap task");
    assert!(!d.list(home).unwrap().contains("Q3\u{2215}Q4 Planning.md"));
    let row = d.text("Engineering Wiki/Tasks/Roadmap task.md");
    assert!(row.starts_with("---\n"), "now a row: {row}");
}

fn mv_of_a_folder_moves_the_page_and_its_subtree(d: &mut dyn Driver) {
    let home = "Team Home";
    let wiki = "Engineering Wiki";
    // A page's folder moves the page, its file and its children together; the old names
    // go (the kernel forgets them once the mount's invalidations reach it).
    let storage = demo::storage_id();
    let arch = "Engineering Wiki/Architecture";
    d.rename(&format!("{arch}/Storage Layer"), "Team Home/Storage Layer")
        .unwrap();
    assert_eq!(parent(d.emu(), &storage)["page_id"], demo::team_home_id());
    let h = d.list(home).unwrap();
    assert!(
        h.contains("Storage Layer") && h.contains("Storage Layer.md"),
        "{h:?}"
    );
    assert!(d.list(arch).unwrap().is_empty());
    assert!(d
        .text("Team Home/Storage Layer/Deep Dive: Compaction.md")
        .contains(demo::MARKER));
    wait_for("the old names gone", || {
        !d.exists(&format!("{arch}/Storage Layer"))
            && !d.exists(&format!("{arch}/Storage Layer.md"))
    });
    // And back by its .md (the folder follows).
    d.rename(
        "Team Home/Storage Layer.md",
        &format!("{arch}/Storage Layer.md"),
    )
    .unwrap();
    assert_eq!(
        parent(d.emu(), &storage)["page_id"],
        demo::architecture_id()
    );
    let want: BTreeSet<String> = ["Storage Layer", "Storage Layer.md"]
        .map(String::from)
        .into();
    assert_eq!(d.list(arch).unwrap(), want);
    wait_for("the old folder gone", || {
        !d.exists("Team Home/Storage Layer")
    });
    // A whole subtree: Architecture's folder to Team Home.
    d.rename(arch, "Team Home/Architecture").unwrap();
    assert_eq!(
        parent(d.emu(), &demo::architecture_id())["page_id"],
        demo::team_home_id()
    );
    let h = d.list(home).unwrap();
    assert!(h.contains("Architecture") && h.contains("Architecture.md"));
    let w = d.list(wiki).unwrap();
    assert!(!w.contains("Architecture") && !w.contains("Architecture.md"));
    assert_eq!(d.list("Team Home/Architecture").unwrap(), want);

    // What Notion cannot do: a clear errno, nothing changed.
    for (from, to) in [
        // To the root.
        ("Team Home/Meeting Notes.md", "Meeting Notes.md"),
        // A database.
        ("Engineering Wiki/Tasks", "Team Home/Tasks"),
        // A page into its own folder.
        (
            "Team Home/Architecture.md",
            "Team Home/Architecture/Architecture.md",
        ),
        // An attachment.
        (
            "Engineering Wiki/Block Showcase/logo.png",
            "Team Home/logo.png",
        ),
        // Into a database with several data sources.
        (
            "Team Home/Architecture.md",
            "Engineering Wiki/Tracker/Architecture.md",
        ),
    ] {
        assert_eq!(errno(d.rename(from, to)), libc::EPERM, "mv {from} {to}");
    }
    // Over an existing entry.
    assert_eq!(
        errno(d.rename("Team Home/Architecture.md", "Team Home/Meeting Notes.md")),
        libc::EEXIST
    );
    assert_eq!(
        parent(d.emu(), &demo::architecture_id())["page_id"],
        demo::team_home_id()
    );
    assert!(d.list(home).unwrap().contains("Meeting Notes.md"));
    assert!(!d.list("").unwrap().contains("Meeting Notes.md"));
}

// ----- freshness: the change feed and versioned bases -------------------------------------

/// The two paragraphs of Deep Dive: Compaction, in Notion.
fn deep_dive_texts(d: &dyn Driver) -> Vec<String> {
    texts(d.emu(), &demo::deep_dive_id())
}

fn a_stale_buffer_saved_after_a_reload_keeps_the_remote_edit(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    // An editor reads the page into its buffer.
    let buffer = d.text(DEEP_DIVE);
    assert!(
        buffer.contains("Compaction merges journal segments."),
        "{buffer}"
    );
    // Someone edits the first paragraph in Notion; another reader opens the page once the
    // feed has seen the edit (the mount reads the page again).
    let first = ctl.children_ids(&demo::deep_dive_id())[0].clone();
    ctl.set_block_text(&first, "Compaction merges segments (edited in Notion).")
        .unwrap();
    wait_within(
        Duration::from_secs(10),
        "the remote edit read again",
        || d.text(DEEP_DIVE).contains("edited in Notion"),
    );
    // The editor saves its old buffer with the second paragraph changed.
    let saved = buffer.replace(demo::MARKER, "changed-in-the-old-buffer");
    d.write(DEEP_DIVE, saved.as_bytes()).unwrap();
    d.settle();
    // Both edits are in Notion: the save was diffed against what the buffer was read from.
    let now = deep_dive_texts(d);
    assert_eq!(
        now[0], "Compaction merges segments (edited in Notion).",
        "{now:?}"
    );
    assert!(now[1].contains("changed-in-the-old-buffer"), "{now:?}");
    assert_eq!(d.sync_state(DEEP_DIVE), "clean");
    assert!(conflict_copies(d).is_empty());
}

fn a_stale_row_buffer_saved_after_a_reload_keeps_the_remote_edit(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let row = demo::task_row_id(4);
    let buffer = d.text(ROW);
    assert!(buffer.contains("\nEstimate: 8\n"), "{buffer}");
    // A property and the body changed in Notion, read again by another reader.
    ctl.set_property(&row, "Notes", rich("Notes edited in Notion."))
        .unwrap();
    let body = ctl.children_ids(&row)[1].clone();
    ctl.set_block_text(&body, "Body edited in Notion.").unwrap();
    wait_within(
        Duration::from_secs(10),
        "the remote edits read again",
        || {
            let t = d.text(ROW);
            t.contains("Notes edited in Notion.") && t.contains("Body edited in Notion.")
        },
    );
    // The old buffer is saved with another property changed.
    let saved = buffer.replace("Estimate: 8", "Estimate: 34");
    d.write(ROW, saved.as_bytes()).unwrap();
    d.settle();
    let emu = d.emu();
    assert_eq!(prop(emu, &row, "Estimate")["number"], 34);
    assert_eq!(plain(&prop(emu, &row, "Notes")), "Notes edited in Notion.");
    assert_eq!(text(emu, &body), "Body edited in Notion.");
    assert_eq!(d.sync_state(ROW), "clean");
}

fn remote_new_pages_moves_and_trash_show_up(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    assert!(d.list("Team Home").unwrap().contains("Meeting Notes.md"));
    // A new page.
    let fresh = ctl
        .create_page(&demo::team_home_id(), "Made in Notion")
        .unwrap();
    wait_within(Duration::from_secs(10), "the new page", || {
        d.list("Team Home").unwrap().contains("Made in Notion.md")
    });
    assert!(d.text("Team Home.md").contains("Made in Notion"));
    // Moved under the Storage Layer page: gone here, there.
    ctl.move_page(&fresh, &demo::storage_id()).unwrap();
    wait_within(Duration::from_secs(10), "the moved page", || {
        !d.list("Team Home").unwrap().contains("Made in Notion.md")
            && d.list(STORAGE).unwrap().contains("Made in Notion.md")
    });
    // Trashed: search does not report it; its parent, edited, is a folder in use, whose
    // blocks the feed checks.
    ctl.trash_page(&fresh).unwrap();
    wait_within(Duration::from_secs(10), "the trashed page gone", || {
        !d.list(STORAGE).unwrap().contains("Made in Notion.md")
    });
    assert_eq!(
        errno(d.read(&format!("{STORAGE}/Made in Notion.md"))),
        libc::ENOENT
    );
}

fn a_slow_api_does_not_hold_up_reads_of_what_is_cached(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let before = d.text(DEEP_DIVE);
    let healthy = ctl.faults();
    ctl.set_faults(Faults {
        latency_ms: 2000,
        ..healthy
    });
    // Well past the poll interval: the feed is waiting on the slow API meanwhile.
    std::thread::sleep(Duration::from_millis(900));
    let reads = |k: &str| ctl.calls(k);
    let (children, pages) = (
        reads("GET /v1/blocks/{id}/children"),
        reads("GET /v1/pages/{id}"),
    );
    let t = std::time::Instant::now();
    assert_eq!(d.text(DEEP_DIVE), before);
    assert!(d
        .list(STORAGE)
        .unwrap()
        .contains("Deep Dive: Compaction.md"));
    let took = t.elapsed();
    // No read of the page, so no 2-second answer waited for.
    assert_eq!(reads("GET /v1/blocks/{id}/children"), children);
    assert_eq!(reads("GET /v1/pages/{id}"), pages);
    assert!(took < Duration::from_millis(1500), "{took:?}");
    ctl.set_faults(healthy);
}

fn a_row_trashed_in_notion_leaves_its_folder_by_the_reconcile(d: &mut dyn Driver) {
    let ctl = d.emu().control();
    let name = ROW.rsplit('/').next().unwrap();
    assert!(d.list(TASKS).unwrap().iter().any(|n| n == name));
    ctl.trash_page(&demo::task_row_id(4)).unwrap();
    // No poll runs here (a minute apart): the slow reconcile of the folder finds it.
    wait_within(Duration::from_secs(10), "the trashed row gone", || {
        !d.list(TASKS).unwrap().iter().any(|n| n == name)
    });
}
