//! `-j TPROXY` (libxt_TPROXY, revision 1): send the packet to a local socket without changing
//! its addresses (transparent proxying), and mark it.

use serde::Serialize;

use super::build::Build;
use super::host::{HostAddr, HostError};
use super::mark::MarkMask;
use super::mark_target::XMark;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::load::LoadError;
use crate::model::{PortRange, TargetKind};

/// `-j TPROXY --on-port PORT [--on-ip ADDR] [--tproxy-mark VALUE[/MASK]]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tproxy {
    /// The local port; 0 keeps the packet's destination port.
    pub port: u16,
    /// The local address; the unspecified address keeps the packet's destination address.
    pub addr: HostAddr,
    /// `mark = (mark & !mask) ^ value` (`0/0` by default: the mark is left alone).
    pub mark: XMark,
}

const PORT: u8 = 0;
const ADDR: u8 = 1;
const MARK: u8 = 2;

pub static SPEC: TargetSpec = TargetSpec {
    name: "TPROXY",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("on-port", PORT),
        OptionSpec::value("on-ip", ADDR),
        OptionSpec::value("tproxy-mark", MARK),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let family = b.family;
    let mut ok = true;
    let mut tproxy = Tproxy { port: 0, addr: HostAddr::unspecified(family), mark: XMark { value: 0, mask: 0 } };
    if let Some(opt) = b.require(PORT, "on-port") {
        // `XTTYPE_PORT`: getaddrinfo's service lookup
        match PortRange::parse_service(opt.value()) {
            Ok(p) => tproxy.port = p,
            Err(_) => {
                b.bad_value(opt, "a port number or a service name");
                ok = false;
            }
        }
    } else {
        ok = false;
    }
    if let Some(opt) = b.get(ADDR) {
        match HostAddr::parse(opt.value(), family) {
            Ok(a) => {
                if let HostAddr::Name(name) = &a {
                    b.report(LoadError::HostName { span: opt.value_span(), name: name.to_string() });
                }
                tproxy.addr = a;
            }
            Err(HostError::WrongFamily) => {
                b.bad_value(opt, format!("an {family} address (this is another family's)"));
                ok = false;
            }
            Err(HostError::Invalid) => {
                b.bad_value(opt, format!("an {family} address or host name"));
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(MARK) {
        match MarkMask::parse(opt.value()) {
            Some(m) => tproxy.mark = XMark { value: m.value, mask: m.mask },
            None => {
                b.bad_value(opt, "`value` or `value/mask` (32-bit numbers)");
                ok = false;
            }
        }
    }
    ok.then(|| TargetKind::Tproxy(Box::new(tproxy)))
}

impl Tproxy {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(
            " --on-port {} --on-ip {} --tproxy-mark 0x{:x}/0x{:x}",
            self.port, self.addr, self.mark.value, self.mark.mask
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6, target4};

    #[test]
    fn saves_every_field() {
        assert_eq!(
            save4("-p tcp -j TPROXY --on-port 8080"),
            "-p tcp -j TPROXY --on-port 8080 --on-ip 0.0.0.0 --tproxy-mark 0x0/0x0"
        );
        assert_eq!(
            save4("-p tcp -j TPROXY --on-port 8080 --on-ip 1.2.3.4 --tproxy-mark 0x1"),
            "-p tcp -j TPROXY --on-port 8080 --on-ip 1.2.3.4 --tproxy-mark 0x1/0xffffffff"
        );
        assert_eq!(
            save4("-p tcp -j TPROXY --on-port ssh --on-ip 10.1 --tproxy-mark 0x10/0xf0"),
            "-p tcp -j TPROXY --on-port 22 --on-ip 10.0.0.1 --tproxy-mark 0x10/0xf0"
        );
        assert_eq!(
            save6("-p udp -j TPROXY --on-port 53 --tproxy-mark 5"),
            "-p udp -j TPROXY --on-port 53 --on-ip :: --tproxy-mark 0x5/0xffffffff"
        );
        assert_eq!(
            save6("-p tcp -j TPROXY --on-port 443 --on-ip ::ffff:1.2.3.4"),
            "-p tcp -j TPROXY --on-port 443 --on-ip ::ffff:1.2.3.4 --tproxy-mark 0x0/0x0"
        );
    }

    #[test]
    fn ports_are_read_like_getaddrinfo() {
        let port = |p: &str| save4(&format!("-p tcp -j TPROXY --on-port {p}"));
        assert!(port("70000").contains("--on-port 4464 "));
        assert!(port("080").contains("--on-port 80 "));
        assert!(port("domain").contains("--on-port 53 "));
        assert!(port("4294967297").contains("--on-port 1 "));
        assert!(port("\"\"").contains("--on-port 0 "));
        assert_eq!(
            target4("-p tcp -j TPROXY --on-port 80 --on-ip 0.0.0.0 --tproxy-mark 0/0"),
            target4("-p tcp -j TPROXY --on-port http")
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p tcp -j TPROXY").contains("`--on-port`"));
        assert!(err4("-p tcp -j TPROXY --on-ip 1.2.3.4").contains("`--on-port`"));
        assert!(err4("-p tcp -j TPROXY --on-port 0x50").contains("port number"));
        assert!(err4("-p tcp -j TPROXY --on-port -1").contains("port number"));
        assert!(err4("-p tcp -j TPROXY --on-port 2147483648").contains("port number"));
        assert!(err4("-p tcp -j TPROXY --on-port 1 --tproxy-mark 1/2/3").contains("32-bit"));
        assert!(err4("-p tcp -j TPROXY --on-port 1 --on-ip ::1").contains("another family"));
        assert!(err6("-p tcp -j TPROXY --on-port 1 --on-ip 1.2.3.4").contains("another family"));
    }
}
