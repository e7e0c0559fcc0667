//! iptables extensions: the match modules (`-m tcp`) and targets (`-j LOG`) ipt models.
//!
//! One file per extension, named after iptables' own (`libxt_tcp.c` is [`tcp`]), holds the
//! extension's typed options, how they are read from a rule line (`build`), and how iptables-save
//! prints them (`save`). An extension iptables has but ipt does not model yet is kept verbatim
//! (see [`KNOWN_MATCHES`] and [`KNOWN_TARGETS`]).

pub mod addrtype;
pub mod ah;
pub mod audit;
pub mod build;
pub mod cgroup;
pub mod checksum;
pub mod classify;
pub mod clusterip;
pub mod comment;
pub mod connbytes;
pub mod connlimit;
pub mod connmark_target;
pub mod connsecmark;
pub mod conntrack;
pub mod cpu;
pub mod ct;
pub mod dccp;
pub mod devgroup;
pub mod dscp;
pub mod dscp_target;
pub mod ecn;
pub mod frag;
pub mod hashlimit;
pub mod hbh;
pub mod helper;
pub mod hmark;
pub mod host;
pub mod icmp;
pub mod idletimer;
pub mod iprange;
pub mod ipv6header;
pub mod led;
pub mod length;
pub mod limit;
pub mod log;
pub mod mac;
pub mod mark;
pub mod mark_target;
pub mod mh;
pub mod multiport;
pub mod nat;
pub mod netmap;
pub mod nflog;
pub mod nfqueue;
pub mod opts;
pub mod owner;
pub mod physdev;
pub mod pkttype;
pub mod policy;
pub mod ports;
pub mod quota;
pub mod rateest;
pub mod realm;
pub mod recent;
pub mod reject;
pub mod rpfilter;
pub mod rt;
pub mod save;
pub mod sctp;
pub mod secmark;
pub mod set;
pub mod set_target;
pub mod socket;
pub mod statistic;
pub mod string;
pub mod synproxy;
pub mod tcp;
pub mod tcpmss;
pub mod tcpmss_match;
pub mod tcpoptstrip;
pub mod tee;
#[cfg(test)]
pub mod test_util;
#[cfg(test)]
pub mod testing;
pub mod time;
pub mod tos;
pub mod tos_target;
pub mod tproxy;
pub mod trace;
pub mod ttl;
pub mod ttl_target;
pub mod udp;
pub mod ulog;
pub mod unmodelled;
pub mod xtopt;

use std::sync::OnceLock;

use build::Build;
use opts::OptionSpec;
use rustc_hash::FxHashMap;

use crate::model::{Family, MatchKind, TargetKind};

/// Which families an extension exists in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Both,
    Ipv4,
    Ipv6,
}

impl Availability {
    pub fn has(self, family: Family) -> bool {
        match self {
            Availability::Both => true,
            Availability::Ipv4 => family == Family::Ipv4,
            Availability::Ipv6 => family == Family::Ipv6,
        }
    }
}

/// A match module ipt models.
pub struct MatchSpec {
    pub name: &'static str,
    pub availability: Availability,
    pub options: &'static [OptionSpec],
    pub build: fn(&mut Build<'_, '_>) -> Option<MatchKind>,
}

/// A target ipt models (besides the standard verdicts and chain jumps).
pub struct TargetSpec {
    pub name: &'static str,
    pub availability: Availability,
    pub options: &'static [OptionSpec],
    pub build: fn(&mut Build<'_, '_>) -> Option<TargetKind>,
}

/// Every modelled match module.
pub static MATCHES: &[&MatchSpec] = &[
    &tcp::SPEC,
    &udp::SPEC,
    &icmp::SPEC,
    &icmp::SPEC6,
    &multiport::SPEC,
    &comment::SPEC,
    &conntrack::SPEC,
    &conntrack::STATE_SPEC,
    &mark::SPEC,
    &mark::CONNMARK_SPEC,
    &limit::SPEC,
    &addrtype::SPEC,
    &ttl::SPEC,
    &ttl::HL_SPEC,
    &recent::SPEC,
    &hashlimit::SPEC,
    &iprange::SPEC,
    &pkttype::SPEC,
    &mac::SPEC,
    &rpfilter::SPEC,
    &rt::SPEC,
    &mh::SPEC,
    &owner::SPEC,
    &physdev::SPEC,
    &policy::SPEC,
    &set::SPEC,
    &connlimit::SPEC,
    &time::SPEC,
    &length::SPEC,
    &tos::SPEC,
    &dscp::SPEC,
    &ecn::SPEC,
    &string::SPEC,
    &statistic::SPEC,
    &helper::SPEC,
    &tcpmss_match::SPEC,
    &sctp::SPEC,
    &dccp::SPEC,
    &ah::SPEC,
    &ah::SPEC6,
    &ah::ESP_SPEC,
    &frag::SPEC,
    &hbh::HBH_SPEC,
    &hbh::DST_SPEC,
    &ipv6header::SPEC,
    &devgroup::SPEC,
    &realm::SPEC,
    &cgroup::SPEC,
    &quota::SPEC,
    &cpu::SPEC,
    &socket::SPEC,
    &connbytes::SPEC,
    // kept as written, their options checked
    &unmodelled::U32_SPEC,
    &unmodelled::NFACCT_SPEC,
    &unmodelled::CONNLABEL_SPEC,
    &unmodelled::OSF_SPEC,
    &unmodelled::CLUSTER_SPEC,
    &unmodelled::BPF_SPEC,
    &unmodelled::IPCOMP_SPEC,
    &unmodelled::IPVS_SPEC,
    &unmodelled::EUI64_SPEC,
    &unmodelled::SRH_SPEC,
];

