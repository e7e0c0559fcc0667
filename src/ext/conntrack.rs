//! `-m conntrack` (libxt_conntrack, revision 3) and its older spelling `-m state`: the connection
//! tracking state, status, tuple and lifetime of a packet's connection.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::addr::NetNumeric;
use crate::model::{MatchKind, Neg, Net, PortRange, Proto, num};

/// A set of conntrack states (`--ctstate NEW,ESTABLISHED`), as the kernel's bit mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtStates(pub u16);

/// For `ipt parse`: the names, as a list.
impl serde::Serialize for CtStates {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::save::serialize_names(self, s)
    }
}

impl CtStates {
    pub const INVALID: u16 = 1 << 0;
    pub const ESTABLISHED: u16 = 1 << 1;
    pub const RELATED: u16 = 1 << 2;
    pub const NEW: u16 = 1 << 3;
    pub const UNTRACKED: u16 = 1 << 8;
    pub const SNAT: u16 = 1 << 9;
    pub const DNAT: u16 = 1 << 10;

    /// In the order iptables reads names (a prefix of a name matches the first such name).
    const PARSE_ORDER: [(&'static str, u16); 7] = [
        ("INVALID", Self::INVALID),
        ("NEW", Self::NEW),
        ("ESTABLISHED", Self::ESTABLISHED),
        ("RELATED", Self::RELATED),
        ("UNTRACKED", Self::UNTRACKED),
        ("SNAT", Self::SNAT),
        ("DNAT", Self::DNAT),
    ];

    /// In the order iptables prints them.
    const PRINT_ORDER: [(&'static str, u16); 7] = [
        ("INVALID", Self::INVALID),
        ("NEW", Self::NEW),
        ("RELATED", Self::RELATED),
        ("ESTABLISHED", Self::ESTABLISHED),
        ("UNTRACKED", Self::UNTRACKED),
        ("SNAT", Self::SNAT),
        ("DNAT", Self::DNAT),
    ];

    /// `NEW,ESTABLISHED`: each name, or a prefix of it, any case. `-m state` knows no SNAT, DNAT.
    pub fn parse(text: &str, with_nat: bool) -> Result<CtStates, String> {
        let mut mask = 0;
        for name in text.split(',') {
            let found = CtStates::PARSE_ORDER
                .iter()
                .filter(|(n, _)| with_nat || !n.ends_with("NAT"))
                .find(|(n, _)| !name.is_empty() && n.len() >= name.len() && n[..name.len()].eq_ignore_ascii_case(name));
            match found {
                Some(&(_, bit)) => mask |= bit,
                None => return Err(name.to_string()),
            }
        }
        Ok(CtStates(mask))
    }

    pub fn contains(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

impl std::fmt::Display for CtStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> =
            CtStates::PRINT_ORDER.iter().filter(|&&(_, bit)| self.0 & bit != 0).map(|&(n, _)| n).collect();
        f.write_str(&names.join(","))
    }
}

/// Conntrack status bits (`--ctstatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtStatus(pub u32);

/// For `ipt parse`: the names, as a list.
impl serde::Serialize for CtStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::save::serialize_names(self, s)
    }
}

impl CtStatus {
    pub const EXPECTED: u32 = 1 << 0;
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
    pub const CONFIRMED: u32 = 1 << 3;
    const NAMES: [(&'static str, u32); 5] = [
        ("NONE", 0),
        ("EXPECTED", Self::EXPECTED),
        ("SEEN_REPLY", Self::SEEN_REPLY),
        ("ASSURED", Self::ASSURED),
        ("CONFIRMED", Self::CONFIRMED),
    ];

    pub fn parse(text: &str) -> Result<CtStatus, String> {
        let mut mask = 0;
        for name in text.split(',') {
            let found = CtStatus::NAMES
                .iter()
                .find(|(n, _)| !name.is_empty() && n.len() >= name.len() && n[..name.len()].eq_ignore_ascii_case(name));
            match found {
                Some(&(_, bit)) => mask |= bit,
                None => return Err(name.to_string()),
            }
        }
        Ok(CtStatus(mask))
    }
}

impl std::fmt::Display for CtStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 0 {
            return f.write_str("NONE");
        }
        let names: Vec<&str> =
            CtStatus::NAMES[1..].iter().filter(|&&(_, bit)| self.0 & bit != 0).map(|&(n, _)| n).collect();
        f.write_str(&names.join(","))
    }
}

/// `--ctdir`: which direction of the connection the packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtDir {
    Original,
    Reply,
}

/// `-m conntrack` with all its options (each optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Conntrack {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Neg<CtStates>>,
    /// `--ctproto`: protocol number (0 matches every protocol).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<Neg<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_src: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_dst: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repl_src: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repl_dst: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_src_port: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orig_dst_port: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repl_src_port: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repl_dst_port: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Neg<CtStatus>>,
    /// `--ctexpire lo[:hi]`: remaining lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire: Option<Neg<(u32, u32)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<CtDir>,
}

