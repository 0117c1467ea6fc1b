//! What only the kernel path shows about writing, with real tools on a real mount:
//! `sed -i`, `cp`, vim (`backupcopy` yes and no), an Emacs-style save and `truncate` save
//! pages and rows (droppings stay local), links, hard links, FIFOs and `chmod` are refused
//! with EPERM, an append to a page with attachments and child links touches only the new
//! line, and a commented paragraph keeps its id through edits around it. Saves, crashes,
//! conflicts and namespace operations shared with the core are in `conformance.rs`.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

mod common;

use common::emu::{demo_emulator, prop, rich, text, DEEP_DIVE};
use common::mount::{fuse_usable, Mount};
use common::wait_for;
use notionfs::emulator::demo;
use notionfs::emulator::Emulator;

#[test]
fn sed_i_cp_and_vim_save_a_page_and_droppings_stay_local() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let marker = |emu: &Emulator| emu.control().plain_text(&demo::block_id(100)).unwrap();

    // sed -i: a temp file (`sedXXXXXX`, local only) renamed over the page.
    m.shell(&format!(
        "sed -i 's/{}/sed-edited/' '{DEEP_DIVE}'",
        demo::MARKER
    ));
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(text.contains("The secret marker is sed-edited."), "{text}");
    wait_for("sed -i in Notion", || marker(&emu).contains("sed-edited"));
    assert_eq!(emu.control().children_ids(&page), ids);
    let dir = m.p("Engineering Wiki/Architecture/Storage Layer");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("sed")), "{names:?}");

    // cp over the page (open with O_TRUNC, write).
    let src = cache.path().join("copy.md");
    std::fs::write(&src, text.replace("sed-edited", "cp-edited")).unwrap();
    m.shell(&format!("cp '{}' '{DEEP_DIVE}'", src.display()));
    wait_for("cp in Notion", || marker(&emu).contains("cp-edited"));
    assert_eq!(emu.control().children_ids(&page), ids);

    // vim in ex mode: substitute on a line, :wq (swap file and backups stay local).
    wait_for("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
    m.shell(&format!(
        "vim -u NONE -i NONE -es -c '%s/cp-edited/vim-edited/' -c 'wq' '{DEEP_DIVE}'"
    ));
    wait_for("vim in Notion", || marker(&emu).contains("vim-edited"));
    assert_eq!(emu.control().children_ids(&page), ids);
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(text.contains("The secret marker is vim-edited."), "{text}");

    // A dropping is a working file, never a page.
    let swp = dir.join(".notes.md.swp");
    std::fs::write(&swp, b"swap").unwrap();
    assert_eq!(std::fs::read(&swp).unwrap(), b"swap");
    std::fs::remove_file(&swp).unwrap();
    assert!(!swp.exists());
    assert!(emu.control().pages_titled(".notes.md.swp").is_empty());
}

