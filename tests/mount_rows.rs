//! Saving database rows through a real mount (the kernel, the emulator):
//! `sed -i`, `echo >>` and vim saves of a row's `.md` send its edited properties in one
//! update-page call and its body through the block diff (ids kept); refused properties
//! (unknown key, option that does not exist, malformed YAML) are reported in
//! `user.notionfs.sync` and the log while the rest of the save reaches Notion, and a later
//! good save clears the failure.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::{fuse_usable, Mount};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

fn start(emu: &Emulator, mpd: &Path, cache: &Path) -> Mount {
    Mount::start_on(emu, mpd, cache, &["--write-delay", "200"])
}

fn sync_xattr(m: &Mount, rel: &str) -> String {
    common::sync_xattr(&m.p(rel))
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(15), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the file's sync state to satisfy `ok`; returns it.
fn wait_state(m: &Mount, rel: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    wait_for(&format!("sync state of {rel} (last: {last})"), || {
        last = sync_xattr(m, rel);
        ok(&last)
    });
    last
}

fn prop(emu: &Emulator, row: &str, name: &str) -> Value {
    emu.control().page_json(row).expect("row")["properties"][name].clone()
}

fn text(emu: &Emulator, block: &str) -> String {
    emu.control().plain_text(block).unwrap_or_default()
}

fn select_options(emu: &Emulator, name: &str) -> Vec<String> {
    let ds = emu
        .control()
        .object_json(&demo::tasks_ds_id())
        .expect("data source");
    ds["properties"][name]["select"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sed_i_and_echo_save_a_row_with_one_update_page_call() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = start(&emu, mpd.path(), cache.path());
    let rel = "Engineering Wiki/Tasks/Implement write-back.md";
    let row = demo::task_row_id(4);
    let ids = emu.control().children_ids(&row);
    let old = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(old.contains("\nStatus: Not started\n"), "{old}");
    assert!(old.contains("\nEstimate: 8\n"), "{old}");
    // Changed in Notion after the file was read; the save did not touch it: kept.
    emu.control()
        .set_property(
            &row,
            "Notes",
            json!({"rich_text": [{"type": "text", "text": {"content": "Changed in Notion."}}]}),
        )
        .unwrap();
    emu.control().reset_stats();

    m.shell(&format!(
        "sed -i 's/^Status: Not started$/Status: Done/; s/^Estimate: 8$/Estimate: 13/' '{rel}'"
    ));
    let saved = std::fs::read_to_string(m.p(rel)).unwrap();
    assert_eq!(
        saved,
        old.replace("Status: Not started", "Status: Done")
            .replace("Estimate: 8", "Estimate: 13")
    );
    wait_for("the properties in Notion", || {
        prop(&emu, &row, "Status")["status"]["name"] == "Done"
    });
    wait_state(&m, rel, |s| s == "clean");
    assert_eq!(emu.control().calls("PATCH /v1/pages/{id}"), 1);
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}"), 0);
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}/children"), 0);
    assert_eq!(emu.control().calls("DELETE /v1/blocks/{id}"), 0);
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 13);
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(
        prop(&emu, &row, "Notes")["rich_text"][0]["plain_text"],
        "Changed in Notion."
    );
    assert_eq!(emu.control().children_ids(&row), ids);
    assert_eq!(std::fs::read_to_string(m.p(rel)).unwrap(), saved);

    // `echo >>`: the body grows by one paragraph; no update-page call.
    emu.control().reset_stats();
    m.shell(&format!("printf '\\nAppended to a row.\\n' >> '{rel}'"));
    wait_for("the append in Notion", || {
        emu.control().children_ids(&row).len() == ids.len() + 1
    });
    wait_state(&m, rel, |s| s == "clean");
    let now = emu.control().children_ids(&row);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(text(&emu, &now[ids.len()]), "Appended to a row.");
    assert_eq!(emu.control().calls("PATCH /v1/pages/{id}"), 0);
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}/children"), 1);
}

