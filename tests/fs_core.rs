//! Core tests without FUSE: the filesystem core against the in-process emulator over real
//! HTTP. Listings, names, reads, exact API call counts, caching, attachments, freshness,
//! faults and the refusal of writes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig, Faults};
use notionfs::fs::render::PathMap;
use notionfs::fs::{FileKind, FsCore, NodeKey, Settings, ROOT_INO};
use notionfs::notion::tree::{fetch_tree, min_calls};
use notionfs::notion::{Client, ClientConfig, Token};

const CHILDREN: &str = "GET /v1/blocks/{id}/children";

struct Fixture {
    emu: Option<Emulator>,
    core: Arc<FsCore>,
    _cache: tempfile::TempDir,
}

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    cfg.base_backoff = Duration::from_millis(5);
    cfg.max_backoff = Duration::from_millis(20);
    cfg.max_retries = 8;
    cfg.timeout = Duration::from_secs(5);
    Client::new(cfg).expect("client")
}

async fn fixture(ttl: Duration) -> Fixture {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let cache = tempfile::tempdir().expect("tempdir");
    let core = FsCore::new(
        client(&emu),
        Settings {
            ttl,
            reconcile: Duration::ZERO,
            cache_size: 64 << 20,
            read_only: false,
            uid: 1000,
            gid: 1000,
            cache_dir: cache.path().to_path_buf(),
            max_in_flight: 8,
        },
    )
    .expect("core");
    Fixture {
        emu: Some(emu),
        core: Arc::new(core),
        _cache: cache,
    }
}

impl Fixture {
    fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("emulator running")
    }

    async fn ino(&self, path: &str) -> u64 {
        let mut ino = ROOT_INO;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            ino = self
                .core
                .lookup(ino, part)
                .await
                .unwrap_or_else(|e| panic!("lookup {part} in {path}: {e}"))
                .ino;
        }
        ino
    }

    async fn cat(&self, path: &str) -> Vec<u8> {
        let ino = self.ino(path).await;
        let o = self.core.open(ino, libc::O_RDONLY).await.expect("open");
        let mut out = Vec::new();
        loop {
            let chunk = self.core.read(o.fh, out.len() as u64, 4096).expect("read");
            if chunk.is_empty() {
                break;
            }
            out.extend(chunk);
        }
        self.core.close(o.fh).await.expect("close");
        out
    }

    fn calls(&self) -> notionfs::notion::StatsSnapshot {
        self.core.client().stats()
    }
}

async fn walk(core: &FsCore, ino: u64, path: String, out: &mut Vec<(String, FileKind)>) {
    let entries = core.readdir(ino).await.expect("readdir");
    for e in entries {
        let p = format!("{path}/{}", e.name);
        out.push((p.clone(), e.kind));
        if e.kind == FileKind::Dir {
            Box::pin(walk(core, e.ino, p, out)).await;
        }
    }
}

