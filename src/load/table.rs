//! One table section being built: chains declared, commands applied in order, as
//! `iptables-restore` applies them to a freshly flushed table.

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::sync::Arc;

use super::command::{Command, CommandKind, RuleSpec, TargetRef, Word};
use super::error::LoadError;
use crate::model::{Chain, ChainName, Counters, Family, Neg, Net, Policy, Rule, Table, TableName, Target, TargetKind};
use crate::source::{Line, Span};
use crate::syntax::ChainDecl;

/// The longest chain name: `XT_EXTENSION_MAXNAMELEN` less the NUL.
pub const MAX_CHAIN_NAME: usize = 28;

/// A command line made ready where it was read (on any of the reading threads): a rule
/// command's rules are built there, so that the table, which applies lines one at a time, only
/// resolves their target.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub kind: CommandKind,
    /// The command option (`-A`).
    pub span: Span,
    pub chain: Option<Word<'a>>,
    pub number: Option<(u64, Span)>,
    pub second: Option<Word<'a>>,
    /// `-c` or the line's `[packets:bytes]` (what `-P` sets).
    pub counters: Option<Counters>,
    /// Whether any rule part was given (`-D CHAIN N` gives none).
    rule_given: bool,
    /// `-i` and `-o`, which iptables refuses in some chains.
    iface_options: SmallVec<[(char, Span); 2]>,
    target: TargetRef<'a>,
    /// One rule per source × destination address, in iptables' order, without their target.
    rules: SmallVec<[Rule; 1]>,
}

impl<'a> Prepared<'a> {
    /// Makes a command read from `line` (whose counters, if any, are `counters`) ready to apply,
    /// in `slot`, its rules built in place from the parts of the command's rule specification
    /// (moved whole, they were most of what reading a line copied).
    pub fn fill(
        slot: &mut Option<Prepared<'a>>,
        command: &mut Command<'a, '_>,
        line: Line,
        line_span: Span,
        counters: Option<Counters>,
    ) {
        let spec = &mut command.rule;
        if let Some(c) = counters {
            spec.counters.get_or_insert(c);
        }
        let prepared = slot.insert(Prepared {
            kind: command.kind,
            span: command.span,
            chain: command.chain.take(),
            number: command.number,
            second: command.second.take(),
            counters: spec.counters,
            rule_given: rule_given(spec),
            iface_options: spec.options.iter().copied().filter(|&(c, _)| matches!(c, 'i' | 'o')).collect(),
            target: std::mem::take(&mut spec.target),
            rules: SmallVec::new(),
        });
        if prepared.kind.takes_rule() {
            build_rules(spec, line, line_span, &mut prepared.rules);
        }
    }
}

pub struct TableBuilder {
    pub name: TableName,
    pub family: Family,
    pub span: Span,
    /// Chains by creation order; a deleted chain leaves `None`.
    chains: Vec<Option<Chain>>,
    index: HashMap<ChainName, usize>,
    pub comments: Vec<Box<str>>,
    /// Rules appended to one chain and not yet moved into it. A dump appends a chain's rules
    /// one after another: moved in all at once, they get exactly the room they need (growing a
    /// rule at a time costs a reallocation a rule, doubling leaves room unused). Any command
    /// other than appending to this chain moves them in first.
    pending: (usize, Vec<Rule>),
}

impl TableBuilder {
    /// A table with its built-in chains, and room for `declared` more (the `:` lines of its
    /// section, counted ahead: growing by doubling would leave up to half the room unused).
    pub fn new(name: TableName, family: Family, span: Span, declared: usize) -> TableBuilder {
        let room = name.hooks().len() + declared;
        let mut builder = TableBuilder {
            name,
            family,
            span,
            chains: Vec::with_capacity(room),
            index: HashMap::with_capacity_and_hasher(room, Default::default()),
            comments: Vec::new(),
            pending: (0, Vec::new()),
        };
        for &hook in name.hooks() {
            builder.add(Chain::builtin(hook));
        }
        builder
    }

