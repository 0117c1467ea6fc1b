//! Front matter values -> update-page property requests, one property at a time.
//!
//! Each function checks the value against the type and the API limits and returns the
//! request payload (what goes under `properties.<name>.<type>`), or the [`Problem`].

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

use super::context::Context;
use super::error::Problem;
use super::inline::parse_inline;
use super::render::{file_token, relation_token, user_token};
use crate::notion::model::property::{
    FileEntry, PropertyConfig, PropertyData, PropertySchema, PropertyValue, SelectOption,
};
use crate::notion::model::rich_text::RichTextKind;

/// Characters of one rich text object's `text.content` (API limit).
pub const TEXT_CONTENT_LIMIT: usize = 2000;
/// Rich text objects in one array (API limit).
pub const RICH_TEXT_ARRAY_LIMIT: usize = 100;
/// Characters of a URL (API limit).
pub const URL_LIMIT: usize = 2000;
/// Characters of an e-mail or phone number (API limit).
pub const EMAIL_PHONE_LIMIT: usize = 200;
/// Characters of an inline equation (API limit).
pub const EQUATION_LIMIT: usize = 1000;
/// Options of a multi-select, pages of a relation, users of a people value (API limits).
pub const LIST_LIMIT: usize = 100;

/// Converts the user's value for a writable property into the request payload.
pub fn request_payload(
    schema: &PropertySchema,
    current: Option<&PropertyValue>,
    v: &Value,
    ctx: &dyn Context,
) -> Result<Value, Problem> {
    match &schema.config {
        PropertyConfig::RichText(_) => rich_text(v),
        PropertyConfig::Number(_) => number(v),
        PropertyConfig::Select(c) => option(v, &c.options, "select"),
        PropertyConfig::Status(c) => option(v, &c.options, "status"),
        PropertyConfig::MultiSelect(c) => multi_select(v, &c.options),
        PropertyConfig::Date(_) => date(v),
        PropertyConfig::Checkbox(_) => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            other => Err(mismatch("true or false", other, "true")),
        },
        PropertyConfig::Url(_) => short_string(v, "the URL", URL_LIMIT, "https://example.com"),
        PropertyConfig::Email(_) => {
            short_string(v, "the e-mail", EMAIL_PHONE_LIMIT, "ada@example.com")
        }
        PropertyConfig::PhoneNumber(_) => {
            short_string(v, "the phone number", EMAIL_PHONE_LIMIT, "+1 415 555 0100")
        }
        PropertyConfig::People(_) => people(v, current, ctx),
        PropertyConfig::Relation(_) => relation(v, current, ctx),
        PropertyConfig::Files(_) => files(&schema.name, v, current, ctx),
        // Callers route read-only types elsewhere; refuse rather than guess.
        other => Err(Problem::ReadOnly {
            type_name: other.type_name().to_string(),
            current: String::new(),
        }),
    }
}

/// A short description of a YAML value's type, for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn mismatch(expected: &str, found: &Value, example: &str) -> Problem {
    Problem::TypeMismatch {
        expected: expected.to_string(),
        found: describe(found),
        example: example.to_string(),
    }
}

fn rich_text(v: &Value) -> Result<Value, Problem> {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => return Err(mismatch("text", other, "\"Some **bold** words\"")),
    };
    let runs = crate::notion::model::rich_text::split_long_runs(parse_inline(&text));
    for r in &runs {
        match &r.kind {
            RichTextKind::Text(t) => {
                if let Some(l) = &t.link {
                    let n = l.url.chars().count();
                    if n > URL_LIMIT {
                        return Err(Problem::TooLong {
                            what: "a link URL".into(),
                            actual: n,
                            limit: URL_LIMIT,
                        });
                    }
                }
            }
            RichTextKind::Equation(e) => {
                let n = e.expression.chars().count();
                if n > EQUATION_LIMIT {
                    return Err(Problem::TooLong {
                        what: "an equation".into(),
                        actual: n,
                        limit: EQUATION_LIMIT,
                    });
                }
            }
            _ => {}
        }
    }
    if runs.len() > RICH_TEXT_ARRAY_LIMIT {
        return Err(Problem::TooLong {
            what: format!(
                "the text (split into {} rich text objects of at most {TEXT_CONTENT_LIMIT})",
                runs.len()
            ),
            actual: text.chars().count(),
            limit: RICH_TEXT_ARRAY_LIMIT * TEXT_CONTENT_LIMIT,
        });
    }
    Ok(serde_json::to_value(runs).expect("rich text serializes"))
}

