//! `ipt lint` and `ipt rule`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::args::{FailOn, LintArgs, LintFormat, RuleArgs};
use super::output::{FileReport, Output, Report};
use super::{ReadError, Status, read_source, sarif};
use crate::diag::{Diagnostic, JsonDiagnostic, Severity, Tally, render_json};
use crate::lint::{Config, Level, rules};
use crate::load::{LoadOptions, Loaded, load};
use crate::model::Family;
use crate::source::Source;

/// A diagnostic in `--format json`: the `ipt check` fields, with the code split from the
/// lint's name.
#[derive(Serialize)]
struct LintJson {
    #[serde(flatten)]
    diagnostic: JsonDiagnostic,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// `IPT301(ssh-lockout)` → (`IPT301`, `ssh-lockout`); other codes stay whole.
pub fn split_code(code: &str) -> (String, Option<String>) {
    match code.strip_suffix(')').and_then(|c| c.split_once('(')) {
        Some((code, name)) => (code.to_string(), Some(name.to_string())),
        None => (code.to_string(), None),
    }
}

fn lint_json(d: &Diagnostic) -> LintJson {
    let mut diagnostic = render_json(d);
    let (code, name) = split_code(&diagnostic.code);
    diagnostic.code = code;
    LintJson { diagnostic, name }
}

/// The `--warn`, `--deny` and `--allow` of the command line, in order.
fn overrides(args: &LintArgs) -> Vec<(&str, Level)> {
    let mut out: Vec<(&str, Level)> = Vec::new();
    out.extend(args.allow.iter().map(|k| (k.as_str(), Level::Allow)));
    out.extend(args.warn.iter().map(|k| (k.as_str(), Level::Warn)));
    out.extend(args.deny.iter().map(|k| (k.as_str(), Level::Error)));
    out
}

/// The configuration for one file: `--config`, or the nearest `ipt.toml`, then the overrides.
fn config_for(args: &LintArgs, path: &Path, out: &Output) -> Option<Config> {
    let file = args.config.clone().or_else(|| Config::find_for(path));
    let mut config = match file {
        Some(file) => match Config::read(&file) {
            Ok(c) => c,
            Err(e) => {
                out.error(&e);
                return None;
            }
        },
        None => Config::default(),
    };
    for (key, level) in overrides(args) {
        if let Err(message) = config.set(key, level) {
            let _ = writeln!(std::io::stderr(), "error: {message} (`ipt rule --list` lists them)");
            return None;
        }
    }
    Some(config)
}

/// GitHub's workflow command escaping, for a message and for a property.
fn github_escape(text: &str, property: bool) -> String {
    let mut out = text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn github_line(d: &Diagnostic) -> String {
    let j = render_json(d);
    let kind = if j.severity == Severity::Error { "error" } else { "warning" };
    let (code, name) = split_code(&j.code);
    let title = name.map_or(code.clone(), |n| format!("{code} {n}"));
    let mut props = vec![format!("file={}", github_escape(&j.file, true))];
    if let Some(at) = &j.at {
        props.push(format!("line={}", at.line));
        props.push(format!("col={}", at.column));
        props.push(format!("endLine={}", at.end_line));
        props.push(format!("endColumn={}", at.end_column));
    }
    props.push(format!("title={}", github_escape(&title, true)));
    let message = match &j.help {
        Some(help) => format!("{}\n{help}", j.message),
        None => j.message.clone(),
    };
    format!("::{kind} {}::{}", props.join(","), github_escape(&message, false))
}

/// A file read and loaded, or why it could not be read.
type Input = Result<(Source, Loaded), ReadError>;

pub fn run(args: &LintArgs, out: &Output) -> Status {
    let options = LoadOptions { family: args.input.family.map(Into::into), ..Default::default() };
    let fail = match args.fail_on {
        FailOn::Warning => Severity::Warning,
        FailOn::Error => Severity::Error,
    };
    let mut status = Status::Clean;
    let mut reports = Vec::new();
    let mut sarif = sarif::Log::new();
    // every file read first: a v4 file and a v6 file given together are compared
    // (family-parity), each finding reported in its own file
    let mut inputs: Vec<(&std::path::PathBuf, Input)> = Vec::new();
    let mut load_diagnostics: Vec<Vec<Diagnostic>> = Vec::new();
    let mut graphs: Vec<Vec<crate::check::Graph>> = Vec::new();
    for path in &args.files {
        let read = read_source(path).map(|source| {
            let mut loaded = load(&source, &options);
            load_diagnostics.push(std::mem::take(&mut loaded.diagnostics));
            graphs.push(std::mem::take(&mut loaded.graphs));
            (source, loaded)
        });
        if read.is_err() {
            load_diagnostics.push(Vec::new());
            graphs.push(Vec::new());
        }
        inputs.push((path, read));
    }
    let families = |loaded: &Loaded| -> Vec<Family> { loaded.ruleset.families() };
    let loads_ok = |d: &[Diagnostic]| d.iter().all(|d| d.severity() != Severity::Error);
    for i in 0..inputs.len() {
        let path = inputs[i].0;
        // the other family's rules, from another file that has only those
        let other = match &inputs[i].1 {
            Ok((_, loaded)) if loads_ok(&load_diagnostics[i]) && families(loaded).len() == 1 => {
                let mine = families(loaded)[0];
                inputs.iter().enumerate().find_map(|(j, (_, r))| match r {
                    Ok((s, l)) if j != i && loads_ok(&load_diagnostics[j]) && families(l) == [mine.other()] => {
                        Some((&l.ruleset, s.name()))
                    }
                    _ => None,
                })
            }
            _ => None,
        };
        let (source, loaded) = match &inputs[i].1 {
            Ok((s, l)) => (s, l),
            Err(e) => {
                status = status.worst(Status::Trouble);
                match args.format {
                    LintFormat::Human => out.error(e),
                    LintFormat::Json => reports.push(FileReport {
                        file: path.display().to_string(),
                        loads: None,
                        errors: 1,
                        warnings: 0,
                        diagnostics: vec![LintJson {
                            diagnostic: JsonDiagnostic::whole_file(path.display().to_string(), e),
                            name: None,
                        }],
                    }),
                    LintFormat::Sarif => sarif.notification(&path.display().to_string(), &e.to_string()),
                    LintFormat::Github => {
                        let file = github_escape(&path.display().to_string(), true);
                        println!(
                            "::error file={file},title=ipt::input::unreadable::{}",
                            github_escape(&e.to_string(), false)
                        );
                    }
                }
                continue;
            }
        };
        let Some(config) = config_for(args, path, out) else {
            return Status::Trouble;
        };
        let mut diagnostics = std::mem::take(&mut load_diagnostics[i]);
        // the lint old-negation (IPT602) reports these, at the level the configuration sets
        diagnostics.retain(|d| d.code() != "ipt::load::old_negation");
        let loads = diagnostics.iter().all(|d| d.severity() != Severity::Error);
        if loads {
            let graphs = std::mem::take(&mut graphs[i]);
            diagnostics.extend(crate::lint::run_with(source, &loaded.ruleset, &config, other, Some(graphs)));
        }
        if diagnostics.iter().any(|d| d.severity() >= fail) {
            status = status.worst(Status::Findings);
        }
        let tally = Tally::of(&diagnostics);
        match args.format {
            LintFormat::Human => {
                out.diagnostics(&diagnostics);
                let _ = writeln!(std::io::stderr(), "{}: {tally}", source.name());
            }
            LintFormat::Json => reports.push(FileReport {
                file: source.name().to_string(),
                loads: Some(loads),
                errors: tally.errors,
                warnings: tally.warnings,
                diagnostics: diagnostics.iter().map(lint_json).collect(),
            }),
            LintFormat::Sarif => sarif.add(&diagnostics),
            LintFormat::Github => {
                let mut stdout = std::io::stdout().lock();
                for d in &diagnostics {
                    let _ = writeln!(stdout, "{}", github_line(d));
                }
            }
        }
    }
    super::leak(inputs);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        LintFormat::Json => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &Report { files: reports });
            let _ = writeln!(stdout);
        }
        LintFormat::Sarif => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &sarif.finish());
            let _ = writeln!(stdout);
        }
        LintFormat::Human | LintFormat::Github => {}
    }
    status
}

/// `ipt rule`.
pub fn rule(args: &RuleArgs) -> Status {
    let mut stdout = std::io::stdout().lock();
    if args.list {
        for lint in rules::ALL {
            let level = lint.category.default_level().as_str();
            let _ = writeln!(
                stdout,
                "{}  {:<34} {:<12} {:<6} {}",
                lint.code,
                lint.name,
                lint.category.as_str(),
                level,
                lint.summary()
            );
        }
        return Status::Clean;
    }
    let key = args.lint.as_deref().unwrap_or_default();
    match crate::lint::find(key) {
        Some(lint) => {
            let _ = write!(stdout, "{}", page(lint));
            Status::Clean
        }
        None => {
            let _ = writeln!(std::io::stderr(), "error: no lint is called `{key}` (`ipt rule --list` lists them)");
            Status::Trouble
        }
    }
}

/// A lint's documentation page: its header, then its doc comment.
pub fn page(lint: &crate::lint::Lint) -> String {
    format!(
        "# {} {}\n\nCategory: {}. Default level: {}.\n\n{}\n",
        lint.code,
        lint.name,
        lint.category,
        lint.category.default_level().as_str(),
        lint.docs().trim()
    )
}
