//! Read-path benchmarks (figures, not pass/fail): `cargo bench --bench read`.
//!
//! (a) API calls to read the whole demo workspace (every listing, every file) against the
//!     theoretical minimum computed from the workspace itself.
//! (b) Warm `grep -r` over the mounted demo against the same tree copied to a tmpfs dir.
//! (c) Cold read of a 2,000-block page with 100 ms of emulator latency per call: wall time
//!     against calls × latency / concurrency.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use notionfs::emulator::{demo, Emulator, EmulatorConfig, Faults};
use notionfs::fs::{FileKind, FsCore, Settings, ROOT_INO};
use notionfs::fuse::{self, MountConfig};
use notionfs::notion::model::{DataSource, Page};
use notionfs::notion::tree::{fetch_tree, min_calls};
use notionfs::notion::{Client, ClientConfig, Token};
use serde_json::json;

const IN_FLIGHT: usize = 8;

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    Client::new(cfg).expect("client")
}

fn core(emu: &Emulator, cache: &Path, ttl: Duration) -> Arc<FsCore> {
    Arc::new(
        FsCore::new(
            client(emu),
            Settings {
                ttl,
                reconcile: Duration::ZERO,
                cache_size: 256 << 20,
                read_only: true,
                uid: 0,
                gid: 0,
                cache_dir: cache.to_path_buf(),
                max_in_flight: IN_FLIGHT,
            },
        )
        .expect("core"),
    )
}

/// Reads every directory and every file through the core.
async fn read_all(core: &FsCore, ino: u64) -> usize {
    let mut files = 0;
    for e in core.readdir(ino).await.expect("readdir") {
        match e.kind {
            FileKind::Dir => files += Box::pin(read_all(core, e.ino)).await,
            FileKind::File => {
                let o = core.open(e.ino, libc::O_RDONLY).await.expect("open");
                core.close(o.fh).await.expect("close");
                files += 1;
            }
        }
    }
    files
}

