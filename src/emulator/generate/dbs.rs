//! Databases of the generated workspace and the properties of their rows: Tasks, Projects,
//! an Issue Tracker with two data sources (Bugs, Feature Requests), Meetings and Customers,
//! with title, select, multi_select, status, date, number, checkbox, url, email, phone,
//! people, relation, rich_text, unique_id and timestamp properties.

use serde_json::{json, Map, Value};

use super::text::{rt, TOPICS};
use super::Gen;

/// What a data source holds (decides its schema and its rows' values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SourceKind {
    Projects,
    Tasks,
    Bugs,
    Features,
    Meetings,
    Customers,
}

/// One data source of the plan: id, title, kind and its share of all rows.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub id: String,
    pub title: &'static str,
    pub kind: SourceKind,
    pub share: f64,
}

/// A database of the plan.
pub(super) struct DbSpec {
    pub title: &'static str,
    pub icon: &'static str,
    pub inline: bool,
    /// Index of the top-level page that holds it.
    pub top: usize,
    /// Its data sources: (title, kind, share of all rows).
    pub sources: &'static [(&'static str, SourceKind, f64)],
}

/// The databases of the generated workspace.
pub(super) const DATABASES: &[DbSpec] = &[
    DbSpec {
        title: "Projects",
        icon: "🗂️",
        inline: false,
        top: 1,
        sources: &[("Projects", SourceKind::Projects, 0.06)],
    },
    DbSpec {
        title: "Tasks",
        icon: "✅",
        inline: false,
        top: 0,
        sources: &[("Tasks", SourceKind::Tasks, 0.34)],
    },
    DbSpec {
        title: "Issue Tracker",
        icon: "🐞",
        inline: false,
        top: 0,
        sources: &[
            ("Bugs", SourceKind::Bugs, 0.2),
            ("Feature Requests", SourceKind::Features, 0.1),
        ],
    },
    DbSpec {
        title: "Meetings",
        icon: "📅",
        inline: true,
        top: 4,
        sources: &[("Meetings", SourceKind::Meetings, 0.15)],
    },
    DbSpec {
        title: "Customers",
        icon: "🤝",
        inline: false,
        top: 5,
        sources: &[("Customers", SourceKind::Customers, 0.15)],
    },
];

fn opts(names: &[&str]) -> Value {
    const COLORS: &[&str] = &[
        "gray", "blue", "green", "yellow", "orange", "red", "purple", "pink", "brown",
    ];
    let list: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"name": n, "color": COLORS[i % COLORS.len()]}))
        .collect();
    Value::Array(list)
}

/// A status config: options split into the to-do / in-progress / complete groups.
fn status(todo: &[&str], doing: &[&str], done: &[&str]) -> Value {
    let all: Vec<&str> = todo.iter().chain(doing).chain(done).copied().collect();
    json!({"status": {"options": opts(&all), "groups": [
        {"name": "To-do", "color": "gray", "option_names": todo},
        {"name": "In progress", "color": "blue", "option_names": doing},
        {"name": "Complete", "color": "green", "option_names": done},
    ]}})
}

const TASK_TAGS: &[&str] = &[
    "backend",
    "frontend",
    "infra",
    "docs",
    "security",
    "performance",
    "ux",
    "billing",
];
const TASK_STATUS: (&[&str], &[&str], &[&str]) = (
    &["Not started", "Blocked"],
    &["In progress", "In review"],
    &["Done", "Won't do"],
);
const PROJECT_STATUS: (&[&str], &[&str], &[&str]) = (
    &["Planned"],
    &["Active", "Paused"],
    &["Shipped", "Cancelled"],
);
const BUG_STATUS: (&[&str], &[&str], &[&str]) = (
    &["Open", "Triaged"],
    &["In progress"],
    &["Fixed", "Won't fix"],
);
const FEATURE_STATUS: (&[&str], &[&str], &[&str]) = (
    &["Under review"],
    &["Planned", "Building"],
    &["Shipped", "Declined"],
);
const CUSTOMER_STAGE: (&[&str], &[&str], &[&str]) = (
    &["Lead"],
    &["Trial", "Negotiation"],
    &["Customer", "Churned"],
);
const REGIONS: &[&str] = &["EMEA", "North America", "APAC", "LATAM"];
const MEETING_TYPES: &[&str] = &["Standup", "1:1", "Planning", "Retro", "All-hands", "Review"];
const COMPANY_A: &[&str] = &[
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Aperture",
    "Oscorp",
    "Northwind",
    "Contoso",
];
const COMPANY_B: &[&str] = &[
    "Corporation",
    "Industries",
    "Health",
    "Logistics",
    "Labs",
    "Foods",
    "Systems",
    "Bank",
    "Traders",
    "Media",
    "Energy",
    "& Sons",
];

