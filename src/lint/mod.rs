//! Lints: mistakes that load fine but silently never match, lock someone out, or cost time.
//!
//! Each lint lives in its own file under [`rules`], declared with [`declare_lint!`]: a stable
//! code (`IPT101`, never reused), a name that reads well after "allow", a [`Category`] that sets
//! its default [`Level`], its documentation (the doc comment, with fixed headings, printed by
//! `ipt rule CODE`), and a `check` function over a [`Context`]. [`run`] runs the lints the
//! configuration leaves on, drops what `# ipt: allow(...)` comments silence, and reports
//! suppressions that silenced nothing.

pub mod config;
mod context;
mod finding;
pub mod rules;
mod suppress;

use std::fmt;

pub use config::Config;
pub use context::{Context, RuleAt};
pub use finding::{Finding, LintDiagnostic};

use crate::diag::Diagnostic;
use crate::model::Ruleset;
use crate::source::Source;

/// What a lint is about; it sets the lint's default level, as in clippy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The rules do something other than what they say: an error.
    Correctness,
    /// Probably a mistake: a warning.
    Suspicious,
    /// Opens or closes more than meant: a warning.
    Security,
    /// Costs time on every packet: a warning.
    Performance,
    /// A matter of taste: off unless turned on.
    Style,
    /// Works here, but not with other versions or backends: a warning.
    Portability,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Correctness,
        Category::Suspicious,
        Category::Security,
        Category::Performance,
        Category::Style,
        Category::Portability,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Correctness => "correctness",
            Category::Suspicious => "suspicious",
            Category::Security => "security",
            Category::Performance => "performance",
            Category::Style => "style",
            Category::Portability => "portability",
        }
    }

    pub fn default_level(self) -> Level {
        match self {
            Category::Correctness => Level::Error,
            Category::Style => Level::Allow,
            _ => Level::Warn,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a lint's findings are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not run.
    Allow,
    Warn,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" | "off" => Some(Level::Allow),
            "warn" | "warning" => Some(Level::Warn),
            "error" | "deny" => Some(Level::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One lint: what [`declare_lint!`] builds.
pub struct Lint {
    /// `IPT101`: stable, never reused.
    pub code: &'static str,
    /// `unreachable-rule`: reads well after "allow".
    pub name: &'static str,
    pub category: Category,
    /// The doc comment: `## What it does`, `## Why is this bad?`, `## Example`, `## Use instead`.
    pub doc: &'static str,
    pub check: fn(&Context<'_>, &mut Vec<Finding>),
}

impl Lint {
    /// The first sentence of the documentation's first section.
    pub fn summary(&self) -> String {
        let text = self.docs();
        let body = text.split("## What it does").nth(1).unwrap_or(&text);
        let para: Vec<&str> = body.trim_start().lines().take_while(|l| !l.trim().is_empty()).collect();
        para.join(" ").trim().to_string()
    }

    /// The documentation as Markdown, without the doc comments' leading blank.
    pub fn docs(&self) -> String {
        self.doc.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect::<Vec<_>>().join("\n")
    }
}

/// Declares a lint: its doc comment, then `CODE, "name", Category, check_fn`.
#[macro_export]
macro_rules! declare_lint {
    ($(#[doc = $doc:literal])* $vis:vis static $NAME:ident = $code:literal, $name:literal, $category:ident, $check:path;) => {
        $(#[doc = $doc])*
        $vis static $NAME: $crate::lint::Lint = $crate::lint::Lint {
            code: $code,
            name: $name,
            category: $crate::lint::Category::$category,
            doc: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}

/// Finds a lint by code (`IPT101`) or name (`unreachable-rule`), in any case.
pub fn find(key: &str) -> Option<&'static Lint> {
    rules::ALL.iter().copied().find(|l| l.code.eq_ignore_ascii_case(key) || l.name.eq_ignore_ascii_case(key))
}

/// Runs every lint `config` leaves on over a loaded ruleset; the findings become diagnostics in
/// the order of the source.
pub fn run(source: &Source, ruleset: &Ruleset, config: &Config) -> Vec<Diagnostic> {
    run_with(source, ruleset, config, None, None)
}

/// [`run`], with the rules of the other family from another input (its ruleset and name), which
/// the lints that compare the two families ([`rules::family_parity`]) compare with, and the
/// tables' walks if [`crate::load::load`] made them.
pub fn run_with(
    source: &Source,
    ruleset: &Ruleset,
    config: &Config,
    other: Option<(&Ruleset, &str)>,
    graphs: Option<Vec<crate::check::Graph>>,
) -> Vec<Diagnostic> {
    let mut context = match graphs {
        Some(graphs) if graphs.len() == ruleset.tables.len() => Context::with_graphs(source, ruleset, graphs),
        _ => Context::new(source, ruleset),
    };
    context.other = other;
    let mut suppressions = suppress::Suppressions::of(ruleset);
    let mut out: Vec<(u32, Diagnostic)> = Vec::new();
    for lint in rules::ALL {
        let level = config.level(lint);
        if level == Level::Allow {
            continue;
        }
        let mut findings = Vec::new();
        (lint.check)(&context, &mut findings);
        for finding in findings {
            if let Some(at) = finding.at
                && suppressions.silences(at, lint)
            {
                continue;
            }
            out.push((finding.span.start, Diagnostic::new(source, LintDiagnostic::new(lint, level, finding))));
        }
    }
    let unused = config.level(&rules::unused_suppression::LINT);
    if unused != Level::Allow {
        for finding in suppressions.unused(&context, config) {
            let lint = &rules::unused_suppression::LINT;
            out.push((finding.span.start, Diagnostic::new(source, LintDiagnostic::new(lint, unused, finding))));
        }
    }
    out.sort_by_key(|(start, _)| *start);
    out.into_iter().map(|(_, d)| d).collect()
}
