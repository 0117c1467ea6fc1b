//! A small YAML emitter with precise quoting, and the bridge from parsed YAML to JSON values.
//!
//! Values are `serde_json::Value` trees (mappings keep their order). The emitter writes
//! block style only: mappings as `key: value`, sequences as `- item`, empty ones as `{}` /
//! `[]`. A string is written plain only when every YAML reader (1.1 and 1.2 schemas) reads it
//! back as that same string; anything else is double-quoted with escapes. Reading goes
//! through `serde_norway`, so what this module writes reads back to the same values.

use serde_json::{Map, Number, Value};

/// Appends `key: value` lines for `entries` at `indent` spaces.
pub fn emit_mapping(out: &mut String, entries: &Map<String, Value>, indent: usize) {
    for (k, v) in entries {
        emit_entry(out, k, v, indent, false);
    }
}

/// Appends one `key: value` entry. With `dates_plain`, strings that are ISO 8601 dates or
/// date-times (anywhere inside `v`) are written unquoted, as `2025-01-31`: date values read
/// as such by every YAML reader (serde_norway reads them as strings).
pub fn emit_entry(out: &mut String, key: &str, v: &Value, indent: usize, dates_plain: bool) {
    push_indent(out, indent);
    emit_entry_here(out, key, v, indent, dates_plain);
}

/// [`emit_entry`] at the current position (after `- ` of a sequence item).
fn emit_entry_here(out: &mut String, key: &str, v: &Value, indent: usize, dates_plain: bool) {
    let k = scalar_string(key);
    if k.len() > 1000 {
        // YAML readers cap implicit keys at 1024 characters: use an explicit `? key`.
        out.push_str("? ");
        out.push_str(&k);
        out.push('\n');
        push_indent(out, indent);
    } else {
        out.push_str(&k);
    }
    out.push(':');
    emit_after_key(out, v, indent, dates_plain);
}

/// Writes a value that follows `key:` (the colon already written).
fn emit_after_key(out: &mut String, v: &Value, indent: usize, dates_plain: bool) {
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            emit_sequence(out, items, indent + 2, dates_plain);
        }
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            for (k, x) in m {
                emit_entry(out, k, x, indent + 2, dates_plain);
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar_in(other, dates_plain));
            out.push('\n');
        }
    }
}

/// Appends `- item` lines at `indent` spaces.
fn emit_sequence(out: &mut String, items: &[Value], indent: usize, dates_plain: bool) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_sequence(out, inner, indent + 2, dates_plain);
            }
            Value::Object(m) if !m.is_empty() => {
                // `- key: value` with the other keys aligned under the first.
                out.push(' ');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i == 0 {
                        emit_entry_here(out, k, x, indent + 2, dates_plain);
                    } else {
                        emit_entry(out, k, x, indent + 2, dates_plain);
                    }
                }
            }
            other => {
                out.push(' ');
                out.push_str(&scalar_in(other, dates_plain));
                out.push('\n');
            }
        }
    }
}

fn scalar_in(v: &Value, dates_plain: bool) -> String {
    match v {
        Value::String(s) if dates_plain && is_iso_date(s) => s.clone(),
        other => scalar(other),
    }
}

/// `2025-01-31` or `2025-01-31T09:00:00[.000][Z|+01:00]`: safe plain in block context.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 10
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    b[10] == b'T'
        && b.len() >= 16
        && b[11..]
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'Z' | b'+' | b'-'))
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A value on one line in YAML flow style, for messages (`[a, b]`, `{start: …}`).
pub fn flow(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", scalar_string(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => scalar(other),
    }
}

/// A scalar (or empty collection) as YAML text.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => scalar_string(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// A JSON number as YAML: integers as such, floats in Rust's shortest round-trip form
/// (always with a `.` or exponent, so they stay floats).
fn number(n: &Number) -> String {
    if n.is_f64() {
        match n.as_f64() {
            Some(f) if f.is_finite() => {
                let s = format!("{f:?}");
                // `1e20` needs a `.0` for YAML 1.1 float syntax; Rust writes `1e20`.
                if s.contains('e') && !s.contains('.') {
                    s.replacen('e', ".0e", 1)
                } else {
                    s
                }
            }
            _ => "null".to_string(),
        }
    } else {
        n.to_string()
    }
}

