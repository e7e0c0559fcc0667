//! Port options shared by tcp, udp, sctp and dccp.

use super::build::Build;
use super::opts::Opt;
use super::save::save_opt_value;
use crate::model::port::PortError;
use crate::model::{Neg, PortRange};

/// Parses a `--sport`/`--dport` value. `Some(None)` is a range that matches every port (which
/// iptables-save leaves out); `None` is an error, already reported.
///
/// `proto` "tcp" reads ports as libxt_tcp does (C numbers, tcp service names); anything else as
/// the newer extensions do ([`PortRange::parse_service_range`]).
pub fn parse_port_range(b: &mut Build<'_, '_>, opt: &Opt<'_>, proto: &str) -> Option<Option<Neg<PortRange>>> {
    let parsed =
        if proto == "tcp" { PortRange::parse(opt.value(), proto) } else { PortRange::parse_service_range(opt.value()) };
    match parsed {
        Ok(range) if range.is_all() && !opt.invert => Some(None),
        Ok(range) => Some(Some(b.neg(opt, range))),
        Err(PortError::Unknown(name)) => {
            b.bad_value(opt, format!("a port, a range `lo:hi`, or a {proto} service name (`{name}` is none of these)"));
            None
        }
        Err(PortError::Reversed(lo, hi)) => {
            b.bad_value(opt, format!("a port range low:high (`{lo}` is above `{hi}`)"));
            None
        }
    }
}

/// `" ! --name lo:hi"`.
pub fn save_ports(out: &mut String, name: &str, ports: &Option<Neg<PortRange>>) {
    if let Some(p) = ports {
        save_opt_value(out, p.invert, name, p.value);
    }
}
