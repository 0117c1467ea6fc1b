//! The Notion client against the emulator, through real HTTP on 127.0.0.1: every endpoint,
//! pagination, retries, rate limits, errors and request limits.

mod common;

use std::time::{Duration, Instant};

use common::emu::demo_png;
use futures::TryStreamExt;
use notionfs::emulator::{demo, Emulator, EmulatorConfig};
use notionfs::notion::client::{NewFileUpload, Position};
use notionfs::notion::model::property::PropertyData;
use notionfs::notion::model::{BlockKind, Parent};
use notionfs::notion::{ApiError, Client, ClientConfig, Token};
use serde_json::{json, Value};

async fn start(config: EmulatorConfig) -> (Emulator, Client) {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let client = client_for(&emu, emu.token());
    (emu, client)
}

fn client_for(emu: &Emulator, token: &str) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(token));
    cfg.rate = None;
    cfg.base_backoff = Duration::from_millis(5);
    cfg.max_backoff = Duration::from_millis(50);
    cfg.max_retries = 20;
    Client::new(cfg).expect("client builds")
}

fn title(text: &str) -> Value {
    json!({"title": {"title": [{"type": "text", "text": {"content": text}}]}})
}

fn para(text: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
}

fn text_of(b: &notionfs::notion::model::Block) -> String {
    b.kind
        .rich_text()
        .map(|r| notionfs::notion::model::rich_text::plain_text(r))
        .unwrap_or_default()
}

#[tokio::test]
async fn users_and_search() {
    let (_emu, c) = start(EmulatorConfig::default()).await;
    let me = c.me().await.unwrap();
    assert_eq!(me.kind.as_deref(), Some("bot"));
    assert!(me
        .bot
        .as_ref()
        .unwrap()
        .workspace_limits
        .as_ref()
        .unwrap()
        .max_file_upload_size_in_bytes
        .is_some());
    let users = c.users().await.unwrap();
    assert!(users
        .iter()
        .any(|u| u.id == demo::ada_id() && u.email().is_some()));
    assert_eq!(c.user(&demo::ada_id()).await.unwrap().id, demo::ada_id());

    let pages: Vec<Value> = c
        .search(json!({"filter": {"property": "object", "value": "page"},
                       "sort": {"timestamp": "last_edited_time", "direction": "descending"}}))
        .try_collect()
        .await
        .unwrap();
    assert!(pages.len() > 20, "demo pages and rows: {}", pages.len());
    assert!(pages.iter().all(|p| p["object"] == "page"));
    let sources: Vec<Value> = c
        .search(json!({"filter": {"property": "object", "value": "data_source"}}))
        .try_collect()
        .await
        .unwrap();
    assert!(sources.iter().any(|s| s["id"] == demo::tasks_ds_id()));
    assert!(sources.iter().all(|s| s["object"] == "data_source"));
}

#[tokio::test]
async fn pages_create_update_move_trash_and_property_items() {
    let (emu, c) = start(EmulatorConfig::default()).await;
    let page = c
        .create_page(
            json!({"parent": {"page_id": demo::wiki_id()}, "properties": title("Client test"),
                            "children": [para("hello")]}),
        )
        .await
        .unwrap();
    assert_eq!(page.title(), "Client test");
    // The new page shows up as a child_page block of its parent.
    let kids = c.children(&demo::wiki_id()).await.unwrap();
    assert!(kids
        .iter()
        .any(|b| b.id.as_deref() == Some(page.id.as_str())
            && matches!(&b.kind, BlockKind::ChildPage(t) if t.title == "Client test")));

    let renamed = c
        .update_page(&page.id, json!({"properties": title("Renamed")}))
        .await
        .unwrap();
    assert_eq!(renamed.title(), "Renamed");
    assert_eq!(c.page(&page.id).await.unwrap().title(), "Renamed");
    let items = c.page_property_items(&page.id, "title").await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"]["plain_text"], "Renamed");

    let moved = c
        .move_page(&page.id, &Parent::page(demo::team_home_id()))
        .await
        .unwrap();
    assert_eq!(
        moved.parent.page_id.as_deref(),
        Some(demo::team_home_id().as_str())
    );
    assert!(c
        .children(&demo::wiki_id())
        .await
        .unwrap()
        .iter()
        .all(|b| b.id.as_deref() != Some(page.id.as_str())));

    let trashed = c.trash_page(&page.id).await.unwrap();
    assert!(trashed.in_trash);
    assert!(emu
        .control()
        .children_ids(&demo::team_home_id())
        .iter()
        .all(|id| *id != page.id));

    // Ids work without dashes too.
    let undashed = demo::wiki_id().replace('-', "");
    assert_eq!(c.page(&undashed).await.unwrap().id, demo::wiki_id());
}

