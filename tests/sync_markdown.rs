//! End to end: a page read from the emulator, rendered to Markdown, edited as text, parsed,
//! diffed and applied; Notion ends up holding exactly the saved Markdown, with minimal calls.

mod common;

use common::blocks::*;
use notionfs::markdown::{parse, render};
use notionfs::sync::{apply, diff, Op};

const DOC: &str = "\
# Project notes

Some intro text with **bold** and a [link](https://example.com).

## Tasks

- [ ] write the spec
- [x] build the emulator

- first point
  - nested detail
- second point

```rust
fn main() {}
```

> a quote

| name | qty |
| --- | --- |
| apples | 3 |

---

Closing paragraph.
";

async fn setup() -> (
    notionfs::emulator::Emulator,
    notionfs::notion::Client,
    Vec<notionfs::notion::model::Block>,
) {
    let (emu, client) = emulator_with(&parse(DOC)).await;
    let old = read_tree(&client, PAGE).await;
    emu.control().reset_stats();
    (emu, client, old)
}

/// Saves `md` over the page rendered from `old`; returns the new base and the calls made.
async fn save(
    client: &notionfs::notion::Client,
    emu: &notionfs::emulator::Emulator,
    old: &[notionfs::notion::model::Block],
    md: &str,
) -> (Vec<notionfs::notion::model::Block>, u64, Vec<Op>) {
    let before = emu.control().total_calls();
    let plan = diff(PAGE, old, &parse(md)).expect("diff");
    let applied = apply(client, &plan).await.expect("apply");
    let calls = emu.control().total_calls() - before;
    let now = read_tree(client, PAGE).await;
    assert_eq!(
        render(&now),
        md,
        "Notion now renders exactly what was saved"
    );
    assert_eq!(ids(&applied.tree), ids(&now));
    (applied.tree, calls, plan.ops)
}

#[tokio::test]
async fn rendered_page_parses_back_to_an_empty_plan() {
    let (_emu, _client, old) = setup().await;
    let md = render(&old);
    assert_eq!(md, render(&parse(DOC)), "the page holds what was seeded");
    let plan = diff(PAGE, &old, &parse(&md)).unwrap();
    assert!(plan.is_empty(), "spurious operations: {:?}", plan.ops);
}

#[tokio::test]
async fn text_edits_cost_what_they_change() {
    let (emu, client, old) = setup().await;
    let md = render(&old);

    // Reword one paragraph: one update, every id kept.
    let md1 = md.replace("Closing paragraph.", "Closing paragraph, reworded.");
    let (old1, calls, _) = save(&client, &emu, &old, &md1).await;
    assert_eq!(calls, 1);
    assert_eq!(ids(&old1), ids(&old));

    // Tick a to-do and add a nested bullet: one update + one append.
    let md2 = md1
        .replace("- [ ] write the spec", "- [x] write the spec")
        .replace(
            "  - nested detail\n",
            "  - nested detail\n  - another detail\n",
        );
    let (old2, calls, _) = save(&client, &emu, &old1, &md2).await;
    assert_eq!(calls, 2);

    // Heading level change: delete + insert at the same place.
    let md3 = md2.replace("## Tasks", "### Tasks");
    let (old3, calls, ops) = save(&client, &emu, &old2, &md3).await;
    assert_eq!(calls, 2, "{ops:?}");

    // A table cell: one row update.
    let md4 = md3.replace("| apples | 3 |", "| apples | 4 |");
    let (old4, calls, _) = save(&client, &emu, &old3, &md4).await;
    assert_eq!(calls, 1);

    // Delete the quote line and the divider: two deletes.
    let md5 = md4.replace("> a quote\n\n", "").replace("---\n\n", "");
    let (_, calls, _) = save(&client, &emu, &old4, &md5).await;
    assert_eq!(calls, 2);
}

/// A page as people write it in Notion: styled runs that end in a space, text that ends in
/// spaces, a bold run at the very end.
fn spaced_page() -> Vec<notionfs::notion::model::Block> {
    use notionfs::notion::model::Block;
    let blocks = serde_json::json!([
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "Warning: "}, "annotations": {"bold": true}},
            {"type": "text", "text": {"content": "tests run against the emulator.  "}}]}},
        {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [
            {"type": "text", "text": {"content": "Invoice "}, "annotations": {"italic": true, "underline": true}},
            {"type": "text", "text": {"content": "\tsent"}},
            {"type": "text", "text": {"content": " later "}, "annotations": {"strikethrough": true}}]}},
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "Old "}},
            {"type": "text", "text": {"content": " news "}, "annotations": {"bold": true}}]}},
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "unchanged neighbour"}}]}}
    ]);
    serde_json::from_value::<Vec<Block>>(blocks).expect("blocks")
}

