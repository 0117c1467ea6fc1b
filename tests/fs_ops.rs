//! Namespace operations of the filesystem core without FUSE, against the emulator over real
//! HTTP: creating pages and rows, `mkdir`/`rmdir`, renames and moves across folders — each
//! checked in the emulator's state, in the listings (new entry at once, old one gone, other
//! names unchanged) and in the API calls made.

use std::sync::Arc;
use std::time::{Duration, Instant};

use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};
use notionfs::fs::{FsCore, Settings, ROOT_INO};
use notionfs::notion::model::Parent;
use notionfs::notion::{Client, ClientConfig, Token};

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    cfg.base_backoff = Duration::from_millis(5);
    cfg.max_backoff = Duration::from_millis(20);
    cfg.timeout = Duration::from_secs(5);
    Client::new(cfg).expect("client")
}

fn core(emu: &Emulator, cache: &std::path::Path) -> Arc<FsCore> {
    let core = FsCore::new(
        client(emu),
        Settings {
            ttl: Duration::from_secs(60),
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
    core.enable_writes(&cache.join("journal"), Duration::from_millis(50))
        .expect("writes");
    Arc::new(core)
}

async fn ino(core: &FsCore, path: &str) -> u64 {
    let mut ino = ROOT_INO;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        ino = core
            .lookup(ino, part)
            .await
            .unwrap_or_else(|e| panic!("lookup {part} of {path}: {e}"))
            .ino;
    }
    ino
}

async fn names(core: &FsCore, path: &str) -> Vec<String> {
    let d = ino(core, path).await;
    let mut n: Vec<String> = core
        .readdir(d)
        .await
        .expect("readdir")
        .into_iter()
        .map(|e| e.name)
        .collect();
    n.sort();
    n
}

async fn cat(core: &FsCore, ino: u64) -> String {
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
    String::from_utf8(out).expect("utf-8")
}

async fn wait_clean(core: &FsCore, ino: u64) {
    let t = Instant::now();
    loop {
        let s = String::from_utf8(core.getxattr(ino, "user.notionfs.sync").unwrap()).unwrap();
        if s == "clean" {
            return;
        }
        assert!(!s.starts_with("failed"), "push failed: {s}");
        assert!(t.elapsed() < Duration::from_secs(10), "still {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn only_page_titled(emu: &Emulator, title: &str) -> String {
    let ids = emu.control().pages_titled(title);
    assert_eq!(ids.len(), 1, "pages titled {title}: {ids:?}");
    ids[0].clone()
}

fn parent_of(emu: &Emulator, id: &str) -> serde_json::Value {
    emu.control().page_json(id).expect("page")["parent"].clone()
}

fn errno<T: std::fmt::Debug>(r: notionfs::fs::FsResult<T>) -> i32 {
    r.expect_err("must fail").errno()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_makes_a_page_whose_content_goes_through_the_save_path() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path());
    let before = names(&core, "Team Home").await;
    let dir = ino(&core, "Team Home").await;
    let home_md = ino(&core, "Team Home.md").await;
    assert!(!cat(&core, home_md).await.contains("Fresh Page"));

    let calls = core.client().stats();
    let (attr, o) = core.create(dir, "Fresh Page.md").await.expect("create");
    assert_eq!(attr.size, 0);
    let made = core.client().stats().since(&calls);
    assert_eq!(made.count("POST /v1/pages"), 1, "{made:?}");
    let id = only_page_titled(&emu, "Fresh Page");
    assert_eq!(parent_of(&emu, &id)["page_id"], demo::team_home_id());
    // Listed at once; every other name unchanged.
    let mut want = before.clone();
    want.push("Fresh Page.md".into());
    want.sort();
    assert_eq!(names(&core, "Team Home").await, want);
    assert_eq!(
        core.lookup(dir, "Fresh Page.md").await.unwrap().ino,
        attr.ino
    );

    // Writes and close: journaled, then pushed as the page's content.
    core.write(o.fh, 0, b"First line of a new page.\n").unwrap();
    core.close(o.fh).await.expect("close");
    assert_eq!(cat(&core, attr.ino).await, "First line of a new page.\n");
    wait_clean(&core, attr.ino).await;
    let kids = emu.control().children_ids(&id);
    assert_eq!(kids.len(), 1);
    assert_eq!(
        emu.control().plain_text(&kids[0]).unwrap(),
        "First line of a new page."
    );
    // No folder for it until it has children (or a mkdir).
    assert!(core.lookup(dir, "Fresh Page").await.is_err());
    // The parent's body is read again on its next open: it now links to the new page.
    let home = cat(&core, home_md).await;
    assert!(home.contains("Team Home/Fresh Page.md"), "{home}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_where_notion_cannot_is_refused_and_rows_are_created_in_data_sources() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path());

    // The root: internal integrations cannot create workspace-level pages.
    assert_eq!(errno(core.create(ROOT_INO, "Top.md").await), libc::EPERM);
    assert_eq!(errno(core.mkdir(ROOT_INO, "Top").await), libc::EPERM);
    // A database with several data sources holds folders, not rows.
    let tracker = ino(&core, "Engineering Wiki/Tracker").await;
    assert_eq!(errno(core.create(tracker, "Bug.md").await), libc::EPERM);
    assert!(emu.control().pages_titled("Top").is_empty());
    assert!(emu.control().pages_titled("Bug").is_empty());
    // A name that is taken.
    let home = ino(&core, "Team Home").await;
    assert_eq!(
        errno(core.mkdir(home, "Meeting Notes (2).md").await),
        libc::EEXIST
    );

    // A data source folder (a database with one source): a row titled by the name.
    let tasks = ino(&core, "Engineering Wiki/Tasks").await;
    let rows_before = emu.control().rows(&demo::tasks_ds_id());
    let (attr, o) = core.create(tasks, "Brand new task.md").await.expect("row");
    core.close(o.fh).await.unwrap();
    let id = only_page_titled(&emu, "Brand new task");
    assert_eq!(parent_of(&emu, &id)["data_source_id"], demo::tasks_ds_id());
    assert_eq!(
        emu.control().rows(&demo::tasks_ds_id()).len(),
        rows_before.len() + 1
    );
    assert!(names(&core, "Engineering Wiki/Tasks")
        .await
        .contains(&"Brand new task.md".to_string()));
    // Nothing written: the file shows the row as rendered (front matter).
    let text = cat(&core, attr.ino).await;
    assert!(text.starts_with("---\n"), "{text}");

    // Same in one data source folder of a multi-source database.
    let bugs = ino(&core, "Engineering Wiki/Tracker/Bugs").await;
    let (_, o) = core.create(bugs, "Crash on save.md").await.expect("row");
    core.close(o.fh).await.unwrap();
    let id = only_page_titled(&emu, "Crash on save");
    assert_eq!(parent_of(&emu, &id)["data_source_id"], demo::bugs_ds_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mkdir_shows_or_creates_and_rmdir_hides_without_api_calls() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path());
    let home = ino(&core, "Team Home").await;
    let names0 = names(&core, "Team Home").await;
    assert!(names0.contains(&"Q3\u{2215}Q4 Planning.md".to_string()));
    assert!(!names0.contains(&"Q3\u{2215}Q4 Planning".to_string()));

    // Beside an existing page: only shows its folder (once its blocks were read, so it is
    // known to have no children: that read is what `ls` of the folder costs anyway).
    assert_eq!(
        errno(core.lookup(home, "Q3\u{2215}Q4 Planning").await),
        libc::ENOENT
    );
    let before = emu.control().total_calls();
    let a = core
        .mkdir(home, "Q3\u{2215}Q4 Planning")
        .await
        .expect("mkdir");
    assert_eq!(emu.control().total_calls(), before, "no API call");
    assert!(names(&core, "Team Home")
        .await
        .contains(&"Q3\u{2215}Q4 Planning".to_string()));
    assert!(core.readdir(a.ino).await.unwrap().is_empty());
    // rmdir of it: hidden again, no call, the page stays.
    core.rmdir(home, "Q3\u{2215}Q4 Planning")
        .await
        .expect("rmdir");
    assert_eq!(emu.control().total_calls(), before, "no API call");
    assert_eq!(names(&core, "Team Home").await, names0);
    assert_eq!(
        errno(core.rmdir(home, "Q3\u{2215}Q4 Planning").await),
        libc::ENOENT
    );

    // A new name: creates the page and shows its folder.
    let a = core.mkdir(home, "Projects").await.expect("mkdir");
    let id = only_page_titled(&emu, "Projects");
    assert_eq!(parent_of(&emu, &id)["page_id"], demo::team_home_id());
    let now = names(&core, "Team Home").await;
    assert!(now.contains(&"Projects".to_string()), "{now:?}");
    assert!(now.contains(&"Projects.md".to_string()), "{now:?}");
    // A page created inside it: its parent is the new page.
    let (_, o) = core.create(a.ino, "Inside.md").await.unwrap();
    core.close(o.fh).await.unwrap();
    let inside = only_page_titled(&emu, "Inside");
    assert_eq!(parent_of(&emu, &inside)["page_id"], id.as_str());
    assert_eq!(names(&core, "Team Home/Projects").await, vec!["Inside.md"]);
    // Not empty now.
    assert_eq!(errno(core.rmdir(home, "Projects").await), libc::ENOTEMPTY);
    let wiki = ino(&core, "Engineering Wiki").await;
    assert_eq!(
        errno(core.rmdir(wiki, "Architecture").await),
        libc::ENOTEMPTY
    );
    assert_eq!(errno(core.rmdir(wiki, "Tasks").await), libc::ENOTEMPTY);
    assert_eq!(errno(core.rmdir(wiki, "Tasks.md").await), libc::ENOENT);
    assert_eq!(
        errno(core.rmdir(wiki, "Architecture.md").await),
        libc::ENOTDIR
    );

    // mkdir in a data source folder: a row with its folder.
    let tasks = ino(&core, "Engineering Wiki/Tasks").await;
    core.mkdir(tasks, "Row with folder")
        .await
        .expect("mkdir row");
    let row = only_page_titled(&emu, "Row with folder");
    assert_eq!(parent_of(&emu, &row)["data_source_id"], demo::tasks_ds_id());
    let t = names(&core, "Engineering Wiki/Tasks").await;
    assert!(t.contains(&"Row with folder".to_string()), "{t:?}");
    assert!(t.contains(&"Row with folder.md".to_string()), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_move_across_folders() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path());
    let home = ino(&core, "Team Home").await;
    let wiki = ino(&core, "Engineering Wiki").await;
    let cafe = demo::unicode_title_id();
    let cafe_name = "Café ☕ Ünïcödé 🚀.md";
    let body = cat(&core, ino(&core, &format!("Team Home/{cafe_name}")).await).await;
    let file_ino = core.lookup(home, cafe_name).await.unwrap().ino;

    // Across folders, same name: one move call.
    let calls = core.client().stats();
    core.rename(home, cafe_name, wiki, cafe_name)
        .await
        .expect("move");
    let made = core.client().stats().since(&calls);
    assert_eq!(made.count("POST /v1/pages/{id}/move"), 1, "{made:?}");
    assert_eq!(made.count("PATCH /v1/pages/{id}"), 0, "{made:?}");
    assert_eq!(parent_of(&emu, &cafe)["page_id"], demo::wiki_id());
    assert!(!names(&core, "Team Home")
        .await
        .contains(&cafe_name.to_string()));
    assert!(names(&core, "Engineering Wiki")
        .await
        .contains(&cafe_name.to_string()));
    // Same inode, same content.
    assert_eq!(core.lookup(wiki, cafe_name).await.unwrap().ino, file_ino);
    assert_eq!(cat(&core, file_ino).await, body);

    // Across folders with a new name: move and title.
    core.rename(wiki, cafe_name, home, "Coffee.md")
        .await
        .expect("move+rename");
    assert_eq!(emu.control().plain_text(&cafe).unwrap(), "Coffee");
    assert_eq!(parent_of(&emu, &cafe)["page_id"], demo::team_home_id());
    assert!(names(&core, "Team Home")
        .await
        .contains(&"Coffee.md".to_string()));
    assert!(!names(&core, "Engineering Wiki")
        .await
        .contains(&cafe_name.to_string()));

    // Into a data source folder: the page becomes a row (title kept), then renamed as a
    // row (its title property).
    let tasks = ino(&core, "Engineering Wiki/Tasks").await;
    core.rename(home, "Coffee.md", tasks, "Coffee.md")
        .await
        .expect("into a data source");
    assert_eq!(
        parent_of(&emu, &cafe)["data_source_id"],
        demo::tasks_ds_id()
    );
    assert!(names(&core, "Engineering Wiki/Tasks")
        .await
        .contains(&"Coffee.md".to_string()));
    let text = cat(&core, core.lookup(tasks, "Coffee.md").await.unwrap().ino).await;
    assert!(
        text.starts_with("---\n"),
        "a row renders its front matter: {text}"
    );
    core.rename(tasks, "Coffee.md", tasks, "Coffee run.md")
        .await
        .expect("rename a row");
    assert_eq!(emu.control().plain_text(&cafe).unwrap(), "Coffee run");
    let t = names(&core, "Engineering Wiki/Tasks").await;
    assert!(t.contains(&"Coffee run.md".to_string()) && !t.contains(&"Coffee.md".to_string()));

    // A page folder moves its page (and its children with it).
    let arch = demo::architecture_id();
    core.rename(wiki, "Architecture", home, "Architecture")
        .await
        .expect("move a folder");
    assert_eq!(parent_of(&emu, &arch)["page_id"], demo::team_home_id());
    let h = names(&core, "Team Home").await;
    assert!(h.contains(&"Architecture".to_string()) && h.contains(&"Architecture.md".to_string()));
    let w = names(&core, "Engineering Wiki").await;
    assert!(
        !w.contains(&"Architecture".to_string()) && !w.contains(&"Architecture.md".to_string())
    );
    assert_eq!(
        names(&core, "Team Home/Architecture").await,
        vec!["Storage Layer", "Storage Layer.md"]
    );

    // What Notion cannot do.
    assert_eq!(
        errno(
            core.rename(home, "Architecture.md", ROOT_INO, "Architecture.md")
                .await
        ),
        libc::EPERM
    );
    assert_eq!(
        errno(core.rename(wiki, "Tasks", home, "Tasks").await),
        libc::EPERM
    );
    let inner = ino(&core, "Team Home/Architecture").await;
    assert_eq!(
        errno(
            core.rename(home, "Architecture.md", inner, "Architecture.md")
                .await
        ),
        libc::EPERM
    );
    let showcase = ino(&core, "Engineering Wiki/Block Showcase").await;
    assert_eq!(
        errno(core.rename(showcase, "logo.png", home, "logo.png").await),
        libc::EPERM
    );
    let tracker = ino(&core, "Engineering Wiki/Tracker").await;
    assert_eq!(
        errno(
            core.rename(home, "Architecture.md", tracker, "Architecture.md")
                .await
        ),
        libc::EPERM
    );
    // Over an existing entry.
    assert_eq!(
        errno(
            core.rename(home, "Architecture.md", home, "Meeting Notes.md")
                .await
        ),
        libc::EEXIST
    );
    assert_eq!(parent_of(&emu, &arch)["page_id"], demo::team_home_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temp_file_renamed_onto_a_new_name_becomes_a_page() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path());
    let home = ino(&core, "Team Home").await;
    let (a, o) = core.create(home, ".Brand New.md.tmp-1234").await.unwrap();
    core.write(o.fh, 0, b"# Heading\n\nSaved by an editor.\n")
        .unwrap();
    core.close(o.fh).await.unwrap();
    assert!(emu
        .control()
        .pages_titled(".Brand New.md.tmp-1234")
        .is_empty());
    core.rename(home, ".Brand New.md.tmp-1234", home, "Brand New.md")
        .await
        .expect("rename onto a new name");
    let id = only_page_titled(&emu, "Brand New");
    let n = names(&core, "Team Home").await;
    assert!(n.contains(&"Brand New.md".to_string()), "{n:?}");
    assert!(!n.iter().any(|x| x.contains("tmp")), "{n:?}");
    // The kernel keeps using the temp file's inode for the page.
    assert_eq!(
        cat(&core, a.ino).await,
        "# Heading\n\nSaved by an editor.\n"
    );
    let page_ino = core.lookup(home, "Brand New.md").await.unwrap().ino;
    wait_clean(&core, page_ino).await;
    let kids = emu.control().children_ids(&id);
    assert_eq!(kids.len(), 2);
    assert_eq!(
        emu.control().plain_text(&kids[1]).unwrap(),
        "Saved by an editor."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_move_takes_only_page_or_data_source_parents() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let c = client(&emu);
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
