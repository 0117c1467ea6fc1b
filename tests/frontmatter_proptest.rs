//! Property tests of the front matter codec over generated rows of every type, with
//! arbitrary unicode in names, options, texts and references:
//! - `parse(render(row))` changes nothing and refuses nothing;
//! - replacing one property's entry by a new value written by another YAML emitter
//!   (serde_norway) yields exactly that one change.

use indexmap::IndexMap;
use notionfs::frontmatter::{parse, render, MemoryContext};
use notionfs::notion::model::{DataSource, Page};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Text without the characters inline Markdown gives a meaning (so the expected rich
/// text of an edit is plain).
fn plain_text() -> impl Strategy<Value = String> {
    "[^\\\\*~`\\[$\\x00-\\x1f]{1,40}"
}

fn uuid(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn run() -> impl Strategy<Value = Value> {
    (
        any::<String>(),
        any::<(bool, bool, bool, bool, bool)>(),
        proptest::option::of("[a-z]{1,8}(/[a-zA-Z0-9()_ -]{0,8})?"),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(content, (b, i, s, u, c), link, mention)| {
            if mention {
                return json!({"type": "mention", "mention": {"type": "user", "user": {"object": "user", "id": uuid(9)}},
                              "annotations": {"bold": b}, "plain_text": content, "href": null});
            }
            let link = link.map(|p| json!({"url": format!("https://{p}")}));
            json!({"type": "text", "text": {"content": content, "link": link},
                   "annotations": {"bold": b, "italic": i, "strikethrough": s, "underline": u, "code": c, "color": "default"},
                   "plain_text": "", "href": null})
        })
}

fn date() -> impl Strategy<Value = String> {
    (
        1900i32..2100,
        1u32..13,
        1u32..29,
        proptest::option::of((0u32..24, 0u32..60, -12i32..13)),
    )
        .prop_map(|(y, m, d, t)| match t {
            None => format!("{y:04}-{m:02}-{d:02}"),
            Some((h, mi, off)) => {
                let sign = if off < 0 { '-' } else { '+' };
                format!(
                    "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:00.000{sign}{:02}:00",
                    off.abs()
                )
            }
        })
}

fn date_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (date(), proptest::option::of(date()))
            .prop_map(|(s, e)| json!({"start": s, "end": e, "time_zone": null})),
    ]
}

/// A small JSON tree with arbitrary strings (unknown property types).
fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,5}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Everything a generated row is made of.
#[derive(Debug, Clone)]
struct Row {
    names: Vec<String>,
    options: Vec<String>,
    runs: Vec<Value>,
    number: Option<f64>,
    select: Option<usize>,
    status: Option<usize>,
    tags: Vec<usize>,
    due: Value,
    people: Vec<(usize, bool)>,
    rows: Vec<String>,
    related: Vec<usize>,
    hosted: Vec<String>,
    externals: Vec<String>,
    done: bool,
    url: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    formula: Value,
    rollup: Value,
    unique: (Option<u64>, Option<String>),
    unknown: Value,
}

/// Every property type but the title; the first 13 are writable.
const TYPES: [&str; 24] = [
    "rich_text",
    "number",
    "select",
    "status",
    "multi_select",
    "date",
    "people",
    "relation",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "formula",
    "rollup",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "unique_id",
    "verification",
    "place",
    "button",
    "hologram",
];

fn unique_strings(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[^,]{0,12}", n).prop_map(|v| {
        // Index prefixes keep them distinct (ignoring case, as Notion requires).
        v.into_iter()
            .enumerate()
            .map(|(i, s)| format!("{s}|{i}"))
            .collect()
    })
}

