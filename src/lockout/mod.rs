//! The lockout guard of `ipt apply`: before a ruleset is applied, the operator's own sessions
//! (`SSH_CONNECTION`, `--keep ADDR:PORT`) are explained against it ([`crate::explain`]), and a
//! ruleset that would drop them is refused, naming the rule that drops them.
//!
//! Three packets per session, each explained against every dump of the session's family:
//! - the session's next packet in (established, `ACK`, client → this host);
//! - a new connection from the same client (`SYN`, state new, another client port): the
//!   operator's way back in after the session ends;
//! - this host's reply out (established, `ACK`, this host → client).
//!
//! What counts as a lockout (decided here, and said in `docs/apply.md`): a path whose fate is
//! dropped, rejected or discarded; an inbound packet that is forwarded elsewhere (a DNAT) instead
//! of delivered here; and a fate ipt cannot know (queued to user space, a target it does not
//! model). A path that depends on undecided tests (a rate, a set's contents, an interface the
//! routes do not give) counts too, with its conditions in the message: the guard's job is to be
//! sure the session survives, and `--force` is there for the operator who knows better.
//! A ruleset explain cannot follow (too many undecided tests) is refused for the same reason.

mod session;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

pub use session::{Session, SessionError, SessionOrigin};

use crate::explain::{Ask, CtBase, Event, Fate, Path, Query, Route, explain};
use crate::model::{Family, Ruleset};
use crate::source::Source;

/// One dump being applied.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub source: &'a Source,
    pub ruleset: &'a Ruleset,
}

/// Which of a session's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    /// The session's next packet in.
    Established,
    /// A new connection from the same client.
    New,
    /// This host's reply out.
    Reply,
}

impl Packet {
    pub fn describe(self) -> &'static str {
        match self {
            Packet::Established => "the session's packets in",
            Packet::New => "a new connection from the same client",
            Packet::Reply => "the session's replies out",
        }
    }
}

/// What stops a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Culprit {
    /// A rule: its line in the file and its text.
    Rule { line: u32, text: String },
    /// A built-in chain's policy: the declaration's line (none for a chain never declared).
    Policy { table: &'static str, chain: String, line: Option<u32> },
    /// Not a rule: the IP stack, or explain could not follow the packet.
    Other(String),
}

/// A packet of a kept session that the new ruleset would (or may) not let through.
#[derive(Clone, Debug)]
pub struct Threat {
    pub session: Session,
    pub packet: Packet,
    /// The file the dropping rule is in.
    pub file: String,
    /// `dropped`, `rejected`, ... (`None` when explain could not follow the packet).
    pub fate: Option<Fate>,
    pub culprit: Culprit,
    /// The undecided tests this path assumes (`line N: TEST holds|fails`); empty when the drop
    /// is certain.
    pub conditions: Vec<String>,
    /// The packet, in words (`198.51.100.7 port 50022 -> 192.0.2.1 port 22, flags ACK, established`).
    pub summary: String,
}

impl fmt::Display for Threat {
    /// `FILE:LINE: RULE` then what it does to which packet, as `ipt apply` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.culprit {
            Culprit::Rule { line, text } => writeln!(f, "{}:{line}: {text}", self.file)?,
            Culprit::Policy { table, chain, line: Some(line) } => {
                writeln!(f, "{}:{line}: the policy of {table} {chain}", self.file)?
            }
            Culprit::Policy { table, chain, line: None } => {
                writeln!(f, "{}: the policy of {table} {chain} (built-in, never declared)", self.file)?
            }
            Culprit::Other(why) => writeln!(f, "{}: {why}", self.file)?,
        }
        let fate = self.fate.map_or("may be lost", |fate| match fate {
            Fate::Queued => "queued to user space (whose verdict ipt cannot know)",
            Fate::Unknown => "decided by a target ipt does not model",
            Fate::Forwarded => "forwarded to another host instead of delivered here",
            other => other.as_str(),
        });
        let certainty = if self.conditions.is_empty() { "would be" } else { "may be" };
        write!(f, "  {} ({}) {certainty} {fate}: {}", self.packet.describe(), self.session.origin, self.summary)?;
        if !self.conditions.is_empty() {
            write!(f, "\n  when {}", self.conditions.join(", and "))?;
        }
        Ok(())
    }
}

