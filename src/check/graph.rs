//! Which hooks reach each rule, found the way the kernel finds them (`mark_source_chains` in
//! `ip_tables.c`), and the jump loops that walk meets.
//!
//! For each hook the kernel walks from the hook's built-in chain: rule by rule, into every chain
//! a rule jumps or goes to (a `-g` is walked like a `-j`), back out at the end of a user chain,
//! and it stops a chain at the first rule that has no condition at all and an ACCEPT, DROP,
//! RETURN or QUEUE verdict. Only rules this walk reaches get their targets' and matches' hook
//! checks; a loop is refused only where the walk meets it. So a DNAT after an unconditional
//! ACCEPT in POSTROUTING loads, and so does a loop among chains nothing reaches. (Checked on a
//! real kernel: see fixtures/check/*unreached*.)

use crate::model::{Family, Hook, Rule, Table, TargetKind};

/// A jump or goto: from a rule of one chain to another chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from_chain: usize,
    pub rule: usize,
    pub to_chain: usize,
}

/// The walk's results for one table.
#[derive(Debug, PartialEq)]
pub struct Graph {
    /// For each rule of each chain, one after the other, the hooks whose walk reaches it (a
    /// bit per [`Hook`]).
    rule_hooks: Vec<u8>,
    /// Where each chain's rules start in `rule_hooks`.
    first_rule: Vec<usize>,
    /// For each chain and hook, the edge through which that hook's walk first entered it, as
    /// the chain and rule it comes from (`NOT_REACHED` when none): a table may have some 100k
    /// chains, and this is a fifth the size of `[Option<Edge>; 5]`.
    reached_by: Vec<[(u32, u32); 5]>,
    /// The loops the walks met, each as the edges that form it.
    loops: Vec<Vec<Edge>>,
}

/// No edge entered the chain.
const NOT_REACHED: (u32, u32) = (u32::MAX, u32::MAX);

/// One chain being walked: which chain, the next rule to look at, and how the walk got in.
struct Frame {
    chain: usize,
    next: usize,
    entered_by: Option<Edge>,
}

/// What the walk does at one rule, found once for every hook's walk: a chain index to enter,
/// [`ENDS`] (the rule ends its chain) or [`GOES_ON`] (on to the next rule).
type Step = u32;
const ENDS: Step = u32::MAX;
const GOES_ON: Step = u32::MAX - 1;

impl Graph {
    pub fn new(table: &Table) -> Graph {
        Graph::walk(table, crate::threads::count())
    }

    /// The walks, with the rules read on up to `threads` threads, and a big table's hooks walked
    /// side by side on as many (the walks from PREROUTING and OUTPUT through the nat table of
    /// the 100k kube dump, 1.1 million rules, take some 55 ms each).
    fn walk(table: &Table, threads: usize) -> Graph {
        let mut first_rule = Vec::with_capacity(table.chains.len());
        let mut rules = 0;
        for chain in &table.chains {
            first_rule.push(rules);
            rules += chain.rules.len();
        }
        let steps = steps(table, threads);
        debug_assert_eq!(steps.len(), rules);
        let mut graph = Graph {
            rule_hooks: vec![0; rules],
            first_rule,
            reached_by: vec![[NOT_REACHED; 5]; table.chains.len()],
            loops: Vec::new(),
        };
        let starts: Vec<(usize, Hook)> =
            table.chains.iter().enumerate().filter_map(|(i, c)| Some((i, c.hook()?))).collect();
        let threads = if rules < crate::threads::PARALLEL_RULES { 1 } else { threads };
        let runs = crate::threads::runs(std::iter::repeat_n(1, starts.len()), starts.len(), threads);
        let walks = crate::threads::side_by_side(runs, |run| {
            starts[run]
                .iter()
                .map(|&(start, hook)| walk_hook(&graph.first_rule, &steps, start, hook))
                .collect::<Vec<_>>()
        });
        // in the hooks' order, as one walk after the other finds them
        for walk in walks.into_iter().flatten() {
            for rule in walk.rules {
                graph.rule_hooks[rule as usize] |= walk.hook.bit();
            }
            for (chain, from) in walk.entered {
                graph.reached_by[chain as usize][walk.hook as usize] = from;
            }
            for cycle in walk.loops {
                if !graph.loops.iter().any(|l| same_cycle(l, &cycle)) {
                    graph.loops.push(cycle);
                }
            }
        }
        graph
    }