/// A string as YAML: plain when that is unambiguous, double-quoted otherwise.
pub fn scalar_string(s: &str) -> String {
    if needs_quotes(s) {
        double_quoted(s)
    } else {
        s.to_string()
    }
}

/// Words YAML 1.1 or 1.2 reads as null, booleans or special floats.
const RESERVED: &[&str] = &[
    "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true",
    "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "<<", "=",
];

/// True when `s` written plain would not read back as the string `s`.
pub fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    let last = s.chars().next_back().unwrap_or(first);
    if RESERVED.contains(&s) {
        return true;
    }
    // Indicators that start something else than a plain scalar, and signs.
    if "-?:,[]{}#&*!|>'\"%@`+".contains(first) {
        return true;
    }
    // `.5`, `.inf`, `.NaN`, and `...` (document end); `../x` paths stay plain.
    if first == '.' {
        let second = s.chars().nth(1);
        let lower = s.to_ascii_lowercase();
        if s.starts_with("...")
            || second.is_some_and(|c| c.is_ascii_digit())
            || lower == ".inf"
            || lower == ".nan"
        {
            return true;
        }
    }
    if first.is_ascii_digit() && looks_numeric_or_date(s) {
        return true;
    }
    if first.is_whitespace() || last.is_whitespace() || last == ':' {
        return true;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") || s.contains("\t#") {
        return true;
    }
    s.chars().any(|c| !is_plain_char(c))
}

/// For strings starting with a digit: could a YAML 1.1 or 1.2 reader take it for a number
/// (decimal, hex, octal, binary, float, sexagesimal) or a timestamp? Conservative: ids
/// like `3f2a…-…` stay plain, anything number-shaped is quoted.
fn looks_numeric_or_date(s: &str) -> bool {
    let b = s.as_bytes();
    // Timestamps: `dddd-d…`.
    if b.len() >= 6
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit()
    {
        return true;
    }
    // Radix prefixes `0x…`, `0o…`, `0b…`.
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
        return true;
    }
    // Decimal, float, exponent, sexagesimal: digits, `_`, `.`, `:`, and a sign only
    // right after an exponent mark.
    let mut prev = 0u8;
    for &c in b {
        let ok = match c {
            b'0'..=b'9' | b'_' | b'.' | b':' | b'e' | b'E' => true,
            b'+' | b'-' => matches!(prev, b'e' | b'E'),
            _ => false,
        };
        if !ok {
            return false;
        }
        prev = c;
    }
    true
}

/// Characters allowed unescaped inside a plain scalar written by this emitter.
fn is_plain_char(c: char) -> bool {
    match c {
        '\u{20}'..='\u{7E}' => true,
        // Printable per YAML, but not NEL, line/paragraph separators, BOM, specials.
        '\u{A0}'..='\u{D7FF}' => !matches!(c, '\u{2028}' | '\u{2029}'),
        '\u{E000}'..='\u{FFFD}' => c != '\u{FEFF}',
        '\u{10000}'..='\u{10FFFF}' => true,
        _ => false,
    }
}

/// `"…"` with YAML escapes for `\`, `"`, control and non-printable characters.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_plain_char(c) => out.push(c),
            c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Where and why a YAML text could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// 1-based line within the YAML text (when known).
    pub line: Option<usize>,
    /// 1-based column (when known).
    pub column: Option<usize>,
    /// The reader's message.
    pub message: String,
}

/// Reads YAML text into a JSON value tree. Tags, non-finite numbers and non-scalar
/// mapping keys are refused (they have no counterpart in the front matter).
pub fn read(text: &str) -> Result<Value, YamlError> {
    let v: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        let loc = e.location();
        YamlError {
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: e.to_string(),
        }
    })?;
    to_json(&v).map_err(|message| YamlError {
        line: None,
        column: None,
        message,
    })
}

