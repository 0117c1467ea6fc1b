//! Core tests without FUSE: the filesystem core against the in-process emulator (real HTTP).

use std::sync::Arc;
use std::time::Duration;

use notionfs::emulator::{Emulator, EmulatorConfig};
use notionfs::fs::{FileKind, FsCore, Settings, ROOT_INO};
use notionfs::notion::{Client, ClientConfig, Token};

struct Fixture {
    emu: Emulator,
    core: Arc<FsCore>,
    _cache: tempfile::TempDir,
}

async fn fixture(ttl: Duration) -> Fixture {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    let client = Client::new(cfg).expect("client");
    let cache = tempfile::tempdir().expect("tempdir");
    let core = FsCore::new(
        client,
        Settings {
            ttl,
            cache_size: 64 << 20,
            read_only: false,
            uid: 0,
            gid: 0,
            cache_dir: cache.path().to_path_buf(),
            max_in_flight: 8,
        },
    )
    .expect("core");
    Fixture {
        emu,
        core: Arc::new(core),
        _cache: cache,
    }
}

async fn walk(core: &FsCore, ino: u64, path: String, out: &mut Vec<String>) {
    let entries = core.readdir(ino).await.expect("readdir");
    for e in entries {
        let p = format!("{path}/{}", e.name);
        out.push(p.clone());
        if e.kind == FileKind::Dir {
            Box::pin(walk(core, e.ino, p, out)).await;
        }
    }
}

#[tokio::test]
async fn tree_smoke() {
    let f = fixture(Duration::from_secs(30)).await;
    let mut out = Vec::new();
    walk(&f.core, ROOT_INO, String::new(), &mut out).await;
    for p in &out {
        println!("{p}");
    }
    println!("{:#?}", f.core.client().stats());
    let _ = &f.emu;
}

#[tokio::test]
async fn debug_search() {
    let f = fixture(Duration::from_secs(30)).await;
    use futures::TryStreamExt;
    let v: Vec<serde_json::Value> = f
        .core
        .client()
        .search(serde_json::json!({"filter": {"property":"object","value":"page"}}))
        .try_collect()
        .await
        .unwrap();
    for p in v {
        let r = serde_json::from_value::<notionfs::notion::model::Page>(p.clone());
        println!("{} {:?} {:?}", p["id"], p["parent"], r.err());
    }
}

#[tokio::test]
async fn debug_arch() {
    let f = fixture(Duration::from_secs(30)).await;
    let root = f.core.readdir(ROOT_INO).await.unwrap();
    println!("{root:?}");
    let wiki = f.core.lookup(ROOT_INO, "Engineering Wiki").await.unwrap();
    let w = f.core.readdir(wiki.ino).await.unwrap();
    println!("{w:?}");
}
