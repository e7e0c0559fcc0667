//! `-j TEE` (libxt_TEE): send a copy of the packet to a gateway on the local network.

use serde::Serialize;

use super::build::Build;
use super::host::{HostAddr, HostError};
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::load::LoadError;
use crate::model::TargetKind;

/// `char oif[16]`.
pub const MAX_OIF: usize = 15;

/// `-j TEE --gateway ADDR [--oif NAME]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Tee {
    pub gateway: HostAddr,
    /// The interface to send the copy through; `None` lets routing choose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oif: Option<Box<str>>,
}

const GATEWAY: u8 = 0;
const OIF: u8 = 1;

pub static SPEC: TargetSpec = TargetSpec {
    name: "TEE",
    availability: Availability::Both,
    options: &[OptionSpec::value("gateway", GATEWAY), OptionSpec::value("oif", OIF)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let family = b.family;
    let opt = b.require(GATEWAY, "gateway")?;
    let gateway = match HostAddr::parse(opt.value(), family) {
        Ok(a) => a,
        Err(HostError::WrongFamily) => {
            b.bad_value(opt, format!("an {family} address (this is another family's)"));
            return None;
        }
        Err(HostError::Invalid) => {
            b.bad_value(opt, format!("an {family} address or host name"));
            return None;
        }
    };
    if let HostAddr::Name(name) = &gateway {
        b.report(LoadError::HostName { span: opt.value_span(), name: name.to_string() });
    }
    let oif = match b.get(OIF) {
        Some(opt) if !opt.value().is_empty() => Some(b.kept(opt, MAX_OIF)),
        _ => None,
    };
    Some(TargetKind::Tee(Box::new(Tee { gateway, oif })))
}

impl Tee {
    pub fn save(&self, out: &mut String) {
        out.push_str(&format!(" --gateway {}", self.gateway));
        // printed with %s: not quoted
        if let Some(oif) = &self.oif {
            out.push_str(" --oif ");
            out.push_str(oif);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6};

    #[test]
    fn saves_gateway_and_interface() {
        assert_eq!(save4("-j TEE --gateway 1.2.3.4"), "-j TEE --gateway 1.2.3.4");
        assert_eq!(save4("-j TEE --gateway 10.1 --oif eth0"), "-j TEE --gateway 10.0.0.1 --oif eth0");
        assert_eq!(save4("-j TEE --gateway 1.2.3.4 --oif \"\""), "-j TEE --gateway 1.2.3.4");
        assert_eq!(save4("-j TEE --gateway 1.2.3.4 --oif \"a b\""), "-j TEE --gateway 1.2.3.4 --oif a b");
        assert_eq!(
            save4("-j TEE --gateway 1.2.3.4 --oif a234567890123456"),
            "-j TEE --gateway 1.2.3.4 --oif a23456789012345"
        );
        assert_eq!(save6("-j TEE --gateway 2001:DB8:0:0::1 --oif lo"), "-j TEE --gateway 2001:db8::1 --oif lo");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j TEE").contains("`--gateway`"));
        assert!(err4("-j TEE --oif eth0").contains("`--gateway`"));
        assert!(err4("-j TEE --gateway ::1").contains("another family"));
        assert!(err4("-j TEE --gateway 1.2.3.0/24").contains("address or host name"));
        assert!(err6("-j TEE --gateway 1.2.3.4").contains("another family"));
        assert!(err4("-j TEE ! --gateway 1.1.1.1").contains("cannot come before"));
    }
}
