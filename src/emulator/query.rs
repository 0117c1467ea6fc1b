//! Data source query filters and sorts (/reference/filter-data-source-entries,
//! /reference/sort-data-source-entries), evaluated on rendered property values so the
//! semantics match what a client sees in the page objects.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{Map, Value};

use super::store::{plain, DataSource, Page, Store};
use super::util::{parse_time, ApiError, ApiResult};
use super::validate::{arr, check_keys, obj, string};

const TEXT_TYPES: &[&str] = &["title", "rich_text", "url", "email", "phone_number"];

/// Evaluates `filter` for one row.
pub fn matches(
    store: &Store,
    ds: &DataSource,
    page: &Page,
    filter: &Value,
    path: &str,
    depth: usize,
) -> ApiResult<bool> {
    let m = obj(filter, path)?;
    if let Some(r) = compound(store, ds, page, m, path, depth)? {
        return Ok(r);
    }
    if let Some(ts) = m.get("timestamp") {
        return timestamp_filter(store, page, m, ts, path);
    }
    property_filter(store, ds, page, m, path)
}

/// An `and` / `or` filter (at most two levels deep); `None` when `m` is not compound.
fn compound(
    store: &Store,
    ds: &DataSource,
    page: &Page,
    m: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> ApiResult<Option<bool>> {
    for key in ["and", "or"] {
        if let Some(list) = m.get(key) {
            if depth >= 2 {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.{key}: compound filters can be nested at most two levels deep."
                )));
            }
            check_keys(m, &[key], path)?;
            let items = arr(list, &format!("{path}.{key}"))?;
            let mut results = Vec::with_capacity(items.len());
            for (i, f) in items.iter().enumerate() {
                results.push(matches(
                    store,
                    ds,
                    page,
                    f,
                    &format!("{path}.{key}[{i}]"),
                    depth + 1,
                )?);
            }
            return Ok(Some(if key == "and" {
                results.iter().all(|b| *b)
            } else {
                results.iter().any(|b| *b)
            }));
        }
    }
    Ok(None)
}

/// A `timestamp` filter on the row's created or last edited time.
fn timestamp_filter(
    store: &Store,
    page: &Page,
    m: &Map<String, Value>,
    ts: &Value,
    path: &str,
) -> ApiResult<bool> {
    let ts = string(ts, &format!("{path}.timestamp"))?;
    if m.contains_key("property") {
        return Err(ApiError::validation(format!("body failed validation: {path}.property should not be present with a timestamp filter.")));
    }
    if ts != "created_time" && ts != "last_edited_time" {
        return Err(ApiError::validation(format!("body failed validation: {path}.timestamp should be `created_time` or `last_edited_time`.")));
    }
    check_keys(m, &["timestamp", ts], path)?;
    let t = if ts == "created_time" {
        page.created
    } else {
        page.edited
    };
    let cond = m.get(ts).ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path}.{ts} should be defined."
        ))
    })?;
    date_cond(store, Some((t, None)), cond, &format!("{path}.{ts}"))
}

/// A `property` filter: its condition must fit the property's type; evaluated on the
/// rendered value.
fn property_filter(
    store: &Store,
    ds: &DataSource,
    page: &Page,
    m: &Map<String, Value>,
    path: &str,
) -> ApiResult<bool> {
    let prop = m.get("property").ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path}.property should be defined, instead was `undefined`."
        ))
    })?;
    let prop = string(prop, &format!("{path}.property"))?;
    let (_, schema) = Store::find_prop(ds, prop).ok_or_else(|| {
        ApiError::validation(format!("Could not find property with name or id: {prop}"))
    })?;
    let ptype = schema["type"].as_str().unwrap_or_default();
    let cond_key = m
        .keys()
        .find(|k| k.as_str() != "property")
        .cloned()
        .ok_or_else(|| ApiError::validation(format!("body failed validation: {path} should define a filter condition for property `{prop}`.")))?;
    check_keys(m, &["property", cond_key.as_str()], path)?;
    let compatible = cond_key == ptype
        || (TEXT_TYPES.contains(&cond_key.as_str()) && TEXT_TYPES.contains(&ptype))
        || (cond_key == "people" && ["people", "created_by", "last_edited_by"].contains(&ptype))
        || (cond_key == "date" && ["date", "created_time", "last_edited_time"].contains(&ptype))
        || (cond_key == "unique_id" && ptype == "unique_id");
    if !compatible {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.{cond_key}: property `{prop}` is of type `{ptype}` and cannot be filtered with a `{cond_key}` condition."
        )));
    }
    let rendered = store.render_property(page, ds, schema, false);
    let cpath = format!("{path}.{cond_key}");
    value_cond(store, ptype, &rendered[ptype], &m[&cond_key], &cpath)
}

