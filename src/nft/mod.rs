//! `ipt translate`: iptables rulesets compiled to one nft script that means exactly the same.
//!
//! Each iptables table becomes an nft table of its own (`ipt-filter`, `ipt-nat`...), its built-in
//! chains base chains at the priority iptables registers that table at, so the kernel runs them
//! in the same order. Each rule is lowered on its own ([`lower`]); a rule that has no exact nft
//! form is refused with its span and the reason, never dropped or approximated. The optimiser
//! ([`optimize`]) then merges runs of rules into sets and verdict maps where that is exact.

pub mod ir;
mod json;
mod known;
mod lower;
mod names;
mod optimize;
mod stats;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub use ir::NftFamily;
pub use json::{UnknownFragment, anonymous_vmap_json, rule_exprs};
pub use stats::Stats;

use crate::diag::Diagnostic;
use crate::model::{Family, Hook, Policy, Ruleset, Table as IptTable, TableName};
use crate::source::{Source, Span};
use ir::{Base, Chain, Expr, Key, Origin, Rule, Script, Table, Value, Verdict};

/// How to translate.
#[derive(Clone, Debug)]
pub struct Options {
    /// `None`: each dump's tables in their own family (`ip`, `ip6`). `Inet`: one table for both.
    pub family: Option<NftFamily>,
    /// Put before each iptables table's name to name the nft table.
    pub table_prefix: String,
    pub optimize: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { family: None, table_prefix: "ipt-".into(), optimize: true }
    }
}

/// One loaded dump to translate.
pub struct Input<'a> {
    pub source: &'a Source,
    pub ruleset: &'a Ruleset,
}

/// What `translate` made, and what it could not.
pub struct Translation<'a> {
    pub script: Script,
    /// Errors (rules with no exact nft form) and warnings (renamed chains, shortened comments).
    pub diagnostics: Vec<Diagnostic>,
    /// The iptables tables translated.
    tables: Vec<&'a IptTable>,
}

impl Translation<'_> {
    /// Rules before and after, and the worst-case packet's (computed when asked: it walks
    /// every chain).
    pub fn stats(&self) -> Stats {
        let before: Vec<_> = self.tables.iter().map(|t| stats::iptables_worst(t)).collect();
        let rules_before = self.tables.iter().map(|t| t.rule_count()).sum();
        Stats::new(rules_before, &before, &self.script)
    }

    /// Whether every rule was translated.
    pub fn complete(&self) -> bool {
        self.diagnostics.iter().all(|d| d.severity() != crate::diag::Severity::Error)
    }
}

/// Problems translating.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TranslateError {
    #[error("`{what}` has no exact nft equivalent")]
    #[diagnostic(
        code(ipt::translate::untranslatable),
        help("ipt translates only what nft does exactly; docs/translate.md lists what it translates, and how")
    )]
    Untranslatable {
        #[label("{why}")]
        span: Span,
        what: String,
        why: String,
    },

    #[error("chain `{from}` is named `{to}` in nft")]
    #[diagnostic(code(ipt::translate::renamed_chain), severity(Warning))]
    RenamedChain {
        #[label("nft cannot take this name")]
        span: Span,
        from: String,
        to: String,
        #[help]
        help: String,
    },

    #[error("the comment is changed for nft: {why}")]
    #[diagnostic(code(ipt::translate::comment_changed), severity(Warning))]
    CommentChanged {
        #[label("{why}")]
        span: Span,
        why: String,
    },

    #[error("`--family inet` would turn conntrack on for {without} too")]
    #[diagnostic(
        code(ipt::translate::inet_conntrack),
        help(
            "conntrack (and its reassembly of fragments) is on per family in iptables, for both in an inet table; translate the two families into separate tables (leave --family out)"
        )
    )]
    InetConntrack {
        #[label(
            "the {with} dump uses connections (a nat table, or state, conntrack or connmark); the {without} dump does not"
        )]
        span: Span,
        with: &'static str,
        without: &'static str,
    },

    #[error("{family} tables are not translated with `--family {wanted}`")]
    #[diagnostic(code(ipt::translate::wrong_family))]
    WrongFamily {
        #[label("this table")]
        span: Span,
        family: &'static str,
        wanted: &'static str,
        #[help]
        help: String,
    },
}