fn row() -> impl Strategy<Value = Row> {
    let a = (
        unique_strings(TYPES.len()..TYPES.len() + 1),
        unique_strings(3..6),
        prop::collection::vec(run(), 0..5),
        proptest::option::of(prop_oneof![any::<i32>().prop_map(f64::from), -1e9f64..1e9]),
        proptest::option::of(0usize..3),
        proptest::option::of(0usize..3),
        prop::collection::btree_set(0usize..3, 0..3),
        date_value(),
    );
    let b = (
        prop::collection::btree_map(0usize..6, any::<bool>(), 0..4),
        unique_strings(4..5),
        prop::collection::btree_set(0usize..4, 0..4),
        unique_strings(0..3),
        prop::collection::vec("[a-z]{1,8}/[a-z0-9.]{1,8}", 0..3),
        any::<bool>(),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
    );
    let c = (
        prop_oneof![
            any::<String>().prop_map(|s| json!({"type": "string", "string": s})),
            any::<i64>().prop_map(|n| json!({"type": "number", "number": n})),
            any::<bool>().prop_map(|b| json!({"type": "boolean", "boolean": b})),
            date_value().prop_map(|d| json!({"type": "date", "date": d})),
        ],
        prop_oneof![
            (-1e6f64..1e6).prop_map(|n| json!({"type": "number", "number": n, "function": "sum"})),
            date_value().prop_map(|d| json!({"type": "date", "date": d, "function": "latest_date"})),
            prop::collection::vec(any::<String>(), 0..3).prop_map(|v| json!({"type": "array", "function": "show_original",
                "array": v.into_iter().map(|s| json!({"type": "rich_text", "rich_text": [{"type": "text", "text": {"content": s, "link": null}}]})).collect::<Vec<_>>()})),
        ],
        (proptest::option::of(any::<u32>().prop_map(u64::from)), proptest::option::of("[A-Za-z]{0,5}")),
        json_tree(),
    );
    (a, b, c).prop_map(
        |(
            (names, options, runs, number, select, status, tags, due),
            (people, rows, related, hosted, externals, done, url, email, phone),
            (formula, rollup, unique, unknown),
        )| Row {
            names,
            options,
            runs,
            number,
            select,
            status,
            tags: tags.into_iter().collect(),
            due,
            people: people.into_iter().collect(),
            rows,
            related: related.into_iter().collect(),
            hosted,
            externals: externals
                .into_iter()
                .enumerate()
                .map(|(i, e)| format!("https://{e}{i}"))
                .collect(),
            done,
            url,
            email,
            phone,
            formula,
            rollup,
            unique,
            unknown,
        },
    )
}

const EMAIL_USERS: usize = 3;

