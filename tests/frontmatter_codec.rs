//! Front matter codec: golden renders, parses of edited files, and every refusal.
//!
//! The row (tests/fixtures/properties/row_*.json) has one property of every type.

use notionfs::frontmatter::{
    apply_full_items, needs_full_items, parse, render, schema_yaml, FrontMatterError,
    MemoryContext, Parsed, Problem,
};
use notionfs::notion::model::property::PropertyData;
use notionfs::notion::model::property_item::PropertyItemResponse;
use notionfs::notion::model::{DataSource, Page};
use serde_json::{json, Value};

fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!(
        "{}/tests/fixtures/properties/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

fn row() -> (Page, DataSource, MemoryContext) {
    let ctx = MemoryContext::default()
        .with_user("11111111-1111-4111-8111-111111111111", "ada@example.com")
        .with_user("22222222-2222-4222-8222-222222222222", "bob@example.com")
        .with_user("66666666-6666-4666-8666-666666666666", "carol@example.com")
        .with_row("44444444-4444-4444-8444-444444444444", "Other task.md")
        .with_row(
            "77777777-7777-4777-8777-777777777777",
            "../Roadmap/Tasks/Third.md",
        )
        .with_attachment(
            "https://files.example/abc/spec.pdf?sig=old",
            "Write spec/spec.pdf",
        );
    (load("row_page.json"), load("row_schema.json"), ctx)
}

const GOLDEN: &str = r#"---
Notes: "Some **bold** text: see [docs](https://example.com/docs)"
Estimate: 3.5
Priority: "no"
Status: In progress
Tags:
  - A
  - "yes"
Due: 2025-01-31
Owner:
  - ada@example.com
  - bob@example.com
  - 33333333-3333-4333-8333-333333333333
Blocked by:
  - Other task.md
  - 55555555-5555-4555-8555-555555555555
Files:
  - Write spec/spec.pdf
  - https://example.com/x.png
Done: false
Link: https://example.com
Mail: null
Phone: "+1 415 555 0100"
Score: 7
Total: 10
Created: 2025-01-01T10:00:00.000Z
Creator: ada@example.com
Edited: 2025-01-02T11:00:00.000Z
Editor: bob@example.com
ID: TASK-7
Verified:
  state: unverified
Where: null
Go: {}
Hologram:
  depth: 3
  tint: "no"
---
"#;

const BODY: &str = "# Plan\n\nSome *body* text.\n---\nnot front matter\n";

#[test]
fn golden_render_of_every_type() {
    let (page, schema, ctx) = row();
    assert_eq!(render(&page, &schema, &ctx), GOLDEN);
}

#[test]
fn unchanged_file_has_no_changes_and_keeps_the_body() {
    let (page, schema, ctx) = row();
    let text = format!("{}{BODY}", render(&page, &schema, &ctx));
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert_eq!(p.changes, serde_json::Map::new());
    assert!(p.refused.is_empty(), "{:?}", p.refused);
    assert_eq!(p.body, BODY);
    assert_eq!(p.update_request(), None);
}

/// Replaces the `key:` entry (and its indented lines) of a front matter with `entry`.
fn edit(text: &str, key: &str, entry: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut replaced = false;
    for line in text.split_inclusive('\n') {
        if skipping && line.starts_with("  ") {
            continue;
        }
        skipping = false;
        if !replaced
            && (line.starts_with(&format!("{key}:")) || line.starts_with(&format!("\"{key}\":")))
        {
            out.push_str(entry);
            out.push('\n');
            skipping = true;
            replaced = true;
            continue;
        }
        out.push_str(line);
    }
    assert!(replaced, "no key {key}");
    out
}

fn parse_edit(key: &str, entry: &str) -> Parsed {
    let (page, schema, ctx) = row();
    let text = format!("{}{BODY}", render(&page, &schema, &ctx));
    let p = parse(&edit(&text, key, entry), &page, &schema, &ctx).unwrap();
    assert_eq!(p.body, BODY);
    p
}

/// The one change an edit makes.
fn change(key: &str, entry: &str) -> Value {
    let p = parse_edit(key, entry);
    assert!(p.refused.is_empty(), "{key}: {:?}", p.refused);
    assert_eq!(p.changes.len(), 1, "{key}: {:?}", p.changes);
    p.changes[key].clone()
}

/// The one refusal an edit causes (no change is made).
fn refusal(key: &str, entry: &str) -> (Problem, String) {
    let p = parse_edit(key, entry);
    assert!(p.changes.is_empty(), "{key}: {:?}", p.changes);
    assert_eq!(p.refused.len(), 1, "{key}: {:?}", p.refused);
    let e = &p.refused[0];
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("property \"{key}\": ")), "{msg}");
    assert!(msg.contains("; fix: "), "{msg}");
    (e.problem.clone(), msg)
}

