//! `/v1/databases` and `/v1/data_sources`: containers, schemas and queries.

use super::*;

pub(super) async fn database_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "database_id")?;
    let mut st = sh.store();
    let v = st
        .render_database(&id)
        .ok_or_else(|| ApiError::not_found("database", &id))?;
    Ok(finish(&mut st, v))
}

pub(super) async fn database_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "title",
            "description",
            "icon",
            "cover",
            "is_inline",
            "initial_data_source",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let (parent, container) = new_database_parent(&st, &b)?;
    let ing = Ingest::new(&st, false);
    let title = match b.get("title") {
        Some(t) => ing.rich_text(t, "body.title")?,
        None => json!([]),
    };
    let description = match b.get("description") {
        Some(t) => ing.rich_text(t, "body.description")?,
        None => json!([]),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    let cover = match b.get("cover") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => ing.cover(c, "body.cover")?,
    };
    let is_inline = match b.get("is_inline") {
        Some(v) => crate::emulator::validate::boolean(v, "body.is_inline")?,
        None => false,
    };
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let db_id = new_uuid();
    let ds_id = new_uuid();
    let ds = initial_data_source(&st, &b, &ds_id, &db_id, &title, now, &bot)?;
    st.data_sources.insert(ds_id.clone(), ds);
    st.databases.insert(
        db_id.clone(),
        Database {
            id: db_id.clone(),
            parent,
            title,
            description,
            icon,
            cover,
            is_inline,
            in_trash: false,
            is_locked: false,
            data_sources: vec![ds_id],
            created: now,
            edited: now,
            created_by: bot.clone(),
            edited_by: bot.clone(),
        },
    );
    if let Some(c) = container {
        st.place_children(&c, std::slice::from_ref(&db_id), &Position::End);
        st.touch(&c, &bot);
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_database(&db_id).expect("created");
    Ok(finish(&mut st, v))
}

/// The parent of a new database: a live page (internal integrations cannot create
/// workspace-level databases); also returns that page, which lists the database.
fn new_database_parent(st: &Store, b: &Map<String, Value>) -> ApiResult<(Value, Option<String>)> {
    let pm = obj(req(b, "parent", "body")?, "body.parent")?;
    let pty = pm
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(if pm.contains_key("page_id") {
            "page_id"
        } else {
            "workspace"
        });
    check_keys(pm, &["type", pty], "body.parent")?;
    match pty {
        "page_id" => {
            let pid = body_id(req(pm, "page_id", "body.parent")?, "body.parent.page_id")?;
            page_or_404(st, &pid)?;
            st.require_live(&pid)?;
            Ok((json!({"type": "page_id", "page_id": pid}), Some(pid)))
        }
        "workspace" => Err(ApiError::validation(
            "A page parent is required: internal integrations cannot create workspace-level databases.",
        )),
        other => Err(ApiError::validation(format!(
            "body failed validation: body.parent.type `{other}` is not supported for databases."
        ))),
    }
}

/// The data source of a new database, with the schema of `initial_data_source` (by
/// default a single `Name` title property).
fn initial_data_source(
    st: &Store,
    b: &Map<String, Value>,
    id: &str,
    database_id: &str,
    title: &Value,
    now: chrono::DateTime<chrono::Utc>,
    bot: &str,
) -> ApiResult<DataSource> {
    let mut ds = DataSource {
        id: id.to_string(),
        database_id: database_id.to_string(),
        title: title.clone(),
        description: json!([]),
        icon: Value::Null,
        properties: Map::new(),
        in_trash: false,
        created: now,
        edited: now,
        created_by: bot.to_string(),
        edited_by: bot.to_string(),
        counters: Default::default(),
    };
    let init = b
        .get("initial_data_source")
        .map(|v| obj(v, "body.initial_data_source"))
        .transpose()?;
    let default_props = json!({"Name": {"title": {}}});
    let props = match init {
        Some(m) => {
            check_keys(m, &["properties"], "body.initial_data_source")?;
            m.get("properties").unwrap_or(&default_props)
        }
        None => &default_props,
    };
    apply_schema(
        st,
        &mut ds,
        props,
        "body.initial_data_source.properties",
        true,
        false,
    )?;
    Ok(ds)
}