fn rel(target: &str) -> Value {
    json!({"relation": {"data_source_id": target, "single_property": {}}})
}

/// The schema of a data source of `kind`; relations point to the `projects` and `tasks`
/// data sources.
pub(super) fn schema(kind: SourceKind, projects: &str, tasks: &str) -> Value {
    let (a, b, c) = match kind {
        SourceKind::Tasks => TASK_STATUS,
        SourceKind::Projects => PROJECT_STATUS,
        SourceKind::Bugs => BUG_STATUS,
        SourceKind::Features => FEATURE_STATUS,
        SourceKind::Customers => CUSTOMER_STAGE,
        SourceKind::Meetings => (&[][..], &[][..], &[][..]),
    };
    let mut s = match kind {
        SourceKind::Tasks => json!({
            "Name": {"title": {}}, "Priority": {"select": {"options": opts(&["P0", "P1", "P2", "P3"])}},
            "Tags": {"multi_select": {"options": opts(TASK_TAGS)}}, "Assignee": {"people": {}},
            "Due": {"date": {}}, "Estimate": {"number": {"format": "number"}}, "Done": {"checkbox": {}},
            "PR": {"url": {}}, "Reporter": {"email": {}}, "Project": rel(projects), "Notes": {"rich_text": {}},
        }),
        SourceKind::Projects => json!({
            "Name": {"title": {}}, "Owner": {"people": {}}, "Timeline": {"date": {}},
            "Budget": {"number": {"format": "dollar"}}, "Tags": {"multi_select": {"options": opts(TASK_TAGS)}},
            "Site": {"url": {}}, "Summary": {"rich_text": {}}, "Public": {"checkbox": {}},
            "Team": {"select": {"options": opts(&["Platform", "Growth", "Core", "Mobile", "Data"])}},
        }),
        SourceKind::Bugs => json!({
            "Name": {"title": {}}, "Severity": {"select": {"options": opts(&["S1", "S2", "S3", "S4"])}},
            "Reported": {"date": {}}, "Assignee": {"people": {}},
            "Labels": {"multi_select": {"options": opts(&["crash", "data-loss", "ui", "api", "sync", "regression"])}},
            "Regression": {"checkbox": {}}, "Reporter": {"email": {}}, "Related task": rel(tasks),
            "Steps": {"rich_text": {}}, "Link": {"url": {}}, "Bug ID": {"unique_id": {"prefix": "BUG"}},
        }),
        SourceKind::Features => json!({
            "Name": {"title": {}}, "Votes": {"number": {"format": "number"}},
            "Area": {"select": {"options": opts(&["Editor", "API", "Mobile", "Billing", "Admin"])}},
            "Requested by": {"email": {}}, "Details": {"rich_text": {}}, "Shipped": {"checkbox": {}},
        }),
        SourceKind::Meetings => json!({
            "Name": {"title": {}}, "Date": {"date": {}}, "Type": {"select": {"options": opts(MEETING_TYPES)}},
            "Attendees": {"people": {}}, "Follow-up": {"checkbox": {}}, "Recording": {"url": {}},
            "Summary": {"rich_text": {}},
        }),
        SourceKind::Customers => json!({
            "Company": {"title": {}}, "ARR": {"number": {"format": "dollar"}},
            "Region": {"select": {"options": opts(REGIONS)}}, "Contact": {"email": {}},
            "Phone": {"phone_number": {}}, "Website": {"url": {}}, "Owner": {"people": {}},
            "Segments": {"multi_select": {"options": opts(&["Enterprise", "SMB", "Startup", "Education", "Non-profit"])}},
            "Renewal": {"date": {}}, "Projects": rel(projects), "Notes": {"rich_text": {}},
        }),
    };
    let name = match kind {
        SourceKind::Customers => "Stage",
        _ => "Status",
    };
    if kind != SourceKind::Meetings {
        s[name] = status(a, b, c);
    }
    s["Created"] = json!({"created_time": {}});
    s["Last edited"] = json!({"last_edited_time": {}});
    s
}