/// The fewest calls that can read the workspace: the searches, one retrieve per database
/// (its data sources), the queries, and for every page its block tree's minimum.
async fn theoretical_minimum(c: &Client) -> u64 {
    let page_filter = json!({"filter": {"property": "object", "value": "page"}});
    let ds_filter = json!({"filter": {"property": "object", "value": "data_source"}});
    let pages: Vec<serde_json::Value> = c.search(page_filter).try_collect().await.unwrap();
    let sources: Vec<serde_json::Value> = c.search(ds_filter).try_collect().await.unwrap();
    let mut calls = (pages.len().div_ceil(100).max(1) + sources.len().div_ceil(100).max(1)) as u64;
    let sources: Vec<DataSource> = sources
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    let mut dbs: Vec<String> = sources
        .iter()
        .filter_map(|d| d.parent.database_id.clone())
        .collect();
    dbs.sort();
    dbs.dedup();
    calls += dbs.len() as u64;
    for d in &sources {
        let rows = c
            .query(
                &d.id,
                json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]}),
            )
            .await
            .unwrap();
        calls += rows.len().div_ceil(100).max(1) as u64;
    }
    let permits = tokio::sync::Semaphore::new(IN_FLIGHT);
    for p in pages {
        let p: Page = serde_json::from_value(p).unwrap();
        let tree = fetch_tree(c, &p.id, Some(&permits)).await.unwrap();
        calls += min_calls(&tree) as u64;
    }
    calls
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn grep_time(dir: &Path, runs: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        let out = Command::new("grep")
            .args(["-r", "-c", demo::MARKER])
            .arg(dir)
            .output()
            .expect("grep");
        assert!(!out.stdout.is_empty());
    }
    start.elapsed() / runs
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::default()))
        .unwrap();
    let cache = tempfile::tempdir().unwrap();

    // (a) calls to read everything vs the minimum.
    let c = core(&emu, cache.path(), Duration::from_secs(300));
    let files = rt.block_on(read_all(&c, ROOT_INO));
    let used = c.client().stats();
    let minimum = rt.block_on(theoretical_minimum(&client(&emu)));
    println!("(a) read the whole demo workspace ({files} files):");
    println!("    API calls used     {}", used.total());
    for (k, v) in &used.calls {
        println!("      {v:>4}  {k}");
    }
    println!("    theoretical min    {minimum}");
    println!(
        "    ratio              {:.2}",
        used.total() as f64 / minimum as f64
    );

    // (b) warm grep -r: mounted demo vs a tmpfs copy.
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .is_ok()
    {
        let mpd = tempfile::tempdir().unwrap();
        let mp = mpd.path().to_path_buf();
        let core_b = core(&emu, cache.path(), Duration::from_secs(300));
        let cfg = MountConfig {
            allow_other: false,
            read_only: true,
            no_open: false,
            threads: 4,
            kernel_ttl: Duration::from_secs(1),
        };
        let session = fuse::mount(core_b, rt.handle().clone(), &mp, &cfg)
            .expect("mount")
            .spawn()
            .expect("spawn");
        // Cold pass, then warm.
        let cold = grep_time(&mp, 1);
        let warm = grep_time(&mp, 20);
        let shm = PathBuf::from("/dev/shm").join(format!("notionfs-bench-{}", std::process::id()));
        copy_tree(&mp, &shm);
        let _ = grep_time(&shm, 1);
        let tmpfs = grep_time(&shm, 20);
        std::fs::remove_dir_all(&shm).ok();
        drop(session);
        println!("(b) grep -r over the demo:");
        println!(
            "    mounted, cold      {:>8.2} ms",
            cold.as_secs_f64() * 1e3
        );
        println!(
            "    mounted, warm      {:>8.2} ms",
            warm.as_secs_f64() * 1e3
        );
        println!(
            "    tmpfs copy         {:>8.2} ms",
            tmpfs.as_secs_f64() * 1e3
        );
        println!(
            "    warm / tmpfs       {:.2}x (target <= 3x)",
            warm.as_secs_f64() / tmpfs.as_secs_f64()
        );
    } else {
        println!("(b) skipped: /dev/fuse is not usable");
    }

    // (c) a 2,000-block page, 100 ms per call.
    let ctl = emu.control();
    let big = ctl
        .create_page(&demo::team_home_id(), "Big page")
        .expect("page");
    let toggles: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            let kids: Vec<serde_json::Value> = (0..19)
                .map(|j| json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": format!("line {i}.{j}")}}]}}))
                .collect();
            json!({"type": "toggle", "toggle": {"rich_text": [{"type": "text", "text": {"content": format!("section {i}")}}], "children": kids}})
        })
        .collect();
    ctl.append_blocks(&big, serde_json::Value::Array(toggles))
        .expect("blocks");
    let latency = 100u64;
    ctl.set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.0,
        latency_ms: latency,
    });
    let c = core(&emu, cache.path(), Duration::from_secs(300));
    let home = rt.block_on(c.lookup(ROOT_INO, "Team Home")).unwrap().ino;
    let file = rt.block_on(c.lookup(home, "Big page.md")).unwrap().ino;
    let before = c.client().stats();
    let start = Instant::now();
    let o = rt.block_on(c.open(file, libc::O_RDONLY)).unwrap();
    let wall = start.elapsed();
    let size = c.read(o.fh, 0, u32::MAX).unwrap().len();
    let calls = c.client().stats().since(&before).total();
    let ideal = Duration::from_millis(latency * calls / IN_FLIGHT as u64);
    println!(
        "(c) cold read of a 2,000-block page (100 toggles x 19 children), {latency} ms per call:"
    );
    println!("    calls              {calls}");
    println!(
        "    wall time          {:>8.0} ms  ({size} bytes)",
        wall.as_secs_f64() * 1e3
    );
    println!(
        "    calls x latency / {IN_FLIGHT} {:>8.0} ms   (sequential: {} ms)",
        ideal.as_secs_f64() * 1e3,
        latency * calls
    );
    rt.block_on(emu.shutdown());
}
