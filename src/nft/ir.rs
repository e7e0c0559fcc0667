//! The nft ruleset ipt writes: tables, chains and rules, with the few parts the optimiser reads
//! kept typed (the keys of equality tests and the verdict) and everything else as nft text.

use std::fmt::Write;

use crate::model::Policy;
use crate::source::Line;

/// The nft family of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NftFamily {
    Ip,
    Ip6,
    Inet,
}

impl NftFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            NftFamily::Ip => "ip",
            NftFamily::Ip6 => "ip6",
            NftFamily::Inet => "inet",
        }
    }
}

/// A whole nft script: the tables ipt owns.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub tables: Vec<Table>,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub family: NftFamily,
    pub name: String,
    /// Callees before callers, base chains last: nft resolves a `jump` when it reads it.
    pub chains: Vec<Chain>,
}

#[derive(Clone, Debug)]
pub struct Chain {
    pub name: String,
    pub base: Option<Base>,
    pub rules: Vec<Rule>,
}

/// What makes a chain a base chain: its type, hook, priority and policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Base {
    pub kind: &'static str,
    pub hook: &'static str,
    pub priority: i32,
    pub policy: Policy,
}

/// Where a rule came from: the input's index and the iptables line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub input: usize,
    pub line: Line,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub exprs: Vec<Expr>,
    /// Statements in order (`meta mark set ...`, `log ...`, `dnat to ...`), before the verdict.
    pub stmts: Vec<String>,
    pub verdict: Option<Verdict>,
    /// A verdict map, in place of `verdict` (behind a pointer: few rules have one, rules are
    /// moved a lot, and the rules that use one named map share it).
    pub vmap: Option<std::sync::Arc<Vmap>>,
    pub comment: Option<String>,
    /// The iptables rules this one stands for (several once merged).
    pub origins: smallvec::SmallVec<[Origin; 1]>,
}

/// One test of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// `KEY VALUE`, `KEY != VALUE`, `KEY { A, B }`: what the optimiser can merge.
    Cmp { key: Key, neg: bool, value: Value },
    /// `KEY . KEY { A . B, ... }`: merged tests.
    Concat { keys: Vec<Key>, neg: bool, elements: Vec<Vec<String>> },
    /// Any other pure test, as nft text.
    Text(String),
    /// A test with a side effect (limit, quota, numgen inc): never merged or moved.
    Effect(String),
}

/// The left side of a [`Expr::Cmp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `ip saddr`, `ip6 daddr`.
    Addr {
        v6: bool,
        dst: bool,
    },
    /// `meta l4proto`.
    L4proto,
    /// `tcp dport`, `udp sport`; `proto` "th" is the generic transport header.
    Port {
        proto: &'static str,
        dst: bool,
    },
    Iifname,
    Oifname,
    /// Any other key, as nft text (`meta mark`, `ct state`).
    Other(String),
}