/// The kernel's priority for each iptables table (`NF_IP_PRI_*`), and the nft chain type.
fn base(table: TableName, hook: Hook, policy: Policy) -> Base {
    let (kind, priority) = match (table, hook) {
        (TableName::Raw, _) => ("filter", -300),
        (TableName::Mangle, Hook::Output) => ("route", -150),
        (TableName::Mangle, _) => ("filter", -150),
        (TableName::Nat, Hook::Prerouting | Hook::Output) => ("nat", -100),
        (TableName::Nat, _) => ("nat", 100),
        (TableName::Filter, _) => ("filter", 0),
        (TableName::Security, _) => ("filter", 50),
    };
    let hook = match hook {
        Hook::Prerouting => "prerouting",
        Hook::Input => "input",
        Hook::Forward => "forward",
        Hook::Output => "output",
        Hook::Postrouting => "postrouting",
    };
    Base { kind, hook, priority, policy }
}

/// An nft table: its family and the iptables table it stands for.
type TableKey = (NftFamily, TableName);
/// An iptables table that goes into one, with the index of its input.
type Member<'a> = (usize, &'a IptTable);

/// In an inet table, a family's body of a built-in chain: its family, policy and name.
type Body = (Family, Policy, String);

/// Translates every table of every input.
pub fn translate<'a>(inputs: &[Input<'a>], options: &Options) -> Translation<'a> {
    let mut diagnostics = Vec::new();
    // the iptables tables that go into each nft table, in input order
    let mut groups: Vec<(TableKey, Vec<Member<'a>>)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for table in &input.ruleset.tables {
            let family = match (options.family, table.family) {
                (Some(NftFamily::Inet), _) => NftFamily::Inet,
                (None | Some(NftFamily::Ip), Family::Ipv4) => NftFamily::Ip,
                (None | Some(NftFamily::Ip6), Family::Ipv6) => NftFamily::Ip6,
                (Some(wanted), family) => {
                    let name = if family == Family::Ipv4 { "IPv4" } else { "IPv6" };
                    diagnostics.push(Diagnostic::new(
                        input.source,
                        TranslateError::WrongFamily {
                            span: table.span,
                            family: name,
                            wanted: wanted.as_str(),
                            help: "use `--family inet` to put both families in one table, or leave --family out".into(),
                        },
                    ));
                    continue;
                }
            };
            let key = (family, table.name);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, tables)) => tables.push((i, table)),
                None => groups.push((key, vec![(i, table)])),
            }
        }
    }
    if options.family == Some(NftFamily::Inet) {
        let (v4, v6) = (uses_conntrack(inputs, Family::Ipv4), uses_conntrack(inputs, Family::Ipv6));
        let has = |f: Family| inputs.iter().any(|i| i.ruleset.tables.iter().any(|t| t.family == f));
        if v4 != v6 && has(Family::Ipv4) && has(Family::Ipv6) {
            let with = if v4 { Family::Ipv4 } else { Family::Ipv6 };
            let name = |f: Family| if f == Family::Ipv4 { "IPv4" } else { "IPv6" };
            if let Some((input, table)) =
                inputs.iter().find_map(|i| i.ruleset.tables.iter().find(|t| t.family == with).map(|t| (i, t)))
            {
                diagnostics.push(Diagnostic::new(
                    input.source,
                    TranslateError::InetConntrack { span: table.span, with: name(with), without: name(with.other()) },
                ));
            }
        }
    }
    let mut script = Script::default();
    for ((family, name), tables) in &groups {
        script.tables.push(translate_table(inputs, *family, *name, tables, options, &mut diagnostics));
    }
    let tables = groups.iter().flat_map(|(_, ts)| ts.iter().map(|(_, t)| *t)).collect();
    Translation { script, diagnostics, tables }
}

