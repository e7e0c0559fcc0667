//! What the kernel refuses when it loads a table that `iptables-restore` itself accepts: targets
//! and matches in tables or chains (or user chains reached from chains) where they do not load,
//! missing protocols, jump loops. Run after [`crate::load`].

mod error;
mod extensions;
mod graph;
mod placement;

pub use error::CheckError;
pub use graph::Graph;

use crate::diag::Diagnostic;
use crate::ext::reject::RejectWith;
use crate::model::{Hook, Rule, Ruleset, Table, TargetKind};
use crate::source::Source;

/// Every problem the kernel would have with the ruleset.
pub fn check(source: &Source, ruleset: &Ruleset) -> Vec<Diagnostic> {
    check_with_graphs(source, ruleset).0
}

/// [`check`], and the kernel's walk of each table it made on the way (which the lints use too).
pub fn check_with_graphs(source: &Source, ruleset: &Ruleset) -> (Vec<Diagnostic>, Vec<Graph>) {
    let mut problems = Vec::new();
    let threads = crate::threads::count();
    let mut graphs = Vec::with_capacity(ruleset.tables.len());
    for table in &ruleset.tables {
        graphs.push(check_table(table, threads, &mut problems));
    }
    problems.sort_by_key(|p: &CheckError| span_of(p).start);
    (problems.into_iter().map(|p| Diagnostic::new(source, p)).collect(), graphs)
}

fn span_of(problem: &CheckError) -> crate::source::Span {
    match problem {
        CheckError::WrongTable { span, .. }
        | CheckError::WrongChain { span, .. }
        | CheckError::WrongChainVia { span, .. }
        | CheckError::NeedsProtocol { span, .. }
        | CheckError::GoneFromKernel { span, .. }
        | CheckError::HostDependent { span, .. }
        | CheckError::TcpResetNeedsTcp { span }
        | CheckError::LimitOverflow { span, .. }
        | CheckError::LimitOverflowSomeKernels { span, .. }
        | CheckError::KernelRefuses { span, .. }
        | CheckError::Loop { span, .. } => *span,
    }
}

fn check_table(table: &Table, threads: usize, problems: &mut Vec<CheckError>) -> Graph {
    let graph = Graph::new(table);
    let found = crate::threads::over_chains(table, threads, |chains| {
        let mut found = Vec::new();
        for c in chains {
            crate::memory::prefetch_ahead(&table.chains, c, true);
            for (r, rule) in table.chains[c].rules.iter().enumerate() {
                check_rule(table, &graph, c, r, rule, &mut found);
            }
        }
        found
    });
    problems.extend(found);
    for cycle in graph.loops() {
        let name = |i: usize| table.chains[i].name.to_string();
        let mut names: Vec<String> = cycle.iter().map(|e| name(e.from_chain)).collect();
        names.push(name(cycle[0].from_chain));
        let rule_span = |e: &graph::Edge| table.chains[e.from_chain].rules[e.rule].target.span;
        let last = cycle.last().expect("a loop has an edge");
        problems.push(CheckError::Loop {
            span: rule_span(last),
            cycle: names.join(" → "),
            others: cycle[..cycle.len() - 1]
                .iter()
                .map(|e| miette::LabeledSpan::new_with_span(None, rule_span(e)))
                .collect(),
        });
    }
    graph
}

fn check_rule(table: &Table, graph: &Graph, chain: usize, index: usize, rule: &Rule, problems: &mut Vec<CheckError>) {
    extensions::check_rule(table.family, rule, problems);
    let target = &rule.target;
    // the name of the target extension: a jump's or goto's is a chain's, whatever it spells
    // (`:ULOG` then `-j ULOG` loads on a kernel without the ULOG target)
    let extension = target.kind.name().filter(|_| target.kind.chain().is_none());
    if let Some(name) = extension
        && let Some(&(_, since, instead)) = placement::GONE.iter().find(|(n, _, _)| *n == name)
    {
        problems.push(CheckError::GoneFromKernel {
            span: target.span,
            name: name.to_string(),
            since,
            help: instead.into(),
        });
    }
    let uses = extension
        .map(|n| (n, false, target.span))
        .into_iter()
        .chain(rule.matches.iter().map(|m| (m.kind.name(), true, m.span)));
    for (name, is_match, span) in uses.filter(|(n, _, _)| placement::maybe_host_dependent(n)) {
        if let Some(&(_, _, what)) = placement::HOST_DEPENDENT.iter().find(|&&(n, m, _)| n == name && m == is_match) {
            let name = if is_match { format!("-m {name}") } else { format!("-j {name}") };
            problems.push(CheckError::HostDependent { span, name, what });
        }
    }
    if let Some(place) = placement::target_place(&target.kind) {
        check_place(table, graph, (chain, index), rule, target.span, place, problems);
    }
    for m in &rule.matches {
        if let Some(place) = placement::match_place(&m.kind, table.family) {
            check_place(table, graph, (chain, index), rule, m.span, place, problems);
        }
    }
    if let TargetKind::Reject(r) = &target.kind
        && r.with == RejectWith::TcpReset
        && rule.protocol() != Some(crate::model::Proto::TCP)
    {
        problems.push(CheckError::TcpResetNeedsTcp { span: target.span });
    }
    if let TargetKind::Tcpmss(_) = &target.kind
        && rule.protocol() == Some(crate::model::Proto::TCP)
        && !has_syn_match(rule)
    {
        problems.push(CheckError::KernelRefuses {
            span: target.span,
            message: "`-j TCPMSS` needs a match on SYN packets".into(),
            why: "the kernel takes TCPMSS only on rules that match SYN",
            help: "add `--tcp-flags SYN,RST SYN` (or `--syn`) to the rule".into(),
        });
    }
}