#[test]
fn vim_saves_front_matter_and_body_of_a_row_in_one_save() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = start(&emu, mpd.path(), cache.path());
    let rel = "Engineering Wiki/Tasks/Markdown tables.md";
    let row = demo::task_row_id(7);
    let ids = emu.control().children_ids(&row);
    let old = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(old.contains("\nPriority: Low\n"), "{old}");
    assert!(old.contains("Body of task 7"), "{old}");
    emu.control().reset_stats();
    m.shell(&format!(
        "vim -u NONE -i NONE -es -c '%s/^Priority: Low$/Priority: High/' \
             -c '%s/Body of task 7/Body of task seven/' -c 'wq' '{rel}'"
    ));
    wait_for("the body in Notion", || {
        text(&emu, &ids[1]).starts_with("Body of task seven")
    });
    wait_state(&m, rel, |s| s == "clean");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(emu.control().calls("PATCH /v1/pages/{id}"), 1);
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}"), 1);
    assert_eq!(emu.control().children_ids(&row), ids);
    let now = std::fs::read_to_string(m.p(rel)).unwrap();
    assert_eq!(
        now,
        old.replace("Priority: Low", "Priority: High")
            .replace("Body of task 7", "Body of task seven")
    );
    // vim's droppings stayed local.
    let names: Vec<String> = std::fs::read_dir(m.p("Engineering Wiki/Tasks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with('~') || n.ends_with(".swp") || n == "4913"),
        "{names:?}"
    );
}

#[test]
fn bad_front_matter_is_refused_with_a_reason_and_the_rest_goes_through() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = start(&emu, mpd.path(), cache.path());
    let rel = "Engineering Wiki/Tasks/Upload attachments.md";
    let row = demo::task_row_id(10);
    let ids = emu.control().children_ids(&row);
    let old = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(old.contains("\nEstimate: 4\n"), "{old}");
    assert!(old.contains("\nPriority: Low\n"), "{old}");
    let priorities = select_options(&emu, "Priority");

    // An unknown property beside a valid change: the change goes out, the key is refused.
    m.shell(&format!(
        "sed -i 's/^Estimate: 4$/Estimate: 5\\nBogus: 1/' '{rel}'"
    ));
    let state = wait_state(&m, rel, |s| s.starts_with("failed: "));
    assert!(
        state.contains("property \"Bogus\": no such property in this data source"),
        "{state}"
    );
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 5);
    let shown = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(shown.contains("\nEstimate: 5\nBogus: 1\n"), "{shown}");
    // Logged once.
    assert_eq!(
        m.stderr().matches("no such property").count(),
        1,
        "{}",
        m.stderr()
    );

    // An option that does not exist (never created), with a body edit that goes through.
    m.shell(&format!(
        "sed -i '/^Bogus: 1$/d; s/^Priority: Low$/Priority: Urgent/; \
             s/Body of task 10/Body of task ten/' '{rel}'"
    ));
    wait_for("the body in Notion", || {
        text(&emu, &ids[1]).starts_with("Body of task ten")
    });
    let state = wait_state(&m, rel, |s| s.contains("Urgent"));
    assert!(
        state.starts_with("failed: property \"Priority\": option \"Urgent\" does not exist"),
        "{state}"
    );
    assert!(!state.contains("Bogus"), "{state}");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(select_options(&emu, "Priority"), priorities);
    assert_eq!(emu.control().children_ids(&row), ids);
    // The mount keeps working: the folder lists, other rows read.
    let names = std::fs::read_dir(m.p("Engineering Wiki/Tasks"))
        .unwrap()
        .count();
    assert!(names > demo::TASK_ROWS as usize, "{names}");
    assert!(std::fs::read_to_string(m.p("Engineering Wiki/Tasks/Write spec.md")).is_ok());

    // Malformed YAML: the front matter is refused whole; the body still goes out.
    emu.control().reset_stats();
    m.shell(&format!(
        "sed -i 's/^Priority: Urgent$/Priority: [High/; \
             s/Body of task ten/Body of task X/' '{rel}'"
    ));
    wait_for("the body in Notion", || {
        text(&emu, &ids[1]).starts_with("Body of task X")
    });
    let state = wait_state(&m, rel, |s| s.contains("malformed"));
    assert!(
        state.starts_with("failed: front matter: malformed YAML at line "),
        "{state}"
    );
    assert_eq!(emu.control().calls("PATCH /v1/pages/{id}"), 0);
    let shown = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(shown.contains("\nPriority: [High\n"), "{shown}");

    // A good save clears the failure.
    m.shell(&format!(
        "sed -i 's/^Priority: \\[High$/Priority: High/' '{rel}'"
    ));
    wait_state(&m, rel, |s| s == "clean");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 5);
    assert_eq!(emu.control().calls("PATCH /v1/pages/{id}"), 1);
    let shown = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(shown.contains("\nPriority: High\n"), "{shown}");
    assert!(shown.contains("Body of task X"), "{shown}");
}