    /// Moves the pending rules into their chain.
    fn flush_pending(&mut self) {
        let (i, pending) = &mut self.pending;
        if pending.is_empty() {
            return;
        }
        let chain = self.chains[*i].as_mut().expect("a chain with pending rules exists");
        // a chain's first rules get exactly the room they need; a chain that gets more later (a
        // dump that appends to its chains in turn, as kube-proxy's does) grows by doubling, or
        // each turn would copy the whole chain (`finish` gives back the room left over)
        if chain.rules.is_empty() {
            chain.rules.reserve_exact(pending.len());
        }
        chain.rules.append(pending);
    }

    fn add(&mut self, chain: Chain) {
        self.index.insert(chain.name.clone(), self.chains.len());
        self.chains.push(Some(chain));
    }

    fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        let &i = self.index.get(name)?;
        self.chains[i].as_mut()
    }

    fn has_chain(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The shared name of an existing chain.
    fn chain_name(&self, name: &str) -> Option<ChainName> {
        self.index.get_key_value(name).map(|(k, _)| k.clone())
    }

    /// `:NAME POLICY [p:b]`.
    pub fn declare(&mut self, decl: &ChainDecl<'_>, comments: Vec<Box<str>>, problems: &mut Vec<LoadError>) -> bool {
        let name = decl.name;
        if name.len() > MAX_CHAIN_NAME {
            problems.push(LoadError::ChainNameTooLong { span: decl.name_span, name: name.into(), len: name.len() });
            return false;
        }
        let builtin = self.name.builtin(name);
        if builtin.is_none() {
            // libiptc's `iptc_create_chain` refuses the verdicts' names; `:` skips the other
            // checks of `-N`
            if ["ACCEPT", "DROP", "RETURN", "QUEUE"].contains(&name) {
                let why = "it is the name of a verdict";
                problems.push(LoadError::BadChainName { span: decl.name_span, name: name.into(), why });
                return false;
            }
            if let Some(&i) = self.index.get(name) {
                let first = self.chains[i].as_ref().map_or(Span::default(), |c| c.span);
                problems.push(LoadError::DuplicateChain { span: decl.name_span, chain: name.into(), first });
                return false;
            }
            let mut chain = Chain::user(Arc::from(name), decl.name_span);
            chain.add_comments(comments);
            self.add(chain);
        } else if let Some(chain) = self.chain_mut(name) {
            chain.span = decl.name_span;
            chain.add_comments(comments);
        }
        if decl.policy == "-" {
            return true;
        }
        let table = self.name.as_str();
        let Some(policy) = Policy::parse(decl.policy) else {
            problems.push(LoadError::BadPolicy { span: decl.policy_span, policy: decl.policy.into() });
            return false;
        };
        if builtin.is_none() {
            problems.push(LoadError::PolicyOnUserChain { span: decl.policy_span, chain: name.into(), table });
            return false;
        }
        let chain = self.chain_mut(name).expect("built-in chains always exist");
        if let Some(b) = chain.builtin.as_mut() {
            b.policy = policy;
        }
        if let Some((counters, _)) = decl.counters {
            chain.set_counters(counters);
        }
        true
    }

    /// Applies one command line. Returns whether it would load. (The command is borrowed, and
    /// its parts taken out: moving it whole costs more than reading it.)
    pub fn apply(
        &mut self,
        command: &mut Prepared,
        line_span: Span,
        comments: Vec<Box<str>>,
        problems: &mut Vec<LoadError>,
    ) -> bool {
        let chain_word = command.chain.take();
        if command.kind != CommandKind::Append {
            self.flush_pending();
        }
        match command.kind {
            CommandKind::Append
            | CommandKind::Insert
            | CommandKind::Replace
            | CommandKind::Delete
            | CommandKind::Check => {
                let Some(chain) = chain_word else { return false };
                let index = self.index.get(&*chain.text).copied();
                if !self.check_rule_chain(command, &chain, index.is_some(), problems) {
                    return false;
                }
                let Some(i) = index else { return false };
                if command.kind == CommandKind::Delete && command.number.is_some() && !command.rule_given {
                    return self.delete_number(&chain, command.number, problems);
                }
                let target = std::mem::take(&mut command.target);
                // the rules stay in the command (moving them costs more than reading them)
                let rules = &mut command.rules;
                if !self.resolve_target(target, rules, comments, problems) {
                    return false;
                }
                if command.kind == CommandKind::Append {
                    if self.pending.0 != i {
                        self.flush_pending();
                        self.pending.0 = i;
                    }
                    self.pending.1.extend(rules.drain(..));
                    return true;
                }
                let target = self.chains[i].as_mut().expect("indexed chains exist");
                match command.kind {
                    CommandKind::Insert => {
                        let at = command.number.map_or(1, |(n, _)| n) as usize;
                        if at > target.rules.len() + 1 {
                            let len = target.rules.len();
                            let span = command.number.map_or(command.span, |(_, s)| s);
                            problems.push(LoadError::RuleNumber {
                                span,
                                number: at as u64,
                                chain: chain.text.to_string(),
                                len,
                            });
                            return false;
                        }
                        // iptables inserts each address combination at the same position
                        for rule in rules.drain(..) {
                            target.rules.insert(at - 1, rule);
                        }
                        true
                    }
                    CommandKind::Replace => {
                        let at = command.number.map_or(0, |(n, _)| n) as usize;
                        if at == 0 || at > target.rules.len() || rules.len() != 1 {
                            let len = target.rules.len();
                            let span = command.number.map_or(command.span, |(_, s)| s);
                            problems.push(LoadError::RuleNumber {
                                span,
                                number: at as u64,
                                chain: chain.text.to_string(),
                                len,
                            });
                            return false;
                        }
                        target.rules[at - 1] = rules.pop().expect("one rule");
                        true
                    }
                    CommandKind::Delete | CommandKind::Check => {
                        for rule in rules.iter() {
                            match target.rules.iter().position(|r| r.same_spec(rule)) {
                                Some(i) if command.kind == CommandKind::Delete => {
                                    target.rules.remove(i);
                                }
                                Some(_) => {}
                                None => {
                                    problems
                                        .push(LoadError::NoSuchRule { span: line_span, chain: chain.text.to_string() });
                                    return false;
                                }
                            }
                        }
                        true
                    }
                    _ => unreachable!(),
                }
            }
            CommandKind::NewChain => {
                let Some(chain) = chain_word else { return false };
                if !self.valid_new_name(&chain, problems) {
                    return false;
                }
                if let Some(&i) = self.index.get(&*chain.text) {
                    let first = self.chains[i].as_ref().map_or(Span::default(), |c| c.span);
                    problems.push(LoadError::DuplicateChain { span: chain.span, chain: chain.text.to_string(), first });
                    return false;
                }
                let mut new = Chain::user(Arc::from(&*chain.text), chain.span);
                new.add_comments(comments);
                self.add(new);
                true
            }
            CommandKind::DeleteChain => match chain_word {
                Some(chain) => self.delete_chain(&chain, problems),
                None => {
                    let users: Vec<Word<'_>> = self
                        .chains
                        .iter()
                        .flatten()
                        .filter(|c| !c.is_builtin())
                        .map(|c| Word { text: c.name.to_string().into(), span: command.span })
                        .collect();
                    users.iter().all(|w| self.delete_chain(w, problems))
                }
            },
            CommandKind::Flush => {
                match chain_word {
                    Some(chain) => match self.chain_mut(&chain.text) {
                        Some(c) => c.rules.clear(),
                        None => {
                            problems.push(self.no_such_chain(&chain));
                            return false;
                        }
                    },
                    None => self.chains.iter_mut().flatten().for_each(|c| c.rules.clear()),
                }
                true
            }
            CommandKind::Zero => {
                if let Some(chain) = &chain_word
                    && !self.has_chain(&chain.text)
                {
                    problems.push(self.no_such_chain(chain));
                    return false;
                }
                for c in self.chains.iter_mut().flatten() {
                    if chain_word.as_ref().is_none_or(|w| *c.name == *w.text) {
                        c.set_counters(Counters::default());
                        for r in &mut c.rules {
                            if r.counters().is_some() {
                                r.set_counters(Some(Counters::default()));
                            }
                        }
                    }
                }
                true
            }
            CommandKind::Policy => {
                let (Some(chain), Some(policy_word)) = (chain_word, command.second.take()) else { return false };
                let Some(policy) = Policy::parse(&policy_word.text) else {
                    problems
                        .push(LoadError::BadPolicy { span: policy_word.span, policy: policy_word.text.to_string() });
                    return false;
                };
                if self.name == TableName::Nat && policy == Policy::Drop {
                    problems.push(LoadError::DropInNat { span: policy_word.span });
                    return false;
                }
                let table = self.name.as_str();
                match self.chain_mut(&chain.text) {
                    Some(c) => match c.builtin.as_mut() {
                        Some(b) => {
                            b.policy = policy;
                            if let Some(counters) = command.counters {
                                c.set_counters(counters);
                            }
                            true
                        }
                        None => {
                            problems.push(LoadError::PolicyOnUserChain {
                                span: policy_word.span,
                                chain: chain.text.to_string(),
                                table,
                            });
                            false
                        }
                    },
                    None => {
                        problems.push(self.no_such_chain(&chain));
                        false
                    }
                }
            }
            CommandKind::Rename => {
                let (Some(old), Some(new)) = (chain_word, command.second.take()) else { return false };
                if !self.valid_new_name(&new, problems) {
                    return false;
                }
                let Some(&i) = self.index.get(&*old.text) else {
                    problems.push(self.no_such_chain(&old));
                    return false;
                };
                if self.chains[i].as_ref().is_some_and(Chain::is_builtin) {
                    problems.push(LoadError::BadChainName {
                        span: old.span,
                        name: old.text.to_string(),
                        why: "a built-in chain cannot be renamed",
                    });
                    return false;
                }
                if let Some(&j) = self.index.get(&*new.text) {
                    let first = self.chains[j].as_ref().map_or(Span::default(), |c| c.span);
                    problems.push(LoadError::DuplicateChain { span: new.span, chain: new.text.to_string(), first });
                    return false;
                }
                let new_name: ChainName = Arc::from(&*new.text);
                self.index.remove(&*old.text);
                self.index.insert(new_name.clone(), i);
                if let Some(c) = self.chains[i].as_mut() {
                    c.name = new_name.clone();
                }
                for c in self.chains.iter_mut().flatten() {
                    for r in &mut c.rules {
                        if let TargetKind::Jump(t) | TargetKind::Goto(t) = &mut r.target.kind
                            && **t == *old.text
                        {
                            *t = new_name.clone();
                        }
                    }
                }
                true
            }
            CommandKind::List => {
                problems.push(LoadError::UnsupportedCommand { span: command.span, command: "-L / -S".into() });
                true
            }
        }
    }

    fn no_such_chain(&self, chain: &Word<'_>) -> LoadError {
        LoadError::NoSuchChain { span: chain.span, chain: chain.text.to_string(), table: self.name.as_str() }
    }

    /// `assert_valid_chain_name`, for `-N` and `-E`.
    fn valid_new_name(&self, chain: &Word<'_>, problems: &mut Vec<LoadError>) -> bool {
        let name = &*chain.text;
        let why = if name.len() > MAX_CHAIN_NAME {
            problems.push(LoadError::ChainNameTooLong { span: chain.span, name: name.into(), len: name.len() });
            return false;
        } else if name.starts_with('-') || name.starts_with('!') {
            Some("a chain name cannot start with `-` or `!`")
        } else if name.contains(char::is_whitespace) {
            Some("a chain name has no blanks")
        } else if ["ACCEPT", "DROP", "RETURN", "QUEUE"].contains(&name) || crate::ext::known_target(name).is_some() {
            Some("it is the name of a target")
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(LoadError::BadChainName { span: chain.span, name: name.into(), why });
            return false;
        }
        true
    }

    fn check_rule_chain(
        &self,
        command: &Prepared<'_>,
        chain: &Word<'_>,
        exists: bool,
        problems: &mut Vec<LoadError>,
    ) -> bool {
        let mut ok = true;
        if !exists {
            problems.push(self.no_such_chain(chain));
            ok = false;
        }
        // iptables refuses -o on incoming and -i on outgoing chains, by the chain's name
        for &(letter, span) in &command.iface_options {
            let why = match (letter, &*chain.text) {
                ('o', "PREROUTING" | "INPUT") => Some("a packet coming in has no output interface yet"),
                ('i', "POSTROUTING" | "OUTPUT") => Some("a packet going out has no input interface"),
                _ => None,
            };
            if let Some(why) = why {
                problems.push(LoadError::InterfaceInWrongChain {
                    span,
                    option: format!("-{letter}"),
                    chain: chain.text.to_string(),
                    why,
                });
                ok = false;
            }
        }
        ok
    }

    fn delete_number(&mut self, chain: &Word<'_>, number: Option<(u64, Span)>, problems: &mut Vec<LoadError>) -> bool {
        let (n, span) = number.expect("checked by the caller");
        let target = self.chain_mut(&chain.text).expect("checked by the caller");
        if n == 0 || n as usize > target.rules.len() {
            let len = target.rules.len();
            problems.push(LoadError::RuleNumber { span, number: n, chain: chain.text.to_string(), len });
            return false;
        }
        target.rules.remove(n as usize - 1);
        true
    }

    fn delete_chain(&mut self, chain: &Word<'_>, problems: &mut Vec<LoadError>) -> bool {
        let Some(&i) = self.index.get(&*chain.text) else {
            problems.push(self.no_such_chain(chain));
            return false;
        };
        let c = self.chains[i].as_ref().expect("indexed chains exist");
        if c.is_builtin() {
            problems.push(LoadError::DeleteBuiltin { span: chain.span, chain: chain.text.to_string() });
            return false;
        }
        if !c.rules.is_empty() {
            problems.push(LoadError::ChainBusy {
                span: chain.span,
                chain: chain.text.to_string(),
                why: format!("it still has {} rules (flush it first)", c.rules.len()),
            });
            return false;
        }
        let referenced = self.chains.iter().flatten().any(|c| {
            c.rules
                .iter()
                .any(|r| matches!(&r.target.kind, TargetKind::Jump(t) | TargetKind::Goto(t) if **t == *chain.text))
        });
        if referenced {
            problems.push(LoadError::ChainBusy {
                span: chain.span,
                chain: chain.text.to_string(),
                why: "rules still jump to it".into(),
            });
            return false;
        }
        self.index.remove(&*chain.text);
        self.chains[i] = None;
        true
    }

    /// Gives the rules of a line their target, now that the table's chains are known, and the
    /// first one the `#` lines before it.
    fn resolve_target(
        &self,
        target: TargetRef<'_>,
        rules: &mut SmallVec<[Rule; 1]>,
        comments: Vec<Box<str>>,
        problems: &mut Vec<LoadError>,
    ) -> bool {
        let target = match target {
            TargetRef::None => Target { span: Span::default(), kind: TargetKind::Continue },
            TargetRef::Target { kind, span, name_span } => {
                if let Some(shared) = self.chain_name(kind.name().unwrap_or_default()) {
                    problems.push(LoadError::ChainShadowsTarget { span: name_span, name: shared.to_string() });
                    if span.end > name_span.end {
                        let options = Span { start: name_span.end + 1, end: span.end };
                        problems.push(LoadError::OptionsToChain { span: options, name: shared.to_string() });
                        return false;
                    }
                    Target { span, kind: TargetKind::Jump(shared) }
                } else {
                    if self.name == TableName::Nat && kind == TargetKind::Drop {
                        problems.push(LoadError::DropInNat { span });
                        return false;
                    }
                    Target { span, kind }
                }
            }
            TargetRef::ChainOrRefused(refused) => match self.chain_name(&refused.name) {
                Some(shared) => {
                    problems.push(LoadError::ChainShadowsTarget { span: refused.name_span, name: shared.to_string() });
                    Target { span: refused.span, kind: TargetKind::Jump(shared) }
                }
                None => {
                    problems.extend(refused.problems);
                    return false;
                }
            },
            TargetRef::Chain { name, span, goto } => match self.chain_name(&name) {
                Some(_) if self.name.builtin(&name).is_some() => {
                    problems.push(LoadError::JumpToBuiltin { span, name: name.to_string() });
                    return false;
                }
                Some(shared) => {
                    Target { span, kind: if goto { TargetKind::Goto(shared) } else { TargetKind::Jump(shared) } }
                }
                None if goto => {
                    problems.push(LoadError::GotoNotChain { span, name: name.to_string() });
                    return false;
                }
                None => {
                    let help = self.similar_chain(&name).map(|c| format!("did you mean the chain `{c}`?")).or_else(|| {
                        Some(format!("declare the chain before this line, `:{name} - [0:0]` after the table header, or name a target iptables has"))
                    });
                    problems.push(LoadError::UndeclaredChain { span, name: name.to_string(), help });
                    return false;
                }
            },
        };
        if let Some((last, others)) = rules.split_last_mut() {
            for rule in others {
                rule.target = target.clone();
            }
            last.target = target;
        }
        if let Some(first) = rules.first_mut()
            && !comments.is_empty()
        {
            first.set_comments(comments.into_boxed_slice());
        }
        true
    }

    /// A chain whose name differs only in case, for "did you mean".
    fn similar_chain(&self, name: &str) -> Option<ChainName> {
        self.index.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
    }

    /// The finished table: built-in chains in hook order, then user chains by name.
    pub fn finish(mut self) -> Table {
        self.flush_pending();
        // the name index is done with: its room is the sort's below (a big load holds nearly the
        // most memory it will here)
        drop(std::mem::take(&mut self.index));
        // no two chains have the same key (one chain per hook, one per name), so an unstable sort,
        // in place, gives the one order
        // `filter_map` (not `flatten`) collects into the same allocation: an `Option<Chain>` is
        // the size of a `Chain`
        #[allow(clippy::filter_map_identity)]
        let mut chains: Vec<Chain> = self.chains.into_iter().filter_map(|c| c).collect();
        for chain in chains.iter_mut().filter(|c| c.rules.capacity() > c.rules.len()) {
            chain.rules.shrink_to_fit();
        }
        // sorted by position (a few bytes each), then put in that order: sorting the chains
        // themselves would move 96 bytes at every step
        // (one number decides most comparisons: a built-in chain's hook, below 8, or a user
        // chain's first 16 bytes, whose first is not 0, so above every hook)
        let key = |c: &Chain| match c.builtin {
            Some(b) => b.hook as u128,
            None => {
                let mut head = [0u8; 16];
                let n = c.name.len().min(16);
                head[..n].copy_from_slice(&c.name.as_bytes()[..n]);
                u128::from_be_bytes(head)
            }
        };
        let mut order: Vec<(u128, u32)> = chains.iter().enumerate().map(|(i, c)| (key(c), i as u32)).collect();
        order.sort_unstable();
        // names that share their first 16 bytes: each such run in name order
        for run in order.chunk_by_mut(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                run.sort_unstable_by(|x, y| {
                    chains[x.1 as usize].name.as_bytes().cmp(chains[y.1 as usize].name.as_bytes())
                });
            }
        }
        let order: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
        let chains = permute(chains, &order);
        Table { family: self.family, name: self.name, span: self.span, chains, comments: self.comments }
    }
}