#[test]
fn sed_i_and_vim_save_rows_with_one_update_page_call() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let ctl = emu.control();

    // sed -i (a temp file renamed over the row): the edited properties in one call.
    let rel = "Engineering Wiki/Tasks/Implement write-back.md";
    let row = demo::task_row_id(4);
    let ids = ctl.children_ids(&row);
    let old = std::fs::read_to_string(m.p(rel)).unwrap();
    ctl.set_property(&row, "Notes", rich("Changed in Notion."))
        .unwrap();
    ctl.reset_stats();
    m.shell(&format!(
        "sed -i 's/^Status: Not started$/Status: Done/; s/^Estimate: 8$/Estimate: 13/' '{rel}'"
    ));
    let saved = std::fs::read_to_string(m.p(rel)).unwrap();
    assert_eq!(
        saved,
        old.replace("Status: Not started", "Status: Done")
            .replace("Estimate: 8", "Estimate: 13")
    );
    m.wait("clean", || m.sync_xattr(rel) == "clean");
    assert_eq!(prop(&emu, &row, "Status")["status"]["name"], "Done");
    assert_eq!(prop(&emu, &row, "Estimate")["number"], 13);
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "Low");
    assert_eq!(
        prop(&emu, &row, "Notes")["rich_text"][0]["plain_text"],
        "Changed in Notion."
    );
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1, "{:?}", ctl.stats());
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 0);
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}/children"), 0);
    assert_eq!(ctl.calls("DELETE /v1/blocks/{id}"), 0);
    assert_eq!(ctl.children_ids(&row), ids);
    assert_eq!(std::fs::read_to_string(m.p(rel)).unwrap(), saved);

    // vim: front matter and body in one save.
    let rel = "Engineering Wiki/Tasks/Markdown tables.md";
    let row = demo::task_row_id(7);
    let ids = ctl.children_ids(&row);
    let old = std::fs::read_to_string(m.p(rel)).unwrap();
    assert!(old.contains("\nPriority: Low\n"), "{old}");
    assert!(old.contains("Body of task 7"), "{old}");
    ctl.reset_stats();
    m.shell(&format!(
        "vim -u NONE -i NONE -es -c '%s/^Priority: Low$/Priority: High/' \
             -c '%s/Body of task 7/Body of task seven/' -c 'wq' '{rel}'"
    ));
    wait_for("the body in Notion", || {
        text(&emu, &ids[1]).starts_with("Body of task seven")
    });
    m.wait("clean", || m.sync_xattr(rel) == "clean");
    assert_eq!(prop(&emu, &row, "Priority")["select"]["name"], "High");
    assert_eq!(ctl.calls("PATCH /v1/pages/{id}"), 1);
    assert_eq!(ctl.calls("PATCH /v1/blocks/{id}"), 1);
    assert_eq!(ctl.children_ids(&row), ids);
    let now = std::fs::read_to_string(m.p(rel)).unwrap();
    assert_eq!(
        now,
        old.replace("Priority: Low", "Priority: High")
            .replace("Body of task 7", "Body of task seven")
    );
    // vim's droppings stayed local.
    let names = m.ls("Engineering Wiki/Tasks");
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with('~') || n.ends_with(".swp") || n == "4913"),
        "{names:?}"
    );
}

#[test]
fn emacs_style_save_backup_rename_then_write_updates_the_page() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let dir = "Engineering Wiki/Architecture/Storage Layer";
    let old = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    let new = old.replace(demo::MARKER, "emacs-edited");
    let src = cache.path().join("emacs.md");
    std::fs::write(&src, &new).unwrap();
    // Emacs: an autosave `#T.md#`, the original renamed to the backup `T.md~`, the new
    // content written to `T.md`, the autosave removed.
    m.shell(&format!(
        "cp '{src}' '{dir}/#Deep Dive: Compaction.md#' && \
         mv '{DEEP_DIVE}' '{DEEP_DIVE}~' && \
         cat '{src}' > '{DEEP_DIVE}' && \
         rm '{dir}/#Deep Dive: Compaction.md#'",
        src = src.display()
    ));
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), new);
    assert_eq!(
        std::fs::read_to_string(m.p(&format!("{DEEP_DIVE}~"))).unwrap(),
        old
    );
    m.wait("the save in Notion", || {
        emu.control()
            .plain_text(&demo::block_id(100))
            .is_some_and(|t| t.contains("emacs-edited"))
    });
    // The same page, the same blocks; no page was made of the backup or the autosave.
    assert_eq!(emu.control().children_ids(&page), ids);
    assert_eq!(emu.control().pages_titled("Deep Dive: Compaction").len(), 1);
    assert!(emu
        .control()
        .pages_titled("Deep Dive: Compaction.md~")
        .is_empty());
    m.wait("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
}