/// Whether the rule has a tcp match that requires the SYN flag (what xt_TCPMSS looks for).
fn has_syn_match(rule: &Rule) -> bool {
    rule.matches.iter().any(|m| match &m.kind {
        crate::model::MatchKind::Tcp(tcp) => tcp.flags.as_ref().is_some_and(|f| !f.invert && f.value.comp & 0x02 != 0),
        _ => false,
    })
}

/// Where a target or match may stand: its protocols and tables always, its hooks where the
/// kernel's walk reaches the rule (`at`: chain and rule index).
fn check_place(
    table: &Table,
    graph: &Graph,
    at: (usize, usize),
    rule: &Rule,
    span: crate::source::Span,
    place: &placement::Place,
    problems: &mut Vec<CheckError>,
) {
    if !place.protos.is_empty() && !rule.protocol().is_some_and(|p| place.protos.contains(&p)) {
        let wanted: Vec<String> = place.protos.iter().map(|p| format!("-p {p}")).collect();
        let negated = rule.proto.as_ref().is_some_and(|p| p.invert);
        let help = if negated {
            format!("`! -p` cannot go with `{}`: it needs the rule to name its protocol", place.name)
        } else {
            place.help.to_string()
        };
        problems.push(CheckError::NeedsProtocol {
            span,
            what: place.name.to_string(),
            proto: wanted.join("` or `"),
            help,
        });
    }
    if !place.tables.is_empty() && !place.tables.contains(&table.name) {
        problems.push(CheckError::WrongTable {
            span,
            target: place.name.to_string(),
            table: table.name.as_str(),
            help: place.help.to_string(),
        });
        return;
    }
    let (chain, index) = at;
    let wrong = graph.hooks_of(chain, index) & !place.hooks;
    if place.hooks == 0 || wrong == 0 {
        return;
    }
    let hook = Hook::ALL.into_iter().find(|h| wrong & h.bit() != 0).expect("a bit is set");
    let c = &table.chains[chain];
    if c.is_builtin() {
        problems.push(CheckError::WrongChain {
            span,
            target: place.name.to_string(),
            hook: hook.as_str(),
            help: place.help.to_string(),
        });
    } else {
        let path = graph
            .path(chain, hook)
            .iter()
            .map(|e| {
                let from = &table.chains[e.from_chain];
                miette::LabeledSpan::new_with_span(
                    Some(format!("{} jumps to {}", from.name, table.chains[e.to_chain].name)),
                    from.rules[e.rule].target.span,
                )
            })
            .collect();
        problems.push(CheckError::WrongChainVia {
            span,
            target: place.name.to_string(),
            chain: c.name.to_string(),
            hook: hook.as_str(),
            path,
            help: place.help.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_find_the_same_problems_in_the_same_order() {
        let mut text = String::from("*filter\n:INPUT ACCEPT [0:0]\n");
        for c in 0..3000 {
            text.push_str(&format!(":C{c} - [0:0]\n"));
        }
        text.push_str("-A INPUT -j C0\n");
        for i in 0..(crate::threads::PARALLEL_RULES + 5000) {
            let c = i % 3000;
            if i % 7 == 0 {
                text.push_str(&format!("-A C{c} -j REJECT --reject-with tcp-reset\n"));
            } else {
                text.push_str(&format!("-A C{c} -s 10.0.{}.{}/32 -j ACCEPT\n", i / 250 % 250, i % 250));
            }
        }
        text.push_str("COMMIT\n");
        let source = Source::new("t", text);
        let ruleset = crate::load::read(&source, &crate::load::LoadOptions::default()).ruleset;
        let found = |threads| {
            let mut problems = Vec::new();
            check_table(&ruleset.tables[0], threads, &mut problems);
            format!("{problems:?}")
        };
        let one = found(1);
        assert!(one.contains("TcpResetNeedsTcp"));
        assert_eq!(one, found(2));
        assert_eq!(one, found(5));
    }
}
