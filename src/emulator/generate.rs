//! A deterministic generator of a realistic large team workspace, to measure notionfs at
//! the scale of a real company (`notionfs emulator --generate N`, `cargo bench --bench large`).
//!
//! [`large_workspace`]`(pages, seed)` returns a [`Seed`] with exactly `pages` pages, about
//! 20% of them database rows. The same arguments always give the same seed, byte for byte.
//!
//! ```text
//! Engineering 🛠️ / Product 📦 / Design 🎨 / Operations ⚙️ / Company Home 🏠 /
//! Sales & Marketing 📈                            top-level pages (workspace parent)
//!   sections (Architecture, RFCs, Meeting Notes, CI/CD, IT / Security, Handbook, …)
//!     pages nested up to 8 levels; journal sections (Meeting Notes, RFCs, Postmortems,
//!     Customer Calls, …) hold many pages, some with the same title ("Weekly Sync")
//!   databases: Projects, Tasks, Issue Tracker (data sources Bugs and Feature Requests),
//!     Meetings (inline), Customers — rows with every common property type and relations
//!     (Tasks → Projects, Bugs → Tasks, Customers → Projects)
//! ```
//!
//! Bodies: most pages hold 5–60 blocks, a few 300+ (the Handbook, the Changelog and about
//! 2% of the others), some nest lists, toggles and callouts three levels deep; rows hold
//! 0–20 blocks. Rich text mixes annotations, links, colors and page / user / date mentions,
//! including annotated runs that end or begin with whitespace and paragraphs that end with
//! a space. A few pages carry small Notion-hosted images, PDFs and files. Created and edited
//! times are spread over the year before [`END_TIME`], rounded to the minute.

mod body;
mod dbs;
mod text;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use self::dbs::{Source, Targets, DATABASES};
use super::demo::{PDF_TEXT, PNG_HEX};
use super::seed::{Seed, SeedFile, SeedUser};

/// The latest timestamp of the generated workspace (fixed, so generation is deterministic).
pub const END_TIME: &str = "2025-12-01T00:00:00.000Z";

/// Share of the pages that are database rows.
pub const ROW_SHARE: f64 = 0.2;

/// Deepest nesting of pages below a top-level page.
const MAX_DEPTH: usize = 8;

/// Top-level pages, their icons and their sections.
const TOPS: &[(&str, &str, &[&str])] = &[
    (
        "Engineering",
        "🛠️",
        &[
            "Architecture",
            "Runbooks",
            "RFCs",
            "Postmortems",
            "Onboarding",
            "Meeting Notes",
            "CI/CD",
            "Team Rituals",
        ],
    ),
    (
        "Product",
        "📦",
        &["Roadmap", "Specs", "Research", "Meeting Notes", "Launches"],
    ),
    (
        "Design",
        "🎨",
        &["Design System", "Critiques", "User Research", "Brand"],
    ),
    (
        "Operations",
        "⚙️",
        &["Policies", "IT / Security", "Vendors", "Hiring"],
    ),
    (
        "Company Home",
        "🏠",
        &["Announcements", "Handbook", "All-Hands Notes", "Offsites"],
    ),
    (
        "Sales & Marketing",
        "📈",
        &[
            "Campaigns",
            "Playbooks",
            "Customer Calls",
            "Content Calendar",
        ],
    ),
];

/// Sections that collect many dated pages.
const JOURNALS: &[&str] = &[
    "Meeting Notes",
    "RFCs",
    "Postmortems",
    "Research",
    "Critiques",
    "Announcements",
    "All-Hands Notes",
    "Customer Calls",
];

/// A chain under Engineering / Architecture that guarantees deep nesting.
const DEEP_CHAIN: &[&str] = &[
    "Storage",
    "Storage Engine",
    "Compaction",
    "Deep Dive: Compaction Heuristics",
    "Appendix: Benchmarks",
];