impl Key {
    /// Appends the key's nft text.
    pub fn write(&self, out: &mut String) {
        match self {
            Key::Addr { v6, dst } => {
                out.push_str(if *v6 { "ip6 " } else { "ip " });
                out.push_str(if *dst { "daddr" } else { "saddr" });
            }
            Key::L4proto => out.push_str("meta l4proto"),
            Key::Port { proto, dst } => {
                out.push_str(proto);
                out.push_str(if *dst { " dport" } else { " sport" });
            }
            Key::Iifname => out.push_str("iifname"),
            Key::Oifname => out.push_str("oifname"),
            Key::Other(text) => out.push_str(text),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Key::Addr { v6, dst } => {
                format!("{} {}", if *v6 { "ip6" } else { "ip" }, if *dst { "daddr" } else { "saddr" })
            }
            Key::L4proto => "meta l4proto".into(),
            Key::Port { proto, dst } => format!("{proto} {}", if *dst { "dport" } else { "sport" }),
            Key::Iifname => "iifname".into(),
            Key::Oifname => "oifname".into(),
            Key::Other(text) => text.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    One(String),
    Set(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Drop,
    Return,
    Jump(String),
    Goto(String),
}

impl Verdict {
    /// Appends the verdict's nft text.
    pub fn write(&self, out: &mut String) {
        match self {
            Verdict::Accept => out.push_str("accept"),
            Verdict::Drop => out.push_str("drop"),
            Verdict::Return => out.push_str("return"),
            Verdict::Jump(c) => {
                out.push_str("jump ");
                out.push_str(c);
            }
            Verdict::Goto(c) => {
                out.push_str("goto ");
                out.push_str(c);
            }
        }
    }

    pub fn text(&self) -> String {
        match self {
            Verdict::Accept => "accept".into(),
            Verdict::Drop => "drop".into(),
            Verdict::Return => "return".into(),
            Verdict::Jump(c) => format!("jump {c}"),
            Verdict::Goto(c) => format!("goto {c}"),
        }
    }

    pub fn chain(&self) -> Option<&str> {
        match self {
            Verdict::Jump(c) | Verdict::Goto(c) => Some(c),
            _ => None,
        }
    }
}

/// `KEY . KEY vmap { A . B : VERDICT, ... }`, or `KEY . KEY vmap @NAME` with the elements in a
/// map of the table.
#[derive(Clone, Debug)]
pub struct Vmap {
    pub keys: Vec<Key>,
    pub elements: Vec<(Vec<String>, Verdict)>,
    /// The table's map that holds the elements, shared by every rule that names it (a dispatch
    /// chain inlined into several callers); `None`: the elements are written in the rule.
    pub name: Option<String>,
}

impl Vmap {
    /// The nft types of the keys, for a named map's `type` line: `None` when a key has no
    /// type ipt writes (then the map stays anonymous).
    pub fn key_types(&self) -> Option<Vec<&'static str>> {
        self.keys
            .iter()
            .map(|k| match k {
                Key::Addr { v6: false, .. } => Some("ipv4_addr"),
                Key::Addr { v6: true, .. } => Some("ipv6_addr"),
                Key::L4proto => Some("inet_proto"),
                Key::Port { .. } => Some("inet_service"),
                Key::Iifname | Key::Oifname => Some("ifname"),
                Key::Other(_) => None,
            })
            .collect()
    }

    /// Whether the map can be a named one: typed keys, and single values (no prefix or range,
    /// which would need `flags interval`).
    pub fn nameable(&self) -> bool {
        self.key_types().is_some()
            && self.elements.iter().all(|(values, _)| {
                values.iter().zip(&self.keys).all(|(v, k)| {
                    let v = element_value(v);
                    match k {
                        Key::Addr { .. } => v.parse::<std::net::IpAddr>().is_ok(),
                        Key::Port { .. } => v.parse::<u16>().is_ok(),
                        Key::L4proto => v.bytes().all(|b| b.is_ascii_alphanumeric()),
                        _ => !v.contains(['*', '/', '-', '{']),
                    }
                })
            })
    }

    /// The elements as nft writes them: `A . B : VERDICT, ...`.
    fn write_elements(&self, out: &mut String) {
        for (i, (values, verdict)) in self.elements.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            push_joined(out, values, " . ");
            out.push_str(" : ");
            verdict.write(out);
        }
        out.push(' ');
    }
}

/// A verdict map element's value without the comment written after the last one
/// (`10.0.0.1 comment "a"`). Most values have no blank: they are looked at once, not searched.
pub fn element_value(value: &str) -> &str {
    if memchr::memchr(b' ', value.as_bytes()).is_none() {
        return value;
    }
    static COMMENT: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(" comment "));
    COMMENT.find(value.as_bytes()).map_or(value, |end| &value[..end])
}

impl Rule {
    pub fn new(origin: Origin) -> Rule {
        Rule {
            exprs: Vec::new(),
            stmts: Vec::new(),
            verdict: None,
            vmap: None,
            comment: None,
            origins: smallvec::smallvec![origin],
        }
    }

    /// Adds `text` to the rule's comment, after what it says already (`first; text`).
    pub fn append_comment(&mut self, text: &str) {
        self.comment = Some(match self.comment.take() {
            Some(mut before) => {
                before.reserve(2 + text.len());
                before.push_str("; ");
                before.push_str(text);
                before
            }
            None => text.to_string(),
        });
    }

    /// The chains this rule can send a packet to.
    pub fn callees(&self) -> impl Iterator<Item = &str> {
        let vmap = self.vmap.iter().flat_map(|v| v.elements.iter().filter_map(|(_, verdict)| verdict.chain()));
        self.verdict.iter().filter_map(Verdict::chain).chain(vmap)
    }

