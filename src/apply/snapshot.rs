//! `ipt apply --confirm`'s rollback: what ipt's tables hold in the kernel before an apply, read
//! back over netlink, and the one batch that puts exactly that back.
//!
//! The kernel's dump of an object is, attribute for attribute, the message that creates it, less
//! a few attributes only the kernel sets (handles, use counts, a rule's position, an element's
//! time left, a set's backend and size). So the snapshot keeps each dumped message's attributes
//! as the kernel wrote them (expressions, set elements and counters included: nothing is
//! re-encoded by ipt) and drops only those; an attribute in neither list, which a newer kernel
//! may add, makes it refuse rather than guess (see [`role`]). A new set also gets the batch-local
//! ID the kernel requires. The rollback batch deletes the tables the apply wrote and re-creates the
//! snapshot's in dependency order: tables, chains, stateful objects, flowtables, sets, their
//! elements, then rules (appended, in the order they were listed).
//!
//! The dump is consistent: it is read between two reads of the ruleset's generation, and taken
//! again if the generation moved or the kernel flagged a dump as interrupted. The apply then
//! carries that generation, so the kernel refuses it (`ERESTART`) if anything committed in
//! between: the snapshot is the state the apply replaced, not an approximation of it.

use std::io;
use std::os::fd::AsRawFd;

use super::sys;

/// One of ipt's tables: its netfilter family (`NFPROTO_*`) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableId {
    pub family: u8,
    pub name: String,
}

/// A message that re-creates one object: its `NFT_MSG_NEW*` type, family, flags and attributes.
#[derive(Clone, Debug)]
struct Message {
    kind: u16,
    family: u8,
    flags: u16,
    attrs: Vec<u8>,
}

/// ipt's tables as they were, and the generation they were read at.
#[derive(Debug)]
pub struct Snapshot {
    pub generation: u32,
    /// The tables asked for that existed (the others did not: the rollback deletes them).
    pub existing: Vec<TableId>,
    messages: Vec<Message>,
}

/// Reads of the whole dump before giving up when the ruleset keeps changing under it.
const ATTEMPTS: usize = 5;

// <linux/netfilter/nf_tables.h>
const NEWTABLE: u16 = 0;
const GETTABLE: u16 = 1;
const DELTABLE: u16 = 2;
const NEWCHAIN: u16 = 3;
const GETCHAIN: u16 = 4;
const NEWRULE: u16 = 6;
const GETRULE: u16 = 7;
const NEWSET: u16 = 9;
const GETSET: u16 = 10;
const NEWSETELEM: u16 = 12;
const GETSETELEM: u16 = 13;
const NEWGEN: u16 = 15;
const GETGEN: u16 = 16;
const NEWOBJ: u16 = 18;
const GETOBJ: u16 = 19;
const NEWFLOWTABLE: u16 = 22;
const GETFLOWTABLE: u16 = 23;

const NFPROTO_UNSPEC: u8 = 0;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLM_F_DUMP_INTR: u16 = 0x10;

/// The attribute each object kind names its table with (`NFTA_*_TABLE`, always 1), and its name
/// (`NFTA_TABLE_NAME`, `NFTA_SET_NAME`: 1 and 2).
const ATTR_TABLE: u16 = 1;
const TABLE_NAME: u16 = 1;
const TABLE_FLAGS: u16 = 2;
const SET_NAME: u16 = 2;
const SET_ID: u16 = 10;
const GEN_ID: u16 = 1;
const SET_ELEM_LIST_ELEMENTS: u16 = 3;
/// `NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST`.
const TABLE_OWNER_FLAGS: u32 = 0x2 | 0x4;

/// What a dumped attribute is to the message that re-creates its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Part of the object: kept as the kernel wrote it.
    Kept,
    /// Set by the kernel (handles, use counts, positions, padding, what a dump adds to describe
    /// an object): dropped.
    KernelOnly,
}

