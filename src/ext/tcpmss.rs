//! `-j TCPMSS` (libxt_TCPMSS): rewrite the MSS option of TCP SYN packets, to a value or to the
//! path MTU less the headers.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{Family, TargetKind};

/// What TCPMSS writes into the MSS option (the kernel's `mss`, `0xffff` meaning clamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tcpmss {
    /// `--set-mss N`.
    Set(u16),
    /// `--clamp-mss-to-pmtu`.
    ClampToPmtu,
}

const SET_MSS: u8 = 0;
const CLAMP: u8 = 1;

pub static SPEC: TargetSpec = TargetSpec {
    name: "TCPMSS",
    availability: Availability::Both,
    options: &[OptionSpec::value("set-mss", SET_MSS), OptionSpec::flag("clamp-mss-to-pmtu", CLAMP)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    // 65535 less the IP header: 20 bytes for IPv4, 40 for IPv6
    let max = match b.family {
        Family::Ipv4 => 65515,
        Family::Ipv6 => 65495,
    };
    // iptables does not make the two exclusive: the one given last wins
    let mut mss = None;
    for opt in b.opts {
        match opt.id {
            SET_MSS => mss = Some(Tcpmss::Set(b.number(opt, 0, max)? as u16)),
            _ => mss = Some(Tcpmss::ClampToPmtu),
        }
    }
    if mss.is_none() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--set-mss` or `--clamp-mss-to-pmtu`".into(),
        });
    }
    mss.map(TargetKind::Tcpmss)
}

impl Tcpmss {
    pub fn save(&self, out: &mut String) {
        match self {
            Tcpmss::Set(mss) => out.push_str(&format!(" --set-mss {mss}")),
            Tcpmss::ClampToPmtu => out.push_str(" --clamp-mss-to-pmtu"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6};

    const SYN: &str = "-p tcp -m tcp --tcp-flags SYN,RST SYN";

    #[test]
    fn saves_like_iptables() {
        assert_eq!(save4(&format!("{SYN} -j TCPMSS --set-mss 1400")), format!("{SYN} -j TCPMSS --set-mss 1400"));
        assert_eq!(save4(&format!("{SYN} -j TCPMSS --set-mss 0x100")), format!("{SYN} -j TCPMSS --set-mss 256"));
        assert_eq!(
            save6(&format!("{SYN} -j TCPMSS --clamp-mss-to-pmtu")),
            format!("{SYN} -j TCPMSS --clamp-mss-to-pmtu")
        );
    }

    #[test]
    fn the_last_of_set_and_clamp_wins() {
        assert_eq!(
            save4(&format!("{SYN} -j TCPMSS --set-mss 1400 --clamp-mss-to-pmtu")),
            format!("{SYN} -j TCPMSS --clamp-mss-to-pmtu")
        );
        assert_eq!(
            save4(&format!("{SYN} -j TCPMSS --clamp-mss-to-pmtu --set-mss 1000")),
            format!("{SYN} -j TCPMSS --set-mss 1000")
        );
    }

    #[test]
    fn the_largest_mss_leaves_room_for_the_ip_header() {
        assert_eq!(save4(&format!("{SYN} -j TCPMSS --set-mss 65515")), format!("{SYN} -j TCPMSS --set-mss 65515"));
        assert!(err4(&format!("{SYN} -j TCPMSS --set-mss 65516")).contains("0-65515"));
        assert_eq!(save6(&format!("{SYN} -j TCPMSS --set-mss 65495")), format!("{SYN} -j TCPMSS --set-mss 65495"));
        assert!(err6(&format!("{SYN} -j TCPMSS --set-mss 65496")).contains("0-65495"));
    }

    #[test]
    fn needs_an_option() {
        assert!(err4(&format!("{SYN} -j TCPMSS")).contains("`--set-mss` or `--clamp-mss-to-pmtu`"));
    }
}