#[test]
fn vim_saves_with_backupcopy_yes_and_no() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let marker = |emu: &Emulator| emu.control().plain_text(&demo::block_id(100)).unwrap();
    let mut from = demo::MARKER.to_string();
    // `yes`: the original is copied to the backup and overwritten in place; `no`: the
    // original is renamed to the backup and a new file written. (`backupskip=`: vim skips
    // backups under /tmp by default, where the test mounts.)
    for mode in ["yes", "no"] {
        let to = format!("vim-backupcopy-{mode}");
        m.shell(&format!(
            "vim -u NONE -i NONE -es -c 'set backup backupcopy={mode} backupskip=' \
             -c '%s/{from}/{to}/' -c 'wq' '{DEEP_DIVE}'"
        ));
        m.wait(&format!("backupcopy={mode} in Notion"), || {
            marker(&emu).contains(&to)
        });
        assert_eq!(emu.control().children_ids(&page), ids, "backupcopy={mode}");
        let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
        assert!(
            text.contains(&format!("The secret marker is {to}.")),
            "{text}"
        );
        // The backup is a local file holding the text before the save.
        let backup = std::fs::read_to_string(m.p(&format!("{DEEP_DIVE}~"))).unwrap();
        assert!(backup.contains(&from), "backupcopy={mode}: {backup}");
        m.wait("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
        from = to;
    }
    assert_eq!(emu.control().pages_titled("Deep Dive: Compaction").len(), 1);
}

#[test]
fn what_notion_cannot_hold_is_refused_with_eperm() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = m.p(DEEP_DIVE);
    let eperm = |r: std::io::Result<()>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{what}: {e}");
    };
    eperm(
        std::fs::hard_link(&page, m.p("Team Home/link.md")),
        "hard link",
    );
    eperm(
        std::os::unix::fs::symlink(&page, m.p("Team Home/sym.md")),
        "symlink",
    );
    use std::os::unix::fs::PermissionsExt;
    eperm(
        std::fs::set_permissions(&page, std::fs::Permissions::from_mode(0o600)),
        "chmod",
    );
    let fifo = std::ffi::CString::new(m.p("Team Home/fifo").into_os_string().into_encoded_bytes())
        .unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other inputs.
    let rc = unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) };
    assert_eq!(rc, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EPERM),
        "mkfifo"
    );
    // Nothing of it reached Notion, and the page still reads.
    assert!(std::fs::read(&page).is_ok());
    assert!(!m.p("Team Home/link.md").exists());
}

#[test]
fn a_save_of_a_page_with_attachments_and_child_links_touches_only_the_new_line() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let showcase = "Engineering Wiki/Block Showcase.md";
    let text = std::fs::read_to_string(m.p(showcase)).unwrap();
    assert!(text.contains("Block Showcase/logo.png"), "{text}");
    let before: Vec<_> = emu
        .control()
        .children_ids(&demo::showcase_id())
        .iter()
        .map(|id| emu.control().block_json(id))
        .collect();
    emu.control().reset_stats();
    m.shell(&format!("printf '\\nOne more line.\\n' >> '{showcase}'"));
    m.wait("the append in Notion", || {
        emu.control().children_ids(&demo::showcase_id()).len() == before.len() + 1
            || emu.control().total_calls() > 20
    });
    assert_eq!(
        emu.control().children_ids(&demo::showcase_id()).len(),
        before.len() + 1,
        "{:?}",
        emu.control().stats()
    );
    m.wait("clean", || m.sync_xattr(showcase) == "clean");
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}/children"), 1);
    assert_eq!(emu.control().calls("PATCH /v1/blocks/{id}"), 0);
    assert_eq!(emu.control().calls("DELETE /v1/blocks/{id}"), 0);
    let after: Vec<_> = emu
        .control()
        .children_ids(&demo::showcase_id())
        .iter()
        .take(before.len())
        .map(|id| emu.control().block_json(id))
        .collect();
    let unsigned = |v: &Vec<Option<serde_json::Value>>| -> Vec<String> {
        v.iter()
            .map(|b| {
                let mut b = b.clone().unwrap();
                let kind = b["type"].as_str().unwrap().to_string();
                if let Some(f) = b[&kind].get_mut("file") {
                    f.as_object_mut().unwrap().remove("expiry_time");
                    let url = f["url"].as_str().unwrap_or_default();
                    f["url"] = url.rsplit('/').next().unwrap().into();
                }
                b.to_string()
            })
            .collect()
    };
    assert_eq!(
        unsigned(&after),
        unsigned(&before),
        "an untouched block changed"
    );
}

