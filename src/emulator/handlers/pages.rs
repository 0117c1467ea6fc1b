//! `/v1/pages`: create, retrieve, update, move pages and read property items.

use super::*;

pub(super) fn page_or_404<'s>(st: &'s Store, id: &str) -> ApiResult<&'s Page> {
    st.pages
        .get(id)
        .ok_or_else(|| ApiError::not_found("page", id))
}

pub(super) async fn page_get(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let mut st = sh.store();
    let mut v = st
        .render_page(&id)
        .ok_or_else(|| ApiError::not_found("page", &id))?;
    let filter: Vec<String> = query_params(&q)
        .into_iter()
        .filter(|(k, _)| k == "filter_properties" || k == "filter_properties[]")
        .map(|(_, v)| v)
        .collect();
    if !filter.is_empty() {
        filter_properties(&mut v, &filter);
    }
    Ok(finish(&mut st, v))
}

pub(super) fn filter_properties(page: &mut Value, keep: &[String]) {
    if let Some(props) = page.get_mut("properties").and_then(Value::as_object_mut) {
        props.retain(|name, p| {
            let id = p["id"].as_str().unwrap_or_default();
            keep.iter().any(|k| {
                k == name
                    || k == id
                    || crate::emulator::util::percent_decode(k)
                        == crate::emulator::util::percent_decode(id)
            })
        });
    }
}

/// Resolves a `parent` of Create page / Move page into (parent json, container id).
pub(crate) fn resolve_page_parent(
    st: &Store,
    v: &Value,
    path: &str,
) -> ApiResult<(Value, Option<String>)> {
    let m = obj(v, path)?;
    let ty = match m.get("type") {
        Some(t) => string(t, &format!("{path}.type"))?.to_string(),
        None => ["page_id", "data_source_id", "database_id", "workspace"]
            .iter()
            .find(|k| m.contains_key(**k))
            .map(|s| s.to_string())
            .ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.page_id should be defined, instead was `undefined`.")))?,
    };
    check_keys(m, &["type", ty.as_str()], path)?;
    match ty.as_str() {
        "page_id" => {
            let id = body_id(req(m, "page_id", path)?, &format!("{path}.page_id"))?;
            if st.pages.contains_key(&id) {
                return Ok((json!({"type": "page_id", "page_id": id}), Some(id)));
            }
            if let Some(d) = st.databases.get(&id) {
                // single-source databases are tolerated under page_id by Move page
                if d.data_sources.len() == 1 {
                    let ds = d.data_sources[0].clone();
                    return Ok((
                        json!({"type": "data_source_id", "data_source_id": ds, "database_id": id}),
                        None,
                    ));
                }
            }
            Err(ApiError::not_found("page", &id))
        }
        "data_source_id" => {
            let id = body_id(
                req(m, "data_source_id", path)?,
                &format!("{path}.data_source_id"),
            )?;
            let ds = st
                .data_sources
                .get(&id)
                .ok_or_else(|| ApiError::not_found("data source", &id))?;
            Ok((
                json!({"type": "data_source_id", "data_source_id": id, "database_id": ds.database_id}),
                None,
            ))
        }
        "database_id" => {
            let id = body_id(req(m, "database_id", path)?, &format!("{path}.database_id"))?;
            let d = st
                .databases
                .get(&id)
                .ok_or_else(|| ApiError::not_found("database", &id))?;
            let live: Vec<&String> = d
                .data_sources
                .iter()
                .filter(|s| st.data_sources.get(*s).is_some_and(|s| !s.in_trash))
                .collect();
            if live.len() != 1 {
                return Err(ApiError::validation(format!(
                    "Database {id} has {} data sources; use a data_source_id parent instead of database_id.",
                    live.len()
                )));
            }
            Ok((
                json!({"type": "data_source_id", "data_source_id": live[0], "database_id": id}),
                None,
            ))
        }
        // the emulator is an internal integration: no workspace-level pages
        "workspace" => Err(ApiError::validation(
            "A page or data source parent is required: internal integrations cannot create workspace-level pages.",
        )),
        other => Err(ApiError::validation(format!(
            "body failed validation: {path}.type `{other}` is not a valid parent type here."
        ))),
    }
}