/// serde_norway value -> JSON value.
pub fn to_json(v: &serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                match Number::from_f64(f) {
                    Some(n) => Value::Number(n),
                    None => return Err(format!("the number {f} is not finite")),
                }
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    // A user may type `2024: …` or `true: …` for a property so named.
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("mapping key {other:?} is not a string")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => return Err(format!("YAML tags ({}) are not supported", t.tag)),
    })
}

/// Equality of front matter values, numbers compared by value (`1` == `1.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) -> Value {
        let mut m = Map::new();
        m.insert("k".into(), v.clone());
        let mut out = String::new();
        emit_mapping(&mut out, &m, 0);
        read(&out).unwrap_or_else(|e| panic!("{out:?}: {e:?}"))["k"].clone()
    }

    #[test]
    fn tricky_strings_read_back_as_strings() {
        for s in [
            "no",
            "yes",
            "on",
            "off",
            "true",
            "null",
            "~",
            "1.0",
            "0x1F",
            "1e3",
            "2025-01-31",
            "a: b",
            "a #b",
            "#x",
            "-x",
            "- x",
            "?x",
            "[x",
            "{x",
            "*x",
            "&x",
            "!x",
            "|x",
            ">x",
            "'x",
            "\"x",
            "%x",
            "@x",
            "`x",
            " x",
            "x ",
            "a\nb",
            "a\tb",
            "\u{7}",
            "\u{FEFF}x",
            "x:",
            "",
            ".inf",
            ".nan",
            "...",
            "---",
            "<<",
            "=",
            "\u{85}",
            "\u{2028}",
            "é ü 漢字",
            "a\\b",
            "12:30",
            "+1",
            ".5",
            "0o17",
            "Yes",
            "NULL",
            "1_000",
            "1e+3",
            "190:20:30",
            "0b101",
            "2025-1-3",
            "2025-01-31T09:00:00Z",
            "6e",
            "3 apples",
            "3f2a-11",
            "33333333-3333-4333-8333-333333333333",
            "../Roadmap/Tasks/Third.md",
            ".Inf",
            ".NAN",
            "....",
            ".",
        ] {
            assert_eq!(round_trip(&json!(s)), json!(s), "{s:?}");
        }
    }

    #[test]
    fn very_long_keys_read_back() {
        let key = "k".repeat(3000);
        for v in [json!("x"), json!([1, 2]), json!({"a": "b"})] {
            let mut m = Map::new();
            m.insert(key.clone(), v.clone());
            m.insert("next".into(), json!(1));
            let mut out = String::new();
            emit_mapping(&mut out, &m, 0);
            assert_eq!(read(&out).unwrap(), Value::Object(m), "{v}");
        }
    }

    #[test]
    fn plain_where_safe() {
        assert_eq!(scalar_string("In progress"), "In progress");
        assert_eq!(scalar_string("no"), "\"no\"");
        assert_eq!(scalar_string("2025-01-31"), "\"2025-01-31\"");
        assert_eq!(scalar_string("a\u{1}b"), "\"a\\x01b\"");
        // Ids and words starting with a digit stay plain unless number- or date-shaped.
        assert_eq!(scalar_string("3 apples"), "3 apples");
        assert_eq!(
            scalar_string("33333333-3333-4333-8333-333333333333"),
            "33333333-3333-4333-8333-333333333333"
        );
        assert_eq!(scalar_string("1_000"), "\"1_000\"");
        assert_eq!(scalar_string("12:30"), "\"12:30\"");
        assert_eq!(scalar_string("../A.md"), "../A.md");
        assert_eq!(scalar_string(".inf"), "\".inf\"");
    }

    #[test]
    fn numbers_and_nesting_round_trip() {
        for v in [
            json!(1),
            json!(-3),
            json!(1.5),
            json!(1e20),
            json!(0.1),
            json!(null),
            json!(true),
            json!([]),
            json!({}),
            json!(["a", ["b", {"c": 1}], {"d": [1, 2], "e": {}}]),
            json!({"start": "2025-01-01", "end": null}),
        ] {
            assert!(same(&round_trip(&v), &v), "{v}");
        }
    }
}