#[test]
fn a_commented_paragraph_keeps_its_id_and_comment_through_edits_around_it() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let commented = ids[0].clone();
    // A comment thread on the first paragraph, made through the API.
    let client = common::core::client(&emu);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(client.create_comment(serde_json::json!({
        "parent": {"block_id": commented},
        "rich_text": [{"type": "text", "text": {"content": "Keep this paragraph."}}]
    })))
    .expect("comment");

    // The paragraph after it is edited, one is inserted before it and one appended.
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    let edited = format!(
        "Inserted first.\n\n{}\nAppended last.\n",
        text.replace(demo::MARKER, "edited-next-door")
    );
    m.shell(&format!("cat > '{DEEP_DIVE}' <<'EOF'\n{edited}EOF"));
    m.wait("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
    assert_eq!(
        std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(),
        edited,
        "{}",
        m.stderr()
    );
    let now = emu.control().children_ids(&page);
    assert_eq!(now.len(), ids.len() + 2, "{}", m.stderr());
    assert_eq!(
        now[1..=ids.len()],
        ids[..],
        "untouched blocks kept their ids"
    );
    assert_eq!(
        emu.control().plain_text(&now[0]).unwrap(),
        "Inserted first."
    );
    assert_eq!(
        emu.control().plain_text(now.last().unwrap()).unwrap(),
        "Appended last."
    );
    assert!(emu
        .control()
        .plain_text(&ids[1])
        .unwrap()
        .contains("edited-next-door"));
    let comments = rt.block_on(client.comments(&commented)).unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        comments[0].rich_text[0].plain_text.as_deref(),
        Some("Keep this paragraph.")
    );
}

#[test]
fn truncate_of_a_closed_file_is_a_save() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start_on(&emu, mpd.path(), cache.path(), &["--write-delay", "100"]);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    // Cut the file after its first paragraph: the second one goes.
    let keep = text.find("\n\n").unwrap() + 1;
    m.shell(&format!("truncate -s {keep} '{DEEP_DIVE}'"));
    assert_eq!(
        std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(),
        text[..keep]
    );
    m.wait("the cut in Notion", || {
        emu.control().children_ids(&page) == ids[..1]
    });
    m.wait("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
}

/// Issue target: a one-paragraph `sed -i` edit of a 300-block page costs at most two calls
/// (read back the block it changes, update it): the temp file creates nothing, the rename
/// over the page lists nothing, and the check for remote edits reads only that block.
#[test]
fn a_one_paragraph_sed_edit_of_a_300_block_page_costs_two_calls() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let page = demo::deep_dive_id();
    let paras: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            serde_json::json!({"type": "paragraph", "paragraph": {"rich_text": [
                {"type": "text", "text": {"content": format!("Line {i} of a long page.")}}
            ]}})
        })
        .collect();
    for chunk in paras.chunks(100) {
        emu.control()
            .append_blocks(&page, serde_json::Value::Array(chunk.to_vec()))
            .unwrap();
    }
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A long poll interval: the feed's own calls are not part of the edit.
    let m = Mount::start_on(
        &emu,
        mpd.path(),
        cache.path(),
        &["--write-delay", "100", "--ttl", "3600"],
    );
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(text.contains("Line 150 of a long page."), "{text}");
    emu.control().reset_stats();
    m.shell(&format!(
        "sed -i 's/^Line 150 of/Line 150 (edited) of/' '{DEEP_DIVE}'"
    ));
    m.wait("the edit in Notion", || {
        emu.control().children_ids(&page).iter().any(|id| {
            emu.control().plain_text(id).unwrap_or_default() == "Line 150 (edited) of a long page."
        })
    });
    wait_for("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
    let calls = emu.control().stats();
    let total: u64 = calls.values().sum();
    assert!(total <= 2, "{calls:?}");
    assert_eq!(calls.get("PATCH /v1/blocks/{id}"), Some(&1), "{calls:?}");
}
