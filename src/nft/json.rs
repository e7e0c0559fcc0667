//! The script in libnftables' JSON (`nft -j -f`, libnftables-json(5)), command for command the
//! same as [`Script::text`]: each table is added, deleted and added again with its chains and
//! rules, so that loading it replaces exactly ipt's tables, atomically.
//!
//! The typed parts of the IR (tests of a key against a value or a set, concatenations, verdict
//! maps, verdicts) map directly. The rest is nft text that `lower` writes from a closed set of
//! templates; each template shape is read back here by one function, from the fragment's words.
//! A fragment no function knows is an [`UnknownFragment`]: an internal error (a template added to
//! `lower` without its JSON form), never a guess.

use std::net::IpAddr;

use serde_json::{Map, Value as Json, json};

use super::ir::{Chain, Expr, Key, Rule, Script, Table, Value, Verdict, Vmap};
use crate::model::Policy;

/// An nft text fragment with no JSON form here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("internal error: ipt has no JSON form for the nft fragment `{0}`; please report it")]
pub struct UnknownFragment(pub String);

type Json1 = Result<Json, UnknownFragment>;

impl Script {
    /// The whole script as one libnftables JSON document.
    pub fn json(&self) -> Result<Json, UnknownFragment> {
        let mut commands = vec![json!({"metainfo": {"json_schema_version": 1}})];
        for table in &self.tables {
            let id = json!({"family": table.family.as_str(), "name": table.name});
            commands.push(json!({"add": {"table": id}}));
            commands.push(json!({"delete": {"table": id}}));
            commands.push(json!({"add": {"table": id}}));
            // every chain first, then the rules: a jump's target exists whatever the order
            for chain in &table.chains {
                commands.push(json!({"add": {"chain": chain_json(table, chain)}}));
            }
            // then the named maps (their elements jump to chains), then the rules that name them
            for map in table.maps() {
                commands.push(json!({"add": {"map": map_json(table, map)}}));
            }
            for chain in &table.chains {
                for rule in &chain.rules {
                    commands.push(json!({"add": {"rule": rule_json(table, chain, rule)?}}));
                }
            }
        }
        Ok(json!({ "nftables": commands }))
    }

    /// [`Script::json`] as text: one command a line, so that it reads and diffs like the script.
    pub fn json_text(&self) -> Result<String, UnknownFragment> {
        let doc = self.json()?;
        let commands = doc["nftables"].as_array().map(Vec::as_slice).unwrap_or_default();
        let mut out = String::from("{\"nftables\": [\n");
        for (i, command) in commands.iter().enumerate() {
            out.push_str(&command.to_string());
            out.push_str(if i + 1 < commands.len() { ",\n" } else { "\n" });
        }
        out.push_str("]}\n");
        Ok(out)
    }
}

fn chain_json(table: &Table, chain: &Chain) -> Json {
    let mut out = json!({"family": table.family.as_str(), "table": table.name, "name": chain.name});
    if let Some(base) = &chain.base {
        let policy = match base.policy {
            Policy::Accept => "accept",
            Policy::Drop => "drop",
        };
        out["type"] = base.kind.into();
        out["hook"] = base.hook.into();
        out["prio"] = base.priority.into();
        out["policy"] = policy.into();
    }
    out
}

fn rule_json(table: &Table, chain: &Chain, rule: &Rule) -> Json1 {
    let expr = rule_exprs(rule)?;
    let mut out = json!({"family": table.family.as_str(), "table": table.name, "chain": chain.name, "expr": expr});
    if let Some(comment) = &rule.comment {
        out["comment"] = comment.as_str().into();
    }
    Ok(out)
}

/// A rule's statements in libnftables JSON (its `expr` list): what `ipt apply` builds from.
pub fn rule_exprs(rule: &Rule) -> Result<Vec<Json>, UnknownFragment> {
    let mut expr = Vec::new();
    for e in &rule.exprs {
        expr.push(expr_json(e)?);
    }
    for stmt in &rule.stmts {
        expr.push(statement(stmt)?);
    }
    if let Some(vmap) = &rule.vmap {
        expr.push(vmap_json(vmap)?);
    }
    if let Some(verdict) = &rule.verdict {
        expr.push(verdict_json(verdict));
    }
    if expr.is_empty() {
        // as in the text: a rule that only counts
        expr.push(json!({"counter": null}));
    }
    Ok(expr)
}

