//! The built-in demo workspace: a small team's workspace that exercises every block type,
//! rich text feature and property type, with fixed ids and timestamps so tests can assert
//! on it.
//!
//! Layout (titles; ids are the constants below):
//!
//! ```text
//! Engineering Wiki 📚                      (workspace)
//!   Architecture                           level 2
//!     Storage Layer                        level 3
//!       Deep Dive: Compaction              level 4 — contains the marker "zebra-quartz-42"
//!   Block Showcase                         every block type, annotation, color and mention
//!   Tasks            (database, one data source "Tasks": every property type, 22 rows)
//!   Tracker          (database, data sources "Bugs" and "Features")
//! Team Home 🏠                             (workspace)
//!   Meeting Notes                          two siblings with the same title
//!   Meeting Notes
//!   Q3/Q4 Planning                         a title containing '/'
//!   Café ☕ Ünïcödé 🚀                       unicode and emoji
//!   (empty title)
//! ```
//!
//! Notion-hosted files: `logo.png` (a valid 2x2 PNG), `notes.txt`, `spec.pdf`.

use serde_json::{json, Value};

use super::seed::{Seed, SeedFile, SeedUser};

/// The unique phrase in "Deep Dive: Compaction" (4 levels deep) for grep tests.
pub const MARKER: &str = "zebra-quartz-42";

/// Formats a fixed demo id: `kind` selects a family (1 pages, 2 databases, 3 data sources,
/// 4 users, 5 rows, 6 blocks, 7 misc).
pub fn did(kind: u32, n: u32) -> String {
    format!("{:08x}-de00-4000-8000-{:012x}", 0x5eed_0000u32 + kind, n)
}

/// Engineering Wiki page id.
pub fn wiki_id() -> String {
    did(1, 1)
}
/// Architecture page id.
pub fn architecture_id() -> String {
    did(1, 2)
}
/// Storage Layer page id.
pub fn storage_id() -> String {
    did(1, 3)
}
/// Deep Dive: Compaction page id (contains [`MARKER`]).
pub fn deep_dive_id() -> String {
    did(1, 4)
}
/// Block Showcase page id.
pub fn showcase_id() -> String {
    did(1, 5)
}
/// Team Home page id.
pub fn team_home_id() -> String {
    did(1, 10)
}
/// First "Meeting Notes" page id.
pub fn meeting_notes_1_id() -> String {
    did(1, 11)
}
/// Second "Meeting Notes" page id.
pub fn meeting_notes_2_id() -> String {
    did(1, 12)
}
/// "Q3/Q4 Planning" page id.
pub fn slash_title_id() -> String {
    did(1, 13)
}
/// Unicode title page id.
pub fn unicode_title_id() -> String {
    did(1, 14)
}
/// Empty title page id.
pub fn empty_title_id() -> String {
    did(1, 15)
}
/// Tasks database id.
pub fn tasks_db_id() -> String {
    did(2, 1)
}
/// Tracker database id.
pub fn tracker_db_id() -> String {
    did(2, 2)
}
/// Tasks data source id.
pub fn tasks_ds_id() -> String {
    did(3, 1)
}
/// Bugs data source id.
pub fn bugs_ds_id() -> String {
    did(3, 2)
}
/// Features data source id.
pub fn features_ds_id() -> String {
    did(3, 3)
}
/// Ada's user id.
pub fn ada_id() -> String {
    did(4, 1)
}
/// Grace's user id.
pub fn grace_id() -> String {
    did(4, 2)
}
/// Linus's user id.
pub fn linus_id() -> String {
    did(4, 3)
}
/// The bot user id.
pub fn bot_id() -> String {
    did(4, 99)
}
/// Row id `n` (1-based) of the Tasks data source.
pub fn task_row_id(n: u32) -> String {
    did(5, n)
}
/// Number of rows in Tasks.
pub const TASK_ROWS: u32 = 22;

/// Block id `n` of the demo (fixed for blocks tests look at).
pub fn block_id(n: u32) -> String {
    did(6, n)
}

/// A 2x2 RGBA PNG (valid, 74 bytes).
pub const PNG_HEX: &str = "89504e470d0a1a0a0000000d494844520000000200000002080600000072b60d240000001149444154789c63f8cfc00042ff19600c0043ce07f958ed66a00000000049454e44ae426082";

