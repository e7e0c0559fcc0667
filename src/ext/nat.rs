//! The NAT targets (libxt_NAT): `-j DNAT --to-destination`, `-j SNAT --to-source`,
//! `-j MASQUERADE [--to-ports]`, `-j REDIRECT [--to-ports]`.
//! Where they may stand (table, chain) is checked by [`crate::check`].

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, TargetSpec};
use crate::model::addr::Ipv6Text;
use crate::model::{Family, Proto, TargetKind, num};

/// An address range and a port range to translate to (`1.2.3.4-1.2.3.9:80-90`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct NatRange {
    /// The lowest and highest address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// The lowest and highest port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<(u16, u16)>,
    /// `/base`: a shifted port map (DNAT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_port: Option<u16>,
}

/// A NAT target: where to translate to and how to pick ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Nat {
    pub range: NatRange,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

impl fmt::Display for NatRange {
    /// As iptables-save writes it: `addr[-addr][:port[-port][/base]]`, IPv6 addresses in
    /// brackets when ports follow.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = |a: IpAddr| match a {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => Ipv6Text(v6).to_string(),
        };
        if let Some((lo, hi)) = self.addrs {
            let brackets = lo.is_ipv6() && self.ports.is_some();
            if brackets {
                f.write_str("[")?;
            }
            f.write_str(&addr(lo))?;
            if hi != lo {
                write!(f, "-{}", addr(hi))?;
            }
            if brackets {
                f.write_str("]")?;
            }
        }
        if let Some((lo, hi)) = self.ports {
            write!(f, ":{lo}")?;
            if hi != lo {
                write!(f, "-{hi}")?;
            }
            if let Some(base) = self.base_port {
                write!(f, "/{base}")?;
            }
        }
        Ok(())
    }
}

const TO: u8 = 0;
const RANDOM: u8 = 1;
const RANDOM_FULLY: u8 = 2;
const PERSISTENT: u8 = 3;
const TO_PORTS: u8 = 4;

pub static DNAT_SPEC: TargetSpec = TargetSpec {
    name: "DNAT",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("to-destination", TO),
        OptionSpec::flag("random", RANDOM),
        OptionSpec::flag("persistent", PERSISTENT),
    ],
    build: build_dnat,
};

pub static SNAT_SPEC: TargetSpec = TargetSpec {
    name: "SNAT",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("to-source", TO),
        OptionSpec::flag("random", RANDOM),
        OptionSpec::flag("random-fully", RANDOM_FULLY),
        OptionSpec::flag("persistent", PERSISTENT),
    ],
    build: build_snat,
};

pub static MASQUERADE_SPEC: TargetSpec = TargetSpec {
    name: "MASQUERADE",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("to-ports", TO_PORTS),
        OptionSpec::flag("random", RANDOM),
        OptionSpec::flag("random-fully", RANDOM_FULLY),
    ],
    build: build_masquerade,
};

pub static REDIRECT_SPEC: TargetSpec = TargetSpec {
    name: "REDIRECT",
    availability: Availability::Both,
    options: &[OptionSpec::value("to-ports", TO_PORTS), OptionSpec::flag("random", RANDOM)],
    build: build_redirect,
};

fn build_dnat(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    build_nat(b, "--to-destination").map(|n| TargetKind::Dnat(Box::new(n)))
}

/// Only DNAT takes a shifted port map (`lo-hi/base`).
fn no_base(b: &mut Build<'_, '_>, nat: Nat) -> Option<Nat> {
    if nat.range.base_port.is_some() {
        let opt = b.get(TO).or_else(|| b.get(TO_PORTS)).expect("a base port comes from an option");
        b.bad_value(opt, "a port or range without `/base` (only DNAT takes a shifted port map)");
        return None;
    }
    Some(nat)
}

fn build_snat(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let nat = build_nat(b, "--to-source")?;
    no_base(b, nat).map(|n| TargetKind::Snat(Box::new(n)))
}

fn build_masquerade(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let nat = build_nat(b, "")?;
    no_base(b, nat).map(|n| TargetKind::Masquerade(Box::new(n)))
}

fn build_redirect(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let nat = build_nat(b, "")?;
    no_base(b, nat).map(|n| TargetKind::Redirect(Box::new(n)))
}

/// Whether the protocol before the option allows ports (tcp, udp, sctp, dccp, icmp).
/// (iptables looks at the number only: `! -p tcp` passes.)
fn port_ok(opt: &Opt<'_>) -> bool {
    matches!(opt.proto, Some((p, _)) if Proto(p).has_ports() && p != Proto::UDPLITE.0 || p == Proto::ICMP.0)
}

fn build_nat(b: &mut Build<'_, '_>, mandatory: &str) -> Option<Nat> {
    let mut nat = Nat {
        random: b.has(RANDOM),
        random_fully: b.has(RANDOM_FULLY),
        persistent: b.has(PERSISTENT),
        ..Nat::default()
    };
    let family = b.family;
    if let Some(opt) = b.get(TO) {
        nat.range = parse_to(b, opt, family)?;
    } else if !mandatory.is_empty() {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: format!("`{mandatory}`") });
        return None;
    }
    if let Some(opt) = b.get(TO_PORTS) {
        nat.range = parse_ports(b, opt, opt.value())?;
    }
    Some(nat)
}

