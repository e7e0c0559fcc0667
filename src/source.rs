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
    text: String,
    line_starts: OnceLock<Vec<u32>>,
}

/// The largest input ipt reads: spans are 32-bit offsets.
pub const MAX_LEN: usize = u32::MAX as usize;

impl Source {
    /// A source from text. The caller checks `text.len() <= MAX_LEN`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source { inner: Arc::new(Inner { name: name.into(), text: text.into(), line_starts: OnceLock::new() }) }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
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
            starts.extend(self.inner.text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i as u32 + 1));
            starts
        })
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

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.inner.text.as_str().read_span(span, context_lines_before, context_lines_after)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let source = Source::new("t", "ab\ncdé f\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(3), (2, 1));
        // `f` is after a two-byte character
        assert_eq!(source.line_col(8), (2, 5));
    }
}
