//! One iptables rule → one nft rule, exactly, or the reason it cannot be.
//!
//! Each construct's mapping, and the kernel evidence for it, is in `docs/translate.md`. The rule's
//! tests keep iptables' order (the IP header's first, then each `-m` in turn), so a test with a
//! side effect (limit, quota, statistic) runs for the same packets in both.

use std::fmt::Write;

use super::ir::{Expr, Key, NftFamily, Origin, Rule, Value, Verdict};
use crate::ext::addrtype::Addrtype;
use crate::ext::conntrack::{Conntrack, CtDir, CtStates, CtStatus};
use crate::ext::icmp::Icmp;
use crate::ext::multiport::Direction;
use crate::ext::nat::Nat;
use crate::ext::reject::RejectWith;
use crate::ext::statistic::StatisticMode;
use crate::ext::ttl::TtlOp;
use crate::model::{self, Family, Iface, MatchKind, Neg, Net, PortRange, Proto, TableName, TargetKind};
use crate::source::Span;

/// Why one part of a rule has no exact nft form.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub span: Span,
    pub what: String,
    pub why: String,
}

type Lowered<T> = Result<T, Refusal>;

/// A test that holds in one of several disjoint cases: the rule becomes one nft rule per case.
struct Split {
    /// Where in the rule's tests the case goes.
    at: usize,
    alternatives: Vec<Vec<Expr>>,
    span: Span,
}

/// What a rule is lowered within.
pub struct Context<'a> {
    pub family: Family,
    pub nft: NftFamily,
    pub table: TableName,
    /// The nft name of each iptables chain of this table.
    pub chain_name: &'a (dyn Fn(&str) -> String + Sync),
    pub input: usize,
    /// Whether fragments other than the first can reach the chains: true unless the ruleset of
    /// this family turns conntrack on (which reassembles every packet before any chain). Then
    /// each transport-header test needs a first-fragment guard: iptables' tcp, udp, icmp and
    /// multiport matches fail on later fragments, while nft (Linux 6.18) reads their payload
    /// as if it were the header (docs/dev/txlate.md, "Fragments").
    pub fragments_reach: bool,
}

fn refuse<T>(span: Span, what: impl Into<String>, why: impl Into<String>) -> Lowered<T> {
    Err(Refusal { span, what: what.into(), why: why.into() })
}

