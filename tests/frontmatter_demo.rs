//! The front matter codec over the emulator's demo database, through the real client: every
//! row renders, and re-parsing each rendered row yields no changes and no refusals.

mod common;

use notionfs::emulator::{demo, Emulator, EmulatorConfig};
use notionfs::frontmatter::{self, MemoryContext};
use notionfs::notion::model::property_item::PropertyItemResponse;
use serde_json::json;

#[tokio::test]
async fn every_demo_row_renders_and_reparses_without_changes() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = common::core::client(&emu);

    let mut ctx = MemoryContext::default();
    for u in client.users().await.unwrap() {
        if let Some(e) = u.email() {
            ctx = ctx.with_user(&u.id, e);
        }
    }
    let mut rendered = 0;
    for ds_id in [
        demo::tasks_ds_id(),
        demo::bugs_ds_id(),
        demo::features_ds_id(),
    ] {
        let schema = client.data_source(&ds_id).await.unwrap();
        let rows = client
            .query(
                &ds_id,
                json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]}),
            )
            .await
            .unwrap();
        assert!(!rows.is_empty(), "data source {ds_id} has rows");
        for row in &rows {
            ctx = ctx.with_row(&row.id, &format!("{}.md", row.title()));
        }
        for mut row in rows {
            // Complete relation/people values that retrieve-page cut at 25 references.
            for (name, prop_id) in frontmatter::needs_full_items(&row) {
                let mut pages = Vec::new();
                let mut cursor = None;
                loop {
                    let v = client
                        .page_property(&row.id, &prop_id, cursor)
                        .await
                        .unwrap();
                    let next = v
                        .get("next_cursor")
                        .and_then(|c| c.as_str())
                        .map(String::from);
                    let more = v.get("has_more").and_then(|h| h.as_bool()).unwrap_or(false);
                    pages.push(serde_json::from_value::<PropertyItemResponse>(v).unwrap());
                    if !more {
                        break;
                    }
                    cursor = next;
                }
                frontmatter::apply_full_items(&mut row, &name, &pages).unwrap();
            }
            let text = frontmatter::render(&row, &schema, &ctx);
            assert!(
                text.starts_with("---\n") && text.ends_with("---\n"),
                "{text}"
            );
            let parsed = frontmatter::parse(&format!("{text}body\n"), &row, &schema, &ctx)
                .unwrap_or_else(|e| panic!("row {:?} does not re-parse: {e}\n{text}", row.title()));
            assert!(
                parsed.changes.is_empty(),
                "row {:?}: spurious changes {:?}\n{text}",
                row.title(),
                parsed.changes
            );
            assert!(
                parsed.refused.is_empty(),
                "row {:?}: refused {:?}\n{text}",
                row.title(),
                parsed.refused
            );
            assert_eq!(parsed.body, "body\n");
            rendered += 1;
            if row.id == demo::task_row_id(1) {
                // A row with every property type shows each one by name.
                for name in schema
                    .properties
                    .keys()
                    .filter(|n| schema.properties[*n].config.type_name() != "title")
                {
                    assert!(
                        text.contains(&format!("{name}:"))
                            || text.contains(&format!("\"{name}\":")),
                        "{name} missing in\n{text}"
                    );
                }
            }
        }
    }
    assert!(rendered >= 22, "every row rendered: {rendered}");
}
