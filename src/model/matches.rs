//! `-m` matches: one variant per modelled module, and a verbatim form for the others.

use serde::Serialize;

use crate::ext::addrtype::Addrtype;
use crate::ext::ah::{Ah, Esp};
use crate::ext::cgroup::Cgroup;
use crate::ext::comment::Comment;
use crate::ext::connbytes::Connbytes;
use crate::ext::connlimit::Connlimit;
use crate::ext::conntrack::{Conntrack, State};
use crate::ext::cpu::Cpu;
use crate::ext::dccp::Dccp;
use crate::ext::devgroup::Devgroup;
use crate::ext::dscp::Dscp;
use crate::ext::ecn::Ecn;
use crate::ext::frag::Frag;
use crate::ext::hashlimit::Hashlimit;
use crate::ext::hbh::Opts;
use crate::ext::helper::Helper;
use crate::ext::icmp::Icmp;
use crate::ext::iprange::Iprange;
use crate::ext::ipv6header::Ipv6Header;
use crate::ext::length::Length;
use crate::ext::limit::Limit;
use crate::ext::mac::Mac;
use crate::ext::mark::Mark;
use crate::ext::multiport::Multiport;
use crate::ext::owner::Owner;
use crate::ext::physdev::Physdev;
use crate::ext::pkttype::Pkttype;
use crate::ext::policy::Policy;
use crate::ext::quota::Quota;
use crate::ext::realm::Realm;
use crate::ext::recent::Recent;
use crate::ext::rpfilter::Rpfilter;
use crate::ext::rt::Rt;
use crate::ext::sctp::Sctp;
use crate::ext::set::Set;
use crate::ext::socket::Socket;
use crate::ext::statistic::Statistic;
use crate::ext::string::StringMatch;
use crate::ext::tcp::Tcp;
use crate::ext::tcpmss_match::Tcpmss;
use crate::ext::time::Time;
use crate::ext::tos::Tos;
use crate::ext::ttl::Ttl;
use crate::ext::udp::Udp;
use crate::source::Span;

/// One `-m NAME ...` of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Match {
    /// From `-m` (or the first option of an implicitly loaded protocol match) to its last option.
    #[serde(skip)]
    pub span: Span,
    #[serde(flatten)]
    pub kind: MatchKind,
}

/// What a match tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "module", rename_all = "lowercase")]
pub enum MatchKind {
    /// Shared: most `-m tcp` without options are the same value.
    Tcp(std::sync::Arc<Tcp>),
    Udp(Box<Udp>),
    Icmp(Icmp),
    Icmp6(Icmp),
    Multiport(Box<Multiport>),
    Comment(Comment),
    Conntrack(Box<Conntrack>),
    State(State),
    Mark(Mark),
    Connmark(Mark),
    Limit(Limit),
    Addrtype(Box<Addrtype>),
    Ttl(Ttl),
    Hl(Ttl),
    Recent(Box<Recent>),
    Hashlimit(Box<Hashlimit>),
    Iprange(Box<Iprange>),
    Pkttype(Pkttype),
    Mac(Mac),
    Rpfilter(Rpfilter),
    Rt(Box<Rt>),
    Mh(crate::ext::mh::Mh),
    Owner(Box<Owner>),
    Physdev(Box<Physdev>),
    Policy(Box<Policy>),
    Set(Box<Set>),
    Connlimit(Connlimit),
    Time(Box<Time>),
    Length(Length),
    Tos(Tos),
    Dscp(Dscp),
    Ecn(Box<Ecn>),
    String(Box<StringMatch>),
    Statistic(Statistic),
    Helper(Box<Helper>),
    Tcpmss(Tcpmss),
    Sctp(Box<Sctp>),
    Dccp(Box<Dccp>),
    Ah(Box<Ah>),
    Esp(Esp),
    Frag(Box<Frag>),
    Hbh(Box<Opts>),
    Dst(Box<Opts>),
    Ipv6Header(Ipv6Header),
    Devgroup(Box<Devgroup>),
    Realm(Realm),
    Cgroup(Box<Cgroup>),
    Quota(Box<Quota>),
    Cpu(Cpu),
    Socket(Socket),
    Connbytes(Box<Connbytes>),
    /// A module ipt does not model: its name and arguments, exactly as written.
    Verbatim(Box<Verbatim>),
}

/// An extension kept as written: `-m NAME ARGS...` or `-j NAME ARGS...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Verbatim {
    pub name: Box<str>,
    pub args: Vec<Box<str>>,
}