impl Context<'_> {
    fn v6(&self) -> bool {
        self.family == Family::Ipv6
    }

    fn ip(&self) -> &'static str {
        if self.v6() { "ip6" } else { "ip" }
    }

    /// Lowers one rule to one nft rule, or to several disjoint ones (see [`ct_state`]); every
    /// part that cannot be expressed is reported, not only the first.
    pub fn rule(&self, rule: &model::Rule, into: &mut Vec<Rule>) -> Result<(), Vec<Refusal>> {
        let mut out = Rule::new(Origin { input: self.input, line: rule.line });
        let mut refusals = Vec::new();
        let mut split = None;
        let mut keep = |r: Lowered<()>| {
            if let Err(e) = r {
                refusals.push(e);
            }
        };
        keep(self.header(rule, &mut out));
        // where a `-m tcp` starts, if IPv4 fragments can reach it (see below)
        let mut tcp_at = None;
        for m in rule.matches.iter() {
            if tcp_at.is_none()
                && matches!(m.kind, MatchKind::Tcp(_))
                && self.fragments_reach
                && !self.v6()
                && self.table != TableName::Nat
            {
                tcp_at = Some(out.exprs.len());
            }
            keep(self.matcher(rule, m, &mut out, &mut split));
        }
        keep(self.target(rule, &mut out));
        if !refusals.is_empty() {
            return Err(refusals);
        }
        // xt's tcp match drops ("hotdrop") an IPv4 fragment at offset 1 (8 bytes), which would
        // overwrite the TCP flags; nft's rule would just not match. A rule before does it.
        if let Some(at) = tcp_at {
            if out.exprs[..at].iter().any(|e| matches!(e, Expr::Effect(_))) {
                return Err(vec![Refusal {
                    span: rule.span,
                    what: "-m tcp after limit, quota or statistic, where fragments reach".into(),
                    why:
                        "iptables' drop of a fragment at offset 8 needs a rule before, which would run that test twice"
                            .into(),
                }]);
            }
            let mut hotdrop = Rule::new(out.origins[0]);
            hotdrop.exprs = out.exprs[..at].to_vec();
            hotdrop.exprs.push(Expr::Text("ip frag-off & 0x1fff == 1".into()));
            hotdrop.verdict = Some(Verdict::Drop);
            hotdrop.comment = out.comment.clone();
            into.push(hotdrop);
        }
        let Some(Split { at, alternatives, span }) = split else {
            into.push(out);
            return Ok(());
        };
        // each nft rule of a split has its own limit bucket, quota or counter, and the tests
        // before the split run once per rule: a rule that splits can have no such test
        if out.exprs.iter().any(|e| matches!(e, Expr::Effect(_))) {
            return Err(vec![Refusal {
                span,
                what: "a rule that splits in two, with limit, quota or statistic".into(),
                why: "each nft rule would have its own rate, quota or counter".into(),
            }]);
        }
        for alternative in alternatives {
            let mut one = out.clone();
            one.exprs.splice(at..at, alternative);
            into.push(one);
        }
        Ok(())
    }

    fn header(&self, rule: &model::Rule, out: &mut Rule) -> Lowered<()> {
        for (net, dst) in [(&rule.src, false), (&rule.dst, true)] {
            if let Some(net) = net {
                out.exprs.extend(self.addr(net, dst)?);
            }
        }
        for (iface, key) in [(rule.in_iface(), Key::Iifname), (rule.out_iface(), Key::Oifname)] {
            if let Some(iface) = iface {
                out.exprs.extend(iface_expr(iface, key)?);
            }
        }
        if let Some(proto) = &rule.proto {
            if proto.value == Proto::ALL {
                // IPv4 `-p all` tests nothing; IPv6's asks that the extension headers parse,
                // which they do for every packet that reaches a hook (docs/translate.md)
                if proto.invert {
                    return refuse(proto.span, "! -p all", "never matches; remove the rule");
                }
            } else {
                out.exprs.push(Expr::Cmp {
                    key: Key::L4proto,
                    neg: proto.invert,
                    value: Value::One(proto_name(proto.value)),
                });
            }
        }
        if let Some(frag) = rule.fragment() {
            let op = if frag.invert { "==" } else { "!=" };
            out.exprs.push(Expr::Text(format!("ip frag-off & 0x1fff {op} 0")));
        }
        Ok(())
    }

    fn addr(&self, net: &Neg<Net>, dst: bool) -> Lowered<Option<Expr>> {
        net_test(Key::Addr { v6: self.v6(), dst }, net)
    }

    fn matcher(&self, rule: &model::Rule, m: &model::Match, out: &mut Rule, split: &mut Option<Split>) -> Lowered<()> {
        let span = m.span;
        let ip = self.ip();
        if matches!(
            m.kind,
            MatchKind::Tcp(_)
                | MatchKind::Udp(_)
                | MatchKind::Sctp(_)
                | MatchKind::Icmp(_)
                | MatchKind::Icmp6(_)
                | MatchKind::Multiport(_)
        ) {
            self.first_fragment(out, split, span)?;
        }
        match &m.kind {
            MatchKind::Tcp(t) => {
                let before = out.exprs.len();
                self.ports(out, "tcp", &t.sport, &t.dport);
                if let Some(flags) = &t.flags {
                    let op = if flags.invert { "!=" } else { "==" };
                    out.exprs.push(Expr::Text(format!(
                        "tcp flags & {} {op} {}",
                        tcp_flags(flags.value.mask, true),
                        tcp_flags(flags.value.comp, false)
                    )));
                }
                if let Some(option) = &t.option {
                    let state = if option.invert { "missing" } else { "exists" };
                    out.exprs.push(Expr::Text(format!("tcp option {} {state}", option.value)));
                }
                if out.exprs.len() == before {
                    self.header_present(out, "tcp");
                }
            }
            MatchKind::Udp(u) => {
                let before = out.exprs.len();
                self.ports(out, "udp", &u.sport, &u.dport);
                if out.exprs.len() == before {
                    self.header_present(out, "udp");
                }
            }
            MatchKind::Sctp(sctp) => {
                if sctp.chunks.is_some() {
                    return refuse(
                        span,
                        "-m sctp --chunk-types",
                        "not translated yet: ipt has no proven nft form for it",
                    );
                }
                let before = out.exprs.len();
                self.ports(out, "sctp", &sctp.sport, &sctp.dport);
                if out.exprs.len() == before {
                    self.header_present(out, "sctp");
                }
            }
            MatchKind::Icmp(icmp) => out.exprs.extend(self.icmp(icmp, "icmp", span)?),
            MatchKind::Icmp6(icmp) => out.exprs.extend(self.icmp(icmp, "icmpv6", span)?),
            MatchKind::Multiport(mp) => {
                let Some(proto) = rule.protocol().and_then(port_proto) else {
                    return refuse(span, "-m multiport", "needs `-p tcp`, `udp`, `udplite`, `sctp` or `dccp`");
                };
                // nft refuses overlapping elements in a set: the list as disjoint ranges
                let ports = disjoint(&mp.ports);
                let values: Vec<String> = ports.iter().map(|p| port_text(*p)).collect();
                match mp.direction {
                    Direction::Source | Direction::Destination => {
                        let dst = mp.direction == Direction::Destination;
                        let value = if values.len() == 1 { Value::One(values[0].clone()) } else { Value::Set(values) };
                        out.exprs.push(Expr::Cmp { key: Key::Port { proto, dst }, neg: mp.invert, value });
                    }
                    Direction::Either => {
                        // sport in P, or (sport not in P and dport in P): disjoint pairs
                        let mut elements: Vec<Vec<String>> =
                            values.iter().map(|p| vec![p.clone(), "0-65535".to_string()]).collect();
                        for gap in gaps(&ports) {
                            elements.extend(values.iter().map(|p| vec![port_text(gap), p.clone()]));
                        }
                        let keys = vec![Key::Port { proto, dst: false }, Key::Port { proto, dst: true }];
                        out.exprs.push(Expr::Concat { keys, neg: mp.invert, elements });
                    }
                }
            }
            MatchKind::Comment(c) => out.append_comment(&c.text),
            MatchKind::State(s) => self.state_test(ct_state(&s.state, span)?, span, out, split)?,
            MatchKind::Conntrack(ct) => self.conntrack(ct, span, out, split)?,
            MatchKind::Mark(mark) => out.exprs.extend(masked("meta mark", &mark.mark, span)?),
            MatchKind::Connmark(mark) => out.exprs.extend(masked("ct mark", &mark.mark, span)?),
            MatchKind::Limit(limit) => {
                if limit.avg == 0 {
                    return refuse(span, "-m limit", "a zero interval");
                }
                let (n, unit, _) = crate::ext::limit::exact_rate(limit.avg.into(), crate::ext::limit::SCALE.into());
                let unit = match unit {
                    "sec" => "second",
                    "min" => "minute",
                    other => other,
                };
                out.exprs.push(Expr::Effect(format!("limit rate {n}/{unit} burst {} packets", limit.burst)));
            }
            MatchKind::Addrtype(a) => out.exprs.extend(self.addrtype(a, span)?),
            MatchKind::Iprange(r) => {
                for (range, dst) in [(&r.src, false), (&r.dst, true)] {
                    if let Some(range) = range {
                        out.exprs.push(Expr::Cmp {
                            key: Key::Addr { v6: self.v6(), dst },
                            neg: range.invert,
                            value: Value::One(format!("{}-{}", range.value.min, range.value.max)),
                        });
                    }
                }
            }
            MatchKind::Pkttype(p) => {
                use crate::ext::pkttype::PktType;
                let name = match p.pkt_type.value {
                    PktType::Unicast => "host",
                    PktType::Broadcast => "broadcast",
                    PktType::Multicast => "multicast",
                    PktType::Otherhost => "other",
                };
                out.exprs.push(Expr::Cmp {
                    key: Key::Other("meta pkttype".into()),
                    neg: p.pkt_type.invert,
                    value: Value::One(name.into()),
                });
            }
            MatchKind::Mac(mac) => out.exprs.push(Expr::Cmp {
                key: Key::Other("ether saddr".into()),
                neg: mac.source.invert,
                value: Value::One(mac.source.value.to_string().to_ascii_lowercase()),
            }),
            MatchKind::Length(len) => {
                // IPv4: the header's total length (xt_length's skb_ip_totlen; they differ only
                // for IPv4 BIG TCP, off by default). IPv6: the packet's length in the kernel
                // (xt_length uses skb->len since Linux 6.3), which is nft's `meta length`.
                let (lo, hi) = len.length.value;
                let value = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
                let key = if self.v6() { "meta length".to_string() } else { format!("{ip} length") };
                out.exprs.push(Expr::Cmp { key: Key::Other(key), neg: len.length.invert, value: Value::One(value) });
            }
            MatchKind::Ttl(ttl) => out.exprs.push(ttl_expr("ip ttl", ttl)),
            MatchKind::Hl(hl) => out.exprs.push(ttl_expr("ip6 hoplimit", hl)),
            MatchKind::Statistic(s) => match s.mode {
                StatisticMode::Random { probability } => {
                    // (one in each of kube-proxy's endpoint rules: without the formatting machinery)
                    let mut text = String::with_capacity(48);
                    text.push_str(if s.invert {
                        "numgen random mod 2147483648 >= "
                    } else {
                        "numgen random mod 2147483648 < "
                    });
                    push_number(&mut text, probability);
                    out.exprs.push(Expr::Effect(text));
                }
                StatisticMode::Nth { every, packet } => {
                    let op = if s.invert { "!= " } else { "" };
                    // the model holds N - 1, as the kernel does; `--every N` is `mod N`
                    let n = u64::from(every) + 1;
                    out.exprs.push(Expr::Effect(format!("numgen inc mod {n} {op}{packet}")));
                }
            },
            MatchKind::Quota(q) => {
                let kind = if q.quota.invert { "over" } else { "until" };
                out.exprs.push(Expr::Effect(format!("quota {kind} {} bytes", q.quota.value)));
            }
            MatchKind::Tos(tos) => {
                if self.v6() {
                    // the traffic class straddles two bytes (`@nh,4,8`), and nft 1.0.6 compiles
                    // a test on such bits with a byte order that makes it compare a zero byte
                    return refuse(span, "-m tos (IPv6)", "nft 1.0.6 miscompiles a test on bits that straddle bytes");
                }
                let offset = 8;
                let op = if tos.tos.invert { "!=" } else { "==" };
                let (value, mask) = (tos.tos.value.value, tos.tos.value.mask);
                if value & !mask != 0 {
                    if !tos.tos.invert {
                        return refuse(span, "-m tos", "the value has bits outside the mask: never matches");
                    }
                } else {
                    out.exprs.push(Expr::Text(format!("@nh,{offset},8 & {mask:#04x} {op} {value:#04x}")));
                }
            }
            MatchKind::Dscp(d) => out.exprs.push(Expr::Cmp {
                key: Key::Other(format!("{ip} dscp")),
                neg: d.dscp.invert,
                value: Value::One(format!("{:#04x}", d.dscp.value)),
            }),
            MatchKind::Owner(o) => {
                use crate::ext::owner::OwnerId;
                if o.socket_exists.is_some() || o.suppl_groups {
                    return refuse(span, "-m owner", "--socket-exists and --suppl-groups have no nft form");
                }
                for (id, key) in [(&o.uid, "meta skuid"), (&o.gid, "meta skgid")] {
                    let Some(id) = id else { continue };
                    if id.invert {
                        return refuse(
                            span,
                            "-m owner !",
                            "iptables' negation also matches packets without a socket, nft's never does",
                        );
                    }
                    let value = match &id.value {
                        OwnerId::Range { min, max } if min == max => min.to_string(),
                        OwnerId::Range { min, max } => format!("{min}-{max}"),
                        OwnerId::Name(name) => {
                            return refuse(
                                span,
                                format!("owner `{name}`"),
                                "a name is resolved where the rule loads; write the number",
                            );
                        }
                    };
                    out.exprs.push(Expr::Cmp { key: Key::Other(key.into()), neg: false, value: Value::One(value) });
                }
            }
            other => return refuse(span, format!("-m {}", other.name()), no_equivalent(other.name())),
        }
        Ok(())
    }

    fn ports(
        &self,
        out: &mut Rule,
        proto: &'static str,
        sport: &Option<Neg<PortRange>>,
        dport: &Option<Neg<PortRange>>,
    ) {
        for (port, dst) in [(sport, false), (dport, true)] {
            if let Some(port) = port {
                out.exprs.push(Expr::Cmp {
                    key: Key::Port { proto, dst },
                    neg: port.invert,
                    value: Value::One(port_text(port.value)),
                });
            }
        }
    }

    /// Guards a rule's transport-header tests to first fragments (and unfragmented packets),
    /// once, where later fragments can reach the chain: IPv4 tests the offset; IPv6 splits the
    /// rule on its fragment header (none, or one at offset 0).
    fn first_fragment(&self, out: &mut Rule, split: &mut Option<Split>, span: Span) -> Lowered<()> {
        const V4: &str = "ip frag-off & 0x1fff == 0";
        if !self.fragments_reach || self.table == TableName::Nat {
            return Ok(());
        }
        if !self.v6() {
            if !out.exprs.iter().any(|e| matches!(e, Expr::Text(t) if t == V4)) {
                out.exprs.push(Expr::Text(V4.into()));
            }
            return Ok(());
        }
        let guard = vec![vec![Expr::Text("exthdr frag missing".into())], vec![Expr::Text("frag frag-off 0".into())]];
        match split {
            Some(Split { alternatives, .. }) if *alternatives == guard => Ok(()),
            Some(_) => refuse(span, "a port or ICMP test with a state test that splits the rule", "not translated yet"),
            None => self.state_test(guard, span, out, split),
        }
    }

    /// `-m tcp` without options still asks for a first fragment with a transport header. In
    /// the nat table conntrack has already made sure of both (nat sees only the first packet
    /// of a tracked connection, whole).
    fn header_present(&self, out: &mut Rule, proto: &'static str) {
        if self.table != TableName::Nat {
            out.exprs.push(Expr::Cmp {
                key: Key::Port { proto, dst: true },
                neg: false,
                value: Value::One("0-65535".into()),
            });
        }
    }

    fn icmp(&self, icmp: &Icmp, proto: &str, span: Span) -> Lowered<Vec<Expr>> {
        let t = icmp.icmp_type.value;
        let neg = icmp.icmp_type.invert;
        if proto == "icmp" && t.is_any() {
            return if neg {
                refuse(span, "! --icmp-type any", "never matches; remove the rule")
            } else {
                Ok(vec![Expr::Cmp {
                    key: Key::Other("icmp type".into()),
                    neg: false,
                    value: Value::One("0-255".into()),
                }])
            };
        }
        let name = icmp_type_name(proto, t.kind);
        let all_codes = t.code_min == 0 && t.code_max == 255;
        let codes =
            if t.code_min == t.code_max { t.code_min.to_string() } else { format!("{}-{}", t.code_min, t.code_max) };
        Ok(match (all_codes, neg) {
            (true, _) => vec![Expr::Cmp { key: Key::Other(format!("{proto} type")), neg, value: Value::One(name) }],
            (false, false) => vec![
                Expr::Cmp { key: Key::Other(format!("{proto} type")), neg: false, value: Value::One(name) },
                Expr::Cmp { key: Key::Other(format!("{proto} code")), neg: false, value: Value::One(codes) },
            ],
            (false, true) => vec![Expr::Concat {
                keys: vec![Key::Other(format!("{proto} type")), Key::Other(format!("{proto} code"))],
                neg: true,
                elements: vec![vec![name, codes]],
            }],
        })
    }

    /// Adds a state test; one with alternatives is kept aside, for the rule to be split.
    fn state_test(
        &self,
        mut alternatives: Vec<Vec<Expr>>,
        span: Span,
        out: &mut Rule,
        split: &mut Option<Split>,
    ) -> Lowered<()> {
        if alternatives.len() == 1 {
            out.exprs.append(&mut alternatives[0]);
            return Ok(());
        }
        if split.is_some() {
            return refuse(
                span,
                "two state tests with SNAT or DNAT",
                "each would split the rule in two: not translated yet",
            );
        }
        *split = Some(Split { at: out.exprs.len(), alternatives, span });
        Ok(())
    }

    fn conntrack(&self, ct: &Conntrack, span: Span, out: &mut Rule, split: &mut Option<Split>) -> Lowered<()> {
        // the other options first, aside: the state test decides where they go
        let start = out.exprs.len();
        let ip = self.ip();
        // nft reads a conntrack port only once it knows the protocol (and, in inet, the family)
        let ports = [&ct.orig_src_port, &ct.orig_dst_port, &ct.repl_src_port, &ct.repl_dst_port];
        if ports.iter().any(|p| p.is_some()) {
            if ct.proto.as_ref().is_none_or(|p| p.invert) {
                return refuse(
                    span,
                    "a conntrack port without --ctproto",
                    "nft reads a conntrack port only for a known protocol",
                );
            }
            if self.nft == NftFamily::Inet {
                let nfproto = if self.v6() { "ipv6" } else { "ipv4" };
                out.exprs.push(Expr::Cmp {
                    key: Key::Other("meta nfproto".into()),
                    neg: false,
                    value: Value::One(nfproto.into()),
                });
            }
        }
        if let Some(p) = &ct.proto {
            out.exprs.push(Expr::Cmp {
                key: Key::Other("ct original protocol".into()),
                neg: p.invert,
                value: Value::One(p.value.to_string()),
            });
        }
        for (net, key) in [
            (&ct.orig_src, "original saddr"),
            (&ct.orig_dst, "original daddr"),
            (&ct.repl_src, "reply saddr"),
            (&ct.repl_dst, "reply daddr"),
        ] {
            if let Some(net) = net {
                let (dir, field) = key.split_once(' ').unwrap_or_default();
                let masked = Neg::new(net.invert, net.value.clone().masked(), net.span);
                out.exprs.extend(net_test(Key::Other(format!("ct {dir} {ip} {field}")), &masked)?);
            }
        }
        for (port, key) in [
            (&ct.orig_src_port, "ct original proto-src"),
            (&ct.orig_dst_port, "ct original proto-dst"),
            (&ct.repl_src_port, "ct reply proto-src"),
            (&ct.repl_dst_port, "ct reply proto-dst"),
        ] {
            if let Some(port) = port {
                out.exprs.push(Expr::Cmp {
                    key: Key::Other(key.into()),
                    neg: port.invert,
                    value: Value::One(port_text(port.value)),
                });
            }
        }
        if let Some(status) = &ct.status {
            if status.value.0 == 0 {
                return refuse(span, "--ctstatus NONE", "tests no bit: never matches, or always when negated");
            }
            let names = ct_status_names(status.value);
            out.exprs.push(if status.invert {
                Expr::Text(format!("ct status ! {names}"))
            } else {
                Expr::Cmp { key: Key::Other("ct status".into()), neg: false, value: Value::One(names) }
            });
        }
        if let Some(expire) = &ct.expire {
            // iptables compares whole seconds, nft milliseconds
            let (lo, hi) = expire.value;
            let value = format!("{}ms-{}ms", u64::from(lo) * 1000, u64::from(hi) * 1000 + 999);
            out.exprs.push(Expr::Cmp {
                key: Key::Other("ct expiration".into()),
                neg: expire.invert,
                value: Value::One(value),
            });
        }
        if let Some(dir) = ct.dir {
            let dir = match dir {
                CtDir::Original => "original",
                CtDir::Reply => "reply",
            };
            out.exprs.push(Expr::Cmp {
                key: Key::Other("ct direction".into()),
                neg: false,
                value: Value::One(dir.into()),
            });
        }
        let Some(state) = &ct.state else { return Ok(()) };
        let others: Vec<Expr> = out.exprs.drain(start..).collect();
        if others.is_empty() {
            return self.state_test(ct_state(state, span)?, span, out, split);
        }
        // Without a connection, xt_conntrack decides on the state alone and skips the other
        // options; nft's other `ct` tests fail there. So: the connectionless states alone, or
        // the states with a connection and the other tests.
        const NO_CT: u16 = CtStates::INVALID | CtStates::UNTRACKED;
        let bits = state.value.0;
        let no_ct = if state.invert { NO_CT & !bits } else { NO_CT & bits };
        let mut cases = Vec::new();
        if no_ct != 0 {
            cases.push(vec![Expr::Cmp {
                key: Key::Other("ct state".into()),
                neg: false,
                value: Value::One(state_names(no_ct)),
            }]);
        }
        let with =
            Neg::new(state.invert, CtStates(if state.invert { bits | NO_CT } else { bits & !NO_CT }), state.span);
        if (with.invert || with.value.0 != 0)
            && let Ok(alternatives) = ct_state(&with, span)
        {
            for mut alternative in alternatives {
                alternative.extend(others.iter().cloned());
                cases.push(alternative);
            }
        }
        if cases.is_empty() {
            return refuse(span, "--ctstate", "no state: never matches");
        }
        self.state_test(cases, span, out, split)
    }

    fn addrtype(&self, a: &Addrtype, span: Span) -> Lowered<Vec<Expr>> {
        if self.v6() {
            return addrtype6(a, span);
        }
        let iface = if a.limit_iface_in {
            " . iif"
        } else if a.limit_iface_out {
            " . oif"
        } else {
            ""
        };
        let mut exprs = Vec::new();
        for (types, field) in [(&a.src, "saddr"), (&a.dst, "daddr")] {
            let Some(types) = types else { continue };
            let names: Vec<String> = (0..12)
                .filter(|i| types.value.0 & (1 << i) != 0)
                .map(|i| match crate::ext::addrtype::NAMES[i] {
                    "THROW" => "9".to_string(),
                    "NAT" => "10".to_string(),
                    "XRESOLVE" => "11".to_string(),
                    name => name.to_ascii_lowercase(),
                })
                .collect();
            let value = if names.len() == 1 { Value::One(names[0].clone()) } else { Value::Set(names) };
            exprs.push(Expr::Cmp { key: Key::Other(format!("fib {field}{iface} type")), neg: types.invert, value });
        }
        Ok(exprs)
    }

    fn target(&self, rule: &model::Rule, out: &mut Rule) -> Lowered<()> {
        let span = rule.target.span;
        let ip = self.ip();
        let inet = self.nft == NftFamily::Inet;
        match &rule.target.kind {
            TargetKind::Continue => {}
            TargetKind::Accept => out.verdict = Some(Verdict::Accept),
            TargetKind::Drop => out.verdict = Some(Verdict::Drop),
            TargetKind::Return => out.verdict = Some(Verdict::Return),
            TargetKind::Jump(chain) => out.verdict = Some(Verdict::Jump((self.chain_name)(chain))),
            TargetKind::Goto(chain) => out.verdict = Some(Verdict::Goto((self.chain_name)(chain))),
            TargetKind::Queue => out.stmts.push("queue num 0".into()),
            TargetKind::Reject(r) => {
                let (family, kind) = match r.with {
                    RejectWith::TcpReset => ("", "tcp reset"),
                    RejectWith::IcmpNetUnreachable => ("icmp", "net-unreachable"),
                    RejectWith::IcmpHostUnreachable => ("icmp", "host-unreachable"),
                    RejectWith::IcmpProtoUnreachable => ("icmp", "prot-unreachable"),
                    RejectWith::IcmpPortUnreachable => ("icmp", "port-unreachable"),
                    RejectWith::IcmpNetProhibited => ("icmp", "net-prohibited"),
                    RejectWith::IcmpHostProhibited => ("icmp", "host-prohibited"),
                    RejectWith::IcmpAdminProhibited => ("icmp", "admin-prohibited"),
                    RejectWith::Icmp6NoRoute => ("icmpv6", "no-route"),
                    RejectWith::Icmp6AdmProhibited => ("icmpv6", "admin-prohibited"),
                    RejectWith::Icmp6AddrUnreachable => ("icmpv6", "addr-unreachable"),
                    RejectWith::Icmp6PortUnreachable => ("icmpv6", "port-unreachable"),
                    RejectWith::Icmp6PolicyFail => ("icmpv6", "policy-fail"),
                    RejectWith::Icmp6RejectRoute => ("icmpv6", "reject-route"),
                };
                if family.is_empty() {
                    out.stmts.push(format!("reject with {kind}"));
                } else {
                    if inet {
                        let nfproto = if self.v6() { "ipv6" } else { "ipv4" };
                        out.exprs.push(Expr::Cmp {
                            key: Key::Other("meta nfproto".into()),
                            neg: false,
                            value: Value::One(nfproto.into()),
                        });
                    }
                    out.stmts.push(format!("reject with {family} type {kind}"));
                }
            }
            TargetKind::Log(log) => {
                let mut stmt = String::from("log");
                if let Some(prefix) = &log.prefix {
                    let _ = write!(stmt, " prefix {}", nft_string(prefix, span, "--log-prefix")?);
                }
                if log.level != 4 {
                    let levels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];
                    let _ = write!(stmt, " level {}", levels.get(usize::from(log.level)).copied().unwrap_or("debug"));
                }
                if log.tcp_sequence && log.tcp_options && log.ip_options && log.uid && log.macdecode {
                    stmt.push_str(" flags all");
                } else {
                    match (log.tcp_sequence, log.tcp_options) {
                        (true, true) => stmt.push_str(" flags tcp sequence,options"),
                        (true, false) => stmt.push_str(" flags tcp sequence"),
                        (false, true) => stmt.push_str(" flags tcp options"),
                        (false, false) => {}
                    }
                    for (on, flag) in [
                        (log.ip_options, " flags ip options"),
                        (log.uid, " flags skuid"),
                        (log.macdecode, " flags ether"),
                    ] {
                        if on {
                            stmt.push_str(flag);
                        }
                    }
                }
                out.stmts.push(stmt);
            }
            TargetKind::Nflog(n) => {
                let mut stmt = format!("log group {}", n.group);
                if let Some(prefix) = &n.prefix {
                    let _ = write!(stmt, " prefix {}", nft_string(prefix, span, "--nflog-prefix")?);
                }
                if let Some(size) = n.size {
                    let _ = write!(stmt, " snaplen {size}");
                }
                if n.threshold != 0 {
                    let _ = write!(stmt, " queue-threshold {}", n.threshold);
                }
                out.stmts.push(stmt);
            }
            TargetKind::Mark(m) => out.stmts.push(set_mark("meta mark", m.value, m.mask)),
            TargetKind::Connmark(c) => {
                use crate::ext::connmark_target::ConnmarkOp;
                if c.shift.is_some() {
                    return refuse(span, "CONNMARK --shift", "nft cannot shift one register into another with masks");
                }
                out.stmts.push(match c.op {
                    ConnmarkOp::Set(m) => set_mark("ct mark", m.value, m.mask),
                    ConnmarkOp::Save { nfmask: u32::MAX, ctmask: u32::MAX } => "ct mark set meta mark".into(),
                    ConnmarkOp::Restore { nfmask: u32::MAX, ctmask: u32::MAX } => "meta mark set ct mark".into(),
                    _ => {
                        return refuse(
                            span,
                            "CONNMARK with --nfmask/--ctmask",
                            "combining masked parts of two marks needs two registers; nft has one",
                        );
                    }
                });
            }
            TargetKind::Dnat(nat) => out.stmts.push(self.nat("dnat", nat, span, inet)?),
            TargetKind::Snat(nat) => out.stmts.push(self.nat("snat", nat, span, inet)?),
            TargetKind::Masquerade(nat) => out.stmts.push(self.nat("masquerade", nat, span, false)?),
            TargetKind::Redirect(nat) => out.stmts.push(self.nat("redirect", nat, span, false)?),
            TargetKind::Notrack => out.stmts.push("notrack".into()),
            TargetKind::Ct(ct) => {
                use crate::ext::ct::{Ct, CtZone, ZoneDir, ZoneId};
                if ct.is_notrack_only() {
                    out.stmts.push("notrack".into());
                } else if let Some(CtZone { id: ZoneId::Id(zone), dir }) = ct.zone
                    && **ct == (Ct { zone: ct.zone, ..Ct::default() })
                {
                    // a conntrack template with the zone, as xt_CT attaches
                    let dir = match dir {
                        ZoneDir::Both => "",
                        ZoneDir::Original => "original ",
                        ZoneDir::Reply => "reply ",
                    };
                    out.stmts.push(format!("ct {dir}zone set {zone}"));
                } else {
                    return refuse(
                        span,
                        "CT",
                        "only `--notrack` and `--zone N` are translated yet (helpers, timeouts and events are not)",
                    );
                }
            }
            TargetKind::Trace => out.stmts.push("meta nftrace set 1".into()),
            TargetKind::Classify(c) => out.stmts.push(format!("meta priority set {:x}:{:x}", c.major, c.minor)),
            TargetKind::Dscp(d) => out.stmts.push(format!("{ip} dscp set {:#04x}", d.dscp)),
            TargetKind::Ttl(crate::ext::ttl_target::HopLimit::Set(n)) => out.stmts.push(format!("ip ttl set {n}")),
            TargetKind::Hl(crate::ext::ttl_target::HopLimit::Set(n)) => out.stmts.push(format!("ip6 hoplimit set {n}")),
            TargetKind::Nfqueue(q) => {
                let mut flags = Vec::new();
                if q.bypass {
                    flags.push("bypass");
                }
                if q.cpu_fanout {
                    flags.push("fanout");
                }
                let num = if q.total > 1 {
                    format!("{}-{}", q.queue, u32::from(q.queue) + u32::from(q.total) - 1)
                } else {
                    q.queue.to_string()
                };
                out.stmts.push(if flags.is_empty() {
                    format!("queue num {num}")
                } else {
                    format!("queue flags {} num {num}", flags.join(","))
                });
            }
            TargetKind::Tcpmss(_) => {
                return refuse(
                    span,
                    "TCPMSS",
                    "iptables adds an MSS option to a SYN that has none; nft only changes one that is there",
                );
            }
            other => {
                let name = other.name().unwrap_or_default();
                return refuse(span, format!("-j {name}"), no_equivalent(name));
            }
        }
        Ok(())
    }

    fn nat(&self, kind: &str, nat: &Nat, span: Span, with_family: bool) -> Lowered<String> {
        let range = &nat.range;
        if range.base_port.is_some() {
            return refuse(span, format!("{} with a base port", kind.to_uppercase()), "nft has no shifted port range");
        }
        // one string, written without the formatting machinery (a kube-proxy dump has one DNAT
        // per endpoint)
        let mut stmt = String::with_capacity(48);
        stmt.push_str(kind);
        let ports = range.ports.map(|(lo, hi)| {
            let mut text = String::with_capacity(12);
            text.push(':');
            push_number(&mut text, lo.into());
            if lo != hi {
                text.push('-');
                push_number(&mut text, hi.into());
            }
            text
        });
        match (range.addrs, &ports) {
            (Some((lo, hi)), _) => {
                if with_family {
                    stmt.push(' ');
                    stmt.push_str(self.ip());
                }
                let bracket = |stmt: &mut String, a: std::net::IpAddr| match a {
                    std::net::IpAddr::V4(v4) => push_v4(stmt, v4),
                    std::net::IpAddr::V6(v6) if ports.is_some() => {
                        let _ = write!(stmt, "[{v6}]");
                    }
                    std::net::IpAddr::V6(v6) => {
                        let _ = write!(stmt, "{v6}");
                    }
                };
                stmt.push_str(" to ");
                bracket(&mut stmt, lo);
                if lo != hi {
                    stmt.push('-');
                    bracket(&mut stmt, hi);
                }
                stmt.push_str(ports.as_deref().unwrap_or(""));
            }
            (None, Some(p)) if kind == "masquerade" || kind == "redirect" => {
                let _ = write!(stmt, " to {p}");
            }
            (None, Some(_)) => {
                return refuse(
                    span,
                    format!("{} with only ports", kind.to_uppercase()),
                    "nft's nat needs an address here",
                );
            }
            (None, None) if kind == "dnat" || kind == "snat" => {
                return refuse(span, kind.to_uppercase(), "no address to translate to");
            }
            (None, None) => {}
        }
        let mut flags = Vec::new();
        if nat.random {
            flags.push("random");
        }
        if nat.random_fully {
            flags.push("fully-random");
        }
        if nat.persistent {
            flags.push("persistent");
        }
        if !flags.is_empty() {
            let _ = write!(stmt, " {}", flags.join(","));
        }
        Ok(stmt)
    }
}

