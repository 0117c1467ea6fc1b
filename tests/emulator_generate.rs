//! The generated large workspace (`emulator::generate`): deterministic, the promised shape,
//! and every page, block, row and search result readable through the real
//! `notionfs::notion::Client` over HTTP; remote moves, trashes, restores and the other remote
//! edits show up through the client and bump `last_edited_time` as Notion does.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use notionfs::emulator::generate::{large_workspace, END_TIME};
use notionfs::emulator::{Control, Emulator, EmulatorConfig, Seed};
use notionfs::notion::model::{Block, Page};
use notionfs::notion::{Client, ClientConfig, Token};
use serde_json::{json, Value};

const PAGES: usize = 800;

async fn start(seed: Seed) -> (Emulator, Client) {
    let emu = Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    let client = Client::new(cfg).expect("client");
    (emu, client)
}

fn row_parent(p: &Value) -> Option<&str> {
    p["parent"]["data_source_id"].as_str()
}

/// Blocks of a seed block list, nested ones included.
fn count_blocks(blocks: &Value) -> usize {
    blocks.as_array().map_or(0, |a| {
        a.iter()
            .map(|b| {
                let ty = b["type"].as_str().unwrap_or_default();
                1 + count_blocks(&b[ty]["children"])
            })
            .sum()
    })
}

/// Every (type, rich text item) in a seed block list.
fn rich_items(blocks: &Value, out: &mut Vec<(String, Value)>) {
    for b in blocks.as_array().into_iter().flatten() {
        let ty = b["type"].as_str().unwrap_or_default().to_string();
        for item in b[&ty]["rich_text"].as_array().into_iter().flatten() {
            out.push((ty.clone(), item.clone()));
        }
        rich_items(&b[&ty]["children"], out);
    }
}

/// Ids of the pages above `p`, nearest first.
fn ancestors(by_id: &HashMap<&str, &Value>, p: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = p["parent"]["page_id"].as_str();
    while let Some(id) = cur {
        out.push(id.to_string());
        cur = by_id.get(id).and_then(|q| q["parent"]["page_id"].as_str());
    }
    out
}