#[tokio::test]
async fn blocks_paginate_append_at_positions_update_and_delete() {
    let (emu, c) = start(EmulatorConfig::default()).await;
    let page = c
        .create_page(json!({"parent": {"page_id": demo::wiki_id()}, "properties": title("Long")}))
        .await
        .unwrap();
    for chunk in 0..3 {
        let n = if chunk < 2 { 100 } else { 60 };
        let blocks: Vec<Value> = (0..n)
            .map(|i| para(&format!("p{}", chunk * 100 + i)))
            .collect();
        let made = c.append_children(&page.id, blocks, None).await.unwrap();
        assert_eq!(made.len(), n);
    }
    emu.control().reset_stats();
    let before = c.stats();
    let all = c.children(&page.id).await.unwrap();
    assert_eq!(all.len(), 260);
    assert_eq!(text_of(&all[0]), "p0");
    assert_eq!(text_of(&all[259]), "p259");
    assert_eq!(
        c.stats()
            .since(&before)
            .count("GET /v1/blocks/{id}/children"),
        3,
        "pages of 100"
    );
    assert_eq!(emu.control().calls("GET /v1/blocks/{id}/children"), 3);

    let first = c
        .append_children(&page.id, vec![para("first")], Some(Position::Start))
        .await
        .unwrap();
    let after = all[9].id.clone().unwrap();
    c.append_children(
        &page.id,
        vec![para("after p9")],
        Some(Position::AfterBlock(after)),
    )
    .await
    .unwrap();
    let all = c.children(&page.id).await.unwrap();
    assert_eq!(text_of(&all[0]), "first");
    assert_eq!(text_of(&all[11]), "after p9");
    assert_eq!(all.len(), 262);

    let id = first[0].id.clone().unwrap();
    let updated = c
        .update_block(
            &id,
            json!({"paragraph": {"rich_text": [{"type": "text", "text": {"content": "changed"}}]}}),
        )
        .await
        .unwrap();
    assert_eq!(text_of(&updated), "changed");
    assert_eq!(text_of(&c.block(&id).await.unwrap()), "changed");
    let deleted = c.delete_block(&id).await.unwrap();
    assert!(deleted.in_trash);
    assert_eq!(c.children(&page.id).await.unwrap().len(), 261);
    // Updating a trashed block is refused (the reference: 404 for archived blocks).
    let err = c
        .update_block(&id, json!({"paragraph": {"rich_text": []}}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");

    // Nested children (two levels) in one request.
    let toggle =
        json!({"type": "toggle", "toggle": {"rich_text": [], "children": [para("inside")]}});
    let made = c
        .append_children(&page.id, vec![toggle], None)
        .await
        .unwrap();
    assert!(made[0].has_children);
    assert_eq!(
        text_of(&c.children(made[0].id.as_deref().unwrap()).await.unwrap()[0]),
        "inside"
    );

    // The reference's column list example: column_list > column > paragraph in one request.
    let column = |t: &str| json!({"type": "column", "column": {"children": [para(t)]}});
    let list = json!({"type": "column_list", "column_list": {"children": [column("left"), column("right")]}});
    let made = c.append_children(&page.id, vec![list], None).await.unwrap();
    let columns = c.children(made[0].id.as_deref().unwrap()).await.unwrap();
    assert_eq!(columns.len(), 2);
    let right = c.children(columns[1].id.as_deref().unwrap()).await.unwrap();
    assert_eq!(text_of(&right[0]), "right");
}

#[tokio::test]
async fn databases_data_sources_and_queries() {
    let (_emu, c) = start(EmulatorConfig::default()).await;
    let db = c.database(&demo::tasks_db_id()).await.unwrap();
    assert_eq!(db.data_sources.len(), 1);
    assert_eq!(db.data_sources[0].id, demo::tasks_ds_id());
    let tracker = c.database(&demo::tracker_db_id()).await.unwrap();
    assert_eq!(tracker.data_sources.len(), 2);

    let ds = c.data_source(&demo::tasks_ds_id()).await.unwrap();
    assert!(
        ds.properties.len() >= 15,
        "every property type: {}",
        ds.properties.len()
    );
    let rows = c
        .query(
            &demo::tasks_ds_id(),
            json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]}),
        )
        .await
        .unwrap();
    assert!(rows.len() >= 20);
    let checkbox = ds
        .properties
        .iter()
        .find(|(_, p)| p.config.type_name() == "checkbox")
        .map(|(n, _)| n.clone())
        .expect("a checkbox property");
    let done = c
        .query(
            &demo::tasks_ds_id(),
            json!({"filter": {"property": checkbox, "checkbox": {"equals": true}}}),
        )
        .await
        .unwrap();
    assert!(!done.is_empty() && done.len() < rows.len());
    assert!(done
        .iter()
        .all(|r| matches!(r.properties[&checkbox].data, PropertyData::Checkbox(true))));

    let created = c
        .create_data_source(
            json!({"parent": {"type": "database_id", "database_id": demo::tracker_db_id()},
            "title": [{"type": "text", "text": {"content": "Ideas"}}],
            "properties": {"Name": {"title": {}}}}),
        )
        .await
        .unwrap();
    assert_eq!(created.title_text(), "Ideas");
    let renamed = c
        .update_data_source(
            &created.id,
            json!({"title": [{"type": "text", "text": {"content": "Ideas 2"}}]}),
        )
        .await
        .unwrap();
    assert_eq!(renamed.title_text(), "Ideas 2");
    assert_eq!(
        c.database(&demo::tracker_db_id())
            .await
            .unwrap()
            .data_sources
            .len(),
        3
    );
}