/// `[addr[-addr]][:port[-port[/base]]]`, IPv6 addresses in brackets when ports follow.
fn parse_to(b: &mut Build<'_, '_>, opt: &Opt<'_>, family: Family) -> Option<NatRange> {
    let arg = opt.value();
    let (addrs, ports) = if let Some(rest) = arg.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            b.bad_value(opt, "`[address]:port` with a closing bracket");
            return None;
        };
        if family == Family::Ipv4 {
            b.bad_value(opt, "an IPv4 address (brackets are for IPv6)");
            return None;
        }
        (inside, after.find(':').map(|i| &after[i + 1..]))
    } else {
        // one colon is a port; more make an IPv6 address
        match memchr::memchr(b':', arg.as_bytes()) {
            Some(i) if memchr::memchr(b':', &arg.as_bytes()[i + 1..]).is_none() => (&arg[..i], Some(&arg[i + 1..])),
            _ => (arg, None),
        }
    };
    let mut range = NatRange::default();
    if let Some(ports) = ports {
        range = parse_ports(b, opt, ports)?;
    }
    if addrs.is_empty() && ports.is_some() {
        return Some(range);
    }
    let (lo, hi) = match addrs.split_once('-') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (addrs, None),
    };
    let parse = |text: &str| -> Option<IpAddr> {
        match family {
            // inet_pton: exactly four decimal parts, no leading zeros
            Family::Ipv4 => crate::model::addr::dotted_quad(text).map(IpAddr::V4),
            Family::Ipv6 => text.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        }
    };
    let Some(lo_addr) = parse(lo) else {
        b.bad_value(opt, format!("an {family} address (`{lo}` is not)"));
        return None;
    };
    let hi_addr = match hi {
        None => lo_addr,
        Some(hi) => match parse(hi) {
            Some(a) => a,
            None => {
                b.bad_value(opt, format!("an {family} address (`{hi}` is not)"));
                return None;
            }
        },
    };
    range.addrs = Some((lo_addr, hi_addr));
    Some(range)
}

/// `port[-port[/base]]`.
fn parse_ports(b: &mut Build<'_, '_>, opt: &Opt<'_>, text: &str) -> Option<NatRange> {
    if !port_ok(opt) {
        b.fail(
            opt.span,
            "a port in a NAT target needs `-p tcp`, `-p udp`, `-p sctp` or `-p dccp` before it",
            "put the `-p` option before the target",
        );
        return None;
    }
    let mut range = NatRange::default();
    let service = |name: &str| {
        crate::model::PortRange::parse_port(name, "tcp")
            .ok()
            .or_else(|| crate::model::PortRange::parse_port(name, "udp").ok())
    };
    let (lo, rest) = match num::uint_prefix(text, 0, 65535) {
        Some((v, rest)) => (v as u16, rest),
        None => match service(text) {
            Some(p) => (p, ""),
            None => {
                b.bad_value(opt, format!("a port or range `lo-hi` (`{text}` is not)"));
                return None;
            }
        },
    };
    if rest.is_empty() {
        range.ports = Some((lo, lo));
        return Some(range);
    }
    if rest.starts_with(':') {
        b.bad_value(opt, "a port range written with a dash, `lo-hi`");
        return None;
    }
    let Some(rest) = rest.strip_prefix('-') else {
        b.bad_value(opt, format!("a port or range `lo-hi` (`{rest}` follows the port)"));
        return None;
    };
    let Some((hi, rest)) = num::uint_prefix(rest, 0, 65535) else {
        b.bad_value(opt, "a port range `lo-hi` in numbers");
        return None;
    };
    let hi = hi as u16;
    if hi < lo {
        b.bad_value(opt, format!("a port range low-high (`{lo}` is above `{hi}`)"));
        return None;
    }
    range.ports = Some((lo, hi));
    if rest.is_empty() {
        return Some(range);
    }
    let base = rest.strip_prefix('/').and_then(|r| match num::strtoul(r, 0) {
        Some(_) => num::uint(r, 1, 65535).map(|v| v as u16),
        None => service(r),
    });
    match base {
        Some(base) => {
            range.base_port = Some(base);
            Some(range)
        }
        None => {
            b.bad_value(opt, "a port range `lo-hi` optionally followed by `/base`");
            None
        }
    }
}

impl Nat {
    /// `option` is `--to-destination` or `--to-source`; empty for MASQUERADE and REDIRECT,
    /// which print only ports, as `--to-ports`.
    pub fn save(&self, out: &mut String, option: &str) {
        let text = self.range.to_string();
        if !text.is_empty() {
            if option.is_empty() {
                out.push_str(" --to-ports ");
                out.push_str(text.strip_prefix(':').unwrap_or(&text));
            } else {
                out.push(' ');
                out.push_str(option);
                out.push(' ');
                out.push_str(&text);
            }
        }
        if self.random {
            out.push_str(" --random");
        }
        if self.random_fully {
            out.push_str(" --random-fully");
        }
        if self.persistent {
            out.push_str(" --persistent");
        }
    }
}
