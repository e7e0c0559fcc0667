//! Reading the lines of a dump, on several threads: each line is parsed and its command read
//! on its own (that is most of the work), then handed back in order to the single thread that
//! applies them to the tables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::command;
use super::error::LoadError;
use super::family;
use super::table::Prepared;
use super::{LoadOptions, MAX_ARG, MAX_ARGS, MAX_ARGS_WITH_COUNTERS, MAX_LINE};
use crate::model::{Counters, Family};
use crate::source::{Line, Source, Span};
use crate::syntax::{Arg, LineEnd, Statement, SyntaxError, parse_line_reusing};

/// How many lines a thread reads at a time.
const CHUNK_LINES: usize = 512;
/// How many chunks may be read ahead of the one being applied (bounds memory: a chunk read is
/// some 240 kB). Three had the reading thread wait for the applying one 3 to 17 ms of a 60 ms
/// load of the 10k kube dump, whenever a stretch of lines was slower to apply than to read;
/// twelve, never.
const WINDOW: usize = 12;

/// One line, read.
pub struct ParsedLine<'a> {
    pub offset: usize,
    pub len: usize,
    pub has_newline: bool,
    pub outcome: Outcome<'a>,
    /// Problems found while reading it.
    pub problems: Vec<LoadError>,
}

/// What a line turned out to be.
// most lines are commands: their size is the chunk's size per line either way
#[allow(clippy::large_enum_variant)]
pub enum Outcome<'a> {
    /// Nothing more to do (the problems say why).
    Skip,
    Syntax(SyntaxError),
    Statement(Statement<'a>, LineEnd),
    /// A command line, read and made ready: `command` is `None` when it would not load.
    /// (Not boxed: the thread that applies lines would free each box in the arena of the thread
    /// that read it, and glibc makes that a locked, slow free; the chunk holds them instead.)
    Command {
        end: LineEnd,
        line_span: Span,
        command: Option<Prepared<'a>>,
    },
}

/// Where each table section starts, which family it is for, and how many chains it declares.
pub struct Sections {
    /// (byte offset of the `*table` line, family, `:` lines up to the next section), in order.
    starts: Vec<(usize, Family, usize)>,
}

impl Sections {
    /// The family of the section a byte offset is in (IPv4 before any).
    pub fn family_at(&self, offset: usize) -> Family {
        let i = self.starts.partition_point(|&(start, _, _)| start <= offset);
        if i == 0 { Family::Ipv4 } else { self.starts[i - 1].1 }
    }

    /// How many chain declarations the section a byte offset is in has (a capacity to reserve).
    pub fn chains_at(&self, offset: usize) -> usize {
        let i = self.starts.partition_point(|&(start, _, _)| start <= offset);
        if i == 0 { 0 } else { self.starts[i - 1].2 }
    }
}

/// One pass over the lines: where chunks start (byte offset, first line number), and each
/// section's family, decided as [`family`] says.
pub fn plan(source: &Source, options: &LoadOptions) -> (Vec<(usize, u32)>, Sections) {
    let text = source.text();
    let bytes = text.as_bytes();
    let file_family = options.name_family.or_else(|| family::from_file_name(source.name()));
    let mut chunks = vec![(0, 1)];
    let mut starts: Vec<(usize, Family, usize)> = Vec::new();
    let mut decided: Vec<Option<bool>> = Vec::new();
    let (mut header, mut last) = (None, None);
    let (mut offset, mut line) = (0usize, 1u32);
    while offset < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |i| offset + i);
        match bytes[offset] {
            b'#' => {
                if let Some(f) = family::from_comment(&text[offset + 1..end]) {
                    header = Some(f);
                }
            }
            b':' => {
                if let Some(last) = starts.last_mut() {
                    last.2 += 1;
                }
            }
            b'*' => {
                let next = (end + 1).min(text.len());
                let given = options.family.or(header).or(file_family);
                let seen = given.or_else(|| family::from_lines(family::lines(&text[next..])));
                let family = seen.or(last);
                starts.push((offset, family.unwrap_or(Family::Ipv4), 0));
                // a section with no evidence of its own and none before it takes the family of
                // the first one whose rules show one (below), unless a header starts a new dump
                decided.push(if given.is_some() { Some(false) } else { seen.map(|_| true) });
                if family.is_some() {
                    last = family;
                }
                header = None;
            }
            _ => {}
        }
        offset = end + 1;
        if (line as usize).is_multiple_of(CHUNK_LINES) && offset < bytes.len() {
            chunks.push((offset, line + 1));
        }
        line += 1;
    }
    // sections before the first with evidence take its family: the tables of one dump are
    // of one family (a `*mangle` with no address in it, then an IPv6 `*filter`)
    if let Some(first) = decided.iter().position(|d| d.is_some())
        && decided[first] == Some(true)
    {
        let family = starts[first].1;
        for section in &mut starts[..first] {
            section.1 = family;
        }
    }
    (chunks, Sections { starts })
}

