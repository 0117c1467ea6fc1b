//! Real mounts through the kernel: saves made
//! with `echo >>` and `>` reach the emulator after `--write-delay`, `user.notionfs.sync`
//! follows them, SIGTERM pushes what is pending, and a `kill -9` loses nothing.
//!
//! Skipped (with the reason printed) only where FUSE cannot work.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{fuse_usable, mounted, Mount};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig};

const DEEP_DIVE: &str = "Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md";

impl Mount {
    /// Mounts with the write path on, the cache in `cache`.
    fn start(emu: &Emulator, mpd: &Path, cache: &Path, delay_ms: u64) -> Mount {
        Mount::start_on(emu, mpd, cache, &["--write-delay", &delay_ms.to_string()])
    }

    fn sync_xattr(&self, rel: &str) -> String {
        common::sync_xattr(&self.p(rel))
    }

    /// Waits up to 15 s for `ok`; on timeout fails with the mount's log.
    fn wait(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let t = Instant::now();
        while !ok() {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "timed out: {what}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to exit after `signal` (it unmounts and pushes first).
    fn stop(mut self, signal: i32) {
        let mut c = self.child.take().expect("child");
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(c.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        if mounted(&self.mp) {
            let _ = Command::new("fusermount3")
                .arg("-uz")
                .arg(&self.mp)
                .status();
        }
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(15), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn echo_append_and_overwrite_reach_notion() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 200);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);

    // `echo >>` twice (a blank line, then a line: a new paragraph), pushed once; the
    // other blocks keep their ids.
    m.shell(&format!("echo >> '{DEEP_DIVE}'"));
    m.shell(&format!(
        "echo 'Appended through the kernel.' >> '{DEEP_DIVE}'"
    ));
    let after_append = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(
        after_append.ends_with("Appended through the kernel.\n"),
        "{after_append}"
    );
    wait_for("the append in Notion", || {
        emu.control().children_ids(&page).len() == ids.len() + 1
    });
    let now = emu.control().children_ids(&page);
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(
        emu.control().plain_text(&now[ids.len()]).unwrap(),
        "Appended through the kernel."
    );
    wait_for("clean", || m.sync_xattr(DEEP_DIVE) == "clean");

    // `>`: the whole file rewritten with one line changed; updated in place.
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    let edited = text.replace(demo::MARKER, "rewritten-marker");
    std::fs::write(m.p(DEEP_DIVE), &edited).unwrap();
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), edited);
    wait_for("the edit in Notion", || {
        emu.control()
            .plain_text(&demo::block_id(100))
            .is_some_and(|t| t.contains("rewritten-marker"))
    });
    assert_eq!(emu.control().children_ids(&page), now);
    wait_for("clean", || m.sync_xattr(DEEP_DIVE) == "clean");
    assert_eq!(std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap(), edited);
}

#[test]
fn sigterm_pushes_pending_and_kill_9_loses_nothing() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    // SIGTERM with a save still in its quiet period: pushed before exiting.
    let m = Mount::start(&emu, mpd.path(), cache.path(), 600_000);
    m.shell(&format!(
        "printf '\\nSaved before SIGTERM.\\n' >> '{DEEP_DIVE}'"
    ));
    assert_eq!(m.sync_xattr(DEEP_DIVE), "pending");
    m.stop(libc::SIGTERM);
    let last = |emu: &Emulator| {
        let ids = emu.control().children_ids(&demo::deep_dive_id());
        emu.control().plain_text(ids.last().unwrap()).unwrap()
    };
    assert_eq!(last(&emu), "Saved before SIGTERM.");

    // kill -9 with a save in its quiet period: the next mount pushes it.
    let m = Mount::start(&emu, mpd.path(), cache.path(), 600_000);
    m.shell(&format!(
        "printf '\\nSaved before kill -9.\\n' >> '{DEEP_DIVE}'"
    ));
    m.stop(libc::SIGKILL);
    assert_eq!(last(&emu), "Saved before SIGTERM.");
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    wait_for("the replay", || last(&emu) == "Saved before kill -9.");
    drop(m);
}

#[test]
fn sed_i_cp_and_vim_save_a_page_and_droppings_stay_local() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
fn rm_trashes_a_page() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    m.shell(&format!("rm '{DEEP_DIVE}'"));
    assert!(!m.p(DEEP_DIVE).exists());
    let page = emu.control().page_json(&demo::deep_dive_id());
    assert!(page.is_none_or(|p| p["in_trash"] == true), "not trashed");
    // A folder with entries is not removed (rmdir only hides empty ones).
    let err = std::fs::remove_dir(m.p("Engineering Wiki/Architecture")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOTEMPTY));
}