    /// The hooks whose walk reaches rule `rule` of chain `chain`.
    /// The hooks whose walk enters chain `chain` (a user chain; a built-in chain is its own).
    pub fn chain_hooks(&self, chain: usize) -> u8 {
        Hook::ALL
            .into_iter()
            .filter(|&h| self.reached_by[chain][h as usize] != NOT_REACHED)
            .fold(0, |bits, h| bits | h.bit())
    }

    pub fn hooks_of(&self, chain: usize, rule: usize) -> u8 {
        self.rule_hooks[self.first_rule[chain] + rule]
    }

    /// The jumps that lead from `hook`'s built-in chain to `chain`, first one first.
    pub fn path(&self, chain: usize, hook: Hook) -> Vec<Edge> {
        let mut path = Vec::new();
        let mut at = chain;
        loop {
            let (from, rule) = self.reached_by[at][hook as usize];
            if (from, rule) == NOT_REACHED {
                break;
            }
            let edge = Edge { from_chain: from as usize, rule: rule as usize, to_chain: at };
            path.push(edge);
            at = edge.from_chain;
            if path.len() > self.reached_by.len() {
                break;
            }
        }
        path.reverse();
        path
    }

    /// The loops of jumps the kernel's walk meets, which make it refuse the table.
    pub fn loops(&self) -> &[Vec<Edge>] {
        &self.loops
    }
}

/// What one hook's walk found: the rules it reached (as places in [`Graph::rule_hooks`]), the
/// chains it entered with the rule it entered each from, and the loops it met, in the order met.
struct HookWalk {
    hook: Hook,
    rules: Vec<u32>,
    entered: Vec<(u32, (u32, u32))>,
    loops: Vec<Vec<Edge>>,
}

/// The kernel's walk from built-in chain `start`, for `hook`, over the rules' [`Step`]s
/// (`first_rule`: where each chain's rules start among them).
fn walk_hook(first_rule: &[usize], steps: &[Step], start: usize, hook: Hook) -> HookWalk {
    let chains = first_rule.len();
    let mut walk = HookWalk { hook, rules: Vec::new(), entered: Vec::new(), loops: Vec::new() };
    let mut visited = vec![false; chains];
    let mut on_path = vec![false; chains];
    visited[start] = true;
    on_path[start] = true;
    let mut stack = vec![Frame { chain: start, next: 0, entered_by: None }];
    while let Some(frame) = stack.last_mut() {
        let (c, i) = (frame.chain, frame.next);
        let first = first_rule[c];
        let end = first_rule.get(c + 1).copied().unwrap_or(steps.len());
        if first + i == end {
            // the chain's end: its policy, or a user chain's return
            on_path[c] = false;
            stack.pop();
            continue;
        }
        frame.next += 1;
        walk.rules.push((first + i) as u32);
        match steps[first + i] {
            GOES_ON => {}
            ENDS => {
                on_path[c] = false;
                stack.pop();
            }
            to => {
                let to = to as usize;
                let edge = Edge { from_chain: c, rule: i, to_chain: to };
                if on_path[to] {
                    let from = stack.iter().position(|f| f.chain == to).expect("a chain on the path");
                    let mut cycle: Vec<Edge> = stack[from + 1..].iter().filter_map(|f| f.entered_by).collect();
                    cycle.push(edge);
                    if !walk.loops.iter().any(|l| same_cycle(l, &cycle)) {
                        walk.loops.push(cycle);
                    }
                } else if !visited[to] {
                    visited[to] = true;
                    on_path[to] = true;
                    walk.entered.push((to as u32, (c as u32, i as u32)));
                    stack.push(Frame { chain: to, next: 0, entered_by: Some(edge) });
                }
            }
        }
    }
    walk
}

