//! GitHub alerts (`> [!NOTE]` …) and the callouts they stand for (spec 3.1).
//!
//! Each alert kind is one callout icon and background colour, after GitHub's own colours:
//!
//! | alert | callout icon | callout color |
//! |---|---|---|
//! | `> [!NOTE]` | ℹ️ | `blue_background` |
//! | `> [!TIP]` | 💡 | `green_background` |
//! | `> [!IMPORTANT]` | ❗ | `purple_background` |
//! | `> [!WARNING]` | ⚠️ | `yellow_background` |
//! | `> [!CAUTION]` | 🛑 | `red_background` |
//!
//! An alert reads as that callout; a callout with exactly that icon (an emoji icon, as
//! written here) and colour renders as the alert, its text and children inside the quote,
//! so either form comes back as itself. Any other callout renders as `<callout>`.

use pulldown_cmark::BlockQuoteKind;

use crate::notion::model::Icon;

/// One alert kind and the callout it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    /// The word in the marker, e.g. `NOTE` for `> [!NOTE]`.
    pub kind: &'static str,
    /// The callout's emoji icon.
    pub icon: &'static str,
    /// The callout's colour (API name).
    pub color: &'static str,
}

/// Every alert kind GitHub renders, with its callout.
pub const ALERTS: [Alert; 5] = [
    Alert {
        kind: "NOTE",
        icon: "ℹ️",
        color: "blue_background",
    },
    Alert {
        kind: "TIP",
        icon: "💡",
        color: "green_background",
    },
    Alert {
        kind: "IMPORTANT",
        icon: "❗",
        color: "purple_background",
    },
    Alert {
        kind: "WARNING",
        icon: "⚠️",
        color: "yellow_background",
    },
    Alert {
        kind: "CAUTION",
        icon: "🛑",
        color: "red_background",
    },
];

/// The alert a callout with this icon and colour renders as, if any.
pub fn for_callout(icon: Option<&Icon>, color: &str) -> Option<&'static Alert> {
    let Some(Icon::Emoji(emoji)) = icon else {
        return None;
    };
    ALERTS.iter().find(|a| a.icon == emoji && a.color == color)
}

/// The alert pulldown-cmark read.
pub(crate) fn for_quote(kind: BlockQuoteKind) -> &'static Alert {
    let i = match kind {
        BlockQuoteKind::Note => 0,
        BlockQuoteKind::Tip => 1,
        BlockQuoteKind::Important => 2,
        BlockQuoteKind::Warning => 3,
        BlockQuoteKind::Caution => 4,
    };
    &ALERTS[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_maps_to_a_distinct_callout_and_back() {
        for kind in [
            BlockQuoteKind::Note,
            BlockQuoteKind::Tip,
            BlockQuoteKind::Important,
            BlockQuoteKind::Warning,
            BlockQuoteKind::Caution,
        ] {
            let a = for_quote(kind);
            let icon = Icon::Emoji(a.icon.to_string());
            assert_eq!(for_callout(Some(&icon), a.color), Some(a));
            assert_eq!(for_callout(Some(&icon), "gray_background"), None);
        }
        assert_eq!(for_callout(None, "blue_background"), None);
    }
}
