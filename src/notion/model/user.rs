//! The user object (/reference/user): people and bots.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JsonMap;

/// A Notion user. Most fields are present only with the matching capability, so all but
/// `id` are optional; a mention or `created_by` often carries just `{object, id}`.
/// An explicit `"name": null` or `"avatar_url": null` is written back as received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct User {
    /// Always `"user"`.
    #[serde(default = "user_object")]
    pub object: String,
    /// The user's UUID.
    pub id: String,
    /// `"person"` or `"bot"` (absent on partial users).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Avatar image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Present for people: `{email}` when the integration may read e-mails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    /// Present for bots: owner, workspace name and limits (full only for `users/me`).
    /// Boxed: users sit inside every block and mention, and most are people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<Box<Bot>>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

keep_nulls!(User {
    kind,
    name,
    avatar_url,
    person,
    bot
});

fn user_object() -> String {
    "user".to_string()
}

/// The `person` part of a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// E-mail address, when the capability allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The `bot` part of a user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    /// Who owns the bot: `{type: "workspace", workspace: true}` or `{type: "user", user}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Value>,
    /// Name of the workspace the bot belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
    /// Id of the workspace the bot belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// Limits of the workspace, e.g. the largest file upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_limits: Option<WorkspaceLimits>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `bot.workspace_limits`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceLimits {
    /// Largest file the workspace accepts through the File Upload API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_upload_size_in_bytes: Option<u64>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl User {
    /// A reference to a user by id, as requests take it (`{"object":"user","id":…}`).
    pub fn reference(id: impl Into<String>) -> Self {
        User {
            object: user_object(),
            id: id.into(),
            kind: None,
            name: None,
            avatar_url: None,
            person: None,
            bot: None,
            extra: JsonMap::new(),
        }
    }

    /// The user's e-mail, if known.
    pub fn email(&self) -> Option<&str> {
        self.person.as_ref()?.email.as_deref()
    }
}