/// The rules of a rule specification, without their target, into `rules`: one per source ×
/// destination address, in iptables' order. (The specification's parts are taken.)
fn build_rules(spec: &mut RuleSpec<'_>, line: Line, line_span: Span, rules: &mut SmallVec<[Rule; 1]>) {
    let target = Target { span: Span::default(), kind: TargetKind::Continue };
    let matches = boxed_slice(std::mem::take(&mut spec.matches));
    // an address as the rule keeps it: `-s 0.0.0.0/0` is no test at all
    let net = |net: Net, invert: bool, span: Span| (!net.is_any() || invert).then(|| Neg::new(invert, net, span));
    // most lines have at most one source and one destination: that rule, built in place
    let single = spec.src.len() <= 1 && spec.dst.len() <= 1;
    if single {
        // an empty list (every address refused) gives no rule, as below
        if (spec.src_neg.is_some() && spec.src.is_empty()) || (spec.dst_neg.is_some() && spec.dst.is_empty()) {
            return;
        }
    }
    rules.push(Rule::new(line, line_span, matches, target));
    let template = rules.last_mut().expect("just pushed");
    template.proto = spec.proto.take();
    if spec.counters.is_some()
        || spec.in_iface.is_some()
        || spec.out_iface.is_some()
        || spec.fragment.is_some()
        || !spec.old_negations.is_empty()
    {
        template.set_counters(spec.counters);
        template.set_in_iface(spec.in_iface.take());
        template.set_out_iface(spec.out_iface.take());
        template.set_fragment(spec.fragment.take());
        template.set_old_negations(std::mem::take(&mut spec.old_negations).into_boxed_slice());
    }
    if single {
        if let (Some((invert, span)), Some(n)) = (spec.src_neg, spec.src.pop()) {
            template.src = net(n, invert, span);
        }
        if let (Some((invert, span)), Some(n)) = (spec.dst_neg, spec.dst.pop()) {
            template.dst = net(n, invert, span);
        }
        return;
    }
    let template = rules.pop().expect("just pushed");
    let nets = |list: SmallVec<[Net; 1]>, neg: Option<(bool, Span)>| -> SmallVec<[Option<Neg<Net>>; 1]> {
        match neg {
            None => smallvec::smallvec![None],
            Some((invert, span)) => list.into_iter().map(|n| net(n, invert, span)).collect(),
        }
    };
    let srcs = nets(std::mem::take(&mut spec.src), spec.src_neg);
    let dsts = nets(std::mem::take(&mut spec.dst), spec.dst_neg);
    let total = srcs.len() * dsts.len();
    rules.reserve_exact(total);
    let mut template = Some(template);
    let mut n = 0;
    for src in &srcs {
        for dst in &dsts {
            n += 1;
            let mut rule = if n == total {
                template.take().expect("the last rule takes the template")
            } else {
                template.clone().expect("the template is there until the last rule")
            };
            rule.src = src.clone();
            rule.dst = dst.clone();
            rules.push(rule);
        }
    }
}