/// A tiny one-page PDF.
pub const PDF_TEXT: &str = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn t(s: &str) -> Value {
    json!({"type": "text", "text": {"content": s}})
}

fn ta(s: &str, ann: Value) -> Value {
    json!({"type": "text", "text": {"content": s}, "annotations": ann})
}

fn rt(s: &str) -> Value {
    json!([t(s)])
}

fn para(s: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": rt(s)}})
}

fn with_id(mut b: Value, n: u32) -> Value {
    b["id"] = json!(block_id(n));
    b
}

fn simple(ty: &str, s: &str, children: Vec<Value>) -> Value {
    let mut inner = json!({"rich_text": rt(s)});
    if !children.is_empty() {
        inner["children"] = Value::Array(children);
    }
    json!({"type": ty, ty: inner})
}

fn cell_row(cells: &[&str]) -> Value {
    json!({"type": "table_row", "table_row": {"cells": cells.iter().map(|c| rt(c)).collect::<Vec<_>>()}})
}

fn time(minute: u32) -> String {
    format!(
        "2025-06-{:02}T{:02}:{:02}:00.000Z",
        1 + minute / 1440,
        (minute / 60) % 24,
        minute % 60
    )
}

/// The Block Showcase page's body: every block type, in five groups (block ids 1 to 43
/// in order).
fn showcase_blocks() -> Vec<Value> {
    [
        showcase_text(),
        showcase_lists(),
        showcase_code_and_tables(),
        showcase_media(),
        showcase_links_and_more(),
    ]
    .concat()
}

/// Showcase headings and paragraphs: annotations, mentions, colors, a toggle heading.
fn showcase_text() -> Vec<Value> {
    let arch = architecture_id();
    vec![
        with_id(
            json!({"type": "heading_1", "heading_1": {"rich_text": rt("Block Showcase")}}),
            1,
        ),
        with_id(
            json!({"type": "heading_2", "heading_2": {"rich_text": rt("Text and annotations"), "color": "blue"}}),
            2,
        ),
        with_id(
            json!({"type": "heading_3", "heading_3": {"rich_text": rt("Small heading")}}),
            3,
        ),
        with_id(
            json!({"type": "paragraph", "paragraph": {"rich_text": [
                t("Plain, "),
                ta("bold", json!({"bold": true})), t(", "),
                ta("italic", json!({"italic": true})), t(", "),
                ta("strikethrough", json!({"strikethrough": true})), t(", "),
                ta("underline", json!({"underline": true})), t(", "),
                ta("code", json!({"code": true})), t(", "),
                ta("red text", json!({"color": "red"})), t(", "),
                ta("blue background", json!({"color": "blue_background"})), t(", "),
                ta("everything", json!({"bold": true, "italic": true, "strikethrough": true, "underline": true, "code": true, "color": "purple"})), t(", "),
                {"type": "text", "text": {"content": "a link", "link": {"url": "https://developers.notion.com/"}}}, t(" and "),
                {"type": "equation", "equation": {"expression": "e^{i\\pi} + 1 = 0"}}, t(".")
            ]}}),
            4,
        ),
        with_id(
            json!({"type": "paragraph", "paragraph": {"rich_text": [
                t("Mentions: "),
                {"type": "mention", "mention": {"type": "page", "page": {"id": arch}}}, t(", "),
                {"type": "mention", "mention": {"type": "database", "database": {"id": tasks_db_id()}}}, t(", "),
                {"type": "mention", "mention": {"type": "user", "user": {"object": "user", "id": ada_id()}}}, t(", "),
                {"type": "mention", "mention": {"type": "date", "date": {"start": "2025-07-04", "end": null}}}, t(", "),
                {"type": "mention", "mention": {"type": "link_preview", "link_preview": {"url": "https://github.com/notionfs/notionfs/pull/1"}}}
            ]}}),
            5,
        ),
        with_id(
            json!({"type": "paragraph", "paragraph": {"rich_text": rt("A paragraph with a yellow background block color."), "color": "yellow_background"}}),
            6,
        ),
        with_id(
            json!({"type": "heading_2", "heading_2": {"rich_text": rt("Toggle heading"), "is_toggleable": true,
            "children": [para("Hidden under a toggleable heading.")]}}),
            7,
        ),
    ]
}