/// Every modelled target.
pub static TARGETS: &[&TargetSpec] = &[
    &reject::SPEC,
    &log::SPEC,
    &mark_target::SPEC,
    &nat::DNAT_SPEC,
    &nat::SNAT_SPEC,
    &nat::MASQUERADE_SPEC,
    &nat::REDIRECT_SPEC,
    &nflog::SPEC,
    &ct::SPEC,
    &ct::NOTRACK_SPEC,
    &tcpmss::SPEC,
    &checksum::SPEC,
    &connmark_target::SPEC,
    &netmap::SPEC,
    &tproxy::SPEC,
    &trace::SPEC,
    &tos_target::SPEC,
    &dscp_target::SPEC,
    &ttl_target::TTL_SPEC,
    &ttl_target::HL_SPEC,
    &classify::SPEC,
    &nfqueue::SPEC,
    &set_target::SPEC,
    &secmark::SPEC,
    &connsecmark::SPEC,
    &audit::SPEC,
    &tee::SPEC,
    &synproxy::SPEC,
    &tcpoptstrip::SPEC,
    &idletimer::SPEC,
    &hmark::SPEC,
    &rateest::SPEC,
    &led::SPEC,
    &ulog::SPEC,
    &clusterip::SPEC,
    // kept as written, its options checked
    &unmodelled::ECN_SPEC,
];

/// The match module `-m NAME` loads, by the names iptables accepts (`icmpv6` and `ipv6-icmp`
/// are `icmp6`).
pub fn find_match(name: &str) -> Option<&'static MatchSpec> {
    let name = match name {
        "icmpv6" | "ipv6-icmp" => "icmp6",
        other => other,
    };
    lookup().matches.get(name).and_then(|specs| specs.first().copied())
}

/// Like [`find_match`], for a table of `family`: some modules have a spec per family under one
/// name (`-m ah` has more options in ip6tables). A spec of the other family is returned when
/// there is none for this one, to report the mismatch.
pub fn find_match_for(name: &str, family: Family) -> Option<&'static MatchSpec> {
    let name = match name {
        "icmpv6" | "ipv6-icmp" => "icmp6",
        other => other,
    };
    let specs = lookup().matches.get(name)?;
    specs.iter().copied().find(|m| m.availability.has(family)).or_else(|| specs.first().copied())
}

pub fn find_target(name: &str) -> Option<&'static TargetSpec> {
    let lookup = lookup();
    if name.len() > lookup.longest_target {
        return None;
    }
    lookup.targets.get(name).copied()
}

/// The tables above by name: every `-m` and `-j` of a dump is looked up, and most `-j` name a
/// chain, found in none of them.
struct Lookup {
    /// The specs of each name, in table order (a module may have one per family).
    matches: FxHashMap<&'static str, Vec<&'static MatchSpec>>,
    /// The first spec of each name.
    targets: FxHashMap<&'static str, &'static TargetSpec>,
    known_matches: FxHashMap<&'static str, Availability>,
    known_targets: FxHashMap<&'static str, Availability>,
    /// The longest name in `targets` and `known_targets`: a longer one (most `-j` of a big
    /// dump name a chain such as `KUBE-SVC-6UCLSZUXIO3TCQIB`) is in neither, without hashing it.
    longest_target: usize,
}

fn lookup() -> &'static Lookup {
    static LOOKUP: OnceLock<Lookup> = OnceLock::new();
    LOOKUP.get_or_init(|| {
        let mut lookup = Lookup {
            matches: FxHashMap::default(),
            targets: FxHashMap::default(),
            known_matches: FxHashMap::default(),
            known_targets: FxHashMap::default(),
            longest_target: 0,
        };
        for &m in MATCHES {
            lookup.matches.entry(m.name).or_default().push(m);
        }
        for &t in TARGETS {
            lookup.targets.entry(t.name).or_insert(t);
        }
        for &(n, a) in KNOWN_MATCHES {
            lookup.known_matches.entry(n).or_insert(a);
        }
        for &(n, a) in KNOWN_TARGETS {
            lookup.known_targets.entry(n).or_insert(a);
        }
        lookup.longest_target =
            lookup.targets.keys().chain(lookup.known_targets.keys()).map(|n| n.len()).max().unwrap_or(0);
        lookup
    })
}