/// An attribute's role in each `NEW*` message kind, after <linux/netfilter/nf_tables.h> (Linux
/// 6.18). An attribute in neither list is one ipt does not know: it refuses to promise a
/// rollback rather than drop what could be part of the object.
fn role(kind: u16, attr: u16) -> Option<Role> {
    let (kept, kernel_only): (&[u16], &[u16]) = match kind {
        // NAME, FLAGS, USERDATA | USE, HANDLE, PAD, OWNER
        NEWTABLE => (&[1, 2, 6], &[3, 4, 5, 7]),
        // TABLE, NAME, HOOK, POLICY, TYPE, COUNTERS, FLAGS, USERDATA | HANDLE, USE, PAD, ID
        NEWCHAIN => (&[1, 3, 4, 5, 7, 8, 10, 12], &[2, 6, 9, 11]),
        // TABLE, CHAIN, EXPRESSIONS, COMPAT, USERDATA | HANDLE, POSITION, PAD, ID, POSITION_ID, CHAIN_ID
        NEWRULE => (&[1, 2, 4, 5, 7], &[3, 6, 8, 9, 10, 11]),
        // TABLE, NAME, FLAGS, KEY_TYPE, KEY_LEN, DATA_TYPE, DATA_LEN, POLICY, DESC, TIMEOUT,
        // GC_INTERVAL, USERDATA, OBJ_TYPE, EXPR, EXPRESSIONS | ID, PAD, HANDLE, TYPE, COUNT
        NEWSET => (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 17, 18], &[10, 14, 16, 19, 20]),
        // TABLE, SET, ELEMENTS | SET_ID
        NEWSETELEM => (&[1, 2, 3], &[4]),
        // TABLE, NAME, TYPE, DATA, USERDATA | USE, HANDLE, PAD
        NEWOBJ => (&[1, 2, 3, 4, 8], &[5, 6, 7]),
        // TABLE, NAME, HOOK, FLAGS | USE, HANDLE, PAD
        NEWFLOWTABLE => (&[1, 2, 3, 7], &[4, 5, 6]),
        // a set element: KEY, DATA, FLAGS, TIMEOUT, USERDATA, EXPR, OBJREF, KEY_END, EXPRESSIONS
        // | EXPIRATION (the time left: the element restarts from its timeout), PAD
        ELEMENT => (&[1, 2, 3, 4, 6, 7, 9, 10, 11], &[5, 8]),
        _ => (&[], &[]),
    };
    if kept.contains(&attr) {
        Some(Role::Kept)
    } else if kernel_only.contains(&attr) {
        Some(Role::KernelOnly)
    } else {
        None
    }
}

/// Not a message type: [`role`]'s key for a set element's attributes.
const ELEMENT: u16 = 0x100;

impl Snapshot {
    /// Reads `tables` (those of them that exist) from the kernel.
    pub fn take(tables: &[TableId]) -> io::Result<Snapshot> {
        let socket = Socket::open()?;
        for _ in 0..ATTEMPTS {
            let before = socket.generation()?;
            let Some((existing, messages)) = socket.read_tables(tables)? else { continue };
            if socket.generation()? == before {
                return Ok(Snapshot { generation: before, existing, messages });
            }
        }
        Err(io::Error::other(format!("the ruleset kept changing while ipt read it ({ATTEMPTS} tries)")))
    }

    /// A snapshot of one empty table (what a rollback to it creates).
    pub fn empty_table(table: TableId) -> Snapshot {
        let mut attrs = Vec::new();
        attr_str(&mut attrs, TABLE_NAME, &table.name);
        let message = Message { kind: NEWTABLE, family: table.family, flags: libc::NLM_F_CREATE as u16, attrs };
        Snapshot { generation: 0, existing: vec![table], messages: vec![message] }
    }

    /// Messages in the rollback (after the batch begin, before the batch end).
    pub fn rollback_len(&self, applied: &[TableId]) -> usize {
        2 * self.deleted(applied).len() + self.messages.len()
    }