/// An IPv4 address as text, without the formatting machinery (a big dump has a hundred
/// thousand of them).
fn v4_text(addr: std::net::Ipv4Addr) -> String {
    let mut out = String::with_capacity(15);
    push_v4(&mut out, addr);
    out
}

/// Appends an IPv4 address (see [`v4_text`]).
fn push_v4(out: &mut String, addr: std::net::Ipv4Addr) {
    // at most 15 bytes, put together here and appended at once
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    out.push_str(std::str::from_utf8(&text[..len]).expect("digits and dots"));
}

/// Appends a number in decimal, without the formatting machinery.
fn push_number(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("digits"));
}

fn net_test(key: Key, net: &Neg<Net>) -> Lowered<Option<Expr>> {
    if net.value.is_any() {
        return if net.invert { refuse(net.span, "! 0.0.0.0/0", "never matches; remove the rule") } else { Ok(None) };
    }
    match (&net.value, net.value.prefix_len()) {
        (Net::Name(name), _) => refuse(
            net.span,
            format!("host name `{name}`"),
            "iptables resolves names when it loads the rule; write the addresses",
        ),
        (Net::V4 { addr, .. }, Some(32)) => {
            Ok(Some(Expr::Cmp { key, neg: net.invert, value: Value::One(v4_text(*addr)) }))
        }
        (Net::V6(v6), Some(128)) => {
            Ok(Some(Expr::Cmp { key, neg: net.invert, value: Value::One(v6.addr.to_string()) }))
        }
        (Net::V4 { addr, .. }, Some(len)) => {
            let mut text = v4_text(*addr);
            text.push('/');
            push_number(&mut text, len);
            Ok(Some(Expr::Cmp { key, neg: net.invert, value: Value::One(text) }))
        }
        (Net::V6(v6), Some(len)) => {
            Ok(Some(Expr::Cmp { key, neg: net.invert, value: Value::One(format!("{}/{len}", v6.addr)) }))
        }
        (Net::V4 { addr, mask }, None) => {
            let op = if net.invert { "!=" } else { "==" };
            Ok(Some(Expr::Text(format!("{} & {mask} {op} {addr}", key.text()))))
        }
        (Net::V6(v6), None) => {
            let op = if net.invert { "!=" } else { "==" };
            Ok(Some(Expr::Text(format!("{} & {} {op} {}", key.text(), v6.mask, v6.addr))))
        }
    }
}

