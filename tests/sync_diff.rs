//! Block diff tests without HTTP: plans checked operation by operation, and applied to the
//! in-memory model (`sync::sim`) for random pages and random edits.

mod common;

use common::blocks::*;
use notionfs::notion::model::block::{ChildTitle, Empty, Heading, Table, TableRow};
use notionfs::notion::model::{Block, BlockKind, JsonMap, RichText};
use notionfs::sync::sim::simulate;
use notionfs::sync::{diff, same_content, Anchor, DiffError, Op, TEMP_ID_PREFIX};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;

const P: &str = "page";

/// `n` paragraphs with ids `t-0..`.
fn page_of(n: usize) -> Vec<Block> {
    let mut t: Vec<Block> = (0..n).map(|i| para(&format!("paragraph {i}"))).collect();
    number_ids(&mut t, &mut 0);
    t
}

/// Applies the plan to the model and checks it yields `new`, returning the model tree.
fn check_model(old: &[Block], new: &[Block]) -> (notionfs::sync::Plan, Vec<Block>) {
    let plan = diff(P, old, new).expect("diff");
    let sim = simulate(old, &plan, 0).expect("plan applies");
    assert!(
        same_content(&sim.tree, new),
        "model differs from new content"
    );
    assert!(same_content(&plan.result, new), "plan result differs");
    // The plan's result names the same blocks the model holds.
    let mapped: Vec<Option<String>> = ids(&plan.result)
        .into_iter()
        .map(|id| {
            id.map(|i| {
                if i.starts_with(TEMP_ID_PREFIX) {
                    sim.ids[&i].clone()
                } else {
                    i
                }
            })
        })
        .collect();
    assert_eq!(mapped, ids(&sim.tree));
    (plan, sim.tree)
}

#[test]
fn unchanged_page_needs_nothing() {
    let old = page_of(50);
    let plan = diff(P, &old, &strip_ids(&old)).unwrap();
    assert!(plan.is_empty());
    assert_eq!(ids(&plan.result), ids(&old));
}

