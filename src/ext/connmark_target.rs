//! `-j CONNMARK` (libxt_CONNMARK, revision 2): set the connection's mark, or copy marks between
//! the packet and its connection, under masks and with an optional shift.

use serde::Serialize;

use super::build::Build;
use super::mark::MarkMask;
use super::mark_target::XMark;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `-j CONNMARK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Connmark {
    pub op: ConnmarkOp,
    /// Shift the mark by this many bits after masking; `None` for no shift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shift: Option<Shift>,
}

/// What CONNMARK does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnmarkOp {
    /// `ctmark = (ctmark & !mask) ^ value` (every spelling: `--set-xmark`, `--set-mark`,
    /// `--and-mark`, `--or-mark`, `--xor-mark`).
    Set(XMark),
    /// `--save-mark`: `ctmark = (ctmark & !ctmask) ^ (nfmark & nfmask)`.
    Save { nfmask: u32, ctmask: u32 },
    /// `--restore-mark`: `nfmark = (nfmark & !nfmask) ^ (ctmark & ctmask)`.
    Restore { nfmask: u32, ctmask: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Shift {
    pub dir: ShiftDir,
    /// 1-32.
    pub bits: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftDir {
    Left,
    Right,
}

const SET_XMARK: u8 = 0;
const SET_MARK: u8 = 1;
const AND_MARK: u8 = 2;
const OR_MARK: u8 = 3;
const XOR_MARK: u8 = 4;
const SAVE_MARK: u8 = 5;
const RESTORE_MARK: u8 = 6;
const LEFT_SHIFT: u8 = 7;
const RIGHT_SHIFT: u8 = 8;
const CTMASK: u8 = 9;
const NFMASK: u8 = 10;
const MASK: u8 = 11;

const OPERATIONS: [u8; 7] = [SET_XMARK, SET_MARK, AND_MARK, OR_MARK, XOR_MARK, SAVE_MARK, RESTORE_MARK];

pub static SPEC: TargetSpec = TargetSpec {
    name: "CONNMARK",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("set-xmark", SET_XMARK),
        OptionSpec::value("set-mark", SET_MARK),
        OptionSpec::value("and-mark", AND_MARK),
        OptionSpec::value("or-mark", OR_MARK),
        OptionSpec::value("xor-mark", XOR_MARK),
        OptionSpec::flag("save-mark", SAVE_MARK),
        OptionSpec::flag("restore-mark", RESTORE_MARK),
        OptionSpec::value("left-shift-mark", LEFT_SHIFT),
        OptionSpec::value("right-shift-mark", RIGHT_SHIFT),
        OptionSpec::value("ctmask", CTMASK),
        OptionSpec::value("nfmask", NFMASK),
        OptionSpec::value("mask", MASK),
    ],
    build,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    Set,
    Save,
    Restore,
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut ok = b.at_most_one(&OPERATIONS);
    ok &= b.at_most_one(&[MASK, CTMASK]);
    ok &= b.at_most_one(&[MASK, NFMASK]);
    // the options apply in order, each overwriting what it sets (`--set-mark 1 --mask 0xff`
    // and `--mask 0xff --set-mark 1` differ)
    let (mut mode, mut ctmark, mut ctmask, mut nfmask) = (Mode::None, 0u32, u32::MAX, u32::MAX);
    let (mut dir, mut bits) = (ShiftDir::Left, 0u8);
    for opt in b.opts {
        let u32_value = |b: &mut Build<'_, '_>| b.number(opt, 0, u32::MAX as u64).map(|v| v as u32);
        match opt.id {
            SET_XMARK | SET_MARK => match MarkMask::parse(opt.value()) {
                Some(m) => {
                    mode = Mode::Set;
                    ctmark = m.value;
                    ctmask = if opt.id == SET_MARK { m.value | m.mask } else { m.mask };
                }
                None => {
                    b.bad_value(opt, "`value` or `value/mask` (32-bit numbers)");
                    ok = false;
                }
            },
            AND_MARK | OR_MARK | XOR_MARK => match u32_value(b) {
                Some(v) => {
                    mode = Mode::Set;
                    (ctmark, ctmask) = match opt.id {
                        AND_MARK => (0, !v),
                        OR_MARK => (v, v),
                        _ => (v, 0),
                    };
                }
                None => ok = false,
            },
            SAVE_MARK => mode = Mode::Save,
            RESTORE_MARK => mode = Mode::Restore,
            LEFT_SHIFT | RIGHT_SHIFT => match num::uint(opt.value(), 0, 32) {
                Some(v) => {
                    dir = if opt.id == LEFT_SHIFT { ShiftDir::Left } else { ShiftDir::Right };
                    bits = v as u8;
                }
                None => {
                    b.bad_value(opt, "a number of bits 0-32");
                    ok = false;
                }
            },
            CTMASK | NFMASK | MASK => match u32_value(b) {
                Some(v) => {
                    if opt.id != NFMASK {
                        ctmask = v;
                    }
                    if opt.id != CTMASK {
                        nfmask = v;
                    }
                }
                None => ok = false,
            },
            _ => {}
        }
    }
    let op = match mode {
        Mode::Set => ConnmarkOp::Set(XMark { value: ctmark, mask: ctmask }),
        Mode::Save => ConnmarkOp::Save { nfmask, ctmask },
        Mode::Restore => ConnmarkOp::Restore { nfmask, ctmask },
        Mode::None => {
            b.report(crate::load::LoadError::MissingOption {
                span: b.span,
                needs: "one of `--set-xmark`, `--set-mark`, `--and-mark`, `--or-mark`, `--xor-mark`, \
                        `--save-mark`, `--restore-mark`"
                    .into(),
            });
            return None;
        }
    };
    let shift = (bits != 0).then_some(Shift { dir, bits });
    ok.then_some(TargetKind::Connmark(Connmark { op, shift }))
}

impl Connmark {
    pub fn save(&self, out: &mut String) {
        match self.op {
            ConnmarkOp::Set(x) => out.push_str(&format!(" --set-xmark 0x{:x}/0x{:x}", x.value, x.mask)),
            ConnmarkOp::Save { nfmask, ctmask } => {
                out.push_str(&format!(" --save-mark --nfmask 0x{nfmask:x} --ctmask 0x{ctmask:x}"))
            }
            ConnmarkOp::Restore { nfmask, ctmask } => {
                out.push_str(&format!(" --restore-mark --nfmask 0x{nfmask:x} --ctmask 0x{ctmask:x}"))
            }
        }
        if let Some(shift) = self.shift {
            let name = match shift.dir {
                ShiftDir::Left => "left-shift-mark",
                ShiftDir::Right => "right-shift-mark",
            };
            out.push_str(&format!(" --{name} {}", shift.bits));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4};

    fn saved(options: &str) -> String {
        save4(&format!("-j CONNMARK {options}")).trim_start_matches("-j CONNMARK ").to_string()
    }

    #[test]
    fn every_set_spelling_is_an_xmark() {
        assert_eq!(saved("--set-mark 1"), "--set-xmark 0x1/0xffffffff");
        assert_eq!(saved("--set-mark 0x10/0xf0"), "--set-xmark 0x10/0xf0");
        assert_eq!(saved("--set-xmark 1/0xff"), "--set-xmark 0x1/0xff");
        assert_eq!(saved("--and-mark 0xff"), "--set-xmark 0x0/0xffffff00");
        assert_eq!(saved("--and-mark 0"), "--set-xmark 0x0/0xffffffff");
        assert_eq!(saved("--or-mark 1"), "--set-xmark 0x1/0x1");
        assert_eq!(saved("--xor-mark 1"), "--set-xmark 0x1/0x0");
        assert_eq!(target4("-j CONNMARK --set-mark 5/0xf"), target4("-j CONNMARK --set-xmark 5/0xf"));
        assert_eq!(target4("-j CONNMARK --or-mark 3"), target4("-j CONNMARK --set-xmark 3/3"));
    }

    #[test]
    fn masks_apply_in_order() {
        assert_eq!(saved("--set-mark 1 --mask 0xff"), "--set-xmark 0x1/0xff");
        assert_eq!(saved("--mask 0xff --set-mark 1"), "--set-xmark 0x1/0xffffffff");
        assert_eq!(saved("--set-mark 1 --ctmask 0xf"), "--set-xmark 0x1/0xf");
        assert_eq!(saved("--set-xmark 1/3 --nfmask 0xf"), "--set-xmark 0x1/0x3");
        assert_eq!(target4("-j CONNMARK --set-xmark 1/3 --nfmask 0xf"), target4("-j CONNMARK --set-xmark 1/3"));
    }

    #[test]
    fn save_and_restore_print_both_masks() {
        assert_eq!(saved("--save-mark"), "--save-mark --nfmask 0xffffffff --ctmask 0xffffffff");
        assert_eq!(saved("--save-mark --mask 0xff"), "--save-mark --nfmask 0xff --ctmask 0xff");
        assert_eq!(saved("--restore-mark --ctmask 0xf0 --nfmask 0xf"), "--restore-mark --nfmask 0xf --ctmask 0xf0");
        assert_eq!(
            save6("-j CONNMARK --restore-mark --nfmask 0x3"),
            "-j CONNMARK --restore-mark --nfmask 0x3 --ctmask 0xffffffff"
        );
    }

    #[test]
    fn shifts_print_when_not_zero() {
        assert_eq!(saved("--set-xmark 1 --left-shift-mark 4"), "--set-xmark 0x1/0xffffffff --left-shift-mark 4");
        assert_eq!(saved("--save-mark --right-shift-mark 0"), "--save-mark --nfmask 0xffffffff --ctmask 0xffffffff");
        assert_eq!(
            saved("--save-mark --left-shift-mark 8 --right-shift-mark 8"),
            "--save-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 8"
        );
        assert_eq!(
            saved("--save-mark --right-shift-mark 3 --left-shift-mark 0"),
            "--save-mark --nfmask 0xffffffff --ctmask 0xffffffff"
        );
        assert!(err4("-j CONNMARK --save-mark --left-shift-mark 33").contains("0-32"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j CONNMARK").contains("one of `--set-xmark`"));
        assert!(err4("-j CONNMARK --mask 0xf").contains("one of `--set-xmark`"));
        assert!(
            err4("-j CONNMARK --save-mark --restore-mark")
                .contains("`--restore-mark` cannot be used together with `--save-mark`")
        );
        assert!(err4("-j CONNMARK --set-mark 1 --or-mark 2").contains("cannot be used together"));
        assert!(
            err4("-j CONNMARK --save-mark --mask 0xf --ctmask 1")
                .contains("`--ctmask` cannot be used together with `--mask`")
        );
        assert!(err4("-j CONNMARK --set-mark 0x100000000").contains("32-bit"));
        assert!(err4("-j CONNMARK --set-mark 0x1/0x2/0x3").contains("32-bit"));
    }
}