#[test]
fn what_notion_cannot_hold_is_refused_with_eperm() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
fn mv_renames_a_page_in_its_folder() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    let dir = "Engineering Wiki/Architecture/Storage Layer";
    let body = std::fs::read(m.p(DEEP_DIVE)).unwrap();
    m.shell(&format!("mv '{DEEP_DIVE}' '{dir}/Compaction Notes.md'"));
    assert_eq!(
        emu.control().plain_text(&demo::deep_dive_id()).unwrap(),
        "Compaction Notes"
    );
    assert_eq!(
        std::fs::read(m.p(&format!("{dir}/Compaction Notes.md"))).unwrap(),
        body
    );
    assert!(!m.p(DEEP_DIVE).exists());
    // To the root: Notion's move API takes no workspace parent.
    let err = std::fs::rename(
        m.p(&format!("{dir}/Compaction Notes.md")),
        m.p("Compaction Notes.md"),
    )
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM));
}

#[test]
fn a_page_served_from_the_disk_cache_saves_with_its_links() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let wiki = "Engineering Wiki.md";
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    let text = std::fs::read_to_string(m.p(wiki)).unwrap();
    assert!(text.contains("<page path="), "{text}");
    m.stop(libc::SIGTERM);

    // The next mount serves the body from the disk cache: no blocks (no ids) in memory.
    let ids = emu.control().children_ids(&demo::wiki_id());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    emu.control().reset_stats();
    assert_eq!(std::fs::read_to_string(m.p(wiki)).unwrap(), text);
    assert_eq!(emu.control().calls("GET /v1/blocks/{id}/children"), 0);
    m.shell(&format!(
        "printf '\\nAdded after a remount.\\n' >> '{wiki}'"
    ));
    m.wait("the append in Notion", || {
        emu.control().children_ids(&demo::wiki_id()).len() == ids.len() + 1
    });
    // The child page and database links were understood: every block kept its id.
    let now = emu.control().children_ids(&demo::wiki_id());
    assert_eq!(&now[..ids.len()], &ids[..]);
    assert_eq!(
        emu.control().plain_text(now.last().unwrap()).unwrap(),
        "Added after a remount."
    );
    m.wait("clean", || m.sync_xattr(wiki) == "clean");
}

#[test]
fn a_replayed_save_never_overwrites_a_remote_edit() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let page = demo::deep_dive_id();
    let m = Mount::start(&emu, mpd.path(), cache.path(), 600_000);
    let saved = std::fs::read_to_string(m.p(DEEP_DIVE))
        .unwrap()
        .replace(demo::MARKER, "local-marker");
    std::fs::write(m.p(DEEP_DIVE), &saved).unwrap();
    m.stop(libc::SIGKILL);

    // Meanwhile the same paragraph is edited in Notion.
    emu.control()
        .set_block_text(&demo::block_id(100), "Edited in Notion meanwhile.")
        .unwrap();
    let ids = emu.control().children_ids(&page);

    // The replay sees Notion changed since the save's base: Notion's version stays and the
    // save is kept beside the page.
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    let dir = m.p("Engineering Wiki/Architecture/Storage Layer");
    let conflict = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .find(|n| n.starts_with("Deep Dive: Compaction.conflict-") && n.ends_with(".md"))
    };
    m.wait("the conflict copy", || conflict().is_some());
    assert_eq!(
        std::fs::read_to_string(dir.join(conflict().unwrap())).unwrap(),
        saved
    );
    assert_eq!(
        emu.control().plain_text(&demo::block_id(100)).unwrap(),
        "Edited in Notion meanwhile."
    );
    assert_eq!(emu.control().children_ids(&page), ids);
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert!(
        text.contains("Edited in Notion meanwhile."),
        "{text}\n{}",
        m.stderr()
    );
    // The local version is also kept on disk, private to the user.
    let kept: Vec<_> = std::fs::read_dir(cache.path().join("conflicts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), saved);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&kept[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_save_of_a_page_with_attachments_and_child_links_touches_only_the_new_line() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
fn emacs_style_save_backup_rename_then_write_updates_the_page() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
fn a_commented_paragraph_keeps_its_id_and_comment_through_edits_around_it() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
    let page = demo::deep_dive_id();
    let ids = emu.control().children_ids(&page);
    let commented = ids[0].clone();
    // A comment thread on the first paragraph, made through the API.
    let client = notionfs::notion::Client::new(notionfs::notion::ClientConfig::new(
        emu.base_url().as_str(),
        notionfs::notion::Token::new(emu.token()),
    ))
    .unwrap();
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
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("emulator");
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = Mount::start(&emu, mpd.path(), cache.path(), 100);
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
