//! The text ipt reads: a name (a file path, or `-` for standard input) and its contents.
//!
//! A [`Source`] is cheap to clone and implements miette's [`SourceCode`], so every diagnostic can
//! carry the text it points into. Positions are byte offsets held in a [`Span`].

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SpanContents};
use serde::Serialize;

/// A byte range `start..end` in a [`Source`].
///
/// Spans never take part in equality: two models are equal when they mean the same ruleset,
/// wherever their text came from (this is what lets `parse(fmt(model)) == model` hold).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start as usize, span.len()).into()
    }
}

/// A 1-based line number in a [`Source`]. Like [`Span`], it never takes part in equality.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct Line(pub u32);

impl PartialEq for Line {
    fn eq(&self, _: &Line) -> bool {
        true
    }
}

impl Eq for Line {}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A named text: the input of one `ipt` run.
#[derive(Clone)]
pub struct Source {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    text: Text,
    line_starts: OnceLock<Vec<u32>>,
    /// Whether the text holds a `\r` (which miette counts as a line break).
    has_cr: OnceLock<bool>,
}

/// A source's text: its own, or a file's pages mapped into memory.
enum Text {
    Owned(String),
    /// Checked to be UTF-8 when the source was made ([`Source::mapped`]).
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Owned(text) => text,
            // SAFETY: `Source::mapped` checked the bytes; they stay as they were as long as the
            // file does, which is its caller's promise
            Text::Mapped(map) => unsafe { std::str::from_utf8_unchecked(map) },
        }
    }
}

/// The largest input ipt reads: spans are 32-bit offsets.
pub const MAX_LEN: usize = u32::MAX as usize;

impl Source {
    /// A source from text. The caller checks `text.len() <= MAX_LEN`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            inner: Arc::new(Inner {
                name: name.into(),
                text: Text::Owned(text.into()),
                line_starts: OnceLock::new(),
                has_cr: OnceLock::new(),
            }),
        }
    }

    /// A source over a file mapped into memory, or the mapping back when it is not UTF-8. The
    /// caller checks `map.len() <= MAX_LEN`, and promises that the file does not change while
    /// the source lives: the text is read where the file's pages lie, and a page past the end
    /// of a file cut short meanwhile is a bus error (SIGBUS) when it is read.
    pub fn mapped(name: impl Into<String>, map: memmap2::Mmap) -> Result<Source, memmap2::Mmap> {
        if std::str::from_utf8(&map).is_err() {
            return Err(map);
        }
        Ok(Source {
            inner: Arc::new(Inner {
                name: name.into(),
                text: Text::Mapped(map),
                line_starts: OnceLock::new(),
                has_cr: OnceLock::new(),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Lets the memory of the text's bytes in `range` go, when the text is a mapped file: a
    /// reader done with them hands back the pages (`madvise(MADV_DONTNEED)`; the whole pages
    /// within the range), and reading them again reads them from the file. The text is the same
    /// either way; only the process's resident memory changes. Owned text stays as it is.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let Text::Mapped(map) = &self.inner.text else { return };
        const PAGE: usize = 4096;
        let base = map.as_ptr() as usize;
        let start = (base + range.start).next_multiple_of(PAGE) - base;
        let end = ((base + range.end.min(map.len())) / PAGE * PAGE).saturating_sub(base);
        if end > start {
            // SAFETY: the mapping is shared and read-only, so the dropped pages come back from
            // the file as they were (the file does not change: `Source::mapped`'s promise);
            // nothing borrowed from the text sees a difference
            let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        }
    }

    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        &self.inner.text[span.range()]
    }

    fn line_starts(&self) -> &[u32] {
        self.inner.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', self.inner.text.as_bytes()).map(|i| i as u32 + 1));
            starts
        })
    }

    /// The span of a 1-based line's text, without its line end and trailing blanks; `None` past
    /// the last line.
    pub fn line_span(&self, line: u32) -> Option<Span> {
        let starts = self.line_starts();
        let start = *starts.get(line.checked_sub(1)? as usize)? as usize;
        let rest = &self.inner.text[start..];
        let len = rest.find('\n').unwrap_or(rest.len());
        let text = rest[..len].trim_end();
        Some(Span::new(start, start + text.len()))
    }

    /// The 1-based line and column (counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let start = starts[line] as usize;
        let end = (offset as usize).min(self.inner.text.len());
        let column = self.inner.text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("name", &self.inner.name).finish_non_exhaustive()
    }
}

