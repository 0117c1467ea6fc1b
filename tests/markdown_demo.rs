//! The emulator's demo workspace through the real client (HTTP to the in-process emulator):
//! every page renders to Markdown that grep can read (every word as typed, no character
//! reference but the documented unavoidable ones), and every page survives
//! render -> parse -> append to a new page -> render.

use futures::TryStreamExt;
use notionfs::emulator::{demo, Emulator, EmulatorConfig};
use notionfs::markdown::convert::creatable_only;
use notionfs::markdown::{parse, render};
use notionfs::notion::model::{Block, BlockKind, RichTextKind};
use notionfs::notion::{Client, ClientConfig, Token};
use notionfs::sync::{apply, diff, read_tree};
use serde_json::json;

async fn start() -> (Emulator, Client) {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    let client = Client::new(cfg).expect("client");
    (emu, client)
}

/// Every page the token can see (pages and database rows), with its body.
async fn demo_pages(client: &Client) -> Vec<(String, Vec<Block>)> {
    let found: Vec<serde_json::Value> = client
        .search(json!({"filter": {"property": "object", "value": "page"}}))
        .try_collect()
        .await
        .expect("search");
    let mut out = Vec::new();
    for p in found {
        let id = p["id"].as_str().expect("page id").to_string();
        let body = read_tree(client, &id).await.expect("body");
        out.push((id, body));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// What may precede the text of a line: indentation, quote and list markers, a task box.
fn line_prefix(before: &str) -> bool {
    let rest = before.trim_start_matches(|c: char| {
        c == ' ' || c == '>' || c == '-' || c == '.' || c.is_ascii_digit()
    });
    let rest = rest.trim_start_matches("[ ] ").trim_start_matches("[x] ");
    rest.is_empty()
}

/// The kinds of character reference the dialect documents as unavoidable (man
/// notionfs(5), "Character references"), or `None` for any other.
fn documented_kind(md: &str, at: usize) -> Option<&'static str> {
    let rest = &md[at..];
    let end = rest.find(';')?;
    let code = &rest[2..end];
    let line_start = md[..at].rfind('\n').map_or(0, |p| p + 1);
    let before = &md[line_start..at];
    let in_tag = before
        .rfind('<')
        .is_some_and(|o| !before[o..].contains('>'));
    // Text starts right after a line prefix, an opening tag or a table cell's `| `.
    let text_start = line_prefix(before) || before.ends_with('>') || before.ends_with("| ");
    match code {
        "32" | "9" if !in_tag && text_start => Some("space or tab starting a line"),
        "10" | "13" | "0" if in_tag => Some("line break or NUL in an attribute"),
        "124" if in_tag && md[line_start..].starts_with('|') => Some("| in a tag in a table cell"),
        "13" | "11" | "12" | "0" if !in_tag => Some("control character in text"),
        _ => None,
    }
}

/// Counts the character references of `md` by documented kind; the undocumented ones are
/// returned with their context.
fn classify(md: &str, kinds: &mut std::collections::BTreeMap<&'static str, usize>) -> Vec<String> {
    let mut undocumented = Vec::new();
    for (at, _) in md.match_indices("&#") {
        match documented_kind(md, at) {
            Some(k) => *kinds.entry(k).or_default() += 1,
            None => {
                let from = md[..at].rfind('\n').map_or(0, |p| p + 1);
                let to = md[at..].find('\n').map_or(md.len(), |p| at + p);
                undocumented.push(md[from..to].to_string());
            }
        }
    }
    undocumented
}

#[test]
fn only_what_nothing_else_can_say_is_a_character_reference() {
    let blocks: Vec<Block> = serde_json::from_value(json!([
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "  indented, "}},
            {"type": "text", "text": {"content": "Note: "}, "annotations": {"bold": true}},
            {"type": "text", "text": {"content": "Invoice"}},
            {"type": "text", "text": {"content": "(Old)"}, "annotations": {"italic": true}},
            {"type": "text", "text": {"content": "Old\rline "}}]}},
        {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [
            {"type": "text", "text": {"content": "\ttabbed "}, "annotations": {"strikethrough": true}}]}},
        {"type": "table", "table": {"table_width": 1, "has_column_header": true, "has_row_header": false, "children": [
            {"type": "table_row", "table_row": {"cells": [[{"type": "text", "text": {"content": " head"}}]]}},
            {"type": "table_row", "table_row": {"cells": [[{"type": "equation", "equation": {"expression": "|x|"}}]]}}]}},
        {"type": "equation", "equation": {"expression": "a\n\n$b$"}},
        {"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "equation", "equation": {"expression": "a$\nb"}}]}}
    ]))
    .expect("blocks");
    let md = render(&blocks);
    assert_eq!(
        md,
        "&#32; indented, **Note:** Invoice<span italic=\"true\">(Old)</span>Old&#13;line\n\n\
         - &#9;~~tabbed~~\n\n\
         | &#32;head |\n| --- |\n| <equation expression=\"&#124;x&#124;\"/> |\n\n\
         ```math\na\n\n$b$\n```\n\n\
         <equation expression=\"a$&#10;b\"/>\n"
    );
    let mut kinds = Default::default();
    assert!(classify(&md, &mut kinds).is_empty());
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            ("control character in text", 1),
            ("line break or NUL in an attribute", 1),
            ("space or tab starting a line", 3),
            ("| in a tag in a table cell", 2),
        ]
    );
    // What the classifier refuses: a reference inside or at the start of a word.
    let mut none = Default::default();
    assert_eq!(classify("a&#98;c &#100;e\n", &mut none).len(), 2);
}