/// ip6tables' addrtype (docs/dev/addrtype6.md): UNICAST, MULTICAST and UNSPEC are judged from
/// the address alone, and ANDed when several are given; LOCAL, ANYCAST and UNREACHABLE come from
/// a route lookup keyed differently from nft's fib6, so they are refused.
fn addrtype6(a: &Addrtype, span: Span) -> Lowered<Vec<Expr>> {
    use crate::ext::addrtype::NAMES;
    let bit = |name: &str| 1u16 << NAMES.iter().position(|n| *n == name).expect("a route type");
    let (unspec, unicast, multicast) = (bit("UNSPEC"), bit("UNICAST"), bit("MULTICAST"));
    let mut exprs = Vec::new();
    for (types, dst) in [(&a.src, false), (&a.dst, true)] {
        let Some(types) = types else { continue };
        let routed = types.value.0 & !(unspec | unicast | multicast);
        if routed != 0 {
            let local = routed & bit("LOCAL") != 0;
            return refuse(
                span,
                "-m addrtype (IPv6)",
                if local {
                    "ip6tables finds a link-local address on any interface, nft's fib only on the packet's own, and they look routes up with different keys"
                } else {
                    "ip6tables and nft's fib look routes up with different keys (source, protocol, interface): not the same packets"
                },
            );
        }
        let key = Key::Addr { v6: true, dst };
        let (value, holds_for_the_set) = match types.value.0 {
            t if t == unicast => (Value::Set(vec!["::".into(), "::ffff:0:0/96".into(), "ff00::/8".into()]), false),
            t if t == multicast => (Value::One("ff00::/8".into()), true),
            t if t == unspec => (Value::One("::".into()), true),
            _ => {
                // two kinds at once: no address is both
                if types.invert {
                    continue;
                }
                return refuse(
                    span,
                    "-m addrtype (IPv6)",
                    "no address is of two of UNICAST, MULTICAST, UNSPEC: never matches",
                );
            }
        };
        exprs.push(Expr::Cmp { key, neg: types.invert == holds_for_the_set, value });
    }
    Ok(exprs)
}

