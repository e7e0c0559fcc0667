//! `-m tcp` (libxt_tcp): ports, flags and an option kind of TCP segments. Loaded implicitly by
//! `-p tcp --dport 22`; the kernel takes it only on rules with `-p tcp`.

use std::sync::Arc;

use serde::Serialize;

use super::build::Build;
use super::opts::{OptionSpec, Takes};
use super::ports::{parse_port_range, save_ports};
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg, PortRange, Proto};

/// The options of `-m tcp`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Tcp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Neg<PortRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Neg<PortRange>>,
    /// `--tcp-option N`: the segment carries TCP option kind N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<Neg<u8>>,
    /// `--tcp-flags MASK COMP` (`--syn` is `FIN,SYN,RST,ACK SYN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Neg<TcpFlags>>,
}

/// `--tcp-flags MASK COMP`: the flags in `mask` must be exactly those in `comp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpFlags {
    pub mask: u8,
    pub comp: u8,
}

/// For `ipt parse`: `{"mask": ["SYN", "RST"], "comp": ["SYN"]}`.
impl Serialize for TcpFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Names(u8);
        impl Serialize for Names {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(FLAG_NAMES[..6].iter().filter(|&&(_, bit)| self.0 & bit != 0).map(|&(name, _)| name))
            }
        }
        let mut st = s.serialize_struct("TcpFlags", 2)?;
        st.serialize_field("mask", &Names(self.mask))?;
        st.serialize_field("comp", &Names(self.comp))?;
        st.end()
    }
}

/// TCP flag names in the order iptables prints them.
pub const FLAG_NAMES: [(&str, u8); 8] = [
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ALL", 0x3f),
    ("NONE", 0),
];

impl TcpFlags {
    /// `--syn`.
    pub const SYN: TcpFlags = TcpFlags { mask: 0x17, comp: 0x02 };

    /// Whether a segment with these flags matches.
    pub fn matches(self, flags: u8) -> bool {
        flags & self.mask == self.comp
    }
}

/// Writes a flag set as iptables does: `FIN,SYN`, or `NONE`.
pub fn flags_text(flags: u8) -> String {
    let names: Vec<&str> =
        FLAG_NAMES[..6].iter().filter(|&&(_, bit)| flags & bit != 0).map(|&(name, _)| name).collect();
    if names.is_empty() { "NONE".to_string() } else { names.join(",") }
}

/// Reads a comma-separated list of flag names, any case.
pub fn parse_flags(text: &str) -> Result<u8, String> {
    let mut flags = 0;
    for name in text.split(',').filter(|n| !n.is_empty()) {
        match FLAG_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(&(_, bit)) => flags |= bit,
            None => return Err(name.to_string()),
        }
    }
    Ok(flags)
}

const SPORT: u8 = 0;
const DPORT: u8 = 1;
const SYN: u8 = 2;
const FLAGS: u8 = 3;
const OPTION: u8 = 4;

pub static SPEC: MatchSpec = MatchSpec {
    name: "tcp",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("source-port", SPORT).invertible(),
        OptionSpec::value("sport", SPORT).invertible(),
        OptionSpec::value("destination-port", DPORT).invertible(),
        OptionSpec::value("dport", DPORT).invertible(),
        OptionSpec::flag("syn", SYN).invertible(),
        OptionSpec { name: "tcp-flags", id: FLAGS, takes: Takes::TwoValues, invert: true, multi: false },
        OptionSpec::value("tcp-option", OPTION).invertible(),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut tcp = Tcp::default();
    let mut ok = true;
    if let Some(opt) = b.get(SPORT) {
        ok &= parse_port_range(b, opt, "tcp").map(|r| tcp.sport = r).is_some();
    }
    if let Some(opt) = b.get(DPORT) {
        ok &= parse_port_range(b, opt, "tcp").map(|r| tcp.dport = r).is_some();
    }
    if let (Some(syn), Some(flags)) = (b.get(SYN), b.get(FLAGS)) {
        b.fail(
            flags.span.to(syn.span),
            "only one of `--syn` and `--tcp-flags` is allowed",
            "`--syn` is `--tcp-flags FIN,SYN,RST,ACK SYN`",
        );
        ok = false;
    } else if let Some(opt) = b.get(SYN) {
        tcp.flags = Some(b.neg(opt, TcpFlags::SYN));
    } else if let Some(opt) = b.get(FLAGS) {
        match (parse_flags(opt.value()), parse_flags(opt.value2())) {
            (Ok(mask), Ok(comp)) => {
                // iptables-save prints nothing for an empty mask: the match is always true
                if mask != 0 || opt.invert {
                    tcp.flags = Some(b.neg(opt, TcpFlags { mask, comp }));
                }
            }
            (Err(bad), _) => {
                b.bad_value(opt, format!("TCP flags (`{bad}` is not one of FIN, SYN, RST, PSH, ACK, URG, ALL, NONE)"));
                ok = false;
            }
            (_, Err(bad)) => {
                b.bad_value_at(
                    opt,
                    opt.value2_span(),
                    opt.value2(),
                    format!("TCP flags (`{bad}` is not one of FIN, SYN, RST, PSH, ACK, URG, ALL, NONE)"),
                );
                ok = false;
            }
        }
    }
    if let Some(opt) = b.get(OPTION) {
        match crate::model::num::uint(opt.value(), 1, 255) {
            Some(kind) => tcp.option = Some(b.neg(opt, kind as u8)),
            None => {
                b.bad_value(opt, "a TCP option kind 1-255");
                ok = false;
            }
        }
    }
    ok.then(|| MatchKind::Tcp(shared(tcp)))
}

thread_local! {
    static NO_OPTIONS: Arc<Tcp> = Arc::new(Tcp::default());
}

/// A `-m tcp` without options is common (kube-proxy writes one in every DNAT rule): all of them
/// share one value.
fn shared(tcp: Tcp) -> Arc<Tcp> {
    if tcp == Tcp::default() { NO_OPTIONS.with(Arc::clone) } else { Arc::new(tcp) }
}

impl Tcp {
    pub fn save(&self, out: &mut String) {
        save_ports(out, "sport", &self.sport);
        save_ports(out, "dport", &self.dport);
        if let Some(o) = &self.option {
            save_opt_value(out, o.invert, "tcp-option", o.value);
        }
        if let Some(f) = &self.flags {
            save_opt_value(
                out,
                f.invert,
                "tcp-flags",
                format_args!("{} {}", flags_text(f.value.mask), flags_text(f.value.comp)),
            );
        }
    }

    /// The protocol the kernel requires on the rule.
    pub const PROTO: Proto = Proto::TCP;
}
