//! `ipt translate`: iptables rulesets compiled to one nft script that means exactly the same.
//!
//! Each iptables table becomes an nft table of its own (`ipt-filter`, `ipt-nat`...), its built-in
//! chains base chains at the priority iptables registers that table at, so the kernel runs them
//! in the same order. Each rule is lowered on its own ([`lower`]); a rule that has no exact nft
//! form is refused with its span and the reason, never dropped or approximated. The optimiser
//! ([`optimize`]) then merges runs of rules into sets and verdict maps where that is exact.

pub mod ir;
mod json;
mod lower;
mod names;
mod optimize;
mod stats;

use std::collections::HashMap;

pub use ir::NftFamily;
pub use json::UnknownFragment;
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
pub struct Translation {
    pub script: Script,
    /// Errors (rules with no exact nft form) and warnings (renamed chains, shortened comments).
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
}

impl Translation {
    /// Whether every rule was translated.
    pub fn complete(&self) -> bool {
        self.diagnostics.iter().all(|d| d.severity() != crate::diag::Severity::Error)
    }
}

/// Problems translating.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TranslateError {
    #[error("`{what}` has no exact nft equivalent")]
    #[diagnostic(code(ipt::translate::untranslatable))]
    Untranslatable {
        #[label("{why}")]
        span: Span,
        what: String,
        why: String,
        #[help]
        help: String,
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

/// Translates every table of every input.
pub fn translate(inputs: &[Input<'_>], options: &Options) -> Translation {
    let mut diagnostics = Vec::new();
    // the iptables tables that go into each nft table, in input order
    let mut groups: Vec<(TableKey, Vec<Member<'_>>)> = Vec::new();
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
    let mut script = Script::default();
    let mut before = Vec::new();
    for ((family, name), tables) in &groups {
        let table = translate_table(inputs, *family, *name, tables, options, &mut diagnostics);
        for (_, t) in tables {
            before.push(stats::iptables_worst(t));
        }
        script.tables.push(table);
    }
    let rules_before = inputs
        .iter()
        .flat_map(|i| &i.ruleset.tables)
        .filter(|t| groups.iter().any(|(_, ts)| ts.iter().any(|(_, x)| std::ptr::eq(*x, *t))))
        .map(IptTable::rule_count)
        .sum();
    if options.optimize {
        for table in &mut script.tables {
            optimize::table(table);
        }
    }
    let stats = Stats::new(rules_before, &before, &script);
    Translation { script, diagnostics, stats }
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
    let mut base_chains: Vec<(Hook, Vec<(Family, String)>)> = Vec::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for hook in Hook::ALL {
        if tables.iter().any(|(_, t)| t.chain(hook.as_str()).is_some_and(|c| c.is_builtin())) {
            taken.insert(hook.as_str().to_string());
        }
    }
    for (input, table) in tables {
        let source = inputs[*input].source;
        let prefix = if inet { if table.family == Family::Ipv4 { "ip." } else { "ip6." } } else { "" };
        let mut renames: HashMap<&str, String> = HashMap::new();
        for chain in &table.chains {
            if chain.is_builtin() && !inet {
                continue;
            }
            let wanted = format!("{prefix}{}", chain.name);
            let nft = names::chain_name(&wanted, &taken);
            taken.insert(nft.clone());
            if nft != wanted && !chain.is_builtin() {
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
        let chain_name = |c: &str| renames.get(c).cloned().unwrap_or_else(|| c.to_string());
        for chain in &table.chains {
            let policy_for_return = if inet { chain.policy() } else { None };
            let cx = lower::Context {
                family: table.family,
                nft: family,
                table: name,
                chain_name: &chain_name,
                policy_for_return,
                input: *input,
            };
            let mut rules = Vec::with_capacity(chain.rules.len());
            for rule in &chain.rules {
                match cx.rule(rule) {
                    Ok(lowered) => {
                        for mut one in lowered {
                            fix_comment(&mut one, rule.span, source, diagnostics);
                            rules.push(one);
                        }
                    }
                    Err(refusals) => {
                        for r in refusals {
                            diagnostics.push(Diagnostic::new(
                                source,
                                TranslateError::Untranslatable {
                                    span: r.span,
                                    what: r.what,
                                    help: format!("{}; see docs/translate.md for what ipt translates", r.why),
                                    why: "no exact nft form".into(),
                                },
                            ));
                        }
                    }
                }
            }
            match chain.builtin {
                Some(b) if inet => {
                    // the family's body, reached by `goto` from the shared base chain; its
                    // policy comes last (`return` from it would take the base chain's policy)
                    if b.policy == Policy::Drop {
                        let origin = Origin {
                            input: *input,
                            line: chain.rules.last().map_or(crate::source::Line(0), |r| r.line),
                        };
                        let mut drop = Rule::new(origin);
                        drop.verdict = Some(Verdict::Drop);
                        rules.push(drop);
                    }
                    let body = chain_name(&chain.name);
                    match base_chains.iter_mut().find(|(h, _)| *h == b.hook) {
                        Some((_, bodies)) => bodies.push((table.family, body.clone())),
                        None => base_chains.push((b.hook, vec![(table.family, body.clone())])),
                    }
                    user_chains.push(Chain { name: body, base: None, rules });
                }
                Some(b) => user_chains.push(Chain {
                    name: chain.name.to_string(),
                    base: Some(base(name, b.hook, b.policy)),
                    rules,
                }),
                None => user_chains.push(Chain { name: chain_name(&chain.name), base: None, rules }),
            }
        }
    }
    if inet {
        base_chains.sort_by_key(|(h, _)| *h);
        for (hook, bodies) in base_chains {
            let mut rules = Vec::new();
            for (fam, body) in bodies {
                let mut dispatch = Rule::new(Origin { input: 0, line: crate::source::Line(0) });
                let nfproto = if fam == Family::Ipv4 { "ipv4" } else { "ipv6" };
                dispatch.exprs.push(Expr::Cmp {
                    key: Key::Other("meta nfproto".into()),
                    neg: false,
                    value: Value::One(nfproto.into()),
                });
                dispatch.verdict = Some(Verdict::Goto(body));
                rules.push(dispatch);
            }
            user_chains.push(Chain { name: hook.as_str().into(), base: Some(base(name, hook, Policy::Accept)), rules });
        }
    }
    let chains = order_chains(user_chains);
    Table { family, name: format!("{}{}", options.table_prefix, name.as_str()), chains }
}

/// Callees before their callers (nft resolves a jump as it reads it), base chains last, each in
/// hook order; otherwise the dump's order.
fn order_chains(chains: Vec<Chain>) -> Vec<Chain> {
    let index: HashMap<&str, usize> = chains.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
    let mut order = Vec::with_capacity(chains.len());
    let callees: Vec<Vec<usize>> = chains
        .iter()
        .map(|c| c.rules.iter().flat_map(Rule::callees).filter_map(|n| index.get(n).copied()).collect())
        .collect();
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
            if let Some(&callee) = callees[at].get(next) {
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
    let mut slots: Vec<Option<Chain>> = chains.into_iter().map(Some).collect();
    users.into_iter().chain(bases).filter_map(|i| slots[i].take()).collect()
}

fn hook_rank(hook: &str) -> usize {
    ["prerouting", "input", "forward", "output", "postrouting"].iter().position(|h| *h == hook).unwrap_or(5)
}

/// nft comments hold at most 128 bytes and no `"`.
fn fix_comment(rule: &mut Rule, span: Span, source: &Source, diagnostics: &mut Vec<Diagnostic>) {
    let Some(comment) = &mut rule.comment else { return };
    let mut why = Vec::new();
    if comment.contains(['"', '\n']) {
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