fn translate_table(
    inputs: &[Input<'_>],
    family: NftFamily,
    name: TableName,
    tables: &[Member<'_>],
    options: &Options,
    diagnostics: &mut Vec<Diagnostic>,
) -> Table {
    let inet = family == NftFamily::Inet;
    let mut user_chains = Vec::new();
    // per hook, each family's body chain (inet only)
    let mut base_chains: Vec<(Hook, Vec<Body>)> = Vec::new();
    let mut taken: HashSet<String> = HashSet::default();
    for hook in Hook::ALL {
        if tables.iter().any(|(_, t)| t.chain(hook.as_str()).is_some_and(|c| c.is_builtin())) {
            taken.insert(hook.as_str().to_string());
        }
    }
    let prefix_of = |table: &crate::model::Table| match (inet, table.family) {
        (false, _) => "",
        (true, Family::Ipv4) => "ip.",
        (true, Family::Ipv6) => "ip6.",
    };
    // names nft reads as they are are kept (most are: the names are not written again); a
    // renamed chain must not take one of them
    let valid = |prefix: &str, name: &str| {
        if prefix.is_empty() { names::is_valid(name) } else { names::is_valid(&format!("{prefix}{name}")) }
    };
    let renaming = tables.iter().any(|(_, t)| {
        let prefix = prefix_of(t);
        t.chains.iter().any(|c| (!c.is_builtin() || inet) && !valid(prefix, &c.name))
    });
    if renaming {
        for (_, table) in tables {
            let prefix = prefix_of(table);
            for chain in &table.chains {
                let wanted = format!("{prefix}{}", chain.name);
                if names::is_valid(&wanted) {
                    taken.insert(wanted);
                }
            }
        }
    }
    for (input, table) in tables {
        let source = inputs[*input].source;
        let prefix = prefix_of(table);
        // the chains whose nft name is not the prefixed iptables name
        let mut renames: HashMap<&str, String> = HashMap::default();
        for chain in &table.chains {
            if (chain.is_builtin() && !inet) || !renaming || valid(prefix, &chain.name) {
                continue;
            }
            let wanted = format!("{prefix}{}", chain.name);
            let nft = names::chain_name(&wanted, &taken);
            taken.insert(nft.clone());
            if !chain.is_builtin() {
                diagnostics.push(Diagnostic::new(
                    source,
                    TranslateError::RenamedChain {
                        span: chain.span,
                        from: chain.name.to_string(),
                        to: nft.clone(),
                        help: "nft chain names start with a letter, hold only letters, digits and `_-./:`, and are not nft keywords".into(),
                    },
                ));
            }
            renames.insert(&chain.name, nft);
        }
        // (called for every jump: without the formatting machinery, and no lookup when no
        // chain is renamed)
        let chain_name = |c: &str| {
            if !renames.is_empty()
                && let Some(nft) = renames.get(c)
            {
                return nft.clone();
            }
            [prefix, c].concat()
        };
        let fragments_reach = !uses_conntrack(inputs, table.family);
        // each chain on its own: lowered (and optimised) side by side on big tables
        let lowered = crate::threads::over_chains(table, crate::threads::count(), |range| {
            table.chains[range]
                .iter()
                .map(|chain| {
                    let cx = lower::Context {
                        family: table.family,
                        nft: family,
                        table: name,
                        chain_name: &chain_name,
                        input: *input,
                        fragments_reach,
                    };
                    let (rules, found) = lower_chain(&cx, chain, source, options.optimize);
                    // the chain's nft name, made here too (a name of its own per chain)
                    let nft_name = match chain.builtin {
                        Some(_) if !inet => chain.name.to_string(),
                        _ => chain_name(&chain.name),
                    };
                    (rules, found, nft_name)
                })
                .collect()
        });
        user_chains.reserve(table.chains.len());
        for (chain, (rules, found, nft_name)) in table.chains.iter().zip(lowered) {
            diagnostics.extend(found);
            match chain.builtin {
                Some(b) if inet => {
                    // the family's body, reached by `jump` from the shared base chain, which
                    // then applies the family's policy: a `return` or a `goto` that runs off
                    // its end comes back there, as it would to the built-in chain's policy
                    let body = nft_name;
                    match base_chains.iter_mut().find(|(h, _)| *h == b.hook) {
                        Some((_, bodies)) => bodies.push((table.family, b.policy, body.clone())),
                        None => base_chains.push((b.hook, vec![(table.family, b.policy, body.clone())])),
                    }
                    user_chains.push(Chain { name: body, base: None, rules });
                }
                Some(b) => user_chains.push(Chain { name: nft_name, base: Some(base(name, b.hook, b.policy)), rules }),
                None => user_chains.push(Chain { name: nft_name, base: None, rules }),
            }
        }
    }
    if inet {
        base_chains.sort_by_key(|(h, _)| *h);
        for (hook, bodies) in base_chains {
            let mut rules = Vec::new();
            for (fam, policy, body) in bodies {
                let nfproto = if fam == Family::Ipv4 { "ipv4" } else { "ipv6" };
                let family_rule = |verdict| {
                    let mut rule = Rule::new(Origin { input: 0, line: crate::source::Line(0) });
                    rule.exprs.push(Expr::Cmp {
                        key: Key::Other("meta nfproto".into()),
                        neg: false,
                        value: Value::One(nfproto.into()),
                    });
                    rule.verdict = Some(verdict);
                    rule
                };
                rules.push(family_rule(Verdict::Jump(body)));
                if policy == Policy::Drop {
                    rules.push(family_rule(Verdict::Drop));
                }
            }
            user_chains.push(Chain { name: hook.as_str().into(), base: Some(base(name, hook, Policy::Accept)), rules });
        }
    }
    let mut table = Table { family, name: format!("{}{}", options.table_prefix, name.as_str()), chains: user_chains };
    if options.optimize {
        optimize::inline(&mut table);
    }
    let mut references = ir::references(&table.chains);
    let (chains, place) = order_chains(table.chains, &references);
    table.chains = chains;
    if options.optimize {
        for r in &mut references {
            r.caller = place[r.caller as usize];
            r.callee = place[r.callee as usize];
        }
        known::drop_known_tests(&mut table, references);
    }
    table
}

/// Whether the dumps' tables of one family turn conntrack on when loaded (a NAT target, or a
/// match or target that needs connections), which reassembles fragments before any chain. The
/// translation turns it on exactly when the dumps do: the same matches become `ct` expressions.
/// A nat table by itself does not (legacy's nor nft's nat chains: an empty one leaves later
/// fragments to the filter chains, tests/tier/translate_kernel.rs).
fn uses_conntrack(inputs: &[Input<'_>], family: Family) -> bool {
    use crate::model::{MatchKind, TargetKind};
    inputs.iter().flat_map(|i| &i.ruleset.tables).filter(|t| t.family == family).any(|t| {
        t.chains.iter().flat_map(|c| &c.rules).any(|r| {
            matches!(
                r.target.kind,
                TargetKind::Connmark(_)
                    | TargetKind::Dnat(_)
                    | TargetKind::Snat(_)
                    | TargetKind::Masquerade(_)
                    | TargetKind::Redirect(_)
                    | TargetKind::Netmap(_)
            ) || matches!(&r.target.kind, TargetKind::Ct(ct) if !ct.is_notrack_only())
                || r.matches.iter().any(|m| {
                    matches!(
                        m.kind,
                        MatchKind::State(_)
                            | MatchKind::Conntrack(_)
                            | MatchKind::Connmark(_)
                            | MatchKind::Helper(_)
                            | MatchKind::Connlimit(_)
                            | MatchKind::Connbytes(_)
                    )
                })
        })
    })
}

/// One chain's nft rules, and the diagnostics of its rules.
fn lower_chain(
    cx: &lower::Context<'_>,
    chain: &crate::model::Chain,
    source: &Source,
    optimize: bool,
) -> (Vec<Rule>, Vec<Diagnostic>) {
    let mut rules = Vec::with_capacity(chain.rules.len());
    let mut diagnostics = Vec::new();
    for rule in &chain.rules {
        let before = rules.len();
        match cx.rule(rule, &mut rules) {
            Ok(()) => {
                for one in &mut rules[before..] {
                    fix_comment(one, rule.span, source, &mut diagnostics);
                }
            }
            Err(refusals) => {
                for r in refusals {
                    diagnostics.push(Diagnostic::new(
                        source,
                        TranslateError::Untranslatable { span: r.span, what: r.what, why: r.why },
                    ));
                }
            }
        }
    }
    if optimize {
        optimize::rules(&mut rules);
    }
    (rules, diagnostics)
}

/// Callees before their callers (nft resolves a jump as it reads it), base chains last, each in
/// hook order; otherwise the dump's order. `references` are the chains' ways into each other,
/// in their order ([`ir::references`]). Also gives each chain's new place, by its old one.
fn order_chains(chains: Vec<Chain>, references: &[ir::Reference]) -> (Vec<Chain>, Vec<u32>) {
    // chain `i`'s callees are `references[starts[i]..starts[i + 1]]`, in its rules' order
    let starts: Vec<usize> =
        (0..=chains.len()).map(|i| references.partition_point(|r| (r.caller as usize) < i)).collect();
    let callees_of = |i: usize| &references[starts[i]..starts[i + 1]];
    let mut order = Vec::with_capacity(chains.len());
    let mut state = vec![0u8; chains.len()]; // 0 new, 1 visiting, 2 done
    let roots: Vec<usize> = (0..chains.len())
        .filter(|&i| chains[i].base.is_none())
        .chain((0..chains.len()).filter(|&i| chains[i].base.is_some()))
        .collect();
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        // iterative post-order: iptables forbids loops, but a bad input must not overflow
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((at, next)) = stack.pop() {
            if let Some(reference) = callees_of(at).get(next) {
                let callee = reference.callee as usize;
                stack.push((at, next + 1));
                if state[callee] == 0 && chains[callee].base.is_none() {
                    state[callee] = 1;
                    stack.push((callee, 0));
                }
            } else {
                state[at] = 2;
                order.push(at);
            }
        }
    }
    let (mut bases, users): (Vec<usize>, Vec<usize>) = order.into_iter().partition(|&i| chains[i].base.is_some());
    bases.sort_by_key(|&i| hook_rank(chains[i].base.as_ref().map_or("", |b| b.hook)));
    let mut place = vec![0u32; chains.len()];
    let mut slots: Vec<Option<Chain>> = chains.into_iter().map(Some).collect();
    let ordered = users
        .into_iter()
        .chain(bases)
        .filter_map(|i| {
            let chain = slots[i].take()?;
            Some((i, chain))
        })
        .enumerate()
        .map(|(new, (old, chain))| {
            place[old] = new as u32;
            chain
        })
        .collect();
    (ordered, place)
}

fn hook_rank(hook: &str) -> usize {
    ["prerouting", "input", "forward", "output", "postrouting"].iter().position(|h| *h == hook).unwrap_or(5)
}

/// nft comments hold at most 128 bytes and no `"`.
fn fix_comment(rule: &mut Rule, span: Span, source: &Source, diagnostics: &mut Vec<Diagnostic>) {
    let Some(comment) = &mut rule.comment else { return };
    let mut why = Vec::new();
    if memchr::memchr2(b'"', b'\n', comment.as_bytes()).is_some() {
        *comment = comment.replace('"', "'").replace('\n', " ");
        why.push("nft strings cannot hold `\"`: written as `'`");
    }
    if comment.len() > 128 {
        let mut end = 125;
        while !comment.is_char_boundary(end) {
            end -= 1;
        }
        comment.truncate(end);
        comment.push_str("...");
        why.push("nft keeps at most 128 bytes: shortened");
    }
    if !why.is_empty() {
        diagnostics.push(Diagnostic::new(source, TranslateError::CommentChanged { span, why: why.join("; ") }));
    }
}
