//! What only the core shows about reading, without FUSE, against the in-process emulator
//! over real HTTP: exact API call counts (listings read no bodies, a page costs the minimum,
//! rereads and revalidation cost nothing or one search), stable names and inodes, expired
//! attachment URLs, and a core whose write path is off. Reading behaviour that a mount shows
//! too is in `conformance.rs`, run both ways.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::core::{cat, ino, reader, settings};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};
use notionfs::fs::{FsCore, NodeKey, Settings, ROOT_INO};
use notionfs::notion::tree::{fetch_tree, min_calls};

const CHILDREN: &str = "GET /v1/blocks/{id}/children";

/// The demo workspace and a core with the write path off, metadata fresh for `ttl`.
struct Fixture {
    emu: Emulator,
    core: Arc<FsCore>,
    _cache: tempfile::TempDir,
}

async fn fixture(ttl: Duration) -> Fixture {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let cache = tempfile::tempdir().expect("tempdir");
    let core = reader(&emu, settings(cache.path(), ttl));
    Fixture {
        emu,
        core,
        _cache: cache,
    }
}

impl Fixture {
    async fn ino(&self, path: &str) -> u64 {
        ino(&self.core, path).await
    }

    async fn cat(&self, path: &str) -> Vec<u8> {
        cat(&self.core, self.ino(path).await).await
    }

    fn calls(&self) -> notionfs::notion::StatsSnapshot {
        self.core.client().stats()
    }
}

#[tokio::test]
async fn names_and_inodes_are_stable_across_listings_and_unrelated_changes() {
    let f = fixture(Duration::ZERO).await;
    let home = f.ino("Team Home").await;
    let before = f.core.readdir(home).await.unwrap();
    // A new, older-looking sibling with a colliding title, and an unrelated new page.
    let ctl = f.emu.control();
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
    let tasks = f.ino("Engineering Wiki/Tasks").await;
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
    let row = f.ino("Engineering Wiki/Tasks/Write spec.md").await;
    assert!(!f.core.getattr(row).unwrap().size_known);
}

