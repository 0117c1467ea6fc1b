//! Row properties <-> YAML front matter, and `.schema.yaml` (notionfs(5), FRONT MATTER).
//!
//! A row's `.md` file starts with a `---` … `---` block holding every property but the
//! title (the title is the file name), keyed by name in schema order. [`render`] writes
//! that block; [`parse`] reads a saved file back into the update-page request for the
//! properties that changed, the body after the block, and the properties it refused — one
//! bad property never blocks the others. The codec is pure: what it needs to know about
//! users, related rows and attachments comes in through a [`Context`].
//!
//! Values (see `man/notionfs.5` FRONT MATTER): rich text as inline Markdown, numbers,
//! option names, lists of option names / e-mails / row paths / attachment paths or URLs,
//! dates as `2025-01-31`, `2025-01-31T09:00:00+01:00` or `start:`/`end:` lines, booleans,
//! strings or null; computed types are shown and refused when changed.
//!
//! YAML is read with `serde_norway` and written by our own emitter ([`yaml`]), which quotes
//! every string a YAML reader would mistype, so what is written reads back the same.
//!
//! ## Lists cut at 25 entries
//!
//! Retrieve-page returns at most 25 references per `relation` / `people` property (and 25
//! mentions per rich text, 25 references per rollup). Before rendering a row, the caller
//! asks [`needs_full_items`] which properties may be cut, fetches each with
//! `GET /v1/pages/{id}/properties/{property_id}` (all pages of it), and hands the answers
//! to [`apply_full_items`], which replaces the value in the page and marks it complete.
//! A relation or people list still cut short when a save arrives is refused
//! ([`Problem::Truncated`]) rather than sent, since sending it would drop the rest.

mod context;
mod error;
pub mod inline;
mod parse;
mod render;
mod schema;
pub mod yaml;

use indexmap::IndexMap;
use serde_json::{Map, Value};

pub use context::{hosted_file_key, Context, MemoryContext};
pub use error::{FrontMatterError, Problem, PropertyError};
pub use parse::{
    looks_like_id, EMAIL_PHONE_LIMIT, EQUATION_LIMIT, LIST_LIMIT, RICH_TEXT_ARRAY_LIMIT,
    TEXT_CONTENT_LIMIT, URL_LIMIT,
};
pub use render::{data_value, date_value};
pub use schema::schema_yaml;

use crate::notion::model::property::{PropertyConfig, PropertyData, PropertySchema, PropertyValue};
use crate::notion::model::property_item::{collect_items, CollectError, PropertyItemResponse};
use crate::notion::model::rich_text::RichTextKind;
use crate::notion::model::{DataSource, Page};

/// What a saved row file means for Notion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The `properties` object of an update-page request: only the properties whose value
    /// differs from the page's current one, e.g. `{"Status": {"status": {"name": "Done"}}}`.
    /// Empty when nothing changed.
    pub changes: Map<String, Value>,
    /// The Markdown after the front matter (the whole text when there is none).
    pub body: String,
    /// Properties that cannot be sent, each with its reason; the rest are in `changes`.
    pub refused: Vec<PropertyError>,
}

impl Parsed {
    /// The update-page request body for the changes (`{"properties": …}`), if any.
    pub fn update_request(&self) -> Option<Value> {
        if self.changes.is_empty() {
            return None;
        }
        let mut body = Map::new();
        body.insert("properties".into(), Value::Object(self.changes.clone()));
        Some(Value::Object(body))
    }
}

/// The front matter block of a row (`---\n…---\n`); the caller appends the body.
pub fn render(page: &Page, schema: &DataSource, ctx: &dyn Context) -> String {
    render_properties(&page.properties, schema, ctx)
}

/// [`render`] from a property map (a page's `properties`).
pub fn render_properties(
    properties: &IndexMap<String, PropertyValue>,
    schema: &DataSource,
    ctx: &dyn Context,
) -> String {
    let mut out = String::from("---\n");
    for (name, prop) in &schema.properties {
        if matches!(prop.config, PropertyConfig::Title(_)) {
            continue;
        }
        let current = current_value(properties, name, prop).map(|c| &c.data);
        let value = render::property_value(prop, current, ctx);
        yaml::emit_entry(
            &mut out,
            name,
            &value,
            0,
            holds_dates(&prop.config, current),
        );
    }
    out.push_str("---\n");
    out
}

