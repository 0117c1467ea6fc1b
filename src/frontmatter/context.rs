//! What the front matter codec needs to know about the world, as an explicit input so the
//! codec stays pure: users by e-mail, related rows by path, attachments by path.

use std::collections::HashMap;

use crate::notion::model::file::FileObject;
use crate::notion::model::property::FileEntry;

/// Lookups the codec cannot do from the page and schema alone. Paths are relative to the
/// row's `.md` file, as they appear in the front matter.
pub trait Context {
    /// The e-mail of a user id, when known (a user object's own `person.email` is used
    /// first).
    fn user_email(&self, user_id: &str) -> Option<String>;
    /// The user id of an e-mail.
    fn user_id(&self, email: &str) -> Option<String>;
    /// The relative path of a related row's `.md` file, when that row is visible.
    fn relation_path(&self, page_id: &str) -> Option<String>;
    /// The page id of a related row's relative path.
    fn relation_id(&self, path: &str) -> Option<String>;
    /// The relative path of the attachment that shows a Notion-hosted file of the files
    /// property `property`.
    fn attachment_path(&self, property: &str, file: &FileEntry) -> Option<String>;
}

/// The stable part of a Notion-hosted file's signed URL (without the query, which changes
/// on every read), used to recognise the same file across reads.
pub fn hosted_file_key(file: &FileEntry) -> Option<String> {
    match &file.file {
        FileObject::File(f) => Some(f.url.split('?').next().unwrap_or(&f.url).to_string()),
        _ => None,
    }
}

/// A [`Context`] backed by in-memory tables (tests, and callers that gather the tables
/// beforehand).
#[derive(Clone, Debug, Default)]
pub struct MemoryContext {
    /// User id -> e-mail.
    pub emails: HashMap<String, String>,
    /// Page id -> relative path of the related row.
    pub rows: HashMap<String, String>,
    /// [`hosted_file_key`] -> relative path of the attachment.
    pub attachments: HashMap<String, String>,
}

impl MemoryContext {
    /// Adds a user with an e-mail.
    pub fn with_user(mut self, id: &str, email: &str) -> Self {
        self.emails.insert(id.to_string(), email.to_string());
        self
    }

    /// Adds a visible row.
    pub fn with_row(mut self, id: &str, path: &str) -> Self {
        self.rows.insert(id.to_string(), path.to_string());
        self
    }

    /// Adds an attachment for the hosted file whose URL (query ignored) is `url`.
    pub fn with_attachment(mut self, url: &str, path: &str) -> Self {
        let key = url.split('?').next().unwrap_or(url).to_string();
        self.attachments.insert(key, path.to_string());
        self
    }
}

impl Context for MemoryContext {
    fn user_email(&self, user_id: &str) -> Option<String> {
        self.emails.get(user_id).cloned()
    }

    fn user_id(&self, email: &str) -> Option<String> {
        // Sorted so that a duplicated e-mail resolves the same way every time.
        let mut ids: Vec<&String> = self
            .emails
            .iter()
            .filter(|(_, e)| e.eq_ignore_ascii_case(email))
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.first().map(|s| s.to_string())
    }

    fn relation_path(&self, page_id: &str) -> Option<String> {
        self.rows.get(page_id).cloned()
    }

    fn relation_id(&self, path: &str) -> Option<String> {
        let mut ids: Vec<&String> = self
            .rows
            .iter()
            .filter(|(_, p)| p.as_str() == path)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.first().map(|s| s.to_string())
    }

    fn attachment_path(&self, _property: &str, file: &FileEntry) -> Option<String> {
        self.attachments.get(&hosted_file_key(file)?).cloned()
    }
}
