//! What a rule does when it matches: `-j` / `-g`, or nothing.

use serde::Serialize;

use super::ChainName;
use super::matches::Verbatim;
use crate::ext::audit::AuditType;
use crate::ext::classify::Classify;
use crate::ext::clusterip::Clusterip;
use crate::ext::connmark_target::Connmark;
use crate::ext::connsecmark::Connsecmark;
use crate::ext::ct::Ct;
use crate::ext::dscp_target::Dscp;
use crate::ext::hmark::Hmark;
use crate::ext::idletimer::Idletimer;
use crate::ext::led::Led;
use crate::ext::log::Log;
use crate::ext::mark_target::XMark;
use crate::ext::nat::Nat;
use crate::ext::netmap::Netmap;
use crate::ext::nflog::Nflog;
use crate::ext::nfqueue::Nfqueue;
use crate::ext::rateest::Rateest;
use crate::ext::reject::Reject;
use crate::ext::secmark::Secmark;
use crate::ext::set_target::SetTarget;
use crate::ext::synproxy::Synproxy;
use crate::ext::tcpmss::Tcpmss;
use crate::ext::tcpoptstrip::Tcpoptstrip;
use crate::ext::tee::Tee;
use crate::ext::tos_target::Tos;
use crate::ext::tproxy::Tproxy;
use crate::ext::ttl_target::HopLimit;
use crate::ext::ulog::Ulog;
use crate::source::Span;

/// The target of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Target {
    /// `-j NAME ...` or `-g NAME`; empty for a rule without a target.
    #[serde(skip)]
    pub span: Span,
    #[serde(flatten)]
    pub kind: TargetKind,
}

/// The kinds of target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "target", content = "options", rename_all = "UPPERCASE")]
pub enum TargetKind {
    /// No `-j`: the rule only counts, and the next rule runs.
    #[serde(rename = "continue")]
    Continue,
    Accept,
    Drop,
    Return,
    /// Hand the packet to user space (the old QUEUE verdict, queue 0).
    Queue,
    /// `-j CHAIN`.
    #[serde(rename = "jump")]
    Jump(ChainName),
    /// `-g CHAIN`.
    #[serde(rename = "goto")]
    Goto(ChainName),
    Reject(Reject),
    Log(Box<Log>),
    Mark(XMark),
    Dnat(Box<Nat>),
    Snat(Box<Nat>),
    Masquerade(Box<Nat>),
    Redirect(Box<Nat>),
    Nflog(Box<Nflog>),
    Ct(Box<Ct>),
    /// `-j NOTRACK`: what `-j CT --notrack` does, under the name iptables keeps.
    Notrack,
    Tcpmss(Tcpmss),
    /// `-j CHECKSUM --checksum-fill`.
    Checksum,
    Connmark(Connmark),
    Netmap(Box<Netmap>),
    Tproxy(Box<Tproxy>),
    /// `-j TRACE`.
    Trace,
    Tos(Tos),
    Dscp(Dscp),
    /// `-j TTL` (IPv4).
    Ttl(HopLimit),
    /// `-j HL` (IPv6).
    Hl(HopLimit),
    Classify(Classify),
    Nfqueue(Nfqueue),
    Set(Box<SetTarget>),
    Secmark(Box<Secmark>),
    Connsecmark(Connsecmark),
    Audit(AuditType),
    Tee(Box<Tee>),
    Synproxy(Synproxy),
    Tcpoptstrip(Tcpoptstrip),
    Idletimer(Box<Idletimer>),
    Hmark(Box<Hmark>),
    Rateest(Box<Rateest>),
    Led(Box<Led>),
    /// `-j ULOG`: gone from the kernel since Linux 3.17.
    Ulog(Box<Ulog>),
    /// `-j CLUSTERIP`: gone from the kernel since Linux 6.3.
    Clusterip(Clusterip),
    /// A target ipt does not model, kept as written.
    #[serde(rename = "verbatim")]
    Verbatim(Box<Verbatim>),
}

impl TargetKind {
    /// The chain a `-j CHAIN` or `-g CHAIN` goes to.
    pub fn chain(&self) -> Option<&str> {
        match self {
            TargetKind::Jump(name) | TargetKind::Goto(name) => Some(name),
            _ => None,
        }
    }

