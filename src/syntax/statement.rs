//! What one line says, before it is given meaning.

use std::borrow::Cow;

use crate::source::Span;

/// One line of a dump, lowered from its parse tree.
#[derive(Debug)]
pub enum Statement<'a> {
    /// An empty line (possibly with blanks, reported through [`LineEnd`]).
    Empty,
    /// `# text` in the first column.
    Comment(&'a str),
    /// A `#` after blanks: `iptables-restore` does not read it as a comment.
    MisplacedComment(Span),
    /// `*table`.
    Table(TableHeader<'a>),
    /// `:CHAIN POLICY [p:b]`.
    Chain(ChainDecl<'a>),
    /// `COMMIT`.
    Commit(Span),
    /// A command line: optional `[p:b]` counters, then the words.
    Command { counters: Option<(Counters, Span)>, args: Vec<Arg<'a>> },
}

/// `*name`, and any words after it (which `iptables-restore` ignores).
#[derive(Debug)]
pub struct TableHeader<'a> {
    pub name: &'a str,
    pub name_span: Span,
    pub extra: Option<Span>,
}

/// `:name policy [p:b]`, and any words after it (which `iptables-restore` ignores).
#[derive(Debug)]
pub struct ChainDecl<'a> {
    pub name: &'a str,
    pub name_span: Span,
    pub policy: &'a str,
    pub policy_span: Span,
    pub counters: Option<(Counters, Span)>,
    pub extra: Option<Span>,
}

pub use crate::model::Counters;

/// One argument of a command, with quotes and escapes resolved.
#[derive(Clone, Debug)]
pub struct Arg<'a> {
    pub text: Cow<'a, str>,
    pub span: Span,
    /// Whether any part of it was quoted (a quoted `!` is not a negation).
    pub quoted: bool,
}

/// How a line ended: what the lowering warns about.
#[derive(Debug, Default)]
pub struct LineEnd {
    /// Blanks before the end of the line.
    pub trailing_blanks: Option<Span>,
    /// A `\r` before the `\n`.
    pub carriage_return: Option<Span>,
}