fn verdict_json(verdict: &Verdict) -> Json {
    match verdict {
        Verdict::Accept => json!({"accept": null}),
        Verdict::Drop => json!({"drop": null}),
        Verdict::Return => json!({"return": null}),
        Verdict::Jump(target) => json!({"jump": {"target": target}}),
        Verdict::Goto(target) => json!({"goto": {"target": target}}),
    }
}

fn vmap_json(vmap: &Vmap) -> Json1 {
    match &vmap.name {
        Some(name) => Ok(json!({"vmap": {"key": keys_json(&vmap.keys)?, "data": format!("@{name}")}})),
        None => anonymous_vmap_json(vmap),
    }
}

/// A verdict map with its elements in place (for a named map, what `ipt apply` builds the map's
/// set from).
pub fn anonymous_vmap_json(vmap: &Vmap) -> Json1 {
    Ok(json!({"vmap": {"key": keys_json(&vmap.keys)?, "data": {"set": elements_json(vmap)}}}))
}

/// A verdict map's elements: `[VALUE, VERDICT]` pairs.
fn elements_json(vmap: &Vmap) -> Vec<Json> {
    vmap.elements.iter().map(|(values, verdict)| json!([element(values), verdict_json(verdict)])).collect()
}

/// A named verdict map of the table.
fn map_json(table: &Table, vmap: &Vmap) -> Json {
    let types = vmap.key_types().unwrap_or_default();
    let kind = if types.len() == 1 { json!(types[0]) } else { json!(types) };
    json!({
        "family": table.family.as_str(),
        "table": table.name,
        "name": vmap.name,
        "type": kind,
        "map": "verdict",
        "elem": elements_json(vmap),
    })
}

/// One key, or several as a concatenation.
fn keys_json(keys: &[Key]) -> Json1 {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(key_json(k)?);
    }
    Ok(if out.len() == 1 { out.remove(0) } else { json!({"concat": out}) })
}

/// The values of one set element: one, or a concatenation; the optimiser writes the comment of
/// the rule an element came from after its last value (`80 comment "web"`).
fn element(values: &[String]) -> Json {
    let mut comment = None;
    let mut json: Vec<Json> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = match v.split_once(" comment \"") {
            Some((v, c)) if i + 1 == values.len() => {
                comment = Some(c.strip_suffix('"').unwrap_or(c));
                v
            }
            _ => v.as_str(),
        };
        json.push(value(v));
    }
    let val = if json.len() == 1 { json.remove(0) } else { json!({ "concat": json }) };
    match comment {
        Some(comment) => json!({"elem": {"val": val, "comment": comment}}),
        None => val,
    }
}

fn key_json(key: &Key) -> Json1 {
    Ok(match key {
        Key::Addr { v6, dst } => payload(if *v6 { "ip6" } else { "ip" }, if *dst { "daddr" } else { "saddr" }),
        Key::L4proto => meta("l4proto"),
        Key::Port { proto, dst } => payload(proto, if *dst { "dport" } else { "sport" }),
        Key::Iifname => meta("iifname"),
        Key::Oifname => meta("oifname"),
        Key::Other(text) => key_words(&words(text)).ok_or_else(|| UnknownFragment(text.clone()))?,
    })
}

fn match_json(op: &str, left: Json, right: Json) -> Json {
    json!({"match": {"op": op, "left": left, "right": right}})
}

fn expr_json(expr: &Expr) -> Json1 {
    match expr {
        Expr::Cmp { key, neg, value: v } => {
            let right = match v {
                Value::One(one) => value(one),
                Value::Set(values) => {
                    json!({"set": values.iter().map(|v| element(std::slice::from_ref(v))).collect::<Vec<_>>()})
                }
            };
            Ok(match_json(implicit_op(key, *neg), key_json(key)?, right))
        }
        Expr::Concat { keys, neg, elements } => {
            let set: Vec<Json> = elements.iter().map(|e| element(e)).collect();
            Ok(match_json(if *neg { "!=" } else { "==" }, keys_json(keys)?, json!({"set": set})))
        }
        Expr::Text(text) => test(text),
        Expr::Effect(text) => effect(text),
    }
}

/// The operator nft reads for a test written without one: a flag test (`in`) for the keys
/// whose type is a bit mask, equality otherwise.
fn implicit_op(key: &Key, neg: bool) -> &'static str {
    if neg {
        return "!=";
    }
    match key {
        Key::Other(text) if BITMASK_KEYS.contains(&text.as_str()) => "in",
        _ => "==",
    }
}

/// Keys whose nft type is a bit mask: `KEY a,b` tests for any of those bits.
const BITMASK_KEYS: [&str; 3] = ["ct state", "ct status", "tcp flags"];

