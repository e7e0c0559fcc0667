//! Giving meaning to a dump: every line parsed (by [`crate::syntax`]), its commands read the way
//! iptables reads them, and applied in order to the tables, as `iptables-restore` applies them.
//! The result is a [`Ruleset`] and every problem found, all at once.

mod command;
mod error;
pub mod family;
mod lines;
mod table;

pub use command::problem_is_error;
pub use error::LoadError;
pub use table::MAX_CHAIN_NAME;

use crate::diag::Diagnostic;
use crate::model::{Family, Ruleset, TableName};
use crate::source::{Source, Span};
use crate::syntax::Statement;
use lines::{Outcome, ParsedLine};
use table::TableBuilder;

/// How to read a dump.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The family of every table, instead of what the file suggests.
    pub family: Option<Family>,
    /// The family to take where the file's name would suggest one (`rules.v6`,
    /// `before6.rules`): what a question about the file already knows. Headers and the rules
    /// themselves still decide first where they can.
    pub name_family: Option<Family>,
}

/// A dump read: the ruleset and every diagnostic, in the order of the lines.
#[derive(Debug)]
pub struct Loaded {
    pub ruleset: Ruleset,
    pub diagnostics: Vec<Diagnostic>,
    /// The kernel's walk of each table, by table index, when [`load`] made it (the lints use
    /// it rather than walk again); empty after [`read`].
    pub graphs: Vec<crate::check::Graph>,
}

impl Loaded {
    /// Whether `iptables-restore` would load the file (no error-level diagnostic).
    pub fn loads(&self) -> bool {
        self.diagnostics.iter().all(|d| d.severity() != crate::diag::Severity::Error)
    }
}

/// `iptables-restore` reads lines with a 10240-byte buffer.
const MAX_LINE: usize = 10239;
/// `add_param_to_argv`'s buffer.
const MAX_ARG: usize = 1023;
/// `MAX_ARGC` (255, of which `add_argv` fills 254) less the program name and `-t TABLE` that
/// iptables-restore adds. Checked on a kernel: 251 words load, 252 do not.
const MAX_ARGS: usize = 251;
/// With `[p:b]` counters, `iptables-restore -c` adds `--set-counters P B` too.
const MAX_ARGS_WITH_COUNTERS: usize = MAX_ARGS - 3;

/// Reads a whole source, and checks it as the kernel will ([`crate::check`]).
pub fn load(source: &Source, options: &LoadOptions) -> Loaded {
    let mut loaded = read(source, options);
    let (kernel, graphs) = crate::check::check_with_graphs(source, &loaded.ruleset);
    loaded.diagnostics.extend(kernel);
    loaded.graphs = graphs;
    loaded
}

/// Reads a whole source as `iptables-restore --test` would: without the kernel's checks.
pub fn read(source: &Source, options: &LoadOptions) -> Loaded {
    let mut loader = Loader {
        source,
        options,
        problems: Vec::new(),
        diagnostics: Vec::new(),
        ruleset: Ruleset::default(),
        table: None,
        comments: Vec::new(),
        crlf: None,
    };
    loader.run();
    loader.finish()
}

struct Loader<'s> {
    source: &'s Source,
    options: &'s LoadOptions,
    /// Problems of the current line, turned into diagnostics after each line.
    problems: Vec<LoadError>,
    diagnostics: Vec<Diagnostic>,
    ruleset: Ruleset,
    table: Option<TableBuilder>,
    /// `#` lines not yet attached to a chain or rule.
    comments: Vec<Box<str>>,
    /// The first carriage return, and how many lines have one.
    crlf: Option<(Span, usize)>,
}

impl<'s> Loader<'s> {
    fn run(&mut self) {
        let source = self.source;
        lines::read_all(source, self.options, |parsed, sections| {
            self.line(parsed, sections);
            self.flush_problems();
        });
        if let Some(table) = self.table.take() {
            let name = table.name.as_str().to_string();
            // the last line that is not blank (iptables-restore names the line after the last)
            let text = source.text();
            let end = text.trim_end().len();
            let span = Span::new(text[..end].rfind('\n').map_or(0, |i| i + 1), end);
            self.problems.push(LoadError::MissingCommit { span, table: name, open: table.span });
            self.flush_problems();
        }
        if let Some((span, count)) = self.crlf {
            self.diagnostics.push(Diagnostic::new(self.source, LoadError::CarriageReturns { span, count }));
        }
    }

    fn flush_problems(&mut self) {
        for problem in self.problems.drain(..) {
            self.diagnostics.push(Diagnostic::new(self.source, problem));
        }
    }

