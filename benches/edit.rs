//! Cost of typical editing sessions on a 300-block page: API calls and wall time of
//! diff + apply against the in-process emulator, next to the minimum number of calls; then
//! a whole session through the filesystem core (no kernel): open the file, change three
//! paragraphs, save, until Notion has it — with the reads the open and the pre-push check
//! for remote changes cost.
//!
//! Run: `cargo bench --bench edit`. Prints one line per scenario.

use std::time::{Duration, Instant};

use notionfs::emulator::{Emulator, EmulatorConfig, Seed};
use notionfs::fs::{FsCore, Settings, ROOT_INO};
use notionfs::notion::model::block::{Code, Heading, TextBlock, ToDo};
use notionfs::notion::model::{Block, BlockKind, JsonMap, RichText};
use notionfs::notion::{Client, ClientConfig, Token};
use notionfs::sync::{apply, diff, same_content};
use serde_json::json;

const PAGE: &str = "be0c0000-0000-4000-8000-000000000101";

fn tb(t: &str) -> TextBlock {
    TextBlock {
        rich_text: vec![RichText::plain(t)],
        color: "default".into(),
        extra: JsonMap::new(),
    }
}

/// A 300-block page: sections of a heading, paragraphs, a list with nested items, to-dos
/// and a code block.
fn page() -> Vec<Block> {
    let mut out = Vec::new();
    let mut n = 0;
    while out.iter().map(Block::tree_size).sum::<usize>() < 300 {
        n += 1;
        out.push(Block::new(BlockKind::Heading2(Heading {
            rich_text: vec![RichText::plain(format!("Section {n}"))],
            color: "default".into(),
            is_toggleable: false,
            extra: JsonMap::new(),
        })));
        for p in 0..4 {
            out.push(Block::new(BlockKind::Paragraph(tb(&format!(
                "Section {n}, paragraph {p}: some prose about the topic at hand."
            )))));
        }
        out.push(Block::with_children(
            BlockKind::BulletedListItem(tb(&format!("Point {n}"))),
            vec![Block::new(BlockKind::BulletedListItem(tb("detail")))],
        ));
        out.push(Block::new(BlockKind::ToDo(ToDo {
            rich_text: vec![RichText::plain(format!("Follow up {n}"))],
            checked: false,
            color: "default".into(),
            extra: JsonMap::new(),
        })));
        out.push(Block::new(BlockKind::Code(Code {
            rich_text: vec![RichText::plain("fn main() {}")],
            caption: vec![],
            language: "rust".into(),
            extra: JsonMap::new(),
        })));
    }
    out
}

fn strip(t: &[Block]) -> Vec<Block> {
    t.iter()
        .map(|b| Block::with_children(b.kind.clone(), strip(&b.children)))
        .collect()
}

async fn read_tree(client: &Client, id: &str) -> Vec<Block> {
    let mut out = client.children(id).await.expect("children");
    for b in &mut out {
        if b.has_children {
            let bid = b.id.clone().expect("id");
            b.children = Box::pin(read_tree(client, &bid)).await;
        }
    }
    out
}

/// Name, edit, minimum number of calls.
type Scenario<'a> = (&'a str, &'a dyn Fn(&mut Vec<Block>), u64);

struct Outcome {
    calls: u64,
    diff_time: Duration,
    apply_time: Duration,
}