pub(super) async fn database_update(
    State(sh): Sh,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "database_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "title",
            "description",
            "icon",
            "cover",
            "is_inline",
            "in_trash",
            "archived",
            "is_locked",
            "parent",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let (new_parent, trash_flag) = database_update_allowed(&st, &id, &b)?;
    let ing = Ingest::new(&st, false);
    let title = b
        .get("title")
        .map(|t| ing.rich_text(t, "body.title"))
        .transpose()?;
    let description = b
        .get("description")
        .map(|t| ing.rich_text(t, "body.description"))
        .transpose()?;
    let (icon, cover) = icon_and_cover(&ing, &b)?;
    let inline = b
        .get("is_inline")
        .map(|v| crate::emulator::validate::boolean(v, "body.is_inline"))
        .transpose()?;
    let locked = b
        .get("is_locked")
        .map(|v| crate::emulator::validate::boolean(v, "body.is_locked"))
        .transpose()?;
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let d = st.databases.get_mut(&id).expect("checked");
    if let Some(t) = title {
        d.title = t;
    }
    if let Some(t) = description {
        d.description = t;
    }
    if let Some(i) = icon {
        d.icon = i;
    }
    if let Some(c) = cover {
        d.cover = c;
    }
    if let Some(i) = inline {
        d.is_inline = i;
    }
    if let Some(l) = locked {
        d.is_locked = l;
    }
    if let Some(t) = trash_flag {
        d.in_trash = t;
    }
    d.edited = now;
    d.edited_by = bot.clone();
    reparent_database(&mut st, &id, new_parent, &bot);
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_database(&id).expect("exists");
    Ok(finish(&mut st, v))
}

/// Checks that database `id` exists and may be updated (a trashed one only by restoring
/// it); returns the page to move it to, if any, and the request's trash flag.
fn database_update_allowed(
    st: &Store,
    id: &str,
    b: &Map<String, Value>,
) -> ApiResult<(Option<String>, Option<bool>)> {
    if !st.databases.contains_key(id) {
        return Err(ApiError::not_found("database", id));
    }
    let new_parent = match b.get("parent") {
        None => None,
        Some(p) => Some(database_move_target(st, p)?),
    };
    let trash_flag = match b.get("in_trash").or(b.get("archived")) {
        Some(v) => Some(crate::emulator::validate::boolean(v, "body.in_trash")?),
        None => None,
    };
    if st.trashed(id) && trash_flag != Some(false) {
        return Err(ApiError::validation(format!(
            "Can't edit a database that is archived: {id}."
        )));
    }
    Ok((new_parent, trash_flag))
}

/// The page a database update moves the database to (`parent`): internal integrations
/// can only use a live page.
fn database_move_target(st: &Store, p: &Value) -> ApiResult<String> {
    let pm = obj(p, "body.parent")?;
    let pty = pm.get("type").and_then(Value::as_str).unwrap_or("page_id");
    check_keys(pm, &["type", pty], "body.parent")?;
    if pty != "page_id" {
        return Err(ApiError::validation(
            "body failed validation: body.parent.type should be `page_id`.",
        ));
    }
    let pid = body_id(req(pm, "page_id", "body.parent")?, "body.parent.page_id")?;
    page_or_404(st, &pid)?;
    st.require_live(&pid)?;
    Ok(pid)
}

/// Moves database `id` to `new_parent` (if given) and touches the old and new parents
/// that are pages or blocks.
fn reparent_database(st: &mut Store, id: &str, new_parent: Option<String>, bot: &str) {
    let d = st.databases.get_mut(id).expect("checked");
    let parent = parent_ref(&d.parent);
    if let Some(np) = &new_parent {
        d.parent = json!({"type": "page_id", "page_id": np});
    }
    if let Some(p) = parent.filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p)) {
        if new_parent.is_some() {
            st.unplace(&p, id);
        }
        st.touch(&p, bot);
    }
    if let Some(np) = new_parent {
        st.place_children(&np, std::slice::from_ref(&id.to_string()), &Position::End);
        st.touch(&np, bot);
    }
}

pub(super) async fn data_source_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let mut st = sh.store();
    let v = st
        .render_data_source(&id)
        .ok_or_else(|| ApiError::not_found("data source", &id))?;
    Ok(finish(&mut st, v))
}

