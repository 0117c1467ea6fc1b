//! Words, titles and rich text of the generated workspace: sentences with bold, italic, code,
//! colored, struck and underlined runs, links and page / user / date mentions — including
//! the common cases of an annotated run that ends or begins with whitespace (a bold
//! `Warning: ` before plain text) and of a paragraph that ends with a space.

use serde_json::{json, Value};

use super::Gen;

/// Common words of engineering prose (sentences are drawn from these).
const WORDS: &[&str] = &[
    "the",
    "team",
    "service",
    "request",
    "cache",
    "latency",
    "deploy",
    "review",
    "customer",
    "invoice",
    "billing",
    "account",
    "release",
    "incident",
    "query",
    "index",
    "schema",
    "migration",
    "rollout",
    "feature",
    "flag",
    "dashboard",
    "metric",
    "alert",
    "budget",
    "quarter",
    "roadmap",
    "design",
    "spec",
    "draft",
    "owner",
    "deadline",
    "timeline",
    "risk",
    "dependency",
    "upgrade",
    "version",
    "client",
    "server",
    "worker",
    "queue",
    "retry",
    "timeout",
    "error",
    "warning",
    "log",
    "trace",
    "storage",
    "backup",
    "restore",
    "database",
    "table",
    "row",
    "column",
    "page",
    "block",
    "document",
    "workspace",
    "permission",
    "token",
    "secret",
    "access",
    "policy",
    "audit",
    "compliance",
    "vendor",
    "contract",
    "renewal",
    "pricing",
    "plan",
    "trial",
    "onboarding",
    "handbook",
    "process",
    "checklist",
    "template",
    "meeting",
    "agenda",
    "notes",
    "action",
    "item",
    "follow-up",
    "decision",
    "proposal",
    "feedback",
    "survey",
    "interview",
    "research",
    "prototype",
    "mockup",
    "component",
    "library",
    "pipeline",
    "build",
    "test",
    "coverage",
    "benchmark",
    "regression",
    "bug",
    "fix",
    "patch",
    "hotfix",
    "branch",
    "merge",
    "commit",
    "tag",
    "changelog",
    "support",
    "ticket",
    "escalation",
    "on-call",
    "rotation",
    "handoff",
    "runbook",
    "playbook",
    "campaign",
    "launch",
    "announcement",
    "newsletter",
    "webinar",
    "partner",
    "region",
    "office",
    "laptop",
    "hardware",
    "network",
    "firewall",
    "certificate",
    "domain",
    "email",
    "calendar",
    "offsite",
    "hiring",
    "candidate",
    "offer",
    "salary",
    "review",
    "goal",
    "quickly",
    "carefully",
    "usually",
    "always",
    "never",
    "sometimes",
    "again",
    "later",
    "first",
    "next",
    "last",
    "new",
    "old",
    "small",
    "large",
    "slow",
    "fast",
    "stable",
    "flaky",
    "manual",
    "automatic",
    "shared",
    "internal",
    "external",
    "public",
    "private",
    "should",
    "must",
    "can",
    "will",
    "might",
    "needs",
    "blocks",
    "improves",
    "reduces",
    "adds",
    "removes",
    "updates",
    "checks",
    "moves",
    "keeps",
    "runs",
    "fails",
    "works",
    "with",
    "without",
    "before",
    "after",
    "during",
    "for",
    "from",
    "into",
    "about",
    "per",
];

/// Subjects of titles, projects and sentences.
pub(super) const TOPICS: &[&str] = &[
    "Billing",
    "Search",
    "Storage",
    "Auth",
    "Onboarding",
    "Payments",
    "Notifications",
    "Sync Engine",
    "Mobile App",
    "Data Pipeline",
    "Analytics",
    "Invoice Service",
    "API Gateway",
    "Caching",
    "Observability",
    "Release Process",
    "Localization",
    "Permissions",
    "Import/Export",
    "Editor",
    "Webhooks",
    "Rate Limiting",
    "Backups",
    "Pricing",
    "SSO",
    "Desktop App",
    "Design Tokens",
    "Feature Flags",
    "Email Delivery",
    "Audit Log",
    "Data Warehouse",
    "Customer Portal",
    "Support Tooling",
    "Security Review",
    "Load Balancer",
    "Kubernetes",
    "Postgres",
    "Frontend Build",
    "Accessibility",
    "Old Dashboard",
];