fn status_pool(kind: SourceKind) -> Vec<&'static str> {
    let (a, b, c) = match kind {
        SourceKind::Tasks => TASK_STATUS,
        SourceKind::Projects => PROJECT_STATUS,
        SourceKind::Bugs => BUG_STATUS,
        SourceKind::Features => FEATURE_STATUS,
        SourceKind::Customers => CUSTOMER_STAGE,
        SourceKind::Meetings => return vec![],
    };
    a.iter().chain(b).chain(c).copied().collect()
}

/// Row ids that relations may point to.
pub(super) struct Targets<'a> {
    pub projects: &'a [String],
    pub tasks: &'a [String],
}

impl Gen {
    /// The title of row `n` of a data source of `kind`.
    pub(super) fn row_title(&mut self, kind: SourceKind, n: usize) -> String {
        let topic = self.rng.pick(TOPICS);
        match kind {
            SourceKind::Tasks => {
                const VERBS: &[&str] = &[
                    "Fix",
                    "Implement",
                    "Refactor",
                    "Document",
                    "Investigate",
                    "Add",
                    "Remove",
                    "Migrate",
                    "Review",
                    "Update",
                ];
                const OBJECTS: &[&str] = &[
                    "retries",
                    "dashboard",
                    "alerts",
                    "tests",
                    "error handling",
                    "CI/CD job",
                    "schema",
                    "permissions",
                    "docs",
                    "metrics",
                ];
                let v = self.rng.pick(VERBS);
                let o = self.rng.pick(OBJECTS);
                format!("{v} {topic} {o}")
            }
            SourceKind::Projects => {
                const KINDS: &[&str] = &["Revamp", "v2", "Migration", "Launch", "Cleanup"];
                format!("{topic} {}", self.rng.pick(KINDS))
            }
            SourceKind::Bugs => {
                const SYMPTOMS: &[&str] = &[
                    "crash on empty title",
                    "slow listing",
                    "timeout after 30 s",
                    "wrong totals on invoice",
                    "duplicate emails",
                    "stale cache after rename",
                    "500 on save",
                    "login loop",
                ];
                format!("{topic}: {}", self.rng.pick(SYMPTOMS))
            }
            SourceKind::Features => format!("Support {} in {topic}", self.words(2)),
            SourceKind::Meetings => {
                let ty = self.rng.pick(MEETING_TYPES);
                if self.rng.chance(0.2) {
                    ty.to_string()
                } else {
                    format!("{ty} {}", self.day())
                }
            }
            SourceKind::Customers => {
                let a = self.rng.pick(COMPANY_A);
                let b = self.rng.pick(COMPANY_B);
                if n % 37 == 5 {
                    format!("{a} / {b}")
                } else {
                    format!("{a} {b}")
                }
            }
        }
    }

    /// Property values (request shape) of one row.
    pub(super) fn row_props(&mut self, src: &Source, title: &str, tg: &Targets) -> Value {
        let title_key = if src.kind == SourceKind::Customers {
            "Company"
        } else {
            "Name"
        };
        let mut p = Map::new();
        p.insert(title_key.into(), json!({"title": rt(title)}));
        let statuses = status_pool(src.kind);
        if !statuses.is_empty() {
            let key = if src.kind == SourceKind::Customers {
                "Stage"
            } else {
                "Status"
            };
            p.insert(
                key.into(),
                json!({"status": {"name": self.rng.pick(&statuses)}}),
            );
        }
        match src.kind {
            SourceKind::Tasks => self.task_props(&mut p, tg),
            SourceKind::Projects => self.project_props(&mut p),
            SourceKind::Bugs => self.bug_props(&mut p, tg),
            SourceKind::Features => self.feature_props(&mut p),
            SourceKind::Meetings => self.meeting_props(&mut p),
            SourceKind::Customers => self.customer_props(&mut p, tg),
        }
        Value::Object(p)
    }