fn number(v: &Value) -> Result<Value, Problem> {
    match v {
        Value::Null | Value::Number(_) => Ok(v.clone()),
        other => Err(mismatch("a number or null", other, "42 or 3.5 or null")),
    }
}

fn option(v: &Value, options: &[SelectOption], kind: &str) -> Result<Value, Problem> {
    let name = match v {
        Value::Null => return Ok(Value::Null),
        Value::String(s) if s.is_empty() => return Ok(Value::Null),
        Value::String(s) => s,
        other => {
            let example = options
                .first()
                .map(|o| o.name_str().to_string())
                .unwrap_or_else(|| "an option name".into());
            return Err(mismatch(
                &format!("the name of a {kind} option, or null"),
                other,
                &example,
            ));
        }
    };
    if !options.iter().any(|o| o.name_str() == name) {
        return Err(Problem::UnknownOption {
            options: vec![name.clone()],
            existing: names(options),
        });
    }
    Ok(serde_json::json!({ "name": name }))
}

fn names(options: &[SelectOption]) -> Vec<String> {
    options.iter().map(|o| o.name_str().to_string()).collect()
}

/// The strings of a YAML list (null reads as empty).
fn string_list(v: &Value, what: &str, example: &str) -> Result<Vec<String>, Problem> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => return Err(mismatch(&format!("a list of {what}"), other, example)),
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for i in items {
        match i {
            Value::String(s) => {
                if !seen.insert(s.clone()) {
                    return Err(Problem::Duplicate { value: s.clone() });
                }
                out.push(s.clone());
            }
            other => {
                return Err(mismatch(
                    &format!("a list of {what}"),
                    &Value::Array(vec![other.clone()]),
                    example,
                ))
            }
        }
    }
    Ok(out)
}

fn check_count(n: usize, what: &str) -> Result<(), Problem> {
    if n > LIST_LIMIT {
        return Err(Problem::TooMany {
            what: what.into(),
            count: n,
            limit: LIST_LIMIT,
        });
    }
    Ok(())
}

fn multi_select(v: &Value, options: &[SelectOption]) -> Result<Value, Problem> {
    let list = string_list(v, "option names", "[A, B] or one \"- A\" line per option")?;
    check_count(list.len(), "options")?;
    let missing: Vec<String> = list
        .iter()
        .filter(|n| !options.iter().any(|o| o.name_str() == n.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Problem::UnknownOption {
            options: missing,
            existing: names(options),
        });
    }
    Ok(Value::Array(
        list.into_iter()
            .map(|n| serde_json::json!({ "name": n }))
            .collect(),
    ))
}

fn short_string(v: &Value, what: &str, limit: usize, example: &str) -> Result<Value, Problem> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) if s.is_empty() => Ok(Value::Null),
        Value::String(s) => {
            let n = s.chars().count();
            if n > limit {
                return Err(Problem::TooLong {
                    what: what.into(),
                    actual: n,
                    limit,
                });
            }
            Ok(Value::String(s.clone()))
        }
        other => Err(mismatch("text or null", other, example)),
    }
}