/// Showcase lists, to-dos, toggles, quotes and callouts, some nested.
fn showcase_lists() -> Vec<Value> {
    vec![
        with_id(
            simple(
                "bulleted_list_item",
                "Bullet level 1",
                vec![simple(
                    "bulleted_list_item",
                    "Bullet level 2",
                    vec![simple("bulleted_list_item", "Bullet level 3", vec![])],
                )],
            ),
            8,
        ),
        with_id(simple("bulleted_list_item", "Second bullet", vec![]), 9),
        with_id(
            json!({"type": "numbered_list_item", "numbered_list_item": {"rich_text": rt("Step one"), "list_start_index": 1, "list_format": "numbers",
            "children": [simple("numbered_list_item", "Step one.a", vec![simple("numbered_list_item", "Step one.a.i", vec![])])]}}),
            10,
        ),
        with_id(simple("numbered_list_item", "Step two", vec![]), 11),
        with_id(
            json!({"type": "to_do", "to_do": {"rich_text": rt("Write the spec"), "checked": true}}),
            12,
        ),
        with_id(
            json!({"type": "to_do", "to_do": {"rich_text": rt("Ship the emulator"), "checked": false}}),
            13,
        ),
        with_id(
            simple("toggle", "Click to expand", vec![para("Toggle content.")]),
            14,
        ),
        with_id(
            simple(
                "quote",
                "Simplicity is prerequisite for reliability. — Dijkstra",
                vec![],
            ),
            15,
        ),
        with_id(
            json!({"type": "callout", "callout": {"rich_text": rt("Heads up: this is a callout."), "icon": {"type": "emoji", "emoji": "💡"},
            "color": "gray_background", "children": [para("Callout child paragraph.")]}}),
            16,
        ),
    ]
}

/// Showcase code, equations, dividers, tables and columns.
fn showcase_code_and_tables() -> Vec<Value> {
    vec![
        with_id(
            json!({"type": "code", "code": {"rich_text": rt("fn main() {\n    println!(\"hello\");\n}"), "language": "rust"}}),
            17,
        ),
        with_id(
            json!({"type": "code", "code": {"rich_text": rt("print('hello')"), "language": "python"}}),
            18,
        ),
        with_id(
            json!({"type": "code", "code": {"rich_text": rt("just some plain text"), "language": "plain text"}}),
            19,
        ),
        with_id(
            json!({"type": "code", "code": {"rich_text": rt("int main() { return 0; }"), "language": "c++", "caption": rt("A C++ program")}}),
            20,
        ),
        with_id(
            json!({"type": "equation", "equation": {"expression": "\\int_0^1 x^2\\,dx = \\frac{1}{3}"}}),
            21,
        ),
        with_id(json!({"type": "divider", "divider": {}}), 22),
        with_id(
            json!({"type": "table", "table": {"table_width": 3, "has_column_header": true, "has_row_header": false, "children": [
                cell_row(&["Name", "Role", "Team"]), cell_row(&["Ada", "Engineer", "Storage"]), cell_row(&["Grace", "Manager", "Compilers"]),
            ]}}),
            23,
        ),
        with_id(
            json!({"type": "table", "table": {"table_width": 2, "has_column_header": false, "has_row_header": true, "children": [
                cell_row(&["Latency", "12 ms"]), cell_row(&["Throughput", "3 req/s"]),
            ]}}),
            24,
        ),
        with_id(
            json!({"type": "column_list", "column_list": {"children": [
                {"type": "column", "column": {"children": [para("Left column")]}},
                {"type": "column", "column": {"children": [para("Right column")]}},
            ]}}),
            25,
        ),
        with_id(
            json!({"type": "column_list", "column_list": {"children": [
                {"type": "column", "column": {"width_ratio": 0.5, "children": [para("Wide column")]}},
                {"type": "column", "column": {"width_ratio": 0.25, "children": [para("Narrow A")]}},
                {"type": "column", "column": {"width_ratio": 0.25, "children": [para("Narrow B")]}},
            ]}}),
            26,
        ),
    ]
}

