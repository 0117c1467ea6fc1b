//! Stable inode numbers: every object the mount shows gets one number for the life of the
//! mount, keyed by what it is ([`NodeKey`]), never by its name or place — so a rename or a
//! move in Notion keeps the inode, and listing again never hands out new numbers.

use std::collections::HashMap;
use std::sync::Mutex;

/// The inode of the mount's root directory.
pub const ROOT_INO: u64 = 1;

/// What an inode stands for. Ids are Notion ids as the API gives them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKey {
    /// The mount's root directory.
    Root,
    /// `T.md` of a page or row.
    PageFile(String),
    /// The folder `T/` of a page or row.
    PageDir(String),
    /// A database's folder (rows, or a folder per data source).
    Database(String),
    /// A data source's folder inside a multi-source database.
    DataSource(String),
    /// `.schema.yaml` of a data source.
    Schema(String),
    /// An attachment: the media block's id.
    Attachment(String),
    /// A file that lives only in memory (an editor's temp or swap file), by serial number.
    Local(u64),
}

impl NodeKey {
    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(
            self,
            NodeKey::Root | NodeKey::PageDir(_) | NodeKey::Database(_) | NodeKey::DataSource(_)
        )
    }
}

/// Where an inode was last seen: its parent directory and its name there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Parent directory inode.
    pub parent: u64,
    /// Name in the parent.
    pub name: String,
}

#[derive(Default)]
struct Table {
    by_key: HashMap<NodeKey, u64>,
    by_ino: HashMap<u64, (NodeKey, Option<Place>)>,
    next: u64,
}

/// The inode table. Numbers are never reused during a mount.
pub struct Inodes {
    table: Mutex<Table>,
}

impl Default for Inodes {
    fn default() -> Self {
        Self::new()
    }
}

impl Inodes {
    /// A table holding only the root.
    pub fn new() -> Self {
        let mut t = Table {
            next: ROOT_INO + 1,
            ..Table::default()
        };
        t.by_key.insert(NodeKey::Root, ROOT_INO);
        t.by_ino.insert(ROOT_INO, (NodeKey::Root, None));
        Inodes {
            table: Mutex::new(t),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // Every update below is a single insert; a poisoned lock holds a consistent table.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inode of `key`, allocating one the first time; records its current place.
    pub fn ino(&self, key: &NodeKey, place: Option<Place>) -> u64 {
        let mut t = self.lock();
        let ino = match t.by_key.get(key) {
            Some(i) => *i,
            None => {
                let i = t.next;
                t.next += 1;
                t.by_key.insert(key.clone(), i);
                i
            }
        };
        let entry = t.by_ino.entry(ino).or_insert((key.clone(), None));
        if place.is_some() {
            entry.1 = place;
        }
        ino
    }

    /// The key of `ino`, if the mount ever handed it out.
    pub fn key(&self, ino: u64) -> Option<NodeKey> {
        self.lock().by_ino.get(&ino).map(|(k, _)| k.clone())
    }

    /// The last known place of `ino`.
    pub fn place(&self, ino: u64) -> Option<Place> {
        self.lock().by_ino.get(&ino).and_then(|(_, p)| p.clone())
    }

    /// The inode of `key` if it has one (no allocation).
    pub fn find(&self, key: &NodeKey) -> Option<u64> {
        self.lock().by_key.get(key).copied()
    }

    /// Gives `old`'s inode (if any) to `new`, keeping its number and place: an object
    /// known by a local id until Notion gave its own keeps the inode the kernel holds.
    pub fn rekey(&self, old: &NodeKey, new: NodeKey) {
        let mut t = self.lock();
        if let Some(ino) = t.by_key.remove(old) {
            t.by_key.insert(new.clone(), ino);
            if let Some(e) = t.by_ino.get_mut(&ino) {
                e.0 = new;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rekeyed_inode_keeps_its_number_and_place() {
        let t = Inodes::new();
        let place = Place {
            parent: ROOT_INO,
            name: "T.md".into(),
        };
        let a = t.ino(&NodeKey::PageFile("local-1".into()), Some(place.clone()));
        t.rekey(
            &NodeKey::PageFile("local-1".into()),
            NodeKey::PageFile("r".into()),
        );
        assert_eq!(t.find(&NodeKey::PageFile("r".into())), Some(a));
        assert_eq!(t.find(&NodeKey::PageFile("local-1".into())), None);
        assert_eq!(t.key(a), Some(NodeKey::PageFile("r".into())));
        assert_eq!(t.place(a), Some(place));
    }

    #[test]
    fn inodes_are_stable_and_unique() {
        let t = Inodes::new();
        let a = t.ino(&NodeKey::PageFile("a".into()), None);
        let b = t.ino(&NodeKey::PageDir("a".into()), None);
        assert_ne!(a, b);
        assert_ne!(a, ROOT_INO);
        assert_eq!(t.ino(&NodeKey::PageFile("a".into()), None), a);
        assert_eq!(t.key(a), Some(NodeKey::PageFile("a".into())));
        assert_eq!(t.key(ROOT_INO), Some(NodeKey::Root));
        let p = Place {
            parent: ROOT_INO,
            name: "A.md".into(),
        };
        t.ino(&NodeKey::PageFile("a".into()), Some(p.clone()));
        assert_eq!(t.place(a), Some(p));
    }
}