const TITLE_FORMS: &[&str] = &[
    "{} Design Doc",
    "{} Runbook",
    "{} FAQ",
    "{} Overview",
    "How we run {}",
    "{} Migration Plan",
    "{} Retrospective",
    "{} Checklist",
    "{} Notes",
    "{} Architecture",
    "{} Metrics",
    "{} Roadmap",
    "{} Onboarding Guide",
    "{} Troubleshooting",
    "Read/Write Path of {}",
    "{} v2",
    "Ideas for {}",
    "{} Open Questions",
    "Q3/Q4 {} Planning",
    "{} Glossary",
];

const LABELS: &[&str] = &[
    "Warning: ",
    "Note: ",
    "TL;DR: ",
    "Update: ",
    "Heads up: ",
    "Decision: ",
    "Owner: ",
    "Status: ",
];

const CODE_SPANS: &[&str] = &[
    "cargo test",
    "kubectl get pods",
    "SELECT count(*) FROM invoices",
    "retry_after",
    "git rebase -i",
    "make deploy",
    "config.yaml",
    "--dry-run",
    "user_id",
    "npm run build",
];

const LINK_TEXTS: &[&str] = &[
    "the runbook",
    "this dashboard",
    "the design doc",
    "the incident report",
    "the pull request",
    "our handbook",
];

const COLORS: &[&str] = &[
    "red",
    "blue",
    "green",
    "orange",
    "purple",
    "gray",
    "yellow_background",
    "blue_background",
    "red_background",
    "green_background",
];

/// A plain text item.
pub(super) fn t(s: &str) -> Value {
    json!({"type": "text", "text": {"content": s}})
}

/// An annotated text item.
pub(super) fn ta(s: &str, ann: Value) -> Value {
    json!({"type": "text", "text": {"content": s}, "annotations": ann})
}

/// A rich text array of one plain item (empty for an empty string).
pub(super) fn rt(s: &str) -> Value {
    if s.is_empty() {
        json!([])
    } else {
        json!([t(s)])
    }
}

