//! Text and block colours (/reference/rich-text annotations, the `color` of text blocks):
//! Notion's 19 names as a small enum, so a run or block carries its colour without a heap
//! string.
//!
//! A name this build does not know is kept as [`Color::Other`] and written back exactly as
//! read, so (de)serialization is the identity on every string, known or not.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! colors {
    ($($variant:ident => $name:literal, $short:literal;)*) => {
        /// A text or block colour: a text colour (`red`) or a background (`red_background`).
        #[derive(Clone, Debug, Default)]
        pub enum Color {
            /// `default`: no colour.
            #[default]
            Default,
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )*
            /// A name this build does not know, as Notion spelled it (never one of the
            /// names above: [`Color::from_name`] maps those to their variant).
            Other(String),
        }

        impl Color {
            /// The API name (`red_background`).
            pub fn as_str(&self) -> &str {
                match self {
                    Color::Default => "default",
                    $(Color::$variant => $name,)*
                    Color::Other(s) => s,
                }
            }

            /// The colour with this API name (no allocation for a known one).
            pub fn from_name(name: &str) -> Color {
                match name {
                    "default" => Color::Default,
                    $($name => Color::$variant,)*
                    other => Color::Other(other.to_string()),
                }
            }

            /// The short form the Markdown dialect writes (`red_bg` for `red_background`),
            /// for a known colour.
            pub fn short_name(&self) -> Option<&'static str> {
                match self {
                    Color::Default => Some("default"),
                    $(Color::$variant => Some($short),)*
                    Color::Other(_) => None,
                }
            }

            /// The known colour whose short form is `short` (`red_bg`, `red`).
            pub fn from_short_name(short: &str) -> Option<Color> {
                match short {
                    "default" => Some(Color::Default),
                    $($short => Some(Color::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

colors! {
    Gray => "gray", "gray";
    Brown => "brown", "brown";
    Orange => "orange", "orange";
    Yellow => "yellow", "yellow";
    Green => "green", "green";
    Blue => "blue", "blue";
    Purple => "purple", "purple";
    Pink => "pink", "pink";
    Red => "red", "red";
    GrayBackground => "gray_background", "gray_bg";
    BrownBackground => "brown_background", "brown_bg";
    OrangeBackground => "orange_background", "orange_bg";
    YellowBackground => "yellow_background", "yellow_bg";
    GreenBackground => "green_background", "green_bg";
    BlueBackground => "blue_background", "blue_bg";
    PurpleBackground => "purple_background", "purple_bg";
    PinkBackground => "pink_background", "pink_bg";
    RedBackground => "red_background", "red_bg";
}

impl Color {
    /// True for `default`.
    pub fn is_default(&self) -> bool {
        matches!(self, Color::Default)
    }
}

/// Colours are equal when their names are (an `Other` never holds a known name, but one
/// built by hand still compares by name).
impl PartialEq for Color {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Color::Other(_), _) | (_, Color::Other(_)) => self.as_str() == other.as_str(),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for Color {}

impl PartialEq<str> for Color {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Color {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Color> for &str {
    fn eq(&self, other: &Color) -> bool {
        *self == other.as_str()
    }
}

impl From<&str> for Color {
    fn from(name: &str) -> Self {
        Color::from_name(name)
    }
}

impl From<String> for Color {
    fn from(name: String) -> Self {
        match Color::from_name(&name) {
            Color::Other(_) => Color::Other(name),
            known => known,
        }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Color;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a colour name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Color, E> {
                Ok(Color::from_name(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Color, E> {
                Ok(Color::from(v))
            }
        }
        d.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_name_round_trips_known_or_not() {
        for name in [
            "default",
            "red",
            "red_background",
            "gray_background",
            "teal",
            "teal_background",
            "",
        ] {
            let c: Color = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(serde_json::to_value(&c).unwrap(), json!(name));
            assert_eq!(c, name);
            let from_str: Color = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(from_str, c);
        }
        let teal = Color::from("teal");
        assert!(matches!(teal, Color::Other(ref s) if s == "teal"));
        assert!(matches!(Color::from("red".to_string()), Color::Red));
        assert_eq!(Color::Other("red".into()), Color::Red);
        assert!(serde_json::from_value::<Color>(json!(3)).is_err());
    }

    #[test]
    fn short_names() {
        assert_eq!(Color::RedBackground.short_name(), Some("red_bg"));
        assert_eq!(
            Color::from_short_name("blue_bg"),
            Some(Color::BlueBackground)
        );
        assert_eq!(Color::from_short_name("blue"), Some(Color::Blue));
        assert_eq!(Color::from_short_name("teal"), None);
        assert_eq!(Color::Other("teal".into()).short_name(), None);
        assert_eq!(std::mem::size_of::<Color>(), std::mem::size_of::<String>());
    }
}