/// A small vector as a boxed slice of exactly its length (collecting a `SmallVec` into a `Vec`
/// reserves room for four, which `into_boxed_slice` then gives back by reallocating).
fn boxed_slice<A: smallvec::Array>(items: SmallVec<A>) -> Box<[A::Item]> {
    if items.spilled() {
        return items.into_vec().into_boxed_slice();
    }
    let mut out = Vec::with_capacity(items.len());
    out.extend(items);
    out.into_boxed_slice()
}

/// `items` in the order `order` gives (a permutation of their positions), in place.
fn permute<T>(mut items: Vec<T>, order: &[u32]) -> Vec<T> {
    // follow each cycle of the permutation: position `i` takes the item at `order[i]`
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let mut i = start;
        loop {
            done[i] = true;
            let from = order[i] as usize;
            if from == start {
                break;
            }
            items.swap(i, from);
            i = from;
        }
    }
    items
}

/// Whether a command gives any rule part (for `-D CHAIN N` without a rule).
fn rule_given(rule: &RuleSpec<'_>) -> bool {
    !rule.options.is_empty() || !rule.matches.is_empty() || !matches!(rule.target, TargetRef::None)
}

#[cfg(test)]
mod tests {
    use super::permute;
    use crate::load::{LoadOptions, read};
    use crate::source::Source;