fn iface_expr(iface: &Neg<Iface>, key: Key) -> Lowered<Option<Expr>> {
    let name = iface.value.as_str();
    if name == "+" {
        return if iface.invert { refuse(iface.span, "! -i +", "never matches; remove the rule") } else { Ok(None) };
    }
    if name.contains(['*', '"', '\\']) {
        return refuse(iface.span, format!("interface `{name}`"), "nft reads `*` as a wildcard and cannot quote `\"`");
    }
    let text = match name.strip_suffix('+') {
        Some(prefix) => format!("\"{prefix}*\""),
        None => format!("\"{name}\""),
    };
    Ok(Some(Expr::Cmp { key, neg: iface.invert, value: Value::One(text) }))
}

/// `tcp`, `udp`... as nft names them, else the number.
pub fn proto_name(proto: Proto) -> String {
    match proto.0 {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        132 => "sctp".into(),
        33 => "dccp".into(),
        136 => "udplite".into(),
        47 => "gre".into(),
        n => n.to_string(),
    }
}

fn port_proto(proto: Proto) -> Option<&'static str> {
    Some(match proto.0 {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        132 => "sctp",
        33 => "dccp",
        _ => return None,
    })
}

/// Port ranges sorted, with overlapping and touching ones joined.
fn disjoint(ports: &[PortRange]) -> Vec<PortRange> {
    let mut sorted: Vec<PortRange> = ports.to_vec();
    sorted.sort_by_key(|p| (p.lo, p.hi));
    let mut out: Vec<PortRange> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match out.last_mut() {
            Some(last) if u32::from(p.lo) <= u32::from(last.hi) + 1 => last.hi = last.hi.max(p.hi),
            _ => out.push(p),
        }
    }
    out
}