/// Showcase media and file blocks, Notion-hosted and external.
fn showcase_media() -> Vec<Value> {
    vec![
        with_id(
            json!({"type": "image", "image": {"type": "file", "file": {"hosted": "logo-png"}, "caption": rt("Our logo")}}),
            27,
        ),
        with_id(
            json!({"type": "file", "file": {"type": "file", "file": {"hosted": "notes-txt"}, "caption": [], "name": "notes.txt"}}),
            28,
        ),
        with_id(
            json!({"type": "pdf", "pdf": {"type": "file", "file": {"hosted": "spec-pdf"}, "caption": rt("The spec")}}),
            29,
        ),
        with_id(
            json!({"type": "image", "image": {"type": "external", "external": {"url": "https://images.example.com/diagram.png"}}}),
            30,
        ),
        with_id(
            json!({"type": "video", "video": {"type": "external", "external": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}}}),
            31,
        ),
        with_id(
            json!({"type": "audio", "audio": {"type": "external", "external": {"url": "https://audio.example.com/standup.mp3"}}}),
            32,
        ),
        with_id(
            json!({"type": "pdf", "pdf": {"type": "external", "external": {"url": "https://docs.example.com/whitepaper.pdf"}}}),
            33,
        ),
    ]
}

/// Showcase bookmarks, embeds, links, synced blocks, navigation and read-only types.
fn showcase_links_and_more() -> Vec<Value> {
    let arch = architecture_id();
    vec![
        with_id(
            json!({"type": "bookmark", "bookmark": {"url": "https://www.notion.so/", "caption": rt("Notion")}}),
            34,
        ),
        with_id(
            json!({"type": "embed", "embed": {"url": "https://www.figma.com/file/abc123/Design"}}),
            35,
        ),
        with_id(
            json!({"type": "link_to_page", "link_to_page": {"type": "page_id", "page_id": arch}}),
            36,
        ),
        with_id(
            json!({"type": "synced_block", "synced_block": {"synced_from": null, "children": [para("Synced content lives here.")]}}),
            37,
        ),
        with_id(
            json!({"type": "synced_block", "synced_block": {"synced_from": {"type": "block_id", "block_id": block_id(37)}}}),
            38,
        ),
        with_id(
            json!({"type": "table_of_contents", "table_of_contents": {"color": "default"}}),
            39,
        ),
        with_id(json!({"type": "breadcrumb", "breadcrumb": {}}), 40),
        with_id(
            json!({"type": "link_preview", "link_preview": {"url": "https://github.com/notionfs/notionfs/issues/7"}}),
            41,
        ),
        with_id(
            json!({"type": "template", "template": {"rich_text": rt("Add a new meeting"), "children": [para("Template content")]}}),
            42,
        ),
        with_id(json!({"type": "unsupported", "unsupported": {}}), 43),
    ]
}

fn tasks_schema() -> Value {
    json!({
        "Name": {"title": {}},
        "Notes": {"id": "n%3Ate", "rich_text": {}},
        "Estimate": {"id": "est%7B", "number": {"format": "number_with_commas"}},
        "Budget": {"id": "bud%5E", "number": {"format": "dollar"}},
        "Priority": {"id": "pri%3F", "select": {"options": [
            {"name": "Low", "color": "gray"}, {"name": "Medium", "color": "yellow"}, {"name": "High", "color": "red"}]}},
        "Tags": {"id": "tag%40", "multi_select": {"options": [
            {"name": "backend", "color": "blue"}, {"name": "frontend", "color": "green"}, {"name": "docs", "color": "purple"}, {"name": "infra", "color": "orange"}]}},
        "Status": {"id": "sta%3B", "status": {"options": [
            {"name": "Not started", "color": "default"}, {"name": "In progress", "color": "blue"}, {"name": "Done", "color": "green"}],
            "groups": [
                {"name": "To-do", "color": "gray", "option_names": ["Not started"]},
                {"name": "In progress", "color": "blue", "option_names": ["In progress"]},
                {"name": "Complete", "color": "green", "option_names": ["Done"]}]}},
        "Due": {"id": "due%7C", "date": {}},
        "Assignee": {"id": "asg%5B", "people": {}},
        "Attachments": {"id": "att%5D", "files": {}},
        "Done": {"id": "don%21", "checkbox": {}},
        "Link": {"id": "url%7E", "url": {}},
        "Contact": {"id": "eml%3C", "email": {}},
        "Phone": {"id": "phn%3E", "phone_number": {}},
        "Score": {"id": "frm%3D", "formula": {"expression": "prop(\"Estimate\") * 2"}},
        "Blocked by": {"id": "rel%60", "relation": {"data_source_id": tasks_ds_id(), "single_property": {}}},
        "Blocker count": {"id": "rol%2C", "rollup": {"function": "count", "relation_property_name": "Blocked by", "rollup_property_name": "Name"}},
        "Created": {"id": "cre%3A", "created_time": {}},
        "Created by": {"id": "cby%3A", "created_by": {}},
        "Last edited": {"id": "led%3A", "last_edited_time": {}},
        "Last edited by": {"id": "leb%3A", "last_edited_by": {}},
        "Task ID": {"id": "uid%3A", "unique_id": {"prefix": "TASK"}},
        "Verification": {"id": "ver%3A", "verification": {}},
    })
}

