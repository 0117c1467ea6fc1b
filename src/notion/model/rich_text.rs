//! Rich text (/reference/rich-text): text, mentions and inline equations with annotations.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{default_color, is_false, JsonMap, User, DEFAULT_COLOR};

/// Text styling. `color` is a text colour (`red`) or a background (`red_background`).
///
/// Annotations read from the API are written back with the keys they came with (responses
/// carry every flag, `false` ones included; requests may carry a few). Annotations built
/// locally are written minimally: the `true` flags and `color`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Annotations {
    /// Bold.
    #[serde(default)]
    pub bold: bool,
    /// Italic.
    #[serde(default)]
    pub italic: bool,
    /// Strikethrough.
    #[serde(default)]
    pub strikethrough: bool,
    /// Underline.
    #[serde(default)]
    pub underline: bool,
    /// Inline code.
    #[serde(default)]
    pub code: bool,
    /// Colour name, `"default"` when plain.
    #[serde(default = "default_color")]
    pub color: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
    /// Which of the modelled keys the API sent (`None` when built locally).
    #[serde(skip)]
    pub received: ReceivedKeys,
}

/// The modelled annotation keys an object was read with, so it is written back with the
/// same keys. Ignored by `==`: runs styled alike are equal however they were spelled.
///
/// One bit per modelled key (`bold`, `italic`, `strikethrough`, `underline`, `code`, `color`:
/// bit 0 to 5), not a list of strings: every run read from the API carries one, and pages'
/// blocks are kept in memory.
#[derive(Clone, Debug, Default)]
pub struct ReceivedKeys(pub Option<u8>);

impl ReceivedKeys {
    /// The keys of `map` that are modelled annotation keys.
    fn of(map: &JsonMap) -> ReceivedKeys {
        let bits = ANNOTATION_KEYS
            .iter()
            .enumerate()
            .filter(|(_, k)| map.contains_key(**k))
            .fold(0u8, |bits, (i, _)| bits | 1 << i);
        ReceivedKeys(Some(bits))
    }

    /// Whether the key `k` was received.
    fn has(&self, k: &str) -> bool {
        match (self.0, ANNOTATION_KEYS.iter().position(|a| *a == k)) {
            (Some(bits), Some(i)) => bits & (1 << i) != 0,
            _ => false,
        }
    }
}

impl PartialEq for ReceivedKeys {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ReceivedKeys {}

/// The annotation keys the model knows (the order of [`ReceivedKeys`]' bits).
const ANNOTATION_KEYS: [&str; 6] = [
    "bold",
    "italic",
    "strikethrough",
    "underline",
    "code",
    "color",
];

impl Serialize for Annotations {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let full = Annotations::serialize(self, serde_json::value::Serializer)
            .map_err(serde::ser::Error::custom)?;
        let Value::Object(mut map) = full else {
            return Err(serde::ser::Error::custom(
                "annotations serialize to an object",
            ));
        };
        // A modelled key is written when it was received, or when it says something.
        map.retain(|k, v| {
            !ANNOTATION_KEYS.contains(&k.as_str())
                || self.received.has(k)
                || v == &Value::Bool(true)
                || (k == "color" && v != DEFAULT_COLOR)
        });
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = JsonMap::deserialize(d)?;
        let received = ReceivedKeys::of(&map);
        let mut a = Annotations::deserialize(Value::Object(map)).map_err(D::Error::custom)?;
        a.received = received;
        Ok(a)
    }
}

impl Default for Annotations {
    fn default() -> Self {
        Annotations {
            bold: false,
            italic: false,
            strikethrough: false,
            underline: false,
            code: false,
            color: default_color(),
            extra: JsonMap::new(),
            received: ReceivedKeys::default(),
        }
    }
}

impl Annotations {
    /// True when nothing is styled (so the field can be left out of requests).
    pub fn is_plain(&self) -> bool {
        [
            self.bold,
            self.italic,
            self.strikethrough,
            self.underline,
            self.code,
        ]
        .iter()
        .all(is_false)
            && self.color == DEFAULT_COLOR
            && self.extra.is_empty()
    }
}