#[tokio::test]
async fn the_tree_follows_the_layout_and_naming_rules() {
    let f = fixture(Duration::from_secs(30)).await;
    let mut all = Vec::new();
    walk(&f.core, ROOT_INO, String::new(), &mut all).await;
    let paths: BTreeSet<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "/Engineering Wiki.md",
        "/Engineering Wiki",
        "/Engineering Wiki/Architecture.md",
        "/Engineering Wiki/Architecture/Storage Layer.md",
        "/Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md",
        "/Engineering Wiki/Block Showcase.md",
        "/Engineering Wiki/Tasks/.schema.yaml",
        "/Engineering Wiki/Tasks/Write spec.md",
        "/Engineering Wiki/Tracker/Bugs/.schema.yaml",
        "/Engineering Wiki/Tracker/Features/.schema.yaml",
        "/Team Home.md",
        "/Team Home/Meeting Notes.md",
        "/Team Home/Meeting Notes (2).md",
        "/Team Home/Q3\u{2215}Q4 Planning.md",
        "/Team Home/Café ☕ Ünïcödé 🚀.md",
        "/Team Home/Untitled.md",
    ] {
        assert!(paths.contains(want), "missing {want}; have {paths:#?}");
    }
    // A database with one data source is a folder of rows; with several, a folder per source.
    let rows = all
        .iter()
        .filter(|(p, _)| p.starts_with("/Engineering Wiki/Tasks/") && p.ends_with(".md"))
        .filter(|(p, _)| p.matches('/').count() == 3)
        .count();
    assert_eq!(rows as u32, demo::TASK_ROWS);
    let bugs = f.emu().control().rows(&demo::bugs_ds_id()).len();
    let bug_files = all
        .iter()
        .filter(|(p, _)| p.starts_with("/Engineering Wiki/Tracker/Bugs/") && p.ends_with(".md"))
        .count();
    assert_eq!(bug_files, bugs);
    // Kinds: .md files are files, page folders are directories.
    for (p, k) in &all {
        if p.ends_with(".md") || p.ends_with(".yaml") {
            assert_eq!(*k, FileKind::File, "{p}");
        }
    }
    // Duplicates: the first created keeps the name.
    let first = f.ino("/Team Home/Meeting Notes.md").await;
    let second = f.ino("/Team Home/Meeting Notes (2).md").await;
    assert_eq!(
        f.core.getxattr(first, "user.notion.id").unwrap(),
        demo::meeting_notes_1_id().into_bytes()
    );
    assert_eq!(
        f.core.getxattr(second, "user.notion.id").unwrap(),
        demo::meeting_notes_2_id().into_bytes()
    );
}

#[tokio::test]
async fn names_and_inodes_are_stable_across_listings_and_unrelated_changes() {
    let f = fixture(Duration::ZERO).await;
    let home = f.ino("/Team Home").await;
    let before = f.core.readdir(home).await.unwrap();
    // A new, older-looking sibling with a colliding title, and an unrelated new page.
    let ctl = f.emu().control();
    ctl.create_page(&demo::team_home_id(), "Meeting Notes")
        .expect("create");
    ctl.create_page(&demo::team_home_id(), "Unrelated")
        .expect("create");
    assert!(f.core.poll_changes().await.unwrap() >= 2);
    let after = f.core.readdir(home).await.unwrap();
    for e in &before {
        let same = after.iter().find(|a| a.ino == e.ino).expect("still there");
        assert_eq!(same.name, e.name, "renamed");
    }
    let names: BTreeSet<&str> = after.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains("Meeting Notes (3).md"), "{names:?}");
    assert!(names.contains("Unrelated.md"));
}

#[tokio::test]
async fn listing_with_attributes_fetches_no_page_bodies() {
    let f = fixture(Duration::from_secs(30)).await;
    let root = f.core.readdir(ROOT_INO).await.unwrap();
    assert!(!root.is_empty());
    let before = f.calls();
    let tasks = f.ino("/Engineering Wiki/Tasks").await;
    let entries = f.core.readdir(tasks).await.unwrap();
    for e in &entries {
        let a = f.core.getattr(e.ino).unwrap();
        assert_eq!(a.uid, 1000);
        let _ = f.core.lookup(tasks, &e.name).await.unwrap();
    }
    let cost = f.calls().since(&before);
    // Listing the wiki folder reads the wiki's own blocks; the rows are known from the
    // crawl (no query) and their bodies are not read.
    assert_eq!(cost.count(CHILDREN), 1, "{cost:?}");
    assert_eq!(cost.count("POST /v1/data_sources/{id}/query"), 0);
    assert_eq!(cost.count("GET /v1/pages/{id}"), 0);
    assert_eq!(cost.total(), 1, "{cost:?}");
    // Unread bodies have no known size yet.
    let row = f.ino("/Engineering Wiki/Tasks/Write spec.md").await;
    assert!(!f.core.getattr(row).unwrap().size_known);
}