const TASK_TITLES: [&str; TASK_ROWS as usize] = [
    "Write spec",
    "Design block cache",
    "Implement FUSE read path",
    "Implement write-back",
    "Rate limiter",
    "Retry with backoff",
    "Markdown tables",
    "Front matter codec",
    "Schema YAML",
    "Upload attachments",
    "Signed URL refresh",
    "Conflict detection",
    "Journal replay",
    "Inode stability",
    "Name collisions",
    "Trash semantics",
    "Search discovery",
    "Demo workspace",
    "Emulator faults",
    "Docs: README",
    "Docs: man page",
    "Release 0.1",
];

fn task_rows() -> Vec<Value> {
    let people = [ada_id(), grace_id(), linus_id()];
    let pri = ["Low", "Medium", "High"];
    let status = ["Not started", "In progress", "Done"];
    let tags = ["backend", "frontend", "docs", "infra"];
    let mut rows = Vec::new();
    for i in 0..TASK_ROWS {
        let n = i + 1;
        let mut props = json!({
            "Name": {"title": rt(TASK_TITLES[i as usize])},
            "Notes": {"rich_text": rt(&format!("Notes for task {n}."))},
            "Estimate": {"number": (i % 8 + 1) * 2},
            "Priority": {"select": {"name": pri[(i % 3) as usize]}},
            "Tags": {"multi_select": [{"name": tags[(i % 4) as usize]}, {"name": tags[((i + 1) % 4) as usize]}]},
            "Status": {"status": {"name": status[(i % 3) as usize]}},
            "Done": {"checkbox": i % 3 == 2},
            "Score": {"formula": {"type": "number", "number": (i % 8 + 1) * 4}},
        });
        if i % 2 == 0 {
            props["Due"] = json!({"date": {"start": format!("2025-07-{:02}", 1 + i)}});
            props["Assignee"] =
                json!({"people": [{"object": "user", "id": people[(i % 3) as usize]}]});
            props["Budget"] = json!({"number": 1000 + i * 250});
        }
        if i % 5 == 0 {
            props["Link"] = json!({"url": format!("https://example.com/tasks/{n}")});
            props["Contact"] = json!({"email": "team@example.com"});
            props["Phone"] = json!({"phone_number": "+1 415 555 0100"});
        }
        if i > 0 && i % 4 == 0 {
            props["Blocked by"] =
                json!({"relation": [{"id": task_row_id(n - 1)}, {"id": task_row_id(1)}]});
        }
        if i == 0 {
            props["Attachments"] = json!({"files": [
                {"name": "logo.png", "type": "file", "file": {"hosted": "logo-png"}},
                {"name": "Design doc", "type": "external", "external": {"url": "https://docs.example.com/design"}}]});
            props["Verification"] = json!({"verification": {"state": "verified", "verified_by": {"object": "user", "id": grace_id()}, "date": {"start": "2025-06-10", "end": null, "time_zone": null}}});
        }
        let mut row = json!({
            "id": task_row_id(n),
            "parent": {"data_source_id": tasks_ds_id()},
            "properties": props,
            "created_time": time(60 + i * 7),
            "last_edited_time": time(600 + i * 11),
            "created_by": people[(i % 3) as usize],
            "last_edited_by": people[((i + 1) % 3) as usize],
        });
        if i % 3 == 0 {
            row["children"] = json!([
                {"type": "heading_2", "heading_2": {"rich_text": rt("Details")}},
                para(&format!("Body of task {n}: {}.", TASK_TITLES[i as usize])),
                {"type": "to_do", "to_do": {"rich_text": rt("Review"), "checked": i % 2 == 0}},
            ]);
        }
        rows.push(row);
    }
    rows
}