const USERS: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Linus Torvalds",
    "Margaret Hamilton",
    "Alan Turing",
    "Barbara Liskov",
    "Ken Thompson",
    "Radia Perlman",
    "Donald Knuth",
    "Frances Allen",
    "Edsger Dijkstra",
    "Katherine Johnson",
];

const ICONS: &[&str] = &["📄", "📝", "📚", "🚀", "🔧", "📊", "🧪", "🗓️", "💬", "🔒"];

/// A small deterministic PRNG (SplitMix64): stable across platforms and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c908)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// A random string of a non-empty list.
    pub fn word(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len())]
    }
}

/// One planned page outside the databases.
#[derive(Debug, Clone)]
struct PagePlan {
    id: String,
    /// Index of the parent plan (`None` = workspace).
    parent: Option<usize>,
    title: String,
    depth: usize,
    icon: Option<&'static str>,
    /// Blocks in its body (nested ones included).
    blocks: usize,
    nested: bool,
}

/// Generation state: the random stream, ids, people and what mentions may point to.
pub(crate) struct Gen {
    rng: Rng,
    seed: u64,
    ids: u64,
    end: DateTime<Utc>,
    users: Vec<String>,
    user_names: Vec<String>,
    mention_pool: Vec<String>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let end = super::util::parse_time(END_TIME).expect("END_TIME is valid");
        Gen {
            rng: Rng::new(seed),
            seed,
            ids: 0,
            end,
            users: Vec::new(),
            user_names: Vec::new(),
            mention_pool: Vec::new(),
        }
    }

    /// A fresh deterministic UUID (v4 layout).
    fn id(&mut self) -> String {
        self.ids += 1;
        let mut r =
            Rng::new(self.seed.rotate_left(17) ^ self.ids.wrapping_mul(0xa076_1d64_78bd_642f));
        let (a, b) = (r.next_u64(), r.next_u64());
        let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
        uuid::Builder::from_random_bytes(bytes.try_into().expect("16 bytes"))
            .into_uuid()
            .to_string()
    }

    /// A date (`YYYY-MM-DD`) in the workspace's year.
    fn day(&mut self) -> String {
        let back = self.rng.below(365) as i64;
        (self.end - Duration::days(back))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// A date-time on a working hour, minute precision.
    fn time_of_day(&mut self) -> String {
        let day = self.day();
        format!(
            "{day}T{:02}:{:02}:00.000Z",
            self.rng.range(8, 17),
            self.rng.below(4) * 15
        )
    }

    /// (created, last edited) minute-rounded times within the year before [`END_TIME`].
    fn times(&mut self) -> (String, String) {
        let year = 365 * 24 * 60;
        let created = self.rng.range(60, year) as i64;
        let edited = self.rng.range(0, created as usize) as i64;
        let fmt = |m: i64| {
            (self.end - Duration::minutes(m))
                .format("%Y-%m-%dT%H:%M:00.000Z")
                .to_string()
        };
        (fmt(created), fmt(edited))
    }

    fn user(&mut self) -> String {
        self.rng.pick(&self.users).clone()
    }

    /// Dated titles of journal sections (often repeated among siblings).
    fn journal_title(&mut self, section: &str) -> String {
        let day = self.day();
        let topic = self.rng.pick(text::TOPICS);
        match section {
            "Meeting Notes" | "All-Hands Notes" => match self.rng.below(6) {
                0 => "Weekly Sync".to_string(),
                1 => {
                    let a = self.rng.pick(USERS).split(' ').next().unwrap_or("Ada");
                    let b = self.rng.pick(USERS).split(' ').next().unwrap_or("Grace");
                    format!("1:1 {a} / {b}")
                }
                2 => format!("Planning {day}"),
                _ => format!("Weekly Sync {day}"),
            },
            "RFCs" => format!("RFC-{:04}: {topic}", self.rng.below(1000)),
            "Postmortems" => format!("Postmortem {day}: {topic} outage"),
            "Customer Calls" => format!("Call notes {day}"),
            "Announcements" => format!("{topic} is now available"),
            _ => format!("{topic} {day}"),
        }
    }
}