/// `-m state --state NEW,ESTABLISHED`: the old name for `-m conntrack --ctstate`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct State {
    pub state: Neg<CtStates>,
}

const CTSTATE: u8 = 0;
const CTPROTO: u8 = 1;
const CTORIGSRC: u8 = 2;
const CTORIGDST: u8 = 3;
const CTREPLSRC: u8 = 4;
const CTREPLDST: u8 = 5;
const CTSTATUS: u8 = 6;
const CTEXPIRE: u8 = 7;
const CTORIGSRCPORT: u8 = 8;
const CTORIGDSTPORT: u8 = 9;
const CTREPLSRCPORT: u8 = 10;
const CTREPLDSTPORT: u8 = 11;
const CTDIR: u8 = 12;

pub static SPEC: MatchSpec = MatchSpec {
    name: "conntrack",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("ctstate", CTSTATE).invertible(),
        OptionSpec::value("ctproto", CTPROTO).invertible(),
        OptionSpec::value("ctorigsrc", CTORIGSRC).invertible(),
        OptionSpec::value("ctorigdst", CTORIGDST).invertible(),
        OptionSpec::value("ctreplsrc", CTREPLSRC).invertible(),
        OptionSpec::value("ctrepldst", CTREPLDST).invertible(),
        OptionSpec::value("ctstatus", CTSTATUS).invertible(),
        OptionSpec::value("ctexpire", CTEXPIRE).invertible(),
        OptionSpec::value("ctorigsrcport", CTORIGSRCPORT).invertible(),
        OptionSpec::value("ctorigdstport", CTORIGDSTPORT).invertible(),
        OptionSpec::value("ctreplsrcport", CTREPLSRCPORT).invertible(),
        OptionSpec::value("ctrepldstport", CTREPLDSTPORT).invertible(),
        OptionSpec::value("ctdir", CTDIR),
    ],
    build,
};

const STATE: u8 = 0;

pub static STATE_SPEC: MatchSpec = MatchSpec {
    name: "state",
    availability: Availability::Both,
    options: &[OptionSpec::value("state", STATE).invertible()],
    build: build_state,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ct = Conntrack::default();
    let mut ok = true;
    for opt in b.opts {
        match opt.id {
            CTSTATE => {
                match CtStates::parse(opt.value(), true) {
                    Ok(s) => ct.state = Some(b.neg(opt, s)),
                    Err(bad) => {
                        b.bad_value(opt, format!("states from INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED, SNAT, DNAT (`{bad}` is none)"));
                        ok = false;
                    }
                }
            }
            CTPROTO => match Proto::parse_exact(opt.value()) {
                Some(p) => ct.proto = Some(b.neg(opt, p)),
                None => {
                    b.bad_value(opt, "a protocol name or number");
                    ok = false;
                }
            },
            CTORIGSRC | CTORIGDST | CTREPLSRC | CTREPLDST => match Net::parse_unmasked(opt.value()) {
                Ok(net) if net.family().is_some_and(|f| f != b.family) => {
                    b.bad_value(opt, format!("an {} address (this table is {})", b.family, b.family));
                    ok = false;
                }
                Ok(mut net) => {
                    // a name is resolved when the rule loads, as `-s`'s is
                    if let Net::Name(name) = &net {
                        b.report(crate::load::LoadError::HostName { span: opt.value_span(), name: name.to_string() });
                    }
                    if net.prefix_len().is_none() && !matches!(net, Net::Name(_)) {
                        // iptables 1.8.9 turns a mask it cannot write as a prefix into a full mask
                        b.report(crate::load::LoadError::MaskBecomesHost {
                            span: opt.value_span(),
                            value: opt.value().to_string(),
                        });
                        net = net.with_full_mask();
                    }
                    let slot = match opt.id {
                        CTORIGSRC => &mut ct.orig_src,
                        CTORIGDST => &mut ct.orig_dst,
                        CTREPLSRC => &mut ct.repl_src,
                        _ => &mut ct.repl_dst,
                    };
                    *slot = Some(b.neg(opt, net));
                }
                Err(_) => {
                    b.bad_value(opt, "an address with an optional mask");
                    ok = false;
                }
            },
            CTSTATUS => match CtStatus::parse(opt.value()) {
                Ok(s) => ct.status = Some(b.neg(opt, s)),
                Err(bad) => {
                    b.bad_value(
                        opt,
                        format!("statuses from NONE, EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED (`{bad}` is none)"),
                    );
                    ok = false;
                }
            },
            CTEXPIRE => match parse_u32_range(opt.value()) {
                Some(r) => ct.expire = Some(b.neg(opt, r)),
                None => {
                    b.bad_value(opt, "seconds `n` or a range `lo:hi`");
                    ok = false;
                }
            },
            CTORIGSRCPORT | CTORIGDSTPORT | CTREPLSRCPORT | CTREPLDSTPORT => {
                match PortRange::parse_service_range(opt.value()) {
                    Ok(r) => {
                        let slot = match opt.id {
                            CTORIGSRCPORT => &mut ct.orig_src_port,
                            CTORIGDSTPORT => &mut ct.orig_dst_port,
                            CTREPLSRCPORT => &mut ct.repl_src_port,
                            _ => &mut ct.repl_dst_port,
                        };
                        *slot = Some(b.neg(opt, r));
                    }
                    Err(_) => {
                        b.bad_value(opt, "a port or a range `lo:hi`");
                        ok = false;
                    }
                }
            }
            CTDIR => {
                if opt.value().eq_ignore_ascii_case("ORIGINAL") {
                    ct.dir = Some(CtDir::Original);
                } else if opt.value().eq_ignore_ascii_case("REPLY") {
                    ct.dir = Some(CtDir::Reply);
                } else {
                    b.bad_value(opt, "`ORIGINAL` or `REPLY`");
                    ok = false;
                }
            }
            _ => {}
        }
    }
    if ok && ct == Conntrack::default() {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "at least one option".into() });
        return None;
    }
    ok.then(|| MatchKind::Conntrack(Box::new(ct)))
}

