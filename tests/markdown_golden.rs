//! Golden tests of the dialect: for each block type and each annotation, the exact
//! Markdown it renders to, and the blocks that Markdown parses back to.

use notionfs::markdown::normalize::normalize;
use notionfs::markdown::{parse, parse_with, render, render_with, Links, Resolved};
use notionfs::notion::model::{Block, FileObject};
use serde_json::{json, Value};

fn blocks(v: Value) -> Vec<Block> {
    serde_json::from_value(v).expect("valid blocks")
}

fn t(s: &str) -> Value {
    json!({"type": "text", "text": {"content": s, "link": null}})
}

fn ta(s: &str, ann: Value) -> Value {
    json!({"type": "text", "text": {"content": s, "link": null}, "annotations": ann})
}

fn p(rt: Value) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": rt, "color": "default"}})
}

/// Both directions: `b` renders to exactly `md`, and `md` parses back to `b`.
#[track_caller]
fn golden(b: Value, md: &str) {
    let b = blocks(b);
    assert_eq!(render(&b), md, "render");
    let back = parse(md);
    assert_eq!(
        serde_json::to_value(normalize(&back)).expect("json"),
        serde_json::to_value(normalize(&b)).expect("json"),
        "parse of:\n{md}"
    );
}

#[test]
fn paragraphs_and_empty_blocks() {
    golden(json!([p(json!([t("Hello")]))]), "Hello\n");
    golden(json!([p(json!([]))]), "<empty-block/>\n");
    golden(
        json!([{"type": "paragraph", "paragraph": {"rich_text": [], "color": "red_background"}}]),
        "<empty-block/> {color=\"red_bg\"}\n",
    );
    golden(json!([p(json!([t("a")])), p(json!([t("b")]))]), "a\n\nb\n");
    golden(json!([p(json!([t("line\nbreak")]))]), "line<br>break\n");
}

#[test]
fn headings() {
    for (n, hashes) in [(1, "#"), (2, "##"), (3, "###")] {
        let ty = format!("heading_{n}");
        golden(
            json!([{"type": ty, ty.clone(): {"rich_text": [t("Title")], "color": "default", "is_toggleable": false}}]),
            &format!("{hashes} Title\n"),
        );
        golden(
            json!([{"type": ty, ty.clone(): {"rich_text": [t("T")], "color": "blue", "is_toggleable": true,
                "children": [p(json!([t("in")]))]}}]),
            &format!("<details heading=\"{n}\" color=\"blue\">\n<summary>T</summary>\n\nin\n\n</details>\n"),
        );
    }
    // Deeper headings read as heading_3.
    let b = parse("#### Deep\n");
    assert_eq!(b[0].type_name(), "heading_3");
    assert_eq!(render(&b), "### Deep\n");
}