/// Checks an ISO 8601 date or date-time. With a time zone, Notion wants a date-time
/// without offset.
fn check_date(s: &str, with_zone: bool) -> Result<(), Problem> {
    let bad = |reason: &str| Problem::InvalidDate {
        value: s.to_string(),
        reason: reason.to_string(),
    };
    if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10 {
        if with_zone {
            return Err(bad("a time zone needs a date with a time"));
        }
        return Ok(());
    }
    if DateTime::parse_from_rfc3339(s).is_ok() {
        if with_zone {
            return Err(bad("a time zone needs a time without UTC offset"));
        }
        return Ok(());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if NaiveDateTime::parse_from_str(s, f).is_ok() {
            return Ok(());
        }
    }
    Err(bad("not ISO 8601"))
}

fn date(v: &Value) -> Result<Value, Problem> {
    let example = "2025-01-31, 2025-01-31T09:00:00+01:00 or start:/end: lines";
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) if s.is_empty() => Ok(Value::Null),
        Value::String(s) => {
            check_date(s, false)?;
            Ok(serde_json::json!({ "start": s, "end": null }))
        }
        Value::Object(m) => {
            let mut start = None;
            let mut end = None;
            let mut tz = None;
            for (k, val) in m {
                let slot = match k.as_str() {
                    "start" => &mut start,
                    "end" => &mut end,
                    "time_zone" => &mut tz,
                    other => {
                        return Err(mismatch(
                            "a date mapping with start, end and time_zone",
                            &Value::String(format!("the key {other}")),
                            example,
                        ))
                    }
                };
                match val {
                    Value::Null => {}
                    Value::String(s) => *slot = Some(s.clone()),
                    other => return Err(mismatch("a date as text", other, example)),
                }
            }
            let Some(start) = start else {
                return Err(mismatch("a date mapping with a start", v, example));
            };
            check_date(&start, tz.is_some())?;
            if let Some(e) = &end {
                check_date(e, tz.is_some())?;
            }
            let mut out = Map::new();
            out.insert("start".into(), Value::String(start));
            out.insert("end".into(), end.map(Value::String).unwrap_or(Value::Null));
            if let Some(tz) = tz {
                out.insert("time_zone".into(), Value::String(tz));
            }
            Ok(Value::Object(out))
        }
        other => Err(mismatch("a date", other, example)),
    }
}

/// A UUID with or without dashes.
pub fn looks_like_id(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let dashes_ok = !s.contains('-')
        || (s.len() == 36 && [8, 13, 18, 23].iter().all(|&i| s.as_bytes()[i] == b'-'));
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) && dashes_ok
}

/// True when the list in `current` is known to be cut short by retrieve-page.
pub fn is_truncated(current: &PropertyValue) -> bool {
    let len = match &current.data {
        PropertyData::Relation(r) => r.len(),
        PropertyData::People(p) => p.len(),
        _ => return false,
    };
    match current.has_more {
        Some(h) => h,
        None => len >= 25,
    }
}