#[tokio::test]
async fn file_uploads_single_and_multi_part() {
    let (_emu, c) = start(EmulatorConfig::default()).await;
    let up = c
        .create_file_upload(&NewFileUpload {
            filename: Some("a.png".into()),
            content_type: Some("image/png".into()),
            number_of_parts: None,
        })
        .await
        .unwrap();
    assert_eq!(up.status, "pending");
    let png = demo_png();
    let sent = c
        .send_file_upload(&up.id, png.clone().into(), "a.png", "image/png", None)
        .await
        .unwrap();
    assert_eq!(sent.status, "uploaded");
    assert_eq!(c.file_upload(&up.id).await.unwrap().status, "uploaded");
    let image =
        json!({"type": "image", "image": {"type": "file_upload", "file_upload": {"id": up.id}}});
    let made = c
        .append_children(&demo::wiki_id(), vec![image], None)
        .await
        .unwrap();
    let url = match &made[0].kind {
        BlockKind::Image(m) => m.file.url().expect("hosted url").to_string(),
        other => panic!("{other:?}"),
    };
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), png.as_slice());

    let part1 = vec![7u8; 5 * 1024 * 1024];
    let part2 = vec![9u8; 1000];
    let multi = c
        .create_file_upload(&NewFileUpload {
            filename: Some("big.bin".into()),
            content_type: Some("text/plain".into()),
            number_of_parts: Some(2),
        })
        .await
        .unwrap();
    c.send_file_upload(&multi.id, part1.into(), "big.bin", "text/plain", Some(1))
        .await
        .unwrap();
    c.send_file_upload(&multi.id, part2.into(), "big.bin", "text/plain", Some(2))
        .await
        .unwrap();
    let done = c.complete_file_upload(&multi.id).await.unwrap();
    assert_eq!(done.status, "uploaded");
    assert_eq!(done.content_length, Some(5 * 1024 * 1024 + 1000));
}