#[test]
fn rich_text_edits() {
    assert_eq!(
        change("Notes", "Notes: Plain *new* `c`"),
        json!({"rich_text": [
            {"type": "text", "text": {"content": "Plain ", "link": null}},
            {"type": "text", "text": {"content": "new", "link": null}, "annotations": {"italic": true}},
            {"type": "text", "text": {"content": " ", "link": null}},
            {"type": "text", "text": {"content": "c", "link": null}, "annotations": {"code": true}}
        ]})
    );
    assert_eq!(change("Notes", "Notes: \"\""), json!({"rich_text": []}));
    assert_eq!(change("Notes", "Notes: null"), json!({"rich_text": []}));
    // The text YAML would mistype stays text.
    assert_eq!(
        change("Notes", "Notes: \"no\""),
        json!({"rich_text": [{"type": "text", "text": {"content": "no", "link": null}}]})
    );
}

#[test]
fn long_text_is_split_into_several_objects() {
    let long = "word ".repeat(900); // 4500 characters
    let c = change("Notes", &format!("Notes: \"{long}\""));
    let runs = c["rich_text"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs
        .iter()
        .all(|r| r["text"]["content"].as_str().unwrap().chars().count() <= 2000));
    let joined: String = runs
        .iter()
        .map(|r| r["text"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(joined, long);
}

#[test]
fn scalar_edits() {
    assert_eq!(change("Estimate", "Estimate: 4"), json!({"number": 4}));
    assert_eq!(
        change("Estimate", "Estimate: null"),
        json!({"number": null})
    );
    assert_eq!(
        change("Estimate", "Estimate: -0.25"),
        json!({"number": -0.25})
    );
    assert_eq!(
        change("Priority", "Priority: Low"),
        json!({"select": {"name": "Low"}})
    );
    assert_eq!(
        change("Priority", "Priority: null"),
        json!({"select": null})
    );
    assert_eq!(
        change("Status", "Status: Done"),
        json!({"status": {"name": "Done"}})
    );
    assert_eq!(
        change("Tags", "Tags: [A, B, \"yes\"]"),
        json!({"multi_select": [{"name": "A"}, {"name": "B"}, {"name": "yes"}]})
    );
    assert_eq!(change("Tags", "Tags: []"), json!({"multi_select": []}));
    assert_eq!(change("Done", "Done: true"), json!({"checkbox": true}));
    assert_eq!(change("Link", "Link: null"), json!({"url": null}));
    assert_eq!(change("Link", "Link: \"\""), json!({"url": null}));
    assert_eq!(
        change("Mail", "Mail: ada@example.com"),
        json!({"email": "ada@example.com"})
    );
    assert_eq!(
        change("Phone", "Phone: 415-202-4776"),
        json!({"phone_number": "415-202-4776"})
    );
}

#[test]
fn date_edits() {
    assert_eq!(
        change("Due", "Due: 2025-02-01T09:00:00+01:00"),
        json!({"date": {"start": "2025-02-01T09:00:00+01:00", "end": null}})
    );
    assert_eq!(
        change("Due", "Due: {start: 2025-02-01, end: 2025-02-03}"),
        json!({"date": {"start": "2025-02-01", "end": "2025-02-03"}})
    );
    assert_eq!(
        change(
            "Due",
            "Due:\n  start: 2025-02-01T09:00:00\n  time_zone: Europe/Berlin"
        ),
        json!({"date": {"start": "2025-02-01T09:00:00", "end": null, "time_zone": "Europe/Berlin"}})
    );
    assert_eq!(change("Due", "Due: null"), json!({"date": null}));
    // The same date written as a mapping is no change.
    let p = parse_edit("Due", "Due: {start: 2025-01-31}");
    assert!(p.changes.is_empty() || p.changes["Due"]["date"]["start"] == "2025-01-31");
}

#[test]
fn people_relation_and_files_edits() {
    // Dropping bob, adding carol by e-mail; the unknown bot keeps its id.
    assert_eq!(
        change(
            "Owner",
            "Owner:\n  - ada@example.com\n  - carol@example.com\n  - 33333333-3333-4333-8333-333333333333"
        ),
        json!({"people": [
            {"object": "user", "id": "11111111-1111-4111-8111-111111111111"},
            {"object": "user", "id": "66666666-6666-4666-8666-666666666666"},
            {"object": "user", "id": "33333333-3333-4333-8333-333333333333"}
        ]})
    );
    assert_eq!(
        change(
            "Blocked by",
            "Blocked by:\n  - Other task.md\n  - ../Roadmap/Tasks/Third.md\n  - 8888888888884888a888888888888888"
        ),
        json!({"relation": [
            {"id": "44444444-4444-4444-8444-444444444444"},
            {"id": "77777777-7777-4777-8777-777777777777"},
            {"id": "8888888888884888a888888888888888"}
        ]})
    );
    assert_eq!(
        change("Blocked by", "Blocked by: []"),
        json!({"relation": []})
    );
    // The hosted file is sent back as read (Notion keeps it); a new URL becomes external.
    assert_eq!(
        change(
            "Files",
            "Files:\n  - Write spec/spec.pdf\n  - https://example.com/docs/guide.pdf?x=1"
        ),
        json!({"files": [
            {"name": "spec.pdf", "type": "file", "file": {"url": "https://files.example/abc/spec.pdf?sig=1", "expiry_time": "2025-01-02T12:00:00.000Z"}},
            {"name": "guide.pdf", "type": "external", "external": {"url": "https://example.com/docs/guide.pdf?x=1"}}
        ]})
    );
}

#[test]
fn unchanged_read_only_values_are_fine_in_any_spelling() {
    // `Score: 7.0` is the same number; the verification mapping in flow style is the same.
    let p = parse_edit("Score", "Score: 7.0");
    assert!(p.changes.is_empty() && p.refused.is_empty(), "{p:?}");
    let p = parse_edit("Verified", "Verified: {state: unverified}");
    assert!(p.changes.is_empty() && p.refused.is_empty(), "{p:?}");
}

#[test]
fn read_only_changes_are_refused() {
    for (key, entry, ty) in [
        ("Score", "Score: 8", "formula"),
        ("Total", "Total: 11", "rollup"),
        (
            "Created",
            "Created: 2024-01-01T00:00:00.000Z",
            "created_time",
        ),
        ("Creator", "Creator: bob@example.com", "created_by"),
        ("Edited", "Edited: null", "last_edited_time"),
        ("Editor", "Editor: ada@example.com", "last_edited_by"),
        ("ID", "ID: TASK-8", "unique_id"),
        ("Verified", "Verified: verified", "verification"),
        ("Where", "Where: Paris", "place"),
        ("Go", "Go: pressed", "button"),
        ("Hologram", "Hologram: {depth: 4}", "hologram"),
    ] {
        let (problem, msg) = refusal(key, entry);
        assert!(
            matches!(&problem, Problem::ReadOnly { type_name, .. } if type_name == ty),
            "{msg}"
        );
        assert!(msg.contains("read-only"), "{msg}");
        assert!(msg.contains("restore the value"), "{msg}");
    }
    let (_, msg) = refusal("ID", "ID: TASK-8");
    assert!(
        msg.contains("TASK-7"),
        "the message shows the value to restore: {msg}"
    );
}

#[test]
fn unknown_option_names_the_existing_ones() {
    let (_, msg) = refusal("Status", "Status: Doing");
    assert!(
        msg.starts_with(
            "property \"Status\": option \"Doing\" does not exist; existing options: Not started, In progress, Done; fix: "
        ),
        "{msg}"
    );
    let (p, msg) = refusal("Tags", "Tags: [A, C, D]");
    assert_eq!(
        p,
        Problem::UnknownOption {
            options: vec!["C".into(), "D".into()],
            existing: vec!["A".into(), "B".into(), "yes".into()]
        }
    );
    assert!(msg.contains("never created"), "{msg}");
    // Case matters: Notion's names are what the file must say.
    refusal("Priority", "Priority: low");
}

#[test]
fn type_mismatches_are_refused() {
    for (key, entry, expected) in [
        ("Estimate", "Estimate: three", "a number or null"),
        ("Done", "Done: yes", "true or false"),
        ("Done", "Done: null", "true or false"),
        ("Tags", "Tags: A", "a list of option names"),
        ("Tags", "Tags: [A, [B]]", "a list of option names"),
        ("Notes", "Notes: [a]", "text"),
        ("Priority", "Priority: [Low]", "select option"),
        ("Link", "Link: 42", "text or null"),
        ("Owner", "Owner: ada@example.com", "a list of e-mails"),
        ("Due", "Due: 42", "a date"),
        ("Due", "Due: {begin: 2025-01-01}", "a date mapping"),
    ] {
        let (problem, msg) = refusal(key, entry);
        assert!(
            matches!(&problem, Problem::TypeMismatch { expected: e, .. } if e.contains(expected)),
            "{key}: {msg}"
        );
    }
    let (p, msg) = refusal("Due", "Due: 2025-02-30");
    assert!(matches!(p, Problem::InvalidDate { .. }), "{msg}");
    let (p, _) = refusal("Due", "Due: {start: 2025-02-01, time_zone: Europe/Berlin}");
    assert!(matches!(p, Problem::InvalidDate { .. }));
}

#[test]
fn values_over_api_limits_are_refused() {
    let long_url = format!("https://example.com/{}", "a".repeat(2000));
    let (p, msg) = refusal("Link", &format!("Link: {long_url}"));
    assert!(matches!(p, Problem::TooLong { limit: 2000, .. }), "{msg}");
    let (p, _) = refusal("Mail", &format!("Mail: {}@example.com", "a".repeat(190)));
    assert!(matches!(p, Problem::TooLong { limit: 200, .. }));
    let (p, _) = refusal("Phone", &format!("Phone: \"{}\"", "1".repeat(201)));
    assert!(matches!(p, Problem::TooLong { limit: 200, .. }));
    let ids: Vec<String> = (0..101).map(|i| format!("{i:032x}")).collect();
    let (p, msg) = refusal("Blocked by", &format!("Blocked by: [{}]", ids.join(", ")));
    assert!(
        matches!(
            p,
            Problem::TooMany {
                count: 101,
                limit: 100,
                ..
            }
        ),
        "{msg}"
    );
    let (p, _) = refusal("Owner", &format!("Owner: [{}]", ids.join(", ")));
    assert!(matches!(p, Problem::TooMany { count: 101, .. }));
    let tags: Vec<String> = (0..101).map(|i| format!("T{i}")).collect();
    let (p, _) = refusal("Tags", &format!("Tags: [{}]", tags.join(", ")));
    assert!(matches!(p, Problem::TooMany { count: 101, .. }));
    let (p, _) = refusal("Notes", &format!("Notes: \"{}\"", "x".repeat(200_001)));
    assert!(matches!(p, Problem::TooLong { .. }));
    let (p, _) = refusal(
        "Notes",
        &format!("Notes: \"[a](https://e.com/{})\"", "b".repeat(2000)),
    );
    assert!(matches!(p, Problem::TooLong { limit: 2000, .. }));
}

#[test]
fn unknown_references_are_refused() {
    let (p, msg) = refusal("Owner", "Owner: [nobody@example.com]");
    assert_eq!(
        p,
        Problem::UnknownUser {
            values: vec!["nobody@example.com".into()]
        }
    );
    assert!(msg.contains("\"nobody@example.com\" is neither"), "{msg}");
    let (p, _) = refusal("Blocked by", "Blocked by: [Missing.md]");
    assert_eq!(
        p,
        Problem::UnknownRelation {
            values: vec!["Missing.md".into()]
        }
    );
    let (p, _) = refusal("Files", "Files: [local/new.pdf]");
    assert_eq!(
        p,
        Problem::UnknownFile {
            values: vec!["local/new.pdf".into()]
        }
    );
    let (p, _) = refusal("Tags", "Tags: [A, A]");
    assert_eq!(p, Problem::Duplicate { value: "A".into() });
}

#[test]
fn unknown_keys_and_the_title_are_refused() {
    let (page, schema, ctx) = row();
    let text =
        render(&page, &schema, &ctx).replacen("---\n", "---\nstatus: Done\nName: Other\n", 1);
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert!(p.changes.is_empty());
    assert_eq!(p.refused.len(), 2);
    let msg = p.refused[0].to_string();
    assert!(
        msg.starts_with("property \"status\": no such property in this data source (did you mean \"Status\"?); existing properties: Notes, Estimate"),
        "{msg}"
    );
    assert!(!msg.contains("Name,"), "the title is not offered: {msg}");
    assert_eq!(p.refused[1].problem, Problem::Title);
    assert!(p.refused[1].to_string().contains("rename the file"));
}

#[test]
fn refused_properties_do_not_block_the_others() {
    let (page, schema, ctx) = row();
    let mut text = format!("{}{BODY}", render(&page, &schema, &ctx));
    text = edit(&text, "Status", "Status: Doing");
    text = edit(&text, "Estimate", "Estimate: 5");
    text = edit(&text, "Score", "Score: 99");
    text = edit(&text, "Done", "Done: true");
    text = edit(&text, "Link", "Link: 12");
    text = text.replacen("---\n", "---\nColour: red\n", 1);
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert_eq!(
        Value::Object(p.changes.clone()),
        json!({"Estimate": {"number": 5}, "Done": {"checkbox": true}})
    );
    let refused: Vec<&str> = p.refused.iter().map(|e| e.property.as_str()).collect();
    assert_eq!(refused, vec!["Colour", "Status", "Link", "Score"]);
    assert_eq!(p.body, BODY);
    assert_eq!(
        p.update_request(),
        Some(json!({"properties": {"Estimate": {"number": 5}, "Done": {"checkbox": true}}}))
    );
}

#[test]
fn malformed_yaml_reports_line_and_column_and_keeps_the_body() {
    let (page, schema, ctx) = row();
    let text = format!("---\nEstimate: 4\nNotes: [unclosed\nDone: true\n---\n{BODY}");
    let e = parse(&text, &page, &schema, &ctx).unwrap_err();
    match &e {
        FrontMatterError::Malformed {
            line, column, body, ..
        } => {
            // `Notes: [unclosed` is file line 3; the reader stops on line 4, column 5.
            assert_eq!((*line, *column), (4, 5));
            assert_eq!(body, BODY);
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("malformed YAML at line") && msg.contains("fix:"),
        "{msg}"
    );
    assert_eq!(e.body(), Some(BODY));

    let text = "---\nEstimate: 4\n: : :\n  - x\n---\n";
    match parse(text, &page, &schema, &ctx).unwrap_err() {
        FrontMatterError::Malformed { line, column, .. } => assert_eq!((line, column), (3, 1)),
        other => panic!("{other:?}"),
    }
    let e = parse("---\n- a\n- b\n---\nbody", &page, &schema, &ctx).unwrap_err();
    assert!(matches!(e, FrontMatterError::NotAMapping { .. }));
    assert_eq!(e.body(), Some("body"));
    let e = parse("---\nEstimate: 4\nno end\n", &page, &schema, &ctx).unwrap_err();
    assert_eq!(e, FrontMatterError::Unterminated);
    let e = parse("---\nDone: !custom x\n---\n", &page, &schema, &ctx).unwrap_err();
    assert!(matches!(e, FrontMatterError::Malformed { .. }), "{e:?}");
}

#[test]
fn no_front_matter_and_empty_front_matter() {
    let (page, schema, ctx) = row();
    let p = parse("# Just a body\n", &page, &schema, &ctx).unwrap();
    assert_eq!(p.body, "# Just a body\n");
    assert!(p.changes.is_empty());
    let p = parse("---\n---\nbody\n", &page, &schema, &ctx).unwrap();
    assert_eq!(p.body, "body\n");
    assert!(p.changes.is_empty() && p.refused.is_empty());
    // A deleted line leaves that property as it is.
    let (page, schema, ctx) = row();
    let text = render(&page, &schema, &ctx).replace("Estimate: 3.5\n", "");
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert!(p.changes.is_empty() && p.refused.is_empty());
    // CRLF files.
    let text = render(&page, &schema, &ctx).replace('\n', "\r\n") + "body";
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert!(p.changes.is_empty() && p.refused.is_empty(), "{p:?}");
    assert_eq!(p.body, "body");
}

#[test]
fn empty_values_render_and_read_back() {
    let (mut page, schema, ctx) = row();
    page.properties.retain(|k, _| k == "Name");
    let text = render(&page, &schema, &ctx);
    assert_eq!(
        text,
        "---\nNotes: \"\"\nEstimate: null\nPriority: null\nStatus: null\nTags: []\nDue: null\n\
         Owner: []\nBlocked by: []\nFiles: []\nDone: false\nLink: null\nMail: null\nPhone: null\n\
         Score: null\nTotal: null\nCreated: null\nCreator: null\nEdited: null\nEditor: null\n\
         ID: null\nVerified: null\nWhere: null\nGo: null\nHologram: null\n---\n"
    );
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert!(p.changes.is_empty() && p.refused.is_empty(), "{p:?}");
    // From nothing (a new row), set values become changes.
    let p = notionfs::frontmatter::parse_properties(
        "---\nEstimate: 2\nStatus: Done\nScore: null\n---\n",
        &Default::default(),
        &schema,
        &ctx,
    )
    .unwrap();
    assert_eq!(
        Value::Object(p.changes),
        json!({"Estimate": {"number": 2}, "Status": {"status": {"name": "Done"}}})
    );
}

#[test]
fn values_yaml_would_mistype_are_quoted_and_read_back() {
    let (mut page, schema, ctx) = row();
    for s in [
        "no",
        "yes",
        "on",
        "off",
        "true",
        "null",
        "~",
        "1.0",
        "0x1F",
        "1e3",
        "2025-01-31",
        "a: b",
        "a #b",
        "#x",
        "-x",
        "?x",
        "[x",
        "{x",
        "*x",
        "&x",
        "!x",
        "|x",
        ">x",
        "'x",
        "\"x",
        "%x",
        "@x",
        "`x",
        " lead",
        "trail ",
        "two\nlines",
        "tab\there",
        "bell\u{7}",
    ] {
        page.properties["Link"].data = PropertyData::Url(Some(s.to_string()));
        page.properties["Phone"].data = PropertyData::PhoneNumber(Some(s.to_string()));
        let text = render(&page, &schema, &ctx);
        let line = text.lines().find(|l| l.starts_with("Link: ")).unwrap();
        assert!(line.starts_with("Link: \""), "{s:?} must be quoted: {line}");
        let p = parse(&text, &page, &schema, &ctx).unwrap();
        assert!(p.changes.is_empty() && p.refused.is_empty(), "{s:?}: {p:?}");
    }
}

#[test]
fn truncated_lists_are_completed_from_property_items() {
    let (mut page, schema, ctx) = row();
    page.properties["Blocked by"].has_more = Some(true);
    assert_eq!(
        needs_full_items(&page),
        vec![("Blocked by".to_string(), "Blk".to_string())]
    );
    // Unchanged is fine; a change would drop the unseen entries: refused.
    let text = render(&page, &schema, &ctx);
    assert!(parse(&text, &page, &schema, &ctx)
        .unwrap()
        .refused
        .is_empty());
    let (p, msg) = {
        let edited = edit(&text, "Blocked by", "Blocked by: []");
        let p = parse(&edited, &page, &schema, &ctx).unwrap();
        (p.refused[0].problem.clone(), p.refused[0].to_string())
    };
    assert_eq!(p, Problem::Truncated { shown: 2 });
    assert!(msg.contains("only the first 2"), "{msg}");

    let pages: Vec<PropertyItemResponse> = [
        (vec!["44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"], true),
        (vec!["77777777-7777-4777-8777-777777777777"], false),
    ]
    .iter()
    .map(|(ids, more)| {
        serde_json::from_value(json!({
            "object": "list",
            "results": ids.iter().map(|id| json!({"object": "property_item", "id": "Blk", "type": "relation", "relation": {"id": id}})).collect::<Vec<_>>(),
            "next_cursor": if *more { json!("c") } else { Value::Null },
            "has_more": more,
            "type": "property_item",
            "property_item": {"id": "Blk", "next_url": null, "type": "relation", "relation": {}}
        }))
        .unwrap()
    })
    .collect();
    apply_full_items(&mut page, "Blocked by", &pages).unwrap();
    assert!(needs_full_items(&page).is_empty());
    let text = render(&page, &schema, &ctx);
    assert!(text.contains("Blocked by:\n  - Other task.md\n  - 55555555-5555-4555-8555-555555555555\n  - ../Roadmap/Tasks/Third.md\n"), "{text}");
    let edited = edit(&text, "Blocked by", "Blocked by: [Other task.md]");
    let p = parse(&edited, &page, &schema, &ctx).unwrap();
    assert_eq!(
        p.changes["Blocked by"],
        json!({"relation": [{"id": "44444444-4444-4444-8444-444444444444"}]})
    );
}

#[test]
fn long_people_lists_need_the_property_endpoint() {
    let (mut page, _, _) = row();
    let users: Vec<&str> = vec!["11111111-1111-4111-8111-111111111111"; 25];
    page.properties["Owner"].data = PropertyData::people(users);
    assert_eq!(
        needs_full_items(&page),
        vec![("Owner".to_string(), "Own".to_string())]
    );
}

#[test]
fn schema_yaml_lists_every_property_in_order() {
    let (_, schema, _) = row();
    let text = schema_yaml(&schema);
    let expected_start = concat!(
        "Name:\n  type: title\n  id: title\n",
        "Notes:\n  type: rich_text\n  id: N%3Bt\n",
        "Estimate:\n  type: number\n  id: Est\n  format: number\n",
        "Priority:\n  type: select\n  id: Pri\n  options:\n",
        "    - name: Low\n      color: gray\n",
        "    - name: High\n      color: red\n",
        "    - name: \"no\"\n      color: default\n      description: an option YAML would read as false\n",
    );
    assert!(text.starts_with(expected_start), "{text}");
    for needle in [
        "Status:\n  type: status\n",
        "  groups:\n    - name: To-do\n      color: gray\n      options:\n        - Not started\n",
        "Score:\n  type: formula\n  id: Sco\n  expression: prop(\"Estimate\") * 2\n  read_only: true\n",
        "Blocked by:\n  type: relation\n  id: Blk\n  data_source_id: dddddddd-dddd-4ddd-8ddd-dddddddddddd\n  relation_type: single_property\n",
        "Total:\n  type: rollup\n  id: Tot\n  function: sum\n  relation_property: Blocked by\n  rollup_property: Estimate\n  read_only: true\n",
        "ID:\n  type: unique_id\n  id: Uid\n  prefix: TASK\n  read_only: true\n",
        "Hologram:\n  type: hologram\n  id: Hol\n  read_only: true\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // It is YAML that reads back, in schema order.
    let v: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let keys: Vec<String> = v
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let order: Vec<String> = schema.properties.keys().cloned().collect();
    assert_eq!(keys, order);
}

#[test]
fn the_man_page_example_does_what_it_says() {
    let (page, schema, ctx) = row();
    let mut text = format!("{}{BODY}", render(&page, &schema, &ctx));
    text = edit(&text, "Status", "Status: Done");
    text = edit(&text, "Tags", "Tags:\n  - A\n  - \"yes\"\n  - B");
    text = edit(&text, "Score", "Score: 8");
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert_eq!(
        p.update_request(),
        Some(
            json!({"properties": {"Status": {"status": {"name": "Done"}},
            "Tags": {"multi_select": [{"name": "A"}, {"name": "yes"}, {"name": "B"}]}}})
        )
    );
    assert_eq!(p.refused.len(), 1);
    assert_eq!(p.refused[0].property, "Score");
    let man =
        std::fs::read_to_string(format!("{}/man/notionfs.5", env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(man.contains("\n.SH FRONT MATTER\n"));
    assert!(man.contains("property \"Status\": option \"Doing\" does not exist"));
}

#[test]
fn annotations_that_render_identically_are_no_change() {
    let (page, schema, ctx) = row();
    // Notes has an underlined run and a response-shaped link; the file shows neither
    // underline nor `href`, and writing the same text back sends nothing.
    let text = edit(
        &render(&page, &schema, &ctx),
        "Notes",
        "Notes: 'Some **bold** text: see [docs](https://example.com/docs)'",
    );
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert!(p.changes.is_empty() && p.refused.is_empty(), "{p:?}");
}

#[test]
fn mentions_rollups_and_people_lists_are_completed() {
    let (mut page, _, ctx) = row();
    let mention = json!({"type": "mention", "mention": {"type": "user", "user": {"object": "user", "id": "11111111-1111-4111-8111-111111111111"}},
                         "plain_text": "@Ada", "href": null});
    page.properties["Notes"].data =
        serde_json::from_value(json!({"type": "rich_text", "rich_text": vec![mention; 25]}))
            .unwrap();
    page.properties["Total"].data = serde_json::from_value(json!({"type": "rollup", "rollup": {
        "type": "array", "function": "show_original",
        "array": vec![json!({"type": "number", "number": 1}); 25]}}))
    .unwrap();
    let users: Vec<&str> = vec!["11111111-1111-4111-8111-111111111111"; 25];
    page.properties["Owner"].data = PropertyData::people(users);
    let names: Vec<String> = needs_full_items(&page)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["Notes", "Owner", "Total"]);

    // People: pages of one user each.
    let people_page: PropertyItemResponse = serde_json::from_value(json!({
        "object": "list",
        "results": (0..30).map(|i| json!({"object": "property_item", "id": "Own", "type": "people",
            "people": {"object": "user", "id": format!("{i:08}-1111-4111-8111-111111111111")}})).collect::<Vec<_>>(),
        "next_cursor": null, "has_more": false, "type": "property_item",
        "property_item": {"id": "Own", "next_url": null, "type": "people", "people": {}}
    }))
    .unwrap();
    apply_full_items(&mut page, "Owner", &[people_page]).unwrap();
    match &page.properties["Owner"].data {
        PropertyData::People(p) => assert_eq!(p.len(), 30),
        other => panic!("{other:?}"),
    }
    let names: Vec<String> = needs_full_items(&page)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["Notes", "Total"]);
    // A 30-person list read completely can be edited.
    let schema: DataSource = load("row_schema.json");
    let text = edit(
        &render(&page, &schema, &ctx),
        "Owner",
        "Owner: [ada@example.com]",
    );
    let p = parse(&text, &page, &schema, &ctx).unwrap();
    assert_eq!(
        p.changes["Owner"],
        json!({"people": [{"object": "user", "id": "11111111-1111-4111-8111-111111111111"}]})
    );
}