#[tokio::test]
async fn demo_pages_read_as_typed_with_only_documented_character_references() {
    let (_emu, client) = start().await;
    let pages = demo_pages(&client).await;
    assert!(pages.len() >= 30, "only {} pages", pages.len());
    let mut kinds = Default::default();
    let mut undocumented = Vec::new();
    let mut words = 0;
    for (id, body) in &pages {
        let md = render(body);
        for line in classify(&md, &mut kinds) {
            undocumented.push(format!("{id}: {line}"));
        }
        // Every word of every text run is in the file as typed.
        let mut stack: Vec<&Block> = body.iter().collect();
        while let Some(b) = stack.pop() {
            // Placeholders (templates, synced copies, …) only name their block.
            if !b.kind.is_creatable() {
                continue;
            }
            stack.extend(b.children.iter());
            if matches!(b.kind, BlockKind::Code(_)) {
                continue;
            }
            for r in b.kind.rich_text().into_iter().flatten() {
                let RichTextKind::Text(t) = &r.kind else {
                    continue;
                };
                for w in t.content.split(|c: char| !c.is_alphanumeric()) {
                    if !w.is_empty() {
                        words += 1;
                        assert!(md.contains(w), "{id}: {w:?} not findable in\n{md}");
                    }
                }
            }
        }
    }
    assert!(words > 200, "only {words} words checked");
    eprintln!("documented character references over the demo: {kinds:?}");
    assert!(
        undocumented.is_empty(),
        "undocumented character references: {undocumented:?}"
    );
}

/// Drops every id: a new page gets new blocks.
fn without_ids(blocks: &mut [Block]) {
    for b in blocks {
        b.id = None;
        without_ids(&mut b.children);
    }
}

/// `md` without the lines of blocks no request can create, as a new page shows it.
fn without_lines(md: &str, left_out: &[Block]) -> String {
    let mut out = md.to_string();
    for b in left_out {
        let mut b = b.clone();
        without_ids(std::slice::from_mut(&mut b));
        let line = render(std::slice::from_ref(&b));
        out = out.replacen(&line, "", 1);
    }
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    let body = out.trim_matches('\n');
    if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n")
    }
}

/// Blocks of `parsed` (top level) that no request can create.
fn uncreatable(parsed: &[Block]) -> Vec<Block> {
    parsed
        .iter()
        .filter(|b| !b.kind.is_creatable())
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_demo_page_round_trips_through_append() {
    let (emu, client) = start().await;
    let pages = demo_pages(&client).await;
    let mut copied = 0;
    for (id, body) in &pages {
        let md = render(body);
        let parsed = parse(&md);
        let dropped = uncreatable(&parsed);
        let mut left_out = Vec::new();
        let mut kept = creatable_only(parsed, &mut left_out);
        assert_eq!(
            left_out.iter().map(|(_, n)| n).sum::<usize>(),
            dropped.len(),
            "{id}: only top-level blocks are uncreatable in the demo"
        );
        without_ids(&mut kept);
        let page = client
            .create_page(json!({"parent": {"page_id": demo::team_home_id()},
                "properties": {"title": {"title": [{"type": "text", "text": {"content": format!("Copy of {id}")}}]}}}))
            .await
            .expect("create page");
        let plan = diff(&page.id, &[], &kept).expect("diff");
        apply(&client, &plan)
            .await
            .unwrap_or_else(|e| panic!("{id}: append refused: {e}\n{md}"));
        let mut copy = read_tree(&client, &page.id).await.expect("read copy");
        // The copy's blocks are new blocks: placeholders show new ids.
        without_ids(&mut copy);
        let again = render(&copy);
        assert_eq!(
            again,
            render(&kept),
            "{id}: the copy renders as its Markdown"
        );
        let mut original = parse(&md);
        without_ids(&mut original);
        assert_eq!(
            again,
            without_lines(&render(&original), &dropped),
            "{id}: the same Markdown but the lines no request can create"
        );
        copied += 1;
    }
    assert!(copied >= 30);
    // The showcase has every block type: its copy lost exactly the uncreatable ones.
    let showcase = pages
        .iter()
        .find(|(id, _)| *id == demo::showcase_id())
        .expect("showcase");
    let dropped = uncreatable(&parse(&render(&showcase.1)));
    let types: Vec<&str> = dropped.iter().map(Block::type_name).collect();
    assert_eq!(
        types,
        ["synced_block", "link_preview", "template", "unsupported"]
    );
    drop(emu);
}