impl Source {
    fn read_whole<'a>(
        &'a self,
        text: &'a str,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.inner.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette reads a `str` from its start (and on to its end): on a big dump that is the
        // whole file for every label. Give it only the lines around the span, a line more on
        // each side than it shows, and move what it finds back to the whole text's offsets and
        // line numbers.
        let text = &*self.inner.text;
        if *self.inner.has_cr.get_or_init(|| memchr::memchr(b'\r', text.as_bytes()).is_some()) {
            // miette counts a lone `\r` as a line break too: read the whole text
            return self.read_whole(text, span, context_lines_before, context_lines_after);
        }
        let starts = self.line_starts();
        let line_of = |offset: usize| starts.partition_point(|&s| s as usize <= offset) - 1;
        let first = line_of(span.offset()).saturating_sub(context_lines_before + 1);
        let last = line_of(span.offset() + span.len()).saturating_add(context_lines_after + 2);
        let from = starts[first] as usize;
        let to = starts.get(last).map_or(text.len(), |&s| s as usize);
        let inner = miette::SourceSpan::new((span.offset() - from).into(), span.len());
        let contents = text[from..to].read_span(&inner, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.inner.name.clone(),
            contents.data(),
            miette::SourceSpan::new((contents.span().offset() + from).into(), contents.span().len()),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Releasing a mapped text's pages changes nothing read from it: they come back from the
    /// file.
    #[test]
    fn a_mapped_text_reads_the_same_after_its_pages_are_released() {
        let text: String = (0..40_000).map(|i| format!("-A KUBE-SVC-{i:08} -j ACCEPT é\n")).collect();
        let path = std::env::temp_dir().join(format!("ipt-release-{}.rules", std::process::id()));
        std::fs::write(&path, &text).expect("temp file written");
        let file = std::fs::File::open(&path).expect("temp file opened");
        // SAFETY: the test's own file, not changed while mapped
        let map = unsafe { memmap2::Mmap::map(&file) }.expect("mapped");
        let _ = std::fs::remove_file(&path);
        let source = Source::mapped("t", map).unwrap_or_else(|_| panic!("UTF-8"));
        // ranges that start and end inside pages, in the middle of a character, and past the end
        source.release(1..text.len() / 2 + 1);
        source.release(text.len() / 3..text.len() + 10);
        source.release(0..0);
        assert!(source.text() == text);
        // owned text: nothing to release, nothing changes
        let owned = Source::new("t", text.clone());
        owned.release(0..text.len());
        assert!(owned.text() == text);
        // not UTF-8: the mapping comes back
        std::fs::write(&path, b"\xff\xfe").expect("temp file written");
        let file = std::fs::File::open(&path).expect("temp file opened");
        // SAFETY: as above
        let map = unsafe { memmap2::Mmap::map(&file) }.expect("mapped");
        let _ = std::fs::remove_file(&path);
        assert!(Source::mapped("t", map).is_err());
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        let source = Source::new("t", "ab\ncdé f\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(3), (2, 1));
        // `f` is after a two-byte character
        assert_eq!(source.line_col(8), (2, 5));
    }

    #[test]
    fn a_line_span_leaves_out_the_line_end_and_trailing_blanks() {
        let source = Source::new("t", "*filter\r\n-A INPUT -j DROP  \nCOMMIT");
        let text = |line| source.line_span(line).map(|s| source.slice(s).to_string());
        assert_eq!(text(1).as_deref(), Some("*filter"));
        assert_eq!(text(2).as_deref(), Some("-A INPUT -j DROP"));
        assert_eq!(text(3).as_deref(), Some("COMMIT"));
        assert_eq!(text(0), None);
        assert_eq!(text(4), None);
    }

    #[test]
    fn spans_read_from_a_window_equal_spans_read_from_the_whole_text() {
        for text in [
            "*filter\n:INPUT DROP [0:0]\n\n-A INPUT -p tcp --dport 22 -j ACCEPT\n# é\n-A INPUT -j DROP\nCOMMIT\n",
            "*filter\r\n:INPUT DROP [0:0]\r\n-A INPUT\r-j DROP\nCOMMIT",
        ] {
            same_spans_as_miette(text);
        }
    }

    fn same_spans_as_miette(text: &str) {
        let source = Source::new("t", text);
        let len = text.len();
        for start in 0..=len {
            for width in [0, 1, 5, 30, 200] {
                let width = width.min(len - start);
                let span = miette::SourceSpan::new(start.into(), width);
                for (before, after) in [(0, 0), (1, 1), (2, 3), (9, 9)] {
                    let whole = text
                        .read_span(&span, before, after)
                        .map(|c| (c.data().to_vec(), *c.span(), c.line(), c.column(), c.line_count()));
                    let window = source
                        .read_span(&span, before, after)
                        .map(|c| (c.data().to_vec(), *c.span(), c.line(), c.column(), c.line_count()));
                    match (whole, window) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{start}+{width} ({before}, {after})"),
                        (Err(_), Err(_)) => {}
                        (a, b) => panic!("{start}+{width}: {:?} vs {:?}", a.is_ok(), b.is_ok()),
                    }
                }
            }
        }
    }
}