    /// Appends the rule as nft text.
    pub fn write(&self, out: &mut String) {
        let start = out.len();
        let sep = |out: &mut String| {
            if out.len() > start {
                out.push(' ');
            }
        };
        for expr in &self.exprs {
            sep(out);
            write_expr(out, expr);
        }
        for stmt in &self.stmts {
            sep(out);
            out.push_str(stmt);
        }
        if let Some(vmap) = &self.vmap {
            sep(out);
            write_keys(out, &vmap.keys);
            if let Some(name) = &vmap.name {
                out.push_str(" vmap @");
                out.push_str(name);
            } else {
                out.push_str(" vmap {");
                vmap.write_elements(out);
                out.push('}');
            }
        }
        if let Some(verdict) = &self.verdict {
            sep(out);
            verdict.write(out);
        }
        if out.len() == start {
            // a rule that only counts (no target, no test): nft needs one statement
            out.push_str("counter");
        }
        if let Some(comment) = &self.comment {
            out.push_str(" comment \"");
            out.push_str(comment);
            out.push('"');
        }
    }
}

/// Appends `values` with `separator` between them (no string of its own for them).
fn push_joined(out: &mut String, values: &[String], separator: &str) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(value);
    }
}

fn write_keys(out: &mut String, keys: &[Key]) {
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str(" . ");
        }
        key.write(out);
    }
}

fn write_expr(out: &mut String, expr: &Expr) {
    match expr {
        Expr::Cmp { key, neg, value } => {
            key.write(out);
            if *neg {
                out.push_str(" !=");
            }
            match value {
                Value::One(v) => {
                    out.push(' ');
                    out.push_str(v);
                }
                Value::Set(values) => {
                    out.push_str(" { ");
                    push_joined(out, values, ", ");
                    out.push_str(" }");
                }
            }
        }
        Expr::Concat { keys, neg, elements } => {
            write_keys(out, keys);
            if *neg {
                out.push_str(" !=");
            }
            out.push_str(" { ");
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_joined(out, element, " . ");
            }
            out.push_str(" }");
        }
        Expr::Text(text) | Expr::Effect(text) => out.push_str(text),
    }
}

impl Script {
    /// The whole script for `nft -f`: each table ipt owns is created if missing, deleted, and
    /// written again, so that loading it replaces exactly those tables, atomically.
    pub fn text(&self, header: &str) -> String {
        let mut out = Vec::new();
        self.write(header, &mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("the script is text")
    }

    /// [`Script::text`], written out as it is made (a big table's chains are written side by
    /// side on the machine's cores, then in order).
    pub fn write(&self, header: &str, out: &mut impl std::io::Write) -> std::io::Result<()> {
        self.write_on(header, out, crate::threads::count())
    }

    fn write_on(&self, header: &str, out: &mut impl std::io::Write, threads: usize) -> std::io::Result<()> {
        let mut buf = String::with_capacity(4096);
        buf.push_str("#!/usr/sbin/nft -f\n");
        for line in header.lines() {
            let _ = writeln!(buf, "# {line}");
        }
        for table in &self.tables {
            let (family, name) = (table.family.as_str(), &table.name);
            let _ = writeln!(buf, "\ntable {family} {name}\ndelete table {family} {name}\ntable {family} {name} {{");
            let runs = crate::threads::chain_runs(table.chains.iter().map(|c| c.rules.len()), threads);
            if runs.len() > 1 {
                // the chains' text and the named maps they use, side by side; the maps first
                let parts = table.parts(runs);
                let mut maps: Vec<&Vmap> = Vec::new();
                for map in parts.iter().flat_map(|(_, used)| used) {
                    add_named(&mut maps, map);
                }
                for map in maps {
                    map.write_map(&mut buf);
                }
                out.write_all(buf.as_bytes())?;
                buf.clear();
                for (text, _) in &parts {
                    out.write_all(text.as_bytes())?;
                }
            } else {
                for map in table.maps() {
                    map.write_map(&mut buf);
                }
                for (i, chain) in table.chains.iter().enumerate() {
                    chain.write(i, &mut buf);
                    if buf.len() >= 1 << 16 {
                        out.write_all(buf.as_bytes())?;
                        buf.clear();
                    }
                }
            }
            buf.push_str("}\n");
        }
        out.write_all(buf.as_bytes())
    }
}

/// Adds a named map to `maps`, the table's named maps in the order of first use, unless it is
/// there already (an unnamed map is written in its rule, and left out).
fn add_named<'a>(maps: &mut Vec<&'a Vmap>, vmap: &'a Vmap) {
    if vmap.name.is_some() && !maps.iter().any(|m| m.name == vmap.name) {
        maps.push(vmap);
    }
}