/// A fragment's words; a quoted string is one word, quotes kept.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find('"').map_or(rest.len(), |i| i + 2)
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    out
}

fn unknown<T>(text: &str) -> Result<T, UnknownFragment> {
    Err(UnknownFragment(text.to_string()))
}

const COMPARE: [&str; 6] = ["==", "!=", "<", ">", "<=", ">="];

/// A pure test written as text by `lower`:
/// `KEY & MASK OP VALUE` (`ip frag-off & 0x1fff != 0`, `meta mark & 0x000000ff == 0x1`,
/// `ip saddr & 255.0.255.0 == 10.0.1.0`, `@nh,8,8 & 0xfc == 0x10`,
/// `tcp flags & (fin|syn|rst|ack) == syn`), `KEY < N` / `KEY > N` (`ip ttl < 5`),
/// `KEY ! FLAGS` (`ct state ! established,related`, `ct status ! dnat`) and
/// `tcp option N exists|missing`.
fn test(text: &str) -> Json1 {
    let w = words(text);
    match w.as_slice() {
        ["tcp", "option", kind, state @ ("exists" | "missing")] => tcp_option(text, kind, state),
        // the IPv6 first-fragment guard: no fragment header, or one at offset 0
        ["exthdr", "frag", "missing"] => Ok(match_json("==", json!({"exthdr": {"name": "frag"}}), json!(false))),
        ["frag", "frag-off", offset] => {
            let Some(offset) = number(offset) else { return unknown(text) };
            Ok(match_json("==", json!({"exthdr": {"name": "frag", "field": "frag-off"}}), json!(offset)))
        }
        [key @ .., "&", mask, op, right] if COMPARE.contains(op) => masked(text, key, mask, op, right),
        [key @ .., "!", flags] => flags_clear(text, key, flags),
        [key @ .., op @ ("<" | ">"), right] => Ok(match_json(op, key_or_unknown(text, key)?, value(right))),
        _ => unknown(text),
    }
}

fn key_or_unknown(text: &str, key: &[&str]) -> Json1 {
    key_words(key).ok_or_else(|| UnknownFragment(text.to_string()))
}

/// `KEY & MASK OP VALUE`.
fn masked(text: &str, key: &[&str], mask: &str, op: &str, right: &str) -> Json1 {
    let left = json!({"&": [key_or_unknown(text, key)?, value(mask)]});
    Ok(match_json(op, left, value(right)))
}

/// `KEY ! FLAGS`: none of the flags is set.
fn flags_clear(text: &str, key: &[&str], flags: &str) -> Json1 {
    Ok(match_json("!", key_or_unknown(text, key)?, value(flags)))
}

/// `tcp option N exists|missing`: nft names the options it knows, and reads others raw.
fn tcp_option(text: &str, kind: &str, state: &str) -> Json1 {
    let Ok(kind) = kind.parse::<u8>() else { return unknown(text) };
    let option = match TCP_OPTIONS.iter().find(|(n, _)| *n == kind) {
        Some((_, name)) => json!({"name": name}),
        None => json!({"base": kind, "offset": 0, "len": 8}),
    };
    Ok(match_json("==", json!({"tcp option": option}), json!(state == "exists")))
}

/// nft's names for TCP option kinds (`tcpopt.c`).
const TCP_OPTIONS: [(u8, &str); 9] = [
    (0, "eol"),
    (1, "nop"),
    (2, "maxseg"),
    (3, "window"),
    (4, "sack-perm"),
    (5, "sack"),
    (8, "timestamp"),
    (19, "md5sig"),
    (30, "mptcp"),
];

/// A test with a side effect: `limit rate 5/second burst 5 packets`,
/// `numgen random mod 2147483648 < 1073741824` (or `>=`), `numgen inc mod 3 1` (or `!= 1`),
/// `quota until 100 bytes` (or `over`).
fn effect(text: &str) -> Json1 {
    let w = words(text);
    match w.as_slice() {
        ["limit", "rate", rate, "burst", burst, "packets"] => limit(text, rate, burst),
        ["numgen", mode @ ("random" | "inc"), "mod", modulus, rest @ ..] => numgen(text, mode, modulus, rest),
        ["quota", kind @ ("until" | "over"), n, "bytes"] => {
            let Some(n) = number(n) else { return unknown(text) };
            let mut quota = json!({"val": n, "val_unit": "bytes"});
            if *kind == "over" {
                quota["inv"] = true.into();
            }
            Ok(json!({ "quota": quota }))
        }
        _ => unknown(text),
    }
}

