//! Namespace changes while Notion cannot be reached, through the kernel (notionfs(1),
//! WRITES, "Offline"): `mkdir`, new files, `mv` and `rm` succeed locally with every request
//! failing, survive `kill -9` and a remount, and reach Notion in order once it answers
//! again — with no page created twice, also when Notion did create one but its answer was
//! lost. A parent trashed meanwhile is reported, and the content is kept.

mod common;

use common::emu::{demo_emulator, last_text, parent};
use common::mount::{fuse_usable, notionfs, Mount};
use notionfs::emulator::{demo, Emulator, Faults};

const WIKI: &str = "Engineering Wiki";

/// Every request fails with a 5xx from now on (until [`heal`]).
fn break_api(emu: &Emulator) -> Faults {
    let healthy = emu.control().faults();
    emu.control().set_faults(Faults {
        fault_rate: 1.0,
        ..healthy
    });
    healthy
}

fn heal(emu: &Emulator, healthy: Faults) {
    emu.control().set_faults(healthy);
    emu.control().set_lost_response_rate(0.0);
}

/// The ids of the pages titled `title` that are not in the trash.
fn live_pages(emu: &Emulator, title: &str) -> Vec<String> {
    emu.control()
        .pages_titled(title)
        .into_iter()
        .filter(|id| {
            emu.control()
                .page_json(id)
                .is_some_and(|p| p["in_trash"] != true)
        })
        .collect()
}

fn sync_wait(m: &Mount) -> std::process::Output {
    notionfs(&["sync", m.mp.to_str().unwrap(), "--wait"])
}

/// `notionfs sync --wait`, which must say Notion has everything.
fn synced(m: &Mount) {
    let o = sync_wait(m);
    assert!(
        o.status.success(),
        "{}\n{}",
        common::mount::describe(&o),
        m.stderr()
    );
}

#[test]
fn namespace_changes_made_offline_survive_kill_9_and_reach_notion_in_order() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let wiki = m.ls(WIKI);
    assert!(wiki.contains("Architecture.md"), "{wiki:?}");
    assert!(wiki.contains("Block Showcase.md"), "{wiki:?}");
    // Folders listed once are known; the rest would need Notion.
    m.ls("Team Home");
    m.ls(&format!("{WIKI}/Tasks"));
    let healthy = break_api(&emu);
    let before = emu.control().total_calls();

    // A folder (a new page), a page with content inside it, a rename, a move into the new
    // folder and a trash, all while every request fails.
    m.shell(&format!("mkdir '{WIKI}/Offline Plans'"));
    m.shell(&format!(
        "printf 'Written offline.\\n' > '{WIKI}/Offline Plans/Packing List.md'"
    ));
    m.shell(&format!(
        "mv '{WIKI}/Architecture.md' '{WIKI}/System Design.md'"
    ));
    m.shell(&format!(
        "mv '{WIKI}/Block Showcase.md' '{WIKI}/Offline Plans/Block Showcase.md'"
    ));
    m.shell("rm 'Team Home/Meeting Notes (2).md'");
    m.shell(&format!("printf '' > '{WIKI}/Tasks/Offline Task.md'"));
    assert!(!m.ls("Team Home").contains("Meeting Notes (2).md"));
    assert!(m.ls(&format!("{WIKI}/Tasks")).contains("Offline Task.md"));
    let wiki = m.ls(WIKI);
    assert!(wiki.contains("Offline Plans"), "{wiki:?}");
    assert!(wiki.contains("System Design.md"), "{wiki:?}");
    assert!(!wiki.contains("Architecture.md"), "{wiki:?}");
    assert!(!wiki.contains("Block Showcase.md"), "{wiki:?}");
    let plans = m.ls(&format!("{WIKI}/Offline Plans"));
    assert!(plans.contains("Packing List.md"), "{plans:?}");
    assert!(plans.contains("Block Showcase.md"), "{plans:?}");
    assert_eq!(
        std::fs::read_to_string(m.p(&format!("{WIKI}/Offline Plans/Packing List.md"))).unwrap(),
        "Written offline.\n"
    );
    // Nothing reached Notion, and the status says what waits.
    assert!(live_pages(&emu, "Offline Plans").is_empty());
    assert!(emu.control().total_calls() > before, "the mount did try");
    let st = m.status();
    let pending = st["pending"].to_string() + &st["failed"].to_string();
    assert!(pending.contains("create"), "{st:#}");

    // kill -9 and a remount while Notion still fails: the same tree, the same content.
    m.stop(libc::SIGKILL);
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let (ok, err) = m.try_shell(&format!("ls '{WIKI}'"));
    assert!(ok, "{err}\n{}", m.stderr());
    let wiki = m.ls(WIKI);
    assert!(wiki.contains("Offline Plans"), "{wiki:?}");
    assert!(wiki.contains("System Design.md"), "{wiki:?}");
    assert!(!wiki.contains("Block Showcase.md"), "{wiki:?}");
    let plans = m.ls(&format!("{WIKI}/Offline Plans"));
    assert!(plans.contains("Packing List.md"), "{plans:?}");
    assert!(plans.contains("Block Showcase.md"), "{plans:?}");
    assert_eq!(
        std::fs::read_to_string(m.p(&format!("{WIKI}/Offline Plans/Packing List.md"))).unwrap(),
        "Written offline.\n"
    );
    assert!(!m.ls("Team Home").contains("Meeting Notes (2).md"));
    assert!(m.ls(&format!("{WIKI}/Tasks")).contains("Offline Task.md"));

    // Notion answers again: everything lands, in order, once.
    heal(&emu, healthy);
    synced(&m);
    let plans_ids = live_pages(&emu, "Offline Plans");
    assert_eq!(plans_ids.len(), 1, "created once: {plans_ids:?}");
    let plans_id = plans_ids[0].clone();
    assert_eq!(parent(&emu, &plans_id)["page_id"], demo::wiki_id());
    let packing = live_pages(&emu, "Packing List");
    assert_eq!(packing.len(), 1, "created once: {packing:?}");
    assert_eq!(parent(&emu, &packing[0])["page_id"], plans_id);
    assert_eq!(last_text(&emu, &packing[0]), "Written offline.");
    assert_eq!(
        emu.control()
            .plain_text(&demo::architecture_id())
            .as_deref(),
        Some("System Design")
    );
    assert_eq!(parent(&emu, &demo::showcase_id())["page_id"], plans_id);
    let trashed = emu
        .control()
        .page_json(&demo::meeting_notes_2_id())
        .unwrap();
    assert_eq!(trashed["in_trash"], true);
    let task = live_pages(&emu, "Offline Task");
    assert_eq!(task.len(), 1, "created once: {task:?}");
    assert_eq!(
        parent(&emu, &task[0])["data_source_id"],
        demo::tasks_ds_id()
    );
    // The mount shows Notion's ids now, under the same names, nothing doubled.
    let plans = m.ls(&format!("{WIKI}/Offline Plans"));
    assert!(plans.contains("Packing List.md"), "{plans:?}");
    assert!(!plans.iter().any(|n| n.contains("(2)")), "{plans:?}");
    m.wait("the new page's id shown", || {
        m.xattr(&format!("{WIKI}/Offline Plans.md"), "user.notion.id") == plans_id
    });
    assert_eq!(
        m.sync_xattr(&format!("{WIKI}/Offline Plans/Packing List.md")),
        "clean"
    );
}

