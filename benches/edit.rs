//! Cost of typical editing sessions on a 300-block page: API calls and wall time of
//! diff + apply against the in-process emulator, next to the minimum number of calls.
//!
//! Run: `cargo bench --bench edit`. Prints one line per scenario.

use std::time::{Duration, Instant};

use notionfs::emulator::{Emulator, EmulatorConfig, Seed};
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

async fn run(latency_ms: u64, edit: &dyn Fn(&mut Vec<Block>)) -> Outcome {
    let blocks = page();
    let children: Vec<_> = blocks.iter().map(Block::to_request).collect();
    let seed = json!({
        "workspace_name": "Bench", "workspace_id": "be0c0000-0000-4000-8000-000000000001",
        "bot": {"id": "be0c0000-0000-4000-8000-0000000000b0", "name": "Bench bot"},
        "pages": [{"id": PAGE, "parent": {"workspace": true}, "title": "Doc", "children": children}]
    });
    let emu = Emulator::start(EmulatorConfig {
        seed: Seed::from_json(&seed.to_string()).expect("seed"),
        latency_ms,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    let client = Client::new(cfg).expect("client");
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

#[tokio::main(flavor = "current_thread")]
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
}
