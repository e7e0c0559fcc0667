//! Problems in the text of a line, before any meaning is given to it.

use crate::source::Span;

/// A line that does not follow the grammar.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SyntaxError {
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(ipt::syntax::unexpected))]
    Unexpected {
        #[label("{found}")]
        span: Span,
        expected: String,
        found: String,
        #[help]
        help: Option<String>,
    },

    #[error("unterminated quote")]
    #[diagnostic(
        code(ipt::syntax::unterminated_quote),
        help(
            "close it with `\"`; iptables-restore would take the rest of the line, its newline included, as the argument"
        )
    )]
    UnterminatedQuote {
        #[label("this `\"` is never closed")]
        span: Span,
    },

    #[error("table header has no table name")]
    #[diagnostic(
        code(ipt::syntax::missing_table_name),
        help("write the table right after `*`: `*filter`, `*nat`, `*mangle`, `*raw` or `*security`")
    )]
    MissingTableName {
        #[label("a table name goes here")]
        span: Span,
    },

    #[error("chain declaration has no chain name")]
    #[diagnostic(
        code(ipt::syntax::missing_chain_name),
        help("write the chain right after `:`, as in `:INPUT ACCEPT [0:0]`")
    )]
    MissingChainName {
        #[label("a chain name goes here")]
        span: Span,
    },

    #[error("chain declaration of `{chain}` has no policy")]
    #[diagnostic(
        code(ipt::syntax::missing_policy),
        help("a built-in chain takes `ACCEPT` or `DROP`, a user chain `-`: `:{chain} - [0:0]`")
    )]
    MissingPolicy {
        #[label("expected `ACCEPT`, `DROP` or `-` here")]
        span: Span,
        chain: String,
    },
}
