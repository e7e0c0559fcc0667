//! `-j LED` (libxt_LED): blink an LED through the kernel's `netfilter-ID` LED trigger. (The
//! module is missing from many kernels; iptables still parses the options.)

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `char id[27]` less `netfilter-` and the final NUL.
pub const MAX_ID: usize = 16;

/// `-j LED --led-trigger-id ID [--led-delay MS|inf] [--led-always-blink]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Led {
    pub trigger_id: Box<str>,
    /// How long the LED stays on, in milliseconds; `u32::MAX` is `inf` (0 by default).
    pub delay: u32,
    pub always_blink: bool,
}

const TRIGGER_ID: u8 = 0;
const DELAY: u8 = 1;
const ALWAYS_BLINK: u8 = 2;

pub static SPEC: TargetSpec = TargetSpec {
    name: "LED",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("led-trigger-id", TRIGGER_ID),
        OptionSpec::value("led-delay", DELAY),
        OptionSpec::flag("led-always-blink", ALWAYS_BLINK),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let id = b.require(TRIGGER_ID, "led-trigger-id")?;
    if id.value().len() > MAX_ID {
        b.bad_value(id, format!("an ID of at most {MAX_ID} characters"));
        return None;
    }
    let mut delay = 0;
    if let Some(opt) = b.get(DELAY) {
        let text = opt.value();
        delay = if text.len() >= 3 && text[..3].eq_ignore_ascii_case("inf") {
            u32::MAX
        } else {
            match num::uint(text, 0, u32::MAX as u64) {
                Some(d) => d as u32,
                None => {
                    b.bad_value(opt, "milliseconds 0-4294967295, or `inf`");
                    return None;
                }
            }
        };
    }
    Some(TargetKind::Led(Box::new(Led { trigger_id: id.value().into(), delay, always_blink: b.has(ALWAYS_BLINK) })))
}

impl Led {
    pub fn save(&self, out: &mut String) {
        // always quoted, only `"` and `\` escaped
        out.push_str(" --led-trigger-id \"");
        for c in self.trigger_id.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        // the kernel's delay is an int: printed when positive, `inf` when -1
        match self.delay as i32 {
            -1 => out.push_str(" --led-delay inf"),
            d if d > 0 => out.push_str(&format!(" --led-delay {d}")),
            _ => {}
        }
        if self.always_blink {
            out.push_str(" --led-always-blink");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn saves_a_quoted_id() {
        assert_eq!(save4("-j LED --led-trigger-id foo"), "-j LED --led-trigger-id \"foo\"");
        assert_eq!(
            save4("-j LED --led-trigger-id foo --led-delay 100 --led-always-blink"),
            "-j LED --led-trigger-id \"foo\" --led-delay 100 --led-always-blink"
        );
        assert_eq!(save4("-j LED --led-trigger-id foo --led-delay 0"), "-j LED --led-trigger-id \"foo\"");
        assert_eq!(
            save4("-j LED --led-trigger-id foo --led-delay INFINITY"),
            "-j LED --led-trigger-id \"foo\" --led-delay inf"
        );
        assert_eq!(
            save4("-j LED --led-trigger-id foo --led-delay 4294967295"),
            "-j LED --led-trigger-id \"foo\" --led-delay inf"
        );
        assert_eq!(save4("-j LED --led-trigger-id foo --led-delay 3000000000"), "-j LED --led-trigger-id \"foo\"");
        assert_eq!(save6("-j LED --led-trigger-id \"a\\\"b\""), "-j LED --led-trigger-id \"a\\\"b\"");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j LED").contains("`--led-trigger-id`"));
        assert!(err4("-j LED --led-trigger-id abcdefghijklmnopq").contains("at most 16"));
        assert!(err4("-j LED --led-trigger-id abc --led-delay 5x").contains("milliseconds"));
    }
}