/// Match modules iptables 1.8.9 ships, with the family they exist in: a module on this list
/// that ipt does not model is kept verbatim with a warning; one off the list is an error
/// (`Couldn't load match`).
pub static KNOWN_MATCHES: &[(&str, Availability)] = &[
    ("addrtype", Availability::Both),
    ("ah", Availability::Both),
    ("bpf", Availability::Both),
    ("cgroup", Availability::Both),
    ("cluster", Availability::Both),
    ("comment", Availability::Both),
    ("connbytes", Availability::Both),
    ("connlabel", Availability::Both),
    ("connlimit", Availability::Both),
    ("connmark", Availability::Both),
    ("conntrack", Availability::Both),
    ("cpu", Availability::Both),
    ("dccp", Availability::Both),
    ("devgroup", Availability::Both),
    ("dscp", Availability::Both),
    ("dst", Availability::Ipv6),
    ("ecn", Availability::Both),
    ("esp", Availability::Both),
    ("eui64", Availability::Ipv6),
    ("frag", Availability::Ipv6),
    ("hashlimit", Availability::Both),
    ("hbh", Availability::Ipv6),
    ("helper", Availability::Both),
    ("hl", Availability::Ipv6),
    ("icmp", Availability::Ipv4),
    ("icmp6", Availability::Ipv6),
    ("ipcomp", Availability::Both),
    ("iprange", Availability::Both),
    ("ipv6header", Availability::Ipv6),
    ("ipvs", Availability::Both),
    ("length", Availability::Both),
    ("limit", Availability::Both),
    ("mac", Availability::Both),
    ("mark", Availability::Both),
    ("mh", Availability::Ipv6),
    ("multiport", Availability::Both),
    ("nfacct", Availability::Both),
    ("osf", Availability::Both),
    ("owner", Availability::Both),
    ("physdev", Availability::Both),
    ("pkttype", Availability::Both),
    ("policy", Availability::Both),
    ("quota", Availability::Both),
    ("rateest", Availability::Both),
    ("realm", Availability::Ipv4),
    ("recent", Availability::Both),
    ("rpfilter", Availability::Both),
    ("rt", Availability::Ipv6),
    ("sctp", Availability::Both),
    ("set", Availability::Both),
    ("socket", Availability::Both),
    ("srh", Availability::Ipv6),
    ("state", Availability::Both),
    ("statistic", Availability::Both),
    ("string", Availability::Both),
    ("tcp", Availability::Both),
    ("tcpmss", Availability::Both),
    ("time", Availability::Both),
    ("tos", Availability::Both),
    ("ttl", Availability::Ipv4),
    ("u32", Availability::Both),
    ("udp", Availability::Both),
];

/// Targets iptables 1.8.9 ships, besides ACCEPT, DROP, RETURN, QUEUE and chain names.
pub static KNOWN_TARGETS: &[(&str, Availability)] = &[
    ("AUDIT", Availability::Both),
    ("CHECKSUM", Availability::Both),
    ("CLASSIFY", Availability::Both),
    ("CLUSTERIP", Availability::Ipv4),
    ("CONNMARK", Availability::Both),
    ("CONNSECMARK", Availability::Both),
    ("CT", Availability::Both),
    ("DNAT", Availability::Both),
    ("DNPT", Availability::Ipv6),
    ("DSCP", Availability::Both),
    ("ECN", Availability::Ipv4),
    ("HL", Availability::Ipv6),
    ("HMARK", Availability::Both),
    ("IDLETIMER", Availability::Both),
    ("LED", Availability::Both),
    ("LOG", Availability::Both),
    ("MARK", Availability::Both),
    ("MASQUERADE", Availability::Both),
    ("NETMAP", Availability::Both),
    ("NFLOG", Availability::Both),
    ("NFQUEUE", Availability::Both),
    ("NOTRACK", Availability::Both),
    ("RATEEST", Availability::Both),
    ("REDIRECT", Availability::Both),
    ("REJECT", Availability::Both),
    ("SECMARK", Availability::Both),
    ("SET", Availability::Both),
    ("SNAT", Availability::Both),
    ("SNPT", Availability::Ipv6),
    ("SYNPROXY", Availability::Both),
    ("TCPMSS", Availability::Both),
    ("TCPOPTSTRIP", Availability::Both),
    ("TEE", Availability::Both),
    ("TOS", Availability::Both),
    ("TPROXY", Availability::Both),
    ("TRACE", Availability::Both),
    ("TTL", Availability::Ipv4),
    ("ULOG", Availability::Ipv4),
];

/// Whether iptables 1.8.9 has a match module of that name (in any family).
pub fn known_match(name: &str) -> Option<Availability> {
    lookup().known_matches.get(name).copied()
}

/// Whether iptables 1.8.9 has a target of that name (in any family).
pub fn known_target(name: &str) -> Option<Availability> {
    let lookup = lookup();
    if name.len() > lookup.longest_target {
        return None;
    }
    lookup.known_targets.get(name).copied()
}