/// The body size of an ordinary page: mostly 5–60 blocks, a few 300+.
fn page_size(rng: &mut Rng) -> usize {
    match rng.unit() {
        r if r < 0.6 => rng.range(5, 20),
        r if r < 0.9 => rng.range(20, 50),
        r if r < 0.98 => rng.range(50, 100),
        _ => rng.range(300, 400),
    }
}

/// Adds a fixed page of the scaffold; returns its index.
fn push(g: &mut Gen, plans: &mut Vec<PagePlan>, parent: Option<usize>, title: &str) -> usize {
    let depth = parent.map_or(0, |p| plans[p].depth + 1);
    let blocks = match title {
        "Handbook" => 360,
        "Changelog" => 320,
        _ => g.rng.range(3, 12),
    };
    plans.push(PagePlan {
        id: g.id(),
        parent,
        title: title.to_string(),
        depth,
        icon: None,
        blocks,
        nested: false,
    });
    plans.len() - 1
}

/// Plans the tree of ordinary pages: top-level pages, sections, the deep chain, then
/// `count` pages in all (parents always before their children).
fn plan_tree(g: &mut Gen, count: usize) -> Vec<PagePlan> {
    let mut plans: Vec<PagePlan> = Vec::new();
    let mut tops = Vec::new();
    for (title, icon, _) in TOPS {
        let i = push(g, &mut plans, None, title);
        plans[i].icon = Some(icon);
        tops.push(i);
    }
    let mut journals = Vec::new();
    for (t, (_, _, sections)) in tops.iter().zip(TOPS) {
        for s in *sections {
            let i = push(g, &mut plans, Some(*t), s);
            if JOURNALS.contains(s) {
                journals.push(i);
            }
        }
    }
    let arch = plans.iter().position(|p| p.title == "Architecture");
    let mut chain_parent = arch;
    for title in DEEP_CHAIN {
        chain_parent = chain_parent.map(|p| push(g, &mut plans, Some(p), title));
    }
    push(g, &mut plans, tops.first().copied(), "Changelog");
    plans.truncate(count);
    journals.retain(|j| *j < plans.len());
    let mut containers: Vec<usize> = (0..plans.len()).collect();
    let mut siblings: std::collections::HashMap<usize, Vec<String>> = Default::default();
    while plans.len() < count {
        let journal = !journals.is_empty() && g.rng.chance(0.3);
        let parent = if journal {
            *g.rng.pick(&journals)
        } else {
            *g.rng.pick(&containers)
        };
        let kin = siblings.entry(parent).or_default();
        let title = if !kin.is_empty() && g.rng.chance(0.03) {
            g.rng.pick(&kin[..]).clone()
        } else if g.rng.chance(0.003) {
            String::new()
        } else if journal {
            g.journal_title(&plans[parent].title)
        } else {
            g.topic_title()
        };
        kin.push(title.clone());
        let depth = plans[parent].depth + 1;
        let nested = g.rng.chance(0.15);
        let blocks = page_size(&mut g.rng);
        let icon = g.rng.chance(0.2).then(|| *g.rng.pick(ICONS));
        plans.push(PagePlan {
            id: g.id(),
            parent: Some(parent),
            title,
            depth,
            icon,
            blocks,
            nested,
        });
        if !journal && depth < MAX_DEPTH && g.rng.chance(0.3) {
            containers.push(plans.len() - 1);
        }
    }
    plans
}

