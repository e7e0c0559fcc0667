//! Giving meaning to a dump: every line parsed (by [`crate::syntax`]), its commands read the way
//! iptables reads them, and applied in order to the tables, as `iptables-restore` applies them.
//! The result is a [`Ruleset`] and every problem found, all at once.

mod command;
mod error;
pub mod family;
mod table;

pub use command::problem_is_error;
pub use error::LoadError;
pub use table::MAX_CHAIN_NAME;

use crate::diag::Diagnostic;
use crate::model::{Family, Ruleset, TableName};
use crate::source::{Line, Source, Span};
use crate::syntax::{Statement, parse_line};
use table::TableBuilder;

/// How to read a dump.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The family of every table, instead of what the file suggests.
    pub family: Option<Family>,
}

/// A dump read: the ruleset and every diagnostic, in the order of the lines.
#[derive(Debug)]
pub struct Loaded {
    pub ruleset: Ruleset,
    pub diagnostics: Vec<Diagnostic>,
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
/// `MAX_ARGC` less the program name and `-t TABLE` that iptables-restore adds.
const MAX_ARGS: usize = 252;

/// Reads a whole source.
pub fn load(source: &Source, options: &LoadOptions) -> Loaded {
    let mut loader = Loader {
        source,
        options,
        problems: Vec::new(),
        diagnostics: Vec::new(),
        ruleset: Ruleset::default(),
        table: None,
        comments: Vec::new(),
        header_family: None,
        last_family: None,
        file_family: family::from_file_name(source.name()),
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
    header_family: Option<Family>,
    last_family: Option<Family>,
    file_family: Option<Family>,
    /// The first carriage return, and how many lines have one.
    crlf: Option<(Span, usize)>,
}

impl Loader<'_> {
    fn run(&mut self) {
        let text = self.source.text();
        let mut offset = 0;
        let mut line_no = 0u32;
        let mut rest = text;
        while !rest.is_empty() {
            line_no += 1;
            let (line, next, has_newline) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..], true),
                None => (rest, "", false),
            };
            self.line(line, offset, Line(line_no), has_newline);
            offset += line.len() + 1;
            rest = next;
            self.flush_problems();
        }
        if let Some(table) = self.table.take() {
            let name = table.name.as_str().to_string();
            self.problems.push(LoadError::MissingCommit { span: table.span, table: name });
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

    fn line(&mut self, text: &str, offset: usize, line: Line, has_newline: bool) {
        if text.len() > MAX_LINE {
            self.problems
                .push(LoadError::LineTooLong { span: Span::new(offset, offset + text.len()), len: text.len() });
            return;
        }
        if let Some(i) = text.find('\0') {
            self.problems.push(LoadError::NulByte { span: Span::new(offset + i, offset + i + 1) });
            return;
        }
        if let Some(i) = text.find('\u{FFFD}') {
            self.problems.push(LoadError::NotUtf8 { span: Span::new(offset + i, offset + i + 3) });
        }
        let (statement, end) = match parse_line(text, offset) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.diagnostics.push(Diagnostic::new(self.source, e));
                return;
            }
        };
        if let Some(cr) = end.carriage_return {
            let (first, count) = self.crlf.unwrap_or((cr, 0));
            self.crlf = Some((first, count + 1));
        }
        if let Some(blanks) = end.trailing_blanks {
            if matches!(statement, Statement::Commit(_)) {
                self.problems.push(LoadError::CommitTrailingBlanks { span: blanks });
            } else if !matches!(statement, Statement::Empty) || !blanks.is_empty() {
                self.problems.push(LoadError::TrailingBlanks { span: blanks });
            }
        }
        match statement {
            Statement::Empty => {}
            Statement::Comment(text) => {
                if let Some(family) = family::from_comment(text) {
                    self.header_family = Some(family);
                }
                self.comments.push(text.into());
            }
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
                let Some(name) = TableName::parse(header.name) else {
                    self.problems.push(LoadError::UnknownTable { span: header.name_span, name: header.name.into() });
                    // read the section anyway, so its lines are checked
                    let family = self.section_family(offset + text.len() + 1);
                    self.table = Some(TableBuilder::new(TableName::Filter, family, header.name_span));
                    if let Some(t) = self.table.as_mut() {
                        t.span = Span::default();
                    }
                    return;
                };
                let family = self.section_family(offset + text.len() + 1);
                for comment in self.comments.drain(..) {
                    self.ruleset.comments.push((self.ruleset.tables.len(), comment));
                }
                self.table = Some(TableBuilder::new(name, family, header.name_span));
            }
            Statement::Chain(decl) => {
                let Some(table) = self.table.as_mut() else {
                    self.problems.push(LoadError::OutsideTable { span: decl.name_span, what: "chain declaration" });
                    return;
                };
                if let Some(extra) = decl.extra {
                    self.problems.push(LoadError::IgnoredWords { span: extra });
                }
                let comments = std::mem::take(&mut self.comments);
                table.declare(&decl, comments, &mut self.problems);
            }
            Statement::Commit(span) => {
                let Some(mut table) = self.table.take() else {
                    self.problems.push(LoadError::OutsideTable { span, what: "COMMIT" });
                    return;
                };
                if !has_newline {
                    self.problems.push(LoadError::NoFinalNewline { span });
                }
                table.comments.append(&mut self.comments);
                if table.span.is_empty() {
                    // the unknown table of an error above
                    return;
                }
                let table = table.finish();
                self.last_family = Some(table.family);
                self.ruleset.tables.retain(|t| !(t.family == table.family && t.name == table.name));
                self.ruleset.tables.push(table);
            }
            Statement::Command { counters, args } => {
                let Some(first) = args.first() else { return };
                let line_span = counters.map_or(first.span, |(_, s)| s).to(args.last().map_or(first.span, |a| a.span));
                let Some(table) = self.table.as_mut() else {
                    self.problems.push(LoadError::OutsideTable { span: line_span, what: "command" });
                    return;
                };
                if args.len() > MAX_ARGS {
                    self.problems.push(LoadError::TooManyArguments { span: line_span, count: args.len() });
                    return;
                }
                if let Some(long) = args.iter().find(|a| a.text.len() > MAX_ARG) {
                    self.problems.push(LoadError::ArgumentTooLong { span: long.span, len: long.text.len() });
                    return;
                }
                let Some(mut command) = command::parse_command(&args, table.family, &mut self.problems) else {
                    self.comments.clear();
                    return;
                };
                if let Some((family, _)) = command.only
                    && family != table.family
                {
                    // iptables-restore ignores a `-6` line, ip6tables-restore a `-4` line
                    return;
                }
                if let Some((c, _)) = counters {
                    command.rule.counters.get_or_insert(c);
                }
                let comments = std::mem::take(&mut self.comments);
                table.apply(command, line, line_span, comments, &mut self.problems);
            }
        }
    }

    /// The family of the section whose lines start at `from`.
    fn section_family(&mut self, from: usize) -> Family {
        let family = self
            .options
            .family
            .or(self.header_family)
            .or(self.file_family)
            .or_else(|| family::from_lines(self.source.text()[from.min(self.source.text().len())..].split('\n')))
            .or(self.last_family)
            .unwrap_or(Family::Ipv4);
        self.header_family = None;
        family
    }

    fn finish(mut self) -> Loaded {
        for comment in self.comments.drain(..) {
            self.ruleset.comments.push((self.ruleset.tables.len(), comment));
        }
        Loaded { ruleset: self.ruleset, diagnostics: self.diagnostics }
    }
}
