//! `-m dccp` (libxt_dccp): ports, packet types and an option of DCCP packets. Loaded implicitly
//! by `-p dccp --dport 80`; the kernel takes it only on rules with `-p dccp`.

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::xtopt::c_strtoul;
use super::{Availability, MatchSpec};
use crate::model::netdb::SERVICES;
use crate::model::{MatchKind, Neg, PortRange, Proto};

/// Packet type names, by type number.
const TYPES: [&str; 11] =
    ["REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC", "SYNCACK", "INVALID"];
/// `INVALID` also stands for the unassigned types 11-15.
const INVALID_OTHERS: u16 = 0xf800;

/// A set of DCCP packet types, bit N for type N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DccpTypes(pub u16);

/// For `ipt parse`: the names, as a list.
impl serde::Serialize for DccpTypes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::save::serialize_names(self, s)
    }
}

impl std::fmt::Display for DccpTypes {
    /// The names in type order; `INVALID` stands for itself and 11-15.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = Vec::new();
        for (i, name) in TYPES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                names.push(*name);
            }
        }
        f.write_str(&names.join(","))
    }
}

/// `-m dccp`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Dccp {
    /// iptables 1.8.9 does not check the order of a range's ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<Neg<DccpTypes>>,
    /// `--dccp-option N`: the packet carries DCCP option N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<Neg<u8>>,
}

const SPORT: u8 = 0;
const DPORT: u8 = 1;
const DCCP_TYPES: u8 = 2;
const DCCP_OPTION: u8 = 3;

pub static SPEC: MatchSpec = MatchSpec {
    name: "dccp",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("source-port", SPORT).invertible(),
        OptionSpec::value("sport", SPORT).invertible(),
        OptionSpec::value("destination-port", DPORT).invertible(),
        OptionSpec::value("dport", DPORT).invertible(),
        OptionSpec::value("dccp-types", DCCP_TYPES).invertible(),
        OptionSpec::value("dccp-option", DCCP_OPTION).invertible(),
    ],
    build,
};

/// A port as glibc's `getaddrinfo` reads a service: `strtoul(.., 10)` kept in an `int` (a
/// negative one is no number; others are cut to 16 bits, so 70000 is 4464), or a name of
/// `/etc/services` (its tcp entry first, then udp, then any).
fn service_port(text: &str) -> Option<u16> {
    let (value, len) = c_strtoul(text, 10);
    if len > 0 && len == text.len() && value as i32 >= 0 {
        return Some(value as u16);
    }
    ["tcp", "udp"]
        .iter()
        .find_map(|proto| SERVICES.iter().find(|&&(n, p, _)| n == text && p == *proto))
        .or_else(|| SERVICES.iter().find(|&&(n, _, _)| n == text))
        .map(|&(_, _, port)| port)
}

/// `XTTYPE_PORTRC` as iptables 1.8.9 reads it: `port`, `lo:hi`, `lo:`, `:hi`, `:`.
fn parse_ports(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<PortRange> {
    let parts: Vec<&str> = opt.value().split(':').collect();
    if parts.len() > 2 {
        b.bad_value(opt, "a port or a range `lo:hi` (two ports at most)");
        return None;
    }
    let mut range = [0, u16::MAX];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        match service_port(part) {
            Some(p) => range[i] = p,
            None => {
                b.bad_value(opt, format!("ports (decimal) or service names (`{part}` is none)"));
                return None;
            }
        }
    }
    if parts.len() == 1 {
        range[1] = range[0];
    }
    Some(PortRange { lo: range[0], hi: range[1] })
}