#[tokio::test]
async fn reading_a_page_costs_exactly_the_minimum_and_rereading_costs_nothing() {
    let f = fixture(Duration::from_secs(30)).await;
    let showcase = f.ino("Engineering Wiki/Block Showcase.md").await;
    // The theoretical minimum, from the tree itself (fetched by an independent client).
    let other = common::core::client(&f.emu);
    let permits = tokio::sync::Semaphore::new(4);
    let tree = fetch_tree(&other, &demo::showcase_id(), Some(&permits))
        .await
        .expect("tree");
    let minimum = min_calls(&tree) as u64;
    assert!(minimum > 3, "the showcase has nested blocks: {minimum}");
    let before = f.calls();
    let body = f.cat("Engineering Wiki/Block Showcase.md").await;
    let cost = f.calls().since(&before);
    assert_eq!(cost.count(CHILDREN), minimum, "{cost:?}");
    assert_eq!(cost.total(), minimum, "only children calls: {cost:?}");
    // Size is now exact.
    let a = f.core.getattr(showcase).unwrap();
    assert!(a.size_known);
    assert_eq!(a.size, body.len() as u64);
    // Within the TTL a second read (and a listing of its folder) costs nothing.
    let before = f.calls();
    let again = f.cat("Engineering Wiki/Block Showcase.md").await;
    let folder = f.ino("Engineering Wiki/Block Showcase").await;
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
async fn expired_attachment_urls_are_refreshed_with_one_block_read() {
    let f = fixture(Duration::from_secs(30)).await;
    let ctl = f.emu.control();
    // Signed URLs that expired are refreshed by re-reading the block.
    ctl.set_file_url_ttl(Duration::from_secs(1));
    let cache = tempfile::tempdir().unwrap();
    let g = reader(
        &f.emu,
        Settings {
            read_only: true,
            ..settings(cache.path(), Duration::from_secs(30))
        },
    );
    let notes = ino(&g, "Engineering Wiki/Block Showcase/notes.txt").await;
    ctl.advance_clock(Duration::from_secs(120));
    let before = g.client().stats();
    let o = g
        .open(notes, libc::O_RDONLY)
        .await
        .expect("open after expiry");
    let data = g.read(o.fh, 0, 1 << 16).unwrap();
    g.close(o.fh).await.expect("close");
    assert!(!data.is_empty());
    assert_eq!(
        g.client()
            .stats()
            .since(&before)
            .count("GET /v1/blocks/{id}"),
        1
    );
}

#[tokio::test]
async fn a_core_without_its_write_path_refuses_writes_with_erofs() {
    let f = fixture(Duration::from_secs(30)).await;
    let ino = f.ino("Team Home.md").await;
    assert_eq!(
        f.core.open(ino, libc::O_RDWR).await.unwrap_err().errno(),
        libc::EROFS
    );
    assert_eq!(f.core.write_denied("mkdir").errno(), libc::EROFS);
    let home = f.ino("Team Home").await;
    assert_eq!(
        f.core.mkdir(home, "New").await.unwrap_err().errno(),
        libc::EROFS
    );
    // The refused file is still known, and reads.
    assert!(f
        .core
        .inode_of(&NodeKey::PageFile(demo::team_home_id()))
        .is_some());
    assert!(!cat(&f.core, ino).await.is_empty());
}

#[tokio::test]
async fn a_poll_costs_one_search_and_rereads_only_what_changed() {
    let f = fixture(Duration::from_secs(30)).await;
    let deep = "Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";
    let pages = [
        "Engineering Wiki/Architecture.md",
        "Engineering Wiki/Block Showcase.md",
        "Team Home/Meeting Notes.md",
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
    f.emu
        .control()
        .set_block_text(&demo::block_id(100), "Revalidated.")
        .unwrap();
    let start = f.calls();
    assert_eq!(f.core.poll_changes().await.unwrap(), 1);
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
    let wiki = f.ino("Engineering Wiki").await;
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
    let logo = f.cat("Engineering Wiki/Block Showcase/logo.png").await;
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
async fn reads_without_an_open_size_the_file_first_and_read_what_an_open_would() {
    let f = fixture(Duration::from_secs(30)).await;
    let cache = tempfile::tempdir().unwrap();
    // A second core on the same workspace, as a read-only mount's kernel uses it: no
    // `open`; a `GETATTR` for an open file when the size is not known, then reads by inode.
    let g = reader(&f.emu, settings(cache.path(), Duration::from_secs(30)));
    for path in [
        "Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md",
        "Engineering Wiki/Block Showcase/notes.txt",
        "Engineering Wiki/Block Showcase/logo.png",
        "Engineering Wiki/Tasks/Implement write-back.md",
    ] {
        let want = f.cat(path).await;
        let i = ino(&g, path).await;
        let before = g.client().stats();
        assert!(!g.getattr(i).unwrap().size_known, "{path}: not read yet");
        let a = g.getattr_exact(i).await.unwrap();
        assert!(a.size_known, "{path}");
        assert_eq!(a.size, want.len() as u64, "{path}");
        // Loaded once: the reads that follow cost no API call.
        let loaded = g.client().stats().since(&before).total();
        let mut got = Vec::new();
        loop {
            let chunk = g.read_unopened(i, got.len() as u64, 1000).await.unwrap();
            if chunk.is_empty() {
                break;
            }
            got.extend(chunk);
        }
        assert_eq!(got, want, "{path}");
        assert_eq!(g.client().stats().since(&before).total(), loaded, "{path}");
        // Known now: a plain getattr says so, and asks nothing.
        assert!(g.getattr(i).unwrap().size_known, "{path}");
    }
    // A directory has no content to load.
    let dir = ino(&g, "Team Home").await;
    assert!(g.getattr_exact(dir).await.unwrap().size_known);
    assert_eq!(
        g.read_unopened(dir, 0, 10).await.unwrap_err().errno(),
        libc::EISDIR
    );
}