/// A rule's way into a chain of its table, all by index: the rule (its chain and its place
/// there), the element of its verdict map that goes there (or [`Reference::VERDICT`], the
/// rule's own verdict), and the chain it goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub caller: u32,
    pub rule: u32,
    pub element: u32,
    pub callee: u32,
}

impl Reference {
    pub const VERDICT: u32 = u32::MAX;
}

/// Every way from a rule into one of `chains`, in the order of the chains, their rules, and
/// each rule's verdict map (a name no chain has is left out). A big list is read on every core:
/// the pass is memory bound.
pub fn references(chains: &[Chain]) -> Vec<Reference> {
    references_into(chains, |_| true)
}

/// [`references`] into the chains `into` takes (by their places) only. A name whose length no
/// such chain's name has is passed over without reading it: looking up the few chains a pass
/// wants costs little more than reading the rules.
pub fn references_into(chains: &[Chain], into: impl Fn(usize) -> bool) -> Vec<Reference> {
    let index: rustc_hash::FxHashMap<&str, u32> =
        chains.iter().enumerate().filter(|&(i, _)| into(i)).map(|(i, c)| (c.name.as_str(), i as u32)).collect();
    let mut lengths = vec![false; index.keys().map(|name| name.len() + 1).max().unwrap_or(0)];
    for name in index.keys() {
        lengths[name.len()] = true;
    }
    let runs = crate::threads::chain_runs(chains.iter().map(|c| c.rules.len()), crate::threads::count());
    crate::threads::side_by_side(runs, |callers| {
        let mut found = Vec::new();
        for caller in callers {
            for (r, rule) in chains[caller].rules.iter().enumerate() {
                let to = |callee: &str, element: u32| {
                    if !lengths.get(callee.len()).copied().unwrap_or(false) {
                        return None;
                    }
                    let &callee = index.get(callee)?;
                    Some(Reference { caller: caller as u32, rule: r as u32, element, callee })
                };
                found.extend(rule.verdict.as_ref().and_then(Verdict::chain).and_then(|c| to(c, Reference::VERDICT)));
                if let Some(vmap) = &rule.vmap {
                    for (e, (_, verdict)) in vmap.elements.iter().enumerate() {
                        found.extend(verdict.chain().and_then(|c| to(c, e as u32)));
                    }
                }
            }
        }
        found
    })
    .concat()
}

impl Table {
    /// The table's named maps, each once, in the order the chains first use them.
    pub fn maps(&self) -> Vec<&Vmap> {
        let mut maps: Vec<&Vmap> = Vec::new();
        for vmap in self.chains.iter().flat_map(|c| &c.rules).filter_map(|r| r.vmap.as_deref()) {
            add_named(&mut maps, vmap);
        }
        maps
    }

    /// The text of the table's chains in `runs` (of chains), made side by side, each with the
    /// named maps its chains use, in the order they first use them (as [`Table::maps`] finds
    /// them, while the rules are at hand rather than in a pass of its own over every rule).
    fn parts(&self, runs: Vec<std::ops::Range<usize>>) -> Vec<(String, Vec<&Vmap>)> {
        crate::threads::side_by_side(runs, |run| {
            let (mut text, mut maps) = (String::new(), Vec::<&Vmap>::new());
            for i in run {
                self.chains[i].write(i, &mut text);
                for vmap in self.chains[i].rules.iter().filter_map(|r| r.vmap.as_deref()) {
                    add_named(&mut maps, vmap);
                }
            }
            (text, maps)
        })
    }
}