/// The ports 0-65535 that disjoint, sorted ranges leave out.
fn gaps(ports: &[PortRange]) -> Vec<PortRange> {
    let mut out = Vec::new();
    let mut next: u32 = 0;
    for p in ports {
        if u32::from(p.lo) > next {
            out.push(PortRange { lo: next as u16, hi: p.lo - 1 });
        }
        next = u32::from(p.hi) + 1;
    }
    if next <= 65535 {
        out.push(PortRange { lo: next as u16, hi: 65535 });
    }
    out
}

fn port_text(p: PortRange) -> String {
    if p.lo == p.hi { p.lo.to_string() } else { format!("{}-{}", p.lo, p.hi) }
}

fn tcp_flags(bits: u8, paren: bool) -> String {
    const NAMES: [&str; 8] = ["fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"];
    let names: Vec<&str> = (0..8).filter(|i| bits & (1 << i) != 0).map(|i| NAMES[i]).collect();
    match names.len() {
        0 => "0x0".into(),
        1 => names[0].into(),
        _ if paren => format!("({})", names.join("|")),
        _ => format!("({})", names.join("|")),
    }
}

/// `--ctstate`/`--state` as alternatives, each a conjunction of nft tests: one unless the states
/// mix with SNAT/DNAT. Those are conntrack status bits, which nft reads only from a connection,
/// while iptables' test also holds without one; so the test splits on the state (disjoint cases,
/// "no connection" being exactly `ct state invalid,untracked`).
fn ct_state(state: &Neg<CtStates>, span: Span) -> Lowered<Vec<Vec<Expr>>> {
    const NAMES: [(u16, &str); 5] = [
        (CtStates::INVALID, "invalid"),
        (CtStates::ESTABLISHED, "established"),
        (CtStates::RELATED, "related"),
        (CtStates::NEW, "new"),
        (CtStates::UNTRACKED, "untracked"),
    ];
    const NO_CT: u16 = CtStates::INVALID | CtStates::UNTRACKED;
    const WITH_CT: u16 = CtStates::ESTABLISHED | CtStates::RELATED | CtStates::NEW;
    let names = |bits: u16| -> String {
        NAMES.iter().filter(|(bit, _)| bits & bit != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(",")
    };
    let states_test =
        |bits: u16| Expr::Cmp { key: Key::Other("ct state".into()), neg: false, value: Value::One(names(bits)) };
    let bits = state.value.0;
    let nat = bits & (CtStates::SNAT | CtStates::DNAT);
    let states = bits & (NO_CT | WITH_CT);
    if nat == 0 {
        if states == 0 {
            return refuse(span, "--ctstate", "no state: never matches");
        }
        return Ok(vec![vec![if !state.invert {
            states_test(states)
        } else if states.count_ones() > 1 {
            // `!=` would compare the whole word: the bitwise `!` is what iptables means
            Expr::Text(format!("ct state ! {}", names(states)))
        } else {
            Expr::Cmp { key: Key::Other("ct state".into()), neg: true, value: Value::One(names(states)) }
        }]]);
    }
    let status = [(CtStates::SNAT, "snat"), (CtStates::DNAT, "dnat")]
        .iter()
        .filter(|(bit, _)| nat & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",");
    let mut alternatives = Vec::new();
    if !state.invert {
        // a listed state, or a connection (of another state) with a listed status bit
        if states != 0 {
            alternatives.push(vec![states_test(states)]);
        }
        let others = WITH_CT & !states;
        if others != 0 {
            let status_test = Expr::Cmp { key: Key::Other("ct status".into()), neg: false, value: Value::One(status) };
            alternatives.push(if states == 0 { vec![status_test] } else { vec![states_test(others), status_test] });
        }
    } else {
        // no connection (in a state not listed), or a connection in a state not listed and
        // with none of the status bits
        let without = NO_CT & !states;
        if without != 0 {
            alternatives.push(vec![states_test(without)]);
        }
        let with = WITH_CT & !states;
        if with != 0 {
            alternatives.push(vec![states_test(with), Expr::Text(format!("ct status ! {status}"))]);
        }
    }
    if alternatives.is_empty() {
        return refuse(span, "--ctstate", if state.invert { "never matches" } else { "matches everything" });
    }
    Ok(alternatives)
}

/// `invalid,established,...` for a set of state bits.
fn state_names(bits: u16) -> String {
    [
        (CtStates::INVALID, "invalid"),
        (CtStates::ESTABLISHED, "established"),
        (CtStates::RELATED, "related"),
        (CtStates::NEW, "new"),
        (CtStates::UNTRACKED, "untracked"),
    ]
    .iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, n)| *n)
    .collect::<Vec<_>>()
    .join(",")
}