#[test]
fn a_create_whose_answer_was_lost_is_adopted_not_made_twice() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--write-delay", "100"]);
    m.ls(WIKI);
    let healthy = emu.control().faults();
    // Notion carries out every request but the answers never arrive.
    emu.control().set_lost_response_rate(1.0);
    m.shell(&format!("mkdir '{WIKI}/Lost Answer'"));
    assert_eq!(live_pages(&emu, "Lost Answer").len(), 1, "Notion made it");
    heal(&emu, healthy);
    synced(&m);
    let ids = live_pages(&emu, "Lost Answer");
    assert_eq!(ids.len(), 1, "adopted, not created again: {ids:?}");
    m.wait("the adopted id shown", || {
        m.xattr(&format!("{WIKI}/Lost Answer.md"), "user.notion.id") == ids[0]
    });
}

#[test]
fn a_parent_trashed_meanwhile_is_reported_and_the_content_kept() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--write-delay", "100"]);
    m.ls(&format!("{WIKI}/Architecture"));
    let healthy = break_api(&emu);
    m.shell(&format!(
        "printf 'Orphaned words.\\n' > '{WIKI}/Architecture/Orphan.md'"
    ));
    emu.control().trash_page(&demo::architecture_id()).unwrap();
    heal(&emu, healthy);
    let o = sync_wait(&m);
    assert!(
        !o.status.success(),
        "sync --wait must fail: {}",
        common::mount::describe(&o)
    );
    let st = m.status();
    let failed = st["failed"].to_string();
    assert!(failed.contains("create"), "{st:#}");
    assert!(live_pages(&emu, "Orphan").is_empty());
    // The content is kept for a human in the journal's quarantine.
    let q = m._dirs[1].path().join("journal").join("quarantine");
    let kept = std::fs::read_dir(&q)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap_or_default())
        .any(|b| String::from_utf8_lossy(&b).contains("Orphaned words."));
    assert!(kept, "the content is in {}", q.display());
}

#[test]
fn a_file_kept_open_across_its_create_saves_to_the_page_notion_made() {
    if !fuse_usable() {
        return;
    }
    use std::io::Write;
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--write-delay", "100"]);
    m.ls(WIKI);
    let healthy = break_api(&emu);
    let path = m.p(&format!("{WIKI}/Open Across.md"));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(b"First line.\n").unwrap();
    f.sync_all().unwrap();
    heal(&emu, healthy);
    synced(&m);
    let ids = live_pages(&emu, "Open Across");
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(last_text(&emu, &ids[0]), "First line.");
    // The descriptor opened under the local id still writes to the page.
    f.write_all(b"\nSecond line.\n").unwrap();
    drop(f);
    synced(&m);
    assert_eq!(last_text(&emu, &ids[0]), "Second line.");
    assert_eq!(m.sync_xattr(&format!("{WIKI}/Open Across.md")), "clean");
}