fn sources(seed: &Seed) -> Vec<String> {
    seed.databases
        .iter()
        .flat_map(|d| d["data_sources"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn generation_is_deterministic() {
    let a = serde_json::to_string(&large_workspace(600, 7)).expect("json");
    let b = serde_json::to_string(&large_workspace(600, 7)).expect("json");
    assert_eq!(a, b, "same pages and seed give the same JSON");
    let c = serde_json::to_string(&large_workspace(600, 8)).expect("json");
    assert_ne!(a, c, "another seed gives another workspace");
}

#[test]
fn shape_counts_and_content() {
    let seed = large_workspace(PAGES, 3);
    assert_eq!(seed.pages.len(), PAGES);
    let rows = seed
        .pages
        .iter()
        .filter(|p| row_parent(p).is_some())
        .count();
    assert!((150..=170).contains(&rows), "{rows} rows of {PAGES}");
    assert!(seed.databases.len() >= 4);
    assert!(seed
        .databases
        .iter()
        .any(|d| d["data_sources"].as_array().map_or(0, Vec::len) == 2));
    // structure: depth, '/' titles, duplicate sibling titles, top-level pages
    let by_id: HashMap<&str, &Value> = seed
        .pages
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    assert!(
        seed.pages
            .iter()
            .map(|p| ancestors(&by_id, p).len())
            .max()
            .unwrap_or(0)
            >= 5
    );
    assert!(
        seed.pages
            .iter()
            .filter(|p| p["parent"]["workspace"] == true)
            .count()
            >= 3
    );
    assert!(seed
        .pages
        .iter()
        .any(|p| p["title"].as_str().is_some_and(|t| t.contains('/'))));
    let mut siblings: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in seed
        .pages
        .iter()
        .filter(|p| p["parent"]["page_id"].is_string())
    {
        let key = (p["parent"]["page_id"].to_string(), p["title"].to_string());
        *siblings.entry(key).or_default() += 1;
    }
    assert!(
        siblings.values().any(|n| *n > 1),
        "duplicate sibling titles"
    );
    // bodies: mostly 5-60 blocks, some 300+, rows smaller
    let sizes: Vec<usize> = seed
        .pages
        .iter()
        .filter(|p| row_parent(p).is_none())
        .map(|p| count_blocks(&p["children"]))
        .collect();
    assert!(sizes.iter().filter(|n| **n >= 300).count() >= 2);
    let typical = sizes.iter().filter(|n| (5..=60).contains(*n)).count();
    assert!(
        typical * 10 >= sizes.len() * 7,
        "{typical} of {}",
        sizes.len()
    );
    // rich text: annotated runs with edge whitespace, paragraphs ending in a space, mentions
    let mut items = Vec::new();
    for p in &seed.pages {
        rich_items(&p["children"], &mut items);
    }
    let annotated_edge = items.iter().any(|(_, i)| {
        let c = i["text"]["content"].as_str().unwrap_or_default();
        i["annotations"].is_object() && (c.ends_with(' ') || c.starts_with(' '))
    });
    assert!(
        annotated_edge,
        "an annotated run ends or begins with whitespace"
    );
    assert!(items.iter().any(|(ty, i)| ty == "paragraph"
        && i["annotations"].is_null()
        && i["text"]["content"]
            .as_str()
            .is_some_and(|c| c.ends_with(' '))));
    for kind in ["page", "user", "date"] {
        assert!(
            items.iter().any(|(_, i)| i["mention"]["type"] == kind),
            "{kind} mention"
        );
    }
    assert!(!seed.files.is_empty());
    // times: minute-rounded, valid, created <= edited <= END_TIME
    let end = chrono::DateTime::parse_from_rfc3339(END_TIME).expect("end");
    for p in &seed.pages {
        let c = p["created_time"].as_str().expect("created");
        let e = p["last_edited_time"].as_str().expect("edited");
        assert!(
            c.ends_with(":00.000Z") && e.ends_with(":00.000Z"),
            "{c} {e}"
        );
        let (c, e) = (
            chrono::DateTime::parse_from_rfc3339(c).expect("iso"),
            chrono::DateTime::parse_from_rfc3339(e).expect("iso"),
        );
        assert!(c <= e && e <= end && end - c <= chrono::Duration::days(366));
    }
}

/// The block tree of `id` through the client, nested blocks included (child pages are
/// pages of their own and not counted).
async fn api_blocks(client: &Client, id: String) -> usize {
    let mut stack = vec![id];
    let mut n = 0;
    while let Some(id) = stack.pop() {
        let kids: Vec<Block> = client.children(&id).await.expect("children");
        for b in kids {
            if matches!(b.type_name(), "child_page" | "child_database") {
                continue;
            }
            n += 1;
            if b.has_children {
                stack.push(b.id.clone().expect("id"));
            }
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_block_and_row_reads_through_the_client() {
    let seed = large_workspace(PAGES, 5);
    let (emu, client) = start(seed.clone()).await;
    let ctl = emu.control();
    // pages and their block trees
    let checks = futures::stream::iter(seed.pages.iter().map(|p| {
        let client = client.clone();
        let id = p["id"].as_str().expect("id").to_string();
        let want = count_blocks(&p["children"]);
        let title = p["title"].as_str().map(str::to_string);
        async move {
            let page: Page = client.page(&id).await.expect("page");
            if let Some(t) = title {
                assert_eq!(page.title(), t);
            }
            assert!(!page.in_trash);
            assert_eq!(
                api_blocks(&client, id.clone()).await,
                want,
                "blocks of {id}"
            );
        }
    }));
    checks.buffer_unordered(8).collect::<Vec<()>>().await;
    // a 300+ block page needs one children call per 100 blocks
    let big = seed
        .pages
        .iter()
        .find(|p| p["children"].as_array().map_or(0, Vec::len) >= 300)
        .expect("a big page");
    // its children: its blocks, then its child pages and databases
    let is_child = |v: &Value| v["parent"]["page_id"] == big["id"];
    let top = big["children"].as_array().map_or(0, Vec::len)
        + seed.pages.iter().filter(|p| is_child(p)).count()
        + seed.databases.iter().filter(|d| is_child(d)).count();
    ctl.reset_stats();
    assert_eq!(
        client
            .children(big["id"].as_str().expect("id"))
            .await
            .expect("kids")
            .len(),
        top
    );
    assert_eq!(
        ctl.calls("GET /v1/blocks/{id}/children") as usize,
        top.div_ceil(100)
    );
    // rows through data source queries
    let mut rows = 0;
    for ds in sources(&seed) {
        let got = client.query(&ds, json!({})).await.expect("query");
        let want = seed
            .pages
            .iter()
            .filter(|p| row_parent(p) == Some(ds.as_str()))
            .count();
        assert_eq!(got.len(), want, "rows of {ds}");
        assert!(got
            .iter()
            .all(|r| r.parent.data_source_id.as_deref() == Some(ds.as_str())));
        rows += got.len();
    }
    assert_eq!(
        rows,
        seed.pages
            .iter()
            .filter(|p| row_parent(p).is_some())
            .count()
    );
}

async fn search_all(client: &Client, body: Value) -> Vec<Value> {
    client.search(body).try_collect().await.expect("search")
}

fn edited(v: &Value) -> String {
    v["last_edited_time"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_through_everything_in_both_directions() {
    let seed = large_workspace(PAGES, 9);
    let n_sources = sources(&seed).len();
    let (emu, client) = start(seed.clone()).await;
    let ctl = emu.control();
    let all_ids: BTreeSet<String> = seed
        .pages
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_string())
        .collect();
    for dir in ["descending", "ascending"] {
        let sort = json!({"timestamp": "last_edited_time", "direction": dir});
        ctl.reset_stats();
        let pages = search_all(
            &client,
            json!({"filter": {"property": "object", "value": "page"}, "sort": sort}),
        )
        .await;
        assert_eq!(ctl.calls("POST /v1/search") as usize, PAGES.div_ceil(100));
        let ids: BTreeSet<String> = pages
            .iter()
            .map(|p| p["id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(ids, all_ids, "{dir}: every page exactly once");
        assert_eq!(pages.len(), PAGES);
        let times: Vec<String> = pages.iter().map(edited).collect();
        let ordered = times.windows(2).all(|w| {
            if dir == "descending" {
                w[0] >= w[1]
            } else {
                w[0] <= w[1]
            }
        });
        assert!(ordered, "{dir}: sorted by last_edited_time");
        let sources_only = search_all(
            &client,
            json!({"filter": {"property": "object", "value": "data_source"}, "sort": sort}),
        )
        .await;
        assert_eq!(sources_only.len(), n_sources);
        assert!(sources_only.iter().all(|s| s["object"] == "data_source"));
        let mixed = search_all(&client, json!({"sort": sort})).await;
        assert_eq!(mixed.len(), PAGES + n_sources);
        assert_eq!(
            mixed
                .iter()
                .filter(|v| v["object"] == "data_source")
                .count(),
            n_sources
        );
        let unique: BTreeSet<&str> = mixed.iter().filter_map(|v| v["id"].as_str()).collect();
        assert_eq!(unique.len(), mixed.len());
        // small pages over raw HTTP give the same order as 100-item pages
        let small = raw_search(&emu, json!({"sort": sort, "page_size": 37})).await;
        let big: Vec<&str> = mixed.iter().filter_map(|v| v["id"].as_str()).collect();
        assert_eq!(small, big, "{dir}: page size does not change the order");
    }
}

async fn raw_search(emu: &Emulator, body: Value) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut b = body.clone();
        if let Some(c) = &cursor {
            b["start_cursor"] = json!(c);
        }
        let r: Value = http
            .post(format!("{}/v1/search", emu.base_url()))
            .bearer_auth(emu.token())
            .header("Notion-Version", "2025-09-03")
            .json(&b)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let results = r["results"].as_array().expect("results");
        assert!(results.len() <= 37);
        ids.extend(
            results
                .iter()
                .filter_map(|v| v["id"].as_str().map(str::to_string)),
        );
        match r["next_cursor"].as_str() {
            Some(c) if r["has_more"] == true => cursor = Some(c.to_string()),
            _ => return ids,
        }
    }
}

/// The ids of the newest `n` search results.
async fn newest(client: &Client, n: usize) -> Vec<String> {
    let body = json!({"sort": {"timestamp": "last_edited_time", "direction": "descending"}});
    let page = client.search_page(&body, None).await.expect("search");
    page.results
        .iter()
        .take(n)
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

/// Asserts that `page` was edited just now, as the API shows it: minute-rounded, between
/// the minutes of `before` and now.
async fn edited_now(
    client: &Client,
    ctl: &Control,
    page: &str,
    before: chrono::DateTime<chrono::Utc>,
) {
    let p = client.page(page).await.expect("page");
    let t = &p.last_edited_time;
    assert!(t.ends_with(":00.000Z"), "{t}");
    let minute = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:00.000Z").to_string();
    assert!(
        *t >= minute(before) && *t <= minute(ctl.now()),
        "{t} is not now"
    );
}

fn child_ids(kids: &[Block]) -> Vec<String> {
    kids.iter().filter_map(|b| b.id.clone()).collect()
}

/// A non-row page with a parent page and a body, and another unrelated page.
fn two_pages(seed: &Seed) -> (String, String, String) {
    let by_id: HashMap<&str, &Value> = seed
        .pages
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    let leaf = seed
        .pages
        .iter()
        .rev()
        .find(|p| p["parent"]["page_id"].is_string() && count_blocks(&p["children"]) > 3)
        .expect("a leaf page");
    let parent = leaf["parent"]["page_id"]
        .as_str()
        .expect("parent")
        .to_string();
    let leaf_top = ancestors(&by_id, leaf).last().cloned().unwrap_or_default();
    let other = seed
        .pages
        .iter()
        .find(|p| p["parent"]["workspace"] == true && p["id"] != leaf_top.as_str())
        .expect("another top-level page");
    (
        leaf["id"].as_str().expect("id").to_string(),
        parent,
        other["id"].as_str().expect("id").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_move_trash_and_restore_show_through_the_client() {
    let seed = large_workspace(500, 11);
    let (emu, client) = start(seed.clone()).await;
    let ctl = emu.control();
    let (page, old_parent, new_parent) = two_pages(&seed);
    // move under another page
    let before = ctl.now();
    ctl.move_page(&page, &new_parent).expect("move");
    let p = client.page(&page).await.expect("page");
    assert_eq!(p.parent.page_id.as_deref(), Some(new_parent.as_str()));
    assert!(child_ids(&client.children(&new_parent).await.expect("kids")).contains(&page));
    assert!(!child_ids(&client.children(&old_parent).await.expect("kids")).contains(&page));
    edited_now(&client, &ctl, &page, before).await;
    let top = newest(&client, 3).await;
    for id in [&page, &old_parent, &new_parent] {
        assert!(top.contains(id), "{id} among the newest");
    }
    // move a row into another data source, and a page into a data source
    let srcs = sources(&seed);
    let row = seed
        .pages
        .iter()
        .find(|p| row_parent(p) == Some(srcs[1].as_str()))
        .expect("row");
    let row_id = row["id"].as_str().expect("id");
    let title = client.page(row_id).await.expect("row").title();
    ctl.move_page(row_id, &srcs[2]).expect("move row");
    let moved = client.page(row_id).await.expect("row");
    assert_eq!(
        moved.parent.data_source_id.as_deref(),
        Some(srcs[2].as_str())
    );
    assert_eq!(moved.title(), title, "the title survives a schema change");
    let in_new = client.query(&srcs[2], json!({})).await.expect("query");
    assert!(in_new.iter().any(|r| r.id == row_id));
    let in_old = client.query(&srcs[1], json!({})).await.expect("query");
    assert!(!in_old.iter().any(|r| r.id == row_id));
    ctl.move_page(&page, &srcs[0])
        .expect("page into a data source");
    assert_eq!(
        client
            .page(&page)
            .await
            .expect("page")
            .parent
            .data_source_id
            .as_deref(),
        Some(srcs[0].as_str())
    );
    ctl.move_page(&page, &new_parent).expect("and back");
    // bad moves are refused with a clear error
    let err = ctl.move_page(&new_parent, &page).expect_err("cycle");
    assert!(err.to_string().contains("descendants"), "{err}");
    assert!(ctl.move_page(&page, "not-an-id").is_err());
    // trash and restore
    let before = ctl.now();
    ctl.trash_page(&page).expect("trash");
    assert!(client.page(&page).await.expect("page").in_trash);
    edited_now(&client, &ctl, &page, before).await;
    assert!(!child_ids(&client.children(&new_parent).await.expect("kids")).contains(&page));
    let listed: Vec<Value> = search_all(
        &client,
        json!({"filter": {"property": "object", "value": "page"}}),
    )
    .await;
    assert!(!listed.iter().any(|v| v["id"] == page.as_str()));
    assert_eq!(listed.len(), 499);
    assert!(ctl
        .trash_page(&page)
        .expect_err("twice")
        .to_string()
        .contains("already"));
    ctl.restore_page(&page).expect("restore");
    assert!(!client.page(&page).await.expect("page").in_trash);
    assert!(child_ids(&client.children(&new_parent).await.expect("kids")).contains(&page));
    assert_eq!(newest(&client, 2).await.first(), Some(&new_parent));
    assert!(ctl.restore_page(&page).is_err(), "not in the trash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_routes_move_trash_and_restore_over_http() {
    let seed = large_workspace(300, 2);
    let (emu, client) = start(seed.clone()).await;
    let (page, _, new_parent) = two_pages(&seed);
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        http.post(format!("{}/_emulator/edit/pages/{path}", emu.base_url()))
            .bearer_auth(emu.token())
            .json(&body)
            .send()
    };
    let r = post(format!("{page}/move"), json!({"parent_id": new_parent}))
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    assert_eq!(
        client
            .page(&page)
            .await
            .expect("page")
            .parent
            .page_id
            .as_deref(),
        Some(new_parent.as_str())
    );
    let r = post(format!("{page}/trash"), json!({}))
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    assert!(client.page(&page).await.expect("page").in_trash);
    let r = post(format!("{page}/trash"), json!({}))
        .await
        .expect("sent");
    assert_eq!(r.status(), 400, "trashing twice is refused");
    let body: Value = r.json().await.expect("json");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("already in the trash"));
    let r = post(format!("{page}/restore"), json!({}))
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    assert!(!client.page(&page).await.expect("page").in_trash);
    let r = post(format!("{page}/move"), json!({})).await.expect("sent");
    assert_eq!(r.status(), 400, "parent_id is required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_remote_edits_work_on_a_generated_workspace_and_bump_edit_times() {
    let seed = large_workspace(500, 13);
    let (emu, client) = start(seed.clone()).await;
    let ctl = emu.control();
    let (page, parent, _) = two_pages(&seed);
    // rename
    let before = ctl.now();
    ctl.rename_page(&page, "Renamed / remotely")
        .expect("rename");
    assert_eq!(
        client.page(&page).await.expect("page").title(),
        "Renamed / remotely"
    );
    edited_now(&client, &ctl, &page, before).await;
    assert_eq!(newest(&client, 1).await, vec![page.clone()]);
    // set the text of a paragraph, then append, then delete a block
    let kids = client.children(&page).await.expect("kids");
    let para = kids
        .iter()
        .find(|b| b.type_name() == "paragraph")
        .and_then(|b| b.id.clone())
        .expect("a paragraph");
    ctl.advance_clock(std::time::Duration::from_secs(120));
    let before = ctl.now();
    ctl.set_block_text(&para, "Changed remotely")
        .expect("set text");
    let b = client.block(&para).await.expect("block");
    assert_eq!(
        b.kind
            .rich_text()
            .map(|r| notionfs::notion::model::rich_text::plain_text(r)),
        Some("Changed remotely".into())
    );
    edited_now(&client, &ctl, &page, before).await;
    let ids = ctl
        .append_blocks(&page, json!([{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Appended"}}]}}]))
        .expect("append");
    let after = client.children(&page).await.expect("kids");
    assert_eq!(after.len(), kids.len() + 1);
    assert_eq!(
        after.last().and_then(|b| b.id.clone()),
        ids.first().cloned()
    );
    ctl.advance_clock(std::time::Duration::from_secs(120));
    let before = ctl.now();
    ctl.delete_block(&para).expect("delete");
    assert_eq!(
        client.children(&page).await.expect("kids").len(),
        kids.len()
    );
    edited_now(&client, &ctl, &page, before).await;
    assert_eq!(newest(&client, 1).await, vec![page.clone()]);
    // create a page: it and its parent are the newest
    let created = ctl
        .create_page(&parent, "Created remotely")
        .expect("create");
    let top = newest(&client, 2).await;
    assert!(top.contains(&created) && top.contains(&parent), "{top:?}");
    assert!(child_ids(&client.children(&parent).await.expect("kids")).contains(&created));
    // set a row property
    let row = seed
        .pages
        .iter()
        .find(|p| row_parent(p).is_some())
        .expect("row");
    let row_id = row["id"].as_str().expect("id");
    let title_key = row["properties"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("title key");
    ctl.set_property(
        row_id,
        &title_key,
        json!({"title": [{"type": "text", "text": {"content": "Row renamed"}}]}),
    )
    .expect("property");
    assert_eq!(
        client.page(row_id).await.expect("row").title(),
        "Row renamed"
    );
    assert_eq!(newest(&client, 1).await, vec![row_id.to_string()]);
}
