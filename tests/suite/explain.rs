//! `ipt explain` against the kernel, offline: every `fixtures/explain/*.rules` (and
//! `fixtures/explain/regressions/*.rules`) is explained with the packet of its `# packet:` line,
//! and the answer must agree with the kernel's trace saved next to it (`.trace.jsonl`, made by
//! `scripts/kernel-trace.sh`; the kernel tier re-traces them live).

use std::path::Path;

use super::explain_vs_kernel::{HarnessPacket, KernelTrace, compare, explain_fixtures};
use super::support::{ipt, root};

/// The rules file's packet and its saved kernel trace.
fn fixture(rules: &Path) -> (HarnessPacket, String) {
    let text = std::fs::read_to_string(root().join(rules)).expect("rules fixture");
    let packet = HarnessPacket::from_rules(&text).unwrap_or_else(|e| panic!("{}: {e}", rules.display()));
    let trace = root().join(rules.with_extension("trace.jsonl"));
    let trace = std::fs::read_to_string(&trace).unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
    (packet, trace)
}

/// The harness routes for a family, as `ip route` prints them in fwhost.
pub fn routes(family: u8) -> &'static str {
    if family == 4 { "fixtures/explain/harness.routes" } else { "fixtures/explain/harness6.routes" }
}

#[test]
fn there_are_explain_fixtures() {
    assert!(explain_fixtures().len() >= 17, "{:?}", explain_fixtures());
}

#[test]
fn every_packet_line_reads_as_the_packet_the_harness_sent() {
    let mut failures = Vec::new();
    for rules in explain_fixtures() {
        let (packet, trace) = fixture(&rules);
        let kernel = KernelTrace::parse(&trace).unwrap_or_else(|e| panic!("{}: {e}", rules.display()));
        if let Err(e) = packet.check_summary(&kernel.summary) {
            failures.push(format!("{}: {e}", rules.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explain_agrees_with_the_saved_kernel_trace_of_every_fixture() {
    let mut failures = Vec::new();
    let fixtures = explain_fixtures();
    for rules in &fixtures {
        let (packet, trace) = fixture(rules);
        let rules_arg = rules.to_string_lossy();
        let mut args = vec!["explain".to_string(), rules_arg.to_string()];
        args.extend(packet.explain_args(routes(packet.family)));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ipt(&args, None);
        if let Err(report) = compare(&trace, &run.stdout) {
            failures.push(format!(
                "{rules_arg}: # packet: {}\n  ipt {}\n  (exit {}, stderr: {})\n{report}",
                packet.to_line(),
                args.join(" "),
                run.code,
                run.stderr.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "explain disagrees with the kernel on {} of {} fixtures:\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}