#[tokio::test]
async fn comments_list_and_create() {
    let (_emu, c) = start(EmulatorConfig::default()).await;
    let made = c
        .create_comment(json!({"parent": {"page_id": demo::wiki_id()},
                               "rich_text": [{"type": "text", "text": {"content": "Looks good"}}]}))
        .await
        .unwrap();
    let all = c.comments(&demo::wiki_id()).await.unwrap();
    assert!(all
        .iter()
        .any(|x| x.id == made.id && x.discussion_id == made.discussion_id));
}

#[tokio::test]
async fn rate_limited_requests_wait_retry_after_and_succeed() {
    let cfg = EmulatorConfig {
        rate: Some(1.0),
        burst: 1,
        ..EmulatorConfig::default()
    };
    let (_emu, c) = start(cfg).await;
    let start = Instant::now();
    for _ in 0..3 {
        c.page(&demo::wiki_id()).await.expect("eventually served");
    }
    let s = c.stats();
    assert!(s.rate_limited >= 1, "the emulator answered 429: {s:?}");
    // Each 429 carried Retry-After >= 1 s and the client waited at least that long.
    assert!(
        start.elapsed() >= Duration::from_secs(s.rate_limited),
        "{:?} for {s:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_reads() {
    let cfg = EmulatorConfig {
        fault_rate: 0.5,
        ..EmulatorConfig::default()
    };
    let (_emu, c) = start(cfg).await;
    for _ in 0..20 {
        c.page(&demo::wiki_id()).await.expect("reads survive 5xx");
    }
    let s = c.stats();
    assert!(s.server_errors > 0 && s.retries >= s.server_errors, "{s:?}");
}

#[tokio::test]
async fn writes_are_not_retried_after_a_server_error() {
    let cfg = EmulatorConfig {
        fault_rate: 1.0,
        ..EmulatorConfig::default()
    };
    let (emu, c) = start(cfg).await;
    let before = emu.control().children_ids(&demo::wiki_id()).len();
    let err = c
        .append_children(&demo::wiki_id(), vec![para("x")], None)
        .await
        .unwrap_err();
    assert!(err.status().is_some_and(|s| s >= 500), "{err}");
    assert_eq!(
        c.stats().count("PATCH /v1/blocks/{id}/children"),
        1,
        "outcome unknown: no retry"
    );
    assert_eq!(
        emu.control().children_ids(&demo::wiki_id()).len(),
        before,
        "fault hit before any change"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (_emu, c) = start(EmulatorConfig::default()).await;
    let err = c
        .page("00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.code(), Some("object_not_found"));
    assert_eq!(c.stats().count("GET /v1/pages/{id}"), 1);
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn unauthorized_is_clear_and_never_shows_the_token() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let secret = "secret_wrong_token_0123456789";
    let c = client_for(&emu, secret);
    let err = c.me().await.unwrap_err();
    assert!(err.is_unauthorized());
    let shown = format!("{err} {err:?} {c:?}");
    assert!(shown.contains("unauthorized"), "{shown}");
    assert!(!shown.contains(secret), "token leaked: {shown}");
}

#[tokio::test]
async fn requests_over_known_limits_are_never_sent() {
    let (emu, c) = start(EmulatorConfig::default()).await;
    emu.control().reset_stats();
    let too_many: Vec<Value> = (0..101).map(|i| para(&i.to_string())).collect();
    let deep = json!({"type": "toggle", "toggle": {"rich_text": [], "children": [
        {"type": "toggle", "toggle": {"rich_text": [], "children": [
            {"type": "toggle", "toggle": {"rich_text": [], "children": [para("4th level")]}}]}}]}});
    let long = para(&"x".repeat(2001));
    for children in [too_many, vec![deep.clone()], vec![long]] {
        let err = c
            .append_children(&demo::wiki_id(), children, None)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Limit { .. }), "{err}");
    }
    assert_eq!(emu.control().total_calls(), 0, "nothing reached the API");
    assert_eq!(c.stats().total(), 0);

    // And the emulator itself refuses the same request when sent raw.
    let raw = reqwest::Client::new()
        .patch(format!(
            "{}/v1/blocks/{}/children",
            emu.base_url(),
            demo::wiki_id()
        ))
        .bearer_auth(emu.token())
        .header("Notion-Version", "2025-09-03")
        .json(&json!({"children": [deep]}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "validation_error");
}
