//! `-m frag` (libip6t_frag, IPv6): the fragment header: its identification, length, reserved
//! field and position (first, more to come, last).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// `-m frag`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Frag {
    /// `--fragid lo[:hi]`; the kernel always compares it, so `None` is `0:4294967295`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Neg<(u32, u32)>>,
    /// `--fraglen N` (the kernel does not test it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<Neg<u32>>,
    /// `--fragres`: the reserved fields are zero.
    pub res: bool,
    /// `--fragfirst`: the first fragment.
    pub first: bool,
    /// `--fragmore`: more fragments follow.
    pub more: bool,
    /// `--fraglast`: the last fragment.
    pub last: bool,
}

const ID: u8 = 0;
const LEN: u8 = 1;
const RES: u8 = 2;
const FIRST: u8 = 3;
const MORE: u8 = 4;
const LAST: u8 = 5;

pub static SPEC: MatchSpec = MatchSpec {
    name: "frag",
    availability: Availability::Ipv6,
    options: &[
        OptionSpec::value("fragid", ID).invertible(),
        OptionSpec::value("fraglen", LEN).invertible(),
        OptionSpec::flag("fragres", RES),
        OptionSpec::flag("fragfirst", FIRST),
        OptionSpec::flag("fragmore", MORE),
        OptionSpec::flag("fraglast", LAST),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = b.exclusive(&[MORE, LAST]);
    let mut f = Frag { res: b.has(RES), first: b.has(FIRST), more: b.has(MORE), last: b.has(LAST), ..Frag::default() };
    if let Some(opt) = b.get(ID) {
        match b.uint_range(opt, u32::MAX as u64) {
            Some((lo, hi)) => {
                let range = (lo as u32, hi.unwrap_or(lo) as u32);
                if range != (0, u32::MAX) || opt.invert {
                    f.ids = Some(b.neg(opt, range));
                }
            }
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(LEN) {
        match b.number(opt, 0, u32::MAX as u64) {
            Some(v) => f.len = Some(b.neg(opt, v as u32)),
            None => ok = false,
        }
    }
    ok.then(|| MatchKind::Frag(Box::new(f)))
}

impl Frag {
    pub fn save(&self, out: &mut String) {
        if let Some(i) = &self.ids
            && i.value != (0, u32::MAX)
        {
            let (lo, hi) = i.value;
            let text = if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") };
            save_opt_value(out, i.invert, "fragid", text);
        }
        if let Some(l) = &self.len {
            save_opt_value(out, l.invert, "fraglen", l.value);
        }
        for (on, name) in [
            (self.res, " --fragres"),
            (self.first, " --fragfirst"),
            (self.more, " --fragmore"),
            (self.last, " --fraglast"),
        ] {
            if on {
                out.push_str(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, v6};

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(v6("-m frag"), "-m frag");
        assert_eq!(
            v6("-m frag --fraglast --fragfirst --fragres ! --fraglen 0 ! --fragid 1:2"),
            "-m frag ! --fragid 1:2 ! --fraglen 0 --fragres --fragfirst --fraglast"
        );
        assert_eq!(v6("-m frag --fragid 5: --fragmore"), "-m frag --fragid 5:4294967295 --fragmore");
        assert_eq!(v6("-m frag ! --fragid 0:4294967295"), "-m frag");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err6("-m frag --fragmore --fraglast").contains("cannot be used together"));
        assert!(err6("-m frag ! --fragfirst").contains("cannot come before"));
        assert!(err4("-m frag --fragfirst").contains("IPv6 extension"));
    }
}