/// `lo[:hi]`, 32-bit (`--ctexpire`); an empty value is 0, as libxtables reads it.
fn parse_u32_range(text: &str) -> Option<(u32, u32)> {
    let max = u32::MAX as u64;
    match text.split_once(':') {
        None if text.is_empty() => Some((0, 0)),
        None => num::uint(text, 0, max).map(|v| (v as u32, v as u32)),
        Some((lo, hi)) => {
            let lo = if lo.is_empty() { 0 } else { num::uint(lo, 0, max)? };
            // iptables does not check the order
            let hi = if hi.is_empty() { max } else { num::uint(hi, 0, max)? };
            Some((lo as u32, hi as u32))
        }
    }
}

fn build_state(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let Some(opt) = b.get(STATE) else {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--state`".into() });
        return None;
    };
    match CtStates::parse(opt.value(), false) {
        Ok(s) => Some(MatchKind::State(State { state: b.neg(opt, s) })),
        Err(bad) => {
            b.bad_value(opt, format!("states from INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED (`{bad}` is none)"));
            None
        }
    }
}

fn save_ports(out: &mut String, name: &str, ports: &Option<Neg<PortRange>>) {
    if let Some(p) = ports {
        save_opt_value(out, p.invert, name, p.value);
    }
}

fn save_net(out: &mut String, name: &str, net: &Option<Neg<Net>>) {
    if let Some(n) = net {
        save_opt_value(out, n.invert, name, NetNumeric(&n.value));
    }
}

impl Conntrack {
    pub fn save(&self, out: &mut String) {
        if let Some(s) = &self.state {
            save_opt_value(out, s.invert, "ctstate", s.value);
        }
        if let Some(p) = &self.proto {
            save_opt_value(out, p.invert, "ctproto", p.value);
        }
        save_net(out, "ctorigsrc", &self.orig_src);
        save_net(out, "ctorigdst", &self.orig_dst);
        save_net(out, "ctreplsrc", &self.repl_src);
        save_net(out, "ctrepldst", &self.repl_dst);
        save_ports(out, "ctorigsrcport", &self.orig_src_port);
        save_ports(out, "ctorigdstport", &self.orig_dst_port);
        save_ports(out, "ctreplsrcport", &self.repl_src_port);
        save_ports(out, "ctrepldstport", &self.repl_dst_port);
        if let Some(s) = &self.status {
            save_opt_value(out, s.invert, "ctstatus", s.value);
        }
        if let Some(e) = &self.expire {
            let (lo, hi) = e.value;
            let text = if lo == hi { lo.to_string() } else { format!("{lo}:{hi}") };
            save_opt_value(out, e.invert, "ctexpire", text);
        }
        match self.dir {
            Some(CtDir::Original) => out.push_str(" --ctdir ORIGINAL"),
            Some(CtDir::Reply) => out.push_str(" --ctdir REPLY"),
            None => {}
        }
    }
}

impl State {
    pub fn save(&self, out: &mut String) {
        save_opt_value(out, self.state.invert, "state", self.state.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_prefixes_and_print_in_kernel_order() {
        let s = CtStates::parse("established,rel,N", true).unwrap();
        assert_eq!(s.to_string(), "NEW,RELATED,ESTABLISHED");
        assert_eq!(CtStates::parse("SNAT", false), Err("SNAT".to_string()));
        assert_eq!(CtStates::parse("NEW,", true), Err(String::new()));
    }
}
