//! `-m comment --comment TEXT` (libxt_comment): a note kept with the rule; it always matches.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_string;
use super::{Availability, MatchSpec};
use crate::model::MatchKind;

/// The kernel keeps at most 255 bytes of a comment; iptables cuts longer ones silently.
pub const MAX_LEN: usize = 255;

/// `-m comment --comment TEXT`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Comment {
    pub text: Box<str>,
}

const COMMENT: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "comment",
    availability: Availability::Both,
    options: &[OptionSpec::value("comment", COMMENT)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let Some(opt) = b.get(COMMENT) else {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--comment`".into() });
        return None;
    };
    let mut text = opt.value();
    if text.len() > MAX_LEN {
        let mut cut = MAX_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        b.report(crate::load::LoadError::CommentTooLong { span: opt.value_span(), len: text.len() });
        text = &text[..cut];
    }
    Some(MatchKind::Comment(Comment { text: text.into() }))
}

impl Comment {
    pub fn save(&self, out: &mut String) {
        out.push_str(" --comment");
        save_string(out, &self.text);
    }
}