fn build(r: &Row) -> (Page, DataSource, MemoryContext) {
    let opts = |names: &[String]| -> Value {
        json!(names
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"id": format!("o{i}"), "name": n, "color": "default"}))
            .collect::<Vec<_>>())
    };
    let mut props = Map::new();
    props.insert(
        "Title".into(),
        json!({"id": "title", "name": "Title", "type": "title", "title": {}}),
    );
    let mut values = Map::new();
    values.insert(
        "Title".into(),
        json!({"id": "title", "type": "title", "title": []}),
    );
    let mut ctx = MemoryContext::default();
    for i in 0..6 {
        // The first users have e-mails the context knows; the others show as ids.
        if i < EMAIL_USERS {
            ctx = ctx.with_user(&uuid(100 + i as u128), &format!("user{i}@example.com"));
        }
    }
    for (i, row) in r.rows.iter().enumerate() {
        ctx = ctx.with_row(&uuid(200 + i as u128), &format!("../{row}.md"));
    }
    for (i, h) in r.hosted.iter().enumerate() {
        ctx = ctx.with_attachment(
            &format!("https://files.example/{i}/f"),
            &format!("{h}/f{i}"),
        );
    }
    for (ty, name) in TYPES.iter().zip(&r.names) {
        let id = format!("id-{ty}");
        let config = match *ty {
            "select" | "multi_select" => json!({"options": opts(&r.options)}),
            "status" => json!({"options": opts(&r.options), "groups": []}),
            "number" => json!({"format": "number"}),
            "formula" => json!({"expression": "1"}),
            "rollup" => json!({"function": "sum"}),
            "unique_id" => json!({"prefix": r.unique.1}),
            _ => json!({}),
        };
        props.insert(
            name.clone(),
            json!({"id": id, "name": name, "type": ty, *ty: config}),
        );
        let value = match *ty {
            "rich_text" => json!(r.runs),
            "number" => json!(r.number),
            "select" => json!(r
                .select
                .map(|i| json!({"id": format!("o{i}"), "name": r.options[i], "color": "default"}))),
            "status" => json!(r
                .status
                .map(|i| json!({"id": format!("o{i}"), "name": r.options[i], "color": "default"}))),
            "multi_select" => json!(r
                .tags
                .iter()
                .map(|&i| json!({"id": format!("o{i}"), "name": r.options[i]}))
                .collect::<Vec<_>>()),
            "date" => r.due.clone(),
            "people" => json!(r
                .people
                .iter()
                .map(|&(i, own_email)| {
                    let mut u = json!({"object": "user", "id": uuid(100 + i as u128)});
                    if own_email && i < EMAIL_USERS {
                        u["person"] = json!({"email": format!("user{i}@example.com")});
                    }
                    u
                })
                .collect::<Vec<_>>()),
            "relation" => json!(r
                .related
                .iter()
                .map(|&i| json!({"id": uuid(200 + i as u128)}))
                .collect::<Vec<_>>()),
            "files" => {
                let mut f: Vec<Value> = r.hosted.iter().enumerate().map(|(i, _)| json!({"name": format!("f{i}"), "type": "file",
                    "file": {"url": format!("https://files.example/{i}/f?sig=x"), "expiry_time": "2025-01-01T00:00:00.000Z"}})).collect();
                f.extend(
                    r.externals
                        .iter()
                        .map(|u| json!({"name": "e", "type": "external", "external": {"url": u}})),
                );
                json!(f)
            }
            "checkbox" => json!(r.done),
            "url" => json!(r.url),
            "email" => json!(r.email),
            "phone_number" => json!(r.phone),
            "formula" => r.formula.clone(),
            "rollup" => r.rollup.clone(),
            "created_time" | "last_edited_time" => json!("2025-01-01T00:00:00.000Z"),
            "created_by" | "last_edited_by" => json!({"object": "user", "id": uuid(105)}),
            "button" => json!({}),
            "unique_id" => json!({"number": r.unique.0, "prefix": r.unique.1}),
            "verification" => json!({"state": "unverified", "verified_by": null, "date": null}),
            "place" => Value::Null,
            _ => r.unknown.clone(),
        };
        let mut v = json!({"id": id, "type": ty});
        v[*ty] = value;
        if *ty == "relation" {
            v["has_more"] = json!(false);
        }
        values.insert(name.clone(), v);
    }
    let schema: DataSource = serde_json::from_value(json!({
        "object": "data_source", "id": "ds", "parent": {"type": "database_id", "database_id": "db"},
        "properties": props
    }))
    .expect("schema");
    let page: Page = serde_json::from_value(json!({
        "object": "page", "id": "p", "parent": {"type": "data_source_id", "data_source_id": "ds"},
        "properties": values
    }))
    .expect("page");
    (page, schema, ctx)
}