/// What the guard found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Packets that would or may not get through: the ruleset is refused unless `--force`.
    pub threats: Vec<Threat>,
    /// What was checked, and what could not be, in words.
    pub notes: Vec<String>,
}

impl Report {
    pub fn refuses(&self) -> bool {
        !self.threats.is_empty()
    }
}

/// What the guard knows of this host besides the dumps.
#[derive(Clone, Debug, Default)]
pub struct Host {
    /// This host's addresses (`ip -o addr`).
    pub local: Vec<IpAddr>,
    /// `ip route` and `ip -6 route` output: the interface a client is reached by.
    pub routes: Vec<Route>,
}

/// Explains each session's packets against the dumps of its family.
pub fn check(inputs: &[Input<'_>], sessions: &[Session], host: &Host) -> Report {
    let mut report = Report::default();
    for session in sessions {
        let family = if session.client.is_ipv4() { Family::Ipv4 } else { Family::Ipv6 };
        let name = if family == Family::Ipv4 { "IPv4" } else { "IPv6" };
        let mine: Vec<&Input<'_>> =
            inputs.iter().filter(|i| i.ruleset.tables.iter().any(|t| t.family == family)).collect();
        if mine.is_empty() {
            report.notes.push(format!(
                "{}: no {name} table is applied, so the new ruleset does not filter its packets",
                session.origin
            ));
            continue;
        }
        let server = session.server.or_else(|| {
            crate::explain::routes::lookup(&host.routes, session.client)
                .and_then(|r| r.src)
                .filter(|s| s.is_ipv4() == session.client.is_ipv4())
        });
        let mut local = host.local.clone();
        local.extend(server);
        // a client on another host never arrives on `lo`, nor is it reached through it
        let remote = !session.client.is_loopback() && !local.contains(&session.client);
        let client_port = session.client_port.unwrap_or(40000);
        let fresh = if client_port == 40000 { 40001 } else { 40000 };
        let packets = [
            (
                Packet::Established,
                Some(session.client),
                server,
                client_port,
                session.server_port,
                "ACK",
                CtBase::Established,
            ),
            (Packet::New, Some(session.client), server, fresh, session.server_port, "SYN", CtBase::New),
            (Packet::Reply, server, Some(session.client), session.server_port, client_port, "ACK", CtBase::Established),
        ];
        for (packet, src, dst, sport, dport, flags, state) in packets {
            if packet == Packet::Reply && src.is_none() {
                report.notes.push(format!(
                    "{}: this host's address for {} is unknown (no route gives it): its replies are not checked",
                    session.origin,
                    crate::ext::host::HostAddr::Ip(session.client)
                ));
                continue;
            }
            let ask = Ask {
                src,
                dst,
                proto: Some("tcp".into()),
                sport: Some(sport),
                dport: Some(dport),
                tcp_flags: Some(flags.into()),
                state: Some(state),
                local: local.clone(),
                routes: host.routes.clone(),
                assume: if remote { not_lo(&mine, family, packet != Packet::Reply) } else { BTreeMap::new() },
                ..Ask::default()
            };
            let query = match Query::new(ask) {
                Ok(q) => q,
                Err(e) => {
                    // the addresses come from one session, so this is not expected; still, not a pass
                    let file = mine.first().map(|i| i.source.name().to_string()).unwrap_or_default();
                    report.threats.push(Threat {
                        session: session.clone(),
                        packet,
                        file,
                        fate: None,
                        culprit: Culprit::Other(format!("the packet cannot be asked about: {e}")),
                        conditions: Vec::new(),
                        summary: String::new(),
                    });
                    continue;
                }
            };
            let summary = summary(&query);
            for input in &mine {
                let file = input.source.name().to_string();
                let threat = |fate, culprit, conditions| Threat {
                    session: session.clone(),
                    packet,
                    file: file.clone(),
                    fate,
                    culprit,
                    conditions,
                    summary: summary.clone(),
                };
                match explain(input.ruleset, &query) {
                    Ok(explanation) => {
                        for path in &explanation.paths {
                            if passes(packet, path.fate) {
                                continue;
                            }
                            let t = threat(Some(path.fate), culprit(input, path), conditions(path, &query));
                            // one message per rule and packet: paths differ in what else they assume
                            if !report.threats.iter().any(|o| {
                                o.packet == t.packet
                                    && o.culprit == t.culprit
                                    && o.file == t.file
                                    && o.session == t.session
                            }) {
                                report.threats.push(t);
                            }
                        }
                    }
                    Err(e) => report.threats.push(threat(
                        None,
                        Culprit::Other(format!("ipt cannot follow the packet through this ruleset: {e}")),
                        Vec::new(),
                    )),
                }
            }
        }
    }
    report
}

/// Whether a fate keeps the session: delivered here for a packet in, sent (or delivered, to a
/// local client) for a reply out.
fn passes(packet: Packet, fate: Fate) -> bool {
    match packet {
        Packet::Established | Packet::New => fate == Fate::Delivered,
        Packet::Reply => matches!(fate, Fate::Sent | Fate::Delivered),
    }
}

/// The lines of the rules that test `-i lo` (`inbound`) or `-o lo`: they cannot match a
/// packet from or to another host, whose interface the routes may not give (explain would
/// follow both outcomes of such a test, and the guard would report a drop that depends on the
/// client being on `lo`).
fn not_lo(inputs: &[&Input<'_>], family: Family, inbound: bool) -> BTreeMap<u32, bool> {
    let mut lines = BTreeMap::new();
    for input in inputs {
        for table in input.ruleset.tables.iter().filter(|t| t.family == family) {
            for rule in table.chains.iter().flat_map(|c| &c.rules) {
                let iface = if inbound { rule.in_iface() } else { rule.out_iface() };
                if let Some(i) = iface
                    && !i.invert
                    && i.value.as_str() == "lo"
                {
                    lines.insert(rule.line.0, false);
                }
            }
        }
    }
    lines
}

/// The last rule or policy on the path: what decided its fate.
fn culprit(input: &Input<'_>, path: &Path) -> Culprit {
    for event in path.events.iter().rev() {
        match event {
            Event::Rule(r) if r.matched => return Culprit::Rule { line: r.line, text: r.rule.clone() },
            Event::Policy { table, chain, .. } => {
                let line = input
                    .ruleset
                    .tables
                    .iter()
                    .filter(|t| t.name.as_str() == *table)
                    .flat_map(|t| &t.chains)
                    .find(|c| &*c.name == chain.as_str() && !c.span.is_empty())
                    .map(|c| input.source.line_col(c.span.start).0);
                return Culprit::Policy { table, chain: chain.clone(), line };
            }
            _ => {}
        }
    }
    Culprit::Other(path.notes.first().cloned().unwrap_or_else(|| format!("the packet is {}", path.fate.as_str())))
}

/// The undecided rules this path gives an outcome, but for those the guard decided itself.
fn conditions(path: &Path, query: &Query) -> Vec<String> {
    path.choices
        .iter()
        .filter(|c| !query.assume.contains_key(&c.line))
        .map(|c| format!("line {} (`{}`) {}", c.line, c.test, if c.holds { "matches" } else { "does not match" }))
        .collect()
}

/// The packet in words.
fn summary(q: &Query) -> String {
    let addr = |a: Option<IpAddr>| a.map_or("this host".to_string(), |a| crate::ext::host::HostAddr::Ip(a).to_string());
    let mut s = format!(
        "{} port {} -> {} port {}",
        addr(q.src),
        q.sport.unwrap_or_default(),
        addr(q.dst),
        q.dport.unwrap_or_default()
    );
    if let Some(flags) = q.tcp_flags {
        s.push_str(&format!(", flags {}", if flags == 0x02 { "SYN" } else { "ACK" }));
    }
    s.push_str(&format!(", state {}", q.state.as_str()));
    s
}
