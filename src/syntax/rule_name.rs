//! Human names for the grammar's rules, used in "expected ..." messages.

use super::Rule;

/// What a grammar rule is called in an error message. Every rule has a name: there is no
/// catch-all arm, so a new grammar rule cannot ship without one.
pub fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the line",
        Rule::blank => "a blank",
        Rule::line => "a line",
        Rule::empty => "an empty line",
        Rule::trailing_blanks => "blanks at the end of the line",
        Rule::carriage_return => "a carriage return",
        Rule::comment => "a comment (`#` in the first column)",
        Rule::comment_text => "comment text",
        Rule::misplaced_comment => "a comment",
        Rule::table_header => "a table header such as `*filter`",
        Rule::table_name => "a table name (`raw`, `mangle`, `nat`, `filter` or `security`)",
        Rule::chain_decl => "a chain declaration such as `:INPUT ACCEPT [0:0]`",
        Rule::chain_name => "a chain name",
        Rule::policy => "a policy (`ACCEPT`, `DROP` or `-`)",
        Rule::counters => "counters `[packets:bytes]`",
        Rule::packets => "a packet count",
        Rule::bytes => "a byte count",
        Rule::extra_words => "more words",
        Rule::raw_word => "a word",
        Rule::commit => "`COMMIT`",
        Rule::command => "a command such as `-A INPUT -j ACCEPT`",
        Rule::word => "an argument",
        Rule::bare => "an argument",
        Rule::quoted => "a quoted argument",
        Rule::quoted_inner => "quoted text",
        Rule::quoted_text => "quoted text",
        Rule::escape => "an escaped character",
        Rule::unterminated_quote => "a quoted argument",
    }
}