/// Evaluates condition `cond` on the rendered `value` of a `ptype` property, one type
/// family per helper.
fn value_cond(
    store: &Store,
    ptype: &str,
    value: &Value,
    cond: &Value,
    cpath: &str,
) -> ApiResult<bool> {
    match ptype {
        t if TEXT_TYPES.contains(&t) => {
            let s = if value.is_array() {
                plain(value)
            } else {
                value.as_str().unwrap_or("").to_string()
            };
            text_cond(&s, cond, cpath)
        }
        "number" => number_cond(value.as_f64(), cond, cpath),
        "unique_id" => number_cond(value["number"].as_f64(), cond, cpath),
        "checkbox" => {
            let cm = one_cond(cond, cpath, &["equals", "does_not_equal"])?;
            let b = value.as_bool().unwrap_or(false);
            let want = cm.1.as_bool().ok_or_else(|| {
                ApiError::validation(format!("{cpath}.{} should be a boolean.", cm.0))
            })?;
            Ok(if cm.0 == "equals" {
                b == want
            } else {
                b != want
            })
        }
        "select" | "status" => select_cond(value, cond, cpath),
        "multi_select" => multi_select_cond(value, cond, cpath),
        "people" | "created_by" | "last_edited_by" | "relation" => ids_cond(value, cond, cpath),
        "files" => {
            let (k, _) = one_cond(cond, cpath, &["is_empty", "is_not_empty"])?;
            let n = value.as_array().map(Vec::len).unwrap_or(0);
            Ok(if k == "is_empty" { n == 0 } else { n > 0 })
        }
        "date" | "created_time" | "last_edited_time" => {
            let range = if ptype == "date" {
                value["start"]
                    .as_str()
                    .and_then(parse_time)
                    .map(|s| (s, value["end"].as_str().and_then(parse_time)))
            } else {
                value.as_str().and_then(parse_time).map(|t| (t, None))
            };
            date_cond(store, range, cond, cpath)
        }
        "formula" => formula_cond(store, value, cond, cpath),
        other => Err(ApiError::validation(format!(
            "Filtering on `{other}` properties is not supported by the emulator."
        ))),
    }
}

/// Select and status conditions, on the option's name.
fn select_cond(value: &Value, cond: &Value, cpath: &str) -> ApiResult<bool> {
    let name = value["name"].as_str();
    let (k, v) = one_cond(
        cond,
        cpath,
        &["equals", "does_not_equal", "is_empty", "is_not_empty"],
    )?;
    Ok(match k.as_str() {
        "equals" => name == v.as_str(),
        "does_not_equal" => name != v.as_str(),
        "is_empty" => name.is_none(),
        _ => name.is_some(),
    })
}

/// Multi-select conditions, on the names of the selected options.
fn multi_select_cond(value: &Value, cond: &Value, cpath: &str) -> ApiResult<bool> {
    let names: Vec<&str> = value
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    let (k, v) = one_cond(
        cond,
        cpath,
        &["contains", "does_not_contain", "is_empty", "is_not_empty"],
    )?;
    Ok(match k.as_str() {
        "contains" => names.iter().any(|n| Some(*n) == v.as_str()),
        "does_not_contain" => !names.iter().any(|n| Some(*n) == v.as_str()),
        "is_empty" => names.is_empty(),
        _ => !names.is_empty(),
    })
}

/// People, created / last edited by and relation conditions, on the referenced ids.
fn ids_cond(value: &Value, cond: &Value, cpath: &str) -> ApiResult<bool> {
    let ids: Vec<String> = match value {
        Value::Array(a) => a
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_string))
            .collect(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        _ => vec![],
    };
    let (k, v) = one_cond(
        cond,
        cpath,
        &["contains", "does_not_contain", "is_empty", "is_not_empty"],
    )?;
    let target = v.as_str().and_then(super::util::parse_id);
    Ok(match k.as_str() {
        "contains" => target.is_some_and(|t| ids.contains(&t)),
        "does_not_contain" => !target.is_some_and(|t| ids.contains(&t)),
        "is_empty" => ids.is_empty(),
        _ => !ids.is_empty(),
    })
}

/// Formula conditions: one `string` / `number` / `checkbox` / `date` sub-condition on the
/// formula's result.
fn formula_cond(store: &Store, value: &Value, cond: &Value, cpath: &str) -> ApiResult<bool> {
    let ft = value["type"].as_str().unwrap_or("string");
    let cm = obj(cond, cpath)?;
    let (sub, sc) = cm
        .iter()
        .next()
        .ok_or_else(|| ApiError::validation(format!("{cpath} should define a condition.")))?;
    let spath = format!("{cpath}.{sub}");
    match sub.as_str() {
        "string" => text_cond(value["string"].as_str().unwrap_or(""), sc, &spath),
        "number" => number_cond(value["number"].as_f64(), sc, &spath),
        "checkbox" => {
            let (k, v) = one_cond(sc, &spath, &["equals", "does_not_equal"])?;
            let b = value["boolean"].as_bool().unwrap_or(false);
            Ok(if k == "equals" {
                Some(b) == v.as_bool()
            } else {
                Some(b) != v.as_bool()
            })
        }
        "date" => date_cond(
            store,
            value["date"]["start"]
                .as_str()
                .and_then(parse_time)
                .map(|t| (t, None)),
            sc,
            &spath,
        ),
        _ => Err(ApiError::validation(format!(
            "{cpath}: unsupported formula condition `{sub}` for a `{ft}` formula."
        ))),
    }
}