fn tracker_rows() -> Vec<Value> {
    let mut rows = Vec::new();
    let bugs = [
        ("Crash on empty title", "High", true),
        ("Slow listing", "Medium", false),
        ("Typo in README", "Low", true),
    ];
    for (i, (name, sev, fixed)) in bugs.iter().enumerate() {
        rows.push(json!({"id": did(5, 100 + i as u32), "parent": {"data_source_id": bugs_ds_id()},
            "created_time": time(900 + i as u32), "last_edited_time": time(950 + i as u32),
            "properties": {"Name": {"title": rt(name)}, "Severity": {"select": {"name": sev}}, "Fixed": {"checkbox": fixed},
                "Reported": {"date": {"start": format!("2025-06-{:02}", 10 + i)}}}}));
    }
    let features = [
        ("Offline mode", 42, false),
        ("Webhooks", 17, false),
        ("Read-only mounts", 8, true),
    ];
    for (i, (name, votes, shipped)) in features.iter().enumerate() {
        rows.push(json!({"id": did(5, 200 + i as u32), "parent": {"data_source_id": features_ds_id()},
            "created_time": time(1000 + i as u32), "last_edited_time": time(1050 + i as u32),
            "properties": {"Name": {"title": rt(name)}, "Votes": {"number": votes}, "Shipped": {"checkbox": shipped}}}));
    }
    rows
}

