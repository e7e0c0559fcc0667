//! A hand-written scanner for the well-formed lines of the grammar, for speed.
//!
//! pest parses about 20 MB/s on dumps like kube-proxy's, which is too slow for a 16 MB file
//! (`ipt check` aims at a tenth of `iptables-restore --test`'s time). This scanner reads the same
//! language as `grammar/iptables.pest` for the lines that dumps are made of, and gives up (returns
//! `None`) on anything else, which pest then parses and, when the line is wrong, explains.
//! The grammar stays the definition: `tests::agrees_with_the_grammar` checks, on generated
//! lines, that whenever this scanner answers, pest gives the very same statement.

use std::borrow::Cow;

use super::statement::{Arg, ChainDecl, Counters, LineEnd, Statement, TableHeader};
use crate::source::Span;

/// Scans one line (without its `\n`) that starts at byte `offset` of its source.
pub(super) fn scan_line<'a>(text: &'a str, offset: usize, buf: &mut Vec<Arg<'a>>) -> Option<(Statement<'a>, LineEnd)> {
    let bytes = text.as_bytes();
    let mut end = LineEnd::default();
    // The `\r` of a CRLF line ending.
    let mut body_len = bytes.len();
    if bytes.last() == Some(&b'\r') {
        body_len -= 1;
        end.carriage_return = Some(Span::new(offset + body_len, offset + body_len + 1));
    }
    let body = &text[..body_len];
    let statement = match body.as_bytes().first() {
        None => Statement::Empty,
        Some(b'#') => {
            // comment text runs to the end, blanks included; a `\r` inside is part of it
            Statement::Comment(&body[1..])
        }
        Some(b'*') => {
            let name = &body[1..];
            if name.is_empty() || !name.bytes().all(is_word_byte) {
                return None;
            }
            Statement::Table(TableHeader { name, name_span: Span::new(offset + 1, offset + body_len), extra: None })
        }
        Some(b':') => {
            let (decl, trailing) = scan_chain_decl(body, offset)?;
            end.trailing_blanks = trailing;
            Statement::Chain(decl)
        }
        Some(_) => {
            let content_end = body.trim_end_matches([' ', '\t']).len();
            if content_end < body_len {
                end.trailing_blanks = Some(Span::new(offset + content_end, offset + body_len));
            }
            let content = &body[..content_end];
            if content.is_empty() {
                Statement::Empty
            } else if content.trim_start_matches([' ', '\t']).starts_with('#') {
                // a `#` after blanks: pest names the mistake
                return None;
            } else if content == "COMMIT" {
                Statement::Commit(Span::new(offset, offset + 6))
            } else if content.starts_with("COMMIT") && matches!(content.as_bytes()[6], b' ' | b'\t') {
                // `COMMIT x` is a syntax error: let pest say so
                return None;
            } else {
                scan_command(content, offset, buf)?
            }
        }
    };
    Some((statement, end))
}

fn is_word_byte(b: u8) -> bool {
    !matches!(b, b' ' | b'\t' | b'"' | b'\r')
}