    /// Every table the rollback deletes: those the apply wrote, and those the snapshot holds.
    fn deleted(&self, applied: &[TableId]) -> Vec<TableId> {
        let mut out: Vec<TableId> = applied.to_vec();
        for t in &self.existing {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    /// The rollback batch, begin to end, numbered from `seq` (the begin); the end asks for an ack.
    /// Returns the bytes and the end's sequence number.
    pub fn rollback(&self, applied: &[TableId], seq: u32) -> (Vec<u8>, u32) {
        let mut out = Vec::new();
        let mut seq = seq;
        let mut push = |out: &mut Vec<u8>, kind: u16, family: u8, flags: u16, attrs: &[u8], batch: bool| {
            let kind = if batch { kind } else { nft(kind) };
            let res_id = if batch { libc::NFNL_SUBSYS_NFTABLES as u16 } else { 0 };
            write_message(out, kind, flags, seq, family, res_id, attrs);
            seq += 1;
        };
        let request = libc::NLM_F_REQUEST as u16;
        let ack = request | libc::NLM_F_ACK as u16;
        // since Linux 6.10 the kernel acks a committed batch's end when the begin asks for acks
        push(&mut out, libc::NFNL_MSG_BATCH_BEGIN as u16, NFPROTO_UNSPEC, ack, &[], true);
        for t in self.deleted(applied) {
            let mut name = Vec::new();
            attr_str(&mut name, TABLE_NAME, &t.name);
            push(&mut out, NEWTABLE, t.family, request | libc::NLM_F_CREATE as u16, &name, false);
            push(&mut out, DELTABLE, t.family, request, &name, false);
        }
        for m in &self.messages {
            push(&mut out, m.kind, m.family, request | m.flags, &m.attrs, false);
        }
        push(&mut out, libc::NFNL_MSG_BATCH_END as u16, NFPROTO_UNSPEC, ack, &[], true);
        let end = messages(&out).last().map_or(seq, |m| m.seq);
        (out, end)
    }
}

/// The sequence number of a batch's last message (its end).
pub(super) fn last_seq(batch: &[u8]) -> u32 {
    messages(batch).last().map_or(0, |m| m.seq)
}

/// A message type of the nf_tables subsystem.
fn nft(kind: u16) -> u16 {
    ((libc::NFNL_SUBSYS_NFTABLES as u16) << 8) | kind
}

/// A netlink socket for dumps, with blocking reads.
struct Socket {
    socket: mnl::Socket,
    seq: std::cell::Cell<u32>,
}

impl Socket {
    fn open() -> io::Result<Socket> {
        Ok(Socket { socket: mnl::Socket::new(mnl::Bus::Netfilter)?, seq: std::cell::Cell::new(1) })
    }

    /// Sends one request and collects the answers' nf_tables messages (type, family, flags,
    /// attributes) until the dump ends or the single answer came; `None` if the kernel says the
    /// dump was interrupted by a change.
    fn ask(&self, kind: u16, family: u8, dump: bool, attrs: &[u8]) -> io::Result<Option<Vec<Message>>> {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let mut flags = libc::NLM_F_REQUEST as u16 | libc::NLM_F_ACK as u16;
        if dump {
            flags |= libc::NLM_F_DUMP as u16;
        }
        let mut request = Vec::new();
        write_message(&mut request, nft(kind), flags, seq, family, 0, attrs);
        let fd = self.socket.as_raw_fd();
        sys::send_bytes(fd, &request)?;
        let mut answers = Vec::new();
        let mut interrupted = false;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = sys::recv_wait(fd, &mut buf)?;
            for m in messages(&buf[..n]) {
                if m.seq != seq {
                    continue;
                }
                interrupted |= m.flags & NLM_F_DUMP_INTR != 0;
                match m.kind {
                    t if t == libc::NLMSG_DONE as u16 => return Ok((!interrupted).then_some(answers)),
                    t if t == libc::NLMSG_ERROR as u16 => {
                        let errno = m.body.get(..4).map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        if errno != 0 {
                            return Err(io::Error::from_raw_os_error(-errno));
                        }
                        // the ack of a request that is not a dump: its answer came before it
                        if !dump {
                            return Ok(Some(answers));
                        }
                    }
                    _ => {
                        let Some((family, attrs)) = m.body.split_first_chunk::<4>() else { continue };
                        answers.push(Message {
                            kind: m.kind & 0xff,
                            family: family[0],
                            flags: 0,
                            attrs: attrs.to_vec(),
                        });
                    }
                }
            }
        }
    }

    /// The ruleset's generation (`NFT_MSG_GETGEN`).
    fn generation(&self) -> io::Result<u32> {
        let answers = self.ask(GETGEN, NFPROTO_UNSPEC, false, &[])?.unwrap_or_default();
        answers
            .iter()
            .filter(|m| m.kind == NEWGEN)
            .find_map(|m| attrs(&m.attrs).find(|a| a.kind == GEN_ID).and_then(|a| a.u32()))
            .ok_or_else(|| io::Error::other("the kernel gave no ruleset generation"))
    }

    /// The messages that re-create `wanted` (those that exist), in dependency order; `None` if a
    /// dump was interrupted.
    fn read_tables(&self, wanted: &[TableId]) -> io::Result<Option<(Vec<TableId>, Vec<Message>)>> {
        let Some(tables) = self.ask(GETTABLE, NFPROTO_UNSPEC, true, &[])? else { return Ok(None) };
        let mut existing = Vec::new();
        let mut out = Vec::new();
        for table in tables {
            let id = TableId { family: table.family, name: attr_string(&table.attrs, TABLE_NAME) };
            if wanted.contains(&id) {
                existing.push(id);
                out.push(table);
            }
        }
        let mut chains = Vec::new();
        let mut rest = Vec::new();
        let mut rules = Vec::new();
        for t in &existing {
            let mut filter = Vec::new();
            attr_str(&mut filter, ATTR_TABLE, &t.name);
            // chains are dumped for the whole family (the kernel has no table filter for them)
            let Some(c) = self.ask(GETCHAIN, t.family, true, &[])? else { return Ok(None) };
            chains.extend(c.into_iter().filter(|m| attr_string(&m.attrs, ATTR_TABLE) == t.name));
            for kind in [GETOBJ, GETFLOWTABLE] {
                let Some(objects) = self.ask(kind, t.family, true, &filter)? else { return Ok(None) };
                rest.extend(objects);
            }
            let Some(sets) = self.ask(GETSET, t.family, true, &filter)? else { return Ok(None) };
            for set in sets {
                let mut which = filter.clone();
                attr_str(&mut which, 2, &attr_string(&set.attrs, SET_NAME));
                let Some(elements) = self.ask(GETSETELEM, t.family, true, &which)? else { return Ok(None) };
                rest.push(set);
                rest.extend(elements.into_iter().filter(|m| attrs(&m.attrs).any(|a| a.kind == SET_ELEM_LIST_ELEMENTS)));
            }
            let Some(r) = self.ask(GETRULE, t.family, true, &filter)? else { return Ok(None) };
            rules.extend(r);
        }
        // every chain before any rule or verdict map element can name it
        out.extend(chains.into_iter().chain(rest).chain(rules));
        let mut out = out.into_iter().map(recreate).collect::<Result<Vec<_>, _>>().map_err(io::Error::other)?;
        // the kernel requires an ID on a new set (batch-local, for references by ID; ipt's
        // re-created rules and elements name their sets)
        for (id, set) in out.iter_mut().filter(|m| m.kind == NEWSET).enumerate() {
            attr_u32(&mut set.attrs, SET_ID, id as u32 + 1);
        }
        Ok(Some((existing, out)))
    }
}

/// The message that re-creates a dumped object, or the attribute ipt does not know.
fn recreate(m: Message) -> Result<Message, Unknown> {
    let kind = m.kind;
    let mut attrs = Vec::new();
    for a in self::attrs(&m.attrs) {
        match role(kind, a.kind) {
            Some(Role::KernelOnly) => {}
            None => return Err(Unknown { kind, attr: a.kind }),
            Some(Role::Kept) => match (kind, a.kind, a.u32()) {
                // a table owned by another process's socket would, re-created by ipt's, vanish
                // when ipt exits
                (NEWTABLE, TABLE_FLAGS, Some(flags)) => attr_u32(&mut attrs, TABLE_FLAGS, flags & !TABLE_OWNER_FLAGS),
                (NEWSETELEM, SET_ELEM_LIST_ELEMENTS, _) => {
                    let mut list = Vec::new();
                    for element in self::attrs(a.payload) {
                        let mut fields = Vec::new();
                        for field in self::attrs(element.payload) {
                            match role(ELEMENT, field.kind) {
                                Some(Role::Kept) => fields.extend_from_slice(field.whole),
                                Some(Role::KernelOnly) => {}
                                None => return Err(Unknown { kind: ELEMENT, attr: field.kind }),
                            }
                        }
                        nested(&mut list, element.raw_kind, &fields);
                    }
                    nested(&mut attrs, a.raw_kind, &list);
                }
                _ => attrs.extend_from_slice(a.whole),
            },
        }
    }
    let flags = match kind {
        NEWRULE => libc::NLM_F_CREATE | libc::NLM_F_APPEND,
        NEWSETELEM => libc::NLM_F_CREATE | libc::NLM_F_EXCL,
        _ => libc::NLM_F_CREATE,
    } as u16;
    Ok(Message { attrs, flags, ..m })
}

/// An attribute the kernel listed that ipt does not know.
#[derive(Debug)]
struct Unknown {
    kind: u16,
    attr: u16,
}

impl std::error::Error for Unknown {}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let object = match self.kind {
            NEWTABLE => "table",
            NEWCHAIN => "chain",
            NEWRULE => "rule",
            NEWSET => "set",
            NEWSETELEM => "set element list",
            NEWOBJ => "stateful object",
            NEWFLOWTABLE => "flowtable",
            _ => "set element",
        };
        write!(
            f,
            "the kernel lists a {object} attribute ipt does not know (type {}), so it cannot promise to put it back",
            self.attr
        )
    }
}