    fn people(&mut self, max: usize) -> Value {
        let n = self.rng.range(1, max);
        let mut ids: Vec<String> = (0..n).map(|_| self.rng.pick(&self.users).clone()).collect();
        ids.sort();
        ids.dedup();
        let list: Vec<Value> = ids
            .into_iter()
            .map(|id| json!({"object": "user", "id": id}))
            .collect();
        json!({"people": list})
    }

    fn relation(&mut self, pool: &[String], max: usize) -> Value {
        let n = self.rng.range(1, max);
        let mut ids: Vec<String> = (0..n).map(|_| self.rng.pick(pool).clone()).collect();
        ids.sort();
        ids.dedup();
        let list: Vec<Value> = ids.into_iter().map(|id| json!({"id": id})).collect();
        json!({"relation": list})
    }

    fn tags(&mut self, names: &[&str], max: usize) -> Value {
        let n = self.rng.range(0, max);
        let mut picked: Vec<&str> = (0..n).map(|_| *self.rng.pick(names)).collect();
        picked.sort();
        picked.dedup();
        let list: Vec<Value> = picked.into_iter().map(|n| json!({"name": n})).collect();
        json!({"multi_select": list})
    }

    fn email(&mut self) -> Value {
        let user = self
            .rng
            .pick(&self.user_names)
            .to_lowercase()
            .replace(' ', ".");
        json!({"email": format!("{user}@acme.example")})
    }

    fn short_rich(&mut self) -> Value {
        json!({"rich_text": self.rich(1)})
    }

    fn task_props(&mut self, p: &mut Map<String, Value>, tg: &Targets) {
        let pri = self.rng.pick(&["P0", "P1", "P2", "P3"]).to_string();
        p.insert("Priority".into(), json!({"select": {"name": pri}}));
        p.insert("Tags".into(), self.tags(TASK_TAGS, 3));
        if self.rng.chance(0.8) {
            p.insert("Assignee".into(), self.people(2));
        }
        if self.rng.chance(0.6) {
            p.insert("Due".into(), json!({"date": {"start": self.day()}}));
        }
        if self.rng.chance(0.7) {
            p.insert("Estimate".into(), json!({"number": self.rng.range(1, 13)}));
        }
        p.insert("Done".into(), json!({"checkbox": self.rng.chance(0.4)}));
        if self.rng.chance(0.3) {
            let url = format!(
                "https://github.com/acme/app/pull/{}",
                self.rng.range(1, 9999)
            );
            p.insert("PR".into(), json!({"url": url}));
        }
        if self.rng.chance(0.3) {
            p.insert("Reporter".into(), self.email());
        }
        if !tg.projects.is_empty() && self.rng.chance(0.7) {
            p.insert("Project".into(), self.relation(tg.projects, 2));
        }
        if self.rng.chance(0.5) {
            p.insert("Notes".into(), self.short_rich());
        }
    }

    fn project_props(&mut self, p: &mut Map<String, Value>) {
        p.insert("Owner".into(), self.people(2));
        let start = self.day();
        let end = self.day();
        let (start, end) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        p.insert(
            "Timeline".into(),
            json!({"date": {"start": start, "end": end}}),
        );
        p.insert(
            "Budget".into(),
            json!({"number": self.rng.range(5, 500) * 1000}),
        );
        p.insert("Tags".into(), self.tags(TASK_TAGS, 2));
        if self.rng.chance(0.5) {
            let url = format!("https://acme.example/projects/{}", self.rng.below(1000));
            p.insert("Site".into(), json!({"url": url}));
        }
        p.insert("Summary".into(), self.short_rich());
        p.insert("Public".into(), json!({"checkbox": self.rng.chance(0.3)}));
        let team = self
            .rng
            .pick(&["Platform", "Growth", "Core", "Mobile", "Data"])
            .to_string();
        p.insert("Team".into(), json!({"select": {"name": team}}));
    }

