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
    let ids = search_ids(&st, &query, want.as_deref(), descending);
    let (range, next) = page_range(&ids, cursor.as_deref(), size)?;
    // only the returned page is rendered: paging through a large workspace stays linear
    let page: Vec<Value> = ids[range]
        .iter()
        .filter_map(|id| st.render_page(id).or_else(|| st.render_data_source(id)))
        .collect();
    let out = list(page, next, "page_or_data_source");
    Ok(finish(&mut st, out))
}

/// Ids of the live pages and data sources matching `query` (titles, case-insensitive) and
/// the object filter, ordered by last edit (ties: page creation order, then data sources by
/// creation).
fn search_ids(st: &Store, query: &str, want: Option<&str>, descending: bool) -> Vec<String> {
    let mut found: Vec<(chrono::DateTime<chrono::Utc>, usize, &str)> = Vec::new();
    let matches = |title: String| title.to_lowercase().contains(query);
    if want != Some("data_source") {
        for (order, id) in st.page_order.iter().enumerate() {
            let Some(p) = st.pages.get(id) else { continue };
            if st.trashed(id) || !(query.is_empty() || matches(st.page_title_plain(p))) {
                continue;
            }
            found.push((p.edited, order, id));
        }
    }
    if want != Some("page") {
        let mut sources: Vec<&DataSource> = st.data_sources.values().collect();
        sources.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let base = st.page_order.len();
        for (i, ds) in sources.into_iter().enumerate() {
            if st.trashed(&ds.id) {
                continue;
            }
            let db_title = st
                .databases
                .get(&ds.database_id)
                .map(|d| plain(&d.title))
                .unwrap_or_default();
            if !query.is_empty() && !matches(db_title) && !matches(plain(&ds.title)) {
                continue;
            }
            found.push((ds.edited, base + i, &ds.id));
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
    found.into_iter().map(|(_, _, id)| id.to_string()).collect()
}