    /// The lines of each chain's rules, by chain name, after reading a filter table.
    fn chains(body: &str) -> Vec<(String, Vec<u32>)> {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n");
        let loaded = read(&Source::new("t.rules", text), &LoadOptions::default());
        assert!(loaded.loads(), "{:?}", loaded.diagnostics.iter().map(|d| d.code()).collect::<Vec<_>>());
        let table = &loaded.ruleset.tables[0];
        table.chains.iter().map(|c| (c.name.to_string(), c.rules.iter().map(|r| r.line.0).collect())).collect()
    }

    #[test]
    fn appended_rules_keep_their_order_among_other_commands() {
        // lines 5.. : rules appended to X, interleaved with Y, an insert, a delete and a flush
        let body = "-N X\n-N Y\n-A X -p tcp\n-A X -p udp\n-A Y -p tcp\n-A X -p icmp\n-I X 1 -p sctp\n\
                    -A X -p dccp\n-D X -p udp\n-A Y -p udp\n-F Y\n-A Y -p icmp\n";
        let got = chains(body);
        let x = got.iter().find(|(n, _)| n == "X").unwrap();
        let y = got.iter().find(|(n, _)| n == "Y").unwrap();
        assert_eq!(x.1, vec![11, 7, 10, 12]);
        assert_eq!(y.1, vec![16]);
    }