fn limit(text: &str, rate: &str, burst: &str) -> Json1 {
    let (Some((n, per)), Some(burst)) = (rate.split_once('/'), number(burst)) else { return unknown(text) };
    let Some(n) = number(n) else { return unknown(text) };
    if !["second", "minute", "hour", "day", "week"].contains(&per) {
        return unknown(text);
    }
    Ok(json!({"limit": {"rate": n, "per": per, "burst": burst, "burst_unit": "packets"}}))
}

fn numgen(text: &str, mode: &str, modulus: &str, rest: &[&str]) -> Json1 {
    let Some(modulus) = number(modulus) else { return unknown(text) };
    let (op, right) = match rest {
        [right] => ("==", right),
        [op, right] if COMPARE.contains(op) => (*op, right),
        _ => return unknown(text),
    };
    let Some(right) = number(right) else { return unknown(text) };
    Ok(match_json(op, json!({"numgen": {"mode": mode, "mod": modulus, "offset": 0}}), json!(right)))
}

/// A statement written by `lower`: `log ...`, `reject with ...`, `KEY set VALUE`, the nat
/// statements, `queue ...` and `notrack`.
fn statement(text: &str) -> Json1 {
    let w = words(text);
    match w.as_slice() {
        ["notrack"] => Ok(json!({"notrack": null})),
        ["log", rest @ ..] => log(text, rest),
        ["reject", "with", "tcp", "reset"] => Ok(json!({"reject": {"type": "tcp reset"}})),
        ["reject", "with", family @ ("icmp" | "icmpv6"), "type", kind] => {
            Ok(json!({"reject": {"type": family, "expr": kind}}))
        }
        ["queue", rest @ ..] => queue(text, rest),
        [kind @ ("dnat" | "snat" | "masquerade" | "redirect"), rest @ ..] => nat(text, kind, rest),
        _ => match w.iter().position(|&x| x == "set") {
            Some(at) => mangle(text, &w[..at], &w[at + 1..]),
            None => unknown(text),
        },
    }
}

/// `log [group N] [prefix "P"] [level L] [snaplen N] [queue-threshold N] [flags ...]...`.
fn log(text: &str, mut rest: &[&str]) -> Json1 {
    let mut out = Map::new();
    let mut flags = Vec::new();
    loop {
        rest = match rest {
            [] => break,
            ["prefix", p, more @ ..] => {
                let Some(p) = p.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else { return unknown(text) };
                out.insert("prefix".into(), p.into());
                more
            }
            ["level", level, more @ ..] => {
                out.insert("level".into(), (*level).into());
                more
            }
            [key @ ("group" | "snaplen" | "queue-threshold"), n, more @ ..] => {
                let Some(n) = number(n) else { return unknown(text) };
                out.insert((*key).into(), n.into());
                more
            }
            ["flags", "all", more @ ..] => {
                flags.push("all".to_string());
                more
            }
            ["flags", "tcp", which, more @ ..] => {
                for one in which.split(',') {
                    if !["sequence", "options"].contains(&one) {
                        return unknown(text);
                    }
                    flags.push(format!("tcp {one}"));
                }
                more
            }
            ["flags", "ip", "options", more @ ..] => {
                flags.push("ip options".into());
                more
            }
            ["flags", flag @ ("skuid" | "ether"), more @ ..] => {
                flags.push((*flag).into());
                more
            }
            _ => return unknown(text),
        };
    }
    match flags.len() {
        0 => {}
        1 => {
            out.insert("flags".into(), flags.remove(0).into());
        }
        _ => {
            out.insert("flags".into(), flags.into());
        }
    }
    Ok(json!({ "log": out }))
}

/// `queue num N`, `queue num A-B`, `queue flags bypass,fanout num N`.
fn queue(text: &str, rest: &[&str]) -> Json1 {
    let (flags, num) = match rest {
        ["num", num] => (None, num),
        ["flags", flags, "num", num] => (Some(flags), num),
        _ => return unknown(text),
    };
    let mut out = json!({ "num": value(num) });
    if let Some(flags) = flags {
        let flags: Vec<&str> = flags.split(',').collect();
        if flags.iter().any(|f| !["bypass", "fanout"].contains(f)) {
            return unknown(text);
        }
        out["flags"] = flags.into();
    }
    Ok(json!({ "queue": out }))
}