fn one_cond<'v>(cond: &'v Value, path: &str, allowed: &[&str]) -> ApiResult<(String, &'v Value)> {
    let m = obj(cond, path)?;
    check_keys(m, allowed, path)?;
    if m.len() != 1 {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should contain exactly one condition."
        )));
    }
    let (k, v) = m.iter().next().expect("one entry");
    if (k == "is_empty" || k == "is_not_empty") && v != &Value::Bool(true) {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.{k} should be `true`."
        )));
    }
    Ok((k.clone(), v))
}

fn text_cond(s: &str, cond: &Value, path: &str) -> ApiResult<bool> {
    let (k, v) = one_cond(
        cond,
        path,
        &[
            "equals",
            "does_not_equal",
            "contains",
            "does_not_contain",
            "starts_with",
            "ends_with",
            "is_empty",
            "is_not_empty",
        ],
    )?;
    let needle = match k.as_str() {
        "is_empty" | "is_not_empty" => String::new(),
        _ => string(v, &format!("{path}.{k}"))?.to_lowercase(),
    };
    let hay = s.to_lowercase();
    Ok(match k.as_str() {
        "equals" => s == v.as_str().unwrap_or_default(),
        "does_not_equal" => s != v.as_str().unwrap_or_default(),
        "contains" => hay.contains(&needle),
        "does_not_contain" => !hay.contains(&needle),
        "starts_with" => hay.starts_with(&needle),
        "ends_with" => hay.ends_with(&needle),
        "is_empty" => s.is_empty(),
        _ => !s.is_empty(),
    })
}

fn number_cond(n: Option<f64>, cond: &Value, path: &str) -> ApiResult<bool> {
    let (k, v) = one_cond(
        cond,
        path,
        &[
            "equals",
            "does_not_equal",
            "greater_than",
            "greater_than_or_equal_to",
            "less_than",
            "less_than_or_equal_to",
            "is_empty",
            "is_not_empty",
        ],
    )?;
    if k == "is_empty" {
        return Ok(n.is_none());
    }
    if k == "is_not_empty" {
        return Ok(n.is_some());
    }
    let x = v.as_f64().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path}.{k} should be a number, instead was `{v}`."
        ))
    })?;
    let Some(n) = n else {
        return Ok(k == "does_not_equal");
    };
    Ok(match k.as_str() {
        "equals" => n == x,
        "does_not_equal" => n != x,
        "greater_than" => n > x,
        "greater_than_or_equal_to" => n >= x,
        "less_than" => n < x,
        _ => n <= x,
    })
}

fn date_cond(
    store: &Store,
    range: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    cond: &Value,
    path: &str,
) -> ApiResult<bool> {
    let (k, v) = one_cond(
        cond,
        path,
        &[
            "equals",
            "before",
            "after",
            "on_or_before",
            "on_or_after",
            "is_empty",
            "is_not_empty",
            "past_week",
            "past_month",
            "past_year",
            "next_week",
            "next_month",
            "next_year",
            "this_week",
        ],
    )?;
    match k.as_str() {
        "is_empty" => return Ok(range.is_none()),
        "is_not_empty" => return Ok(range.is_some()),
        _ => {}
    }
    let Some((start, _end)) = range else {
        return Ok(false);
    };
    let now = store.now();
    let within = |a: DateTime<Utc>, b: DateTime<Utc>| start >= a && start <= b;
    match k.as_str() {
        "past_week" => return Ok(within(now - Duration::days(7), now)),
        "past_month" => return Ok(within(now - Duration::days(30), now)),
        "past_year" => return Ok(within(now - Duration::days(365), now)),
        "next_week" => return Ok(within(now, now + Duration::days(7))),
        "next_month" => return Ok(within(now, now + Duration::days(30))),
        "next_year" => return Ok(within(now, now + Duration::days(365))),
        "this_week" => {
            let monday =
                (now - Duration::days(now.weekday().num_days_from_monday() as i64)).date_naive();
            let a = monday
                .and_hms_opt(0, 0, 0)
                .map(|n| n.and_utc())
                .unwrap_or(now);
            return Ok(within(a, a + Duration::days(7)));
        }
        _ => {}
    }
    if !v.as_object().is_none_or(Map::is_empty) {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.{k} should be a date string."
        )));
    }
    let s = string(v, &format!("{path}.{k}"))?;
    let t = parse_time(s).ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.{k} should be a valid ISO 8601 date string, instead was `\"{s}\"`.")))?;
    let date_only = s.len() == 10;
    let day_end = t + Duration::days(1);
    Ok(match (k.as_str(), date_only) {
        ("equals", true) => start >= t && start < day_end,
        ("equals", false) => start == t,
        ("before", _) => start < t,
        ("after", true) => start >= day_end,
        ("after", false) => start > t,
        ("on_or_before", true) => start < day_end,
        ("on_or_before", false) => start <= t,
        ("on_or_after", _) => start >= t,
        _ => false,
    })
}