#[tokio::test]
async fn reading_a_page_costs_exactly_the_minimum_and_rereading_costs_nothing() {
    let f = fixture(Duration::from_secs(30)).await;
    let showcase = f.ino("/Engineering Wiki/Block Showcase.md").await;
    // The theoretical minimum, from the tree itself (fetched by an independent client).
    let other = client(f.emu());
    let permits = tokio::sync::Semaphore::new(4);
    let tree = fetch_tree(&other, &demo::showcase_id(), Some(&permits))
        .await
        .expect("tree");
    let minimum = min_calls(&tree) as u64;
    assert!(minimum > 3, "the showcase has nested blocks: {minimum}");
    let before = f.calls();
    let body = f.cat("/Engineering Wiki/Block Showcase.md").await;
    let cost = f.calls().since(&before);
    assert_eq!(cost.count(CHILDREN), minimum, "{cost:?}");
    assert_eq!(cost.total(), minimum, "only children calls: {cost:?}");
    // Size is now exact.
    let a = f.core.getattr(showcase).unwrap();
    assert!(a.size_known);
    assert_eq!(a.size, body.len() as u64);
    // Within the TTL a second read (and a listing of its folder) costs nothing.
    let before = f.calls();
    let again = f.cat("/Engineering Wiki/Block Showcase.md").await;
    let folder = f.ino("/Engineering Wiki/Block Showcase").await;
    let kids = f.core.readdir(folder).await.unwrap();
    assert_eq!(again, body);
    assert_eq!(f.calls().since(&before).total(), 0);
    let names: BTreeSet<&str> = kids.iter().map(|k| k.name.as_str()).collect();
    assert!(
        names.contains("logo.png") && names.contains("notes.txt") && names.contains("spec.pdf"),
        "{names:?}"
    );
}

#[tokio::test]
async fn bodies_are_the_converters_output() {
    let f = fixture(Duration::from_secs(30)).await;
    let other = client(f.emu());
    let permits = tokio::sync::Semaphore::new(4);
    // A plain page with a child page: links point into its folder.
    let body = f.cat("/Engineering Wiki/Architecture.md").await;
    let blocks = fetch_tree(&other, &demo::architecture_id(), Some(&permits))
        .await
        .unwrap();
    let mut links = PathMap::default();
    links.children.insert(
        demo::storage_id(),
        "Architecture/Storage Layer.md".to_string(),
    );
    let want = notionfs::markdown::render_with(&blocks, &links);
    assert_eq!(String::from_utf8(body).unwrap(), want);
    // A row: front matter of its properties, then its blocks.
    let row = f.cat("/Engineering Wiki/Tasks/Write spec.md").await;
    let page = other.page(&demo::task_row_id(1)).await.unwrap();
    let schema = other.data_source(&demo::tasks_ds_id()).await.unwrap();
    let blocks = fetch_tree(&other, &demo::task_row_id(1), Some(&permits))
        .await
        .unwrap();
    let ctx = row_context(&page, "Write spec");
    let want = format!(
        "{}{}",
        notionfs::frontmatter::render(&page, &schema, &ctx),
        notionfs::markdown::render(&blocks)
    );
    assert_eq!(String::from_utf8(row).unwrap(), want);
    // The schema file.
    let yaml = f.cat("/Engineering Wiki/Tasks/.schema.yaml").await;
    assert_eq!(
        String::from_utf8(yaml).unwrap(),
        notionfs::frontmatter::schema_yaml(&schema)
    );
}

/// The front matter context of a row whose hosted files are attachments in `stem/`.
fn row_context(
    page: &notionfs::notion::model::Page,
    stem: &str,
) -> notionfs::frontmatter::MemoryContext {
    use notionfs::notion::model::property::PropertyData;
    let mut ctx = notionfs::frontmatter::MemoryContext::default();
    for v in page.properties.values() {
        if let PropertyData::Files(files) = &v.data {
            for f in files {
                if let (notionfs::notion::model::FileObject::File(h), Some(n)) = (&f.file, &f.name)
                {
                    ctx = ctx.with_attachment(&h.url, &format!("{stem}/{n}"));
                }
            }
        }
    }
    ctx
}

#[tokio::test]
async fn row_files_are_attachments_in_the_row_folder() {
    let f = fixture(Duration::from_secs(30)).await;
    let body = String::from_utf8(f.cat("/Engineering Wiki/Tasks/Write spec.md").await).unwrap();
    assert!(body.contains("  - Write spec/logo.png\n"), "{body}");
    let png = f.cat("/Engineering Wiki/Tasks/Write spec/logo.png").await;
    assert_eq!(&png[1..4], b"PNG");
    let ino = f.ino("/Engineering Wiki/Tasks/Write spec/logo.png").await;
    assert_eq!(
        f.core.getxattr(ino, "user.notion.id").unwrap(),
        demo::task_row_id(1).into_bytes()
    );
}