impl MatchKind {
    /// The module name iptables-save prints after `-m`.
    pub fn name(&self) -> &str {
        match self {
            MatchKind::Tcp(_) => "tcp",
            MatchKind::Udp(_) => "udp",
            MatchKind::Icmp(_) => "icmp",
            MatchKind::Icmp6(_) => "icmp6",
            MatchKind::Multiport(_) => "multiport",
            MatchKind::Comment(_) => "comment",
            MatchKind::Conntrack(_) => "conntrack",
            MatchKind::State(_) => "state",
            MatchKind::Mark(_) => "mark",
            MatchKind::Connmark(_) => "connmark",
            MatchKind::Limit(_) => "limit",
            MatchKind::Addrtype(_) => "addrtype",
            MatchKind::Ttl(_) => "ttl",
            MatchKind::Hl(_) => "hl",
            MatchKind::Recent(_) => "recent",
            MatchKind::Hashlimit(_) => "hashlimit",
            MatchKind::Iprange(_) => "iprange",
            MatchKind::Pkttype(_) => "pkttype",
            MatchKind::Mac(_) => "mac",
            MatchKind::Rpfilter(_) => "rpfilter",
            MatchKind::Rt(_) => "rt",
            MatchKind::Mh(_) => "mh",
            MatchKind::Owner(_) => "owner",
            MatchKind::Physdev(_) => "physdev",
            MatchKind::Policy(_) => "policy",
            MatchKind::Set(_) => "set",
            MatchKind::Connlimit(_) => "connlimit",
            MatchKind::Time(_) => "time",
            MatchKind::Length(_) => "length",
            MatchKind::Tos(_) => "tos",
            MatchKind::Dscp(_) => "dscp",
            MatchKind::Ecn(_) => "ecn",
            MatchKind::String(_) => "string",
            MatchKind::Statistic(_) => "statistic",
            MatchKind::Helper(_) => "helper",
            MatchKind::Tcpmss(_) => "tcpmss",
            MatchKind::Sctp(_) => "sctp",
            MatchKind::Dccp(_) => "dccp",
            MatchKind::Ah(_) => "ah",
            MatchKind::Esp(_) => "esp",
            MatchKind::Frag(_) => "frag",
            MatchKind::Hbh(_) => "hbh",
            MatchKind::Dst(_) => "dst",
            MatchKind::Ipv6Header(_) => "ipv6header",
            MatchKind::Devgroup(_) => "devgroup",
            MatchKind::Realm(_) => "realm",
            MatchKind::Cgroup(_) => "cgroup",
            MatchKind::Quota(_) => "quota",
            MatchKind::Cpu(_) => "cpu",
            MatchKind::Socket(_) => "socket",
            MatchKind::Connbytes(_) => "connbytes",
            MatchKind::Verbatim(v) => &v.name,
        }
    }

    /// Appends the options as iptables-save prints them (after `-m NAME`).
    pub fn save(&self, out: &mut String) {
        match self {
            MatchKind::Tcp(m) => m.save(out),
            MatchKind::Udp(m) => m.save(out),
            MatchKind::Icmp(m) => m.save(out, "icmp-type"),
            MatchKind::Icmp6(m) => m.save(out, "icmpv6-type"),
            MatchKind::Multiport(m) => m.save(out),
            MatchKind::Comment(m) => m.save(out),
            MatchKind::Conntrack(m) => m.save(out),
            MatchKind::State(m) => m.save(out),
            MatchKind::Mark(m) | MatchKind::Connmark(m) => m.save(out),
            MatchKind::Limit(m) => m.save(out),
            MatchKind::Addrtype(m) => m.save(out),
            MatchKind::Ttl(m) => m.save(out, "ttl"),
            MatchKind::Hl(m) => m.save(out, "hl"),
            MatchKind::Recent(m) => m.save(out),
            MatchKind::Hashlimit(m) => m.save(out),
            MatchKind::Iprange(m) => m.save(out),
            MatchKind::Pkttype(m) => m.save(out),
            MatchKind::Mac(m) => m.save(out),
            MatchKind::Rpfilter(m) => m.save(out),
            MatchKind::Rt(m) => m.save(out),
            MatchKind::Mh(m) => m.save(out),
            MatchKind::Owner(m) => m.save(out),
            MatchKind::Physdev(m) => m.save(out),
            MatchKind::Policy(m) => m.save(out),
            MatchKind::Set(m) => m.save(out),
            MatchKind::Connlimit(m) => m.save(out),
            MatchKind::Time(m) => m.save(out),
            MatchKind::Length(m) => m.save(out),
            MatchKind::Tos(m) => m.save(out),
            MatchKind::Dscp(m) => m.save(out),
            MatchKind::Ecn(m) => m.save(out),
            MatchKind::String(m) => m.save(out),
            MatchKind::Statistic(m) => m.save(out),
            MatchKind::Helper(m) => m.save(out),
            MatchKind::Tcpmss(m) => m.save(out),
            MatchKind::Sctp(m) => m.save(out),
            MatchKind::Dccp(m) => m.save(out),
            MatchKind::Ah(m) => m.save(out),
            MatchKind::Esp(m) => m.save(out),
            MatchKind::Frag(m) => m.save(out),
            MatchKind::Hbh(m) => m.save(out, "hbh"),
            MatchKind::Dst(m) => m.save(out, "dst"),
            MatchKind::Ipv6Header(m) => m.save(out),
            MatchKind::Devgroup(m) => m.save(out),
            MatchKind::Realm(m) => m.save(out),
            MatchKind::Cgroup(m) => m.save(out),
            MatchKind::Quota(m) => m.save(out),
            MatchKind::Cpu(m) => m.save(out),
            MatchKind::Socket(m) => m.save(out),
            MatchKind::Connbytes(m) => m.save(out),
            MatchKind::Verbatim(v) => v.save(out),
        }
    }
}

impl Verbatim {
    /// The arguments as written, quoted where they need it.
    pub fn save(&self, out: &mut String) {
        for arg in &self.args {
            if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
                crate::ext::save::save_string(out, arg);
            } else {
                out.push(' ');
                out.push_str(arg);
            }
        }
    }
}