fn ct_status_names(status: CtStatus) -> String {
    [
        (CtStatus::EXPECTED, "expected"),
        (CtStatus::SEEN_REPLY, "seen-reply"),
        (CtStatus::ASSURED, "assured"),
        (CtStatus::CONFIRMED, "confirmed"),
    ]
    .into_iter()
    .filter(|(bit, _)| status.0 & bit != 0)
    .map(|(_, name)| name)
    .collect::<Vec<_>>()
    .join(",")
}

/// `(mark & mask) == value`, as the kernel compares it: the value is not masked, so one with
/// bits outside the mask never matches (and its negation always does: no test).
fn masked(key: &str, mark: &Neg<crate::ext::mark::MarkMask>, span: Span) -> Lowered<Option<Expr>> {
    let (value, mask) = (mark.value.value, mark.value.mask);
    if value & !mask != 0 {
        return if mark.invert {
            Ok(None)
        } else {
            refuse(span, format!("{value:#x}/{mask:#x}"), "the value has bits outside the mask: never matches")
        };
    }
    Ok(Some(masked_test(key, mark)))
}

fn masked_test(key: &str, mark: &Neg<crate::ext::mark::MarkMask>) -> Expr {
    let (value, mask) = (mark.value.value, mark.value.mask);
    if mask == u32::MAX {
        Expr::Cmp { key: Key::Other(key.into()), neg: mark.invert, value: Value::One(format!("{value:#x}")) }
    } else {
        let op = if mark.invert { "!=" } else { "==" };
        Expr::Text(format!("{key} & {mask:#010x} {op} {:#x}", value & mask))
    }
}