fn people(v: &Value, current: Option<&PropertyValue>, ctx: &dyn Context) -> Result<Value, Problem> {
    let list = string_list(v, "e-mails or user ids", "[ada@example.com]")?;
    check_count(list.len(), "people")?;
    if let Some(c) = current.filter(|c| is_truncated(c)) {
        return Err(Problem::Truncated {
            shown: match &c.data {
                PropertyData::People(p) => p.len(),
                _ => 0,
            },
        });
    }
    let known: Vec<(String, String)> = match current.map(|c| &c.data) {
        Some(PropertyData::People(users)) => users
            .iter()
            .map(|u| (user_token(u, ctx), u.id.clone()))
            .collect(),
        _ => Vec::new(),
    };
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for t in &list {
        if let Some((_, id)) = known.iter().find(|(tok, _)| tok == t) {
            ids.push(id.clone());
        } else if let Some(id) = ctx.user_id(t) {
            ids.push(id);
        } else if looks_like_id(t) {
            ids.push(t.clone());
        } else {
            unknown.push(t.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::UnknownUser { values: unknown });
    }
    Ok(Value::Array(
        ids.into_iter()
            .map(|id| serde_json::json!({"object": "user", "id": id}))
            .collect(),
    ))
}

fn relation(
    v: &Value,
    current: Option<&PropertyValue>,
    ctx: &dyn Context,
) -> Result<Value, Problem> {
    let list = string_list(v, "row paths or page ids", "[../Projects/Alpha.md]")?;
    check_count(list.len(), "related pages")?;
    if let Some(c) = current.filter(|c| is_truncated(c)) {
        return Err(Problem::Truncated {
            shown: match &c.data {
                PropertyData::Relation(r) => r.len(),
                _ => 0,
            },
        });
    }
    let known: Vec<(String, String)> = match current.map(|c| &c.data) {
        Some(PropertyData::Relation(refs)) => refs
            .iter()
            .map(|r| (relation_token(&r.id, ctx), r.id.clone()))
            .collect(),
        _ => Vec::new(),
    };
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for t in &list {
        if let Some((_, id)) = known.iter().find(|(tok, _)| tok == t) {
            ids.push(id.clone());
        } else if let Some(id) = ctx.relation_id(t) {
            ids.push(id);
        } else if looks_like_id(t) {
            ids.push(t.clone());
        } else {
            unknown.push(t.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::UnknownRelation { values: unknown });
    }
    Ok(Value::Array(
        ids.into_iter()
            .map(|id| serde_json::json!({ "id": id }))
            .collect(),
    ))
}

fn files(
    property: &str,
    v: &Value,
    current: Option<&PropertyValue>,
    ctx: &dyn Context,
) -> Result<Value, Problem> {
    let list = string_list(v, "attachment paths or URLs", "[https://example.com/a.pdf]")?;
    let known: Vec<(String, &FileEntry)> = match current.map(|c| &c.data) {
        Some(PropertyData::Files(fs)) => fs
            .iter()
            .map(|f| (file_token(property, f, ctx), f))
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for t in &list {
        if let Some((_, f)) = known.iter().find(|(tok, _)| tok == t) {
            // Notion keeps a hosted file that is sent back as it was read.
            out.push(serde_json::to_value(f).expect("file entries serialize"));
        } else if t.starts_with("https://") || t.starts_with("http://") {
            let n = t.chars().count();
            if n > URL_LIMIT {
                return Err(Problem::TooLong {
                    what: "a file URL".into(),
                    actual: n,
                    limit: URL_LIMIT,
                });
            }
            // `name` is required for external files: the URL's last segment.
            let name = t
                .split(['?', '#'])
                .next()
                .and_then(|p| p.trim_end_matches('/').rsplit('/').next())
                .filter(|s| !s.is_empty())
                .unwrap_or(t);
            out.push(
                serde_json::to_value(FileEntry::external(name, t.clone()))
                    .expect("file entries serialize"),
            );
        } else {
            unknown.push(t.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::UnknownFile { values: unknown });
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_dates() {
        assert!(looks_like_id("dd456007-6c66-4bba-957e-ea501dcda3a6"));
        assert!(looks_like_id("dd4560076c664bba957eea501dcda3a6"));
        assert!(!looks_like_id("../Alpha.md"));
        assert!(check_date("2025-01-31", false).is_ok());
        assert!(check_date("2021-05-11T11:00:00.000-04:00", false).is_ok());
        assert!(check_date("2025-13-01", false).is_err());
        assert!(check_date("2025-01-31T09:00:00", true).is_ok());
        assert!(check_date("2025-01-31", true).is_err());
    }

    #[test]
    fn long_text_is_split_not_refused() {
        let long = "é".repeat(4500);
        let v = rich_text(&Value::String(long.clone())).unwrap();
        let runs = v.as_array().unwrap();
        assert_eq!(runs.len(), 3);
        let joined: String = runs
            .iter()
            .map(|r| r["text"]["content"].as_str().unwrap())
            .collect();
        assert_eq!(joined, long);
        let too_long = "x".repeat(TEXT_CONTENT_LIMIT * RICH_TEXT_ARRAY_LIMIT + 1);
        assert!(matches!(
            rich_text(&Value::String(too_long)),
            Err(Problem::TooLong { .. })
        ));
    }
}