/// Whether a property's value is dates (written unquoted, `2025-01-31`).
fn holds_dates(config: &PropertyConfig, data: Option<&PropertyData>) -> bool {
    use crate::notion::model::property::{FormulaResult, RollupResult};
    match data {
        Some(PropertyData::Formula(f)) => matches!(f, FormulaResult::Date(_)),
        Some(PropertyData::Rollup(r)) => matches!(r.result, RollupResult::Date(_)),
        Some(PropertyData::Date(_))
        | Some(PropertyData::CreatedTime(_))
        | Some(PropertyData::LastEditedTime(_))
        | Some(PropertyData::Verification(_)) => true,
        Some(_) => false,
        None => matches!(
            config,
            PropertyConfig::Date(_)
                | PropertyConfig::CreatedTime(_)
                | PropertyConfig::LastEditedTime(_)
        ),
    }
}

/// The front matter as values, in schema order, title excluded.
pub fn front_matter_values(
    properties: &IndexMap<String, PropertyValue>,
    schema: &DataSource,
    ctx: &dyn Context,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, prop) in &schema.properties {
        if matches!(prop.config, PropertyConfig::Title(_)) {
            continue;
        }
        let current = current_value(properties, name, prop);
        out.insert(
            name.clone(),
            render::property_value(prop, current.map(|c| &c.data), ctx),
        );
    }
    out
}

/// The page's value of a schema property: by name, else by id (a rename since the read).
fn current_value<'a>(
    properties: &'a IndexMap<String, PropertyValue>,
    name: &str,
    prop: &PropertySchema,
) -> Option<&'a PropertyValue> {
    properties.get(name).or_else(|| {
        properties
            .values()
            .find(|v| !prop.id.is_empty() && v.id == prop.id)
    })
}

/// Reads a saved row file: the changed properties as an update-page `properties` object,
/// the body, and the refused properties. `Err` only when the front matter as a whole
/// cannot be read (malformed YAML, not a mapping, no closing `---`); the error still
/// carries the body when it could be delimited.
///
/// A key left out of the front matter leaves that property unchanged (deleting a line
/// never clears a value; write `null` or `[]` for that).
pub fn parse(
    text: &str,
    page: &Page,
    schema: &DataSource,
    ctx: &dyn Context,
) -> Result<Parsed, FrontMatterError> {
    parse_properties(text, &page.properties, schema, ctx)
}

/// [`parse`] against a property map; an empty map gives every set value as a change (the
/// properties of a new row).
pub fn parse_properties(
    text: &str,
    properties: &IndexMap<String, PropertyValue>,
    schema: &DataSource,
    ctx: &dyn Context,
) -> Result<Parsed, FrontMatterError> {
    let Some((yaml_text, body, first_line)) = split(text)? else {
        return Ok(Parsed {
            body: text.to_string(),
            ..Parsed::default()
        });
    };
    let body = body.to_string();
    let values = match yaml::read(yaml_text) {
        Ok(Value::Null) => Map::new(),
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            return Err(FrontMatterError::NotAMapping {
                found: parse::describe(&other),
                body,
            })
        }
        Err(e) => {
            return Err(FrontMatterError::Malformed {
                line: e.line.map(|l| l + first_line - 1).unwrap_or(first_line),
                column: e.column.unwrap_or(1),
                message: shift_lines(&e.message, first_line - 1),
                body,
            })
        }
    };
    let mut parsed = Parsed {
        body,
        ..Parsed::default()
    };
    for (key, value) in &values {
        match parse_one(key, value, properties, schema, ctx) {
            Ok(Some(payload)) => {
                parsed.changes.insert(key.clone(), payload);
            }
            Ok(None) => {}
            Err(problem) => parsed.refused.push(PropertyError {
                property: key.clone(),
                problem,
            }),
        }
    }
    Ok(parsed)
}

/// The raw values of a file's front matter, keyed as written (no schema involved): `None`
/// when the file has none, `Err` when it cannot be read. Callers compare two versions of a
/// file with it (which keys did the user edit).
pub fn read_values(text: &str) -> Result<Option<Map<String, Value>>, FrontMatterError> {
    let Some((yaml_text, body, _)) = split(text)? else {
        return Ok(None);
    };
    match yaml::read(yaml_text) {
        Ok(Value::Null) => Ok(Some(Map::new())),
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(other) => Err(FrontMatterError::NotAMapping {
            found: parse::describe(&other),
            body: body.to_string(),
        }),
        Err(e) => Err(FrontMatterError::Malformed {
            line: e.line.unwrap_or(1) + 1,
            column: e.column.unwrap_or(1),
            message: e.message,
            body: body.to_string(),
        }),
    }
}

