//! Blocks (/reference/block): every block type with its fields.
//!
//! A [`Block`] is the common envelope (id, timestamps, `has_children`, …) plus a
//! [`BlockKind`] holding the type-specific payload. `children` holds nested blocks *inline*:
//! the API never returns them that way (it says `has_children` and you list them), but
//! requests nest them inside the type object, and the Markdown converter works on trees.
//! They are read from either place and written inside the type object.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::file::FileObject;
use super::rich_text::RichText;
use super::{default_color, Icon, JsonMap, User};

/// Paragraph, list items, quote, toggle: rich text and a colour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextBlock {
    /// The text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `heading_1`, `heading_2`, `heading_3`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heading {
    /// The text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// A toggle heading: may have children.
    #[serde(default)]
    pub is_toggleable: bool,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `numbered_list_item`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberedItem {
    /// The text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// First number of the list (first item only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_start_index: Option<u64>,
    /// `numbers`, `letters` or `roman` (first item only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_format: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `to_do`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToDo {
    /// The text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Ticked.
    #[serde(default)]
    pub checked: bool,
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `callout`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Callout {
    /// The text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Emoji or image icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Icon>,
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Every `code.language` the API accepts (the reference's enum, 72 values), exactly as spelled.
pub const CODE_LANGUAGES: [&str; 72] = [
    "abap",
    "arduino",
    "bash",
    "basic",
    "c",
    "clojure",
    "coffeescript",
    "c++",
    "c#",
    "css",
    "dart",
    "diff",
    "docker",
    "elixir",
    "elm",
    "erlang",
    "flow",
    "fortran",
    "f#",
    "gherkin",
    "glsl",
    "go",
    "graphql",
    "groovy",
    "haskell",
    "html",
    "java",
    "javascript",
    "json",
    "julia",
    "kotlin",
    "latex",
    "less",
    "lisp",
    "livescript",
    "lua",
    "makefile",
    "markdown",
    "markup",
    "matlab",
    "mermaid",
    "nix",
    "objective-c",
    "ocaml",
    "pascal",
    "perl",
    "php",
    "plain text",
    "powershell",
    "prolog",
    "protobuf",
    "python",
    "r",
    "reason",
    "ruby",
    "rust",
    "sass",
    "scala",
    "scheme",
    "scss",
    "shell",
    "sql",
    "swift",
    "typescript",
    "vb.net",
    "verilog",
    "vhdl",
    "visual basic",
    "webassembly",
    "xml",
    "yaml",
    "java/c/c++/c#",
];

/// `code`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Code {
    /// The code.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Caption below the block.
    #[serde(default)]
    pub caption: Vec<RichText>,
    /// One of the reference's languages, e.g. `rust`, `plain text`, `c++`.
    pub language: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Block-level `equation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquationBlock {
    /// KaTeX expression.
    pub expression: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A payload with no fields of its own (`divider`, `breadcrumb`, `column_list`, `unsupported`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `table_of_contents`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableOfContents {
    /// Block colour.
    #[serde(default = "default_color")]
    pub color: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `table`; its children are `table_row`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Number of columns (fixed once created).
    pub table_width: u32,
    /// The first row is a header.
    #[serde(default)]
    pub has_column_header: bool,
    /// The first column is a header.
    #[serde(default)]
    pub has_row_header: bool,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `table_row`: one rich text array per cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Cells, left to right.
    #[serde(default)]
    pub cells: Vec<Vec<RichText>>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `column`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Share of the row's width (0–1); absent means equal shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_ratio: Option<f64>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `image`, `video`, `audio`, `pdf`, `file`: a file object plus caption (and name for `file`).
#[derive(Clone, Debug, PartialEq)]
pub struct Media {
    /// Where the file lives.
    pub file: FileObject,
    /// Caption.
    pub caption: Vec<RichText>,
    /// File name (`file` blocks).
    pub name: Option<String>,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl Serialize for Media {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        self.file.put_into(&mut map);
        let caption = serde_json::to_value(&self.caption).map_err(serde::ser::Error::custom)?;
        map.insert("caption".into(), caption);
        if let Some(n) = &self.name {
            map.insert("name".into(), Value::String(n.clone()));
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Media {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let caption = match map.remove("caption") {
            Some(Value::Null) | None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(D::Error::custom)?,
        };
        let name = match map.remove("name") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let file = FileObject::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(Media {
            file,
            caption,
            name,
            extra: super::compact(map),
        })
    }
}

/// `bookmark` and `embed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlBlock {
    /// The URL.
    pub url: String,
    /// Caption.
    #[serde(default)]
    pub caption: Vec<RichText>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `link_preview` (read-only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkPreview {
    /// The previewed URL.
    pub url: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `link_to_page`: `{"type": "page_id", "page_id": …}` (or `database_id`, `data_source_id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkToPage {
    /// `page_id`, `database_id` or `data_source_id`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Target page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// Target database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_id: Option<String>,
    /// Target data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl LinkToPage {
    /// The id of whatever it links to.
    pub fn target_id(&self) -> Option<&str> {
        self.page_id
            .as_deref()
            .or(self.database_id.as_deref())
            .or(self.data_source_id.as_deref())
    }
}

/// `child_page` / `child_database`: a reference to a page or database living under this one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildTitle {
    /// Plain-text title.
    #[serde(default)]
    pub title: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `synced_block`: an original (`synced_from: null`) or a copy pointing at one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncedBlock {
    /// `None` for the original; the original's id for a copy.
    #[serde(default)]
    pub synced_from: Option<SyncedFrom>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `synced_from` of a synced block copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncedFrom {
    /// Always `block_id` today.
    #[serde(rename = "type", default = "block_id_type")]
    pub kind: String,
    /// The original synced block.
    pub block_id: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

fn block_id_type() -> String {
    "block_id".to_string()
}

/// `template` (read-only since 2023).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The button text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

typed_union! {
    /// The type-specific part of a block.
    pub enum BlockKind {
        /// Paragraph.
        "paragraph" => Paragraph(TextBlock),
        /// `#`.
        "heading_1" => Heading1(Heading),
        /// `##`.
        "heading_2" => Heading2(Heading),
        /// `###`.
        "heading_3" => Heading3(Heading),
        /// `- item`.
        "bulleted_list_item" => BulletedListItem(TextBlock),
        /// `1. item`.
        "numbered_list_item" => NumberedListItem(NumberedItem),
        /// `- [ ] item`.
        "to_do" => ToDo(ToDo),
        /// Toggle.
        "toggle" => Toggle(TextBlock),
        /// Quote.
        "quote" => Quote(TextBlock),
        /// Callout.
        "callout" => Callout(Callout),
        /// Code.
        "code" => Code(Code),
        /// Block equation.
        "equation" => Equation(EquationBlock),
        /// Divider.
        "divider" => Divider(Empty),
        /// Breadcrumb.
        "breadcrumb" => Breadcrumb(Empty),
        /// Table of contents.
        "table_of_contents" => TableOfContents(TableOfContents),
        /// Table.
        "table" => Table(Table),
        /// Table row.
        "table_row" => TableRow(TableRow),
        /// Column list.
        "column_list" => ColumnList(Empty),
        /// Column.
        "column" => Column(Column),
        /// Image.
        "image" => Image(Media),
        /// Video.
        "video" => Video(Media),
        /// Audio.
        "audio" => Audio(Media),
        /// PDF.
        "pdf" => Pdf(Media),
        /// File.
        "file" => File(Media),
        /// Bookmark.
        "bookmark" => Bookmark(UrlBlock),
        /// Embed.
        "embed" => Embed(UrlBlock),
        /// Link preview (read-only).
        "link_preview" => LinkPreview(LinkPreview),
        /// Link to page.
        "link_to_page" => LinkToPage(LinkToPage),
        /// Child page reference.
        "child_page" => ChildPage(ChildTitle),
        /// Child database reference.
        "child_database" => ChildDatabase(ChildTitle),
        /// Synced block.
        "synced_block" => SyncedBlock(SyncedBlock),
        /// Template (read-only).
        "template" => Template(Template),
        /// A block the API cannot show.
        "unsupported" => Unsupported(Empty),
    }
}

impl BlockKind {
    /// The block's rich text, for types that have one.
    pub fn rich_text(&self) -> Option<&Vec<RichText>> {
        match self {
            BlockKind::Paragraph(b)
            | BlockKind::BulletedListItem(b)
            | BlockKind::Toggle(b)
            | BlockKind::Quote(b) => Some(&b.rich_text),
            BlockKind::Heading1(h) | BlockKind::Heading2(h) | BlockKind::Heading3(h) => {
                Some(&h.rich_text)
            }
            BlockKind::NumberedListItem(b) => Some(&b.rich_text),
            BlockKind::ToDo(b) => Some(&b.rich_text),
            BlockKind::Callout(b) => Some(&b.rich_text),
            BlockKind::Code(b) => Some(&b.rich_text),
            BlockKind::Template(b) => Some(&b.rich_text),
            _ => None,
        }
    }

    /// Mutable access to every rich text array of this block (text, captions, cells).
    pub fn rich_text_arrays_mut(&mut self) -> Vec<&mut Vec<RichText>> {
        match self {
            BlockKind::Paragraph(b)
            | BlockKind::BulletedListItem(b)
            | BlockKind::Toggle(b)
            | BlockKind::Quote(b) => vec![&mut b.rich_text],
            BlockKind::Heading1(h) | BlockKind::Heading2(h) | BlockKind::Heading3(h) => {
                vec![&mut h.rich_text]
            }
            BlockKind::NumberedListItem(b) => vec![&mut b.rich_text],
            BlockKind::ToDo(b) => vec![&mut b.rich_text],
            BlockKind::Callout(b) => vec![&mut b.rich_text],
            BlockKind::Code(b) => vec![&mut b.rich_text, &mut b.caption],
            BlockKind::Template(b) => vec![&mut b.rich_text],
            BlockKind::TableRow(r) => r.cells.iter_mut().collect(),
            BlockKind::Image(m)
            | BlockKind::Video(m)
            | BlockKind::Audio(m)
            | BlockKind::Pdf(m)
            | BlockKind::File(m) => vec![&mut m.caption],
            BlockKind::Bookmark(u) | BlockKind::Embed(u) => vec![&mut u.caption],
            _ => Vec::new(),
        }
    }

    /// Whether the API lets an integration create this type (append / create page).
    pub fn is_creatable(&self) -> bool {
        !matches!(
            self,
            BlockKind::LinkPreview(_)
                | BlockKind::Template(_)
                | BlockKind::Unsupported(_)
                | BlockKind::ChildPage(_)
                | BlockKind::ChildDatabase(_)
                | BlockKind::Unknown { .. }
        ) && !matches!(self, BlockKind::SyncedBlock(s) if s.synced_from.is_some())
    }
}

/// A block: common envelope fields plus its [`BlockKind`] and inline `children`.
///
/// Envelope fields are `None`/empty in blocks built locally (requests, parsed Markdown).
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Block id (responses).
    pub id: Option<String>,
    /// The type and its payload.
    pub kind: BlockKind,
    /// Whether the block has nested blocks (responses; list them with the children endpoint).
    pub has_children: bool,
    /// Nested blocks held inline (requests, converter trees).
    pub children: Vec<Block>,
    /// `parent` object (responses).
    pub parent: Option<Value>,
    /// ISO 8601 creation time (responses).
    pub created_time: Option<String>,
    /// ISO 8601 last edit time, rounded to the minute (responses).
    pub last_edited_time: Option<String>,
    /// Creator (responses).
    pub created_by: Option<Box<User>>,
    /// Last editor (responses).
    pub last_edited_by: Option<Box<User>>,
    /// In the trash (responses; `archived` is the older name).
    pub in_trash: bool,
    /// Envelope fields this build does not model, e.g. `object`, `archived`, new fields.
    pub extra: JsonMap,
}

impl Block {
    /// Whether this block's children belong to its page's content (and must be read to
    /// render it): every block with children except child pages and databases (their
    /// content is their own) and synced block copies (a placeholder naming the original).
    pub fn needs_children(&self) -> bool {
        if !self.has_children {
            return false;
        }
        match &self.kind {
            BlockKind::ChildPage(_) | BlockKind::ChildDatabase(_) => false,
            BlockKind::SyncedBlock(s) => s.synced_from.is_none(),
            _ => true,
        }
    }

    /// A new local block of the given kind, with no id and no children.
    pub fn new(kind: BlockKind) -> Self {
        Block {
            id: None,
            kind,
            has_children: false,
            children: Vec::new(),
            parent: None,
            created_time: None,
            last_edited_time: None,
            created_by: None,
            last_edited_by: None,
            in_trash: false,
            extra: JsonMap::new(),
        }
    }

    /// A new local block with children.
    pub fn with_children(kind: BlockKind, children: Vec<Block>) -> Self {
        let mut b = Block::new(kind);
        b.children = children;
        b
    }

    /// The API type name, e.g. `"paragraph"`.
    pub fn type_name(&self) -> &str {
        self.kind.type_name()
    }

    /// This block as a create request wants it: `{"type", T: {…, "children": […]}}`,
    /// children nested inside the type object, no envelope or response-only fields.
    pub fn to_request(&self) -> Value {
        let mut kind = self.kind.clone();
        for arr in kind.rich_text_arrays_mut() {
            arr.iter_mut().for_each(RichText::strip_response_fields);
        }
        let mut map = JsonMap::new();
        map.insert("type".into(), Value::String(kind.type_name().to_string()));
        let mut payload = kind.payload();
        if !self.children.is_empty() {
            if let Value::Object(p) = &mut payload {
                let children = self.children.iter().map(Block::to_request).collect();
                p.insert("children".into(), Value::Array(children));
            }
        }
        map.insert(kind.type_name().to_string(), payload);
        Value::Object(map)
    }

    /// This block's payload as an update request wants it: `{T: {…}}` without children.
    pub fn to_update_request(&self) -> Value {
        let mut kind = self.kind.clone();
        for arr in kind.rich_text_arrays_mut() {
            arr.iter_mut().for_each(RichText::strip_response_fields);
        }
        let mut map = JsonMap::new();
        map.insert(kind.type_name().to_string(), kind.payload());
        Value::Object(map)
    }

    /// Number of blocks in this tree, itself included.
    pub fn tree_size(&self) -> usize {
        1 + self.children.iter().map(Block::tree_size).sum::<usize>()
    }

    /// Depth of the tree below this block (0 when it has no inline children).
    pub fn tree_depth(&self) -> usize {
        self.children
            .iter()
            .map(|c| 1 + c.tree_depth())
            .max()
            .unwrap_or(0)
    }
}

const ENVELOPE: [&str; 8] = [
    "id",
    "has_children",
    "parent",
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "in_trash",
];

impl Serialize for Block {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let mut map = JsonMap::new();
        if self.id.is_some() && !self.extra.contains_key("object") {
            map.insert("object".into(), Value::String("block".into()));
        }
        // `object` leads the envelope when the API sent it.
        if let Some(obj) = self.extra.get("object") {
            map.insert("object".into(), obj.clone());
        }
        if let Some(id) = &self.id {
            map.insert("id".into(), Value::String(id.clone()));
        }
        let opt = |v: &Option<String>| v.clone().map(Value::String);
        if let Some(p) = &self.parent {
            map.insert("parent".into(), p.clone());
        }
        if let Some(t) = opt(&self.created_time) {
            map.insert("created_time".into(), t);
        }
        if let Some(t) = opt(&self.last_edited_time) {
            map.insert("last_edited_time".into(), t);
        }
        if let Some(u) = &self.created_by {
            map.insert(
                "created_by".into(),
                serde_json::to_value(u).map_err(S::Error::custom)?,
            );
        }
        if let Some(u) = &self.last_edited_by {
            map.insert(
                "last_edited_by".into(),
                serde_json::to_value(u).map_err(S::Error::custom)?,
            );
        }
        if self.id.is_some() {
            map.insert("has_children".into(), Value::Bool(self.has_children));
            map.insert("in_trash".into(), Value::Bool(self.in_trash));
        }
        for (k, v) in &self.extra {
            if k != "object" {
                map.insert(k.clone(), v.clone());
            }
        }
        self.kind.put_into(&mut map);
        if !self.children.is_empty() {
            // Inside the type object, where requests and the reference put them; top level
            // only when the payload is not an object.
            let children = serde_json::to_value(&self.children).map_err(S::Error::custom)?;
            match map.get_mut(self.kind.type_name()) {
                Some(Value::Object(payload)) => {
                    payload.insert("children".into(), children);
                }
                _ => {
                    map.insert("children".into(), children);
                }
            }
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        // Children may sit at the top level (converter trees) or inside the type object
        // (requests); take them from wherever they are before reading the payload.
        let mut children: Vec<Block> = match map.remove("children") {
            Some(Value::Null) | None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(D::Error::custom)?,
        };
        if let Some(Value::String(t)) = map.get("type").cloned() {
            if let Some(Value::Object(p)) = map.get_mut(&t) {
                if let Some(v) = p.remove("children") {
                    let inner: Vec<Block> = serde_json::from_value(v).map_err(D::Error::custom)?;
                    children.extend(inner);
                }
            }
        }
        let kind = BlockKind::take_from(&mut map).map_err(D::Error::custom)?;
        let string = |map: &mut JsonMap, k: &str| match map.remove(k) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let user = |map: &mut JsonMap, k: &str| -> Result<Option<Box<User>>, D::Error> {
            match map.remove(k) {
                Some(Value::Null) | None => Ok(None),
                Some(v) => serde_json::from_value(v)
                    .map(Some)
                    .map_err(D::Error::custom),
            }
        };
        let id = string(&mut map, "id");
        let created_time = string(&mut map, "created_time");
        let last_edited_time = string(&mut map, "last_edited_time");
        let created_by = user(&mut map, "created_by")?;
        let last_edited_by = user(&mut map, "last_edited_by")?;
        let parent = map.remove("parent");
        let has_children = map
            .remove("has_children")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let in_trash = map
            .remove("in_trash")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        debug_assert!(ENVELOPE.iter().all(|k| !map.contains_key(*k)));
        Ok(Block {
            id,
            kind,
            has_children: has_children || !children.is_empty(),
            children,
            parent,
            created_time,
            last_edited_time,
            created_by,
            last_edited_by,
            in_trash,
            extra: super::compact(map),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reference_paragraph_round_trips() {
        let v = json!({
            "object": "block",
            "id": "c02fc1d3-db8b-45c5-a222-27595b15aea7",
            "parent": {"type": "page_id", "page_id": "59833787-2cf9-4fdf-8782-e53db20768a5"},
            "created_time": "2022-03-01T19:05:00.000Z",
            "last_edited_time": "2022-07-06T19:41:00.000Z",
            "created_by": {"object": "user", "id": "ee5f0f84-409a-440f-983a-a5315961c6e4"},
            "last_edited_by": {"object": "user", "id": "ee5f0f84-409a-440f-983a-a5315961c6e4"},
            "has_children": false,
            "archived": false,
            "in_trash": false,
            "type": "paragraph",
            "paragraph": {"rich_text": [], "color": "default"}
        });
        let b: Block = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(b.type_name(), "paragraph");
        let back = serde_json::to_value(&b).unwrap();
        let back_map = back.as_object().unwrap();
        for (k, val) in v.as_object().unwrap() {
            assert_eq!(back_map.get(k), Some(val), "field {k}");
        }
        assert_eq!(back_map.len(), v.as_object().unwrap().len());
    }

    #[test]
    fn unknown_block_type_is_kept_verbatim() {
        let v = json!({"object": "block", "id": "x", "has_children": false, "in_trash": false,
                       "type": "ai_block", "ai_block": {"prompt": "hi", "n": [1, 2]}});
        let b: Block = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(b.type_name(), "ai_block");
        assert_eq!(serde_json::to_value(&b).unwrap(), v);
        assert!(!b.kind.is_creatable());
    }

    #[test]
    fn request_nests_children_in_type_object_and_drops_envelope() {
        let v = json!({"object": "block", "id": "x", "has_children": true, "type": "toggle",
            "toggle": {"rich_text": [{"type": "text", "text": {"content": "t", "link": null},
              "plain_text": "t", "href": null}], "color": "default"},
            "children": [{"type": "paragraph", "paragraph": {"rich_text": []}}]});
        let b: Block = serde_json::from_value(v).unwrap();
        assert_eq!(b.children.len(), 1);
        let r = b.to_request();
        assert_eq!(r["type"], "toggle");
        assert!(r.get("id").is_none());
        assert_eq!(r["toggle"]["children"][0]["type"], "paragraph");
        assert!(r["toggle"]["rich_text"][0].get("plain_text").is_none());
        // And the request form reads back to the same tree.
        let again: Block = serde_json::from_value(r).unwrap();
        assert_eq!(again.children.len(), 1);
    }

    #[test]
    fn media_keeps_file_type_caption_and_name() {
        let v = json!({"type": "file", "file": {"type": "external", "external": {"url": "https://x/y.pdf"},
            "caption": [], "name": "y.pdf"}});
        let b: Block = serde_json::from_value(v.clone()).unwrap();
        match &b.kind {
            BlockKind::File(m) => {
                assert_eq!(m.file.url(), Some("https://x/y.pdf"));
                assert_eq!(m.name.as_deref(), Some("y.pdf"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(b.to_request(), v);
    }

    #[test]
    fn synced_original_serializes_null_synced_from() {
        let b = Block::new(BlockKind::SyncedBlock(SyncedBlock {
            synced_from: None,
            extra: JsonMap::new(),
        }));
        assert_eq!(
            b.to_request(),
            json!({"type": "synced_block", "synced_block": {"synced_from": null}})
        );
        assert!(b.kind.is_creatable());
    }
}
