//! Namespace operations through the kernel, with real tools: `touch`,
//! `echo >`, `cp` and an editor's temp-then-`mv` create pages and rows; `mkdir`/`rmdir`;
//! `mv` within a folder (title) and across folders (move page, to a page folder and to a
//! data source folder). Each checks the emulator's state and the listing afterwards.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::{fuse_usable, Mount};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};

impl Mount {
    /// Mounts with the write path on, a short quiet period, the cache in `cache`.
    fn start(emu: &Emulator, mpd: &Path, cache: &Path) -> Mount {
        Mount::start_on(emu, mpd, cache, &["--write-delay", "200"])
    }

    /// The names `ls -a` shows in `rel` (without `.` and `..`).
    fn ls(&self, rel: &str) -> BTreeSet<String> {
        std::fs::read_dir(self.p(rel))
            .unwrap_or_else(|e| panic!("ls {rel}: {e}"))
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect()
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(15), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn only_page_titled(emu: &Emulator, title: &str) -> String {
    let ids = emu.control().pages_titled(title);
    assert_eq!(ids.len(), 1, "pages titled {title}: {ids:?}");
    ids[0].clone()
}

fn parent(emu: &Emulator, id: &str) -> serde_json::Value {
    emu.control().page_json(id).expect("page")["parent"].clone()
}

/// The plain texts of a page's top-level blocks.
fn texts(emu: &Emulator, id: &str) -> Vec<String> {
    emu.control()
        .children_ids(id)
        .iter()
        .filter_map(|b| emu.control().plain_text(b))
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn touch_echo_cp_and_editor_temp_files_create_pages_and_rows() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path());
    let home0 = m.ls("Team Home");

    // touch: an empty page under Team Home, listed at once.
    m.shell("touch 'Team Home/Touched.md'");
    let touched = only_page_titled(&emu, "Touched");
    assert_eq!(parent(&emu, &touched)["page_id"], demo::team_home_id());
    assert!(emu.control().children_ids(&touched).is_empty());
    let mut want = home0.clone();
    want.insert("Touched.md".into());
    assert_eq!(m.ls("Team Home"), want);
    assert_eq!(std::fs::read(m.p("Team Home/Touched.md")).unwrap(), b"");

    // echo >: the page with its content (pushed after the quiet period).
    m.shell("echo 'Hello from echo.' > 'Team Home/Echoed.md'");
    let echoed = only_page_titled(&emu, "Echoed");
    assert_eq!(
        std::fs::read_to_string(m.p("Team Home/Echoed.md")).unwrap(),
        "Hello from echo.\n"
    );
    wait_for("echo's content in Notion", || {
        texts(&emu, &echoed) == ["Hello from echo."]
    });

    // cp file.md Folder/: create + write + close.
    let src = cache.path().join("Copied In.md");
    std::fs::write(&src, "# Copied\n\nCopied through the kernel.\n").unwrap();
    m.shell(&format!("cp '{}' 'Engineering Wiki/'", src.display()));
    let copied = only_page_titled(&emu, "Copied In");
    assert_eq!(parent(&emu, &copied)["page_id"], demo::wiki_id());
    assert!(m.ls("Engineering Wiki").contains("Copied In.md"));
    wait_for("cp's content in Notion", || {
        texts(&emu, &copied) == ["Copied", "Copied through the kernel."]
    });

    // An editor's atomic save of a new file: temp file (local only), then rename onto the
    // new name.
    m.shell(
        "cd 'Team Home' && printf 'Written by an editor.\\n' > '.Fresh.md.tmp-4242' \
         && mv '.Fresh.md.tmp-4242' 'Fresh.md'",
    );
    assert!(emu.control().pages_titled(".Fresh.md.tmp-4242").is_empty());
    let fresh = only_page_titled(&emu, "Fresh");
    let names = m.ls("Team Home");
    assert!(names.contains("Fresh.md"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("tmp")), "{names:?}");
    assert_eq!(
        std::fs::read_to_string(m.p("Team Home/Fresh.md")).unwrap(),
        "Written by an editor.\n"
    );
    wait_for("the editor's save in Notion", || {
        texts(&emu, &fresh) == ["Written by an editor."]
    });

    // Rows: in a database's folder (one data source) a row titled by the name; a body
    // written at once goes through the normal save.
    let rows0 = emu.control().rows(&demo::tasks_ds_id()).len();
    m.shell("touch 'Engineering Wiki/Tasks/Touched task.md'");
    let row = only_page_titled(&emu, "Touched task");
    assert_eq!(parent(&emu, &row)["data_source_id"], demo::tasks_ds_id());
    assert_eq!(emu.control().rows(&demo::tasks_ds_id()).len(), rows0 + 1);
    assert!(m.ls("Engineering Wiki/Tasks").contains("Touched task.md"));
    let text = std::fs::read_to_string(m.p("Engineering Wiki/Tasks/Touched task.md")).unwrap();
    assert!(
        text.starts_with("---\n"),
        "a row shows its front matter: {text}"
    );
    m.shell("echo 'Row body.' > 'Engineering Wiki/Tracker/Bugs/Echoed bug.md'");
    let bug = only_page_titled(&emu, "Echoed bug");
    assert_eq!(parent(&emu, &bug)["data_source_id"], demo::bugs_ds_id());
    wait_for("the row's body in Notion", || {
        texts(&emu, &bug) == ["Row body."]
    });

    // The root: Notion gives internal integrations no workspace-level pages.
    m.shell_fails("touch Top.md", "Operation not permitted");
    m.shell_fails(
        "touch 'Engineering Wiki/Tracker/Bug.md'",
        "Operation not permitted",
    );
    assert!(emu.control().pages_titled("Top").is_empty());
    assert!(!m.ls("").contains("Top.md"));
}

#[test]
fn mkdir_and_rmdir() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path());
    let home0 = m.ls("Team Home");

    // mkdir a new name: the page and its folder.
    m.shell("mkdir 'Team Home/Projects'");
    let projects = only_page_titled(&emu, "Projects");
    assert_eq!(parent(&emu, &projects)["page_id"], demo::team_home_id());
    let mut want = home0.clone();
    want.extend(["Projects".to_string(), "Projects.md".to_string()]);
    assert_eq!(m.ls("Team Home"), want);
    assert!(m.ls("Team Home/Projects").is_empty());
    assert!(m.p("Team Home/Projects").is_dir());

    // A page made inside it, then mkdir -p deeper.
    m.shell(
        "echo 'Plan.' > 'Team Home/Projects/Plan.md' && mkdir -p 'Team Home/Projects/Q1/Week 1'",
    );
    let plan = only_page_titled(&emu, "Plan");
    assert_eq!(parent(&emu, &plan)["page_id"], projects.as_str());
    let q1 = only_page_titled(&emu, "Q1");
    let week = only_page_titled(&emu, "Week 1");
    assert_eq!(parent(&emu, &q1)["page_id"], projects.as_str());
    assert_eq!(parent(&emu, &week)["page_id"], q1.as_str());
    assert_eq!(m.ls("Team Home/Projects"), set(&["Plan.md", "Q1", "Q1.md"]));

    // rmdir: an empty folder is hidden (the page stays); a full one is refused.
    m.shell("rmdir 'Team Home/Projects/Q1/Week 1'");
    assert_eq!(m.ls("Team Home/Projects/Q1"), set(&["Week 1.md"]));
    assert!(emu
        .control()
        .page_json(&week)
        .is_some_and(|p| p["in_trash"] == false));
    m.shell_fails("rmdir 'Team Home/Projects'", "Directory not empty");
    m.shell_fails("rmdir 'Engineering Wiki/Tasks'", "Directory not empty");
    assert!(m.p("Team Home/Projects").is_dir());

    // rmdir of a new page's empty folder keeps the page; mkdir beside an existing page
    // only shows its folder again, rmdir hides it: no API call.
    m.shell("mkdir 'Team Home/Touchless'");
    m.shell("rmdir 'Team Home/Touchless'");
    assert!(m.ls("Team Home").contains("Touchless.md"));
    assert!(!m.ls("Team Home").contains("Touchless"));
    let calls = emu.control().total_calls();
    m.shell("mkdir 'Team Home/Touchless' && rmdir 'Team Home/Touchless'");
    assert_eq!(
        emu.control().total_calls(),
        calls,
        "showing a folder is local"
    );
    assert_eq!(emu.control().pages_titled("Touchless").len(), 1);

    // In a data source folder: a row with a folder.
    m.shell("mkdir 'Engineering Wiki/Tasks/Row with notes'");
    let row = only_page_titled(&emu, "Row with notes");
    assert_eq!(parent(&emu, &row)["data_source_id"], demo::tasks_ds_id());
    let tasks = m.ls("Engineering Wiki/Tasks");
    assert!(tasks.contains("Row with notes") && tasks.contains("Row with notes.md"));

    // The root cannot hold new pages.
    m.shell_fails("mkdir Top", "Operation not permitted");
    assert!(emu.control().pages_titled("Top").is_empty());
}

