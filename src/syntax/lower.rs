//! Lowering one line's parse tree into a [`Statement`]: one `lower_<rule>` function per rule.

use std::borrow::Cow;

use pest::Parser;
use pest::iterators::Pair;

use super::error::SyntaxError;
use super::statement::{Arg, ChainDecl, Counters, LineEnd, Statement, TableHeader};
use super::{LineParser, Rule, rule_name};
use crate::source::Span;

/// Parses one line (without its `\n`) that starts at byte `offset` of its source.
pub fn parse_line(text: &str, offset: usize) -> Result<(Statement<'_>, LineEnd), SyntaxError> {
    parse_line_reusing(text, offset, &mut Vec::new())
}

/// Like [`parse_line`], taking the argument vector from `buf` (a command's `args` can be given
/// back, cleared, for the next line).
pub fn parse_line_reusing<'a>(
    text: &'a str,
    offset: usize,
    buf: &mut Vec<Arg<'a>>,
) -> Result<(Statement<'a>, LineEnd), SyntaxError> {
    match super::fast::scan_line(text, offset, buf) {
        Some(parsed) => Ok(parsed),
        None => parse_line_with_pest(text, offset),
    }
}

/// Parses one line with the pest grammar (the definition of the format).
pub(super) fn parse_line_with_pest(text: &str, offset: usize) -> Result<(Statement<'_>, LineEnd), SyntaxError> {
    let mut pairs = LineParser::parse(Rule::line, text).map_err(|e| lower_error(&e, text, offset))?;
    // `line` always yields exactly one pair when it succeeds.
    let line = pairs.next().into_iter().flat_map(|p| p.into_inner());
    let cx = Cx { offset };
    let mut statement = Statement::Empty;
    let mut end = LineEnd::default();
    for pair in line {
        match pair.as_rule() {
            Rule::trailing_blanks => end.trailing_blanks = Some(cx.span(&pair)),
            Rule::carriage_return => end.carriage_return = Some(cx.span(&pair)),
            Rule::EOI | Rule::empty => {}
            Rule::comment => statement = Statement::Comment(lower_comment(pair)),
            Rule::misplaced_comment => statement = Statement::MisplacedComment(cx.span(&pair)),
            Rule::table_header => statement = Statement::Table(cx.lower_table_header(pair)?),
            Rule::chain_decl => statement = Statement::Chain(cx.lower_chain_decl(pair)?),
            Rule::commit => statement = Statement::Commit(cx.span(&pair)),
            Rule::command => statement = cx.lower_command(pair)?,
            other => unreachable!("`line` does not contain {other:?}"),
        }
    }
    Ok((statement, end))
}

/// Where the line being lowered starts in its source.
struct Cx {
    offset: usize,
}

impl Cx {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn lower_table_header<'a>(&self, pair: Pair<'a, Rule>) -> Result<TableHeader<'a>, SyntaxError> {
        let star = self.span(&pair);
        let mut header = TableHeader { name: "", name_span: Span::default(), extra: None };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::table_name => {
                    header.name = part.as_str();
                    header.name_span = self.span(&part);
                }
                Rule::extra_words => header.extra = Some(self.span(&part)),
                other => unreachable!("`table_header` does not contain {other:?}"),
            }
        }
        if header.name.is_empty() {
            return Err(SyntaxError::MissingTableName {
                span: Span::new(star.start as usize, star.start as usize + 1),
            });
        }
        Ok(header)
    }

    fn lower_chain_decl<'a>(&self, pair: Pair<'a, Rule>) -> Result<ChainDecl<'a>, SyntaxError> {
        let whole = self.span(&pair);
        let mut decl = ChainDecl {
            name: "",
            name_span: Span::default(),
            policy: "",
            policy_span: Span::default(),
            counters: None,
            extra: None,
        };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::chain_name => {
                    decl.name = part.as_str();
                    decl.name_span = self.span(&part);
                }
                Rule::policy => {
                    decl.policy = part.as_str();
                    decl.policy_span = self.span(&part);
                }
                Rule::counters => decl.counters = Some(self.lower_counters(part)?),
                Rule::extra_words => decl.extra = Some(self.span(&part)),
                other => unreachable!("`chain_decl` does not contain {other:?}"),
            }
        }
        if decl.name.is_empty() {
            return Err(SyntaxError::MissingChainName {
                span: Span::new(whole.start as usize, whole.start as usize + 1),
            });
        }
        if decl.policy.is_empty() || decl.policy.starts_with('[') {
            let at = decl.name_span.end as usize;
            return Err(SyntaxError::MissingPolicy { span: Span::new(at, at), chain: decl.name.to_string() });
        }
        Ok(decl)
    }

    fn lower_counters(&self, pair: Pair<'_, Rule>) -> Result<(Counters, Span), SyntaxError> {
        let span = self.span(&pair);
        let mut counters = Counters::default();
        for part in pair.into_inner() {
            let value = super::counter_value(part.as_str());
            match part.as_rule() {
                Rule::packets => counters.packets = value,
                Rule::bytes => counters.bytes = value,
                other => unreachable!("`counters` does not contain {other:?}"),
            }
        }
        Ok((counters, span))
    }

    fn lower_command<'a>(&self, pair: Pair<'a, Rule>) -> Result<Statement<'a>, SyntaxError> {
        let mut counters = None;
        let mut args = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::counters => counters = Some(self.lower_counters(part)?),
                Rule::word => args.push(self.lower_word(part)?),
                other => unreachable!("`command` does not contain {other:?}"),
            }
        }
        Ok(Statement::Command { counters, args })
    }

    fn lower_word<'a>(&self, pair: Pair<'a, Rule>) -> Result<Arg<'a>, SyntaxError> {
        let span = self.span(&pair);
        let mut parts = pair.into_inner();
        // The common case, one bare part, borrows the text.
        if let (Some(only), None) = (parts.clone().next(), parts.clone().nth(1))
            && only.as_rule() == Rule::bare
        {
            return Ok(Arg { text: Cow::Borrowed(only.as_str()), span, quoted: false });
        }
        let mut text = String::new();
        let mut quoted = false;
        for part in parts.by_ref() {
            match part.as_rule() {
                Rule::bare => text.push_str(part.as_str()),
                Rule::quoted => {
                    quoted = true;
                    lower_quoted(part, &mut text);
                }
                Rule::unterminated_quote => return Err(SyntaxError::UnterminatedQuote { span: self.span(&part) }),
                other => unreachable!("`word` does not contain {other:?}"),
            }
        }
        Ok(Arg { text: Cow::Owned(text), span, quoted })
    }
}