/// The seed JSON of one ordinary page.
fn page_value(g: &mut Gen, plans: &[PagePlan], p: &PagePlan) -> Value {
    let parent = match p.parent {
        Some(i) => json!({"page_id": plans[i].id}),
        None => json!({"workspace": true}),
    };
    let (created, edited) = g.times();
    let mut children = g.body(p.blocks, p.nested);
    if g.rng.chance(0.04) {
        let at = g.rng.below(children.len() + 1);
        let a = g.attachment();
        children.insert(at, a);
    }
    let mut v = json!({
        "id": p.id, "parent": parent, "title": p.title,
        "created_time": created, "last_edited_time": edited,
        "created_by": g.user(), "last_edited_by": g.user(),
        "children": children,
    });
    if let Some(icon) = p.icon {
        v["icon"] = json!({"type": "emoji", "emoji": icon});
    }
    v
}

/// Databases with their data sources (schemas included) and the plan of their sources.
fn databases(g: &mut Gen, plans: &[PagePlan]) -> (Vec<Value>, Vec<Source>) {
    let mut sources = Vec::new();
    let mut planned = Vec::new();
    for spec in DATABASES {
        let parent = plans.get(spec.top).or(plans.first()).map(|p| p.id.clone());
        let db_id = g.id();
        let mut ds = Vec::new();
        for (title, kind, share) in spec.sources {
            let s = Source {
                id: g.id(),
                title,
                kind: *kind,
                share: *share,
            };
            ds.push(s.clone());
            sources.push(s);
        }
        planned.push((db_id, parent, spec, ds));
    }
    let find = |k: dbs::SourceKind| {
        sources
            .iter()
            .find(|s| s.kind == k)
            .map(|s| s.id.clone())
            .unwrap_or_default()
    };
    let (projects, tasks) = (
        find(dbs::SourceKind::Projects),
        find(dbs::SourceKind::Tasks),
    );
    let mut out = Vec::new();
    for (db_id, parent, spec, ds) in planned {
        let Some(parent) = parent else { continue };
        let (created, edited) = g.times();
        let data_sources: Vec<Value> = ds
            .iter()
            .map(|s| json!({"id": s.id, "title": s.title, "properties": dbs::schema(s.kind, &projects, &tasks)}))
            .collect();
        out.push(json!({
            "id": db_id, "parent": {"page_id": parent}, "title": spec.title,
            "icon": {"type": "emoji", "emoji": spec.icon}, "is_inline": spec.inline,
            "created_time": created, "last_edited_time": edited, "data_sources": data_sources,
        }));
    }
    if out.is_empty() {
        sources.clear();
    }
    (out, sources)
}

/// Splits `rows` among the data sources by their shares (the first takes the remainder).
fn row_counts(sources: &[Source], rows: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = sources
        .iter()
        .map(|s| (rows as f64 * s.share).floor() as usize)
        .collect();
    let given: usize = counts.iter().sum();
    if let Some(c) = counts.iter_mut().max() {
        *c += rows - given.min(rows);
    }
    counts
}

/// The rows of every data source, Projects and Tasks first (relations point to them).
fn rows(g: &mut Gen, sources: &[Source], ids: &[Vec<String>]) -> Vec<Value> {
    let by_kind = |k: dbs::SourceKind| {
        sources
            .iter()
            .position(|s| s.kind == k)
            .map(|i| ids[i].clone())
            .unwrap_or_default()
    };
    let projects = by_kind(dbs::SourceKind::Projects);
    let tasks = by_kind(dbs::SourceKind::Tasks);
    let targets = Targets {
        projects: &projects,
        tasks: &tasks,
    };
    let mut out = Vec::new();
    for (s, row_ids) in sources.iter().zip(ids) {
        for (n, id) in row_ids.iter().enumerate() {
            let title = g.row_title(s.kind, n);
            let props = g.row_props(s, &title, &targets);
            let (created, edited) = g.times();
            let mut v = json!({
                "id": id, "parent": {"data_source_id": s.id}, "properties": props,
                "created_time": created, "last_edited_time": edited,
                "created_by": g.user(), "last_edited_by": g.user(),
            });
            if g.rng.chance(0.6) {
                let n = g.rng.range(3, 20);
                let nested = g.rng.chance(0.1);
                v["children"] = Value::Array(g.body(n, nested));
            }
            out.push(v);
        }
    }
    out
}

