//! `notionfs convert` run as a user would: files, stdin, and bad input.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notionfs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notionfs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn md_to_blocks_and_back_via_stdin() {
    let md = "# Title\n\n- [x] done\n\n> quote\n";
    let (code, json, err) = run(&["convert", "md-to-blocks"], md.as_bytes());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON output");
    assert_eq!(v[0]["type"], "heading_1");
    assert_eq!(v[1]["to_do"]["checked"], true);
    assert!(v[0].get("id").is_none(), "request shape has no ids");
    let (code, back, err) = run(&["convert", "blocks-to-md"], json.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(back, md);
}

#[test]
fn reads_a_file_argument_with_nested_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blocks.json");
    // API shape: children inline at the top level of the block.
    std::fs::write(
        &path,
        r#"[{"object":"block","id":"t1","type":"toggle","has_children":true,
            "toggle":{"rich_text":[{"type":"text","text":{"content":"More"},"plain_text":"More"}],"color":"default"},
            "children":[{"type":"paragraph","paragraph":{"rich_text":[{"type":"text","text":{"content":"inside"}}]}}]}]"#,
    )
    .expect("write");
    let (code, md, err) = run(
        &[
            "convert",
            "blocks-to-md",
            path.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        md,
        "<details>\n<summary>More</summary>\n\ninside\n\n</details>\n"
    );
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let cases: [(&[&str], &[u8], &str); 4] = [
        (&["convert", "blocks-to-md"], b"{not json", "not valid JSON"),
        (
            &["convert", "blocks-to-md"],
            b"{\"a\": 1}",
            "expected a JSON array of blocks, got an object",
        ),
        (
            &["convert", "md-to-blocks"],
            b"ok \xff\xfe",
            "not valid UTF-8",
        ),
        (&["convert", "blocks-to-md"], b"[\xff]", "not valid UTF-8"),
    ];
    for (args, input, want) in cases {
        let (code, out, err) = run(args, input);
        assert_ne!(code, 0, "{args:?} should fail");
        assert!(out.is_empty(), "no output on error: {out}");
        assert!(err.contains(want), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    let (code, _, err) = run(&["convert", "md-to-blocks", "/nonexistent/x.md"], b"");
    assert_ne!(code, 0);
    assert!(err.contains("cannot read /nonexistent/x.md"), "{err}");
}

/// A page with child pages, a child database and placeholders, as `cat Page.md` shows it.
const WITH_REFERENCES: &str = "\
# Plan

<page id=\"5eed0001-de00-4000-8000-000000000002\">Architecture</page>

Some text with **bold**.

<database id=\"5eed0002-de00-4000-8000-000000000001\">Tasks</database>

- item
  - nested

<link-preview url=\"https://github.com/a/b/pull/1\" id=\"l1\"/>

<page id=\"5eed0001-de00-4000-8000-000000000005\">Block Showcase</page>
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md_to_blocks_output_is_accepted_by_append_as_is() {
    let (code, json, err) = run(&["convert", "md-to-blocks"], WITH_REFERENCES.as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.trim_end(),
        "notionfs: left out 4 blocks that no append request can create (2 child_page, \
         1 child_database, 1 link_preview); child pages and databases are created as pages, \
         the others not at all"
    );
    let blocks: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON output");
    let types: Vec<&str> = blocks
        .iter()
        .map(|b| b["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["heading_1", "paragraph", "bulleted_list_item"]);

    // Sent to append-children exactly as printed.
    let emu = notionfs::emulator::Emulator::start(notionfs::emulator::EmulatorConfig::default())
        .await
        .expect("emulator");
    let mut cfg = notionfs::notion::ClientConfig::new(
        emu.base_url(),
        notionfs::notion::Token::new(emu.token()),
    );
    cfg.rate = None;
    let client = notionfs::notion::Client::new(cfg).expect("client");
    let page = notionfs::emulator::demo::team_home_id();
    let before = client.children(&page).await.expect("children").len();
    let made = client
        .append_children(&page, blocks, None)
        .await
        .expect("append accepts the output");
    assert_eq!(made.len(), 3);
    let after = client.children(&page).await.expect("children");
    assert_eq!(after.len(), before + 3);
    assert!(after[before + 2].has_children, "the nested item came along");

    // Nothing left out: nothing said.
    let (code, _, err) = run(&["convert", "md-to-blocks"], b"just text\n");
    assert_eq!(code, 0);
    assert!(err.is_empty(), "{err}");
}