pub(super) fn ds_of_parent(parent: &Value) -> Option<String> {
    (parent["type"] == "data_source_id").then(|| {
        parent["data_source_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

pub(super) async fn page_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "properties",
            "children",
            "icon",
            "cover",
            "template",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let (parent, container) = resolve_page_parent(&st, req(&b, "parent", "body")?, "body.parent")?;
    if let Some(c) = &container {
        st.require_live(c)?;
    }
    if let Some(t) = b.get("template") {
        let tm = obj(t, "body.template")?;
        if tm.get("type").and_then(Value::as_str) != Some("none") {
            return Err(ApiError::validation(
                "The data source has no templates; only `{\"type\":\"none\"}` is accepted.",
            ));
        }
    }
    let ds_id = ds_of_parent(&parent);
    let ing = Ingest::new(&st, false);
    let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
    let (values, new_opts) = match b.get("properties") {
        Some(p) => write_props(&ing, ds, p, "body.properties")?,
        None => (Map::new(), Vec::new()),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    let cover = match b.get("cover") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => ing.cover(c, "body.cover")?,
    };
    let children = match b.get("children") {
        Some(c) => ing.blocks(c, "body.children", 0)?,
        None => vec![],
    };
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let id = new_uuid();
    let mut props = values;
    if let Some(ds_id) = &ds_id {
        let ds = st.data_sources.get_mut(ds_id).expect("resolved above");
        add_options(ds, new_opts);
        init_row_props(ds, &mut props);
    }
    st.pages.insert(
        id.clone(),
        Page {
            id: id.clone(),
            parent: parent.clone(),
            props,
            icon,
            cover,
            created: now,
            edited: now,
            created_by: bot.clone(),
            edited_by: bot.clone(),
            in_trash: false,
            is_locked: false,
        },
    );
    st.page_order.push(id.clone());
    let kids: Vec<String> = children
        .into_iter()
        .map(|c| st.create_block_tree(&id, c, &bot, now))
        .collect();
    if !kids.is_empty() {
        st.children.insert(id.clone(), kids);
    }
    if let Some(c) = container {
        st.place_children(&c, std::slice::from_ref(&id), &Position::End);
        st.touch(&c, &bot);
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_page(&id).expect("just created");
    Ok(finish(&mut st, v))
}

/// Fills computed defaults of a new row: unique ids and the default status.
pub(crate) fn init_row_props(ds: &mut DataSource, props: &mut Map<String, Value>) {
    let schema: Vec<Value> = ds.properties.values().cloned().collect();
    for s in schema {
        let pid = s["id"].as_str().unwrap_or_default().to_string();
        match s["type"].as_str() {
            Some("unique_id") => {
                let n = ds.counters.entry(pid.clone()).or_insert(0);
                *n += 1;
                props.insert(pid, json!({"type": "unique_id", "unique_id": {"number": *n, "prefix": s["unique_id"]["prefix"]}}));
            }
            Some("status") if !props.contains_key(&pid) => {
                if let Some(first) = s["status"]["options"].as_array().and_then(|a| a.first()) {
                    props.insert(pid, json!({"type": "status", "status": {"id": first["id"], "name": first["name"], "color": first["color"]}}));
                }
            }
            _ => {}
        }
    }
}

pub(super) async fn page_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "properties",
            "in_trash",
            "archived",
            "icon",
            "cover",
            "is_locked",
            "template",
            "erase_content",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let page = page_or_404(&st, &id)?.clone();
    let trash_flag = page_update_allowed(&st, &id, &b)?;
    let ds_id = ds_of_parent(&page.parent);
    let ing = Ingest::new(&st, false);
    let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
    let (values, new_opts) = match b.get("properties") {
        Some(p) => write_props(&ing, ds, p, "body.properties")?,
        None => (Map::new(), Vec::new()),
    };
    let (icon, cover) = icon_and_cover(&ing, &b)?;
    let locked = match b.get("is_locked") {
        Some(l) => Some(crate::emulator::validate::boolean(l, "body.is_locked")?),
        None => None,
    };
    let erase = match b.get("erase_content") {
        Some(e) => crate::emulator::validate::boolean(e, "body.erase_content")?,
        None => false,
    };
    let attach = ing.attach.take();
    drop(ing);
    if let Some(ds_id) = &ds_id {
        if let Some(ds) = st.data_sources.get_mut(ds_id) {
            add_options(ds, new_opts);
        }
    }
    let bot = st.bot_id.clone();
    let now = st.now();
    {
        let p = st.pages.get_mut(&id).expect("checked above");
        for (k, v) in values {
            p.props.insert(k, v);
        }
        if let Some(i) = icon {
            p.icon = i;
        }
        if let Some(c) = cover {
            p.cover = c;
        }
        if let Some(l) = locked {
            p.is_locked = l;
        }
        if let Some(t) = trash_flag {
            p.in_trash = t;
        }
        p.edited = now;
        p.edited_by = bot.clone();
    }
    if erase {
        for c in st.children.remove(&id).unwrap_or_default() {
            trash_any(&mut st, &c);
        }
    }
    if trash_flag.is_some() {
        if let Some(parent) = parent_ref(&page.parent)
            .filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p))
        {
            st.touch(&parent, &bot);
        }
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_page(&id).expect("exists");
    Ok(finish(&mut st, v))
}

/// Checks that page `id` may be updated (a trashed page only by restoring it; there are
/// no templates to apply); returns the request's trash flag.
fn page_update_allowed(st: &Store, id: &str, b: &Map<String, Value>) -> ApiResult<Option<bool>> {
    let trash_flag = parse_trash_flag(b)?;
    let restoring = trash_flag == Some(false);
    if st.trashed(id) && !restoring {
        return Err(ApiError::validation(format!(
            "Can't edit page on block with an archived ancestor or a page that is archived: {id}. Restore it first with in_trash: false."
        )));
    }
    if b.get("template").is_some() {
        return Err(ApiError::validation(
            "The data source has no templates to apply.",
        ));
    }
    Ok(trash_flag)
}

pub(super) fn trash_any(st: &mut Store, id: &str) {
    if let Some(p) = st.pages.get_mut(id) {
        p.in_trash = true;
    } else if let Some(b) = st.blocks.get_mut(id) {
        b.in_trash = true;
    } else if let Some(d) = st.databases.get_mut(id) {
        d.in_trash = true;
    }
}

pub(super) async fn page_move(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let b = json_body(&body, false)?;
    check_keys(&b, &["parent"], "body")?;
    let mut st = sh.store();
    if st.databases.contains_key(&id) {
        return Err(ApiError::validation("Moving databases is not supported by this endpoint; update the database's parent instead."));
    }
    page_or_404(&st, &id)?;
    let pv = req(&b, "parent", "body")?;
    // Move page takes a page or a data source parent only (no database_id, no workspace).
    let ty = pv.get("type").and_then(Value::as_str).or_else(|| {
        ["page_id", "data_source_id"]
            .into_iter()
            .find(|k| pv.get(*k).is_some())
    });
    if !matches!(ty, Some("page_id" | "data_source_id")) {
        return Err(ApiError::validation(
            "body failed validation. Fix one: body.parent.page_id should be defined, instead was `undefined`. body.parent.data_source_id should be defined, instead was `undefined`.",
        ));
    }
    let (parent, container) = resolve_page_parent(&st, pv, "body.parent")?;
    let bot = st.bot_id.clone();
    move_page_to(&mut st, &id, parent, container, &bot)?;
    let v = st.render_page(&id).expect("exists");
    Ok(finish(&mut st, v))
}

/// Moves page `id` under `parent` (resolved by [`resolve_page_parent`]; `container` is the
/// new parent page, if any) as `who`: refuses cycles and trashed parents, keeps the title
/// (other properties only make sense in the old schema), and marks the page and both
/// parents as edited now.
pub(crate) fn move_page_to(
    st: &mut Store,
    id: &str,
    parent: Value,
    container: Option<String>,
    who: &str,
) -> ApiResult<()> {
    let page = page_or_404(st, id)?.clone();
    if let Some(c) = &container {
        // no cycles: the new parent may not be the page itself or one of its descendants
        let mut cur = Some(c.clone());
        while let Some(x) = cur {
            if x == id {
                return Err(ApiError::validation(
                    "A page cannot be moved into itself or one of its descendants.",
                ));
            }
            cur = st
                .pages
                .get(&x)
                .and_then(|p| parent_ref(&p.parent))
                .or_else(|| st.blocks.get(&x).and_then(|b| parent_ref(&b.parent)));
        }
        st.require_live(c)?;
    }
    if let Some(old) = parent_ref(&page.parent) {
        st.unplace(&old, id);
        if st.pages.contains_key(&old) || st.blocks.contains_key(&old) {
            st.touch(&old, who);
        }
    }
    // keep the title; other properties only make sense in the old schema
    let title = st.page_title(&page);
    let new_ds = ds_of_parent(&parent);
    let mut props = Map::new();
    match &new_ds {
        Some(ds_id) => {
            let ds = st.data_sources.get_mut(ds_id).expect("resolved");
            let tid = ds
                .properties
                .values()
                .find(|p| p["type"] == "title")
                .and_then(|p| p["id"].as_str())
                .unwrap_or("title")
                .to_string();
            props.insert(tid, json!({"type": "title", "title": title}));
            if ds_of_parent(&page.parent).as_deref() == Some(ds_id.as_str()) {
                props = page.props.clone();
            } else {
                init_row_props(ds, &mut props);
            }
        }
        None => {
            props.insert("title".into(), json!({"type": "title", "title": title}));
        }
    }
    let now = st.now();
    {
        let p = st.pages.get_mut(id).expect("exists");
        p.parent = parent;
        p.props = props;
        p.edited = now;
        p.edited_by = who.to_string();
    }
    if let Some(c) = container {
        st.place_children(&c, &[id.to_string()], &Position::End);
        st.touch(&c, who);
    }
    Ok(())
}

pub(super) async fn page_property(
    State(sh): Sh,
    Path((id, prop)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let mut st = sh.store();
    let page = page_or_404(&st, &id)?.clone();
    let rendered = st.render_properties(&page, false);
    let decoded = crate::emulator::util::percent_decode(&prop);
    let found = rendered
        .as_object()
        .and_then(|m| {
            m.values()
                .find(|p| {
                    p["id"] == prop.as_str()
                        || crate::emulator::util::percent_decode(
                            p["id"].as_str().unwrap_or_default(),
                        ) == decoded
                })
                .cloned()
        })
        .ok_or_else(|| ApiError::not_found("property", &prop))?;
    let ty = found["type"].as_str().unwrap_or_default().to_string();
    let pid = found["id"].clone();
    let out = if ["title", "rich_text", "relation", "people"].contains(&ty.as_str()) {
        let items: Vec<Value> = found[&ty].as_array().cloned().unwrap_or_default();
        let start = match cursor {
            None => 0,
            Some(c) => c
                .strip_prefix("pi")
                .and_then(|n| usize::from_str_radix(n, 16).ok())
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    ApiError::validation(format!("start_cursor provided is invalid: {c}"))
                })?,
        };
        let end = (start + size).min(items.len());
        let results: Vec<Value> = items[start..end]
            .iter()
            .map(|it| json!({"object": "property_item", "id": pid, "type": ty, ty.clone(): it}))
            .collect();
        let next = (end < items.len()).then(|| format!("pi{end:08x}"));
        let base = st.files.base_url.clone();
        let next_url = next.as_ref().map(|n| {
            format!(
                "{base}/v1/pages/{id}/properties/{}?start_cursor={n}&page_size={size}",
                pid.as_str().unwrap_or_default()
            )
        });
        let mut m = Map::new();
        m.insert("object".into(), json!("list"));
        m.insert("results".into(), Value::Array(results));
        m.insert("next_cursor".into(), json!(next));
        m.insert("has_more".into(), json!(next.is_some()));
        m.insert("type".into(), json!("property_item"));
        m.insert(
            "property_item".into(),
            json!({"id": pid, "next_url": next_url, "type": ty, ty.clone(): {}}),
        );
        Value::Object(m)
    } else {
        json!({"object": "property_item", "id": pid, "type": ty, ty.clone(): found[&ty]})
    };
    Ok(finish(&mut st, out))
}
