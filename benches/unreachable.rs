//! Times the unreachable-rule analysis (`ipt::analysis::unreachable`) on kube-proxy-shaped dumps
//! (`cargo bench --bench unreachable`), as they are and with every service rule turned into an
//! `ACCEPT` (so that the nat `KUBE-SERVICES` chain is 10000 deciding rules that differ in their
//! destination: the shape that would be quadratic without the index). Loading is not timed.

mod kube_dump;
mod support;

use support::best_of;

use ipt::analysis::unreachable::unreachable_in_table;
use ipt::load::{LoadOptions, read};
use ipt::model::Ruleset;
use ipt::source::Source;

fn analyse(ruleset: &Ruleset) -> (usize, usize) {
    let mut found = (0, 0);
    for table in &ruleset.tables {
        for (_, report) in unreachable_in_table(table) {
            found.0 += report.unreachable.len();
            found.1 += report.gave_up.len();
        }
    }
    found
}

fn main() {
    for services in [1_000, 10_000, 100_000] {
        let text = kube_dump::kube_dump(services, 3);
        let accepting: String = text
            .lines()
            .map(|l| match l.split_once(" -j KUBE-SVC-") {
                Some((head, _)) if l.starts_with("-A KUBE-SERVICES") => format!("{head} -j ACCEPT\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        for (shape, text) in [("as generated", text), ("services ACCEPT", accepting)] {
            let source = Source::new(format!("kube{services}"), text);
            let ruleset = read(&source, &LoadOptions::default()).ruleset;
            let rules = ruleset.rule_count();
            let runs = if services >= 100_000 { 1 } else { 3 };
            let mut found = (0, 0);
            let time = best_of(runs, || found = analyse(&ruleset));
            println!(
                "unreachable {services:>6} services, {shape:<15}: {rules:>7} rules in {:>8.1} ms ({} unreachable, {} given up)",
                time.as_secs_f64() * 1e3,
                found.0,
                found.1
            );
        }
    }
}
