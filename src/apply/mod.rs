//! `ipt apply`: the translated ruleset sent to the kernel as one netlink transaction (cargo
//! feature `netlink`, over libnftnl and libmnl).
//!
//! For each of ipt's tables the batch adds the table (so that it exists), deletes it, and adds it
//! again with its chains, anonymous sets and rules; every other table is left alone. The kernel
//! applies the batch whole or not at all. Each message's sequence number is kept with the
//! iptables line its rule came from, so that an error the kernel returns is shown on that line.

pub mod confirm;
mod low;
mod send;
mod snapshot;
mod sys;
pub mod watchdog;

use std::collections::BTreeMap;
use std::ffi::CString;

use nftnl::{Batch, Chain, ChainType, Hook, MsgType, Policy as NftPolicy, ProtoFamily, Rule, Table};

use crate::model::Policy;
use crate::nft::ir::{NftFamily, Origin, Script};
use crate::nft::rule_exprs;

pub use low::Unsupported;
pub use send::{Outcome, SendError};
pub use snapshot::{Snapshot, TableId};

/// What `ipt apply` reports on an iptables rule.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ApplyError {
    #[error("the kernel refused this rule")]
    #[diagnostic(code(ipt::apply::kernel_refused), help("the kernel rolled the whole batch back: nothing changed"))]
    KernelRefused {
        #[label("{reason}")]
        span: crate::source::Span,
        reason: String,
    },

    #[error("ipt apply cannot build `{fragment}` yet")]
    #[diagnostic(
        code(ipt::apply::not_built),
        help("nothing was sent; `ipt translate FILE | nft -f -` loads it ({table}, chain {chain})")
    )]
    NotBuilt {
        #[label("this rule")]
        span: crate::source::Span,
        fragment: String,
        table: String,
        chain: String,
    },
}

/// A rule `ipt apply` cannot build yet, and the fragment it stops at.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub origin: Option<Origin>,
    pub table: String,
    pub chain: String,
    pub fragment: String,
}

/// The whole ruleset as kernel objects, ready to be written into a batch.
pub struct Plan {
    tables: Vec<PlanTable>,
}

struct PlanTable {
    family: NftFamily,
    name: String,
    chains: Vec<PlanChain>,
    /// The table's named verdict maps, made after the chains (their elements jump to them) and
    /// before the rules (which name them).
    maps: Vec<low::SetSpec>,
}

struct PlanChain {
    name: String,
    base: Option<crate::nft::ir::Base>,
    rules: Vec<PlanRule>,
}

struct PlanRule {
    exprs: Vec<low::Low>,
    sets: Vec<low::SetSpec>,
    comment: Option<String>,
    origin: Option<Origin>,
}

/// How many messages of each kind a batch holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub messages: BTreeMap<&'static str, usize>,
    pub tables: Vec<String>,
}

/// Elements per `NEWSETELEM` message: well under the 64 KiB a netlink message can hold.
const ELEMENTS_PER_MESSAGE: usize = 256;

impl Plan {
    /// Builds every rule, or says which ones cannot be built yet (all of them, not just the first).
    pub fn new(script: &Script) -> Result<Plan, Vec<Refusal>> {
        let mut refusals = Vec::new();
        let mut next_id = 0;
        let mut tables = Vec::new();
        for table in &script.tables {
            let mut maps = Vec::new();
            for map in table.maps() {
                let name = map.name.clone().unwrap_or_default();
                let built = crate::nft::anonymous_vmap_json(map).map_err(|e| e.0).and_then(|json| {
                    let mut sets = Vec::new();
                    let mut b = low::Builder::new(&mut sets, &mut next_id, table.family);
                    b.named_map(&name, &json).map_err(|Unsupported(fragment)| fragment)
                });
                match built {
                    Ok(set) => maps.push(set),
                    Err(fragment) => {
                        // said at the first rule that names the map
                        let user = table.chains.iter().find_map(|c| {
                            c.rules.iter().find(|r| r.vmap.as_ref().is_some_and(|v| v.name == map.name)).map(|r| (c, r))
                        });
                        refusals.push(Refusal {
                            origin: user.and_then(|(_, r)| r.origins.first().copied()),
                            table: format!("{} {}", table.family.as_str(), table.name),
                            chain: user.map_or_else(String::new, |(c, _)| c.name.clone()),
                            fragment,
                        });
                    }
                }
            }
            let mut chains = Vec::new();
            for chain in &table.chains {
                let mut rules = Vec::new();
                for rule in &chain.rules {
                    let refuse = |fragment: String| Refusal {
                        origin: rule.origins.first().copied(),
                        table: format!("{} {}", table.family.as_str(), table.name),
                        chain: chain.name.clone(),
                        fragment,
                    };
                    let json = match rule_exprs(rule) {
                        Ok(j) => j,
                        Err(e) => {
                            refusals.push(refuse(e.0));
                            continue;
                        }
                    };
                    let mut sets = Vec::new();
                    let mut b = low::Builder::new(&mut sets, &mut next_id, table.family);
                    if let Err(Unsupported(fragment)) = json.iter().try_for_each(|j| b.statement(j)) {
                        refusals.push(refuse(fragment));
                        continue;
                    }
                    let exprs = b.out;
                    rules.push(PlanRule {
                        exprs,
                        sets,
                        comment: rule.comment.clone(),
                        origin: rule.origins.first().copied(),
                    });
                }
                chains.push(PlanChain { name: chain.name.clone(), base: chain.base, rules });
            }
            tables.push(PlanTable { family: table.family, name: table.name.clone(), chains, maps });
        }
        if refusals.is_empty() { Ok(Plan { tables }) } else { Err(refusals) }
    }

