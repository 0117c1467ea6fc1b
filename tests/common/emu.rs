//! The emulator's side of a test: the demo workspace's paths, and what Notion holds
//! (pages by title, parents, block texts, row properties and options).

use notionfs::emulator::{demo, Emulator, EmulatorConfig};
use serde_json::Value;

/// A page four levels deep whose second paragraph holds [`demo::MARKER`] (block 100).
pub const DEEP_DIVE: &str = "Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";
/// The folder [`DEEP_DIVE`] is in.
pub const STORAGE: &str = "Engineering Wiki/Architecture/Storage Layer";
/// A row of the Tasks database ([`demo::task_row_id`] 4): front matter and a body.
pub const ROW: &str = "Engineering Wiki/Tasks/Implement write-back.md";
/// The Tasks database (one data source: a folder of rows).
pub const TASKS: &str = "Engineering Wiki/Tasks";
/// A page whose body takes many list-children calls to read, with attachments.
pub const SHOWCASE: &str = "Engineering Wiki/Block Showcase.md";

/// The demo workspace, served on a runtime of its own.
pub fn demo_emulator() -> Emulator {
    Emulator::start_blocking(EmulatorConfig::default()).expect("emulator")
}

/// The id of the one page titled `title` (fails if there are none or several).
pub fn only_page_titled(emu: &Emulator, title: &str) -> String {
    let ids = emu.control().pages_titled(title);
    assert_eq!(ids.len(), 1, "pages titled {title}: {ids:?}");
    ids[0].clone()
}

/// A page's `parent` object.
pub fn parent(emu: &Emulator, id: &str) -> Value {
    emu.control().page_json(id).expect("page")["parent"].clone()
}

/// The plain text of a block (empty if it has none).
pub fn text(emu: &Emulator, block: &str) -> String {
    emu.control().plain_text(block).unwrap_or_default()
}

/// The plain texts of a page's top-level blocks.
pub fn texts(emu: &Emulator, page: &str) -> Vec<String> {
    let ctl = emu.control();
    ctl.children_ids(page)
        .iter()
        .map(|id| ctl.plain_text(id).unwrap_or_default())
        .collect()
}

/// The plain text of a page's last top-level block.
pub fn last_text(emu: &Emulator, page: &str) -> String {
    let ids = emu.control().children_ids(page);
    text(emu, ids.last().expect("a block"))
}

/// A property value of a row as Notion returns it.
pub fn prop(emu: &Emulator, row: &str, name: &str) -> Value {
    emu.control().page_json(row).expect("row")["properties"][name].clone()
}

/// A rich text property value holding `text`.
pub fn rich(text: &str) -> Value {
    serde_json::json!({"rich_text": [{"type": "text", "text": {"content": text}}]})
}

/// The plain text of a rich text property value.
pub fn plain(v: &Value) -> String {
    v["rich_text"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["plain_text"].as_str().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// The option names of the Tasks property `name` of type `kind` (`select`, `status`…).
pub fn options(emu: &Emulator, name: &str, kind: &str) -> Vec<String> {
    let ds = emu
        .control()
        .object_json(&demo::tasks_ds_id())
        .expect("data source");
    ds["properties"][name][kind]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

/// The demo's PNG attachment, byte for byte.
pub fn demo_png() -> Vec<u8> {
    (0..demo::PNG_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&demo::PNG_HEX[i..i + 2], 16).unwrap())
        .collect()
}