/// Sort key pieces for one row and one sort.
fn sort_value(
    store: &Store,
    ds: &DataSource,
    page: &Page,
    sort: &Map<String, Value>,
) -> Option<SortKey> {
    if let Some(ts) = sort.get("timestamp").and_then(Value::as_str) {
        let t = if ts == "created_time" {
            page.created
        } else {
            page.edited
        };
        return Some(SortKey::Num(t.timestamp_millis() as f64));
    }
    let prop = sort.get("property")?.as_str()?;
    let (_, schema) = Store::find_prop(ds, prop)?;
    let ty = schema["type"].as_str().unwrap_or_default();
    let r = store.render_property(page, ds, schema, false);
    let v = &r[ty];
    match ty {
        "number" => v.as_f64().map(SortKey::Num),
        "checkbox" => Some(SortKey::Num(if v.as_bool().unwrap_or(false) {
            1.0
        } else {
            0.0
        })),
        "unique_id" => v["number"].as_f64().map(SortKey::Num),
        "date" => v["start"]
            .as_str()
            .and_then(parse_time)
            .map(|t| SortKey::Num(t.timestamp_millis() as f64)),
        "created_time" | "last_edited_time" => v
            .as_str()
            .and_then(parse_time)
            .map(|t| SortKey::Num(t.timestamp_millis() as f64)),
        "select" | "status" => {
            let name = v["name"].as_str()?;
            let opts = schema[ty]["options"].as_array()?;
            opts.iter()
                .position(|o| o["name"] == name)
                .map(|i| SortKey::Num(i as f64))
        }
        _ => {
            let s = if v.is_array() {
                plain(v)
            } else {
                v.as_str().unwrap_or_default().to_string()
            };
            if s.is_empty() {
                None
            } else {
                Some(SortKey::Text(s.to_lowercase()))
            }
        }
    }
}

#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Num(f64),
    Text(String),
}

/// Validates a `sorts` array.
pub fn check_sorts(
    ds: &DataSource,
    sorts: &Value,
    path: &str,
) -> ApiResult<Vec<Map<String, Value>>> {
    let mut out = Vec::new();
    for (i, s) in arr(sorts, path)?.iter().enumerate() {
        let spath = format!("{path}[{i}]");
        let m = obj(s, &spath)?;
        check_keys(m, &["property", "timestamp", "direction"], &spath)?;
        let dir = string(
            m.get("direction").unwrap_or(&Value::Null),
            &format!("{spath}.direction"),
        )?;
        if dir != "ascending" && dir != "descending" {
            return Err(ApiError::validation(format!(
                "body failed validation: {spath}.direction should be `ascending` or `descending`."
            )));
        }
        match (m.get("property"), m.get("timestamp")) {
            (Some(p), None) => {
                let p = string(p, &format!("{spath}.property"))?;
                if Store::find_prop(ds, p).is_none() {
                    return Err(ApiError::validation(format!("Could not find sort property with name or id: {p}")));
                }
            }
            (None, Some(t)) => {
                let t = string(t, &format!("{spath}.timestamp"))?;
                if t != "created_time" && t != "last_edited_time" {
                    return Err(ApiError::validation(format!("body failed validation: {spath}.timestamp should be `created_time` or `last_edited_time`.")));
                }
            }
            _ => return Err(ApiError::validation(format!("body failed validation: {spath} should have exactly one of `property` or `timestamp`."))),
        }
        out.push(m.clone());
    }
    Ok(out)
}

/// Orders rows by `sorts` (earlier sorts take precedence; empty values last).
pub fn sort_rows(store: &Store, ds: &DataSource, rows: &mut [&Page], sorts: &[Map<String, Value>]) {
    rows.sort_by(|a, b| {
        for s in sorts {
            let desc = s.get("direction").and_then(Value::as_str) == Some("descending");
            let (ka, kb) = (sort_value(store, ds, a, s), sort_value(store, ds, b, s));
            let ord = match (ka, kb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}