    /// The tables the batch replaces.
    pub fn tables(&self) -> Vec<TableId> {
        self.tables.iter().map(|t| TableId { family: family(t.family) as u8, name: t.name.clone() }).collect()
    }

    /// What the batch would hold, without building it.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        let mut count = |kind: &'static str, n: usize| *s.messages.entry(kind).or_default() += n;
        for t in &self.tables {
            count("add table", 2);
            count("delete table", 1);
            count("add chain", t.chains.len());
            count("add set", t.maps.len());
            count("add set elements", t.maps.iter().map(|s| s.elements.len().div_ceil(ELEMENTS_PER_MESSAGE)).sum());
            for c in &t.chains {
                count("add rule", c.rules.len());
                for r in &c.rules {
                    count("add set", r.sets.len());
                    count(
                        "add set elements",
                        r.sets.iter().map(|s| s.elements.len().div_ceil(ELEMENTS_PER_MESSAGE)).sum(),
                    );
                }
            }
        }
        s.tables = self.tables.iter().map(|t| format!("{} {}", t.family.as_str(), t.name)).collect();
        s
    }

    /// Writes the batch. Returns it with, per sequence number, the rule's origin (for mapping
    /// the kernel's errors back), and the first and last sequence numbers.
    fn batch(&self, fault: Option<Fault>) -> (Batch, BTreeMap<u32, Option<Origin>>, u32) {
        let mut batch = Batch::new();
        // `Batch` numbers the batch begin 1 when the kernel acks batch ends (6.10 and later),
        // 0 otherwise, and each message after it with the next number
        let mut seq = first_seq();
        let mut seqs = BTreeMap::new();
        let mut add = |batch: &mut Batch, msg: &dyn Fn(&mut Batch), origin: Option<Origin>| {
            msg(batch);
            seqs.insert(seq, origin);
            seq += 1;
        };
        let mut injected = false;
        for t in &self.tables {
            let name = cstr(&t.name);
            let table = Table::new(&name, family(t.family));
            add(&mut batch, &|b| b.add(&sys::NoAck(&table), MsgType::Add), None);
            add(&mut batch, &|b| b.add(&sys::NoAck(&table), MsgType::Del), None);
            add(&mut batch, &|b| b.add(&sys::NoAck(&table), MsgType::Add), None);
            let chains: Vec<Chain> = t
                .chains
                .iter()
                .map(|c| {
                    let mut chain = Chain::new(cstr(&c.name), &table);
                    if let Some(base) = &c.base {
                        chain.set_hook(hook(base.hook), base.priority);
                        chain.set_type(match base.kind {
                            "nat" => ChainType::Nat,
                            "route" => ChainType::Route,
                            _ => ChainType::Filter,
                        });
                        chain.set_policy(match base.policy {
                            Policy::Accept => NftPolicy::Accept,
                            Policy::Drop => NftPolicy::Drop,
                        });
                    }
                    chain
                })
                .collect();
            for chain in &chains {
                add(&mut batch, &|b| b.add(&sys::NoAck(chain), MsgType::Add), None);
            }
            let fam = family(t.family) as u16;
            for msg in t.maps.iter().flat_map(|set| set_messages(set, fam, &t.name)) {
                add(&mut batch, &|b| b.add(&msg, MsgType::Add), None);
            }
            for (c, chain) in t.chains.iter().zip(&chains) {
                for r in &c.rules {
                    for msg in r.sets.iter().flat_map(|set| set_messages(set, fam, &t.name)) {
                        add(&mut batch, &|b| b.add(&msg, MsgType::Add), r.origin);
                    }
                    let mut rule = Rule::new(chain);
                    for e in &r.exprs {
                        rule.add_expr(e);
                    }
                    if fault == Some(Fault::BadJump) && !injected && r.origin.is_some() {
                        injected = true;
                        rule.add_expr(&low::jump_to("ipt-no-such-chain"));
                    }
                    if let Some(comment) = &r.comment {
                        // comments are at most 128 bytes (translate shortens them)
                        let _ = sys::set_comment(&mut rule, comment);
                    }
                    add(&mut batch, &|b| b.add(&sys::NoAck(&rule), MsgType::Add), r.origin);
                }
            }
        }
        let end = first_seq() + seqs.len() as u32;
        (batch, seqs, end)
    }
}