#[test]
fn mv_renames_and_moves_pages_across_folders() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path());
    let planning = demo::slash_title_id();
    let name = "Q3\u{2215}Q4 Planning.md";
    let body = std::fs::read(m.p(&format!("Team Home/{name}"))).unwrap();
    let home0 = m.ls("Team Home");
    let arch0 = m.ls("Engineering Wiki/Architecture");

    // Same folder: the title.
    m.shell(&format!("mv 'Team Home/{name}' 'Team Home/Roadmap.md'"));
    assert_eq!(emu.control().plain_text(&planning).unwrap(), "Roadmap");
    let mut want = home0.clone();
    want.remove(name);
    want.insert("Roadmap.md".into());
    assert_eq!(m.ls("Team Home"), want);

    // To another page's folder: move page, same name.
    m.shell("mv 'Team Home/Roadmap.md' 'Engineering Wiki/Architecture/'");
    assert_eq!(parent(&emu, &planning)["page_id"], demo::architecture_id());
    want.remove("Roadmap.md");
    assert_eq!(m.ls("Team Home"), want);
    let mut arch = arch0.clone();
    arch.insert("Roadmap.md".into());
    assert_eq!(m.ls("Engineering Wiki/Architecture"), arch);
    assert_eq!(
        std::fs::read(m.p("Engineering Wiki/Architecture/Roadmap.md")).unwrap(),
        body
    );

    // To a data source folder with a new name: a row, renamed by its title property.
    m.shell(
        "mv 'Engineering Wiki/Architecture/Roadmap.md' 'Engineering Wiki/Tasks/Roadmap task.md'",
    );
    assert_eq!(
        parent(&emu, &planning)["data_source_id"],
        demo::tasks_ds_id()
    );
    assert_eq!(emu.control().plain_text(&planning).unwrap(), "Roadmap task");
    assert_eq!(m.ls("Engineering Wiki/Architecture"), arch0);
    assert!(m.ls("Engineering Wiki/Tasks").contains("Roadmap task.md"));
    let row = std::fs::read_to_string(m.p("Engineering Wiki/Tasks/Roadmap task.md")).unwrap();
    assert!(row.starts_with("---\n"), "now a row: {row}");

    // A page's folder moves the page, its file and its children together.
    m.shell("mv 'Engineering Wiki/Architecture/Storage Layer' 'Team Home/'");
    let storage = demo::storage_id();
    assert_eq!(parent(&emu, &storage)["page_id"], demo::team_home_id());
    let h = m.ls("Team Home");
    assert!(
        h.contains("Storage Layer") && h.contains("Storage Layer.md"),
        "{h:?}"
    );
    let a = m.ls("Engineering Wiki/Architecture");
    assert!(a.is_empty(), "{a:?}");
    let deep =
        std::fs::read_to_string(m.p("Team Home/Storage Layer/Deep Dive: Compaction.md")).unwrap();
    assert!(deep.contains(demo::MARKER));
    // The kernel forgets the old names once the mount's invalidations (sent off the
    // request thread) reach it, within its entry TTL at the latest.
    wait_for("the old names gone", || {
        !m.p("Engineering Wiki/Architecture/Storage Layer").exists()
            && !m
                .p("Engineering Wiki/Architecture/Storage Layer.md")
                .exists()
    });

    // And back by its .md (the folder follows).
    m.shell("mv 'Team Home/Storage Layer.md' 'Engineering Wiki/Architecture/'");
    assert_eq!(parent(&emu, &storage)["page_id"], demo::architecture_id());
    assert_eq!(
        m.ls("Engineering Wiki/Architecture"),
        set(&["Storage Layer", "Storage Layer.md"])
    );
    wait_for("the old folder gone", || {
        !m.p("Team Home/Storage Layer").exists()
    });

    // What Notion cannot do: a clear errno, nothing changed.
    m.shell_fails(
        "mv 'Team Home/Meeting Notes.md' ./",
        "Operation not permitted",
    );
    m.shell_fails(
        "mv 'Engineering Wiki/Tasks' 'Team Home/'",
        "Operation not permitted",
    );
    m.shell_fails(
        "mv 'Engineering Wiki/Architecture.md' 'Engineering Wiki/Architecture/'",
        "Operation not permitted",
    );
    m.shell_fails(
        "mv 'Team Home/Meeting Notes.md' 'Engineering Wiki/Tracker/'",
        "Operation not permitted",
    );
    assert_eq!(
        parent(&emu, &demo::architecture_id())["page_id"],
        demo::wiki_id()
    );
    assert!(m.ls("Team Home").contains("Meeting Notes.md"));
    assert!(!m.ls("").contains("Meeting Notes.md"));
}