/// One key: `Ok(None)` when unchanged, `Ok(Some({type: payload}))` when changed.
fn parse_one(
    key: &str,
    value: &Value,
    properties: &IndexMap<String, PropertyValue>,
    schema: &DataSource,
    ctx: &dyn Context,
) -> Result<Option<Value>, Problem> {
    let Some(prop) = schema.properties.get(key) else {
        let known: Vec<String> = schema
            .properties
            .iter()
            .filter(|(_, p)| !matches!(p.config, PropertyConfig::Title(_)))
            .map(|(n, _)| n.clone())
            .collect();
        let suggestion = known.iter().find(|n| n.eq_ignore_ascii_case(key)).cloned();
        return Err(Problem::UnknownKey { known, suggestion });
    };
    if matches!(prop.config, PropertyConfig::Title(_)) {
        return Err(Problem::Title);
    }
    let current = current_value(properties, key, prop);
    let shown = render::property_value(prop, current.map(|c| &c.data), ctx);
    if yaml::same(value, &shown) {
        return Ok(None);
    }
    let type_name = prop.config.type_name();
    if PropertyData::is_read_only_type(type_name) {
        let current = yaml::flow(&shown);
        return Err(Problem::ReadOnly {
            type_name: type_name.to_string(),
            current,
        });
    }
    let payload = parse::request_payload(prop, current, value, ctx)?;
    let mut m = Map::new();
    m.insert(type_name.to_string(), payload);
    Ok(Some(Value::Object(m)))
}

/// Rewrites the reader's "line N" positions (relative to the YAML) as file lines.
fn shift_lines(message: &str, offset: usize) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(pos) = rest.find("line ") {
        out.push_str(&rest[..pos + 5]);
        rest = &rest[pos + 5..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Splits `---\n yaml ---\n body`: `None` when the text has no front matter; `Err` when
/// it opens one and never closes it. Also gives the file line of the YAML's first line.
fn split(text: &str) -> Result<Option<(&str, &str, usize)>, FrontMatterError> {
    let rest = if let Some(r) = text.strip_prefix("---\n") {
        r
    } else if let Some(r) = text.strip_prefix("---\r\n") {
        r
    } else {
        return Ok(None);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n').trim_end_matches('\r');
        if bare == "---" || bare == "..." {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok(Some((yaml, body, 2)));
        }
        offset += line.len();
    }
    Err(FrontMatterError::Unterminated)
}

/// Properties of `page` whose value retrieve-page may have cut at 25 references, as
/// `(name, property id)`: relations with `has_more`, people lists of 25 or more, rich text
/// and titles with 25 or more mentions, rollup arrays of 25 or more. Fetch each with
/// `GET /v1/pages/{page_id}/properties/{property_id}` and pass the pages to
/// [`apply_full_items`]. Values already completed are not listed again.
pub fn needs_full_items(page: &Page) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, v) in &page.properties {
        if v.has_more == Some(false) {
            continue;
        }
        let cut = match &v.data {
            PropertyData::Relation(r) => v.has_more.unwrap_or(r.len() >= 25),
            PropertyData::People(p) => p.len() >= 25,
            PropertyData::RichText(runs) | PropertyData::Title(runs) => {
                runs.iter()
                    .filter(|r| matches!(r.kind, RichTextKind::Mention(_)))
                    .count()
                    >= 25
            }
            PropertyData::Rollup(r) => matches!(
                &r.result,
                crate::notion::model::property::RollupResult::Array(a) if a.len() >= 25
            ),
            _ => false,
        };
        if cut {
            out.push((name.clone(), v.id.clone()));
        }
    }
    out
}

/// Replaces the value of property `name` in `page` with the complete value joined from
/// the pages of `GET /v1/pages/{id}/properties/{property_id}` (in order), and marks it
/// complete (`has_more: false`) so [`needs_full_items`] and [`parse`] trust it.
pub fn apply_full_items(
    page: &mut Page,
    name: &str,
    pages: &[PropertyItemResponse],
) -> Result<(), CollectError> {
    let data = collect_items(pages)?;
    let id = pages
        .first()
        .map(|p| match p {
            PropertyItemResponse::Item(i) => i.id.clone(),
            PropertyItemResponse::List(l) => l.property_item.id.clone(),
        })
        .unwrap_or_default();
    let entry = page
        .properties
        .entry(name.to_string())
        .or_insert_with(|| PropertyValue::new(id, data.clone()));
    entry.data = data;
    entry.has_more = Some(false);
    Ok(())
}
