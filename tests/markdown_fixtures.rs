//! Every block example of the API reference (tests/fixtures/blocks) converts to Markdown
//! and back: creatable blocks come back equal (after normalisation), read-only ones come
//! back as the same type with the same id, and the Markdown is a fixed point.

use notionfs::markdown::convert::read_blocks;
use notionfs::markdown::normalize::normalize;
use notionfs::markdown::{parse, render};
use notionfs::notion::model::block::Table;
use notionfs::notion::model::{Block, BlockKind, JsonMap};

fn fixtures() -> Vec<(String, Vec<Block>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blocks");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read fixture");
        let mut blocks = read_blocks(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A table row only exists inside a table.
        if let [Block {
            kind: BlockKind::TableRow(r),
            ..
        }] = blocks.as_slice()
        {
            let width = r.cells.len() as u32;
            blocks = vec![Block::with_children(
                BlockKind::Table(Table {
                    table_width: width,
                    has_column_header: true,
                    has_row_header: false,
                    extra: JsonMap::new(),
                }),
                blocks,
            )];
        }
        out.push((
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
            blocks,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn reference_examples_round_trip() {
    let all = fixtures();
    assert!(all.len() >= 30, "only {} fixtures", all.len());
    for (name, blocks) in all {
        let md = render(&blocks);
        assert!(!md.is_empty(), "{name}: empty Markdown");
        let back = parse(&md);
        assert_eq!(render(&back), md, "{name}: not a fixed point");
        assert_eq!(back.len(), blocks.len(), "{name}:\n{md}");
        for (b, o) in back.iter().zip(&blocks) {
            assert_eq!(b.type_name(), o.type_name(), "{name}:\n{md}");
            if o.kind.is_creatable() {
                assert_eq!(
                    normalize(std::slice::from_ref(b)),
                    normalize(std::slice::from_ref(o)),
                    "{name}:\n{md}"
                );
            } else if o.id.is_some() {
                assert_eq!(b.id, o.id, "{name}: placeholder lost its id\n{md}");
            }
        }
    }
}

#[test]
fn reference_examples_render_as_documented() {
    let all = fixtures();
    let md_of = |n: &str| {
        let (_, b) = all.iter().find(|(name, _)| name == n).expect("fixture");
        render(b)
    };
    assert_eq!(md_of("heading-2-block-object.json"), "## Lacinato kale\n");
    assert_eq!(
        md_of("code-block-object.json"),
        "```javascript\nconst a = 3\n```\n"
    );
    assert_eq!(md_of("divider-block-object.json"), "---\n");
    assert_eq!(
        md_of("to-do-block-object.json"),
        "- [ ] Finish Q3 goals\n\n  Add some children\n"
    );
    assert!(md_of("callout-block-object.json")
        .starts_with("<callout icon=\"⭐\">\n\nLacinato kale\n\n</callout>"));
    assert!(md_of("duplicate-synced-block-object.json").starts_with("<synced-block-copy from="));
    assert!(md_of("child-page-block-object.json").starts_with("<page"));
}