#[tokio::test]
async fn edge_spaces_are_written_outside_markers_and_an_untouched_save_costs_nothing() {
    let (emu, client) = emulator_with(&spaced_page()).await;
    let old = read_tree(&client, PAGE).await;
    let md = render(&old);
    assert_eq!(
        md,
        "**Warning:** tests run against the emulator.\n\n\
         - <span underline=\"true\">*Invoice* </span>\tsent ~~later~~\n\n\
         Old  **news**\n\nunchanged neighbour\n"
    );
    assert!(!md.contains("&#"), "no character references: {md}");
    emu.control().reset_stats();
    let plan = diff(PAGE, &old, &parse(&md)).expect("diff");
    assert!(plan.is_empty(), "spurious operations: {:?}", plan.ops);
    apply(&client, &plan).await.expect("apply");
    assert_eq!(
        emu.control().total_calls(),
        0,
        "an untouched save costs no call"
    );
}

#[tokio::test]
async fn a_save_never_rewrites_a_block_for_where_its_edge_spaces_sit() {
    let (emu, client, old) = {
        let (emu, client) = emulator_with(&spaced_page()).await;
        let old = read_tree(&client, PAGE).await;
        (emu, client, old)
    };
    // The same content with every edge space placed differently: inside the markers,
    // at the end of the blocks, split into other runs.
    let moved = serde_json::json!([
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "Warning:"}, "annotations": {"bold": true}},
            {"type": "text", "text": {"content": " tests run against the emulator."}}]}},
        {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [
            {"type": "text", "text": {"content": "Invoice"}, "annotations": {"italic": true, "underline": true}},
            {"type": "text", "text": {"content": " "}, "annotations": {"underline": true}},
            {"type": "text", "text": {"content": "\tsent "}},
            {"type": "text", "text": {"content": "later   "}, "annotations": {"strikethrough": true}}]}},
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "Old  "}},
            {"type": "text", "text": {"content": "news"}, "annotations": {"bold": true}}]}},
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "unchanged neighbour "}}]}}
    ]);
    let moved: Vec<notionfs::notion::model::Block> = serde_json::from_value(moved).expect("blocks");
    assert!(notionfs::sync::same_content(&old, &moved));
    let plan = diff(PAGE, &old, &moved).expect("diff");
    assert!(plan.is_empty(), "spurious operations: {:?}", plan.ops);

    // A real edit of one block costs one update of that block only.
    let md = render(&old).replace("Old  **news**", "Old  **news** today");
    emu.control().reset_stats();
    let plan = diff(PAGE, &old, &parse(&md)).expect("diff");
    assert_eq!(plan.ops.len(), 1, "{:?}", plan.ops);
    let Op::Update { id, .. } = &plan.ops[0] else {
        panic!("an update: {:?}", plan.ops)
    };
    assert_eq!(Some(id), old[2].id.as_ref());
    apply(&client, &plan).await.expect("apply");
    assert_eq!(emu.control().total_calls(), 1);
    let now = read_tree(&client, PAGE).await;
    assert_eq!(render(&now), md);
}