/// `mark = (mark & ~mask) ^ value`, as `--set-xmark` does.
fn set_mark(key: &str, value: u32, mask: u32) -> String {
    if mask == u32::MAX {
        format!("{key} set {value:#x}")
    } else {
        format!("{key} set {key} & {:#010x} ^ {value:#x}", !mask)
    }
}

fn ttl_expr(key: &str, ttl: &crate::ext::ttl::Ttl) -> Expr {
    let value = ttl.value;
    match ttl.op {
        TtlOp::Eq => Expr::Cmp { key: Key::Other(key.into()), neg: false, value: Value::One(value.to_string()) },
        TtlOp::Ne => Expr::Cmp { key: Key::Other(key.into()), neg: true, value: Value::One(value.to_string()) },
        TtlOp::Lt => Expr::Text(format!("{key} < {value}")),
        TtlOp::Gt => Expr::Text(format!("{key} > {value}")),
    }
}

fn icmp_type_name(proto: &str, kind: u8) -> String {
    let v4: &[(u8, &str)] = &[
        (0, "echo-reply"),
        (3, "destination-unreachable"),
        (4, "source-quench"),
        (5, "redirect"),
        (8, "echo-request"),
        (9, "router-advertisement"),
        (10, "router-solicitation"),
        (11, "time-exceeded"),
        (12, "parameter-problem"),
        (13, "timestamp-request"),
        (14, "timestamp-reply"),
        (15, "info-request"),
        (16, "info-reply"),
        (17, "address-mask-request"),
        (18, "address-mask-reply"),
    ];
    let v6: &[(u8, &str)] = &[
        (1, "destination-unreachable"),
        (2, "packet-too-big"),
        (3, "time-exceeded"),
        (4, "parameter-problem"),
        (128, "echo-request"),
        (129, "echo-reply"),
        (130, "mld-listener-query"),
        (131, "mld-listener-report"),
        (132, "mld-listener-done"),
        (133, "nd-router-solicit"),
        (134, "nd-router-advert"),
        (135, "nd-neighbor-solicit"),
        (136, "nd-neighbor-advert"),
        (137, "nd-redirect"),
        (138, "router-renumbering"),
        (141, "ind-neighbor-solicit"),
        (142, "ind-neighbor-advert"),
        (143, "mld2-listener-report"),
    ];
    let names = if proto == "icmp" { v4 } else { v6 };
    names.iter().find(|(n, _)| *n == kind).map_or_else(|| kind.to_string(), |(_, name)| (*name).to_string())
}

/// A string for nft, which has no escapes: `"` cannot be written at all.
fn nft_string(text: &str, span: Span, what: &str) -> Lowered<String> {
    if text.contains('"') || text.contains('\n') {
        return refuse(span, what, "nft strings cannot hold `\"` or a line break");
    }
    if text.contains('$') {
        return refuse(span, what, "nft 1.0.6 reads `$` in a log prefix as a variable");
    }
    Ok(format!("\"{text}\""))
}

/// Why a module or target has no exact nft form (docs/translate.md has the evidence).
fn no_equivalent(name: &str) -> String {
    match name {
        "recent" => "nft has no list with hit counts and timestamps like `-m recent`".into(),
        "string" => "nft cannot search a packet's payload".into(),
        "physdev" => "nft sees bridge ports only in the bridge family".into(),
        "set" | "SET" => "the ipset is defined outside the dump, and nft cannot read ipsets".into(),
        "hashlimit" => "nft's dynamic sets expire and fill up differently from hashlimit's tables".into(),
        "connbytes" => {
            "nft's ct bytes count only when conntrack accounting is on, which xt_connbytes turns on itself".into()
        }
        "TOS" => "nft cannot set some bits of the TOS byte and keep the others".into(),
        "CHECKSUM" => "nft cannot fill in a checksum".into(),
        "CONNSECMARK" => "nft cannot copy a security mark only when it is unset".into(),
        _ => "not translated yet: ipt has no proven nft form for it".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmark_keeps_the_unmasked_bits() {
        assert_eq!(set_mark("meta mark", 0x1, 0xff), "meta mark set meta mark & 0xffffff00 ^ 0x1");
        assert_eq!(set_mark("ct mark", 0x10, u32::MAX), "ct mark set 0x10");
    }

    #[test]
    fn ipv4_addresses_print_as_std_does() {
        for addr in ["0.0.0.0", "10.0.0.1", "192.0.2.255", "100.64.9.99", "255.255.255.255"] {
            assert_eq!(v4_text(addr.parse().unwrap()), addr);
        }
    }

    #[test]
    fn numbers_and_addresses_print_as_std_does() {
        for n in [0, 7, 10, 99, 100, 8080, 65535, 1_000_000, u32::MAX] {
            let mut text = String::from(":");
            push_number(&mut text, n);
            assert_eq!(text, format!(":{n}"));
        }
        for a in ["0.0.0.0", "1.2.3.4", "10.99.100.255", "172.30.0.1", "255.255.255.255", "9.10.99.100"] {
            let addr: std::net::Ipv4Addr = a.parse().unwrap();
            let mut text = String::from(":");
            push_v4(&mut text, addr);
            assert_eq!(text, format!(":{addr}"));
        }
    }

    #[test]
    fn port_lists_become_disjoint_ranges_and_their_gaps() {
        let r = |lo, hi| PortRange { lo, hi };
        let ports = disjoint(&[r(80, 80), r(0, 0), r(50, 90), r(91, 95), r(443, 443)]);
        assert_eq!(ports, [r(0, 0), r(50, 95), r(443, 443)]);
        assert_eq!(gaps(&ports), [r(1, 49), r(96, 442), r(444, 65535)]);
        assert_eq!(gaps(&[r(0, 65535)]), []);
    }

    #[test]
    fn statistic_every_n_is_numgen_mod_n_not_n_minus_1() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m statistic --mode nth --every 10 --packet 1\nCOMMIT\n";
        let source = crate::source::Source::new("t.rules".to_string(), text.to_string());
        let loaded = crate::load::load(&source, &crate::load::LoadOptions::default());
        let input = crate::nft::Input { source: &source, ruleset: &loaded.ruleset };
        let script = crate::nft::translate(&[input], &crate::nft::Options::default()).script.text("");
        assert!(script.contains("numgen inc mod 10 1"), "{script}");
    }

    #[test]
    fn tcp_flags_name_each_bit() {
        assert_eq!(tcp_flags(0x17, true), "(fin|syn|rst|ack)");
        assert_eq!(tcp_flags(0x02, false), "syn");
        assert_eq!(tcp_flags(0, false), "0x0");
    }
}