pub(super) async fn data_source_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &["parent", "title", "properties", "icon", "description"],
        "body",
    )?;
    let mut st = sh.store();
    let pm = obj(req(&b, "parent", "body")?, "body.parent")?;
    check_keys(pm, &["type", "database_id"], "body.parent")?;
    if pm.get("type").is_some_and(|t| t != "database_id") {
        return Err(ApiError::validation(
            "body failed validation: body.parent.type should be `\"database_id\"`.",
        ));
    }
    let db_id = body_id(
        req(pm, "database_id", "body.parent")?,
        "body.parent.database_id",
    )?;
    if !st.databases.contains_key(&db_id) {
        return Err(ApiError::not_found("database", &db_id));
    }
    st.require_live(&db_id)?;
    let ing = Ingest::new(&st, false);
    let title = match b.get("title") {
        Some(t) => ing.rich_text(t, "body.title")?,
        None => json!([]),
    };
    let description = match b.get("description") {
        Some(t) => ing.rich_text(t, "body.description")?,
        None => json!([]),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let id = new_uuid();
    let mut ds = DataSource {
        id: id.clone(),
        database_id: db_id.clone(),
        title,
        description,
        icon,
        properties: Map::new(),
        in_trash: false,
        created: now,
        edited: now,
        created_by: bot.clone(),
        edited_by: bot.clone(),
        counters: Default::default(),
    };
    apply_schema(
        &st,
        &mut ds,
        req(&b, "properties", "body")?,
        "body.properties",
        true,
        false,
    )?;
    st.data_sources.insert(id.clone(), ds);
    let d = st.databases.get_mut(&db_id).expect("checked");
    d.data_sources.push(id.clone());
    d.edited = now;
    let v = st.render_data_source(&id).expect("created");
    Ok(finish(&mut st, v))
}

pub(super) async fn data_source_update(
    State(sh): Sh,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "title",
            "description",
            "icon",
            "properties",
            "in_trash",
            "archived",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let mut ds = st
        .data_sources
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("data source", &id))?;
    let trash_flag = match b.get("in_trash").or(b.get("archived")) {
        Some(v) => Some(crate::emulator::validate::boolean(v, "body.in_trash")?),
        None => None,
    };
    if st.trashed(&id) && trash_flag != Some(false) {
        return Err(ApiError::validation(format!(
            "Can't edit a data source that is archived: {id}."
        )));
    }
    let ing = Ingest::new(&st, false);
    if let Some(t) = b.get("title") {
        ds.title = ing.rich_text(t, "body.title")?;
    }
    if let Some(t) = b.get("description") {
        ds.description = ing.rich_text(t, "body.description")?;
    }
    if let Some(i) = b.get("icon") {
        ds.icon = if i.is_null() {
            Value::Null
        } else {
            ing.icon(i, "body.icon")?
        };
    }
    drop(ing);
    if let Some(p) = b.get("properties") {
        apply_schema(&st, &mut ds, p, "body.properties", false, false)?;
    }
    if let Some(t) = trash_flag {
        ds.in_trash = t;
    }
    ds.edited = st.now();
    ds.edited_by = st.bot_id.clone();
    st.data_sources.insert(id.clone(), ds);
    let v = st.render_data_source(&id).expect("exists");
    Ok(finish(&mut st, v))
}

pub(super) async fn data_source_query(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &[
            "filter",
            "sorts",
            "start_cursor",
            "page_size",
            "result_type",
            "in_trash",
            "archived",
        ],
        "body",
    )?;
    let (cursor, size) = paging_from_body(&b)?;
    let mut st = sh.store();
    let ds = st
        .data_sources
        .get(&id)
        .ok_or_else(|| ApiError::not_found("data source", &id))?
        .clone();
    let sorts = match b.get("sorts") {
        Some(s) => query::check_sorts(&ds, s, "body.sorts")?,
        None => vec![],
    };
    let mut rows: Vec<&Page> = Vec::new();
    for pid in &st.page_order {
        let Some(p) = st.pages.get(pid) else { continue };
        if p.parent["data_source_id"] != id.as_str() || st.trashed(pid) {
            continue;
        }
        if let Some(f) = b.get("filter") {
            if !query::matches(&st, &ds, p, f, "body.filter", 0)? {
                continue;
            }
        }
        rows.push(p);
    }
    if !sorts.is_empty() {
        query::sort_rows(&st, &ds, &mut rows, &sorts);
    }
    let filter: Vec<String> = query_params(&q)
        .into_iter()
        .filter(|(k, _)| k == "filter_properties" || k == "filter_properties[]")
        .map(|(_, v)| v)
        .collect();
    let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let (range, next) = page_range(&ids, cursor.as_deref(), size)?;
    // only the returned page is rendered: paging through many rows stays linear
    let page: Vec<Value> = ids[range]
        .iter()
        .filter_map(|id| {
            let mut v = st.render_page(id)?;
            if !filter.is_empty() {
                filter_properties(&mut v, &filter);
            }
            Some(v)
        })
        .collect();
    let out = list(page, next, "page_or_data_source");
    Ok(finish(&mut st, out))
}