/// `s` with its first letter in upper case.
pub(super) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Gen {
    /// `n` random words separated by spaces.
    pub(super) fn words(&mut self, n: usize) -> String {
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.rng.word(WORDS));
        }
        out
    }

    /// A capitalised sentence of 5 to 18 words with a full stop.
    pub(super) fn sentence(&mut self) -> String {
        let n = self.rng.range(5, 18);
        let mut s = capitalize(&self.words(n));
        if self.rng.chance(0.15) {
            s.push_str(", ");
            s.push_str(self.rng.word(TOPICS));
        }
        s.push(if self.rng.chance(0.08) { '?' } else { '.' });
        s
    }

    /// A page title about a random topic.
    pub(super) fn topic_title(&mut self) -> String {
        let form = self.rng.pick(TITLE_FORMS);
        form.replacen("{}", self.rng.word(TOPICS), 1)
    }

    /// Rich text of `sentences` sentences with annotations, links and mentions.
    pub(super) fn rich(&mut self, sentences: usize) -> Value {
        let mut out: Vec<Value> = Vec::new();
        if self.rng.chance(0.15) {
            // an annotated run that ends with whitespace, followed by plain text
            let label = self.rng.pick(LABELS);
            out.push(ta(label, json!({"bold": true})));
        }
        for i in 0..sentences.max(1) {
            if i > 0 {
                push_plain(&mut out, " ");
            }
            self.sentence_runs(&mut out);
        }
        if self.rng.chance(0.1) {
            // paragraphs that end in a space are common in pasted text
            push_plain(&mut out, " ");
        }
        Value::Array(out)
    }

    /// Appends one sentence, possibly split around an annotated run or a mention.
    fn sentence_runs(&mut self, out: &mut Vec<Value>) {
        let s = self.sentence();
        let roll = self.rng.unit();
        let (head, tail) = split_words(&s, self.rng.range(1, 4));
        if roll < 0.06 {
            // bold run that begins with whitespace: "… **important stuff**"
            push_plain(out, head);
            let n = self.rng.range(1, 3);
            let phrase = format!(" {}", self.words(n));
            out.push(ta(&phrase, json!({"bold": true})));
            push_plain(out, &format!(" {tail}"));
        } else if roll < 0.11 {
            // italic run ending with a space, then plain text
            out.push(ta(&format!("{head} "), json!({"italic": true})));
            push_plain(out, tail);
        } else if roll < 0.18 {
            push_plain(out, &format!("{head} "));
            out.push(ta(self.rng.word(CODE_SPANS), json!({"code": true})));
            push_plain(out, &format!(" {tail}"));
        } else if roll < 0.24 {
            push_plain(out, &format!("{head} "));
            let url = format!("https://docs.acme.example/{}", self.rng.below(5000));
            let text = self.rng.pick(LINK_TEXTS);
            out.push(json!({"type": "text", "text": {"content": text, "link": {"url": url}}}));
            push_plain(out, &format!(" {tail}"));
        } else if roll < 0.28 {
            let color = self.rng.pick(COLORS);
            out.push(ta(&s, json!({"color": color})));
        } else if roll < 0.30 {
            let ann = if self.rng.chance(0.5) {
                json!({"strikethrough": true})
            } else {
                json!({"underline": true})
            };
            push_plain(out, &format!("{head} "));
            out.push(ta(tail, ann));
        } else if roll < 0.38 {
            push_plain(out, &format!("{head} "));
            out.push(self.mention());
            push_plain(out, &format!(" {tail}"));
        } else {
            push_plain(out, &s);
        }
    }

    /// A page, user or date mention.
    fn mention(&mut self) -> Value {
        let roll = self.rng.unit();
        if roll < 0.5 && !self.mention_pool.is_empty() {
            let id = self.rng.pick(&self.mention_pool).clone();
            json!({"type": "mention", "mention": {"type": "page", "page": {"id": id}}})
        } else if roll < 0.8 && !self.users.is_empty() {
            let id = self.rng.pick(&self.users).clone();
            json!({"type": "mention", "mention": {"type": "user", "user": {"object": "user", "id": id}}})
        } else {
            let day = self.day();
            json!({"type": "mention", "mention": {"type": "date", "date": {"start": day}}})
        }
    }
}

/// Splits a sentence after `n` words (the tail may be empty).
fn split_words(s: &str, n: usize) -> (&str, &str) {
    let mut idx = None;
    for (count, (i, _)) in s.match_indices(' ').enumerate() {
        if count + 1 == n {
            idx = Some(i);
            break;
        }
    }
    match idx {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// Appends plain text, merging it into a preceding plain item.
fn push_plain(out: &mut Vec<Value>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(last) = out.last_mut() {
        if last.get("annotations").is_none() && last["text"].get("link").is_none() {
            if let Some(c) = last["text"]["content"].as_str() {
                last["text"]["content"] = json!(format!("{c}{s}"));
                return;
            }
        }
    }
    out.push(t(s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_words_splits_after_n_words() {
        assert_eq!(split_words("a b c d", 2), ("a b", "c d"));
        assert_eq!(split_words("a b", 5), ("a b", ""));
    }

    #[test]
    fn plain_runs_merge_but_annotated_ones_do_not() {
        let mut v = vec![];
        push_plain(&mut v, "a");
        push_plain(&mut v, " b");
        v.push(ta("x ", json!({"bold": true})));
        push_plain(&mut v, "c");
        assert_eq!(v.len(), 3);
        assert_eq!(v[0]["text"]["content"], "a b");
        assert_eq!(v[2]["text"]["content"], "c");
    }
}