fn parse_types(text: &str) -> Result<u16, String> {
    let mut mask = 0u16;
    for name in text.split(',').filter(|n| !n.is_empty()) {
        match TYPES.iter().position(|t| t.eq_ignore_ascii_case(name)) {
            Some(i) => mask |= 1 << i,
            None => return Err(name.to_string()),
        }
    }
    if mask & (1 << 10) != 0 {
        mask |= INVALID_OTHERS;
    }
    Ok(mask)
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Dccp::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            SPORT | DPORT => match parse_ports(b, opt) {
                Some(r) => {
                    let slot = if opt.id == SPORT { &mut m.sport } else { &mut m.dport };
                    *slot = Some(b.neg(opt, r));
                }
                None => ok = false,
            },
            DCCP_TYPES => match parse_types(opt.value()) {
                Ok(mask) => m.types = Some(b.neg(opt, DccpTypes(mask))),
                Err(bad) => {
                    b.bad_value(opt, format!("packet types from {} (`{bad}` is none)", TYPES.join(", ")));
                    ok = false;
                }
            },
            _ => match b.number(opt, 1, 255) {
                Some(v) => m.option = Some(b.neg(opt, v as u8)),
                None => ok = false,
            },
        }
    }
    ok.then(|| MatchKind::Dccp(Box::new(m)))
}

impl Dccp {
    /// The protocol the kernel requires on the rule.
    pub const PROTO: Proto = Proto::DCCP;

    pub fn save(&self, out: &mut String) {
        use super::save::save_opt_value;
        for (name, ports) in [("sport", &self.sport), ("dport", &self.dport)] {
            if let Some(p) = ports {
                save_opt_value(out, p.invert, name, p.value);
            }
        }
        if let Some(t) = &self.types {
            save_opt_value(out, t.invert, "dccp-types", t.value);
        }
        if let Some(o) = &self.option {
            save_opt_value(out, o.invert, "dccp-option", o.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_ports_types_and_option() {
        assert_eq!(v4("-p dccp --dport 80"), "-p dccp -m dccp --dport 80");
        assert_eq!(v4("-p dccp -m dccp --sport 0:65535"), "-p dccp -m dccp --sport 0:65535");
        assert_eq!(
            v4("-p dccp -m dccp ! --sport 1024: ! --dport :1023"),
            "-p dccp -m dccp ! --sport 1024:65535 ! --dport 0:1023"
        );
        assert_eq!(v4("-p dccp -m dccp --dport 80:22"), "-p dccp -m dccp --dport 80:22");
        assert_eq!(v4("-p dccp -m dccp --dport 080"), "-p dccp -m dccp --dport 80");
        assert_eq!(v4("-p dccp -m dccp --dport 70000"), "-p dccp -m dccp --dport 4464");
        assert_eq!(v4("-p dccp -m dccp --dport 4294967296"), "-p dccp -m dccp --dport 0");
        assert_eq!(v4("-p dccp -m dccp --dport \" +80\""), "-p dccp -m dccp --dport 80");
        assert_eq!(v4("-p dccp -m dccp --dport ssh:http"), "-p dccp -m dccp --dport 22:80");
        assert_eq!(v4("-p dccp -m dccp --dport :"), "-p dccp -m dccp --dport 0:65535");
        assert_eq!(
            v4("-p dccp -m dccp --dccp-types request,RESPONSE,DataAck"),
            "-p dccp -m dccp --dccp-types REQUEST,RESPONSE,DATAACK"
        );
        assert_eq!(v4("-p dccp -m dccp ! --dccp-types INVALID,SYNC"), "-p dccp -m dccp ! --dccp-types SYNC,INVALID");
        assert_eq!(v4("-p dccp -m dccp --dccp-types \"\""), "-p dccp -m dccp --dccp-types ");
        assert_eq!(v4("-p dccp -m dccp ! --dccp-option 4"), "-p dccp -m dccp ! --dccp-option 4");
        assert_eq!(
            v6("-p dccp -m dccp --dport 5004 --dccp-types ,DATA,"),
            "-p dccp -m dccp --dport 5004 --dccp-types DATA"
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-p dccp -m dccp --dport 0x50").contains("`0x50` is none"));
        assert!(err4("-p dccp -m dccp --dport -2").contains("`-2` is none"));
        assert!(err4("-p dccp -m dccp --dport 4294967295").contains("is none"));
        assert!(err4("-p dccp -m dccp --dport 1:2:3").contains("two ports at most"));
        assert!(err4("-p dccp -m dccp --dccp-types FOO").contains("`FOO` is none"));
        assert!(err4("-p dccp -m dccp --dccp-option 0").contains("1-255"));
    }
}