/// The demo workspace.
pub fn demo_workspace() -> Seed {
    let user = |id: String, name: &str, email: &str| SeedUser {
        id,
        name: name.into(),
        email: Some(email.into()),
        avatar_url: None,
    };
    let mut pages = vec![
        json!({"id": wiki_id(), "parent": {"workspace": true}, "title": "Engineering Wiki", "icon": {"type": "emoji", "emoji": "📚"},
        "cover": {"type": "external", "external": {"url": "https://images.example.com/cover.jpg"}},
        "created_time": time(0), "last_edited_time": time(30), "children": [
            para("Welcome to the engineering wiki. Start with Architecture."),
            {"type": "child_page", "id": architecture_id()},
            {"type": "child_page", "id": showcase_id()},
            {"type": "child_database", "id": tasks_db_id()},
            {"type": "child_database", "id": tracker_db_id()},
        ]}),
        json!({"id": architecture_id(), "parent": {"page_id": wiki_id()}, "title": "Architecture", "created_time": time(1), "last_edited_time": time(31),
            "children": [simple("heading_1", "Overview", vec![]), para("The system has a storage layer and a sync layer.")]}),
        json!({"id": storage_id(), "parent": {"page_id": architecture_id()}, "title": "Storage Layer", "created_time": time(2), "last_edited_time": time(32),
            "children": [para("Pages are cached on disk; see the deep dive.")]}),
        json!({"id": deep_dive_id(), "parent": {"page_id": storage_id()}, "title": "Deep Dive: Compaction", "icon": {"type": "emoji", "emoji": "🔬"},
            "created_time": time(3), "last_edited_time": time(33),
            "children": [para("Compaction merges journal segments."), with_id(para(&format!("The secret marker is {MARKER}.")), 100)]}),
        json!({"id": showcase_id(), "parent": {"page_id": wiki_id()}, "title": "Block Showcase", "created_time": time(4), "last_edited_time": time(34),
            "children": showcase_blocks()}),
        json!({"id": team_home_id(), "parent": {"workspace": true}, "title": "Team Home", "icon": {"type": "emoji", "emoji": "🏠"},
            "created_time": time(10), "last_edited_time": time(40), "children": [para("Team space.")]}),
        json!({"id": meeting_notes_1_id(), "parent": {"page_id": team_home_id()}, "title": "Meeting Notes", "created_time": time(11), "last_edited_time": time(41),
            "children": [para("Monday: discussed the roadmap.")]}),
        json!({"id": meeting_notes_2_id(), "parent": {"page_id": team_home_id()}, "title": "Meeting Notes", "created_time": time(12), "last_edited_time": time(42),
            "children": [para("Thursday: retro.")]}),
        json!({"id": slash_title_id(), "parent": {"page_id": team_home_id()}, "title": "Q3/Q4 Planning", "created_time": time(13), "last_edited_time": time(43),
            "children": [para("Plans for the second half.")]}),
        json!({"id": unicode_title_id(), "parent": {"page_id": team_home_id()}, "title": "Café ☕ Ünïcödé 🚀", "created_time": time(14), "last_edited_time": time(44),
            "children": [para("Ça marche — 日本語 — emoji 🎉")]}),
        json!({"id": empty_title_id(), "parent": {"page_id": team_home_id()}, "title": "", "created_time": time(15), "last_edited_time": time(45),
            "children": [para("This page has no title.")]}),
    ];
    pages.extend(task_rows());
    pages.extend(tracker_rows());
    Seed {
        workspace_name: "Acme Engineering".into(),
        workspace_id: did(7, 1),
        bot: SeedUser {
            id: bot_id(),
            name: "notionfs demo bot".into(),
            email: None,
            avatar_url: None,
        },
        users: vec![
            user(ada_id(), "Ada Lovelace", "ada@example.com"),
            user(grace_id(), "Grace Hopper", "grace@example.com"),
            user(linus_id(), "Linus Torvalds", "linus@example.com"),
        ],
        time: time(0),
        files: vec![
            SeedFile {
                key: "logo-png".into(),
                name: "logo.png".into(),
                content_type: "image/png".into(),
                text: None,
                hex: Some(PNG_HEX.into()),
            },
            SeedFile {
                key: "notes-txt".into(),
                name: "notes.txt".into(),
                content_type: "text/plain".into(),
                text: Some("Release notes\n- first version\n".into()),
                hex: None,
            },
            SeedFile {
                key: "spec-pdf".into(),
                name: "spec.pdf".into(),
                content_type: "application/pdf".into(),
                text: Some(PDF_TEXT.into()),
                hex: None,
            },
        ],
        databases: vec![
            json!({"id": tasks_db_id(), "parent": {"page_id": wiki_id()}, "title": "Tasks", "icon": {"type": "emoji", "emoji": "✅"},
                "created_time": time(5), "last_edited_time": time(35),
                "data_sources": [{"id": tasks_ds_id(), "title": "Tasks", "properties": tasks_schema()}]}),
            json!({"id": tracker_db_id(), "parent": {"page_id": wiki_id()}, "title": "Tracker", "created_time": time(6), "last_edited_time": time(36),
            "data_sources": [
                {"id": bugs_ds_id(), "title": "Bugs", "properties": {"Name": {"title": {}},
                    "Severity": {"select": {"options": [{"name": "Low", "color": "gray"}, {"name": "Medium", "color": "yellow"}, {"name": "High", "color": "red"}]}},
                    "Fixed": {"checkbox": {}}, "Reported": {"date": {}}}},
                {"id": features_ds_id(), "title": "Features", "properties": {"Name": {"title": {}}, "Votes": {"number": {"format": "number"}}, "Shipped": {"checkbox": {}}}},
            ]}),
        ],
        pages,
        comments: vec![
            json!({"id": did(7, 10), "parent": {"page_id": wiki_id()}, "discussion_id": did(7, 11),
            "text": "Should we split this wiki by team?", "created_by": grace_id(), "created_time": time(50)}),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_loads_and_is_deterministic() {
        let a = demo_workspace();
        assert_eq!(a, demo_workspace());
        let st = super::super::seed::load(&a).expect("demo loads");
        assert_eq!(st.pages.len(), 11 + TASK_ROWS as usize + 6);
        let deep = &st.pages[&deep_dive_id()];
        assert_eq!(st.page_title_plain(deep), "Deep Dive: Compaction");
        let marker = st.blocks[&block_id(100)].data["rich_text"][0]["plain_text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(marker.contains(MARKER));
    }

    #[test]
    fn png_is_valid() {
        let bytes: Vec<u8> = (0..PNG_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&PNG_HEX[i..i + 2], 16).unwrap_or(0))
            .collect();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
    }

    #[test]
    fn example_seed_loads() {
        let st = super::super::seed::load(&Seed::example()).expect("example loads");
        assert_eq!(st.pages.len(), 2);
        assert_eq!(st.comments.len(), 1);
    }
}