fn lower_comment(pair: Pair<'_, Rule>) -> &str {
    pair.into_inner().next().map_or("", |text| text.as_str())
}

fn lower_quoted(pair: Pair<'_, Rule>, out: &mut String) {
    for inner in pair.into_inner().flat_map(|p| p.into_inner()) {
        match inner.as_rule() {
            Rule::quoted_text => out.push_str(inner.as_str()),
            // `\x` stands for `x`
            Rule::escape => out.push_str(&inner.as_str()[1..]),
            other => unreachable!("`quoted` does not contain {other:?}"),
        }
    }
}

/// Turns pest's error into a diagnostic naming what was expected in words.
fn lower_error(error: &pest::error::Error<Rule>, text: &str, offset: usize) -> SyntaxError {
    let pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let found_char = text[pos..].chars().next();
    let found = match found_char {
        None => "the end of the line".to_string(),
        Some('\r') => "a carriage return".to_string(),
        Some('\0') => "a NUL byte".to_string(),
        Some(c) if c.is_control() => format!("control character U+{:04X}", c as u32),
        Some(c) => format!("`{c}`"),
    };
    let mut expected: Vec<&str> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.iter().map(|&r| rule_name(r)).collect(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.dedup();
    let expected = match expected.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    };
    let width = found_char.map_or(0, char::len_utf8);
    let help = match found_char {
        Some('\r') => Some("a carriage return is only allowed at the end of a line".to_string()),
        Some(c) if c.is_control() => Some("this looks like binary data, not an iptables-save dump".to_string()),
        _ => None,
    };
    SyntaxError::Unexpected { span: Span::new(offset + pos, offset + pos + width), expected, found, help }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        match parse_line(line, 0).expect("parses").0 {
            Statement::Command { args, .. } => args.into_iter().map(|a| a.text.into_owned()).collect(),
            other => panic!("not a command: {other:?}"),
        }
    }

    #[test]
    fn quotes_glue_to_bare_text_and_escapes_stand_for_themselves() {
        assert_eq!(words(r#"-m comment --comment "a b" x"y z"w"#), ["-m", "comment", "--comment", "a b", "xy z", "w"]);
        assert_eq!(words(r#"--comment "say \"hi\" \\ now""#), ["--comment", r#"say "hi" \ now"#]);
    }

    #[test]
    fn counters_prefix_a_command() {
        let (statement, _) = parse_line("[12:3400] -A INPUT -j ACCEPT", 0).unwrap();
        let Statement::Command { counters: Some((c, _)), args } = statement else { panic!() };
        assert_eq!((c.packets, c.bytes), (12, 3400));
        assert_eq!(args.len(), 4);
    }

    #[test]
    fn line_ends_are_reported() {
        let (statement, end) = parse_line("COMMIT \r", 0).unwrap();
        assert!(matches!(statement, Statement::Commit(_)));
        assert_eq!(end.trailing_blanks.map(|s| (s.start, s.end)), Some((6, 7)));
        assert_eq!(end.carriage_return.map(|s| (s.start, s.end)), Some((7, 8)));
    }

    #[test]
    fn commit_needs_to_stand_alone() {
        assert!(matches!(parse_line("COMMITTED", 0).unwrap().0, Statement::Command { .. }));
    }

    #[test]
    fn unterminated_quote_is_an_error_at_the_quote() {
        let err = parse_line(r#"-A X -m comment --comment "oops"#, 100).unwrap_err();
        let SyntaxError::UnterminatedQuote { span } = err else { panic!("{err:?}") };
        assert_eq!(span.start, 126);
    }

    #[test]
    fn chain_declaration_without_policy_names_what_is_missing() {
        let err = parse_line(":INPUT", 0).unwrap_err();
        assert_eq!(err.to_string(), "chain declaration of `INPUT` has no policy");
    }
}
