//! `-j MARK` (libxt_MARK, revision 2): set bits of the packet's mark. Every spelling
//! (`--set-mark`, `--and-mark`, ...) is an "xmark": `mark = (mark & ~mask) ^ value`.

use serde::Serialize;

use super::build::Build;
use super::mark::MarkMask;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `mark = (mark & !mask) ^ value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct XMark {
    pub value: u32,
    pub mask: u32,
}

impl XMark {
    pub fn apply(self, mark: u32) -> u32 {
        (mark & !self.mask) ^ self.value
    }
}

const SET_XMARK: u8 = 0;
const SET_MARK: u8 = 1;
const AND_MARK: u8 = 2;
const OR_MARK: u8 = 3;
const XOR_MARK: u8 = 4;

pub static SPEC: TargetSpec = TargetSpec {
    name: "MARK",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("set-xmark", SET_XMARK),
        OptionSpec::value("set-mark", SET_MARK),
        OptionSpec::value("and-mark", AND_MARK),
        OptionSpec::value("or-mark", OR_MARK),
        OptionSpec::value("xor-mark", XOR_MARK),
    ],
    build,
};

/// Reads the options `--set-xmark`, `--set-mark`, `--and-mark`, `--or-mark`, `--xor-mark` (one
/// of them) into an xmark; shared by MARK and CONNMARK.
pub fn parse_xmark(b: &mut Build<'_, '_>, ids: [u8; 5]) -> Option<XMark> {
    let mut given = b.opts.iter().filter(|o| ids.contains(&o.id));
    let opt = given.next()?;
    if let Some(second) = given.next() {
        b.fail(
            second.span,
            "only one of `--set-xmark`, `--set-mark`, `--and-mark`, `--or-mark` and `--xor-mark` is allowed",
            "keep one; they all set the same mark",
        );
        return None;
    }
    let value_mask = |b: &mut Build<'_, '_>| match MarkMask::parse(opt.value()) {
        Some(m) => Some(m),
        None => {
            b.bad_value(opt, "`value` or `value/mask` (32-bit numbers)");
            None
        }
    };
    let bits = |b: &mut Build<'_, '_>| match num::uint(opt.value(), 0, u32::MAX as u64) {
        Some(v) => Some(v as u32),
        None => {
            b.bad_value(opt, "a 32-bit number");
            None
        }
    };
    let [set_x, set, and, or, xor] = ids;
    let id = opt.id;
    if id == set_x {
        value_mask(b).map(|m| XMark { value: m.value, mask: m.mask })
    } else if id == set {
        value_mask(b).map(|m| XMark { value: m.value, mask: m.value | m.mask })
    } else if id == and {
        bits(b).map(|v| XMark { value: 0, mask: !v })
    } else if id == or {
        bits(b).map(|v| XMark { value: v, mask: v })
    } else if id == xor {
        bits(b).map(|v| XMark { value: v, mask: 0 })
    } else {
        None
    }
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    if !b.opts.iter().any(|o| o.id <= XOR_MARK) {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "one of `--set-xmark`, `--set-mark`, `--and-mark`, `--or-mark`, `--xor-mark`".into(),
        });
        return None;
    }
    parse_xmark(b, [SET_XMARK, SET_MARK, AND_MARK, OR_MARK, XOR_MARK]).map(TargetKind::Mark)
}

impl XMark {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --set-xmark 0x{:x}/0x{:x}", self.value, self.mask));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, load_rule};
    use crate::model::{Family, TargetKind};

    #[test]
    fn needs_an_operation_unless_a_chain_takes_the_name() {
        assert!(err4("-j MARK").contains("one of `--set-xmark`"));
        // a line refused for another reason reports the target's problem too
        let both = err4("-p bogus -j MARK");
        assert!(both.contains("`bogus`") && both.contains("one of `--set-xmark`"), "{both}");
        // `:MARK` declared: the rule jumps to that chain (as on a kernel, see
        // fixtures/check/chain-named-like-target.rules)
        let jump = load_rule(Family::Ipv4, "filter", "MARK", "-j MARK");
        assert!(jump.errors.is_empty(), "{:?}", jump.errors);
        assert!(matches!(jump.target, Some(TargetKind::Jump(ref c)) if &**c == "MARK"), "{:?}", jump.target);
        assert!(jump.warnings.iter().any(|w| w.contains("jumps to the chain `MARK`")), "{:?}", jump.warnings);
    }
}
