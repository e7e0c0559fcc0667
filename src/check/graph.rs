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

/// The chains of a table as a graph.
pub struct Graph {
    /// Edges out of each chain, in rule order.
    pub out: Vec<Vec<Edge>>,
    /// For each chain, the hooks it is reached from (a bit per [`Hook`]).
    pub hooks: Vec<u8>,
    /// For each chain and hook, the edge through which that hook first reached it.
    reached_by: Vec<[Option<Edge>; 5]>,
}

impl Graph {
    pub fn new(table: &Table) -> Graph {
        let index: HashMap<&str, usize> = table.chains.iter().enumerate().map(|(i, c)| (&*c.name, i)).collect();
        let mut out = vec![Vec::new(); table.chains.len()];
        for (from_chain, chain) in table.chains.iter().enumerate() {
            for (rule, r) in chain.rules.iter().enumerate() {
                if let TargetKind::Jump(name) | TargetKind::Goto(name) = &r.target.kind
                    && let Some(&to_chain) = index.get(&**name)
                {
                    out[from_chain].push(Edge { from_chain, rule, to_chain });
                }
            }
        }
        let mut hooks = vec![0u8; table.chains.len()];
        let mut reached_by = vec![[None; 5]; table.chains.len()];
        let mut work: Vec<usize> = Vec::new();
        for (i, chain) in table.chains.iter().enumerate() {
            if let Some(hook) = chain.hook() {
                hooks[i] = hook.bit();
                work.push(i);
            }
        }
        while let Some(chain) = work.pop() {
            let mask = hooks[chain];
            for edge in &out[chain] {
                let new = mask & !hooks[edge.to_chain];
                if new != 0 {
                    for hook in Hook::ALL {
                        if new & hook.bit() != 0 {
                            reached_by[edge.to_chain][hook as usize] = Some(*edge);
                        }
                    }
                    hooks[edge.to_chain] |= new;
                    work.push(edge.to_chain);
                }
            }
        }
        Graph { out, hooks, reached_by }
    }

    /// The jumps that lead from `hook`'s built-in chain to `chain`, first one first.
    pub fn path(&self, chain: usize, hook: Hook) -> Vec<Edge> {
        let mut path = Vec::new();
        let mut at = chain;
        while let Some(edge) = self.reached_by[at][hook as usize] {
            path.push(edge);
            at = edge.from_chain;
            if path.len() > self.out.len() {
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
        let mut state = vec![State::New; self.out.len()];
        let mut loops = Vec::new();
        for root in 0..self.out.len() {
            if state[root] != State::New || self.hooks[root] == 0 {
                continue;
            }
            // (chain, next edge index, edge taken to get here)
            let mut stack: Vec<(usize, usize, Option<Edge>)> = vec![(root, 0, None)];
            state[root] = State::OnStack;
            while let Some(&mut (chain, ref mut next, _)) = stack.last_mut() {
                if let Some(&edge) = self.out[chain].get(*next) {
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