/// Every rule's [`Step`], chain after chain: a table's rules are read once, on up to `threads`
/// threads, rather than once per hook.
fn steps(table: &Table, threads: usize) -> Vec<Step> {
    let chains = crate::model::ChainFinder::new(table);
    let step = |rule: &Rule| match &rule.target.kind {
        TargetKind::Jump(name) | TargetKind::Goto(name) => chains.find(name).map_or(GOES_ON, |to| to as Step),
        _ if ends_chain(rule, table.family) => ENDS,
        _ => GOES_ON,
    };
    crate::threads::over_chains(table, threads, |chains| {
        let mut steps = Vec::new();
        for c in chains {
            crate::memory::prefetch_ahead(&table.chains, c, false);
            steps.extend(table.chains[c].rules.iter().map(step));
        }
        steps
    })
}

/// A rule the walk does not go past: no condition, and a verdict that ends the chain.
fn ends_chain(rule: &Rule, family: Family) -> bool {
    matches!(rule.target.kind, TargetKind::Accept | TargetKind::Drop | TargetKind::Return | TargetKind::Queue)
        && rule.is_unconditional(family)
}

/// The same loop met from another chain or hook: the same edges, in any rotation.
fn same_cycle(a: &[Edge], b: &[Edge]) -> bool {
    a.len() == b.len() && a.iter().all(|e| b.contains(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{LoadOptions, read};
    use crate::source::Source;

    #[test]
    fn a_big_table_read_on_several_threads_gives_the_walk_of_one() {
        // more rules than [`crate::threads::PARALLEL_RULES`], jumps forward and back, a goto,
        // a loop, chains ended early by an unconditional verdict, and unreached chains
        let mut text = String::from("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        let chains = 3000;
        for c in 0..chains {
            text.push_str(&format!(":C{c} - [0:0]\n"));
        }
        text.push_str("-A INPUT -p tcp -j C0\n-A OUTPUT -g C1500\n-A FORWARD -j C2999\n");
        for c in 0..chains {
            for r in 0..8 {
                let rule = match (c % 7, r) {
                    (0, 6) => "-j ACCEPT".to_string(),
                    (_, 5) if c + 1 < chains => format!("-p udp -j C{}", c + 1),
                    (3, 6) => format!("-s 192.0.2.{r} -j C{}", c / 2),
                    _ => format!("-s 192.0.2.{r} -j RETURN"),
                };
                text.push_str(&format!("-A C{c} {rule}\n"));
            }
        }
        text.push_str("COMMIT\n");
        let ruleset = read(&Source::new("big.rules", text), &LoadOptions::default()).ruleset;
        let table = &ruleset.tables[0];
        assert!(table.rule_count() > crate::threads::PARALLEL_RULES);
        let one = Graph::walk(table, 1);
        assert_eq!(Graph::walk(table, 3), one);
        assert!(!one.loops().is_empty(), "the backward jumps make loops");
        let chain = |name: &str| table.chains.iter().position(|c| &*c.name == name).expect("declared");
        // nothing but INPUT jumps to C0
        assert_eq!(one.chain_hooks(chain("C0")), Hook::Input.bit());
        assert_eq!(one.chain_hooks(chain("C2999")), Hook::Input.bit() | Hook::Forward.bit() | Hook::Output.bit());
        // C0's unconditional ACCEPT ends its walk: the rule after it is reached by nothing
        assert_eq!(one.hooks_of(chain("C0"), 7), 0);
        assert_eq!(one.hooks_of(chain("C0"), 6), Hook::Input.bit());
    }
}
