//! Object models against the JSON examples of the reference (tests/fixtures/objects/, see its
//! README for where each example comes from and the repairs some needed).
//!
//! Every fixture must deserialize into its model and serialize back to the same JSON value;
//! the typed tests then check that the important fields land where the code reads them.

use notionfs::notion::model::block::BlockKind;
use notionfs::notion::model::rich_text::{Mention, RichTextKind};
use notionfs::notion::model::{
    Block, Comment, DataSource, Database, ErrorBody, FileObject, FileUpload, Icon, List, Page,
    Parent, PropertyValue, RichText, User,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/objects/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The paths where `a` and `b` differ, for readable failures.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: only written back ({v})")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: dropped ({w})"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if a != b => out.push(format!("{path}: wrote {a}, expected {b}")),
        _ => {}
    }
}

/// Asserts `back == expected`, listing the differing paths.
fn assert_same(label: &str, back: &Value, expected: &Value) {
    let mut out = Vec::new();
    diff("", back, expected, &mut out);
    assert!(
        out.is_empty(),
        "{label}: round trip changed the JSON:\n{}",
        out.join("\n")
    );
    assert_eq!(back, expected, "{label}");
}

/// Reads `v` as `T` and checks that writing it back gives exactly `v`.
fn exact<T: DeserializeOwned + Serialize>(label: &str, v: &Value) -> T {
    let model: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
    let back = serde_json::to_value(&model).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_same(label, &back, v);
    model
}

/// Loads fixture `name` as `T`, checking its round trip (see `round_trip`).
fn load<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let v = fixture(name);
    round_trip::<T>(name, &v);
    serde_json::from_value(v).expect("fixture reads")
}