/// A link target: `{"url": …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The URL (at most 2000 characters in requests).
    pub url: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The payload of a `text` rich text object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Text {
    /// The characters (at most 2000 per object in requests).
    pub content: String,
    /// Optional link.
    #[serde(default)]
    pub link: Option<Link>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The payload of an inline `equation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Equation {
    /// KaTeX expression (at most 1000 characters in requests).
    pub expression: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A reference by id (page, database, data source mentions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdRef {
    /// The referenced object's id.
    pub id: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A date or date range, as in date mentions and date properties.
/// An explicit `"time_zone": null` is written back as received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct DateValue {
    /// `2025-01-31` or an ISO 8601 date-time.
    pub start: String,
    /// End of a range.
    #[serde(default)]
    pub end: Option<String>,
    /// IANA time zone name, when the date-time is given without an offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

keep_nulls!(DateValue { time_zone });

/// A URL payload (link preview mentions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlRef {
    /// The URL.
    pub url: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

typed_union! {
    /// What a mention points at (/reference/rich-text#mention).
    pub enum Mention {
        /// A page.
        "page" => Page(IdRef),
        /// A database.
        "database" => Database(IdRef),
        /// A data source.
        "data_source" => DataSource(IdRef),
        /// A person.
        "user" => User(Box<User>),
        /// A date or range.
        "date" => Date(DateValue),
        /// A link preview.
        "link_preview" => LinkPreview(UrlRef),
        /// A link mention (rich link with metadata).
        "link_mention" => LinkMention(JsonMap),
        /// `today`/`now`/`me` inside template buttons.
        "template_mention" => TemplateMention(JsonMap),
        /// A workspace custom emoji.
        "custom_emoji" => CustomEmoji(super::file::CustomEmoji),
    }
}

typed_union! {
    /// The content of a rich text object.
    pub enum RichTextKind {
        /// Plain characters, optionally linked.
        "text" => Text(Text),
        /// A mention of a page, user, date, …
        "mention" => Mention(Mention),
        /// An inline KaTeX equation.
        "equation" => Equation(Equation),
    }
}

/// One run of rich text: content plus annotations.
///
/// `plain_text` and `href` are filled by the API in responses and left out of requests.
#[derive(Clone, Debug, PartialEq)]
pub struct RichText {
    /// Text, mention or equation.
    pub kind: RichTextKind,
    /// Styling.
    pub annotations: Annotations,
    /// The unformatted text (responses).
    pub plain_text: Option<String>,
    /// The URL of a link or mention (responses).
    pub href: Option<String>,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl RichText {
    /// Plain text with no styling and no link.
    pub fn plain(content: impl Into<String>) -> Self {
        Self::text(content, None, Annotations::default())
    }

    /// A text run with the given link and annotations.
    pub fn text(
        content: impl Into<String>,
        link: Option<String>,
        annotations: Annotations,
    ) -> Self {
        RichText {
            kind: RichTextKind::Text(Text {
                content: content.into(),
                link: link.map(|url| Link {
                    url,
                    extra: JsonMap::new(),
                }),
                extra: JsonMap::new(),
            }),
            annotations,
            plain_text: None,
            href: None,
            extra: JsonMap::new(),
        }
    }

    /// The readable text of this run: the content, the expression, or the API's
    /// `plain_text` for mentions (empty when unknown).
    pub fn text_content(&self) -> &str {
        match &self.kind {
            RichTextKind::Text(t) => &t.content,
            RichTextKind::Equation(e) => &e.expression,
            _ => self.plain_text.as_deref().unwrap_or(""),
        }
    }

    /// Drops the fields only responses carry (`plain_text`, `href`, the received spelling of
    /// annotations), except for mentions,
    /// whose `plain_text` is the only place their display text lives.
    pub fn strip_response_fields(&mut self) {
        if !matches!(self.kind, RichTextKind::Mention(_)) {
            self.plain_text = None;
        }
        self.href = None;
        // Requests carry annotations in their minimal form, however the response spelled them.
        self.annotations.received = ReceivedKeys::default();
    }
}

/// Most UTF-16 code units in one `text.content` of a request (the API says 2000
/// characters; a JavaScript service counts UTF-16 units, so this count never exceeds it).
pub const MAX_TEXT_CONTENT: usize = 2000;

/// Splits text runs longer than [`MAX_TEXT_CONTENT`] UTF-16 code units (the API's
/// 2000-character limit, counted the conservative way) at character
/// boundaries, so every object fits the API's limit.
pub fn split_long_runs(runs: Vec<RichText>) -> Vec<RichText> {
    // `len()` counts UTF-8 bytes, never fewer than UTF-16 units: a cheap first test.
    let any_long = runs.iter().any(|r| match &r.kind {
        RichTextKind::Text(t) => t.content.len() > MAX_TEXT_CONTENT,
        _ => false,
    });
    if !any_long {
        return runs;
    }
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        let long = match &r.kind {
            RichTextKind::Text(t) => {
                t.content.len() > MAX_TEXT_CONTENT
                    && t.content.encode_utf16().count() > MAX_TEXT_CONTENT
            }
            _ => false,
        };
        if !long {
            out.push(r);
            continue;
        }
        let RichTextKind::Text(t) = &r.kind else {
            continue;
        };
        let mut piece = String::new();
        let mut units = 0;
        for c in t.content.chars() {
            if units + c.len_utf16() > MAX_TEXT_CONTENT {
                let mut part = r.clone();
                if let RichTextKind::Text(pt) = &mut part.kind {
                    pt.content = std::mem::take(&mut piece);
                }
                out.push(part);
                units = 0;
            }
            units += c.len_utf16();
            piece.push(c);
        }
        let mut part = r.clone();
        if let RichTextKind::Text(pt) = &mut part.kind {
            pt.content = piece;
        }
        out.push(part);
    }
    out
}

/// Concatenated readable text of a rich text array.
pub fn plain_text(runs: &[RichText]) -> String {
    runs.iter().map(RichText::text_content).collect()
}

impl Serialize for RichText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        self.kind.put_into(&mut map);
        if self.annotations.received.0.is_some()
            || !self.annotations.is_plain()
            || self.plain_text.is_some()
        {
            // Written when they were read, say something, or echo a response (which always
            // carries them).
            let a = serde_json::to_value(&self.annotations).map_err(serde::ser::Error::custom)?;
            map.insert("annotations".into(), a);
        }
        if let Some(p) = &self.plain_text {
            map.insert("plain_text".into(), Value::String(p.clone()));
        }
        if let Some(h) = &self.href {
            map.insert("href".into(), Value::String(h.clone()));
        } else if self.plain_text.is_some() {
            map.insert("href".into(), Value::Null);
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RichText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let kind = RichTextKind::take_from(&mut map).map_err(D::Error::custom)?;
        let annotations = match map.remove("annotations") {
            Some(Value::Null) | None => Annotations::default(),
            Some(v) => serde_json::from_value(v).map_err(D::Error::custom)?,
        };
        let plain_text = match map.remove("plain_text") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let href = match map.remove("href") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Ok(RichText {
            kind,
            annotations,
            plain_text,
            href,
            extra: super::compact(map),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_text_round_trips_exactly() {
        let v = json!({
            "type": "text",
            "text": {"content": "Some words ", "link": null},
            "annotations": {"bold": false, "italic": false, "strikethrough": false,
                            "underline": false, "code": false, "color": "default"},
            "plain_text": "Some words ",
            "href": null
        });
        let r: RichText = serde_json::from_value(v).unwrap();
        assert_eq!(r.text_content(), "Some words ");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["plain_text"], "Some words ");
        assert_eq!(back["href"], Value::Null);
        let again: RichText = serde_json::from_value(back).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn annotations_keep_exactly_the_keys_they_were_read_with() {
        let v = json!({"italic": false, "bold": true, "color": "default", "glow": 1});
        let a: Annotations = serde_json::from_value(v.clone()).unwrap();
        let back = serde_json::to_value(&a).unwrap();
        assert_eq!(back, v);
        let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["bold", "italic", "color", "glow"]);
    }

    #[test]
    fn request_shape_is_minimal() {
        let r = RichText::plain("hi");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"type": "text", "text": {"content": "hi", "link": null}})
        );
    }

    #[test]
    fn mentions_and_unknown_kinds_survive() {
        let v = json!({"type": "mention", "mention": {"type": "date", "date": {"start": "2025-01-01", "end": null}},
                       "annotations": {"bold": true, "color": "red"}, "plain_text": "2025-01-01", "href": null});
        let r: RichText = serde_json::from_value(v).unwrap();
        assert!(matches!(r.kind, RichTextKind::Mention(Mention::Date(_))));
        assert!(r.annotations.bold);

        let v = json!({"type": "hologram", "hologram": {"x": 1}, "plain_text": "h", "href": null, "future_field": 7});
        let r: RichText = serde_json::from_value(v).unwrap();
        assert_eq!(r.kind.type_name(), "hologram");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["hologram"], json!({"x": 1}));
        assert_eq!(back["future_field"], 7);
    }

    #[test]
    fn type_may_be_omitted_in_requests() {
        let r: RichText = serde_json::from_value(json!({"text": {"content": "x"}})).unwrap();
        assert_eq!(r.text_content(), "x");
    }
}