    /// The carriage return and trailing blanks a line ends with.
    fn line_end(&mut self, end: &crate::syntax::LineEnd, commit: bool) {
        if let Some(cr) = end.carriage_return {
            let (first, count) = self.crlf.unwrap_or((cr, 0));
            self.crlf = Some((first, count + 1));
        }
        if let Some(blanks) = end.trailing_blanks {
            if commit {
                self.problems.push(LoadError::CommitTrailingBlanks { span: blanks });
            } else {
                self.problems.push(LoadError::TrailingBlanks { span: blanks });
            }
        }
    }

    /// Applies one line, read, to the tables (in place: a command line is some 450 bytes, and
    /// most lines are commands).
    fn line(&mut self, parsed: &mut ParsedLine<'s>, sections: &lines::Sections) {
        let problems = std::mem::take(&mut parsed.problems);
        if let Outcome::Command { end, line_span, command } = &mut parsed.outcome {
            self.line_end(end, false);
            let Some(table) = self.table.as_mut() else {
                self.problems.push(LoadError::OutsideTable { span: *line_span, what: "rule line" });
                return;
            };
            self.problems.extend(problems);
            let Some(command) = command else {
                self.comments.clear();
                return;
            };
            let comments = std::mem::take(&mut self.comments);
            table.apply(command, *line_span, comments, &mut self.problems);
            return;
        }
        let (offset, len, has_newline) = (parsed.offset, parsed.len, parsed.has_newline);
        let outcome = std::mem::replace(&mut parsed.outcome, Outcome::Skip);
        let end = match &outcome {
            Outcome::Statement(_, end) | Outcome::Command { end, .. } => Some(end),
            Outcome::Skip | Outcome::Syntax(_) => None,
        };
        if let Some(end) = end {
            let commit = matches!(outcome, Outcome::Statement(Statement::Commit(_), _));
            self.line_end(end, commit);
        }
        let statement = match outcome {
            Outcome::Skip => {
                self.problems.extend(problems);
                return;
            }
            Outcome::Syntax(e) => {
                self.problems.extend(problems);
                self.flush_problems();
                self.diagnostics.push(Diagnostic::new(self.source, e));
                return;
            }
            Outcome::Command { .. } => unreachable!("command lines are applied above"),
            Outcome::Statement(statement, _) => {
                self.problems.extend(problems);
                statement
            }
        };
        match statement {
            Statement::Empty | Statement::Command { .. } => {}
            Statement::Comment(text) => self.comments.push(text.into()),
            Statement::MisplacedComment(span) => self.problems.push(LoadError::IndentedComment { span }),
            Statement::Table(header) => {
                if let Some(open) = &self.table {
                    self.problems.push(LoadError::NestedTable {
                        span: header.name_span,
                        table: header.name.into(),
                        open: open.span,
                    });
                    return;
                }
                if let Some(extra) = header.extra {
                    self.problems.push(LoadError::IgnoredWords { span: extra });
                }
                let family = sections.family_at(offset);
                let Some(name) = TableName::parse(header.name) else {
                    self.problems.push(LoadError::UnknownTable { span: header.name_span, name: header.name.into() });
                    // read the section anyway, so its lines are checked; an empty span marks it
                    // as one to check but not keep
                    self.table = Some(TableBuilder::new(TableName::Filter, family, Span::default(), 0));
                    return;
                };
                for comment in self.comments.drain(..) {
                    self.ruleset.comments.push((self.ruleset.tables.len(), comment));
                }
                let chains = sections.chains_at(offset);
                self.table = Some(TableBuilder::new(name, family, header.name_span, chains));
            }
            Statement::Chain(decl) => {
                let Some(table) = self.table.as_mut() else {
                    self.problems.push(LoadError::OutsideTable { span: decl.name_span, what: "chain declaration" });
                    return;
                };
                if let Some(extra) = decl.extra {
                    self.problems.push(LoadError::IgnoredWords { span: extra });
                }
                if let Some((read, span)) = decl.counters {
                    lines::saturated_counters(read, self.source.slice(span), span, &mut self.problems);
                }
                let comments = std::mem::take(&mut self.comments);
                table.declare(&decl, comments, &mut self.problems);
            }
            Statement::Commit(span) => {
                let Some(mut table) = self.table.take() else {
                    self.problems.push(LoadError::OutsideTable { span, what: "`COMMIT`" });
                    return;
                };
                if !has_newline {
                    self.problems.push(LoadError::NoFinalNewline { span });
                }
                let _ = len;
                table.comments.append(&mut self.comments);
                if table.span.is_empty() {
                    // the unknown table of an error above
                    return;
                }
                let table = table.finish();
                self.ruleset.tables.retain(|t| !(t.family == table.family && t.name == table.name));
                self.ruleset.tables.push(table);
            }
        }
    }

    fn finish(mut self) -> Loaded {
        for comment in self.comments.drain(..) {
            self.ruleset.comments.push((self.ruleset.tables.len(), comment));
        }
        Loaded { ruleset: self.ruleset, diagnostics: self.diagnostics, graphs: Vec::new() }
    }
}
