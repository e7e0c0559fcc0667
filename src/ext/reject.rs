//! `-j REJECT` (libipt_REJECT, libip6t_REJECT): drop the packet and answer with an ICMP error or
//! a TCP reset. Loads only in the filter table; `tcp-reset` needs `-p tcp`.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{Family, TargetKind};

/// What REJECT answers with, as named in iptables (IPv4) or ip6tables (IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectWith {
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpProtoUnreachable,
    IcmpPortUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    TcpReset,
    Icmp6NoRoute,
    Icmp6AdmProhibited,
    Icmp6AddrUnreachable,
    Icmp6PortUnreachable,
    Icmp6PolicyFail,
    Icmp6RejectRoute,
}

/// `(name, alias, value)` in iptables' table order (the first name a prefix matches wins).
const V4: &[(&str, &str, RejectWith)] = &[
    ("icmp-net-unreachable", "net-unreach", RejectWith::IcmpNetUnreachable),
    ("icmp-host-unreachable", "host-unreach", RejectWith::IcmpHostUnreachable),
    ("icmp-proto-unreachable", "proto-unreach", RejectWith::IcmpProtoUnreachable),
    ("icmp-port-unreachable", "port-unreach", RejectWith::IcmpPortUnreachable),
    ("icmp-net-prohibited", "net-prohib", RejectWith::IcmpNetProhibited),
    ("icmp-host-prohibited", "host-prohib", RejectWith::IcmpHostProhibited),
    ("tcp-reset", "tcp-rst", RejectWith::TcpReset),
    ("icmp-admin-prohibited", "admin-prohib", RejectWith::IcmpAdminProhibited),
];

const V6: &[(&str, &str, RejectWith)] = &[
    ("icmp6-no-route", "no-route", RejectWith::Icmp6NoRoute),
    ("icmp6-adm-prohibited", "adm-prohibited", RejectWith::Icmp6AdmProhibited),
    ("icmp6-addr-unreachable", "addr-unreach", RejectWith::Icmp6AddrUnreachable),
    ("icmp6-port-unreachable", "port-unreach", RejectWith::Icmp6PortUnreachable),
    ("tcp-reset", "tcp-reset", RejectWith::TcpReset),
    ("icmp6-policy-fail", "policy-fail", RejectWith::Icmp6PolicyFail),
    ("icmp6-reject-route", "reject-route", RejectWith::Icmp6RejectRoute),
];

impl RejectWith {
    /// The default: port unreachable.
    pub fn default_for(family: Family) -> RejectWith {
        match family {
            Family::Ipv4 => RejectWith::IcmpPortUnreachable,
            Family::Ipv6 => RejectWith::Icmp6PortUnreachable,
        }
    }

    /// Reads a `--reject-with` value: any prefix of a name or an alias, any case.
    pub fn parse(text: &str, family: Family) -> Option<RejectWith> {
        let table = if family == Family::Ipv4 { V4 } else { V6 };
        let prefix = |name: &str| name.len() >= text.len() && name[..text.len()].eq_ignore_ascii_case(text);
        table.iter().find(|(name, alias, _)| prefix(name) || prefix(alias)).map(|&(_, _, w)| w)
    }

    /// The name iptables-save prints.
    pub fn name(self) -> &'static str {
        V4.iter().chain(V6).find(|&&(_, _, w)| w == self).map_or("", |&(name, _, _)| name)
    }
}

/// `-j REJECT [--reject-with TYPE]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Reject {
    pub with: RejectWith,
}

const WITH: u8 = 0;

pub static SPEC: TargetSpec = TargetSpec {
    name: "REJECT",
    availability: Availability::Both,
    options: &[OptionSpec::value("reject-with", WITH)],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let family = b.family;
    let with = match b.get(WITH) {
        None => RejectWith::default_for(family),
        Some(opt) => match RejectWith::parse(opt.value(), family) {
            Some(w) => w,
            None => {
                let names: Vec<&str> = if family == Family::Ipv4 { V4 } else { V6 }.iter().map(|e| e.0).collect();
                b.bad_value(opt, format!("one of {}", names.join(", ")));
                return None;
            }
        },
    };
    Some(TargetKind::Reject(Reject { with }))
}

impl Reject {
    pub fn save(&self, out: &mut String) {
        out.push_str(" --reject-with ");
        out.push_str(self.with.name());
    }
}