/// Reads the lines of one chunk, from `start` to `end`.
fn read_chunk<'a>(
    text: &'a str,
    (start, end, first_line): (usize, usize, u32),
    sections: &Sections,
    mut out: Vec<ParsedLine<'a>>,
) -> Vec<ParsedLine<'a>> {
    let mut buf: Vec<Arg<'a>> = Vec::with_capacity(32);
    // NUL bytes and bytes that were not UTF-8 are rare: looked for once in the chunk (by the
    // thread that reads it, not before the threads start), and in a line only when it has some
    let chunk = &text[start..end];
    let odd_bytes = memchr::memchr(0, chunk.as_bytes()).is_some() || chunk.contains('\u{FFFD}');
    let (mut offset, mut line) = (start, first_line);
    while offset < end {
        let (line_end, has_newline) = match memchr::memchr(b'\n', &text.as_bytes()[offset..end]) {
            Some(i) => (offset + i, true),
            None => (end, end < text.len()),
        };
        let line_text = &text[offset..line_end];
        // read in place: a line is some 460 bytes, not to be moved again
        out.push(ParsedLine {
            offset,
            len: line_text.len(),
            has_newline,
            outcome: Outcome::Skip,
            problems: Vec::new(),
        });
        let parsed = out.last_mut().expect("just pushed");
        read_line(line_text, offset, Line(line), sections, odd_bytes, &mut buf, parsed);
        offset = line_end + 1;
        line += 1;
    }
    out
}

/// Reads one line into `parsed`: its statement and, for a command line, the command.
fn read_line<'a>(
    text: &'a str,
    offset: usize,
    line: Line,
    sections: &Sections,
    odd_bytes: bool,
    buf: &mut Vec<Arg<'a>>,
    parsed: &mut ParsedLine<'a>,
) {
    if text.len() > MAX_LINE {
        parsed.problems.push(LoadError::LineTooLong { span: Span::new(offset, offset + text.len()), len: text.len() });
        return;
    }
    if odd_bytes && let Some(i) = text.find('\0') {
        parsed.problems.push(LoadError::NulByte { span: Span::new(offset + i, offset + i + 1) });
        return;
    }
    if odd_bytes && let Some(i) = text.find('\u{FFFD}') {
        parsed.problems.push(LoadError::NotUtf8 { span: Span::new(offset + i, offset + i + 3) });
    }
    match parse_line_reusing(text, offset, buf) {
        Err(e) => parsed.outcome = Outcome::Syntax(e),
        Ok((Statement::Command { counters, mut args }, end)) => {
            if let Some((read, span)) = counters {
                let relative = span.start as usize - offset..span.end as usize - offset;
                saturated_counters(read, &text[relative], span, &mut parsed.problems);
            }
            let family = sections.family_at(offset);
            read_command(counters, &args, end, line, family, &mut parsed.problems, &mut parsed.outcome);
            // give the vector back for the next line
            args.clear();
            *buf = args;
        }
        Ok((statement, end)) => parsed.outcome = Outcome::Statement(statement, end),
    }
}

/// Warns of each counter of `[packets:bytes]` (`text`, at `span`) past 2^64 - 1, which
/// iptables-restore reads as 2^64 - 1 (as [`Counters`] holds it: `read`).
pub fn saturated_counters(read: Counters, text: &str, span: Span, problems: &mut Vec<LoadError>) {
    if read.packets != u64::MAX && read.bytes != u64::MAX {
        return;
    }
    let inner = text.trim_start_matches('[').trim_end_matches(']');
    let mut at = span.start as usize + 1;
    for digits in inner.split(':') {
        if digits.parse::<u64>().is_err() {
            problems
                .push(LoadError::CounterSaturates { span: Span::new(at, at + digits.len()), text: digits.to_string() });
        }
        at += digits.len() + 1;
    }
}

