//! `-j SECMARK` (libxt_SECMARK, revision 1): set the packet's SELinux security mark from a
//! security context (mangle or security table).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `SECMARK_SECCTX_MAX` less the final NUL.
pub const MAX_CONTEXT: usize = 255;

/// `-j SECMARK --selctx CONTEXT`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Secmark {
    pub selctx: Box<str>,
}

const SELCTX: u8 = 0;

pub static SPEC: TargetSpec = TargetSpec {
    name: "SECMARK",
    availability: Availability::Both,
    options: &[OptionSpec::value("selctx", SELCTX)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let opt = b.require(SELCTX, "selctx")?;
    let selctx = b.kept(opt, MAX_CONTEXT);
    Some(TargetKind::Secmark(Box::new(Secmark { selctx })))
}

impl Secmark {
    pub fn save(&self, out: &mut String) {
        // printed with %s: not quoted
        out.push_str(" --selctx ");
        out.push_str(&self.selctx);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6};

    #[test]
    fn saves_the_context() {
        assert_eq!(
            save4("-j SECMARK --selctx system_u:object_r:http_packet_t:s0"),
            "-j SECMARK --selctx system_u:object_r:http_packet_t:s0"
        );
        assert_eq!(save6("-j SECMARK --selctx foo"), "-j SECMARK --selctx foo");
        assert!(err4("-j SECMARK").contains("`--selctx`"));
    }
}
