//! Blocks for the `sync_*` suites: builders, a seeded emulator holding one page, tree
//! reading, and random pages and edits for the property tests.

use notionfs::emulator::{Emulator, EmulatorConfig, Seed};
use notionfs::notion::model::block::{Code, Heading, TextBlock, ToDo};
use notionfs::notion::model::{Block, BlockKind, JsonMap, RichText};
use notionfs::notion::Client;
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::json;

/// Marks, in an expected tree, a block whose id the diff may legitimately not keep.
pub const LOOSE: &str = "loose-id";

/// The page [`emulator_with`] seeds.
pub const PAGE: &str = "5e5e5e5e-0000-4000-8000-000000000101";

fn tb(text: &str) -> TextBlock {
    TextBlock {
        rich_text: vec![RichText::plain(text)],
        color: "default".into(),
        extra: JsonMap::new(),
    }
}

/// A paragraph.
pub fn para(text: &str) -> Block {
    Block::new(BlockKind::Paragraph(tb(text)))
}

/// A level-2 heading.
pub fn heading(text: &str) -> Block {
    Block::new(BlockKind::Heading2(Heading {
        rich_text: vec![RichText::plain(text)],
        color: "default".into(),
        is_toggleable: false,
        extra: JsonMap::new(),
    }))
}

/// A bulleted list item with `children`.
pub fn bullet(text: &str, children: Vec<Block>) -> Block {
    Block::with_children(BlockKind::BulletedListItem(tb(text)), children)
}

/// A toggle with `children`.
pub fn toggle(text: &str, children: Vec<Block>) -> Block {
    Block::with_children(BlockKind::Toggle(tb(text)), children)
}

/// A quote.
pub fn quote(text: &str) -> Block {
    Block::new(BlockKind::Quote(tb(text)))
}

/// A to-do.
pub fn todo(text: &str, checked: bool) -> Block {
    Block::new(BlockKind::ToDo(ToDo {
        rich_text: vec![RichText::plain(text)],
        checked,
        color: "default".into(),
        extra: JsonMap::new(),
    }))
}

/// A Rust code block.
pub fn code(text: &str) -> Block {
    Block::new(BlockKind::Code(Code {
        rich_text: vec![RichText::plain(text)],
        caption: vec![],
        language: "rust".into(),
        extra: JsonMap::new(),
    }))
}

/// `b` with the id `id`.
pub fn with_id(mut b: Block, id: &str) -> Block {
    b.id = Some(id.to_string());
    b
}

/// The tree as a parser would produce it: no ids anywhere.
pub fn strip_ids(tree: &[Block]) -> Vec<Block> {
    tree.iter()
        .map(|b| {
            let mut c = Block::new(b.kind.clone());
            c.children = strip_ids(&b.children);
            c
        })
        .collect()
}

/// Gives every block of a local tree an id (`t-N`), to stand in for a tree read from Notion.
pub fn number_ids(tree: &mut [Block], next: &mut usize) {
    for b in tree {
        b.id = Some(format!("t-{next}"));
        *next += 1;
        number_ids(&mut b.children, next);
    }
}

/// An emulator whose workspace holds one page ([`PAGE`]) with `blocks` as its body.
pub async fn emulator_with(blocks: &[Block]) -> (Emulator, Client) {
    let children: Vec<serde_json::Value> = blocks.iter().map(Block::to_request).collect();
    let seed = json!({
        "workspace_name": "Sync tests",
        "workspace_id": "5e5e5e5e-0000-4000-8000-000000000001",
        "bot": {"id": "5e5e5e5e-0000-4000-8000-0000000000b0", "name": "Sync bot"},
        "pages": [{"id": PAGE, "parent": {"workspace": true}, "title": "Doc", "children": children}]
    });
    let seed = Seed::from_json(&seed.to_string()).expect("seed is valid");
    let emu = Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let client = super::core::client(&emu);
    (emu, client)
}

/// The whole block tree under `id`, children inline.
pub async fn read_tree(client: &Client, id: &str) -> Vec<Block> {
    notionfs::sync::read_tree(client, id)
        .await
        .expect("read tree")
}

/// Ids of a tree, depth first.
pub fn ids(tree: &[Block]) -> Vec<Option<String>> {
    let mut out = Vec::new();
    fn walk(t: &[Block], out: &mut Vec<Option<String>>) {
        for b in t {
            out.push(b.id.clone());
            walk(&b.children, out);
        }
    }
    walk(tree, &mut out);
    out
}

// ----- random pages and edits --------------------------------------------------------------

/// Random unique text.
pub fn text(rng: &mut StdRng, n: &mut usize) -> String {
    *n += 1;
    let words = [
        "alpha", "bravo", "delta", "omega", "kilo", "lima", "tango", "zulu",
    ];
    let k = rng.random_range(1..4);
    let w: Vec<&str> = (0..k)
        .map(|_| words[rng.random_range(0..words.len())])
        .collect();
    // The unique number at both ends keeps unrelated blocks dissimilar.
    format!("{n}: {} ({n})", w.join(" "))
}

fn can_nest(b: &Block) -> bool {
    matches!(
        b.kind,
        BlockKind::Paragraph(_) | BlockKind::BulletedListItem(_) | BlockKind::Toggle(_)
    )
}