/// A set's messages: the set, then its elements, [`ELEMENTS_PER_MESSAGE`] at a time.
fn set_messages<'s>(set: &'s low::SetSpec, family: u16, table: &'s str) -> impl Iterator<Item = sys::SetMsg<'s>> {
    let len = set.elements.len();
    let parts =
        (0..len).step_by(ELEMENTS_PER_MESSAGE).map(move |start| Some(start..(start + ELEMENTS_PER_MESSAGE).min(len)));
    std::iter::once(None).chain(parts).map(move |elements| sys::SetMsg { spec: set, family, table, elements })
}

/// The sequence number of the first message after the batch begin.
fn first_seq() -> u32 {
    if send::kernel_acks_batch_end() { 2 } else { 1 }
}

/// A fault `ipt apply` can be told to put in its batch, to test that the kernel's refusal is
/// mapped back and nothing changes (environment `IPT_APPLY_FAULT=bad-jump`: the first rule also
/// jumps to a chain that does not exist).
///
/// `IPT_APPLY_FAULT=race`: with `--confirm`, ipt itself commits a table `ip ipt-race` between
/// reading the ruleset and its first apply, to prove that the generation check refuses an apply
/// whose rollback would not be the state it replaced (and that ipt then reads it again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    BadJump,
    Race,
}

impl Fault {
    pub fn from_env() -> Option<Fault> {
        match std::env::var("IPT_APPLY_FAULT").as_deref() {
            Ok("bad-jump") => Some(Fault::BadJump),
            Ok("race") => Some(Fault::Race),
            _ => None,
        }
    }
}

/// Sends the plan as one transaction. `check`: the kernel validates every message and aborts
/// (no batch end, as `nft -c`), changing nothing. `generation`: only if the ruleset is still at
/// that generation (the one a [`Snapshot`] was read at), else [`SendError::Raced`].
pub fn apply(plan: &Plan, check: bool, fault: Option<Fault>, generation: Option<u32>) -> Result<Outcome, SendError> {
    let (batch, seqs, end_seq) = plan.batch(fault);
    send::send(batch, &seqs, end_seq, check, generation)
}

/// The one transaction that puts ipt's tables back as `snapshot` read them: the tables
/// `applied` are deleted and the snapshot's re-created.
pub fn rollback_batch(snapshot: &Snapshot, applied: &[TableId]) -> Vec<u8> {
    snapshot.rollback(applied, first_seq() - 1).0
}

/// Sends a batch from [`rollback_batch`]. The operator may be locked out: a rollback that fails
/// (a full socket buffer, memory) is tried twice more, a second apart, before giving up.
pub fn send_rollback(batch: &[u8]) -> Result<Outcome, SendError> {
    let end_seq = snapshot::last_seq(batch);
    let mut result = send::send_bytes(batch, end_seq);
    for _ in 0..2 {
        if result.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        result = send::send_bytes(batch, end_seq);
    }
    result
}

/// [`rollback_batch`], sent by [`send_rollback`].
pub fn roll_back(snapshot: &Snapshot, applied: &[TableId]) -> Result<Outcome, SendError> {
    send_rollback(&rollback_batch(snapshot, applied))
}

/// [`Fault::Race`]: commits an empty table `ip ipt-race`, which moves the ruleset's generation.
pub fn commit_race_table() -> Result<Outcome, SendError> {
    let race = TableId { family: libc::NFPROTO_IPV4 as u8, name: "ipt-race".into() };
    roll_back(&Snapshot::empty_table(race), &[])
}

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn family(f: NftFamily) -> ProtoFamily {
    match f {
        NftFamily::Ip => ProtoFamily::Ipv4,
        NftFamily::Ip6 => ProtoFamily::Ipv6,
        NftFamily::Inet => ProtoFamily::Inet,
    }
}

fn hook(name: &str) -> Hook {
    match name {
        "prerouting" => Hook::PreRouting,
        "input" => Hook::In,
        "forward" => Hook::Forward,
        "output" => Hook::Out,
        _ => Hook::PostRouting,
    }
}