/// `dnat [ip|ip6] to ADDR[-ADDR][:PORT[-PORT]] [FLAGS]`, `snat` alike, `masquerade [to :PORTS]
/// [FLAGS]`, `redirect [to :PORTS] [FLAGS]`.
fn nat(text: &str, kind: &str, rest: &[&str]) -> Json1 {
    let mut out = Map::new();
    let mut rest = rest;
    if let [family @ ("ip" | "ip6"), more @ ..] = rest {
        out.insert("family".into(), (*family).into());
        rest = more;
    }
    if let ["to", target, more @ ..] = rest {
        let Some((addr, port)) = nat_target(target) else { return unknown(text) };
        if let Some(addr) = addr {
            out.insert("addr".into(), addr);
        }
        if let Some(port) = port {
            out.insert("port".into(), port);
        }
        rest = more;
    }
    match rest {
        [] => {}
        [flags] => {
            let flags: Vec<&str> = flags.split(',').collect();
            if flags.iter().any(|f| !["random", "fully-random", "persistent"].contains(f)) {
                return unknown(text);
            }
            out.insert("flags".into(), flags.into());
        }
        _ => return unknown(text),
    }
    let needs_addr = kind == "dnat" || kind == "snat";
    if needs_addr != out.contains_key("addr") {
        return unknown(text);
    }
    Ok(json!({ kind: if out.is_empty() { Json::Null } else { Json::Object(out) } }))
}

/// `192.0.2.1`, `192.0.2.1-192.0.2.9:80-90`, `[2001:db8::1]:80`, `2001:db8::1`, `:3128`:
/// the addresses and the ports.
fn nat_target(target: &str) -> Option<(Option<Json>, Option<Json>)> {
    let (addrs, ports) = if let Some(ports) = target.strip_prefix(':') {
        ("", Some(ports))
    } else if target.contains('[') {
        // [A]-[B]:P: bracketed IPv6 addresses before a port
        let (addrs, ports) = target.rsplit_once("]:")?;
        (addrs, Some(ports))
    } else if target.contains('.') {
        match target.split_once(':') {
            Some((addrs, ports)) => (addrs, Some(ports)),
            None => (target, None),
        }
    } else {
        (target, None)
    };
    let addrs = addrs.replace(['[', ']'], "");
    let addr = if addrs.is_empty() {
        None
    } else {
        let one = |a: &str| a.parse::<IpAddr>().ok().map(|a| json!(a.to_string()));
        Some(match addrs.split_once('-') {
            Some((lo, hi)) => json!({"range": [one(lo)?, one(hi)?]}),
            None => one(&addrs)?,
        })
    };
    let port = match ports {
        None => None,
        Some(p) => Some(match p.split_once('-') {
            Some((lo, hi)) => json!({"range": [number(lo)?, number(hi)?]}),
            None => json!(number(p)?),
        }),
    };
    if addr.is_none() && port.is_none() {
        return None;
    }
    Some((addr, port))
}

/// `KEY set VALUE`: a number (`ip ttl set 64`, `ip dscp set 0x2e`), `MAJOR:MINOR` (`meta
/// priority set 1:10`), another key (`ct mark set meta mark`), or the key masked and flipped
/// (`meta mark set meta mark & 0xffffff00 ^ 0x1`).
fn mangle(text: &str, key: &[&str], v: &[&str]) -> Json1 {
    let left = key_or_unknown(text, key)?;
    let right = match v {
        [one] if number(one).is_some() || one.contains(':') => value(one),
        [k @ .., "&", mask, "^", flip] => json!({"^": [{"&": [key_or_unknown(text, k)?, value(mask)]}, value(flip)]}),
        k => key_or_unknown(text, k)?,
    };
    Ok(json!({"mangle": {"key": left, "value": right}}))
}

fn payload(protocol: &str, field: &str) -> Json {
    json!({"payload": {"protocol": protocol, "field": field}})
}

fn meta(key: &str) -> Json {
    json!({"meta": {"key": key}})
}