/// A random block of a random type; children up to `depth` more levels.
pub fn random_block(rng: &mut StdRng, n: &mut usize, depth: usize) -> Block {
    let t = text(rng, n);
    let mut b = match rng.random_range(0..7) {
        0 | 1 => para(&t),
        2 => heading(&t),
        3 => bullet(&t, vec![]),
        4 => todo(&t, rng.random_bool(0.5)),
        5 => toggle(&t, vec![]),
        _ => {
            if rng.random_bool(0.5) {
                quote(&t)
            } else {
                code(&t)
            }
        }
    };
    if depth > 0 && can_nest(&b) && rng.random_bool(0.3) {
        let k = rng.random_range(1..4);
        b.children = (0..k).map(|_| random_block(rng, n, depth - 1)).collect();
        b.has_children = true;
    }
    b
}

/// A random page of `len` top-level blocks.
pub fn random_page(rng: &mut StdRng, n: &mut usize, len: usize) -> Vec<Block> {
    (0..len).map(|_| random_block(rng, n, 3)).collect()
}

/// Paths (indexes from the root) of every block.
fn paths(tree: &[Block]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    fn walk(t: &[Block], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        for (i, b) in t.iter().enumerate() {
            prefix.push(i);
            out.push(prefix.clone());
            walk(&b.children, prefix, out);
            prefix.pop();
        }
    }
    walk(tree, &mut Vec::new(), &mut out);
    out
}

fn list_at<'a>(tree: &'a mut Vec<Block>, parent: &[usize]) -> &'a mut Vec<Block> {
    let mut list = tree;
    for &i in parent {
        list = &mut list[i].children;
    }
    list
}

fn forget_ids(b: &mut Block) {
    b.id = None;
    b.children.iter_mut().for_each(forget_ids);
}

/// A random edit applied to `tree`, a copy of the old tree whose ids say what the diff must
/// keep: blocks whose identity must survive keep their id, new or recreated ones have none.
/// Returns a description.
pub fn random_edit(rng: &mut StdRng, n: &mut usize, tree: &mut Vec<Block>) -> String {
    let all = paths(tree);
    let pick = |rng: &mut StdRng| all[rng.random_range(0..all.len())].clone();
    let choice = if all.is_empty() {
        0
    } else {
        rng.random_range(0..6)
    };
    match choice {
        0 => {
            // Insert somewhere (a list of a nestable block, or the root).
            let parent: Vec<usize> = if all.is_empty() || rng.random_bool(0.5) {
                vec![]
            } else {
                let p = pick(rng);
                let mut l: &Vec<Block> = tree;
                for &i in &p[..p.len() - 1] {
                    l = &l[i].children;
                }
                if can_nest(&l[p[p.len() - 1]]) {
                    p
                } else {
                    vec![]
                }
            };
            let b = random_block(rng, n, 3);
            let list = list_at(tree, &parent);
            let at = rng.random_range(0..=list.len());
            list.insert(at, b);
            format!("insert at {parent:?}/{at}")
        }
        1 => {
            let p = pick(rng);
            let list = list_at(tree, &p[..p.len() - 1]);
            list.remove(p[p.len() - 1]);
            format!("delete {p:?}")
        }
        2 | 3 => {
            let p = pick(rng);
            let list = list_at(tree, &p[..p.len() - 1]);
            let b = &mut list[p[p.len() - 1]];
            if let BlockKind::ToDo(t) = &mut b.kind {
                if rng.random_bool(0.5) {
                    t.checked = !t.checked;
                    b.extra.insert(LOOSE.into(), serde_json::Value::Bool(true));
                    return format!("tick {p:?}");
                }
            }
            for arr in b.kind.rich_text_arrays_mut() {
                if let Some(r) = arr.first_mut() {
                    let old = r.text_content().to_string();
                    *r = RichText::plain(format!("{old} edited"));
                }
            }
            // A changed block is updated in place, but when several blocks of a gap changed
            // the diff may pair them differently for fewer calls: no claim on its own id.
            b.extra.insert(LOOSE.into(), serde_json::Value::Bool(true));
            format!("change {p:?}")
        }
        4 => {
            // Type change: same text, another type, fresh block.
            let p = pick(rng);
            let list = list_at(tree, &p[..p.len() - 1]);
            let i = p[p.len() - 1];
            let t = list[i]
                .kind
                .rich_text()
                .map(|r| notionfs::notion::model::rich_text::plain_text(r))
                .unwrap_or_default();
            let mut nb = if matches!(list[i].kind, BlockKind::Paragraph(_)) {
                quote(&t)
            } else {
                para(&t)
            };
            if can_nest(&nb) {
                nb.children = list[i].children.clone();
                nb.children.iter_mut().for_each(forget_ids);
            }
            list[i] = nb;
            format!("retype {p:?}")
        }
        _ => {
            // Move a top-level block elsewhere at the top level (recreated).
            if tree.len() < 2 {
                return "nothing".into();
            }
            let from = rng.random_range(0..tree.len());
            let mut b = tree.remove(from);
            forget_ids(&mut b);
            let to = rng.random_range(0..=tree.len());
            // Which side of a move is "the moved one" is a matter of choice when it jumps over
            // few blocks (a swap): make no claim about the blocks it jumped over.
            let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
            tree[lo..hi].iter_mut().for_each(forget_ids);
            tree.insert(to, b);
            format!("move {from} -> {to}")
        }
    }
}