    fn bug_props(&mut self, p: &mut Map<String, Value>, tg: &Targets) {
        let sev = self.rng.pick(&["S1", "S2", "S3", "S4"]).to_string();
        p.insert("Severity".into(), json!({"select": {"name": sev}}));
        let when = self.time_of_day();
        p.insert("Reported".into(), json!({"date": {"start": when}}));
        if self.rng.chance(0.6) {
            p.insert("Assignee".into(), self.people(1));
        }
        p.insert(
            "Labels".into(),
            self.tags(
                &["crash", "data-loss", "ui", "api", "sync", "regression"],
                2,
            ),
        );
        p.insert(
            "Regression".into(),
            json!({"checkbox": self.rng.chance(0.2)}),
        );
        p.insert("Reporter".into(), self.email());
        if !tg.tasks.is_empty() && self.rng.chance(0.4) {
            p.insert("Related task".into(), self.relation(tg.tasks, 1));
        }
        if self.rng.chance(0.7) {
            p.insert("Steps".into(), self.short_rich());
        }
        if self.rng.chance(0.2) {
            let url = format!(
                "https://sentry.acme.example/issues/{}",
                self.rng.below(100_000)
            );
            p.insert("Link".into(), json!({"url": url}));
        }
    }

    fn feature_props(&mut self, p: &mut Map<String, Value>) {
        p.insert("Votes".into(), json!({"number": self.rng.below(120)}));
        let area = self
            .rng
            .pick(&["Editor", "API", "Mobile", "Billing", "Admin"])
            .to_string();
        p.insert("Area".into(), json!({"select": {"name": area}}));
        p.insert("Requested by".into(), self.email());
        p.insert("Details".into(), self.short_rich());
        p.insert("Shipped".into(), json!({"checkbox": self.rng.chance(0.15)}));
    }

    fn meeting_props(&mut self, p: &mut Map<String, Value>) {
        let when = self.time_of_day();
        p.insert("Date".into(), json!({"date": {"start": when}}));
        let ty = self.rng.pick(MEETING_TYPES).to_string();
        p.insert("Type".into(), json!({"select": {"name": ty}}));
        p.insert("Attendees".into(), self.people(5));
        p.insert(
            "Follow-up".into(),
            json!({"checkbox": self.rng.chance(0.5)}),
        );
        if self.rng.chance(0.2) {
            let url = format!("https://meet.acme.example/rec/{}", self.rng.below(100_000));
            p.insert("Recording".into(), json!({"url": url}));
        }
        p.insert("Summary".into(), self.short_rich());
    }

    fn customer_props(&mut self, p: &mut Map<String, Value>, tg: &Targets) {
        p.insert(
            "ARR".into(),
            json!({"number": self.rng.range(1, 900) * 1000}),
        );
        let region = self.rng.pick(REGIONS).to_string();
        p.insert("Region".into(), json!({"select": {"name": region}}));
        p.insert("Contact".into(), self.email());
        let phone = format!("+1 415 555 {:04}", self.rng.below(10_000));
        p.insert("Phone".into(), json!({"phone_number": phone}));
        let site = format!("https://customer{}.example.com", self.rng.below(10_000));
        p.insert("Website".into(), json!({"url": site}));
        p.insert("Owner".into(), self.people(1));
        p.insert(
            "Segments".into(),
            self.tags(
                &["Enterprise", "SMB", "Startup", "Education", "Non-profit"],
                2,
            ),
        );
        if self.rng.chance(0.6) {
            p.insert("Renewal".into(), json!({"date": {"start": self.day()}}));
        }
        if !tg.projects.is_empty() && self.rng.chance(0.3) {
            p.insert("Projects".into(), self.relation(tg.projects, 3));
        }
        if self.rng.chance(0.5) {
            p.insert("Notes".into(), self.short_rich());
        }
    }
}
