//! `POST /v1/search`: pages and data sources by title, filtered and sorted.

use super::*;

pub(super) async fn search(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &["query", "filter", "sort", "start_cursor", "page_size"],
        "body",
    )?;
    let (cursor, size) = paging_from_body(&b)?;
    let query = match b.get("query") {
        None | Some(Value::Null) => String::new(),
        Some(q) => string(q, "body.query")?.to_lowercase(),
    };
    let mut want = None;
    if let Some(f) = b.get("filter") {
        let fm = obj(f, "body.filter")?;
        check_keys(fm, &["property", "value"], "body.filter")?;
        if fm.get("property").and_then(Value::as_str) != Some("object") {
            return Err(ApiError::validation(
                "body failed validation: body.filter.property should be `\"object\"`.",
            ));
        }
        let v = string(req(fm, "value", "body.filter")?, "body.filter.value")?;
        if v != "page" && v != "data_source" {
            return Err(ApiError::validation(format!(
                "body failed validation: body.filter.value should be `\"page\"` or `\"data_source\"`, instead was `\"{v}\"`."
            )));
        }
        want = Some(v.to_string());
    }
    let mut descending = true;
    if let Some(s) = b.get("sort") {
        let sm = obj(s, "body.sort")?;
        check_keys(sm, &["timestamp", "direction"], "body.sort")?;
        if sm.get("timestamp").and_then(Value::as_str) != Some("last_edited_time") {
            return Err(ApiError::validation(
                "body failed validation: body.sort.timestamp should be `\"last_edited_time\"`.",
            ));
        }
        descending = match sm.get("direction").and_then(Value::as_str) {
            Some("ascending") => false,
            Some("descending") => true,
            _ => return Err(ApiError::validation("body failed validation: body.sort.direction should be `\"ascending\"` or `\"descending\"`.")),
        };
    }
    let mut st = sh.store();
    let mut found: Vec<(chrono::DateTime<chrono::Utc>, usize, String, Value)> = Vec::new();
    let mut order = 0usize;
    if want.as_deref() != Some("data_source") {
        for id in &st.page_order {
            let Some(p) = st.pages.get(id) else { continue };
            if st.trashed(id) || !st.page_title_plain(p).to_lowercase().contains(&query) {
                continue;
            }
            if let Some(v) = st.render_page(id) {
                found.push((p.edited, order, id.clone(), v));
                order += 1;
            }
        }
    }
    if want.as_deref() != Some("page") {
        let mut ids: Vec<&DataSource> = st.data_sources.values().collect();
        ids.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        for ds in ids {
            if st.trashed(&ds.id) {
                continue;
            }
            let db_title = st
                .databases
                .get(&ds.database_id)
                .map(|d| plain(&d.title))
                .unwrap_or_default()
                .to_lowercase();
            if !db_title.contains(&query) && !plain(&ds.title).to_lowercase().contains(&query) {
                continue;
            }
            if let Some(v) = st.render_data_source(&ds.id) {
                found.push((ds.edited, order, ds.id.clone(), v));
                order += 1;
            }
        }
    }
    found.sort_by(|a, b| {
        let o = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    let items: Vec<(String, Value)> = found.into_iter().map(|(_, _, id, v)| (id, v)).collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    let out = list(page, next, "page_or_data_source");
    Ok(finish(&mut st, out))
}