/// One netlink message of a receive buffer.
struct Received<'a> {
    kind: u16,
    flags: u16,
    seq: u32,
    body: &'a [u8],
}

fn messages(mut buf: &[u8]) -> Vec<Received<'_>> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        out.push(Received {
            kind: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]),
            body: &buf[16..len],
        });
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    out
}

/// One attribute: its type (without the nested and byte-order flags) and bytes.
struct Attribute<'a> {
    kind: u16,
    raw_kind: u16,
    payload: &'a [u8],
    /// Header, payload and padding, as received.
    whole: &'a [u8],
}

impl Attribute<'_> {
    fn u32(&self) -> Option<u32> {
        Some(u32::from_be_bytes(*self.payload.first_chunk::<4>()?))
    }
}

fn attrs(mut buf: &[u8]) -> impl Iterator<Item = Attribute<'_>> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let raw_kind = u16::from_ne_bytes([buf[2], buf[3]]);
        if len < 4 || len > buf.len() {
            return None;
        }
        let padded = len.next_multiple_of(4).min(buf.len());
        let a = Attribute { kind: raw_kind & NLA_TYPE_MASK, raw_kind, payload: &buf[4..len], whole: &buf[..padded] };
        buf = &buf[padded..];
        Some(a)
    })
}

/// A string attribute's value (without its NUL), or "" when absent.
fn attr_string(buf: &[u8], kind: u16) -> String {
    attrs(buf)
        .find(|a| a.kind == kind)
        .map(|a| String::from_utf8_lossy(a.payload.split(|b| *b == 0).next().unwrap_or_default()).into_owned())
        .unwrap_or_default()
}

