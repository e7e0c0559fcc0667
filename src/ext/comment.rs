//! `-m comment --comment TEXT` (libxt_comment): a note kept with the rule; it always matches.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

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
    /// Shared between rules that carry the same comment (kube-proxy writes one comment on
    /// each of a service's rules).
    pub text: Arc<str>,
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
    Some(MatchKind::Comment(Comment { text: shared(text) }))
}

/// How many recent comments each thread remembers, to share their text.
const RECENT: usize = 64;

thread_local! {
    static RECENT_TEXTS: RefCell<[Option<Arc<str>>; RECENT]> = const { RefCell::new([const { None }; RECENT]) };
}

/// The text of a comment, shared with an equal one this thread read lately: the rules of one
/// service or endpoint are written together, so a small cache finds most repeats.
fn shared(text: &str) -> Arc<str> {
    let mut hasher = rustc_hash::FxHasher::default();
    text.hash(&mut hasher);
    // the high bits of an Fx hash are the well mixed ones
    let slot = (hasher.finish() >> 58) as usize % RECENT;
    RECENT_TEXTS.with_borrow_mut(|recent| match &recent[slot] {
        Some(known) if **known == *text => known.clone(),
        _ => {
            let new: Arc<str> = text.into();
            recent[slot] = Some(new.clone());
            new
        }
    })
}

impl Comment {
    pub fn save(&self, out: &mut String) {
        out.push_str(" --comment");
        save_string(out, &self.text);
    }
}