/// The keys `lower` writes as text: `meta K`, `iifname`, `ct K`, `ct DIR ip saddr`,
/// `ct DIR proto-src`, `fib saddr . iif type`, `PROTO FIELD` (`ip ttl`, `icmp code`), `@nh,8,8`.
fn key_words(w: &[&str]) -> Option<Json> {
    const META: [&str; 10] =
        ["l4proto", "mark", "pkttype", "skuid", "skgid", "nfproto", "priority", "nftrace", "iif", "length"];
    const CT: [&str; 6] = ["state", "status", "mark", "expiration", "direction", "zone"];
    const PAYLOAD: [(&str, &[&str]); 12] = [
        ("ip", &["saddr", "daddr", "ttl", "length", "dscp", "frag-off", "protocol"]),
        ("ip6", &["saddr", "daddr", "hoplimit", "length", "dscp", "nexthdr"]),
        ("tcp", &["sport", "dport", "flags"]),
        ("udp", &["sport", "dport"]),
        ("udplite", &["sport", "dport"]),
        ("sctp", &["sport", "dport"]),
        ("dccp", &["sport", "dport"]),
        ("th", &["sport", "dport"]),
        ("icmp", &["type", "code"]),
        ("icmpv6", &["type", "code"]),
        ("ether", &["saddr", "daddr"]),
        ("vlan", &["id"]),
    ];
    Some(match w {
        ["meta", k] if META.contains(k) => meta(k),
        [k @ ("iifname" | "oifname")] => meta(k),
        ["ct", k] if CT.contains(k) => json!({"ct": {"key": k}}),
        ["ct", dir @ ("original" | "reply"), "protocol"] => json!({"ct": {"key": "protocol", "dir": dir}}),
        ["ct", dir @ ("original" | "reply"), "zone"] => json!({"ct": {"key": "zone", "dir": dir}}),
        ["ct", dir @ ("original" | "reply"), k @ ("proto-src" | "proto-dst")] => json!({"ct": {"key": k, "dir": dir}}),
        ["ct", dir @ ("original" | "reply"), family @ ("ip" | "ip6"), field @ ("saddr" | "daddr")] => {
            json!({"ct": {"key": format!("{family} {field}"), "dir": dir}})
        }
        ["fib", flags @ .., "type"] => {
            let flags: Vec<&str> = flags.iter().copied().filter(|f| *f != ".").collect();
            if flags.is_empty() || flags.iter().any(|f| !["saddr", "daddr", "iif", "oif", "mark"].contains(f)) {
                return None;
            }
            json!({"fib": {"result": "type", "flags": flags}})
        }
        [protocol, field] => {
            let (_, fields) = PAYLOAD.iter().find(|(p, _)| p == protocol)?;
            if !fields.contains(field) {
                return None;
            }
            payload(protocol, field)
        }
        [raw] => {
            // @nh,OFFSET,LENGTH: bits of the network header
            let mut parts = raw.strip_prefix('@')?.split(',');
            let base = parts.next().filter(|b| ["ll", "nh", "th"].contains(b))?;
            let offset = parts.next()?.parse::<u32>().ok()?;
            let len = parts.next()?.parse::<u32>().ok()?;
            if parts.next().is_some() {
                return None;
            }
            json!({"payload": {"base": base, "offset": offset, "len": len}})
        }
        _ => return None,
    })
}

/// A decimal or `0x` number.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

/// A scalar that may end a range: a number, an address or a time (`999ms`).
fn range_end(text: &str) -> Option<Json> {
    if let Some(n) = number(text) {
        return Some(json!(n));
    }
    if text.parse::<IpAddr>().is_ok() {
        return Some(json!(text));
    }
    let ms = text.strip_suffix("ms")?;
    number(ms).map(|_| json!(text))
}

/// A value as `lower` writes it: `"eth*"` (a string), `a,b` (flags), `(fin|syn)` (flags),
/// `10.0.0.0/8` (a prefix), `1-1024`, `10.0.0.1-10.0.0.5`, `0ms-999ms` (ranges), `0x1f`, `22`
/// (numbers), anything else a symbol nft resolves by the key's type (`tcp`, `echo-request`,
/// `192.0.2.1`, `00:11:22:33:44:55`, `1:10`).
fn value(text: &str) -> Json {
    if let Some(s) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return json!(s);
    }
    if let Some(flags) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        return json!(flags.split('|').collect::<Vec<_>>());
    }
    if text.contains(',') {
        return json!(text.split(',').collect::<Vec<_>>());
    }
    if let Some((addr, len)) = text.split_once('/')
        && addr.parse::<IpAddr>().is_ok()
        && let Ok(len) = len.parse::<u8>()
    {
        return json!({"prefix": {"addr": addr, "len": len}});
    }
    if let Some((lo, hi)) = text.split_once('-')
        && let (Some(lo), Some(hi)) = (range_end(lo), range_end(hi))
    {
        return json!({ "range": [lo, hi] });
    }
    match number(text) {
        Some(n) => json!(n),
        None => json!(text),
    }
}

#[cfg(test)]
mod tests;