/// Where the run of word bytes from `pos` ends: the first blank, quote or carriage return, or
/// the end. Eight bytes at a time (a word of a dump is some ten bytes long).
fn word_end(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // the high bit of each byte of `x` equal to `c` (and maybe of bytes after it, which
        // does not matter: the lowest one found is exact)
        let eq = |c: u8| {
            let y = x ^ (ONES * u64::from(c));
            y.wrapping_sub(ONES) & !y & HIGH
        };
        let found = eq(b' ') | eq(b'\t') | eq(b'"') | eq(b'\r');
        if found != 0 {
            return pos + (found.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while pos < bytes.len() && is_word_byte(bytes[pos]) {
        pos += 1;
    }
    pos
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `:NAME POLICY [p:b]` with nothing else, or gives up.
fn scan_chain_decl(body: &str, offset: usize) -> Option<(ChainDecl<'_>, Option<Span>)> {
    let content_end = body.trim_end_matches([' ', '\t']).len();
    let trailing = (content_end < body.len()).then(|| Span::new(offset + content_end, offset + body.len()));
    let mut fields = Fields { text: &body[..content_end], pos: 1 };
    let (name, name_span) = fields.next_word(offset)?;
    let (policy, policy_span) = fields.next_word(offset)?;
    if policy.starts_with('[') {
        return None;
    }
    let counters = match fields.next_word(offset) {
        None => None,
        Some((word, span)) => Some((parse_counters(word)?, span)),
    };
    if fields.pos < fields.text.len() {
        return None;
    }
    Some((ChainDecl { name, name_span, policy, policy_span, counters, extra: None }, trailing))
}

/// Blank-separated plain words (no quotes), for chain declarations.
struct Fields<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Fields<'a> {
    fn next_word(&mut self, offset: usize) -> Option<(&'a str, Span)> {
        let bytes = self.text.as_bytes();
        let mut start = self.pos;
        if start > 1 {
            // words after the name need a blank before them
            if start >= bytes.len() || !is_blank(bytes[start]) {
                return None;
            }
            while start < bytes.len() && is_blank(bytes[start]) {
                start += 1;
            }
        }
        let end = word_end(bytes, start);
        if end == start || (end < bytes.len() && !is_blank(bytes[end])) {
            return None;
        }
        self.pos = end;
        Some((&self.text[start..end], Span::new(offset + start, offset + end)))
    }
}

/// `[digits:digits]` exactly.
fn parse_counters(word: &str) -> Option<Counters> {
    let inner = word.strip_prefix('[')?.strip_suffix(']')?;
    let (packets, bytes) = inner.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(packets) || !digits(bytes) {
        return None;
    }
    Some(Counters { packets: super::counter_value(packets), bytes: super::counter_value(bytes) })
}

/// A command line (trailing blanks already cut off).
fn scan_command<'a>(content: &'a str, offset: usize, buf: &mut Vec<Arg<'a>>) -> Option<Statement<'a>> {
    let bytes = content.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() && is_blank(bytes[pos]) {
        pos += 1;
    }
    let mut counters = None;
    if bytes.get(pos) == Some(&b'[') {
        // counters when `[digits:digits]` is there; otherwise `[` starts a plain word
        if let Some(close) = content[pos..].find(']') {
            let candidate = &content[pos..pos + close + 1];
            if let Some(c) = parse_counters(candidate) {
                counters = Some((c, Span::new(offset + pos, offset + pos + close + 1)));
                pos += close + 1;
                while pos < bytes.len() && is_blank(bytes[pos]) {
                    pos += 1;
                }
            }
        }
    }
    if pos >= bytes.len() {
        return None;
    }
    // the caller's buffer, so that lines do not allocate one each
    let mut args = std::mem::take(buf);
    args.clear();
    loop {
        let (arg, next) = scan_word(content, pos, offset)?;
        args.push(arg);
        pos = next;
        if pos >= bytes.len() {
            break;
        }
        // words are separated by blanks (the content has no trailing blanks), or by nothing
        // after a closing quote
        while is_blank(bytes[pos]) {
            pos += 1;
        }
    }
    Some(Statement::Command { counters, args })
}

/// One word starting at `start`: bare text, then at most one quoted part; a closing quote
/// ends the word. Returns the word and where the next one may start.
fn scan_word(content: &str, start: usize, offset: usize) -> Option<(Arg<'_>, usize)> {
    let bytes = content.as_bytes();
    let mut pos = word_end(bytes, start);
    match bytes.get(pos) {
        None | Some(b' ' | b'\t') => {
            if pos == start {
                return None;
            }
            let text = Cow::Borrowed(&content[start..pos]);
            return Some((Arg { text, span: Span::new(offset + start, offset + pos), quoted: false }, pos));
        }
        Some(b'"') => {}
        // a carriage return inside the line: pest names the mistake
        Some(_) => return None,
    }
    if pos == start
        && let Some(close) = memchr::memchr2(b'"', b'\\', &bytes[pos + 1..])
        && bytes[pos + 1 + close] == b'"'
    {
        // `"text"` without escapes (a kube-proxy comment): the text as it stands in the source
        let end = pos + 1 + close;
        let text = Cow::Borrowed(&content[pos + 1..end]);
        return Some((Arg { text, span: Span::new(offset + start, offset + end + 1), quoted: true }, end + 1));
    }
    let mut text = String::from(&content[start..pos]);
    pos += 1;
    loop {
        match bytes.get(pos) {
            // unterminated: pest reports it
            None => return None,
            Some(b'"') => {
                pos += 1;
                break;
            }
            Some(b'\\') => {
                let c = content[pos + 1..].chars().next()?;
                text.push(c);
                pos += 1 + c.len_utf8();
            }
            Some(_) => {
                let run = content[pos..].find(['"', '\\']).map_or(bytes.len(), |i| pos + i);
                text.push_str(&content[pos..run]);
                pos = run;
            }
        }
    }
    Some((Arg { text: Cow::Owned(text), span: Span::new(offset + start, offset + pos), quoted: true }, pos))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::lower::parse_line_with_pest;
    use super::*;

    fn agree(line: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = scan_line(line, 7, &mut Vec::new()) {
            let slow = parse_line_with_pest(line, 7);
            let slow =
                slow.map_err(|e| TestCaseError::fail(format!("pest rejects {line:?} ({e}), the scanner accepts it")))?;
            prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "line {:?}", line);
        }
        Ok(())
    }

    #[test]
    fn scans_the_usual_lines() {
        for line in [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            ":KUBE-SVC-X - [0:0]",
            "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT",
            r#"-A KUBE-SERVICES -d 172.30.0.1/32 -p tcp -m comment --comment "ns0/svc0:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-X"#,
            "[5:300] -A INPUT -j DROP",
            "COMMIT",
            "# Generated by iptables-save v1.8.9",
            "",
        ] {
            assert!(scan_line(line, 0, &mut Vec::new()).is_some(), "{line:?} is left to pest");
            agree(line).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn word_end_finds_the_first_non_word_byte(text in "[a-c \t\"\réé]{0,40}", start in 0usize..40) {
            let bytes = text.as_bytes();
            let start = start.min(bytes.len());
            let naive = (start..bytes.len()).find(|&i| !is_word_byte(bytes[i])).unwrap_or(bytes.len());
            prop_assert_eq!(word_end(bytes, start), naive);
        }

        #[test]
        fn agrees_with_the_grammar(line in "[-A *:#\t\"\\\\\r\\[\\]0-9COMITé!]{0,24}") {
            agree(&line)?;
        }

        #[test]
        fn agrees_with_the_grammar_on_command_shapes(
            counters in "(\\[[0-9]{1,3}:[0-9]{1,3}\\] ?)?",
            words in proptest::collection::vec("[-a-z\"\\\\ ]{1,6}", 1..6),
            end in "[ \t]{0,2}\r?",
        ) {
            let line = format!("{counters}{}{end}", words.join(" "));
            agree(&line)?;
        }
    }
}