async fn emulator(latency_ms: u64) -> Emulator {
    let blocks = page();
    let children: Vec<_> = blocks.iter().map(Block::to_request).collect();
    let seed = json!({
        "workspace_name": "Bench", "workspace_id": "be0c0000-0000-4000-8000-000000000001",
        "bot": {"id": "be0c0000-0000-4000-8000-0000000000b0", "name": "Bench bot"},
        "pages": [{"id": PAGE, "parent": {"workspace": true}, "title": "Doc", "children": children}]
    });
    Emulator::start(EmulatorConfig {
        seed: Seed::from_json(&seed.to_string()).expect("seed"),
        latency_ms,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator")
}

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    Client::new(cfg).expect("client")
}

async fn run(latency_ms: u64, edit: &dyn Fn(&mut Vec<Block>)) -> Outcome {
    let emu = emulator(latency_ms).await;
    let client = client(&emu);
    let old = read_tree(&client, PAGE).await;
    let mut new = strip(&old);
    edit(&mut new);

    let before = emu.control().total_calls();
    let t0 = Instant::now();
    let plan = diff(PAGE, &old, &new).expect("diff");
    let diff_time = t0.elapsed();
    let t1 = Instant::now();
    apply(&client, &plan).await.expect("apply");
    let apply_time = t1.elapsed();
    let calls = emu.control().total_calls() - before;
    assert!(same_content(&read_tree(&client, PAGE).await, &new));
    Outcome {
        calls,
        diff_time,
        apply_time,
    }
}

fn paragraph_indexes(t: &[Block]) -> Vec<usize> {
    t.iter()
        .enumerate()
        .filter(|(_, b)| matches!(b.kind, BlockKind::Paragraph(_)))
        .map(|(i, _)| i)
        .collect()
}

fn change3(t: &mut [Block]) {
    let p = paragraph_indexes(t);
    for &i in &[p[3], p[40], p[100]] {
        t[i] = Block::new(BlockKind::Paragraph(tb("Rewritten: a different sentence.")));
    }
}

fn insert3(t: &mut Vec<Block>) {
    for &i in &[200, 120, 10] {
        t.insert(i, Block::new(BlockKind::Paragraph(tb("A new thought."))));
    }
}

fn delete3(t: &mut Vec<Block>) {
    let p = paragraph_indexes(t);
    for &i in &[p[90], p[50], p[5]] {
        t.remove(i);
    }
}

fn session(t: &mut Vec<Block>) {
    change3(t);
    t.insert(60, Block::new(BlockKind::Paragraph(tb("Inserted."))));
    t.remove(150);
}

/// API calls (reads, writes) and wall time of one whole session through the core.
struct Session {
    open_calls: u64,
    open_time: Duration,
    save_reads: u64,
    save_writes: u64,
    save_time: Duration,
}

fn counts(emu: &Emulator) -> (u64, u64) {
    let stats = emu.control().stats();
    let reads = stats
        .iter()
        .filter(|(k, _)| k.starts_with("GET ") || k.ends_with("/query") || k.contains("search"))
        .map(|(_, n)| n)
        .sum::<u64>();
    (reads, emu.control().total_calls() - reads)
}

async fn session_through_the_core(latency_ms: u64) -> Session {
    let emu = emulator(latency_ms).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let core = FsCore::new(
        client(&emu),
        Settings {
            ttl: Duration::from_secs(60),
            reconcile: Duration::ZERO,
            cache_size: 64 << 20,
            read_only: false,
            uid: 0,
            gid: 0,
            cache_dir: cache.path().to_path_buf(),
            max_in_flight: 8,
        },
    )
    .expect("core");
    let writer = core
        .enable_writes(&cache.path().join("journal"), Duration::ZERO)
        .expect("writes");
    let ino = core.lookup(ROOT_INO, "Doc.md").await.expect("lookup").ino;
    emu.control().reset_stats();

    let t0 = Instant::now();
    let o = core.open(ino, libc::O_RDONLY).await.expect("open");
    let mut text = Vec::new();
    loop {
        let c = core.read(o.fh, text.len() as u64, 1 << 16).expect("read");
        if c.is_empty() {
            break;
        }
        text.extend(c);
    }
    core.close(o.fh).await.expect("close");
    let open_time = t0.elapsed();
    let open_calls = emu.control().total_calls();
    emu.control().reset_stats();

    let mut text = String::from_utf8(text).expect("utf-8");
    for n in [2, 9, 20] {
        let line = format!("Section {n}, paragraph 1: some prose about the topic at hand.");
        assert!(text.contains(&line), "{line}");
        text = text.replace(&line, &format!("Section {n}, paragraph 1: rewritten."));
    }
    let t1 = Instant::now();
    let w = core
        .open(ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .expect("open for writing");
    core.write(w.fh, 0, text.as_bytes()).expect("write");
    core.close(w.fh).await.expect("close");
    while writer.journal().pending_count() > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let save_time = t1.elapsed();
    let (save_reads, save_writes) = counts(&emu);
    Session {
        open_calls,
        open_time,
        save_reads,
        save_writes,
        save_time,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let size: usize = page().iter().map(Block::tree_size).sum();
    println!("notionfs write-back: diff + apply on a {size}-block page (emulator over HTTP)");
    println!(
        "{:<38} {:>9} {:>7} {:>7} {:>10} {:>11}",
        "scenario", "latency", "calls", "min", "diff", "apply"
    );
    let scenarios: [Scenario; 4] = [
        ("change 3 paragraphs", &|t: &mut Vec<Block>| change3(t), 3),
        ("insert 3 paragraphs", &insert3, 3),
        ("delete 3 paragraphs", &delete3, 3),
        ("change 3, insert 1, delete 1", &session, 5),
    ];
    for latency in [0, 50] {
        for (name, edit, min) in &scenarios {
            let o = run(latency, *edit).await;
            println!(
                "{:<38} {:>7}ms {:>7} {:>7} {:>8.2}ms {:>9.2}ms",
                name,
                latency,
                o.calls,
                min,
                o.diff_time.as_secs_f64() * 1e3,
                o.apply_time.as_secs_f64() * 1e3
            );
            assert_eq!(o.calls, *min, "{name}: more calls than the minimum");
        }
    }
    println!("(replacing the body instead would cost {size} deletes + appends)");
    println!();
    println!("whole session through the filesystem core: open, change 3 paragraphs, save");
    println!(
        "{:<9} {:>10} {:>10} {:>11} {:>12} {:>9} {:>12}",
        "latency", "open calls", "open time", "check reads", "writes (min)", "", "save->Notion"
    );
    for latency in [0, 50] {
        let s = session_through_the_core(latency).await;
        println!(
            "{:>7}ms {:>10} {:>8.1}ms {:>11} {:>8} ({}) {:>9} {:>10.1}ms",
            latency,
            s.open_calls,
            s.open_time.as_secs_f64() * 1e3,
            s.save_reads,
            s.save_writes,
            3,
            "",
            s.save_time.as_secs_f64() * 1e3
        );
        assert_eq!(s.save_writes, 3, "more writes than the minimum");
    }
    println!(
        "(check reads: before the push, one retrieve-page call shows the page untouched since \
         it was read; otherwise its content is read again to merge or refuse remote edits)"
    );
}