#[test]
fn one_changed_paragraph_is_one_update_of_its_text() {
    let old = page_of(500);
    let mut new = strip_ids(&old);
    new[250] = para("paragraph 250, rewritten");
    let (plan, tree) = check_model(&old, &new);
    assert_eq!(plan.ops.len(), 1);
    match &plan.ops[0] {
        Op::Update { parent, id, body } => {
            assert_eq!(parent, P);
            assert_eq!(id, "t-250");
            let fields = body["paragraph"].as_object().unwrap();
            assert_eq!(fields.len(), 1, "only the text is sent: {body}");
            assert_eq!(
                body["paragraph"]["rich_text"][0]["text"]["content"],
                "paragraph 250, rewritten"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ids(&tree), ids(&old));
}

#[test]
fn inserted_paragraph_is_one_positioned_append() {
    let old = page_of(500);
    let mut new = strip_ids(&old);
    new.insert(100, para("new one"));
    let (plan, tree) = check_model(&old, &new);
    assert_eq!(plan.ops.len(), 1);
    match &plan.ops[0] {
        Op::Append {
            parent,
            anchor,
            blocks,
        } => {
            assert_eq!(parent, P);
            assert_eq!(anchor, &Anchor::After("t-99".into()));
            assert_eq!(blocks.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(tree[101].id.as_deref(), Some("t-100"));

    let mut first = strip_ids(&old);
    first.insert(0, para("at the top"));
    let (plan, _) = check_model(&old, &first);
    assert!(matches!(
        &plan.ops[..],
        [Op::Append {
            anchor: Anchor::Start,
            ..
        }]
    ));
}

#[test]
fn deleted_paragraph_is_one_delete() {
    let old = page_of(500);
    let mut new = strip_ids(&old);
    new.remove(7);
    let (plan, _) = check_model(&old, &new);
    assert_eq!(
        plan.ops,
        vec![Op::Delete {
            parent: P.into(),
            id: "t-7".into()
        }]
    );
}

#[test]
fn type_change_is_delete_plus_insert_in_place() {
    let old = page_of(5);
    let mut new = strip_ids(&old);
    new[2] = heading("paragraph 2");
    let (plan, tree) = check_model(&old, &new);
    assert_eq!(plan.ops.len(), 2);
    assert!(plan.ops.contains(&Op::Delete {
        parent: P.into(),
        id: "t-2".into()
    }));
    assert!(plan
        .ops
        .iter()
        .any(|o| matches!(o, Op::Append { anchor: Anchor::After(a), .. } if a == "t-1")));
    assert_eq!(tree[2].type_name(), "heading_2");
}

#[test]
fn nested_change_updates_the_child_in_place() {
    let mut old = vec![
        para("intro"),
        toggle(
            "details",
            vec![para("a"), para("b"), bullet("c", vec![para("deep")])],
        ),
    ];
    number_ids(&mut old, &mut 0);
    let mut new = strip_ids(&old);
    new[1].children[2].children[0] = para("deeper");
    new[1].children.insert(1, para("a2"));
    let (plan, tree) = check_model(&old, &new);
    assert_eq!(plan.ops.len(), 2, "{:?}", plan.ops);
    let deep_id = old[1].children[2].children[0].id.clone().unwrap();
    let parent_of_deep = old[1].children[2].id.clone().unwrap();
    assert!(plan.ops.iter().any(
        |o| matches!(o, Op::Update { id, parent, .. } if *id == deep_id && *parent == parent_of_deep)
    ));
    assert!(plan.ops.iter().any(
        |o| matches!(o, Op::Append { parent, anchor: Anchor::After(a), .. }
        if Some(parent) == old[1].id.as_ref() && Some(a) == old[1].children[0].id.as_ref())
    ));
    assert_eq!(
        tree[1].children[3].children[0].id.as_deref(),
        Some(deep_id.as_str())
    );
}

/// Regression (sync_emulator seed 2710731491151515016): a changed block whose changed child
/// holds an unchanged block was replaced whole (two calls instead of four), recreating the
/// unchanged grandchild with a new id. Unchanged blocks keep their ids at any depth.
#[test]
fn unchanged_grandchild_of_changed_blocks_keeps_its_id() {
    let mut old = vec![para("3: delta (3)")];
    old[0].children = vec![para("4: alpha bravo zulu (4)")];
    old[0].children[0].children = vec![
        bullet("5: kilo tango (5)", vec![code("6: tango (6)")]),
        toggle("7: lima tango (7)", vec![]),
    ];
    number_ids(&mut old, &mut 0);
    let mut new = strip_ids(&old);
    new[0].children[0] = para("4: alpha bravo zulu (4) edited");
    new[0].children[0].children = vec![
        bullet("5: kilo tango (5) edited", vec![code("6: tango (6)")]),
        para("7: lima tango (7)"),
    ];
    let (plan, tree) = check_model(&old, &new);
    let code_id = old[0].children[0].children[0].children[0].id.clone();
    assert_eq!(tree[0].children[0].children[0].children[0].id, code_id);
    assert_eq!(tree[0].children[0].id, old[0].children[0].id);
    assert_eq!(
        tree[0].children[0].children[0].id,
        old[0].children[0].children[0].id
    );
    // Two updates, then the retyped toggle: one delete and one append.
    let count = |f: fn(&Op) -> bool| plan.ops.iter().filter(|o| f(o)).count();
    assert_eq!(
        count(|o| matches!(o, Op::Update { .. })),
        2,
        "{:?}",
        plan.ops
    );
    assert_eq!(
        count(|o| matches!(o, Op::Delete { .. })),
        1,
        "{:?}",
        plan.ops
    );
    assert_eq!(
        count(|o| matches!(o, Op::Append { .. })),
        1,
        "{:?}",
        plan.ops
    );
}

#[test]
fn to_do_tick_sends_only_checked() {
    let mut old = vec![todo("buy milk", false)];
    number_ids(&mut old, &mut 0);
    let new = vec![todo("buy milk", true)];
    let (plan, _) = check_model(&old, &new);
    match &plan.ops[..] {
        [Op::Update { body, .. }] => assert_eq!(body, &json!({"to_do": {"checked": true}})),
        other => panic!("{other:?}"),
    }
}

fn child_page(id: &str, title: &str) -> Block {
    with_id(
        Block::new(BlockKind::ChildPage(ChildTitle {
            title: title.into(),
            extra: JsonMap::new(),
        })),
        id,
    )
}

fn unsupported(id: &str) -> Block {
    with_id(Block::new(BlockKind::Unsupported(Empty::default())), id)
}

#[test]
fn child_pages_are_never_created_trashed_or_moved() {
    let old = vec![
        with_id(para("a"), "t-0"),
        child_page("cp-1", "Child"),
        with_id(para("b"), "t-2"),
    ];
    // Line deleted: nothing happens, the page stays where it is.
    let new = vec![para("a"), para("b")];
    let plan = diff(P, &old, &new).unwrap();
    assert!(plan.is_empty());
    assert_eq!(ids(&plan.result), ids(&old));
    // Line moved: nothing happens either.
    let new = vec![para("a"), para("b"), child_page("cp-1", "Child")];
    let plan = diff(P, &old, &new).unwrap();
    assert!(plan.is_empty(), "{:?}", plan.ops);
    // Kept line next to an edit: the edit only.
    let new = vec![para("a!"), child_page("cp-1", "Child"), para("b")];
    let (plan, _) = check_model(&old, &new);
    assert_eq!(plan.ops.len(), 1);
    // A hand-typed new one is refused.
    let mut typed = Block::new(BlockKind::ChildPage(ChildTitle {
        title: "New".into(),
        extra: JsonMap::new(),
    }));
    typed.id = None;
    let new = vec![para("a"), child_page("cp-1", "Child"), typed, para("b")];
    assert!(matches!(
        diff(P, &old, &new),
        Err(DiffError::NewChildObject { .. })
    ));
    let new = vec![para("a"), child_page("cp-9", "Other"), para("b")];
    assert!(matches!(
        diff(P, &old, &new),
        Err(DiffError::UnknownId { .. })
    ));
    // A renamed line is refused (renames go through the file).
    let new = vec![para("a"), child_page("cp-1", "Renamed"), para("b")];
    assert!(matches!(
        diff(P, &old, &new),
        Err(DiffError::PlaceholderChanged { .. })
    ));
}

#[test]
fn deleting_a_block_holding_a_child_page_is_refused() {
    let old = vec![with_id(
        toggle("box", vec![child_page("cp-1", "Inside")]),
        "t-0",
    )];
    assert!(matches!(
        diff(P, &old, &[]),
        Err(DiffError::WouldTrashChild { .. })
    ));
}

#[test]
fn placeholders_are_kept_deleted_or_refused() {
    let old = vec![
        with_id(para("a"), "t-0"),
        unsupported("u-1"),
        with_id(para("b"), "t-2"),
    ];
    let kept = vec![para("a"), unsupported("u-1"), para("b")];
    assert!(diff(P, &old, &kept).unwrap().is_empty());
    let deleted = vec![para("a"), para("b")];
    let plan = diff(P, &old, &deleted).unwrap();
    assert_eq!(
        plan.ops,
        vec![Op::Delete {
            parent: P.into(),
            id: "u-1".into()
        }]
    );
    let changed = vec![para("a"), with_id(quote("u"), "u-1"), para("b")];
    assert!(matches!(
        diff(P, &old, &changed),
        Err(DiffError::PlaceholderChanged { .. })
    ));
    let moved = vec![para("a"), para("b"), unsupported("u-1")];
    assert!(matches!(
        diff(P, &old, &moved),
        Err(DiffError::Moved { .. })
    ));
    let new_one = vec![
        para("a"),
        unsupported("u-1"),
        Block::new(BlockKind::Unsupported(Empty::default())),
        para("b"),
    ];
    assert!(matches!(
        diff(P, &old, &new_one),
        Err(DiffError::NotCreatable { .. })
    ));
}

#[test]
fn long_text_is_split_in_requests() {
    let old = page_of(1);
    let long = "x".repeat(4100);
    let new = vec![para("paragraph 0"), para(&long)];
    let (plan, _) = check_model(&old, &new);
    match &plan.ops[..] {
        [Op::Append { blocks, .. }] => {
            let req = blocks[0].to_request();
            let runs = req["paragraph"]["rich_text"].as_array().unwrap();
            assert_eq!(runs.len(), 3);
            assert!(runs
                .iter()
                .all(|r| r["text"]["content"].as_str().unwrap().len() <= 2000));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn untoggling_a_heading_removes_children_first() {
    let mut h = Block::new(BlockKind::Heading2(Heading {
        rich_text: vec![RichText::plain("Title")],
        color: "default".into(),
        is_toggleable: true,
        extra: JsonMap::new(),
    }));
    h.children = vec![para("inside")];
    let mut old = vec![h];
    number_ids(&mut old, &mut 0);
    let new = vec![heading("Title")];
    let (plan, _) = check_model(&old, &new);
    assert!(matches!(&plan.ops[0], Op::Delete { id, .. } if id == "t-1"));
    assert!(
        matches!(&plan.ops[1], Op::Update { body, .. } if body["heading_2"]["is_toggleable"] == false)
    );
}

fn table(width: u32, rows: &[&[&str]]) -> Block {
    Block::with_children(
        BlockKind::Table(Table {
            table_width: width,
            has_column_header: true,
            has_row_header: false,
            extra: JsonMap::new(),
        }),
        rows.iter()
            .map(|r| {
                Block::new(BlockKind::TableRow(TableRow {
                    cells: r.iter().map(|c| vec![RichText::plain(*c)]).collect(),
                    extra: JsonMap::new(),
                }))
            })
            .collect(),
    )
}

#[test]
fn tables_update_cells_in_place_but_are_rebuilt_when_width_changes() {
    let mut old = vec![table(2, &[&["h1", "h2"], &["a", "b"]])];
    number_ids(&mut old, &mut 0);
    let cell = vec![table(2, &[&["h1", "h2"], &["a", "B"]])];
    let (plan, _) = check_model(&old, &cell);
    assert!(matches!(&plan.ops[..], [Op::Update { id, .. }] if id == "t-2"));
    let wider = vec![table(3, &[&["h1", "h2", "h3"], &["a", "b", "c"]])];
    let (plan, tree) = check_model(&old, &wider);
    assert_eq!(plan.ops.len(), 2);
    assert!(plan.ops.contains(&Op::Delete {
        parent: P.into(),
        id: "t-0".into()
    }));
    assert!(tree[0].id.as_deref() != Some("t-0"));
}

#[test]
fn changed_block_pairs_with_the_block_it_came_from() {
    // Two paragraphs in one gap: the edited one keeps its id even though the other was
    // deleted next to it.
    let mut old = vec![para("first block text"), para("second block text")];
    number_ids(&mut old, &mut 0);
    let new = vec![para("second block text, edited")];
    let (plan, tree) = check_model(&old, &new);
    assert_eq!(tree[0].id.as_deref(), Some("t-1"));
    assert_eq!(plan.ops.len(), 2);
}

/// Expected ids must survive (None: no expectation).
fn assert_kept(expected: &[Block], actual: &[Block]) {
    assert_eq!(expected.len(), actual.len());
    for (e, a) in expected.iter().zip(actual) {
        if let (Some(id), false) = (&e.id, e.extra.contains_key(LOOSE)) {
            assert_eq!(a.id.as_ref(), Some(id), "block {:?} lost its id", e.kind);
        }
        assert_kept(&e.children, &a.children);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_edits_apply_exactly_and_keep_ids(seed in any::<u64>(), edits in 1usize..6) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut n = 0;
        let len = rand::Rng::random_range(&mut rng, 0..25);
        let mut old = random_page(&mut rng, &mut n, len);
        number_ids(&mut old, &mut 0);
        let mut expected = old.clone();
        let mut log = Vec::new();
        for _ in 0..edits {
            log.push(random_edit(&mut rng, &mut n, &mut expected));
        }
        let new = strip_ids(&expected);
        let plan = diff(P, &old, &new).map_err(|e| TestCaseError::fail(format!("{e} {log:?}")))?;
        let sim = simulate(&old, &plan, 0).map_err(|e| TestCaseError::fail(format!("{e} {log:?}")))?;
        prop_assert!(same_content(&sim.tree, &new), "edits {:?}", log);
        assert_kept(&expected, &sim.tree);
        // No more operations than edits need: each edit costs at most 2 (delete + insert)
        // plus one per (parent, run) touched.
        prop_assert!(plan.ops.len() <= 2 * edits + 2, "{} ops for {:?}", plan.ops.len(), log);
        // Applying again is a no-op: the result is a fixed point.
        let again = diff(P, &sim.tree, &new).unwrap();
        prop_assert!(again.is_empty(), "second diff not empty: {:?}", again.ops);
    }
}

fn synced(id: &str, from: Option<&str>, children: Vec<Block>) -> Block {
    use notionfs::notion::model::block::{SyncedBlock, SyncedFrom};
    let kind = BlockKind::SyncedBlock(SyncedBlock {
        synced_from: from.map(|f| SyncedFrom {
            kind: "block_id".into(),
            block_id: f.into(),
            extra: JsonMap::new(),
        }),
        extra: JsonMap::new(),
    });
    with_id(Block::with_children(kind, children), id)
}

#[test]
fn synced_originals_are_edited_inside_and_copies_are_placeholders() {
    let old = vec![
        synced(
            "s-1",
            None,
            vec![
                with_id(para("shared a"), "t-1"),
                with_id(para("shared b"), "t-2"),
            ],
        ),
        // A copy: its children mirror the original and are not part of this body.
        synced("s-2", Some("s-1"), vec![with_id(para("shared a"), "t-3")]),
    ];
    let new = vec![
        synced("s-1", None, vec![para("shared a!"), para("shared b")]),
        synced("s-2", Some("s-1"), vec![]),
    ];
    let (plan, _) = {
        let plan = diff(P, &old, &new).unwrap();
        (plan.clone(), simulate(&old, &plan, 0).unwrap())
    };
    assert!(
        matches!(&plan.ops[..], [Op::Update { id, parent, .. }] if id == "t-1" && parent == "s-1"),
        "{:?}",
        plan.ops
    );
    // Deleting the copy line deletes the copy, nothing else.
    let new = vec![synced(
        "s-1",
        None,
        vec![para("shared a"), para("shared b")],
    )];
    let plan = diff(P, &old, &new).unwrap();
    assert_eq!(
        plan.ops,
        vec![Op::Delete {
            parent: P.into(),
            id: "s-2".into()
        }]
    );
    // A new original (no id) is created with its children.
    let mut fresh = synced("x", None, vec![para("brand new shared")]);
    fresh.id = None;
    let new = vec![
        synced("s-1", None, vec![para("shared a"), para("shared b")]),
        synced("s-2", Some("s-1"), vec![]),
        fresh,
    ];
    let (plan, _) = check_model(&old, &new);
    assert!(matches!(&plan.ops[..], [Op::Append { blocks, .. }] if blocks[0].children.len() == 1));
}

#[test]
fn limits_refuse_the_whole_save_up_front() {
    let old = page_of(3);
    let runs: Vec<RichText> = (0..101).map(|i| RichText::plain(format!("{i} "))).collect();
    let mut fat = para("");
    if let BlockKind::Paragraph(t) = &mut fat.kind {
        // Alternate styles so the runs cannot merge.
        t.rich_text = runs
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.annotations.bold = i % 2 == 0;
                r
            })
            .collect();
    }
    let mut new = strip_ids(&old);
    new[0] = para("an edit that must not go out alone");
    new.push(fat.clone());
    assert!(matches!(diff(P, &old, &new), Err(DiffError::Limit { .. })));
    // Same as an update.
    let mut new = strip_ids(&old);
    new[1] = fat;
    assert!(matches!(diff(P, &old, &new), Err(DiffError::Limit { .. })));
}

#[test]
fn a_copied_placeholder_line_is_refused_and_ops_group_by_parent() {
    let old = vec![with_id(para("a"), "t-0"), unsupported("u-1")];
    let new = vec![para("a"), unsupported("u-1"), unsupported("u-1")];
    assert_eq!(
        diff(P, &old, &new).unwrap_err(),
        DiffError::Duplicated { id: "u-1".into() }
    );
    let mut old = vec![para("x"), toggle("t", vec![para("y"), para("z")])];
    number_ids(&mut old, &mut 0);
    let new = vec![para("x!"), toggle("t", vec![para("y!")])];
    let plan = diff(P, &old, &new).unwrap();
    let groups = plan.by_parent();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].0, P);
    assert_eq!(groups[1].0, "t-1");
    assert_eq!(groups[1].1.len(), 2);
}

fn image(url: &str, caption: &str) -> Block {
    use notionfs::notion::model::block::Media;
    use notionfs::notion::model::FileObject;
    Block::new(BlockKind::Image(Media {
        file: FileObject::external(url),
        caption: if caption.is_empty() {
            vec![]
        } else {
            vec![RichText::plain(caption)]
        },
        name: None,
        extra: JsonMap::new(),
    }))
}

#[test]
fn media_lines_resolved_to_their_block_update_only_what_changed() {
    // The parser gives a media line whose path resolved back its block id.
    let old = vec![
        with_id(para("intro"), "t-0"),
        with_id(image("https://e.x/a.png", "old caption"), "img-1"),
    ];
    let new = vec![
        para("intro"),
        with_id(image("https://e.x/a.png", "new caption"), "img-1"),
    ];
    let (plan, _) = check_model(&old, &new);
    match &plan.ops[..] {
        [Op::Update { id, body, .. }] => {
            assert_eq!(id, "img-1");
            let fields = body["image"].as_object().unwrap();
            assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["caption"]);
        }
        other => panic!("{other:?}"),
    }
    // A new URL sends the whole file object.
    let new = vec![
        para("intro"),
        with_id(image("https://e.x/b.png", "old caption"), "img-1"),
    ];
    let (plan, _) = check_model(&old, &new);
    match &plan.ops[..] {
        [Op::Update { body, .. }] => {
            assert_eq!(body["image"]["type"], "external");
            assert_eq!(body["image"]["external"]["url"], "https://e.x/b.png");
            assert!(body["image"].get("caption").is_none());
        }
        other => panic!("{other:?}"),
    }
}