/// The fixture files, without `.json`.
fn fixture_names() -> Vec<String> {
    let dir = format!("{}/tests/fixtures/objects", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Deliberate normalisations, each with its reason. Returns the JSON the model is expected
/// to write for fixture `name`.
fn expected_output(name: &str, v: &Value) -> Value {
    let mut out = v.clone();
    // The guide prints `content_length` as a string; the reference types it as an integer,
    // and the model writes the integer.
    if name == "file-upload--guide-uploading-small-files-send" {
        out["content_length"] = json!(4435);
    }
    out
}

/// Examples the reference abbreviates ("...other keys excluded", "// ..." in guides, an
/// older page example without `public_url`). The model writes back every field they have,
/// unchanged, and may add only the API's defaults for fields the example left out (see
/// `is_default_for_missing`).
fn is_abbreviated(name: &str) -> bool {
    (name.starts_with("block--") && name != "block--block" && name != "block--mention")
        || name.starts_with("database--")
        || name.starts_with("data-source--")
        || name == "page--archive-a-page"
}

/// What the model may write for a key an abbreviated example left out: `type` naming the
/// sibling payload key (inferred on read, as requests allow), and the values the API gives
/// when a field is empty.
fn is_default_for_missing(parent: &serde_json::Map<String, Value>, key: &str, v: &Value) -> bool {
    match key {
        "type" => v.as_str().is_some_and(|t| parent.contains_key(t)),
        "caption" | "description" | "title" => v == &json!([]),
        "link" | "icon" | "public_url" => v.is_null(),
        "color" => v == "default",
        "in_trash" => v == false,
        // A property schema's `name` (property.rs writes "" when the example omits it).
        "name" => v == "",
        _ => false,
    }
}

/// Like `diff`, but keys only in `back` are accepted when they hold a default.
fn diff_abbreviated(path: &str, back: &Value, example: &Value, out: &mut Vec<String>) {
    match (back, example) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff_abbreviated(&format!("{path}.{k}"), v, w, out),
                    None if is_default_for_missing(x, k, v) => {}
                    None => out.push(format!("{path}.{k}: only written back ({v})")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: dropped ({w})"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff_abbreviated(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if back != example => out.push(format!("{path}: wrote {back}, expected {example}")),
        _ => {}
    }
}

/// Reads `v` as `T` and checks what is written back (exactly, or for abbreviated examples,
/// every given field kept and only defaults added).
fn round_trip<T: DeserializeOwned + Serialize>(name: &str, v: &Value) {
    let model: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = serde_json::to_value(&model).unwrap_or_else(|e| panic!("{name}: {e}"));
    if is_abbreviated(name) {
        let mut out = Vec::new();
        diff_abbreviated("", &back, v, &mut out);
        assert!(
            out.is_empty(),
            "{name}: round trip changed the JSON:\n{}",
            out.join("\n")
        );
        // And the written form reads back to the same model.
        let again: T = serde_json::from_value(back.clone()).expect("reads back");
        assert_eq!(
            serde_json::to_value(&again).expect("writes"),
            back,
            "{name}"
        );
    } else {
        assert_same(name, &back, &expected_output(name, v));
    }
}

#[test]
fn every_fixture_round_trips() {
    let names = fixture_names();
    assert!(names.len() >= 70, "fixtures missing: {}", names.len());
    let mut failures = Vec::new();
    for name in &names {
        let v = fixture(name);
        let name = name.clone();
        let one = std::panic::catch_unwind(move || check_fixture(&name, &v));
        if let Err(e) = one {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "panic".to_string()),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Round-trips one fixture through the model its page describes.
fn check_fixture(name: &str, v: &Value) {
    {
        let page = name.split("--").next().expect("split yields one part");
        match (page, name) {
            ("page", _) => round_trip::<Page>(name, v),
            ("move-page", _) => round_trip::<Parent>(name, &v["parent"]),
            ("parent-object", _) => round_trip::<Parent>(name, v),
            ("database", _) => round_trip::<Database>(name, v),
            ("data-source", _) => round_trip::<DataSource>(name, v),
            ("block", "block--mention") => round_trip::<Mention>(name, v),
            ("block", _) => round_trip::<Block>(name, v),
            ("rich-text", _) => round_trip::<RichText>(name, v),
            ("emoji-object", "emoji-object--custom-emoji-mention") => {
                round_trip::<RichText>(name, v)
            }
            ("emoji-object", "emoji-object--custom-emoji-icon") => {
                round_trip::<Icon>(name, &v["icon"])
            }
            ("emoji-object", _) => round_trip::<Icon>(name, v),
            ("file-object", _) => round_trip::<FileObject>(name, v),
            ("user", _) => round_trip::<User>(name, v),
            ("comment-object", _) => round_trip::<Comment>(name, v),
            ("file-upload", _) => round_trip::<FileUpload>(name, v),
            ("status-codes", _) => round_trip::<ErrorBody>(name, v),
            ("list", n) if n.contains("block-children") => round_trip::<List<Block>>(name, v),
            ("list", _) => round_trip::<List<Page>>(name, v),
            _ => panic!("no model for fixture {name}"),
        }
    }
}

#[test]
fn page_object() {
    let p: Page = load("page--page");
    assert_eq!(p.id, "be633bf1-dfa0-436d-b259-571129a590e5");
    assert_eq!(p.title(), "Bug bash");
    assert!(p.archived && p.in_trash);
    assert_eq!(p.icon, Some(Icon::Emoji("🐞".into())));
    assert_eq!(p.cover, None);
    assert_eq!(p.parent.kind, "database_id");
    assert_eq!(p.parent.id(), Some("a1d8501e-1ac1-43e9-a6bd-ea9fe6c8822b"));
    assert_eq!(
        p.created_by.as_ref().map(|u| u.id.as_str()),
        Some("c2f20311-9e54-4d11-8c79-7398424ae41e")
    );
    assert_eq!(p.created_time, "2022-10-24T22:54:00.000Z");
    assert_eq!(
        p.public_url.as_deref(),
        Some("https://jm-testing.notion.site/p1-6df2c07bfc6b4c46815ad205d132e22d")
    );
    let keys: Vec<&str> = p.properties.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Due date", "Status", "Title"]);
    let status: &PropertyValue = &p.properties["Status"];
    assert_eq!(status.data.type_name(), "status");
}

#[test]
fn archived_page_response() {
    let p: Page = load("page--archive-a-page");
    assert!(p.archived);
    assert_eq!(p.parent.kind, "database_id");
    assert!(!p.properties.is_empty());
}

#[test]
fn parent_objects() {
    let p: Parent = load("parent-object--database");
    assert_eq!(p, Parent::database("d9824bdc-8445-4327-be8b-5b47500af6ce"));
    let p: Parent = load("parent-object--data-source");
    assert_eq!(p.kind, "data_source_id");
    assert_eq!(p.id(), Some("1a44be12-0953-4631-b498-9e5817518db8"));
    assert_eq!(
        p.database_id.as_deref(),
        Some("d9824bdc-8445-4327-be8b-5b47500af6ce")
    );
    let p: Parent = load("parent-object--workspace");
    assert_eq!(p, Parent::workspace());
    assert_eq!(p.id(), None);
    let p: Parent = load("parent-object--page");
    assert_eq!(p.kind, "page_id");
    assert!(p.page_id.is_some());
    let p: Parent = load("parent-object--block");
    assert_eq!(p.kind, "block_id");
    assert!(p.id().is_some());
    let moved: Parent = exact(
        "move-page",
        &fixture("move-page--data-source-parent")["parent"],
    );
    assert_eq!(moved, Parent::data_source("<database-data-source-id>"));
}

#[test]
fn database_object() {
    let d: Database = load("database--guide-working-with-databases");
    assert_eq!(d.id, "248104cd-477e-80fd-b757-e945d38000bd");
    assert_eq!(d.title_text(), "Grocery DB");
    assert_eq!(d.data_sources.len(), 1);
    assert_eq!(d.data_sources[0].id, "248104cd-477e-80af-bc30-000bd28de8f9");
    assert_eq!(d.data_sources[0].name, "Grocery list");
    assert_eq!(
        d.parent,
        Parent::page("255104cd-477e-808c-b279-d39ab803a7d2")
    );
    assert!(!d.is_inline && !d.in_trash);
    assert_eq!(d.icon, None);
    assert_eq!(
        d.cover.as_ref().and_then(FileObject::url),
        Some("https://website.domain/images/image.png")
    );
    let d: Database = load("database--guide-upgrade-2025-09-03");
    assert_eq!(d.object, "database");
    assert!(!d.data_sources.is_empty());
}

#[test]
fn data_source_object() {
    let ds: DataSource = load("data-source--guide-working-with-databases");
    assert_eq!(ds.id, "248104cd-477e-80af-bc30-000bd28de8f9");
    assert_eq!(ds.title_text(), "Grocery list");
    assert_eq!(
        ds.parent,
        Parent::database("248104cd-477e-80fd-b757-e945d38000bd")
    );
    assert_eq!(
        ds.database_parent,
        Some(Parent::page("255104cd-477e-808c-b279-d39ab803a7d2"))
    );
    let names: Vec<&str> = ds.properties.keys().map(String::as_str).collect();
    assert_eq!(names, ["Grocery item", "Price", "Last ordered"]);
    assert_eq!(ds.icon, Some(Icon::Emoji("🎉".into())));
    // `archived` is not modelled on data sources; it must survive in `extra`.
    assert_eq!(ds.extra.get("archived"), Some(&json!(false)));
    let ds: DataSource = load("data-source--guide-upgrade-2025-09-03");
    assert_eq!(ds.object, "data_source");
}

#[test]
fn the_reference_block_object() {
    let b: Block = load("block--block");
    assert_eq!(
        b.id.as_deref(),
        Some("c02fc1d3-db8b-45c5-a222-27595b15aea7")
    );
    assert_eq!(b.type_name(), "heading_2");
    assert!(!b.has_children && !b.in_trash);
    assert_eq!(
        b.created_by.as_ref().map(|u| u.id.as_str()),
        Some("ee5f0f84-409a-440f-983a-a5315961c6e4")
    );
    match &b.kind {
        BlockKind::Heading2(h) => {
            assert!(!h.is_toggleable);
            assert_eq!(h.color, "default");
            assert_eq!(h.rich_text[0].text_content(), "Lacinato kale");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn block_type_examples() {
    let kind = |name: &str| load::<Block>(name).kind;
    match kind("block--audio") {
        BlockKind::Audio(m) => assert_eq!(
            m.file.url(),
            Some("https://companywebsite.com/files/sample.mp3")
        ),
        other => panic!("{other:?}"),
    }
    match kind("block--bookmark") {
        BlockKind::Bookmark(u) => assert!(u.url.starts_with("https://")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        kind("block--breadcrumb"),
        BlockKind::Breadcrumb(_)
    ));
    match kind("block--callout") {
        BlockKind::Callout(c) => {
            assert_eq!(c.icon, Some(Icon::Emoji("⭐".into())));
            assert_eq!(c.rich_text[0].text_content(), "Lacinato kale");
        }
        other => panic!("{other:?}"),
    }
    match kind("block--child-database") {
        BlockKind::ChildDatabase(c) => assert_eq!(c.title, "My database"),
        other => panic!("{other:?}"),
    }
    match kind("block--child-page") {
        BlockKind::ChildPage(c) => assert_eq!(c.title, "Lacinato kale"),
        other => panic!("{other:?}"),
    }
    match kind("block--code") {
        BlockKind::Code(c) => {
            assert_eq!(c.language, "javascript");
            assert_eq!(c.rich_text[0].text_content(), "const a = 3");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        kind("block--column-list"),
        BlockKind::ColumnList(_)
    ));
    assert!(matches!(kind("block--column"), BlockKind::Column(_)));
    assert!(matches!(kind("block--divider"), BlockKind::Divider(_)));
    match kind("block--equation") {
        BlockKind::Equation(e) => assert_eq!(e.expression, "e=mc^2"),
        other => panic!("{other:?}"),
    }
    match kind("block--file") {
        BlockKind::File(m) => {
            assert_eq!(m.name.as_deref(), Some("doc.txt"));
            assert_eq!(m.caption.len(), 0);
            assert_eq!(m.file.type_name(), "external");
        }
        other => panic!("{other:?}"),
    }
    for (name, level) in [
        ("block--heading-1", 1),
        ("block--heading-2", 2),
        ("block--heading-3", 3),
    ] {
        let k = kind(name);
        assert_eq!(k.type_name(), format!("heading_{level}"));
        assert_eq!(k.rich_text().map(Vec::len), Some(1));
    }
    assert!(matches!(kind("block--image"), BlockKind::Image(_)));
    match kind("block--link-preview") {
        BlockKind::LinkPreview(l) => assert!(l.url.starts_with("https://github.com/")),
        other => panic!("{other:?}"),
    }
    match kind("block--numbered-list-item") {
        BlockKind::NumberedListItem(n) => {
            assert_eq!(n.rich_text[0].text_content(), "Finish reading the docs")
        }
        other => panic!("{other:?}"),
    }
    match kind("block--paragraph") {
        BlockKind::Paragraph(p) => assert_eq!(p.rich_text[0].text_content(), "Lacinato kale"),
        other => panic!("{other:?}"),
    }
    match kind("block--paragraph-with-mention") {
        BlockKind::Paragraph(p) => match &p.rich_text[0].kind {
            RichTextKind::Mention(Mention::Date(d)) => {
                assert_eq!(d.start, "2023-03-01");
                assert_eq!(d.end, None);
                assert_eq!(d.time_zone, None);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(matches!(kind("block--pdf"), BlockKind::Pdf(_)));
    match kind("block--quote") {
        BlockKind::Quote(q) => assert_eq!(q.rich_text[0].text_content(), "To be or not to be..."),
        other => panic!("{other:?}"),
    }
    let original = load::<Block>("block--synced-block-original");
    match &original.kind {
        BlockKind::SyncedBlock(s) => assert_eq!(s.synced_from, None),
        other => panic!("{other:?}"),
    }
    assert_eq!(original.children.len(), 1);
    assert_eq!(original.children[0].type_name(), "callout");
    match kind("block--synced-block-duplicate") {
        BlockKind::SyncedBlock(s) => assert_eq!(
            s.synced_from.map(|f| f.block_id),
            Some("original_synced_block_id".to_string())
        ),
        other => panic!("{other:?}"),
    }
    match kind("block--table") {
        BlockKind::Table(t) => {
            assert_eq!(t.table_width, 2);
            assert!(!t.has_column_header && !t.has_row_header);
        }
        other => panic!("{other:?}"),
    }
    match kind("block--table-row") {
        BlockKind::TableRow(r) => {
            assert_eq!(r.cells.len(), 3);
            assert_eq!(r.cells[0][0].text_content(), "column 1 content");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        kind("block--table-of-contents"),
        BlockKind::TableOfContents(_)
    ));
    match kind("block--template") {
        BlockKind::Template(t) => assert_eq!(t.rich_text[0].text_content(), "Add a new to-do"),
        other => panic!("{other:?}"),
    }
    match kind("block--to-do") {
        BlockKind::ToDo(t) => {
            assert!(!t.checked);
            assert_eq!(t.rich_text[0].text_content(), "Finish Q3 goals");
        }
        other => panic!("{other:?}"),
    }
    let toggle = load::<Block>("block--toggle");
    assert!(matches!(toggle.kind, BlockKind::Toggle(_)));
    assert!(matches!(kind("block--video"), BlockKind::Video(_)));
    assert!(matches!(kind("block--embed"), BlockKind::Embed(_)));
    assert!(matches!(
        kind("block--bulleted-list-item"),
        BlockKind::BulletedListItem(_)
    ));
    let m: Mention = load("block--mention");
    assert!(matches!(m, Mention::Page(ref r) if r.id == "3c612f56-fdd0-4a30-a4d6-bda7d7426309"));
}

#[test]
fn rich_text_examples() {
    let r: RichText = load("rich-text--rich-text");
    assert_eq!(r.text_content(), "Some words ");
    assert!(r.annotations.is_plain());
    assert_eq!(r.plain_text.as_deref(), Some("Some words "));
    assert_eq!(r.href, None);

    let r: RichText = load("rich-text--equation");
    assert!(matches!(&r.kind, RichTextKind::Equation(e) if e.expression == "E = mc^2"));

    let r: RichText = load("rich-text--database-mention");
    assert!(matches!(
        &r.kind,
        RichTextKind::Mention(Mention::Database(_))
    ));
    assert!(r.href.is_some());

    let r: RichText = load("rich-text--date-mention");
    match &r.kind {
        RichTextKind::Mention(Mention::Date(d)) => {
            assert_eq!(d.start, "2022-12-16");
            assert_eq!(d.end, None);
        }
        other => panic!("{other:?}"),
    }

    let r: RichText = load("rich-text--link-preview-mention");
    assert!(
        matches!(&r.kind, RichTextKind::Mention(Mention::LinkPreview(u)) if u.url.starts_with("https://"))
    );

    let r: RichText = load("rich-text--page-mention");
    assert!(matches!(&r.kind, RichTextKind::Mention(Mention::Page(_))));

    for name in [
        "rich-text--template-mention-date",
        "rich-text--template-mention-user",
    ] {
        let r: RichText = load(name);
        assert!(
            matches!(&r.kind, RichTextKind::Mention(Mention::TemplateMention(_))),
            "{name}"
        );
    }

    let r: RichText = load("rich-text--user-mention");
    match &r.kind {
        RichTextKind::Mention(Mention::User(u)) => {
            assert_eq!(u.id, "b2e19928-b427-4aad-9a9d-fde65479b1d9");
        }
        other => panic!("{other:?}"),
    }

    let r: RichText = load("rich-text--text-with-link");
    match &r.kind {
        RichTextKind::Text(t) => {
            assert_eq!(
                t.link.as_ref().map(|l| l.url.as_str()),
                Some("https://developers.notion.com/")
            );
        }
        other => panic!("{other:?}"),
    }
    let r: RichText = load("rich-text--text-without-link");
    assert!(matches!(&r.kind, RichTextKind::Text(t) if t.link.is_none()));
}

#[test]
fn emoji_and_icons() {
    let i: Icon = load("emoji-object--emoji");
    assert_eq!(i, Icon::Emoji("😻".into()));
    let i: Icon = exact("icon", &fixture("emoji-object--custom-emoji-icon")["icon"]);
    match i {
        Icon::CustomEmoji(c) => {
            assert_eq!(c.id, "45ce454c-d427-4f53-9489-e5d0f3d1db6b");
            assert_eq!(c.name.as_deref(), Some("bufo"));
            assert!(c.url.is_some());
        }
        other => panic!("{other:?}"),
    }
    let r: RichText = load("emoji-object--custom-emoji-mention");
    assert!(
        matches!(&r.kind, RichTextKind::Mention(Mention::CustomEmoji(c)) if c.name.as_deref() == Some("bufo"))
    );
}

#[test]
fn file_objects() {
    let f: FileObject = load("file-object--file");
    match &f {
        FileObject::File(h) => {
            assert_eq!(h.expiry_time.as_deref(), Some("2025-04-24T22:49:22.765Z"));
        }
        other => panic!("{other:?}"),
    }
    let f: FileObject = load("file-object--file-upload");
    assert_eq!(
        f,
        FileObject::upload("43833259-72ae-404e-8441-b6577f3159b4")
    );
    let f: FileObject = load("file-object--external");
    assert_eq!(f, FileObject::external("https://example.com/photo.png"));
}

#[test]
fn users() {
    let u: User = load("user--user-bot");
    assert_eq!(u.kind.as_deref(), Some("bot"));
    assert_eq!(u.name.as_deref(), Some("Test Integration"));
    assert_eq!(u.avatar_url, None);
    let bot = u.bot.expect("bot part");
    assert_eq!(bot.workspace_name.as_deref(), Some("Ada Lovelace’s Notion"));
    assert_eq!(
        bot.owner,
        Some(json!({"type": "workspace", "workspace": true}))
    );

    let u: User = load("user--guide-working-with-files-and-media");
    let limits = u.bot.and_then(|b| b.workspace_limits).expect("limits");
    assert_eq!(limits.max_file_upload_size_in_bytes, Some(5_242_880));
}

#[test]
fn comment_object() {
    let c: Comment = load("comment-object--comment");
    assert_eq!(c.id, "7a793800-3e55-4d5e-8009-2261de026179");
    assert_eq!(c.discussion_id, "f4be6752-a539-4da2-a8a9-c3953e13bc0b");
    assert_eq!(
        c.parent,
        Parent::page("5c6a2821-6bb1-4a7e-b6e1-c50111515c3d")
    );
    assert_eq!(c.rich_text[0].text_content(), "Hello world");
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(c.attachments[0]["category"], "image");
    assert_eq!(
        c.display_name,
        Some(json!({"type": "user", "resolved_name": "Avo Cado"}))
    );
}

#[test]
fn comment_without_attachments_keeps_the_empty_list() {
    let mut v = fixture("comment-object--comment");
    v["attachments"] = json!([]);
    v["display_name"] = Value::Null;
    let mut c: Comment = exact("comment without attachments", &v);
    assert!(c.attachments.is_empty());
    assert_eq!(c.display_name, None);
    let mut absent = v.clone();
    let m = absent.as_object_mut().expect("object");
    m.remove("attachments");
    m.remove("display_name");
    exact::<Comment>("comment without the keys", &absent);
    // Items added later replace the empty list that was read.
    c.attachments.push(json!({"category": "image"}));
    assert_eq!(
        serde_json::to_value(&c).expect("serializes")["attachments"],
        json!([{"category": "image"}])
    );
}

#[test]
fn file_uploads() {
    let u: FileUpload = load("file-upload--guide-uploading-small-files-create");
    assert_eq!(u.status, "pending");
    assert_eq!(u.filename, None);
    assert_eq!(u.content_length, None);
    assert!(u
        .upload_url
        .as_deref()
        .is_some_and(|s| s.ends_with("/send")));
    assert_eq!(u.expiry_time.as_deref(), Some("2025-04-09T23:26:00.000Z"));

    let name = "file-upload--guide-uploading-small-files-send";
    let u: FileUpload = serde_json::from_value(fixture(name)).expect("file upload");
    assert_eq!(u.status, "uploaded");
    assert_eq!(u.filename.as_deref(), Some("Really funny.gif"));
    assert_eq!(u.content_type.as_deref(), Some("image/gif"));
    assert_eq!(u.content_length, Some(4435));
}

#[test]
fn error_body() {
    let e: ErrorBody = load("status-codes--guide-upgrade-faqs-error");
    assert_eq!(e.status, 400);
    assert_eq!(e.code, "validation_error");
    assert!(e
        .message
        .starts_with("Databases with multiple data sources"));
}

#[test]
fn list_responses() {
    let l: List<Block> = load("list--guide-working-with-page-content-block-children");
    assert!(!l.has_more);
    assert_eq!(l.next_cursor, None);
    assert_eq!(l.results[0].type_name(), "heading_2");
    assert_eq!(l.extra.get("object"), Some(&json!("list")));

    let l: List<Page> = load("list--guide-working-with-databases-query");
    assert_eq!(l.results[0].title(), "Bug bash");

    let users = json!({"object": "list", "results": [fixture("user--user-bot")],
        "next_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc", "has_more": true,
        "type": "user", "user": {}});
    let l: List<User> = exact("users", &users);
    assert!(l.has_more);
    assert_eq!(
        l.next_cursor.as_deref(),
        Some("fe2cc560-036c-44cd-90e8-294d5a74cebc")
    );
    assert_eq!(l.results[0].name.as_deref(), Some("Test Integration"));
}

/// Objects that are a bare `{"type", T: payload}` union (mention, icon, cover, a file
/// object): the enums have nowhere to keep a key beside `type` and the payload, so unknown
/// keys are added inside their payload instead (see tests/fixtures/objects/README.md).
const BARE_UNIONS: [&str; 3] = ["mention", "icon", "cover"];

/// An unknown key added to every object of a fixture, at every depth (inside the payload
/// only for bare unions, see `BARE_UNIONS`).
fn with_future_fields(v: &Value) -> Value {
    extend(v, false)
}

fn extend(v: &Value, bare_union: bool) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .map(|(k, x)| (k.clone(), extend(x, BARE_UNIONS.contains(&k.as_str()))))
                .collect();
            if !bare_union {
                out.insert("future_field".into(), json!({"added": [1, "two", null]}));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| extend(x, false)).collect()),
        other => other.clone(),
    }
}

#[test]
fn unknown_fields_survive_at_every_level() {
    // Block envelope and payload, rich text, annotations, link, mention payloads, users.
    for name in [
        "block--block",
        "block--paragraph-with-mention",
        "block--callout",
        "block--file",
        "block--table-row",
        "block--synced-block-duplicate",
    ] {
        round_trip::<Block>(name, &with_future_fields(&fixture(name)));
    }
    for name in [
        "rich-text--text-with-link",
        "rich-text--user-mention",
        "rich-text--date-mention",
        "rich-text--database-mention",
    ] {
        exact::<RichText>(name, &with_future_fields(&fixture(name)));
    }
    // Page envelope, its parent, icon, users (property values have their own tests and
    // schemas too, so only the page's own levels are extended here).
    let mut page = fixture("page--page");
    for key in ["parent", "created_by", "last_edited_by"] {
        page[key] = with_future_fields(&page[key]);
    }
    page["icon"] = extend(&page["icon"], true);
    page["future_field"] = json!(1);
    let p: Page = exact("page", &page);
    assert_eq!(p.extra["future_field"], 1);

    let mut db = fixture("database--guide-working-with-databases");
    db["future_field"] = json!("x");
    db["title"] = with_future_fields(&db["title"]);
    db["cover"] = extend(&db["cover"], true);
    db["data_sources"] = with_future_fields(&db["data_sources"]);
    round_trip::<Database>("database--guide-working-with-databases", &db);
    let d: Database = serde_json::from_value(db).expect("database");
    assert_eq!(d.extra["future_field"], "x");

    let mut ds = fixture("data-source--guide-working-with-databases");
    ds["future_field"] = json!(true);
    ds["database_parent"] = with_future_fields(&ds["database_parent"]);
    round_trip::<DataSource>("data-source--guide-working-with-databases", &ds);

    for name in ["user--user-bot", "user--guide-working-with-files-and-media"] {
        exact::<User>(name, &with_future_fields(&fixture(name)));
    }
    for name in [
        "file-object--file",
        "file-object--external",
        "file-object--file-upload",
    ] {
        exact::<FileObject>(name, &extend(&fixture(name), true));
    }
    exact::<Comment>(
        "comment",
        &with_future_fields(&fixture("comment-object--comment")),
    );
    exact::<FileUpload>(
        "file upload",
        &with_future_fields(&fixture("file-upload--guide-uploading-small-files-create")),
    );
    exact::<ErrorBody>(
        "error",
        &with_future_fields(&fixture("status-codes--guide-upgrade-faqs-error")),
    );
}

#[test]
fn unknown_types_survive() {
    let block = json!({"object": "block", "id": "b1", "has_children": true, "in_trash": false,
        "type": "meeting_notes", "meeting_notes": {"title": [], "n": 2}});
    let b: Block = exact("unknown block", &block);
    assert_eq!(b.type_name(), "meeting_notes");
    assert!(b.has_children);

    // An unknown type whose payload key is absent: nothing is invented on the way back.
    let bare = json!({"object": "block", "id": "b2", "has_children": false, "in_trash": false,
        "type": "ai_block"});
    let b: Block = exact("unknown block without payload", &bare);
    assert!(matches!(&b.kind, BlockKind::Unknown { type_name, .. } if type_name == "ai_block"));

    let mention = json!({"type": "mention", "mention": {"type": "meeting", "meeting": {"id": "m"}},
        "annotations": {"bold": false, "italic": false, "strikethrough": false,
                        "underline": false, "code": false, "color": "default"},
        "plain_text": "Meeting", "href": null});
    let r: RichText = exact("unknown mention", &mention);
    assert!(
        matches!(&r.kind, RichTextKind::Mention(Mention::Unknown { type_name, .. }) if type_name == "meeting")
    );

    let kind = json!({"type": "sparkle", "sparkle": {"glow": 3}, "plain_text": "✨", "href": null,
        "annotations": {"bold": true, "italic": false, "strikethrough": false,
                        "underline": false, "code": false, "color": "default"}});
    let r: RichText = exact("unknown rich text", &kind);
    assert_eq!(r.kind.type_name(), "sparkle");
    assert!(r.annotations.bold);

    let file = json!({"type": "hologram", "hologram": {"depth": 3}});
    let f: FileObject = exact("unknown file", &file);
    assert_eq!(f.url(), None);

    let icon = json!({"type": "icon", "icon": {"name": "pizza", "color": "blue"}});
    let i: Icon = exact("unknown icon", &icon);
    assert_eq!(i.type_name(), "icon");

    let mut page = fixture("page--page");
    page["icon"] = icon;
    exact::<Page>("page with unknown icon", &page);

    let parent = json!({"type": "team_id", "team_id": "t"});
    let p: Parent = exact("unknown parent", &parent);
    assert_eq!(p.id(), None);
}

#[test]
fn annotations_and_nulls_are_written_as_received() {
    // A request-shaped run: only the flags given come back, also when all are plain.
    let v = json!({"type": "text", "text": {"content": "x", "link": null},
        "annotations": {"bold": true}});
    let r: RichText = exact("partial annotations", &v);
    assert!(r.annotations.bold && !r.annotations.italic);
    let v = json!({"type": "text", "text": {"content": "x", "link": null}, "annotations": {}});
    let r: RichText = exact("empty annotations", &v);
    assert!(r.annotations.is_plain());
    // Edited flags are written even when they were not received.
    let mut r = r;
    r.annotations.italic = true;
    assert_eq!(
        serde_json::to_value(&r).expect("serializes")["annotations"],
        json!({"italic": true})
    );

    // A locally built run stays minimal.
    assert_eq!(
        serde_json::to_value(RichText::plain("hi")).expect("serializes"),
        json!({"type": "text", "text": {"content": "hi", "link": null}})
    );

    // `time_zone: null` and `avatar_url: null` come back; absent ones stay absent.
    let v = json!({"type": "mention", "mention": {"type": "date",
        "date": {"start": "2025-01-01", "end": null, "time_zone": null}},
        "plain_text": "2025-01-01", "href": null,
        "annotations": {"bold": false, "italic": false, "strikethrough": false,
                        "underline": false, "code": false, "color": "default"}});
    exact::<RichText>("date null tz", &v);
    let v = json!({"object": "user", "id": "u", "name": null, "avatar_url": null,
                   "type": "person", "person": {}});
    exact::<User>("user with nulls", &v);
    exact::<User>("partial user", &json!({"object": "user", "id": "u"}));

    // Setting a field that arrived as null writes the value, not the null.
    let mut u: User = serde_json::from_value(v).expect("user");
    u.avatar_url = Some("https://x/a.png".into());
    assert_eq!(
        serde_json::to_value(&u).expect("serializes")["avatar_url"],
        "https://x/a.png"
    );
}