fn nested(out: &mut Vec<u8>, raw_kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&raw_kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn attr_str(out: &mut Vec<u8>, kind: u16, value: &str) {
    let mut bytes = value.as_bytes().to_vec();
    bytes.push(0);
    nested(out, kind, &bytes);
}

fn attr_u32(out: &mut Vec<u8>, kind: u16, value: u32) {
    nested(out, kind, &value.to_be_bytes());
}

/// Appends a netlink message with an `nfgenmsg` header (version 0).
fn write_message(out: &mut Vec<u8>, kind: u16, flags: u16, seq: u32, family: u8, res_id: u16, attrs: &[u8]) {
    let len = 16 + 4 + attrs.len();
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&[family, 0]);
    out.extend_from_slice(&res_id.to_be_bytes());
    out.extend_from_slice(attrs);
    out.resize(out.len().next_multiple_of(4), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, attrs: Vec<u8>) -> Message {
        Message { kind, family: 2, flags: 0, attrs }
    }

    #[test]
    fn a_rule_loses_its_handle_and_position_and_keeps_the_rest_byte_for_byte() {
        let mut dumped = Vec::new();
        attr_str(&mut dumped, 1, "ipt-filter");
        attr_str(&mut dumped, 2, "INPUT");
        nested(&mut dumped, 3, &7u64.to_be_bytes());
        nested(&mut dumped, 4 | 0x8000, &[1, 2, 3, 4, 5, 6, 7, 8]);
        nested(&mut dumped, 6, &6u64.to_be_bytes());
        attr_str(&mut dumped, 7, "udata");
        let fixed = recreate(message(NEWRULE, dumped)).expect("known attributes");
        let kinds: Vec<u16> = attrs(&fixed.attrs).map(|a| a.raw_kind).collect();
        assert_eq!(kinds, [1, 2, 4 | 0x8000, 7]);
        assert_eq!(attrs(&fixed.attrs).nth(2).map(|a| a.payload.to_vec()), Some(vec![1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(fixed.flags, (libc::NLM_F_CREATE | libc::NLM_F_APPEND) as u16);
    }

    #[test]
    fn a_table_keeps_dormant_and_drops_ownership() {
        let mut dumped = Vec::new();
        attr_str(&mut dumped, TABLE_NAME, "ipt-nat");
        attr_u32(&mut dumped, TABLE_FLAGS, 0x1 | 0x2 | 0x4);
        attr_u32(&mut dumped, 3, 5); // use
        attr_u32(&mut dumped, 7, 1234); // owner
        let fixed = recreate(message(NEWTABLE, dumped)).expect("known attributes");
        let kept: Vec<(u16, Option<u32>)> = attrs(&fixed.attrs).map(|a| (a.kind, a.u32())).collect();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[1], (TABLE_FLAGS, Some(0x1)));
        assert_eq!(attr_string(&fixed.attrs, TABLE_NAME), "ipt-nat");
    }

    #[test]
    fn an_element_loses_its_expiration_and_keeps_its_key_and_verdict() {
        let mut element = Vec::new();
        nested(&mut element, 1 | 0x8000, &[0, 0, 0, 80]);
        nested(&mut element, 5, &1000u64.to_be_bytes()); // expiration
        nested(&mut element, 2 | 0x8000, &[9, 9, 9, 9]);
        let mut list = Vec::new();
        nested(&mut list, 1 | 0x8000, &element);
        let mut dumped = Vec::new();
        attr_str(&mut dumped, 1, "ipt-filter");
        attr_str(&mut dumped, 2, "__set0");
        nested(&mut dumped, SET_ELEM_LIST_ELEMENTS | 0x8000, &list);
        let fixed = recreate(message(NEWSETELEM, dumped)).expect("known attributes");
        let elements = attrs(&fixed.attrs).find(|a| a.kind == SET_ELEM_LIST_ELEMENTS).expect("elements");
        let first = attrs(elements.payload).next().expect("one element");
        let fields: Vec<(u16, Vec<u8>)> = attrs(first.payload).map(|f| (f.kind, f.payload.to_vec())).collect();
        assert_eq!(fields, [(1, vec![0, 0, 0, 80]), (2, vec![9, 9, 9, 9])]);
    }

    #[test]
    fn an_attribute_ipt_does_not_know_refuses_the_snapshot_and_the_kernels_own_are_dropped() {
        let mut dumped = Vec::new();
        attr_str(&mut dumped, 1, "ipt-filter");
        attr_str(&mut dumped, 2, "__set0");
        attr_str(&mut dumped, 19, "hash"); // NFTA_SET_TYPE: what the kernel chose
        attr_u32(&mut dumped, 20, 3); // NFTA_SET_COUNT
        let fixed = recreate(message(NEWSET, dumped.clone())).expect("known attributes");
        assert_eq!(attrs(&fixed.attrs).map(|a| a.kind).collect::<Vec<_>>(), [1, 2]);
        attr_u32(&mut dumped, 21, 1);
        let unknown = recreate(message(NEWSET, dumped)).expect_err("an unknown attribute");
        assert_eq!(
            unknown.to_string(),
            "the kernel lists a set attribute ipt does not know (type 21), so it cannot promise to put it back"
        );
    }

    #[test]
    fn the_rollback_deletes_the_applied_tables_then_re_creates_the_old_ones() {
        let mut attrs_t = Vec::new();
        attr_str(&mut attrs_t, TABLE_NAME, "ipt-filter");
        let snapshot = Snapshot {
            generation: 3,
            existing: vec![TableId { family: 2, name: "ipt-filter".into() }],
            messages: vec![Message { kind: NEWTABLE, family: 2, flags: libc::NLM_F_CREATE as u16, attrs: attrs_t }],
        };
        let applied = [TableId { family: 2, name: "ipt-filter".into() }, TableId { family: 2, name: "ipt-nat".into() }];
        let (bytes, end) = snapshot.rollback(&applied, 10);
        let got: Vec<(u16, u32, String)> = messages(&bytes)
            .iter()
            .map(|m| (m.kind, m.seq, attr_string(m.body.get(4..).unwrap_or_default(), TABLE_NAME)))
            .collect();
        let t = |kind| nft(kind);
        let (begin, batch_end) = (libc::NFNL_MSG_BATCH_BEGIN as u16, libc::NFNL_MSG_BATCH_END as u16);
        assert_eq!(
            got,
            [
                (begin, 10, String::new()),
                (t(NEWTABLE), 11, "ipt-filter".into()),
                (t(DELTABLE), 12, "ipt-filter".into()),
                (t(NEWTABLE), 13, "ipt-nat".into()),
                (t(DELTABLE), 14, "ipt-nat".into()),
                (t(NEWTABLE), 15, "ipt-filter".into()),
                (batch_end, 16, String::new()),
            ]
        );
        assert_eq!(end, 16);
        assert_eq!(snapshot.rollback_len(&applied), 5);
    }
}