fn files() -> Vec<SeedFile> {
    let file = |key: &str, name: &str, ct: &str, text: Option<&str>, hex: Option<&str>| SeedFile {
        key: key.into(),
        name: name.into(),
        content_type: ct.into(),
        text: text.map(str::to_string),
        hex: hex.map(str::to_string),
    };
    vec![
        file(
            "gen-diagram-png",
            "diagram.png",
            "image/png",
            None,
            Some(PNG_HEX),
        ),
        file(
            "gen-notes-txt",
            "meeting-notes.txt",
            "text/plain",
            Some("Action items\n- send the invoice\n- book the offsite\n"),
            None,
        ),
        file(
            "gen-spec-pdf",
            "spec.pdf",
            "application/pdf",
            Some(PDF_TEXT),
            None,
        ),
        file(
            "gen-export-csv",
            "export.csv",
            "text/csv",
            Some("id,amount,paid\n1,120.00,true\n2,75.50,false\n"),
            None,
        ),
    ]
}

/// A realistic team workspace of exactly `pages` pages (about 20% of them database rows),
/// the same for the same `(pages, seed)`.
pub fn large_workspace(pages: usize, seed: u64) -> Seed {
    let mut g = Gen::new(seed);
    let mut users = Vec::new();
    for name in USERS {
        let id = g.id();
        let email = format!("{}@acme.example", name.to_lowercase().replace(' ', "."));
        g.users.push(id.clone());
        g.user_names.push(name.to_string());
        users.push(SeedUser {
            id,
            name: name.to_string(),
            email: Some(email),
            avatar_url: None,
        });
    }
    let bot = SeedUser {
        id: g.id(),
        name: "notionfs bot".into(),
        email: None,
        avatar_url: None,
    };
    let workspace_id = g.id();
    let row_total = (pages as f64 * ROW_SHARE).round() as usize;
    let plans = plan_tree(&mut g, pages - row_total);
    let (databases, sources) = databases(&mut g, &plans);
    let row_ids: Vec<Vec<String>> = row_counts(&sources, row_total)
        .into_iter()
        .map(|n| (0..n).map(|_| g.id()).collect())
        .collect();
    g.mention_pool = plans.iter().map(|p| p.id.clone()).collect();
    g.mention_pool.extend(row_ids.iter().flatten().cloned());
    let mut page_values: Vec<Value> = plans
        .iter()
        .map(|p| page_value(&mut g, &plans, p))
        .collect();
    page_values.extend(rows(&mut g, &sources, &row_ids));
    Seed {
        workspace_name: "Acme Corp".into(),
        workspace_id,
        bot,
        users,
        time: END_TIME.into(),
        files: files(),
        databases,
        pages: page_values,
        comments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(7);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r2 = Rng::new(7);
        assert_eq!(a, (0..3).map(|_| r2.next_u64()).collect::<Vec<_>>());
        assert_ne!(a[0], Rng::new(8).next_u64());
        for _ in 0..1000 {
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
            assert!(r.unit() < 1.0);
        }
    }

    #[test]
    fn small_workspaces_have_the_exact_page_count() {
        for n in [0, 1, 5, 30, 60, 200] {
            let s = large_workspace(n, 1);
            assert_eq!(s.pages.len(), n, "{n} pages");
            super::super::seed::load(&s).expect("loads");
        }
    }

    #[test]
    fn row_counts_add_up() {
        let mut g = Gen::new(3);
        let plans = plan_tree(&mut g, 50);
        let (_, sources) = databases(&mut g, &plans);
        for rows in [0, 1, 7, 200, 1001] {
            assert_eq!(row_counts(&sources, rows).iter().sum::<usize>(), rows);
        }
    }
}