    /// The name after `-j` (or `-g`); `None` for [`TargetKind::Continue`].
    pub fn name(&self) -> Option<&str> {
        Some(match self {
            TargetKind::Continue => return None,
            TargetKind::Accept => "ACCEPT",
            TargetKind::Drop => "DROP",
            TargetKind::Return => "RETURN",
            TargetKind::Queue => "QUEUE",
            TargetKind::Jump(c) | TargetKind::Goto(c) => c,
            TargetKind::Reject(_) => "REJECT",
            TargetKind::Log(_) => "LOG",
            TargetKind::Mark(_) => "MARK",
            TargetKind::Dnat(_) => "DNAT",
            TargetKind::Snat(_) => "SNAT",
            TargetKind::Masquerade(_) => "MASQUERADE",
            TargetKind::Redirect(_) => "REDIRECT",
            TargetKind::Nflog(_) => "NFLOG",
            TargetKind::Ct(_) => "CT",
            TargetKind::Notrack => "NOTRACK",
            TargetKind::Tcpmss(_) => "TCPMSS",
            TargetKind::Checksum => "CHECKSUM",
            TargetKind::Connmark(_) => "CONNMARK",
            TargetKind::Netmap(_) => "NETMAP",
            TargetKind::Tproxy(_) => "TPROXY",
            TargetKind::Trace => "TRACE",
            TargetKind::Tos(_) => "TOS",
            TargetKind::Dscp(_) => "DSCP",
            TargetKind::Ttl(_) => "TTL",
            TargetKind::Hl(_) => "HL",
            TargetKind::Classify(_) => "CLASSIFY",
            TargetKind::Nfqueue(_) => "NFQUEUE",
            TargetKind::Set(_) => "SET",
            TargetKind::Secmark(_) => "SECMARK",
            TargetKind::Connsecmark(_) => "CONNSECMARK",
            TargetKind::Audit(_) => "AUDIT",
            TargetKind::Tee(_) => "TEE",
            TargetKind::Synproxy(_) => "SYNPROXY",
            TargetKind::Tcpoptstrip(_) => "TCPOPTSTRIP",
            TargetKind::Idletimer(_) => "IDLETIMER",
            TargetKind::Hmark(_) => "HMARK",
            TargetKind::Rateest(_) => "RATEEST",
            TargetKind::Led(_) => "LED",
            TargetKind::Ulog(_) => "ULOG",
            TargetKind::Clusterip(_) => "CLUSTERIP",
            TargetKind::Verbatim(v) => &v.name,
        })
    }

    /// Appends ` -j NAME OPTIONS` (or ` -g CHAIN`) as iptables-save prints it.
    pub fn save(&self, out: &mut String) {
        let Some(name) = self.name() else { return };
        out.push_str(if matches!(self, TargetKind::Goto(_)) { " -g " } else { " -j " });
        out.push_str(name);
        match self {
            TargetKind::Reject(r) => r.save(out),
            TargetKind::Log(l) => l.save(out),
            TargetKind::Mark(m) => m.save(out),
            TargetKind::Dnat(n) => n.save(out, "--to-destination"),
            TargetKind::Snat(n) => n.save(out, "--to-source"),
            TargetKind::Masquerade(n) | TargetKind::Redirect(n) => n.save(out, ""),
            TargetKind::Nflog(n) => n.save(out),
            TargetKind::Ct(c) => c.save(out),
            TargetKind::Tcpmss(t) => t.save(out),
            TargetKind::Checksum => crate::ext::checksum::save(out),
            TargetKind::Connmark(c) => c.save(out),
            TargetKind::Netmap(n) => n.save(out),
            TargetKind::Tproxy(t) => t.save(out),
            TargetKind::Tos(t) => t.save(out),
            TargetKind::Dscp(d) => d.save(out),
            TargetKind::Ttl(t) => t.save(out, "ttl"),
            TargetKind::Hl(h) => h.save(out, "hl"),
            TargetKind::Classify(c) => c.save(out),
            TargetKind::Nfqueue(q) => q.save(out),
            TargetKind::Set(x) => x.save(out),
            TargetKind::Secmark(x) => x.save(out),
            TargetKind::Connsecmark(x) => x.save(out),
            TargetKind::Audit(x) => x.save(out),
            TargetKind::Tee(x) => x.save(out),
            TargetKind::Synproxy(x) => x.save(out),
            TargetKind::Tcpoptstrip(x) => x.save(out),
            TargetKind::Idletimer(x) => x.save(out),
            TargetKind::Hmark(x) => x.save(out),
            TargetKind::Rateest(x) => x.save(out),
            TargetKind::Led(x) => x.save(out),
            TargetKind::Ulog(x) => x.save(out),
            TargetKind::Clusterip(x) => x.save(out),
            TargetKind::Verbatim(v) => v.save(out),
            _ => {}
        }
    }
}