impl Vmap {
    /// Appends a named map's declaration (before the chains: the rules that use it name it).
    fn write_map(&self, buf: &mut String) {
        let name = self.name.as_deref().unwrap_or_default();
        let types = self.key_types().unwrap_or_default().join(" . ");
        let _ = write!(buf, "\tmap {name} {{\n\t\ttype {types} : verdict\n\t\telements = {{");
        self.write_elements(buf);
        buf.push_str("}\n\t}\n\n");
    }
}

impl Chain {
    /// Each rule's nft text, in order (what the optimiser's tests compare).
    #[cfg(test)]
    pub fn rule_texts(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| {
                let mut s = String::new();
                r.write(&mut s);
                s
            })
            .collect()
    }

    /// Appends the chain's text; `index` is its place in the table (chains after the first
    /// are set apart by an empty line).
    fn write(&self, index: usize, buf: &mut String) {
        if index > 0 {
            buf.push('\n');
        }
        buf.push_str("\tchain ");
        buf.push_str(&self.name);
        buf.push_str(" {\n");
        if let Some(base) = &self.base {
            let policy = match base.policy {
                Policy::Accept => "accept",
                Policy::Drop => "drop",
            };
            let _ =
                writeln!(buf, "\t\ttype {} hook {} priority {}; policy {policy};", base.kind, base.hook, base.priority);
        }
        for rule in &self.rules {
            buf.push_str("\t\t");
            rule.write(buf);
            buf.push('\n');
        }
        buf.push_str("\t}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_table_written_on_several_threads_reads_as_written_on_one() {
        let origin = Origin { input: 0, line: Line(1) };
        let mut chains: Vec<Chain> = (0..3000)
            .map(|c| Chain {
                name: format!("C{c}"),
                base: None,
                rules: (0..(c % 17))
                    .map(|r| {
                        let mut rule = Rule::new(origin);
                        rule.exprs.push(Expr::Text(format!("meta mark {r}")));
                        rule.verdict =
                            Some(if r % 2 == 0 { Verdict::Accept } else { Verdict::Jump(format!("C{}", c + 1)) });
                        rule
                    })
                    .collect(),
            })
            .collect();
        // named maps, first used far into the table, one of them by two chains: declared once
        // each, before the chains, in the order of first use, whatever the threads
        let map = |name: &str, port: &str| {
            std::sync::Arc::new(Vmap {
                keys: vec![Key::Port { proto: "tcp", dst: true }],
                elements: vec![(vec![port.to_string()], Verdict::Accept)],
                name: Some(name.to_string()),
            })
        };
        let (late, early) = (map("late", "22"), map("early", "80"));
        for (c, vmap) in [(2900, &late), (1700, &early), (2950, &late)] {
            let mut rule = Rule::new(origin);
            rule.vmap = Some(vmap.clone());
            chains[c].rules.push(rule);
        }
        chains.push(Chain {
            name: "INPUT".into(),
            base: Some(Base { kind: "filter", hook: "input", priority: 0, policy: Policy::Drop }),
            rules: vec![{
                let mut rule = Rule::new(origin);
                rule.verdict = Some(Verdict::Accept);
                rule
            }],
        });
        let table = Table { family: NftFamily::Inet, name: "ipt-filter".into(), chains };
        assert!(table.chains.iter().map(|c| c.rules.len()).sum::<usize>() >= crate::threads::PARALLEL_RULES);
        let script = Script { tables: vec![table.clone(), table] };
        let text = |threads| {
            let mut out = Vec::new();
            script.write_on("a test", &mut out, threads).expect("written to memory");
            String::from_utf8(out).expect("text")
        };
        let one = text(1);
        assert_eq!(text(2), one);
        assert_eq!(text(3), one);
        assert!(one.contains("\tchain C5 {\n\t\tmeta mark 0 accept\n\t\tmeta mark 1 jump C6\n"), "{}", &one[..400]);
        assert!(one.contains("\t}\n\n\tchain C1 {\n"));
        assert!(one.ends_with("\t\ttype filter hook input priority 0; policy drop;\n\t\taccept\n\t}\n}\n"));
        let declared: Vec<_> = one.match_indices("\tmap ").map(|(i, _)| &one[i + 5..i + 10]).collect();
        assert_eq!(declared, ["early", "late ", "early", "late "], "once a table, in the order of first use");
    }
}