    #[test]
    fn a_chain_with_appended_rules_cannot_be_deleted() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-N X\n-A X -p tcp\n-X X\nCOMMIT\n";
        let loaded = read(&Source::new("t.rules", text.to_string()), &LoadOptions::default());
        assert!(!loaded.loads());
    }

    #[test]
    fn chains_come_out_built_in_first_then_by_name() {
        let got: Vec<String> =
            chains(":b - [0:0]\n:C - [0:0]\n:a - [0:0]\n-A a -j b\n").into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, ["INPUT", "FORWARD", "OUTPUT", "C", "a", "b"]);
    }

    #[test]
    fn names_that_share_their_first_16_bytes_are_in_byte_order() {
        let decls = ":KUBE-SEP-ABCDEFGHZ - [0:0]\n:KUBE-SEP-ABCDEFG - [0:0]\n:KUBE-SEP-ABCDEFGHA - [0:0]\n:A - [0:0]\n";
        let got: Vec<String> = chains(decls).into_iter().map(|(n, _)| n).skip(3).collect();
        assert_eq!(got, ["A", "KUBE-SEP-ABCDEFG", "KUBE-SEP-ABCDEFGHA", "KUBE-SEP-ABCDEFGHZ"]);
    }

    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        let items: Vec<char> = "abcdef".chars().collect();
        let order = [3, 0, 5, 1, 2, 4];
        let got: String = permute(items.clone(), &order).into_iter().collect();
        let want: String = order.iter().map(|&i| items[i as usize]).collect();
        assert_eq!(got, want);
        assert_eq!(want, "dafbce");
    }
}