/// Reads a command line into `outcome`.
fn read_command<'a>(
    counters: Option<(Counters, Span)>,
    args: &[Arg<'a>],
    end: LineEnd,
    line: Line,
    family: Family,
    problems: &mut Vec<LoadError>,
    outcome: &mut Outcome<'a>,
) {
    let Some(first) = args.first() else { return };
    let line_span = counters.map_or(first.span, |(_, s)| s).to(args.last().map_or(first.span, |a| a.span));
    *outcome = Outcome::Command { end, line_span, command: None };
    let Outcome::Command { command: slot, .. } = outcome else { unreachable!("just set") };
    let max = if counters.is_some() { MAX_ARGS_WITH_COUNTERS } else { MAX_ARGS };
    if args.len() > max {
        problems.push(LoadError::TooManyArguments { span: line_span, count: args.len(), max });
    } else if let Some(long) = args.iter().find(|a| a.text.len() > MAX_ARG) {
        problems.push(LoadError::ArgumentTooLong { span: long.span, len: long.text.len() });
    } else {
        command::parse_command(args, family, problems, |command| {
            Prepared::fill(slot, command, line, line_span, counters.map(|(c, _)| c))
        });
    }
}

/// Reads every line, on as many threads as the machine has, and hands them to `apply` in order.
pub fn read_all<'a>(source: &'a Source, options: &LoadOptions, mut apply: impl FnMut(&mut ParsedLine<'a>, &Sections)) {
    let text = source.text();
    let (chunks, sections) = plan(source, options);
    let bounds: Vec<(usize, usize, u32)> = chunks
        .iter()
        .enumerate()
        .map(|(i, &(start, line))| (start, chunks.get(i + 1).map_or(text.len(), |&(next, _)| next), line))
        .collect();
    let threads = crate::threads::count();
    // this thread holds most of a big dump's tables: some 1.5 times its size on the 10k kube dump
    let _room = (text.len() >= crate::memory::BIG).then(|| crate::memory::HeapRoom::new(2 * text.len()));
    // the text of the chunks applied is not read again while loading: a mapped file's pages
    // are let go as the load passes them (some 15 MB of a big dump's peak memory), 4 MiB at a
    // time (each time stops the other threads to forget the pages: some microseconds on a VM)
    const RELEASE: usize = 4 << 20;
    let mut released = 0;
    let mut release_to = |end: usize| {
        if end - released >= RELEASE {
            source.release(released..end);
            released = end;
        }
    };
    if threads == 1 || bounds.len() < 4 {
        let mut lines = Vec::with_capacity(CHUNK_LINES);
        for &bound in &bounds {
            lines = read_chunk(text, bound, &sections, lines);
            for parsed in lines.iter_mut() {
                apply(parsed, &sections);
            }
            lines.clear();
            release_to(bound.1);
        }
        return;
    }
    // one lock over the chunks read and the count applied, one condition variable for both
    struct Shared<'a> {
        slots: Vec<Option<Vec<ParsedLine<'a>>>>,
        applied: usize,
        /// Chunks applied, emptied, for the readers to fill again: a chunk is some 240 kB, and a
        /// new one each time would be new pages to fault in.
        spare: Vec<Vec<ParsedLine<'a>>>,
    }
    let shared = Mutex::new(Shared { slots: bounds.iter().map(|_| None).collect(), applied: 0, spare: Vec::new() });
    let changed = Condvar::new();
    let next = AtomicUsize::new(0);
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    // reads chunk `i` (claimed already) and hands it over
    let read = |i: usize| {
        let spare = lock().spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK_LINES));
        let lines = read_chunk(text, bounds[i], &sections, spare);
        lock().slots[i] = Some(lines);
        changed.notify_all();
    };
    // this thread applies, and reads too while the next chunk to apply is not read yet: one
    // reading thread fewer than the machine has threads (one thread more had the three take
    // turns on two cores, six times as many context switches)
    let readers = threads - 1;
    std::thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bounds.len() {
                        break;
                    }
                    // do not run too far ahead of the thread that applies
                    let mut state = lock();
                    while i >= state.applied + WINDOW {
                        state = changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                    drop(state);
                    read(i);
                }
            });
        }
        for i in 0..bounds.len() {
            let mut lines = loop {
                let mut state = lock();
                if let Some(lines) = state.slots[i].take() {
                    state.applied = i + 1;
                    break lines;
                }
                // chunk `i` is not read yet: read the next unclaimed one here, rather than wait
                let j = next.load(Ordering::Relaxed);
                if j < bounds.len() && j < state.applied + WINDOW {
                    drop(state);
                    if next.compare_exchange(j, j + 1, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
                        read(j);
                    }
                    continue;
                }
                drop(changed.wait(state).unwrap_or_else(|e| e.into_inner()));
            };
            changed.notify_all();
            for parsed in lines.iter_mut() {
                apply(parsed, &sections);
            }
            lines.clear();
            lock().spare.push(lines);
            release_to(bounds[i].1);
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::load::{LoadOptions, read};
    use crate::source::Source;

    /// The codes of what reading a filter table with this rule reports.
    fn codes(rule: &str) -> Vec<String> {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n{rule}\nCOMMIT\n");
        read(&Source::new("test.rules", text), &LoadOptions::default()).diagnostics.iter().map(|d| d.code()).collect()
    }

    #[test]
    fn a_section_without_evidence_takes_the_family_of_the_next_one() {
        let text = "*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n\
                    -A INPUT -p ipv6-icmp -j ACCEPT\nCOMMIT\n*raw\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
        let ruleset = read(&Source::new("t.rules", text.to_string()), &LoadOptions::default()).ruleset;
        let families: Vec<_> = ruleset.tables.iter().map(|t| (t.name.as_str(), t.family)).collect();
        use crate::model::Family::Ipv6;
        assert_eq!(families, [("mangle", Ipv6), ("filter", Ipv6), ("raw", Ipv6)]);
    }

    /// `-A INPUT` and `words - 2` more words.
    fn rule_of(words: usize) -> String {
        let mut rule = "-A INPUT".to_string();
        for _ in 0..(words - 2) / 2 {
            rule.push_str(" -m mark");
        }
        if words % 2 == 1 {
            rule.push_str(" -f");
        }
        rule
    }

    #[test]
    fn odd_bytes_are_found_in_whichever_chunk_holds_them() {
        // 5 000 lines: chunks read side by side; a NUL byte and a byte that was not UTF-8 (read
        // as U+FFFD) in two lines far in, each reported on its own line and no other
        let mut lines: Vec<String> = vec!["*filter".into(), ":INPUT ACCEPT [0:0]".into()];
        lines.extend((0..5000).map(|i| format!("-A INPUT -s 192.0.2.{} -j ACCEPT", i % 250)));
        lines[3000] = "-A INPUT -j ACCEPT\0".into();
        lines[4500] = "-A INPUT -m comment --comment \"\u{FFFD}\" -j ACCEPT".into();
        lines.push("COMMIT\n".into());
        let source = Source::new("odd.rules", lines.join("\n"));
        let found: Vec<(String, u32)> = read(&source, &LoadOptions::default())
            .diagnostics
            .iter()
            .map(|d| (d.code(), source.line_col(d.offset().expect("a span") as u32).0))
            .collect();
        assert_eq!(found, [("ipt::load::nul_byte".to_string(), 3001), ("ipt::load::not_utf8".to_string(), 4501)]);
    }

    #[test]
    fn a_rule_takes_at_most_251_words_and_248_after_counters() {
        // checked on a kernel: iptables-restore adds its name and `-t TABLE` to the 254 it holds,
        // and `-c` turns counters into `--set-counters P B`
        assert!(!codes(&rule_of(251)).contains(&"ipt::load::too_many_arguments".to_string()));
        assert!(codes(&rule_of(252)).contains(&"ipt::load::too_many_arguments".to_string()));
        let counted = |words| format!("[1:2] {}", rule_of(words));
        assert!(!codes(&counted(248)).contains(&"ipt::load::too_many_arguments".to_string()));
        assert!(codes(&counted(249)).contains(&"ipt::load::too_many_arguments".to_string()));
    }
}