/// The text with top-level entry `index` (schema order, title excluded) replaced by
/// `key: value` as serde_norway writes it.
fn replace_entry(text: &str, index: usize, key: &str, value: &Value) -> String {
    let inner = text
        .strip_prefix("---\n")
        .and_then(|t| t.strip_suffix("---\n"))
        .expect("front matter");
    let mut entries: Vec<String> = Vec::new();
    for line in inner.split_inclusive('\n') {
        if line.starts_with(' ') {
            entries.last_mut().expect("entry").push_str(line);
        } else {
            entries.push(line.to_string());
        }
    }
    let mut m = serde_norway::Mapping::new();
    m.insert(
        serde_norway::Value::String(key.to_string()),
        serde_norway::to_value(value).expect("yaml value"),
    );
    entries[index] = serde_norway::to_string(&m).expect("yaml");
    format!("---\n{}---\nbody\n", entries.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rendered_rows_parse_back_unchanged(r in row()) {
        let (page, schema, ctx) = build(&r);
        let fm = render(&page, &schema, &ctx);
        let text = format!("{fm}Body *text*\n");
        let p = parse(&text, &page, &schema, &ctx).expect("parses");
        prop_assert!(p.refused.is_empty(), "{:?}\n{}", p.refused, fm);
        prop_assert!(p.changes.is_empty(), "{:?}\n{}", p.changes, fm);
        prop_assert_eq!(p.body, "Body *text*\n");
        // Deterministic.
        prop_assert_eq!(render(&page, &schema, &ctx), fm);
    }

    #[test]
    fn one_edited_property_is_one_change(
        r in row(),
        which in 0usize..13,
        text in plain_text(),
        n in -1e6f64..1e6,
        pick in 0usize..3,
        d in date(),
        subset in prop::collection::btree_set(0usize..4, 0..4),
    ) {
        let (page, schema, ctx) = build(&r);
        let ty = TYPES[which];
        let name = r.names[which].clone();
        let subset: Vec<usize> = subset.into_iter().collect();
        let (yaml, expected): (Value, Value) = match ty {
            "rich_text" => (json!(text), json!({"rich_text": [{"type": "text", "text": {"content": text, "link": null}}]})),
            "number" => (json!(n), json!({"number": n})),
            "select" => (json!(r.options[pick]), json!({"select": {"name": r.options[pick]}})),
            "status" => (json!(r.options[pick]), json!({"status": {"name": r.options[pick]}})),
            "multi_select" => {
                let names: Vec<&String> = subset.iter().filter(|&&i| i < 3).map(|&i| &r.options[i]).collect();
                (json!(names), json!({"multi_select": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}))
            }
            "date" => (json!(d), json!({"date": {"start": d, "end": null}})),
            "people" => {
                let emails: Vec<String> = subset.iter().filter(|&&i| i < EMAIL_USERS).map(|i| format!("user{i}@example.com")).collect();
                let ids: Vec<Value> = subset.iter().filter(|&&i| i < EMAIL_USERS).map(|&i| json!({"object": "user", "id": uuid(100 + i as u128)})).collect();
                (json!(emails), json!({"people": ids}))
            }
            "relation" => {
                let paths: Vec<String> = subset.iter().map(|&i| format!("../{}.md", r.rows[i])).collect();
                let ids: Vec<Value> = subset.iter().map(|&i| json!({"id": uuid(200 + i as u128)})).collect();
                (json!(paths), json!({"relation": ids}))
            }
            "files" => {
                let url = format!("https://example.org/{}", n.abs() as u64);
                (json!([url]), json!({"files": [{"name": (n.abs() as u64).to_string(), "type": "external", "external": {"url": url}}]}))
            }
            "checkbox" => (json!(!r.done), json!({"checkbox": !r.done})),
            "url" => (json!(text), json!({"url": text})),
            "email" => (json!(text), json!({"email": text})),
            _ => (json!(text), json!({"phone_number": text})),
        };
        let fm = render(&page, &schema, &ctx);
        let current = notionfs::frontmatter::front_matter_values(&page.properties, &schema, &ctx);
        // An "edit" to the value the file already shows is no edit.
        prop_assume!(!notionfs::frontmatter::yaml::same(&current[&name], &yaml));
        let edited = replace_entry(&fm, which, &name, &yaml);
        let p = parse(&edited, &page, &schema, &ctx).expect("parses");
        prop_assert!(p.refused.is_empty(), "{:?}\n{}", p.refused, edited);
        let mut want = Map::new();
        want.insert(name.clone(), expected);
        let got = Value::Object(p.changes.clone());
        prop_assert!(notionfs::frontmatter::yaml::same(&got, &Value::Object(want.clone())), "got {}\nwant {}\n{}", got, Value::Object(want), edited);
        prop_assert_eq!(p.body, "body\n");
    }
}

#[test]
fn generated_rows_cover_every_type() {
    // The generator's type list is the codec's: all writable types and read-only ones.
    let ids: IndexMap<&str, ()> = TYPES.iter().map(|t| (*t, ())).collect();
    assert_eq!(ids.len(), TYPES.len());
    for t in [
        "rich_text",
        "number",
        "select",
        "status",
        "multi_select",
        "date",
        "people",
        "relation",
        "files",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "formula",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "verification",
        "place",
        "button",
    ] {
        assert!(ids.contains_key(t), "{t}");
    }
}
