//! End-to-end tests of the Notion API emulator through real HTTP on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::emu::demo_png;
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig, Faults};
use reqwest::Method;
use serde_json::{json, Value};

struct T {
    emu: Emulator,
    http: reqwest::Client,
}

struct Resp {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl T {
    async fn new() -> T {
        Self::with(EmulatorConfig::default()).await
    }

    async fn with(cfg: EmulatorConfig) -> T {
        let emu = Emulator::start(cfg).await.expect("emulator starts");
        T {
            emu,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(self.emu.token())
            .header("Notion-Version", "2025-09-03");
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, b: Value) -> Resp {
        self.call(Method::POST, path, Some(b)).await
    }
    async fn patch(&self, path: &str, b: Value) -> Resp {
        self.call(Method::PATCH, path, Some(b)).await
    }
    async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an empty page under the Engineering Wiki and returns its id.
    async fn new_page(&self, title: &str) -> String {
        let r = self
            .post("/v1/pages", json!({"parent": {"page_id": demo::wiki_id()}, "properties": {"title": {"title": [{"text": {"content": title}}]}}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    async fn child_ids(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/blocks/{id}/children?page_size=100&start_cursor={c}"),
                None => format!("/v1/blocks/{id}/children?page_size=100"),
            };
            let r = self.get(&path).await;
            assert_eq!(r.status, 200, "{}", r.body);
            for b in r.body["results"].as_array().expect("results") {
                out.push(b["id"].as_str().expect("id").to_string());
            }
            if r.body["has_more"] != true {
                break;
            }
            cursor = r.body["next_cursor"].as_str().map(str::to_string);
        }
        out
    }
}

fn para(s: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": s}}]}})
}

fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.body["object"], "error");
    assert_eq!(r.body["status"], status);
    assert_eq!(r.body["code"], code, "body: {}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn auth_version_and_request_errors() {
    let t = T::new().await;
    let r = t
        .send(
            t.http
                .get(t.url("/v1/users/me"))
                .header("Notion-Version", "2025-09-03"),
        )
        .await;
    assert_error(&r, 401, "unauthorized");
    let r = t
        .send(
            t.http
                .get(t.url("/v1/users/me"))
                .bearer_auth("wrong")
                .header("Notion-Version", "2025-09-03"),
        )
        .await;
    assert_error(&r, 401, "unauthorized");
    let r = t
        .send(t.http.get(t.url("/v1/users/me")).bearer_auth(t.emu.token()))
        .await;
    assert_error(&r, 400, "missing_version");
    let r = t
        .send(
            t.http
                .get(t.url("/v1/users/me"))
                .bearer_auth(t.emu.token())
                .header("Notion-Version", "2022-06-28"),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .send(
            t.http
                .get(t.url("/v1/users/me"))
                .bearer_auth(t.emu.token())
                .header("Notion-Version", "latest"),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    // invalid JSON, unknown keys, unknown URL, wrong method
    let r = t
        .send(
            t.http
                .post(t.url("/v1/search"))
                .bearer_auth(t.emu.token())
                .header("Notion-Version", "2025-09-03")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_error(&r, 400, "invalid_json");
    let r = t
        .post("/v1/search", json!({"query": "x", "bogus": 1}))
        .await;
    assert_error(&r, 400, "validation_error");
    assert!(r.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("bogus"));
    let r = t.get("/v1/nothing/here").await;
    assert_error(&r, 400, "invalid_request_url");
    let r = t.call(Method::PUT, "/v1/users/me", None).await;
    assert_error(&r, 400, "invalid_request_url");
    // the bot user
    let r = t.get("/v1/users/me").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["type"], "bot");
    assert_eq!(r.body["bot"]["workspace_name"], "Acme Engineering");
    assert!(r.body["bot"]["workspace_id"].is_string());
    assert!(
        r.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    // users pagination
    let r = t.get("/v1/users?page_size=2").await;
    assert_eq!(r.body["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.body["has_more"], true);
    assert_eq!(r.body["type"], "user");
    let c = r.body["next_cursor"].as_str().expect("cursor").to_string();
    let r2 = t
        .get(&format!("/v1/users?page_size=2&start_cursor={c}"))
        .await;
    assert_eq!(r2.body["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(r2.body["has_more"], false);
    assert_eq!(r2.body["next_cursor"], Value::Null);
    let r = t.get(&format!("/v1/users/{}", demo::ada_id())).await;
    assert_eq!(r.body["person"]["email"], "ada@example.com");
}

#[tokio::test]
async fn ids_and_not_found() {
    let t = T::new().await;
    let undashed = demo::wiki_id().replace('-', "");
    let r = t.get(&format!("/v1/pages/{undashed}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], demo::wiki_id());
    assert_eq!(r.body["object"], "page");
    assert_eq!(
        r.body["parent"],
        json!({"type": "workspace", "workspace": true})
    );
    assert_eq!(
        r.body["properties"]["title"]["title"][0]["plain_text"],
        "Engineering Wiki"
    );
    let ct = r.body["created_time"].as_str().expect("time");
    assert!(ct.ends_with(":00.000Z"), "{ct}");
    let r = t.get("/v1/pages/not-a-uuid").await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .get("/v1/pages/11111111-2222-4333-8444-555555555555")
        .await;
    assert_error(&r, 404, "object_not_found");
    // a data source id is not a page, a database id is not a data source
    let r = t.get(&format!("/v1/pages/{}", demo::tasks_ds_id())).await;
    assert_error(&r, 404, "object_not_found");
    let r = t
        .get(&format!("/v1/data_sources/{}", demo::tasks_db_id()))
        .await;
    assert_error(&r, 404, "object_not_found");
    // a page id is a block id
    let r = t
        .get(&format!("/v1/blocks/{}", demo::architecture_id()))
        .await;
    assert_eq!(r.body["type"], "child_page");
    assert_eq!(r.body["child_page"]["title"], "Architecture");
    assert_eq!(r.body["has_children"], true);
}

#[tokio::test]
async fn pagination_over_250_children() {
    let t = T::new().await;
    let page = t.new_page("Many blocks").await;
    let mut expected = Vec::new();
    for batch in [100, 100, 60] {
        let children: Vec<Value> = (0..batch)
            .map(|i| para(&format!("line {}", expected.len() + i)))
            .collect();
        let r = t
            .patch(
                &format!("/v1/blocks/{page}/children"),
                json!({"children": children}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["object"], "list");
        let results = r.body["results"].as_array().expect("results");
        assert_eq!(results.len(), batch);
        expected.extend(
            results
                .iter()
                .map(|b| b["id"].as_str().expect("id").to_string()),
        );
    }
    let r = t.get(&format!("/v1/blocks/{page}/children")).await;
    assert_eq!(
        r.body["results"].as_array().map(Vec::len),
        Some(100),
        "default page size is 100"
    );
    assert_eq!(r.body["type"], "block");
    assert_eq!(r.body["block"], json!({}));
    let mut pages = 0;
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/blocks/{page}/children?page_size=100&start_cursor={c}"),
            None => format!("/v1/blocks/{page}/children?page_size=100"),
        };
        let r = t.get(&path).await;
        pages += 1;
        for b in r.body["results"].as_array().expect("results") {
            got.push(b["id"].as_str().expect("id").to_string());
        }
        if r.body["has_more"] == false {
            assert_eq!(r.body["next_cursor"], Value::Null);
            break;
        }
        cursor = r.body["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(pages, 3);
    assert_eq!(got, expected);
    let r = t
        .get(&format!("/v1/blocks/{page}/children?page_size=101"))
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .get(&format!("/v1/blocks/{page}/children?start_cursor=garbage"))
        .await;
    assert_error(&r, 400, "validation_error");
}

#[tokio::test]
async fn append_positions() {
    let t = T::new().await;
    let page = t.new_page("Positions").await;
    let r = t
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [para("a"), para("c")]}),
        )
        .await;
    let a = r.body["results"][0]["id"].as_str().expect("a").to_string();
    let c = r.body["results"][1]["id"].as_str().expect("c").to_string();
    let r = t
        .patch(&format!("/v1/blocks/{page}/children"), json!({"children": [para("b")], "position": {"type": "after_block", "after_block": {"id": a.replace('-', "")}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = r.body["results"][0]["id"].as_str().expect("b").to_string();
    let r = t
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [para("start")], "position": {"type": "start"}}),
        )
        .await;
    let s = r.body["results"][0]["id"]
        .as_str()
        .expect("start")
        .to_string();
    let r = t
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [para("end")], "position": {"type": "end"}}),
        )
        .await;
    let e = r.body["results"][0]["id"]
        .as_str()
        .expect("end")
        .to_string();
    let r = t
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [para("old after")], "after": c}),
        )
        .await;
    let oa = r.body["results"][0]["id"]
        .as_str()
        .expect("after")
        .to_string();
    assert_eq!(
        t.child_ids(&page).await,
        vec![s, a.clone(), b, c.clone(), oa, e]
    );
    let r = t
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [para("x")], "after": a, "position": {"type": "end"}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .patch(&format!("/v1/blocks/{page}/children"), json!({"children": [para("x")], "position": {"type": "after_block", "after_block": {"id": demo::block_id(1)}}}))
        .await;
    assert_error(&r, 400, "validation_error");
    // reading children of a block type that cannot have any
    let r = t
        .get(&format!("/v1/blocks/{}/children", demo::block_id(22)))
        .await;
    assert_error(&r, 400, "validation_error");
    // appending under a block that cannot have children
    let r = t
        .patch(
            &format!("/v1/blocks/{}/children", demo::block_id(22)),
            json!({"children": [para("x")]}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
}

#[tokio::test]
async fn update_delete_restore_and_timestamps() {
    let t = T::new().await;
    let page = t.new_page("Edits").await;
    let r = t
        .patch(&format!("/v1/blocks/{page}/children"), json!({"children": [
            {"type": "to_do", "to_do": {"rich_text": [{"text": {"content": "task"}}], "checked": false}},
            {"type": "toggle", "toggle": {"rich_text": [{"text": {"content": "t"}}], "children": [para("inside")]}}
        ]}))
        .await;
    let todo = r.body["results"][0]["id"]
        .as_str()
        .expect("todo")
        .to_string();
    let toggle = r.body["results"][1]["id"]
        .as_str()
        .expect("toggle")
        .to_string();
    assert_eq!(r.body["results"][1]["has_children"], true);
    let before = t.get(&format!("/v1/pages/{page}")).await.body["last_edited_time"].clone();
    t.emu.control().advance_clock(Duration::from_secs(120));
    // partial update keeps omitted fields
    let r = t
        .patch(
            &format!("/v1/blocks/{todo}"),
            json!({"to_do": {"checked": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["to_do"]["checked"], true);
    assert_eq!(r.body["to_do"]["rich_text"][0]["plain_text"], "task");
    let after = t.get(&format!("/v1/pages/{page}")).await.body["last_edited_time"].clone();
    assert_ne!(
        before, after,
        "page last_edited_time moves when a block changes"
    );
    // changing the type is refused
    let r = t
        .patch(
            &format!("/v1/blocks/{todo}"),
            json!({"paragraph": {"rich_text": []}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    // delete -> trash
    let r = t.delete(&format!("/v1/blocks/{toggle}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["in_trash"], true);
    assert_eq!(r.body["archived"], true);
    assert_eq!(t.child_ids(&page).await, vec![todo.clone()]);
    let r = t
        .patch(
            &format!("/v1/blocks/{toggle}"),
            json!({"toggle": {"rich_text": []}}),
        )
        .await;
    assert_error(&r, 404, "object_not_found");
    let r = t
        .patch(&format!("/v1/blocks/{toggle}"), json!({"in_trash": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["in_trash"], false);
    assert_eq!(t.child_ids(&page).await, vec![todo, toggle.clone()]);
    assert_eq!(t.child_ids(&toggle).await.len(), 1);
}

#[tokio::test]
async fn child_pages_move_and_trash() {
    let t = T::new().await;
    let a = t.new_page("Parent A").await;
    let r = t.post("/v1/pages", json!({"parent": {"type": "page_id", "page_id": a}, "properties": {"title": {"title": [{"text": {"content": "Kid"}}]}},
        "children": [para("kid content")]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kid = r.body["id"].as_str().expect("kid").to_string();
    let r = t.get(&format!("/v1/blocks/{a}/children")).await;
    assert_eq!(r.body["results"][0]["type"], "child_page");
    assert_eq!(r.body["results"][0]["id"], kid.as_str());
    assert_eq!(r.body["results"][0]["child_page"]["title"], "Kid");
    assert!(t.child_ids(&demo::wiki_id()).await.contains(&a));
    // move to Team Home
    let r = t
        .post(
            &format!("/v1/pages/{kid}/move"),
            json!({"parent": {"type": "page_id", "page_id": demo::team_home_id()}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parent"]["page_id"], demo::team_home_id());
    assert!(t.child_ids(&a).await.is_empty());
    assert!(t.child_ids(&demo::team_home_id()).await.contains(&kid));
    // move into a data source
    let r = t
        .post(
            &format!("/v1/pages/{kid}/move"),
            json!({"parent": {"type": "data_source_id", "data_source_id": demo::tasks_ds_id()}}),
        )
        .await;
    assert_eq!(r.body["parent"]["type"], "data_source_id");
    assert_eq!(
        r.body["properties"]["Name"]["title"][0]["plain_text"],
        "Kid"
    );
    // trash a page: it disappears from its parent's children
    let r = t
        .patch(&format!("/v1/pages/{a}"), json!({"in_trash": true}))
        .await;
    assert_eq!(r.body["in_trash"], true);
    assert!(!t.child_ids(&demo::wiki_id()).await.contains(&a));
    let r = t
        .patch(
            &format!("/v1/pages/{a}"),
            json!({"icon": {"type": "emoji", "emoji": "🥨"}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .patch(&format!("/v1/pages/{a}"), json!({"archived": false}))
        .await;
    assert_eq!(r.body["in_trash"], false);
    assert!(t.child_ids(&demo::wiki_id()).await.contains(&a));
    // pages outside data sources only have a title
    let r = t
        .patch(
            &format!("/v1/pages/{a}"),
            json!({"properties": {"Status": {"select": {"name": "x"}}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    // internal integrations need a page or data source parent
    let r = t
        .post(
            "/v1/pages",
            json!({"parent": {"workspace": true}, "properties": {}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t.post("/v1/pages", json!({"properties": {}})).await;
    assert_error(&r, 400, "validation_error");
    // database parent with several data sources is refused, with one it resolves
    let props = json!({"Name": {"title": [{"text": {"content": "Row"}}]}});
    let r = t
        .post(
            "/v1/pages",
            json!({"parent": {"database_id": demo::tracker_db_id()}, "properties": props}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .post(
            "/v1/pages",
            json!({"parent": {"database_id": demo::tasks_db_id()}, "properties": props}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parent"]["data_source_id"], demo::tasks_ds_id());
    assert_eq!(
        r.body["properties"]["Task ID"]["unique_id"]["prefix"],
        "TASK"
    );
    assert_eq!(
        r.body["properties"]["Status"]["status"]["name"],
        "Not started"
    );
}

async fn query(t: &T, body: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut body = body;
    loop {
        let r = t
            .post(
                &format!("/v1/data_sources/{}/query", demo::tasks_ds_id()),
                body.clone(),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        out.extend(
            r.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .cloned(),
        );
        if r.body["has_more"] != true {
            break;
        }
        body["start_cursor"] = r.body["next_cursor"].clone();
    }
    out
}

fn names(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            r["properties"]["Name"]["title"][0]["plain_text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn query_filters_and_sorts() {
    let t = T::new().await;
    let all = query(&t, json!({"page_size": 10})).await;
    assert_eq!(all.len(), demo::TASK_ROWS as usize);
    let done = query(
        &t,
        json!({"filter": {"property": "Done", "checkbox": {"equals": true}}}),
    )
    .await;
    assert!(!done.is_empty());
    assert!(done
        .iter()
        .all(|r| r["properties"]["Done"]["checkbox"] == true));
    let expected_done = all
        .iter()
        .filter(|r| r["properties"]["Done"]["checkbox"] == true)
        .count();
    assert_eq!(done.len(), expected_done);
    let high = query(
        &t,
        json!({"filter": {"property": "Priority", "select": {"equals": "High"}}}),
    )
    .await;
    assert!(
        !high.is_empty()
            && high
                .iter()
                .all(|r| r["properties"]["Priority"]["select"]["name"] == "High")
    );
    let st = query(
        &t,
        json!({"filter": {"property": "Status", "status": {"equals": "Done"}}}),
    )
    .await;
    assert!(
        !st.is_empty()
            && st
                .iter()
                .all(|r| r["properties"]["Status"]["status"]["name"] == "Done")
    );
    let docs = query(
        &t,
        json!({"filter": {"property": "Tags", "multi_select": {"contains": "docs"}}}),
    )
    .await;
    assert!(!docs.is_empty());
    assert!(docs.iter().all(|r| r["properties"]["Tags"]["multi_select"]
        .as_array()
        .is_some_and(|a| a.iter().any(|o| o["name"] == "docs"))));
    let big = query(
        &t,
        json!({"filter": {"property": "Estimate", "number": {"greater_than": 10}}}),
    )
    .await;
    assert!(
        !big.is_empty()
            && big.iter().all(|r| r["properties"]["Estimate"]["number"]
                .as_f64()
                .is_some_and(|n| n > 10.0))
    );
    let titled = query(
        &t,
        json!({"filter": {"property": "Name", "title": {"contains": "docs:"}}}),
    )
    .await;
    assert_eq!(names(&titled), vec!["Docs: README", "Docs: man page"]);
    let notes = query(
        &t,
        json!({"filter": {"property": "Notes", "rich_text": {"contains": "task 3."}}}),
    )
    .await;
    assert_eq!(notes.len(), 1);
    let dated = query(
        &t,
        json!({"filter": {"property": "Due", "date": {"on_or_after": "2025-07-10"}}}),
    )
    .await;
    assert!(
        !dated.is_empty()
            && dated.iter().all(|r| r["properties"]["Due"]["date"]["start"]
                .as_str()
                .is_some_and(|d| d >= "2025-07-10"))
    );
    let both = query(&t, json!({"filter": {"and": [
        {"property": "Done", "checkbox": {"equals": true}},
        {"or": [{"property": "Priority", "select": {"equals": "High"}}, {"property": "Priority", "select": {"equals": "Low"}}]}
    ]}})).await;
    assert!(both
        .iter()
        .all(|r| r["properties"]["Done"]["checkbox"] == true));
    let sorted = query(&t, json!({"sorts": [{"property": "Estimate", "direction": "descending"}, {"timestamp": "created_time", "direction": "ascending"}]})).await;
    let est: Vec<f64> = sorted
        .iter()
        .map(|r| {
            r["properties"]["Estimate"]["number"]
                .as_f64()
                .unwrap_or(0.0)
        })
        .collect();
    assert!(est.windows(2).all(|w| w[0] >= w[1]), "{est:?}");
    let r = t
        .post(
            &format!("/v1/data_sources/{}/query", demo::tasks_ds_id()),
            json!({"filter": {"property": "Nope", "checkbox": {"equals": true}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .post(
            &format!("/v1/data_sources/{}/query", demo::tasks_ds_id()),
            json!({"filter": {"property": "Done", "number": {"equals": 1}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    // select options are created on write, status options must exist
    let row = demo::task_row_id(1);
    // formulas of the form prop("X") * k are computed live
    let r = t
        .patch(
            &format!("/v1/pages/{row}"),
            json!({"properties": {"Estimate": {"number": 21}}}),
        )
        .await;
    assert_eq!(
        r.body["properties"]["Score"]["formula"],
        json!({"type": "number", "number": 42})
    );
    let r = t
        .patch(
            &format!("/v1/pages/{row}"),
            json!({"properties": {"Priority": {"select": {"name": "Urgent"}}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ds = t
        .get(&format!("/v1/data_sources/{}", demo::tasks_ds_id()))
        .await;
    assert!(ds.body["properties"]["Priority"]["select"]["options"]
        .as_array()
        .is_some_and(|a| a.iter().any(|o| o["name"] == "Urgent")));
    let r = t
        .patch(
            &format!("/v1/pages/{row}"),
            json!({"properties": {"Status": {"status": {"name": "Blocked"}}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .patch(
            &format!("/v1/pages/{row}"),
            json!({"properties": {"Created": {"created_time": "2025-01-01T00:00:00Z"}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
}

#[tokio::test]
async fn search_filter_and_sort() {
    let t = T::new().await;
    let r = t
        .post(
            "/v1/search",
            json!({"query": "meeting", "filter": {"property": "object", "value": "page"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["results"].as_array().map(Vec::len), Some(2));
    let r = t
        .post(
            "/v1/search",
            json!({"filter": {"property": "object", "value": "data_source"}}),
        )
        .await;
    let titles: BTreeSet<String> = r.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|d| {
            d["title"][0]["plain_text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        titles,
        ["Bugs", "Features", "Tasks"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert!(r.body["results"][0]["properties"].is_object());
    let asc = t.post("/v1/search", json!({"sort": {"timestamp": "last_edited_time", "direction": "ascending"}, "page_size": 100})).await;
    let times: Vec<String> = asc.body["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|o| {
            o["last_edited_time"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let r = t
        .post(
            "/v1/search",
            json!({"filter": {"property": "object", "value": "database"}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t.post("/v1/search", json!({"page_size": 5})).await;
    assert_eq!(r.body["has_more"], true);
    let r2 = t
        .post(
            "/v1/search",
            json!({"page_size": 5, "start_cursor": r.body["next_cursor"]}),
        )
        .await;
    assert_ne!(r.body["results"][0]["id"], r2.body["results"][0]["id"]);
}

#[tokio::test]
async fn request_limits() {
    let t = T::new().await;
    let page = t.new_page("Limits").await;
    let path = format!("/v1/blocks/{page}/children");
    let expect_limit = |r: Resp, needle: &str| {
        assert_error(&r, 400, "validation_error");
        let m = r.body["message"].as_str().unwrap_or_default().to_string();
        assert!(
            m.contains(needle),
            "message {m:?} should mention {needle:?}"
        );
    };
    let many: Vec<Value> = (0..101).map(|i| para(&i.to_string())).collect();
    expect_limit(t.patch(&path, json!({"children": many})).await, "100");
    // Two levels of nesting below the appended blocks; a third is refused.
    let deep = json!({"children": [{"type": "toggle", "toggle": {"rich_text": [], "children": [
        {"type": "toggle", "toggle": {"rich_text": [], "children": [
            {"type": "toggle", "toggle": {"rich_text": [], "children": [para("too deep")]}}]}}]}}]});
    expect_limit(t.patch(&path, deep).await, "nesting");
    let two_levels = json!({"children": [{"type": "toggle", "toggle": {"rich_text": [], "children": [
        {"type": "toggle", "toggle": {"rich_text": [], "children": [para("ok")]}}]}}]});
    assert_eq!(t.patch(&path, two_levels).await.status, 200);
    expect_limit(
        t.patch(&path, json!({"children": [para(&"x".repeat(2001))]}))
            .await,
        "2000",
    );
    let long_link = json!({"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "l", "link": {"url": format!("https://e.com/{}", "a".repeat(2000))}}}]}});
    expect_limit(
        t.patch(&path, json!({"children": [long_link]})).await,
        "2000",
    );
    let eq = json!({"type": "equation", "equation": {"expression": "x".repeat(1001)}});
    expect_limit(t.patch(&path, json!({"children": [eq]})).await, "1000");
    let rt: Vec<Value> = (0..101)
        .map(|_| json!({"text": {"content": "a"}}))
        .collect();
    expect_limit(
        t.patch(
            &path,
            json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": rt}}]}),
        )
        .await,
        "100",
    );
    let thousand: Vec<Value> = (0..100)
        .map(|_| json!({"type": "toggle", "toggle": {"rich_text": [], "children": (0..10).map(|_| para("b")).collect::<Vec<_>>()}}))
        .collect();
    expect_limit(t.patch(&path, json!({"children": thousand})).await, "1000");
    let big: Vec<Value> = (0..100).map(|_| json!({"type": "paragraph", "paragraph": {"rich_text": (0..3).map(|_| json!({"text": {"content": "z".repeat(1900)}})).collect::<Vec<_>>()}})).collect();
    expect_limit(t.patch(&path, json!({"children": big})).await, "500");
    for ty in [
        "link_preview",
        "template",
        "unsupported",
        "child_page",
        "child_database",
    ] {
        let body = json!({"children": [{"type": ty, ty: {"url": "https://x.com", "rich_text": [], "title": "x"}}]});
        let r = t.patch(&path, body).await;
        assert_error(&r, 400, "validation_error");
    }
    // synced duplicate must reference an original
    let dup = json!({"type": "synced_block", "synced_block": {"synced_from": {"block_id": demo::block_id(38)}}});
    expect_limit(t.patch(&path, json!({"children": [dup]})).await, "original");
    let ok_dup = json!({"type": "synced_block", "synced_block": {"synced_from": {"block_id": demo::block_id(37)}}});
    let r = t.patch(&path, json!({"children": [ok_dup]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][0]["has_children"], true);
    let bad_table = json!({"type": "table", "table": {"table_width": 2, "children": [
        {"type": "table_row", "table_row": {"cells": [[{"text": {"content": "a"}}]]}}]}});
    expect_limit(
        t.patch(&path, json!({"children": [bad_table]})).await,
        "table_width",
    );
    let no_rows = json!({"type": "table", "table": {"table_width": 1, "children": []}});
    expect_limit(
        t.patch(&path, json!({"children": [no_rows]})).await,
        "at least one table_row",
    );
    let empty_column = json!({"type": "column_list", "column_list": {"children": [
        {"type": "column", "column": {"children": [para("x")]}},
        {"type": "column", "column": {"children": []}}]}});
    expect_limit(
        t.patch(&path, json!({"children": [empty_column]})).await,
        "at least one block",
    );
    let one_col = json!({"type": "column_list", "column_list": {"children": [{"type": "column", "column": {"children": [para("x")]}}]}});
    expect_limit(
        t.patch(&path, json!({"children": [one_col]})).await,
        "2 columns",
    );
    let bad_lang = json!({"type": "code", "code": {"rich_text": [], "language": "klingon"}});
    assert_error(
        &t.patch(&path, json!({"children": [bad_lang]})).await,
        400,
        "validation_error",
    );
    let unknown_key = json!({"type": "paragraph", "paragraph": {"rich_text": [], "colour": "red"}});
    expect_limit(
        t.patch(&path, json!({"children": [unknown_key]})).await,
        "colour",
    );
    // create page children obey the same limits
    let many: Vec<Value> = (0..101).map(|i| para(&i.to_string())).collect();
    let r = t.post("/v1/pages", json!({"parent": {"page_id": page}, "properties": {"title": {"title": []}}, "children": many})).await;
    assert_error(&r, 400, "validation_error");
    // property limits
    let row = demo::task_row_id(2);
    let rp = format!("/v1/pages/{row}");
    expect_limit(
        t.patch(
            &rp,
            json!({"properties": {"Link": {"url": format!("https://e.com/{}", "a".repeat(2000))}}}),
        )
        .await,
        "2000",
    );
    expect_limit(
        t.patch(
            &rp,
            json!({"properties": {"Contact": {"email": format!("{}@e.com", "a".repeat(200))}}}),
        )
        .await,
        "200",
    );
    expect_limit(
        t.patch(
            &rp,
            json!({"properties": {"Phone": {"phone_number": "1".repeat(201)}}}),
        )
        .await,
        "200",
    );
    let opts: Vec<Value> = (0..101).map(|i| json!({"name": format!("o{i}")})).collect();
    expect_limit(
        t.patch(&rp, json!({"properties": {"Tags": {"multi_select": opts}}}))
            .await,
        "100",
    );
    let rels: Vec<Value> = (0..101)
        .map(|_| json!({"id": demo::task_row_id(1)}))
        .collect();
    expect_limit(
        t.patch(
            &rp,
            json!({"properties": {"Blocked by": {"relation": rels}}}),
        )
        .await,
        "100",
    );
    expect_limit(t.patch(&rp, json!({"properties": {"Notes": {"rich_text": [{"text": {"content": "n".repeat(2001)}}]}}})).await, "2000");
    assert_error(
        &t.patch(&rp, json!({"properties": {"Link": {"url": ""}}}))
            .await,
        400,
        "validation_error",
    );
    assert_eq!(
        t.patch(&rp, json!({"properties": {"Link": {"url": null}}}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rate_limit_returns_429_with_retry_after() {
    let cfg = EmulatorConfig {
        rate: Some(1.0),
        burst: 2,
        ..EmulatorConfig::default()
    };
    let t = T::with(cfg).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = t.get("/v1/users/me").await;
        codes.push(r.status);
        if r.status == 429 {
            assert_eq!(r.body["code"], "rate_limited");
            let ra = r
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .expect("Retry-After");
            assert!(
                ra.parse::<u64>().is_ok_and(|n| n >= 1),
                "integer seconds: {ra}"
            );
        }
    }
    assert_eq!(&codes[..2], &[200, 200]);
    assert!(codes[2..].contains(&429), "{codes:?}");
    // control routes are not rate limited or counted
    let r = t
        .send(
            t.http
                .get(t.url("/_emulator/stats"))
                .bearer_auth(t.emu.token()),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["calls"]["GET /v1/users/me"], 4);
}

#[tokio::test]
async fn faults_do_not_apply_changes() {
    let t = T::new().await;
    let page = t.new_page("Faults").await;
    let ctl = t.emu.control();
    ctl.set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 1.0,
        latency_ms: 0,
    });
    for _ in 0..5 {
        let r = t
            .patch(
                &format!("/v1/blocks/{page}/children"),
                json!({"children": [para("never")]}),
            )
            .await;
        assert!([500, 502, 503, 504].contains(&r.status), "{}", r.status);
        let code = r.body["code"].as_str().unwrap_or_default().to_string();
        assert!(
            [
                "internal_server_error",
                "bad_gateway",
                "service_unavailable",
                "gateway_timeout"
            ]
            .contains(&code.as_str()),
            "{code}"
        );
    }
    ctl.set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.0,
        latency_ms: 0,
    });
    assert!(t.child_ids(&page).await.is_empty());
    assert!(ctl.calls("PATCH /v1/blocks/{id}/children") >= 5);
    // latency
    ctl.set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.0,
        latency_ms: 150,
    });
    let start = std::time::Instant::now();
    t.get("/v1/users/me").await;
    assert!(start.elapsed() >= Duration::from_millis(150));
}

async fn upload_single(t: &T, name: &str, mime: &str, bytes: Vec<u8>) -> String {
    let r = t.post("/v1/file_uploads", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert!(r.body["upload_url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/send")));
    let id = r.body["id"].as_str().expect("id").to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(mime)
            .expect("mime"),
    );
    let r = t
        .send(
            t.http
                .post(t.url(&format!("/v1/file_uploads/{id}/send")))
                .bearer_auth(t.emu.token())
                .header("Notion-Version", "2025-09-03")
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["filename"], name);
    id
}

#[tokio::test]
async fn file_uploads_single_and_multi_part() {
    let t = T::new().await;
    let page = t.new_page("Uploads").await;
    let png = demo_png();
    let up = upload_single(&t, "pic.png", "image/png", png.clone()).await;
    let r = t
        .patch(&format!("/v1/blocks/{page}/children"), json!({"children": [{"type": "image", "image": {"type": "file_upload", "file_upload": {"id": up}}}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let img = &r.body["results"][0]["image"];
    assert_eq!(img["type"], "file");
    let url = img["file"]["url"].as_str().expect("url").to_string();
    assert!(img["file"]["expiry_time"].is_string());
    assert_eq!(
        t.http
            .get(&url)
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes")
            .to_vec(),
        png
    );
    let r = t.get(&format!("/v1/file_uploads/{up}")).await;
    assert_eq!(
        r.body["expiry_time"],
        Value::Null,
        "attached uploads have no expiry"
    );
    // a text file cannot go into an image block
    let txt = upload_single(&t, "a.txt", "text/plain", b"hello".to_vec()).await;
    let r = t
        .patch(&format!("/v1/blocks/{page}/children"), json!({"children": [{"type": "image", "image": {"type": "file_upload", "file_upload": {"id": txt}}}]}))
        .await;
    assert_error(&r, 400, "validation_error");
    // a pending upload cannot be attached
    let pending = t
        .post("/v1/file_uploads", json!({"filename": "x.pdf"}))
        .await
        .body["id"]
        .clone();
    let r = t.patch(&format!("/v1/blocks/{page}/children"), json!({"children": [{"type": "pdf", "pdf": {"type": "file_upload", "file_upload": {"id": pending}}}]})).await;
    assert_error(&r, 400, "validation_error");
    // multi part: 5 MiB + small tail
    let r = t
        .post(
            "/v1/file_uploads",
            json!({"mode": "multi_part", "number_of_parts": 2, "filename": "big.txt"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["complete_url"].is_string());
    let id = r.body["id"].as_str().expect("id").to_string();
    let send_part = |n: u32, data: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(data)
                    .file_name("big.txt")
                    .mime_str("text/plain")
                    .expect("mime"),
            )
            .text("part_number", n.to_string());
        t.http
            .post(t.url(&format!("/v1/file_uploads/{id}/send")))
            .bearer_auth(t.emu.token())
            .header("Notion-Version", "2025-09-03")
            .multipart(form)
    };
    let r = t.send(send_part(1, vec![b'a'; 1024])).await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .post(&format!("/v1/file_uploads/{id}/complete"), json!({}))
        .await;
    assert_error(&r, 400, "validation_error");
    let first = vec![b'a'; 5 * 1024 * 1024];
    assert_eq!(t.send(send_part(2, b"tail".to_vec())).await.status, 200);
    assert_eq!(t.send(send_part(1, first)).await.status, 200);
    let r = t
        .post(&format!("/v1/file_uploads/{id}/complete"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["content_length"], 5 * 1024 * 1024 + 4);
    let r = t.patch(&format!("/v1/blocks/{page}/children"), json!({"children": [{"type": "file", "file": {"type": "file_upload", "file_upload": {"id": id}}}]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][0]["file"]["name"], "big.txt");
    let url = r.body["results"][0]["file"]["file"]["url"]
        .as_str()
        .expect("url")
        .to_string();
    let got = t
        .http
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.len(), 5 * 1024 * 1024 + 4);
    assert!(got.ends_with(b"tail"));
    // files property and listing
    let r = t.patch(&format!("/v1/pages/{}", demo::task_row_id(3)), json!({"properties": {"Attachments": {"files": [{"type": "file_upload", "file_upload": {"id": up}, "name": "logo.png"}]}}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["properties"]["Attachments"]["files"][0]["type"],
        "file"
    );
    let r = t.get("/v1/file_uploads").await;
    assert_eq!(r.body["type"], "file_upload");
    assert_eq!(r.body["results"].as_array().map(Vec::len), Some(4));
    assert_eq!(r.body["results"][0]["id"], id.as_str(), "newest first");
    let r = t
        .post(
            "/v1/file_uploads",
            json!({"mode": "external_url", "external_url": "https://e.com/a.png"}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    // the workspace upload limit is advertised and enforced
    t.emu.control().set_max_upload_size(1000);
    let me = t.get("/v1/users/me").await;
    assert_eq!(
        me.body["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"],
        1000
    );
    let r = t
        .post("/v1/file_uploads", json!({"filename": "big.txt"}))
        .await;
    let big = r.body["id"].as_str().expect("id").to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![b'x'; 2000])
            .file_name("big.txt")
            .mime_str("text/plain")
            .expect("mime"),
    );
    let r = t
        .send(
            t.http
                .post(t.url(&format!("/v1/file_uploads/{big}/send")))
                .bearer_auth(t.emu.token())
                .header("Notion-Version", "2025-09-03")
                .multipart(form),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    assert!(r.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("1000"));
}

#[tokio::test]
async fn hosted_file_urls_expire() {
    let t = T::new().await;
    let image = demo::block_id(27);
    let r = t.get(&format!("/v1/blocks/{image}")).await;
    assert_eq!(r.body["image"]["type"], "file");
    let url1 = r.body["image"]["file"]["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert!(url1.starts_with(&t.emu.base_url()));
    let resp = t.http.get(&url1).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.expect("bytes").to_vec(), demo_png());
    let url2 = t.get(&format!("/v1/blocks/{image}")).await.body["image"]["file"]["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_ne!(url1, url2, "each read hands out a fresh URL");
    t.emu.control().advance_clock(Duration::from_secs(3601));
    assert_eq!(
        t.http
            .get(&url1)
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        403
    );
    let url3 = t.get(&format!("/v1/blocks/{image}")).await.body["image"]["file"]["url"]
        .as_str()
        .expect("url")
        .to_string();
    assert_eq!(
        t.http
            .get(&url3)
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        200
    );
    // pending uploads expire after an hour
    let up = t.post("/v1/file_uploads", json!({})).await.body["id"]
        .as_str()
        .expect("id")
        .to_string();
    t.emu.control().advance_clock(Duration::from_secs(3601));
    assert_eq!(
        t.get(&format!("/v1/file_uploads/{up}")).await.body["status"],
        "expired"
    );
}

#[tokio::test]
async fn remote_edits_and_stats() {
    let t = T::new().await;
    let ctl = t.emu.control();
    ctl.reset_stats();
    let marker = demo::block_id(100);
    ctl.set_block_text(&marker, "changed remotely")
        .expect("edit");
    let r = t.get(&format!("/v1/blocks/{marker}")).await;
    assert_eq!(
        r.body["paragraph"]["rich_text"][0]["plain_text"],
        "changed remotely"
    );
    assert_eq!(r.body["last_edited_by"]["id"], demo::ada_id());
    ctl.rename_page(&demo::architecture_id(), "Architecture v2")
        .expect("rename");
    let r = t
        .get(&format!("/v1/pages/{}", demo::architecture_id()))
        .await;
    assert_eq!(
        r.body["properties"]["title"]["title"][0]["plain_text"],
        "Architecture v2"
    );
    let ids = ctl
        .append_blocks(&demo::storage_id(), json!([para("remote para")]))
        .expect("append");
    assert_eq!(t.child_ids(&demo::storage_id()).await.last(), ids.last());
    ctl.delete_block(&ids[0]).expect("delete");
    assert!(!t.child_ids(&demo::storage_id()).await.contains(&ids[0]));
    ctl.set_property(&demo::task_row_id(1), "Done", json!({"checkbox": true}))
        .expect("prop");
    assert_eq!(
        t.get(&format!("/v1/pages/{}", demo::task_row_id(1)))
            .await
            .body["properties"]["Done"]["checkbox"],
        true
    );
    assert_eq!(ctl.plain_text(&marker).as_deref(), Some("changed remotely"));
    assert_eq!(ctl.pages_titled("Meeting Notes").len(), 2);
    assert_eq!(
        ctl.rows(&demo::tasks_ds_id()).len(),
        demo::TASK_ROWS as usize
    );
    let stats = ctl.stats();
    assert_eq!(stats.get("GET /v1/blocks/{id}/children"), Some(&2));
    assert_eq!(stats.get("GET /v1/blocks/{id}"), Some(&1));
    assert_eq!(stats.get("GET /v1/pages/{id}"), Some(&2));
    // over HTTP: same token, no Notion-Version
    let r = t
        .send(
            t.http
                .post(t.url(&format!(
                    "/_emulator/edit/pages/{}/title",
                    demo::meeting_notes_1_id()
                )))
                .bearer_auth(t.emu.token())
                .json(&json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ctl.page_json(&demo::meeting_notes_1_id()).expect("page")["properties"]["title"]["title"]
            [0]["plain_text"],
        "Renamed"
    );
    let r = t
        .send(
            t.http
                .post(t.url("/_emulator/stats/reset"))
                .bearer_auth(t.emu.token()),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(ctl.total_calls(), 0);
    let r = t.send(t.http.get(t.url("/_emulator/stats"))).await;
    assert_eq!(r.status, 401);
    let r = t
        .send(
            t.http
                .post(t.url("/_emulator/limits"))
                .bearer_auth(t.emu.token())
                .json(&json!({"max_file_upload_size_in_bytes": 4096, "file_url_ttl_seconds": 5})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        t.get("/v1/users/me").await.body["bot"]["workspace_limits"]
            ["max_file_upload_size_in_bytes"],
        4096
    );
    let r = t
        .send(
            t.http
                .post(t.url("/_emulator/clock/advance"))
                .bearer_auth(t.emu.token())
                .json(&json!({"seconds": 60})),
        )
        .await;
    assert_eq!(r.status, 200);
    let ctl_post = |path: &str, body: Value| {
        t.http
            .post(t.url(path))
            .bearer_auth(t.emu.token())
            .json(&body)
    };
    let r = t
        .send(ctl_post(
            &format!("/_emulator/edit/blocks/{}/children", demo::deep_dive_id()),
            json!({"children": [para("via http")]}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_id = r.body["ids"][0].as_str().expect("id").to_string();
    let r = t
        .send(
            t.http
                .get(t.url(&format!("/_emulator/objects/{new_id}")))
                .bearer_auth(t.emu.token()),
        )
        .await;
    assert_eq!(
        r.body["paragraph"]["rich_text"][0]["plain_text"],
        "via http"
    );
    let r = t
        .send(
            t.http
                .get(t.url(&format!("/_emulator/children/{}", demo::deep_dive_id())))
                .bearer_auth(t.emu.token()),
        )
        .await;
    assert_eq!(
        r.body["ids"].as_array().and_then(|a| a.last()),
        Some(&json!(new_id))
    );
    let r = t
        .send(ctl_post("/_emulator/faults", json!({"fault_rate": 1.0})))
        .await;
    assert_eq!(r.body["fault_rate"], 1.0);
    assert!(t.get("/v1/users/me").await.status >= 500);
    let r = t
        .send(ctl_post("/_emulator/faults", json!({"fault_rate": 0.0})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(t.get("/v1/users/me").await.status, 200);
    let r = t
        .send(ctl_post(
            "/_emulator/edit/pages",
            json!({"parent_id": demo::team_home_id(), "title": "Remote page"}),
        ))
        .await;
    let pid = r.body["id"].as_str().expect("id").to_string();
    assert!(t.child_ids(&demo::team_home_id()).await.contains(&pid));
    let r = t
        .send(ctl_post(
            &format!("/_emulator/edit/pages/{}/properties", demo::task_row_id(2)),
            json!({"property": "Estimate", "value": {"number": 5}}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = t
        .send(ctl_post(
            &format!("/_emulator/edit/blocks/{new_id}/text"),
            json!({"text": "edited"}),
        ))
        .await;
    assert_eq!(r.status, 200);
    let r = t
        .send(ctl_post(
            &format!("/_emulator/edit/blocks/{new_id}/delete"),
            json!({}),
        ))
        .await;
    assert_eq!(r.status, 200);
    assert!(!t.child_ids(&demo::deep_dive_id()).await.contains(&new_id));
}

#[tokio::test]
async fn demo_contains_every_block_type() {
    let t = T::new().await;
    let mut types = BTreeSet::new();
    let mut stack = vec![demo::showcase_id()];
    while let Some(id) = stack.pop() {
        let r = t.get(&format!("/v1/blocks/{id}/children")).await;
        for b in r.body["results"].as_array().expect("results") {
            let ty = b["type"].as_str().expect("type").to_string();
            if b["has_children"] == true && ty != "child_page" {
                stack.push(b["id"].as_str().expect("id").to_string());
            }
            types.insert(ty);
        }
    }
    for ty in [
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "toggle",
        "quote",
        "callout",
        "code",
        "equation",
        "divider",
        "table",
        "table_row",
        "column_list",
        "column",
        "image",
        "file",
        "pdf",
        "video",
        "audio",
        "bookmark",
        "embed",
        "link_to_page",
        "synced_block",
        "table_of_contents",
        "breadcrumb",
        "link_preview",
        "template",
        "unsupported",
    ] {
        assert!(types.contains(ty), "missing {ty}");
    }
    let wiki: Vec<String> = t
        .get(&format!("/v1/blocks/{}/children", demo::wiki_id()))
        .await
        .body["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|b| b["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        wiki.contains(&"child_page".to_string()) && wiki.contains(&"child_database".to_string())
    );
    // marker 4 levels deep
    let r = t
        .get(&format!("/v1/blocks/{}/children", demo::deep_dive_id()))
        .await;
    assert!(r.body.to_string().contains(demo::MARKER));
    // databases
    let r = t
        .get(&format!("/v1/databases/{}", demo::tracker_db_id()))
        .await;
    assert_eq!(r.body["data_sources"].as_array().map(Vec::len), Some(2));
    let r = t
        .get(&format!("/v1/data_sources/{}", demo::tasks_ds_id()))
        .await;
    let kinds: BTreeSet<String> = r.body["properties"]
        .as_object()
        .expect("props")
        .values()
        .map(|p| p["type"].as_str().unwrap_or_default().to_string())
        .collect();
    for k in [
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "files",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "formula",
        "relation",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "verification",
    ] {
        assert!(kinds.contains(k), "missing property type {k}");
    }
    assert_eq!(r.body["parent"]["database_id"], demo::tasks_db_id());
    // rich text features
    let r = t.get(&format!("/v1/blocks/{}", demo::block_id(5))).await;
    let mentions: BTreeSet<String> = r.body["paragraph"]["rich_text"]
        .as_array()
        .expect("rt")
        .iter()
        .filter_map(|x| x["mention"]["type"].as_str().map(str::to_string))
        .collect();
    assert_eq!(mentions.len(), 5, "{mentions:?}");
    let r = t
        .get(&format!("/v1/pages/{}", demo::empty_title_id()))
        .await;
    assert_eq!(r.body["properties"]["title"]["title"], json!([]));
}

#[tokio::test]
async fn property_items_and_reference_caps() {
    let t = T::new().await;
    let targets: Vec<Value> = (1..=22)
        .map(|n| json!({"id": demo::task_row_id(n)}))
        .collect();
    let mut more = targets.clone();
    more.extend((1..=8).map(|n| json!({"id": demo::task_row_id(n)})));
    let rt: Vec<Value> = (0..30)
        .map(|i| json!({"text": {"content": format!("part{i} ")}}))
        .collect();
    let row = demo::task_row_id(5);
    let r = t
        .patch(
            &format!("/v1/pages/{row}"),
            json!({"properties": {"Blocked by": {"relation": more}, "Notes": {"rich_text": rt}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["properties"]["Blocked by"]["relation"]
            .as_array()
            .map(Vec::len),
        Some(25)
    );
    assert_eq!(r.body["properties"]["Blocked by"]["has_more"], true);
    let rel_id = r.body["properties"]["Blocked by"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = t
        .get(&format!("/v1/pages/{row}/properties/{rel_id}?page_size=20"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["type"], "property_item");
    assert_eq!(r.body["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(r.body["results"][0]["object"], "property_item");
    assert_eq!(r.body["property_item"]["type"], "relation");
    let next = r.body["next_cursor"].as_str().expect("cursor").to_string();
    let r2 = t
        .get(&format!(
            "/v1/pages/{row}/properties/{rel_id}?page_size=20&start_cursor={next}"
        ))
        .await;
    assert_eq!(r2.body["results"].as_array().map(Vec::len), Some(10));
    assert_eq!(r2.body["has_more"], false);
    let r = t.get(&format!("/v1/pages/{row}/properties/title")).await;
    assert_eq!(r.body["results"][0]["title"]["plain_text"], "Rate limiter");
    let r = t.get(&format!("/v1/pages/{row}/properties/est%7B")).await;
    assert_eq!(r.body["object"], "property_item");
    assert_eq!(r.body["type"], "number");
    let r = t.get(&format!("/v1/pages/{row}/properties/nope")).await;
    assert_error(&r, 404, "object_not_found");
}

#[tokio::test]
async fn comments_and_data_source_admin() {
    let t = T::new().await;
    // databases move with PATCH parent; their child_database block follows
    let r = t
        .patch(
            &format!("/v1/databases/{}", demo::tracker_db_id()),
            json!({"parent": {"type": "page_id", "page_id": demo::team_home_id()}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parent"]["page_id"], demo::team_home_id());
    assert!(!t
        .child_ids(&demo::wiki_id())
        .await
        .contains(&demo::tracker_db_id()));
    assert!(t
        .child_ids(&demo::team_home_id())
        .await
        .contains(&demo::tracker_db_id()));
    let r = t
        .get(&format!("/v1/data_sources/{}", demo::bugs_ds_id()))
        .await;
    assert_eq!(r.body["database_parent"]["page_id"], demo::team_home_id());
    let r = t
        .get(&format!("/v1/comments?block_id={}", demo::wiki_id()))
        .await;
    assert_eq!(r.body["type"], "comment");
    assert_eq!(r.body["results"].as_array().map(Vec::len), Some(1));
    let disc = r.body["results"][0]["discussion_id"].clone();
    let r = t
        .post(
            "/v1/comments",
            json!({"discussion_id": disc, "rich_text": [{"text": {"content": "Yes"}}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parent"]["page_id"], demo::wiki_id());
    let cid = r.body["id"].as_str().expect("id").to_string();
    let r = t.get(&format!("/v1/comments/{cid}")).await;
    assert_eq!(r.body["rich_text"][0]["plain_text"], "Yes");
    let r = t
        .get(&format!(
            "/v1/data_sources/{}/templates",
            demo::tasks_ds_id()
        ))
        .await;
    assert_eq!(r.body["templates"], json!([]));
    let r = t
        .post(
            "/v1/comments",
            json!({"parent": {"page_id": demo::wiki_id()}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t.post("/v1/comments", json!({"parent": {"page_id": demo::team_home_id()}, "rich_text": [{"text": {"content": "Hi"}}]})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        t.get(&format!("/v1/comments?block_id={}", demo::wiki_id()))
            .await
            .body["results"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // data source create / update
    let r = t
        .post("/v1/data_sources", json!({"parent": {"type": "database_id", "database_id": demo::tracker_db_id()}, "title": [{"text": {"content": "Chores"}}],
            "properties": {"Task": {"title": {}}, "Effort": {"number": {}}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ds = r.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        t.get(&format!("/v1/databases/{}", demo::tracker_db_id()))
            .await
            .body["data_sources"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let r = t
        .patch(
            &format!("/v1/data_sources/{ds}"),
            json!({"properties": {"Effort": {"name": "Points"}, "Done": {"checkbox": {}}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["properties"]["Points"].is_object()
            && r.body["properties"]["Done"]["type"] == "checkbox"
    );
    let r = t
        .patch(
            &format!("/v1/data_sources/{ds}"),
            json!({"properties": {"Done": null}}),
        )
        .await;
    assert!(r.body["properties"].get("Done").is_none());
    let r = t
        .patch(
            &format!("/v1/data_sources/{ds}"),
            json!({"properties": {"S": {"status": {}}}}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let tasks = format!("/v1/data_sources/{}", demo::tasks_ds_id());
    let r = t
        .patch(
            &tasks,
            json!({"properties": {"Blocked by": {"name": "Depends on"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["properties"]["Depends on"]["relation"]["data_source_id"],
        demo::tasks_ds_id()
    );
    let row = t.get(&format!("/v1/pages/{}", demo::task_row_id(5))).await;
    assert!(
        row.body["properties"]["Depends on"]["relation"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "values follow the renamed property"
    );
    let bug = json!({"properties": {"Depends on": {"relation": [{"id": "5eed0005-de00-4000-8000-000000000064"}]}}});
    let r = t
        .patch(&format!("/v1/pages/{}", demo::task_row_id(2)), bug)
        .await;
    assert_error(&r, 400, "validation_error");
}

#[tokio::test]
async fn multi_part_uploads_need_a_filename_or_a_content_type() {
    let t = T::new().await;
    let r = t
        .post(
            "/v1/file_uploads",
            json!({"mode": "multi_part", "number_of_parts": 2}),
        )
        .await;
    assert_error(&r, 400, "validation_error");
    let r = t
        .post(
            "/v1/file_uploads",
            json!({"mode": "multi_part", "number_of_parts": 2, "content_type": "video/mp4"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["content_type"], "video/mp4");
}
