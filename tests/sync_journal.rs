//! Journal tests: durability across a real `kill -9`, reopen after drop, permissions, fsync
//! path, damaged and half-written files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use notionfs::sync::{Journal, JournalError, RecordKind};

fn mode(p: &std::path::Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn records_are_private_fsynced_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache/journal");
    let j = Journal::open(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    let syncs = j.fsync_count();
    let seq = j
        .record("page-1", RecordKind::Body, b"# new\n", Some(b"# old\n"))
        .unwrap();
    // The file and the directory were both fsync'd before record returned.
    assert_eq!(j.fsync_count() - syncs, 2);
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    let p = j.pending().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].seq, seq);
    assert_eq!(p[0].page_id, "page-1");
    assert_eq!(p[0].kind, RecordKind::Body);
    assert_eq!(p[0].data, b"# new\n");
    assert_eq!(p[0].base.as_deref(), Some(&b"# old\n"[..]));
    let new_page = j
        .record("parent", RecordKind::Create, b"body", None)
        .unwrap();
    assert!(new_page > seq);
    assert_eq!(j.pending_for("parent").unwrap()[0].base, None);
}

#[test]
fn unconfirmed_records_are_pending_again_after_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = {
        let j = Journal::open(tmp.path()).unwrap();
        let a = j
            .record("p", RecordKind::Body, b"one", Some(b"zero"))
            .unwrap();
        let b = j.record("q", RecordKind::Properties, b"two", None).unwrap();
        (a, b)
        // dropped without confirm: as if the process ended
    };
    let j = Journal::open(tmp.path()).unwrap();
    let p = j.pending().unwrap();
    assert_eq!(p.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(p[0].data, b"one");
    j.confirm(a).unwrap();
    assert!(matches!(j.confirm(a), Err(JournalError::UnknownSeq(_))));
    let c = j.record("p", RecordKind::Body, b"three", None).unwrap();
    assert!(c > b, "sequence numbers continue after reopen");
    drop(j);
    let j = Journal::open(tmp.path()).unwrap();
    let seqs: Vec<_> = j.pending().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![b, c]);
    j.confirm(b).unwrap();
    j.confirm(c).unwrap();
    assert_eq!(j.pending_count(), 0);
    assert_eq!(Journal::open(tmp.path()).unwrap().pending_count(), 0);
}

#[test]
fn half_written_and_damaged_files_are_not_pushed() {
    let tmp = tempfile::tempdir().unwrap();
    let seq = {
        let j = Journal::open(tmp.path()).unwrap();
        j.record("p", RecordKind::Body, b"good", None).unwrap();
        j.record("p", RecordKind::Body, b"will be damaged", None)
            .unwrap()
    };
    // A crash between write and rename leaves a .tmp: never acknowledged, dropped.
    fs::write(tmp.path().join("00000000000000000099.rec.tmp"), b"partial").unwrap();
    // A flipped byte in a record.
    let path = tmp.path().join(format!("{seq:020}.rec"));
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    fs::write(&path, bytes).unwrap();

    let j = Journal::open(tmp.path()).unwrap();
    let p = j.pending().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].data, b"good");
    assert_eq!(j.corrupt().len(), 1);
    assert!(j.corrupt()[0].to_string_lossy().ends_with(".rec.corrupt"));
    assert!(!tmp.path().join("00000000000000000099.rec.tmp").exists());
    // The damaged file is kept for a human, and stays listed on the next open.
    drop(j);
    assert_eq!(Journal::open(tmp.path()).unwrap().corrupt().len(), 1);
}

#[test]
fn open_tightens_a_loose_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("j");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    Journal::open(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
}

const CHILD_ENV: &str = "NOTIONFS_TEST_JOURNAL_CHILD_DIR";

/// Runs twice: as the test, it starts this test binary again as a child that records and
/// then kills itself with SIGKILL; then it checks the record survived.
#[test]
fn kill_9_after_record_loses_nothing() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let j = Journal::open(&dir).unwrap();
        j.record(
            "page",
            RecordKind::Body,
            b"saved before the crash",
            Some(b"base"),
        )
        .unwrap();
        // SAFETY: plain libc calls on our own process id.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        unreachable!("SIGKILL ends the process");
    }
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_9_after_record_loses_nothing",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child was killed");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let j = Journal::open(tmp.path()).unwrap();
    let p = j.pending().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].data, b"saved before the crash");
    assert_eq!(p[0].base.as_deref(), Some(&b"base"[..]));
}

#[test]
fn failures_are_noted_durably_and_cleared_on_confirm() {
    let tmp = tempfile::tempdir().unwrap();
    let j = Journal::open(tmp.path()).unwrap();
    let a = j.record("p", RecordKind::Body, b"v1", None).unwrap();
    j.mark_failed(a, "validation_error: text too long").unwrap();
    assert_eq!(
        j.pending().unwrap()[0].failure.as_deref(),
        Some("validation_error: text too long")
    );
    drop(j);
    let j = Journal::open(tmp.path()).unwrap();
    assert_eq!(
        j.pending().unwrap()[0].failure.as_deref(),
        Some("validation_error: text too long"),
        "the reason survives a restart"
    );
    j.confirm(a).unwrap();
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no sidecar left"
    );
    assert!(matches!(
        j.mark_failed(a, "x"),
        Err(JournalError::UnknownSeq(_))
    ));
}

#[test]
fn newer_body_confirms_the_older_ones_of_the_same_page() {
    let tmp = tempfile::tempdir().unwrap();
    let j = Journal::open(tmp.path()).unwrap();
    let a = j.record("p", RecordKind::Body, b"v1", None).unwrap();
    let other = j.record("q", RecordKind::Body, b"q1", None).unwrap();
    let props = j
        .record("p", RecordKind::Properties, b"k: v", None)
        .unwrap();
    let b = j.record("p", RecordKind::Body, b"v2", None).unwrap();
    let later = j.record("p", RecordKind::Body, b"v3", None).unwrap();
    assert_eq!(j.confirm_through("p", RecordKind::Body, b).unwrap(), 2);
    let left: Vec<_> = j.pending().unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(left, vec![other, props, later]);
    assert!(a < b);
}