#[tokio::test]
async fn extended_attributes() {
    let f = fixture(Duration::from_secs(30)).await;
    let ino = f.ino("/Engineering Wiki.md").await;
    let x = |n: &str| String::from_utf8(f.core.getxattr(ino, n).unwrap()).unwrap();
    assert_eq!(x("user.notion.id"), demo::wiki_id());
    assert_eq!(x("user.notion.object"), "page");
    assert!(x("user.notion.url").starts_with("https://"));
    assert!(x("user.notion.last_edited_time").starts_with("2025-"));
    assert_eq!(x("user.notionfs.sync"), "clean");
    let list = f.core.listxattr(ino).unwrap();
    assert_eq!(list.iter().filter(|b| **b == 0).count(), 5);
    let db = f.ino("/Engineering Wiki/Tasks").await;
    assert_eq!(
        f.core.getxattr(db, "user.notion.object").unwrap(),
        b"database"
    );
    let ds = f.ino("/Engineering Wiki/Tracker/Bugs").await;
    assert_eq!(
        f.core.getxattr(ds, "user.notion.object").unwrap(),
        b"data_source"
    );
    assert_eq!(
        f.core.getxattr(ino, "user.other").unwrap_err().errno(),
        libc::ENODATA
    );
}

#[tokio::test]
async fn attachments_are_byte_exact_and_expired_urls_are_refreshed() {
    let f = fixture(Duration::from_secs(30)).await;
    f.cat("/Engineering Wiki/Block Showcase.md").await;
    let png: Vec<u8> = (0..demo::PNG_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&demo::PNG_HEX[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(
        f.cat("/Engineering Wiki/Block Showcase/logo.png").await,
        png
    );
    assert_eq!(
        f.cat("/Engineering Wiki/Block Showcase/spec.pdf").await,
        demo::PDF_TEXT.as_bytes()
    );
    let logo = f.ino("/Engineering Wiki/Block Showcase/logo.png").await;
    assert_eq!(f.core.getattr(logo).unwrap().size, png.len() as u64);
    assert_eq!(
        f.core.getxattr(logo, "user.notion.object").unwrap(),
        b"block"
    );
    // Signed URLs that expired are refreshed by re-reading the block.
    let ctl = f.emu().control();
    ctl.set_file_url_ttl(Duration::from_secs(1));
    let f2 = fixture_on(f.emu(), Duration::from_secs(30));
    let ino = {
        let mut ino = ROOT_INO;
        for p in ["Engineering Wiki", "Block Showcase.md"] {
            ino = f2.lookup(ino, p).await.unwrap().ino;
        }
        let o = f2.open(ino, libc::O_RDONLY).await.unwrap();
        f2.close(o.fh).await.expect("close");
        f2.lookup(
            f2.lookup(ino_of(&f2, "Engineering Wiki").await, "Block Showcase")
                .await
                .unwrap()
                .ino,
            "notes.txt",
        )
        .await
        .unwrap()
        .ino
    };
    ctl.advance_clock(Duration::from_secs(120));
    let before = f2.client().stats();
    let o = f2
        .open(ino, libc::O_RDONLY)
        .await
        .expect("open after expiry");
    let data = f2.read(o.fh, 0, 1 << 16).unwrap();
    assert!(!data.is_empty());
    assert_eq!(
        f2.client()
            .stats()
            .since(&before)
            .count("GET /v1/blocks/{id}"),
        1
    );
}

async fn ino_of(core: &FsCore, name: &str) -> u64 {
    core.lookup(ROOT_INO, name).await.unwrap().ino
}

fn fixture_on(emu: &Emulator, ttl: Duration) -> FsCore {
    let dir = tempfile::tempdir().unwrap().keep();
    FsCore::new(
        client(emu),
        Settings {
            ttl,
            reconcile: Duration::ZERO,
            cache_size: 1 << 20,
            read_only: true,
            uid: 0,
            gid: 0,
            cache_dir: dir,
            max_in_flight: 4,
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_remote_edit_shows_after_the_feed_polls() {
    let f = fixture(Duration::from_secs(30)).await;
    let path = "/Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";
    let old = String::from_utf8(f.cat(path).await).unwrap();
    assert!(old.contains(demo::MARKER));
    f.emu()
        .control()
        .set_block_text(&demo::block_id(100), "Edited remotely.")
        .expect("edit");
    // Until the feed says so: the cached body, no calls.
    let before = f.calls();
    assert_eq!(String::from_utf8(f.cat(path).await).unwrap(), old);
    assert_eq!(f.calls().since(&before).total(), 0);
    assert_eq!(f.core.poll_changes().await.unwrap(), 1);
    let new = String::from_utf8(f.cat(path).await).unwrap();
    assert!(new.contains("Edited remotely."), "{new}");
    assert!(!new.contains(demo::MARKER));
}

#[tokio::test]
async fn reads_survive_server_errors_and_fail_with_eio_when_the_api_is_down() {
    let mut f = fixture(Duration::from_secs(30)).await;
    f.emu().control().set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.3,
        latency_ms: 0,
    });
    let body = f.cat("/Engineering Wiki/Block Showcase.md").await;
    assert!(!body.is_empty());
    assert!(f.calls().retries > 0 || f.calls().server_errors == 0);
    f.emu().control().set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.0,
        latency_ms: 0,
    });
    let team = f.ino("/Team Home").await;
    let notes = f.core.lookup(team, "Meeting Notes.md").await.unwrap().ino;
    // The API goes away.
    f.emu.take().expect("running").shutdown().await;
    let err = f.core.open(notes, libc::O_RDONLY).await.unwrap_err();
    assert_eq!(err.errno(), libc::EIO);
    // What was read before is still served, and listings too.
    assert_eq!(f.cat("/Engineering Wiki/Block Showcase.md").await, body);
    assert!(!f.core.readdir(ROOT_INO).await.unwrap().is_empty());
}

#[tokio::test]
async fn writes_are_refused_with_erofs() {
    let f = fixture(Duration::from_secs(30)).await;
    let ino = f.ino("/Team Home.md").await;
    assert_eq!(
        f.core.open(ino, libc::O_RDWR).await.unwrap_err().errno(),
        libc::EROFS
    );
    assert_eq!(f.core.write_denied("mkdir").errno(), libc::EROFS);
    assert!(f
        .core
        .inode_of(&NodeKey::PageFile(demo::team_home_id()))
        .is_some());
}

#[tokio::test]
async fn a_remount_serves_unchanged_pages_from_the_disk_cache() {
    let f = fixture(Duration::from_secs(30)).await;
    let deep = "/Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";
    let a1 = f.cat("/Engineering Wiki/Architecture.md").await;
    let r1 = f.cat("/Engineering Wiki/Tasks/Write spec.md").await;
    let d1 = f.cat(deep).await;
    // A second core on the same cache dir: a remount.
    let remount = |cache: &std::path::Path| {
        FsCore::new(
            client(f.emu()),
            Settings {
                ttl: Duration::from_secs(30),
                reconcile: Duration::ZERO,
                cache_size: 1 << 20,
                read_only: false,
                uid: 0,
                gid: 0,
                cache_dir: cache.to_path_buf(),
                max_in_flight: 4,
            },
        )
        .unwrap()
    };
    let g = Fixture {
        emu: None,
        core: Arc::new(remount(f._cache.path())),
        _cache: tempfile::tempdir().unwrap(),
    };
    g.ino("/Engineering Wiki/Tasks/Write spec.md").await;
    g.ino(deep).await;
    let before = g.calls();
    assert_eq!(g.cat("/Engineering Wiki/Architecture.md").await, a1);
    assert_eq!(g.cat("/Engineering Wiki/Tasks/Write spec.md").await, r1);
    let cost = g.calls().since(&before);
    assert_eq!(cost.count(CHILDREN), 0, "{cost:?}");
    // A page edited since is read again.
    f.emu()
        .control()
        .set_block_text(&demo::block_id(100), "Changed since.")
        .unwrap();
    let h = Fixture {
        emu: None,
        core: Arc::new(remount(f._cache.path())),
        _cache: tempfile::tempdir().unwrap(),
    };
    let d2 = h.cat(deep).await;
    assert_ne!(d2, d1);
    assert!(String::from_utf8(d2).unwrap().contains("Changed since."));
}

#[tokio::test]
async fn a_poll_costs_one_search_and_rereads_only_what_changed() {
    let f = fixture(Duration::from_secs(30)).await;
    let deep = "/Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";
    let pages = [
        "/Engineering Wiki/Architecture.md",
        "/Engineering Wiki/Block Showcase.md",
        "/Team Home/Meeting Notes.md",
        deep,
    ];
    let mut inos = Vec::new();
    let mut before = Vec::new();
    for p in pages {
        inos.push(f.ino(p).await);
        before.push(f.cat(p).await);
    }
    // An unchanged workspace: one search call per poll.
    let start = f.calls();
    assert_eq!(f.core.poll_changes().await.unwrap(), 0);
    assert_eq!(f.calls().since(&start).total(), 1);
    f.emu()
        .control()
        .set_block_text(&demo::block_id(100), "Revalidated.")
        .unwrap();
    let start = f.calls();
    f.core.poll_changes().await.unwrap();
    let mut after = Vec::new();
    for ino in &inos {
        let o = f.core.open(*ino, libc::O_RDONLY).await.unwrap();
        after.push(f.core.read(o.fh, 0, 1 << 20).unwrap());
        f.core.close(o.fh).await.expect("close");
    }
    let cost = f.calls().since(&start);
    assert_eq!(cost.count("POST /v1/search"), 1, "{cost:?}");
    assert_eq!(cost.count("GET /v1/pages/{id}"), 0, "{cost:?}");
    // Only the edited page was read again (Deep Dive: one children call).
    assert_eq!(cost.count(CHILDREN), 1, "{cost:?}");
    assert_eq!(after[..3], before[..3]);
    assert!(String::from_utf8_lossy(&after[3]).contains("Revalidated."));
}

#[tokio::test]
async fn a_folder_known_only_from_blocks_can_be_looked_up_directly() {
    let f = fixture(Duration::from_secs(30)).await;
    // Nothing has read Block Showcase yet: its folder is not listed...
    let wiki = f.ino("/Engineering Wiki").await;
    let names: BTreeSet<String> = f
        .core
        .readdir(wiki)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(!names.contains("Block Showcase"), "{names:?}");
    // ...but looking it up reads the page's blocks and finds the attachments.
    let logo = f.cat("/Engineering Wiki/Block Showcase/logo.png").await;
    assert_eq!(&logo[1..4], b"PNG");
    // And a name that is nobody's folder stays absent, without reading anything.
    let before = f.calls();
    assert_eq!(
        f.core
            .lookup(wiki, "Nothing here")
            .await
            .unwrap_err()
            .errno(),
        libc::ENOENT
    );
    assert_eq!(f.calls().since(&before).total(), 0);
}

#[tokio::test]
async fn a_remote_rename_keeps_the_inode_and_shows_after_the_feed_polls() {
    let f = fixture(Duration::from_secs(30)).await;
    let old = f.ino("/Team Home/Café ☕ Ünïcödé 🚀.md").await;
    let body = f.cat("/Team Home.md").await;
    f.emu()
        .control()
        .rename_page(&demo::unicode_title_id(), "Renamed/remotely")
        .unwrap();
    f.core.poll_changes().await.unwrap();
    let home = f.ino("/Team Home").await;
    let names: BTreeSet<String> = f
        .core
        .readdir(home)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains("Renamed\u{2215}remotely.md"), "{names:?}");
    assert!(!names.contains("Café ☕ Ünïcödé 🚀.md"));
    assert_eq!(f.ino("/Team Home/Renamed\u{2215}remotely.md").await, old);
    // The parent's body links to the new name.
    let new_body = String::from_utf8(f.cat("/Team Home.md").await).unwrap();
    assert_ne!(new_body.as_bytes(), body.as_slice());
    assert!(
        new_body.contains("Team Home/Renamed\u{2215}remotely.md"),
        "{new_body}"
    );
}