#[test]
fn lists_and_todos() {
    golden(
        json!([
            {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [t("a")], "color": "default"}},
            {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [t("b")], "color": "default",
                "children": [{"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [t("c")], "color": "default"}}]}}
        ]),
        "- a\n- b\n  - c\n",
    );
    golden(
        json!([
            {"type": "numbered_list_item", "numbered_list_item": {"rich_text": [t("one")], "color": "default"}},
            {"type": "numbered_list_item", "numbered_list_item": {"rich_text": [t("two")], "color": "default"}},
            {"type": "numbered_list_item", "numbered_list_item": {"rich_text": [t("three")], "color": "default"}}
        ]),
        "1. one\n2. two\n3. three\n",
    );
    golden(
        json!([{"type": "numbered_list_item", "numbered_list_item": {"rich_text": [t("x")], "color": "default",
            "list_start_index": 4, "list_format": "roman"}}]),
        "4. x {list-format=\"roman\"}\n",
    );
    golden(
        json!([
            {"type": "to_do", "to_do": {"rich_text": [t("open")], "checked": false, "color": "default"}},
            {"type": "to_do", "to_do": {"rich_text": [t("done")], "checked": true, "color": "green"}}
        ]),
        "- [ ] open\n- [x] done {color=\"green\"}\n",
    );
    golden(
        json!([{"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [], "color": "default"}}]),
        "- <empty-block/>\n",
    );
}

#[test]
fn toggles_quotes_callouts() {
    golden(
        json!([{"type": "toggle", "toggle": {"rich_text": [t("More")], "color": "default",
            "children": [p(json!([t("hidden")]))]}}]),
        "<details>\n<summary>More</summary>\n\nhidden\n\n</details>\n",
    );
    golden(
        json!([{"type": "quote", "quote": {"rich_text": [t("said")], "color": "default",
            "children": [p(json!([t("more")]))]}}]),
        "> said\n>\n> more\n",
    );
    golden(
        json!([{"type": "callout", "callout": {"rich_text": [t("Note")], "icon": {"type": "emoji", "emoji": "💡"},
            "color": "gray_background", "children": [p(json!([t("child")]))]}}]),
        "<callout icon=\"💡\" color=\"gray_bg\">\n\nNote\n\nchild\n\n</callout>\n",
    );
    // GFM alerts read as callouts and render back as alerts.
    let b = parse("> [!WARNING]\n> Careful\n");
    assert_eq!(b[0].type_name(), "callout");
    assert_eq!(render(&b), "> [!WARNING]\n> Careful\n");
}

#[test]
fn code_and_equations() {
    golden(
        json!([{"type": "code", "code": {"rich_text": [t("fn main() {}\n")], "caption": [t("cap")], "language": "rust"}}]),
        "```rust\nfn main() {}\n\n```\n<!-- caption: cap -->\n",
    );
    golden(
        json!([{"type": "code", "code": {"rich_text": [t("a ``` b")], "caption": [], "language": "plain text"}}]),
        "````plain-text\na ``` b\n````\n",
    );
    golden(
        json!([{"type": "code", "code": {"rich_text": [t("x")], "caption": [], "language": "c++"}}]),
        "```c++\nx\n```\n",
    );
    for (info, lang) in [
        ("cpp", "c++"),
        ("js", "javascript"),
        ("sh", "shell"),
        ("text", "plain text"),
        ("yml", "yaml"),
    ] {
        let b = parse(&format!("```{info}\nx\n```\n"));
        assert_eq!(b[0].to_request()["code"]["language"], lang, "{info}");
    }
    // Unknown info strings read as plain text and are kept in the caption.
    let b = parse("```foo bar\nx\n```\n");
    assert_eq!(b[0].to_request()["code"]["language"], "plain text");
    assert_eq!(
        render(&b),
        "```plain-text\nx\n```\n<!-- caption: foo bar -->\n"
    );
    golden(
        json!([{"type": "equation", "equation": {"expression": "e=mc^2"}}]),
        "$$\ne=mc^2\n$$\n",
    );
    golden(
        json!([{"type": "equation", "equation": {"expression": "a\n\n= $b$"}}]),
        "```math\na\n\n= $b$\n```\n",
    );
}

#[test]
fn simple_blocks_and_placeholders() {
    golden(json!([{"type": "divider", "divider": {}}]), "---\n");
    golden(
        json!([{"type": "breadcrumb", "breadcrumb": {}}]),
        "<breadcrumb/>\n",
    );
    golden(
        json!([{"type": "table_of_contents", "table_of_contents": {"color": "gray"}}]),
        "<table-of-contents color=\"gray\"/>\n",
    );
    let md = "<unsupported type=\"ai_block\" id=\"b1\"/>\n";
    let b = parse(md);
    assert_eq!(b[0].type_name(), "ai_block");
    assert_eq!(b[0].id.as_deref(), Some("b1"));
    assert_eq!(render(&b), md);
    let md = "<synced-block-copy from=\"orig\" id=\"c1\"/>\n";
    let b = parse(md);
    assert_eq!(b[0].type_name(), "synced_block");
    assert_eq!(b[0].id.as_deref(), Some("c1"));
    assert!(!b[0].kind.is_creatable());
    assert_eq!(render(&b), md);
    let md = "<link-preview url=\"https://github.com/a/b\" id=\"l1\"/>\n";
    assert_eq!(render(&parse(md)), md);
    golden(
        json!([{"type": "synced_block", "synced_block": {"synced_from": null, "children": [p(json!([t("shared")]))]}}]),
        "<synced-block>\n\nshared\n\n</synced-block>\n",
    );
    // Children of a block Markdown cannot nest.
    golden(
        json!([{"type": "paragraph", "paragraph": {"rich_text": [t("parent")], "color": "default",
            "children": [p(json!([t("kid")]))]}}]),
        "parent\n\n<children>\n\nkid\n\n</children>\n",
    );
}

#[test]
fn tables_and_columns() {
    let row =
        |a: &str, b: &str| json!({"type": "table_row", "table_row": {"cells": [[t(a)], [t(b)]]}});
    golden(
        json!([{"type": "table", "table": {"table_width": 2, "has_column_header": true, "has_row_header": false,
            "children": [row("h1", "h2"), row("a|b", "c")]}}]),
        "| h1 | h2 |\n| --- | --- |\n| a\\|b | c |\n",
    );
    golden(
        json!([{"type": "table", "table": {"table_width": 2, "has_column_header": false, "has_row_header": true,
            "children": [row("a", "b")]}}]),
        "<table header-row=\"false\" header-column=\"true\" width=\"2\">\n<tr>\n<td>a</td>\n<td>b</td>\n</tr>\n</table>\n",
    );
    golden(
        json!([{"type": "column_list", "column_list": {"children": [
            {"type": "column", "column": {"width_ratio": 0.5, "children": [p(json!([t("left")]))]}},
            {"type": "column", "column": {"children": [p(json!([t("right")]))]}}
        ]}}]),
        "<columns>\n\n<column width=\"0.5\">\n\nleft\n\n</column>\n\n<column>\n\nright\n\n</column>\n\n</columns>\n",
    );
}

#[test]
fn media_bookmarks_pages() {
    let ext = |u: &str| json!({"type": "external", "external": {"url": u}});
    golden(
        json!([{"type": "image", "image": {"type": "external", "external": {"url": "https://x/y.png"}, "caption": [t("A cat")]}}]),
        "![A cat](https://x/y.png)\n",
    );
    for ty in ["file", "pdf", "video", "audio"] {
        let mut payload = ext("https://x/f");
        payload["caption"] = json!([t("cap")]);
        golden(
            json!([{"type": ty, ty: payload}]),
            &format!("<{ty} src=\"https://x/f\">cap</{ty}>\n"),
        );
    }
    golden(
        json!([{"type": "bookmark", "bookmark": {"url": "https://n.so", "caption": [t("site")]}}]),
        "<bookmark url=\"https://n.so\">site</bookmark>\n",
    );
    golden(
        json!([{"type": "embed", "embed": {"url": "https://n.so/e", "caption": []}}]),
        "<embed url=\"https://n.so/e\"></embed>\n",
    );
    golden(
        json!([{"type": "link_to_page", "link_to_page": {"type": "page_id", "page_id": "abc"}}]),
        "<link-to-page id=\"abc\"></link-to-page>\n",
    );
    let b = blocks(
        json!([{"object": "block", "id": "p1", "type": "child_page", "child_page": {"title": "Child"}}]),
    );
    assert_eq!(render(&b), "<page id=\"p1\">Child</page>\n");
    assert_eq!(
        parse("<page id=\"p1\">Child</page>\n")[0].id.as_deref(),
        Some("p1")
    );
}

#[test]
fn annotations() {
    let cases = [
        (json!({"bold": true}), "**x**"),
        (json!({"italic": true}), "*x*"),
        (json!({"strikethrough": true}), "~~x~~"),
        (json!({"code": true}), "`x`"),
        (
            json!({"underline": true}),
            "<span underline=\"true\">x</span>",
        ),
        (json!({"color": "red"}), "<span color=\"red\">x</span>"),
        (
            json!({"color": "blue_background"}),
            "<span color=\"blue_bg\">x</span>",
        ),
        (json!({"bold": true, "italic": true}), "***x***"),
        (
            json!({"bold": true, "strikethrough": true, "underline": true}),
            "<span underline=\"true\">**~~x~~**</span>",
        ),
    ];
    for (ann, md) in cases {
        golden(
            json!([p(json!([t("a "), ta("x", ann), t(" b")]))]),
            &format!("a {md} b\n"),
        );
    }
    golden(
        json!([p(
            json!([{"type": "text", "text": {"content": "link", "link": {"url": "https://x.y/a b"}}, "annotations": {"bold": true}}])
        )]),
        "[**link**](<https://x.y/a b>)\n",
    );
    golden(
        json!([p(
            json!([{"type": "equation", "equation": {"expression": "x^2"}}])
        )]),
        "$x^2$\n",
    );
    // Markers that would not open or close next to letters: the tag form, never an
    // escaped letter.
    golden(
        json!([p(json!([t("a"), ta("(b)", json!({"bold": true})), t("c")]))]),
        "a<span bold=\"true\">(b)</span>c\n",
    );
    golden(
        json!([p(json!([
            t("see "),
            ta("(b)", json!({"bold": true})),
            t(" here")
        ]))]),
        "see **(b)** here\n",
    );
    // Touching delimiters fall back to the span form.
    golden(
        json!([p(json!([
            ta("a", json!({"bold": true})),
            ta("b", json!({"italic": true}))
        ]))]),
        "**a**<span italic=\"true\">b</span>\n",
    );
}

#[test]
fn mentions() {
    let m = |mention: Value, plain: &str| json!({"type": "mention", "mention": mention, "plain_text": plain});
    golden(
        json!([p(json!([m(
            json!({"type": "page", "page": {"id": "p1"}}),
            "Home"
        )]))]),
        "<mention-page url=\"https://www.notion.so/p1\">Home</mention-page>\n",
    );
    golden(
        json!([p(json!([m(
            json!({"type": "database", "database": {"id": "d1"}}),
            "Tasks"
        )]))]),
        "<mention-database url=\"https://www.notion.so/d1\">Tasks</mention-database>\n",
    );
    golden(
        json!([p(json!([m(
            json!({"type": "user", "user": {"object": "user", "id": "u1"}}),
            "Ada"
        )]))]),
        "<mention-user url=\"user://u1\">Ada</mention-user>\n",
    );
    golden(
        json!([p(
            json!([{"type": "mention", "mention": {"type": "date", "date": {"start": "2025-01-01", "end": "2025-01-02"}}}])
        )]),
        "<mention-date start=\"2025-01-01\" end=\"2025-01-02\"/>\n",
    );
    golden(
        json!([p(
            json!([{"type": "mention", "mention": {"type": "link_preview", "link_preview": {"url": "https://g.com/x"}}}])
        )]),
        "<mention-link-preview url=\"https://g.com/x\"/>\n",
    );
    golden(
        json!([p(json!([m(json!({"type": "template_mention", "template_mention": {"type": "template_mention_user", "template_mention_user": "me"}}), "@me")]))]),
        "<mention-template-mention data=\"{&quot;type&quot;:&quot;template_mention_user&quot;,&quot;template_mention_user&quot;:&quot;me&quot;}\">@me</mention-template-mention>\n",
    );
}

#[test]
fn escaping_keeps_text_literal() {
    let nasty = "*a* _b_ `c` [d](e) <f> # g $h$ ~i~ \\ &amp; | {color=\"red\"}";
    golden(json!([p(json!([t(nasty)]))]), "\\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\<f> # g \\$h\\$ \\~i\\~ \\\\ \\&amp; | \\{color=\"red\"}\n");
    for start in [
        "# x", "- x", "+ x", "> x", "1. x", "12) x", "---", "=", "    code", " lead", "trail ",
        "\ttab",
    ] {
        let b = blocks(json!([p(json!([t(start)]))]));
        let md = render(&b);
        assert_eq!(normalize(&parse(&md)), normalize(&b), "{start:?} -> {md:?}");
    }
}

#[test]
fn literal_markdown_is_kept() {
    for md in [
        "<div>raw</div>\n",
        "[ref]: https://x.y\n",
        "Text[^1]\n\n[^1]: A note\n",
        "<!-- a comment -->\n",
        "<callout>\nnot closed\n",
    ] {
        let once = render(&parse(md));
        let words: Vec<&str> = md
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for w in words {
            assert!(once.contains(w), "{md:?} lost {w:?}: {once:?}");
        }
        assert_eq!(render(&parse(&once)), once, "{md:?}");
    }
}

struct FsLinks;

impl Links for FsLinks {
    fn child_path(&self, b: &Block) -> Option<String> {
        b.id.as_ref().map(|id| format!("T/{id}.md"))
    }
    fn media_path(&self, _b: &Block) -> Option<String> {
        Some("T/cat.png".into())
    }
    fn page_title(&self, id: &str) -> Option<String> {
        Some(format!("Title of {id}"))
    }
    fn resolve(&self, path: &str) -> Option<Resolved> {
        match path {
            "T/cat.png" => Some(Resolved {
                block_id: "img1".into(),
                file: Some(FileObject::File(
                    notionfs::notion::model::file::HostedFile {
                        url: "https://s3/signed".into(),
                        expiry_time: None,
                        extra: Default::default(),
                    },
                )),
            }),
            p => p
                .strip_prefix("T/")
                .and_then(|p| p.strip_suffix(".md"))
                .map(|id| Resolved {
                    block_id: id.to_string(),
                    file: None,
                }),
        }
    }
}

#[test]
fn links_map_pages_and_hosted_files_to_paths() {
    let b = blocks(json!([
        {"object": "block", "id": "c1", "type": "child_page", "child_page": {"title": "Child"}},
        {"object": "block", "id": "img1", "type": "image", "image": {"type": "file",
            "file": {"url": "https://s3/signed", "expiry_time": "2025-01-01T00:00:00.000Z"}, "caption": []}},
        {"type": "link_to_page", "link_to_page": {"type": "page_id", "page_id": "abc"}}
    ]));
    let md = render_with(&b, &FsLinks);
    assert_eq!(
        md,
        "<page path=\"T/c1.md\">Child</page>\n\n![](T/cat.png)\n\n<link-to-page id=\"abc\">Title of abc</link-to-page>\n"
    );
    assert!(!md.contains("s3/signed"), "never a signed URL");
    let back = parse_with(&md, &FsLinks);
    assert_eq!(back[0].id.as_deref(), Some("c1"));
    assert_eq!(back[1].id.as_deref(), Some("img1"));
    assert_eq!(
        back[1].to_request()["image"]["file"]["url"],
        "https://s3/signed"
    );
    assert_eq!(render_with(&back, &FsLinks), md);
}

#[test]
fn hostile_nesting_is_bounded_and_stable() {
    let inputs = [
        "> ".repeat(500) + "deep",
        (0..300)
            .map(|i| format!("{}- item{i}\n", "  ".repeat(i)))
            .collect::<String>(),
        "<details>\n<summary>s</summary>\n\n".repeat(300)
            + "inner\n\n"
            + &"</details>\n\n".repeat(300),
        "<callout>\n\n".repeat(300) + "x",
    ];
    // A thread with the default 2 MiB stack, like the filesystem's workers.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for md in &inputs {
                let blocks = parse(md);
                let depth = blocks.iter().map(Block::tree_depth).max().unwrap_or(0);
                assert!(depth < 45, "depth {depth}");
                let once = render(&blocks);
                assert_eq!(render(&parse(&once)), once);
                assert!(
                    once.contains("deep")
                        || once.contains("item299")
                        || once.contains("inner")
                        || once.contains('x')
                );
            }
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

fn callout(icon: &str, color: &str, text: &str, children: Value) -> Value {
    json!({"type": "callout", "callout": {"rich_text": [t(text)], "icon": {"type": "emoji", "emoji": icon},
        "color": color, "children": children}})
}

#[test]
fn callouts_of_alert_colours_are_github_alerts() {
    for (kind, icon, color) in [
        ("NOTE", "ℹ️", "blue_background"),
        ("TIP", "💡", "green_background"),
        ("IMPORTANT", "❗", "purple_background"),
        ("WARNING", "⚠️", "yellow_background"),
        ("CAUTION", "🛑", "red_background"),
    ] {
        golden(
            json!([callout(icon, color, "Read this", json!([]))]),
            &format!("> [!{kind}]\n> Read this\n"),
        );
        // Children stay inside the alert.
        golden(
            json!([callout(
                icon,
                color,
                "Read this",
                json!([
                    p(json!([t("more")])),
                    {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [t("a")], "color": "default"}}
                ])
            )]),
            &format!("> [!{kind}]\n> Read this\n>\n> more\n>\n> - a\n"),
        );
    }
    // An empty alert, and one nested in a list item (tight: a quote may follow the line).
    golden(
        json!([callout("ℹ️", "blue_background", "", json!([]))]),
        "> [!NOTE]\n> <empty-block/>\n",
    );
    golden(
        json!([{"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [t("item")], "color": "default",
            "children": [callout("⚠️", "yellow_background", "careful", json!([]))]}}]),
        "- item\n  > [!WARNING]\n  > careful\n",
    );
    // The icon without the colour (or the colour without the icon) is a plain callout.
    golden(
        json!([callout("⚠️", "gray_background", "x", json!([]))]),
        "<callout icon=\"⚠️\" color=\"gray_bg\">\n\nx\n\n</callout>\n",
    );
    golden(
        json!([callout("🔥", "red_background", "x", json!([]))]),
        "<callout icon=\"🔥\" color=\"red_bg\">\n\nx\n\n</callout>\n",
    );
}

fn item(ty: &str, text: &str, children: Value) -> Value {
    json!({"type": ty, ty: {"rich_text": if text.is_empty() { json!([]) } else { json!([t(text)]) },
        "color": "default", "children": children}})
}

#[test]
fn lists_are_tight_unless_a_child_needs_a_blank_line() {
    let b = "bulleted_list_item";
    let n = "numbered_list_item";
    golden(
        json!([
            item(
                b,
                "a",
                json!([item(b, "b", json!([item(b, "c", json!([]))]))])
            ),
            item(b, "d", json!([]))
        ]),
        "- a\n  - b\n    - c\n- d\n",
    );
    golden(
        json!([
            item(n, "one", json!([item(n, "one.a", json!([]))])),
            item(n, "two", json!([]))
        ]),
        "1. one\n   1. one.a\n2. two\n",
    );
    // Code and headings may follow an item's line directly.
    golden(
        json!([
            item(
                b,
                "a",
                json!([{"type": "code", "code": {"rich_text": [t("x")], "caption": [], "language": "rust"}}])
            ),
            item(b, "b", json!([]))
        ]),
        "- a\n  ```rust\n  x\n  ```\n- b\n",
    );
    // A paragraph would continue the item's own text: it needs the blank line.
    golden(
        json!([
            item(b, "a", json!([p(json!([t("para")]))])),
            item(b, "b", json!([]))
        ]),
        "- a\n\n  para\n- b\n",
    );
    // So does a list that does not start at 1, and anything after an `<empty-block/>`
    // line (an HTML block would swallow it).
    golden(
        json!([item(
            b,
            "a",
            json!([{"type": n, n: {"rich_text": [t("x")], "color": "default", "list_start_index": 3}}])
        )]),
        "- a\n\n  3. x\n",
    );
    golden(
        json!([item(b, "", json!([item(b, "x", json!([]))]))]),
        "- <empty-block/>\n\n  - x\n",
    );
}

#[test]
fn edge_whitespace_sits_outside_markers_and_not_at_line_ends() {
    let bold = json!({"bold": true});
    golden(
        json!([p(json!([
            ta("Warning: ", bold.clone()),
            t("tests run against the emulator.")
        ]))]),
        "**Warning:** tests run against the emulator.\n",
    );
    // A space moved out of the markers stays in the run's link and span.
    golden(
        json!([p(json!([
            {"type": "text", "text": {"content": "Read ", "link": {"url": "https://x.y/"}}, "annotations": {"bold": true}},
            {"type": "text", "text": {"content": "more", "link": {"url": "https://x.y/"}}},
            t(" or "),
            ta(" skip ", json!({"italic": true, "color": "red"})),
            t("it")
        ]))]),
        "[**Read** more](https://x.y/) or <span color=\"red\"> *skip* </span>it\n",
    );
    // Trailing whitespace of a block is not written; a leading space is a reference.
    let b = blocks(json!([p(json!([t(" lead"), ta("end  ", bold)]))]));
    assert_eq!(render(&b), "&#32;lead**end**\n");
    assert_eq!(
        normalize(&parse(&render(&b))),
        normalize(&blocks(json!([p(json!([
            t(" lead"),
            ta("end", json!({"bold": true}))
        ]))])))
    );
}
