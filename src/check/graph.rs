//! The jump graph of a table: which user chains each hook reaches, through which jumps, and the
//! loops the kernel refuses.

use rustc_hash::FxHashMap as HashMap;

use crate::model::{Hook, Table, TargetKind};

/// A jump or goto: from a rule of one chain to another chain.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub from_chain: usize,
    pub rule: usize,
    pub to_chain: usize,
}

/// An edge as the graph keeps it (a table has fewer than 2^32 chains and rules per chain).
#[derive(Clone, Copy, Debug)]
struct CompactEdge {
    from_chain: u32,
    rule: u32,
    to_chain: u32,
}

impl CompactEdge {
    fn edge(self) -> Edge {
        Edge { from_chain: self.from_chain as usize, rule: self.rule as usize, to_chain: self.to_chain as usize }
    }
}

/// No edge: a chain its hook does not reach, or a built-in chain.
const NONE: u32 = u32::MAX;

/// The chains of a table as a graph.
pub struct Graph {
    /// Every edge, grouped by the chain it leaves, in rule order.
    edges: Vec<CompactEdge>,
    /// Where each chain's edges start in `edges` (one more entry than chains).
    starts: Vec<u32>,
    /// For each chain, the hooks it is reached from (a bit per [`Hook`]).
    pub hooks: Vec<u8>,
    /// For each chain and hook, the index of the edge through which that hook first reached it.
    reached_by: Vec<[u32; 5]>,
}

impl Graph {
    pub fn new(table: &Table) -> Graph {
        // a jump names its chain by the chain's own shared name, so the name's address finds it
        // without hashing the text; a table built otherwise falls back on the text
        let by_address: HashMap<*const u8, u32> =
            table.chains.iter().enumerate().map(|(i, c)| (c.name.as_ptr(), i as u32)).collect();
        let mut by_name: Option<HashMap<&str, u32>> = None;
        let mut edges = Vec::new();
        let mut starts = Vec::with_capacity(table.chains.len() + 1);
        for (from_chain, chain) in table.chains.iter().enumerate() {
            starts.push(edges.len() as u32);
            for (rule, r) in chain.rules.iter().enumerate() {
                let (TargetKind::Jump(name) | TargetKind::Goto(name)) = &r.target.kind else { continue };
                // two live names at one address are one allocation, so one text
                let to_chain = match by_address.get(&name.as_ptr()) {
                    Some(&i) => Some(i),
                    None => by_name
                        .get_or_insert_with(|| {
                            table.chains.iter().enumerate().map(|(i, c)| (&*c.name, i as u32)).collect()
                        })
                        .get(&**name)
                        .copied(),
                };
                if let Some(to_chain) = to_chain {
                    edges.push(CompactEdge { from_chain: from_chain as u32, rule: rule as u32, to_chain });
                }
            }
        }
        starts.push(edges.len() as u32);
        let mut graph = Graph { edges, starts, hooks: vec![0u8; table.chains.len()], reached_by: Vec::new() };
        graph.reached_by = vec![[NONE; 5]; table.chains.len()];
        let mut work: Vec<usize> = Vec::new();
        for (i, chain) in table.chains.iter().enumerate() {
            if let Some(hook) = chain.hook() {
                graph.hooks[i] = hook.bit();
                work.push(i);
            }
        }
        while let Some(chain) = work.pop() {
            let mask = graph.hooks[chain];
            for e in graph.starts[chain]..graph.starts[chain + 1] {
                let to = graph.edges[e as usize].to_chain as usize;
                let new = mask & !graph.hooks[to];
                if new != 0 {
                    for hook in Hook::ALL {
                        if new & hook.bit() != 0 {
                            graph.reached_by[to][hook as usize] = e;
                        }
                    }
                    graph.hooks[to] |= new;
                    work.push(to);
                }
            }
        }
        graph
    }

    /// The number of chains.
    fn len(&self) -> usize {
        self.hooks.len()
    }

    /// The `n`th edge out of a chain, in rule order.
    fn out(&self, chain: usize, n: usize) -> Option<Edge> {
        let (start, end) = (self.starts[chain] as usize, self.starts[chain + 1] as usize);
        self.edges[start..end].get(n).map(|e| e.edge())
    }

    /// The jumps that lead from `hook`'s built-in chain to `chain`, first one first.
    pub fn path(&self, chain: usize, hook: Hook) -> Vec<Edge> {
        let mut path = Vec::new();
        let mut at = chain;
        loop {
            let e = self.reached_by[at][hook as usize];
            if e == NONE {
                break;
            }
            let edge = self.edges[e as usize].edge();
            path.push(edge);
            at = edge.from_chain;
            if path.len() > self.len() {
                break;
            }
        }
        path.reverse();
        path
    }

    /// Every loop of jumps among the chains reached from a hook (the kernel walks only those),
    /// each as the edges that form it. Iterative, so deep chains do not overflow the stack.
    pub fn loops(&self) -> Vec<Vec<Edge>> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            New,
            OnStack,
            Done,
        }
        let mut state = vec![State::New; self.len()];
        let mut loops = Vec::new();
        for root in 0..self.len() {
            if state[root] != State::New || self.hooks[root] == 0 {
                continue;
            }
            // (chain, next edge index, edge taken to get here)
            let mut stack: Vec<(usize, usize, Option<Edge>)> = vec![(root, 0, None)];
            state[root] = State::OnStack;
            while let Some(&mut (chain, ref mut next, _)) = stack.last_mut() {
                if let Some(edge) = self.out(chain, *next) {
                    *next += 1;
                    match state[edge.to_chain] {
                        State::New => {
                            state[edge.to_chain] = State::OnStack;
                            stack.push((edge.to_chain, 0, Some(edge)));
                        }
                        State::OnStack => {
                            // the edges from where the loop starts back to it
                            let start = stack.iter().position(|&(c, _, _)| c == edge.to_chain).unwrap_or(0);
                            let mut cycle: Vec<Edge> = stack[start + 1..].iter().filter_map(|&(_, _, e)| e).collect();
                            cycle.push(edge);
                            loops.push(cycle);
                        }
                        State::Done => {}
                    }
                } else {
                    state[chain] = State::Done;
                    stack.pop();
                }
            }
        }
        loops
    }
}
