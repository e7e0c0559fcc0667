//! `ipt explain` against a live kernel (`scripts/kernel-trace.sh`, private namespaces only): every
//! `fixtures/explain` ruleset re-traced, and random (ruleset, packet) pairs from
//! [`crate::explain_gen`]. A random case where they disagree is saved as a regression fixture in
//! `fixtures/explain/regressions/`, which the default tier then checks offline.
//!
//! `IPT_EXPLAIN_SEED` (default [`DEFAULT_SEED`]) and `IPT_EXPLAIN_CASES` (default 200) choose the
//! random cases; `IPT_EXPLAIN_JOBS` (default 4) how many traces run at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ipt::load::{LoadOptions, load};
use ipt::model::Family;
use ipt::source::Source;

use crate::explain_gen::generate;
use crate::explain_vs_kernel::{
    Explained, Fate, HarnessPacket, KernelTrace, compare_kernel_traces, compare_parsed, explain_fixtures,
};
use crate::support::{ipt, root};

pub const DEFAULT_SEED: u64 = 20_260_601;
/// At most this many regression fixtures are written per run (a broken explain would otherwise
/// write one per case).
const MAX_REGRESSIONS: usize = 10;

/// Fails, loudly, when this machine cannot run the trace harness.
fn require_trace_harness() {
    let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert_eq!(
        root.ok(),
        Some(true),
        "the explain kernel tests need root (scripts/kernel-trace.sh makes private namespaces)"
    );
    for tool in ["unshare", "timeout", "ip", "nft", "iptables-nft-restore", "ip6tables-nft-restore", "python3"] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(
            found,
            "the explain kernel tests need `{tool}` (apt-get install -y nftables iptables iproute2 util-linux python3)"
        );
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// The kernel's trace of a rules file with the packet of its `# packet:` line.
fn kernel_trace(rules: &Path) -> Result<String, String> {
    let out = Command::new(root().join("scripts/kernel-trace.sh"))
        .arg(rules)
        .current_dir(root())
        .output()
        .map_err(|e| format!("scripts/kernel-trace.sh does not run: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "scripts/kernel-trace.sh exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `ipt explain` on a rules file for a harness packet: the command line, its exit code and the
/// answer (or why there is none).
fn explain(rules: &str, packet: &HarnessPacket) -> (String, i32, Result<Explained, String>) {
    let routes =
        if packet.family == 4 { "fixtures/explain/harness.routes" } else { "fixtures/explain/harness6.routes" };
    let mut args = vec!["explain".to_string(), rules.to_string()];
    args.extend(packet.explain_args(routes));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ipt(&args, None);
    let line = format!("ipt {}", args.join(" "));
    let answer =
        Explained::parse(&run.stdout).map_err(|e| format!("{e}\n(exit {}, stderr: {})", run.code, run.stderr.trim()));
    (line, run.code, answer)
}

/// `f` over `items`, `jobs` at a time, results in the order of `items`.
fn parallel<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().expect("not poisoned")[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().expect("not poisoned").into_iter().map(|r| r.expect("every item ran")).collect()
}

fn jobs() -> usize {
    env_number("IPT_EXPLAIN_JOBS", 4) as usize
}

#[test]
fn explain_agrees_with_a_fresh_kernel_trace_of_every_fixture() {
    require_trace_harness();
    let fixtures = explain_fixtures();
    assert!(fixtures.len() >= 17, "{fixtures:?}");
    let failures: Vec<String> = parallel(&fixtures, jobs(), |rules| {
        let name = rules.display().to_string();
        let text = std::fs::read_to_string(root().join(rules)).expect("fixture");
        let packet = HarnessPacket::from_rules(&text).map_err(|e| format!("{name}: {e}"))?;
        let fresh = kernel_trace(rules).map_err(|e| format!("{name}: {e}"))?;
        let fresh = KernelTrace::parse(&fresh).map_err(|e| format!("{name}: {e}"))?;
        let mut problems = Vec::new();
        if let Err(e) = packet.check_summary(&fresh.summary) {
            problems.push(format!("the packet line is not read as the harness reads it: {e}"));
        }
        let saved_path = root().join(rules.with_extension("trace.jsonl"));
        match std::fs::read_to_string(&saved_path).map_err(|e| e.to_string()).and_then(|s| KernelTrace::parse(&s)) {
            Ok(saved) => {
                if let Err(e) = compare_kernel_traces(&saved, &fresh) {
                    problems.push(format!(
                        "stale {} (re-save with scripts/kernel-trace-fixtures.sh --update):\n{e}",
                        saved_path.display()
                    ));
                }
            }
            Err(e) => problems.push(format!("{}: {e}", saved_path.display())),
        }
        let (line, _, answer) = explain(&name, &packet);
        if let Err(e) = answer.and_then(|explained| compare_parsed(&fresh, &explained)) {
            problems.push(format!("explain disagrees with the kernel\n  {line}\n{e}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{name}: # packet: {}\n{}", packet.to_line(), problems.join("\n")))
        }
    })
    .into_iter()
    .filter_map(Result::err)
    .collect();
    assert!(failures.is_empty(), "{} of {} fixtures:\n\n{}", failures.len(), fixtures.len(), failures.join("\n\n"));
}

/// What became of one random case.
enum Outcome {
    /// `ipt check` says it would not load: not traced (its first error's code).
    Discarded(String),
    Agreed(Fate),
    /// A disagreement or a failure, with the report.
    Failed(String),
}

#[test]
fn explain_agrees_with_the_kernel_on_random_rulesets() {
    require_trace_harness();
    let seed = env_number("IPT_EXPLAIN_SEED", DEFAULT_SEED);
    let cases = env_number("IPT_EXPLAIN_CASES", 200);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("explain-gen-{seed}"));
    std::fs::create_dir_all(&tmp).expect("temporary directory");
    let regressions = root().join("fixtures/explain/regressions");
    let written = AtomicUsize::new(0);
    let indexes: Vec<u64> = (0..cases).collect();
    let outcomes = parallel(&indexes, jobs(), |&index| {
        let case = generate(seed, index);
        let family = if case.packet.family == 4 { Family::Ipv4 } else { Family::Ipv6 };
        let loaded = load(
            &Source::new(case.name.clone(), case.rules.clone()),
            &LoadOptions { family: Some(family), ..Default::default() },
        );
        if !loaded.loads() {
            let first = loaded.diagnostics.iter().find(|d| d.severity() == ipt::diag::Severity::Error);
            return Outcome::Discarded(first.map_or("?".into(), |d| d.code()));
        }
        let path = tmp.join(format!("{}.rules", case.name));
        std::fs::write(&path, &case.rules).expect("case written");
        let header =
            format!("{} (IPT_EXPLAIN_SEED={seed}, case {index}): # packet: {}", case.name, case.packet.to_line());
        let trace = match kernel_trace(&path) {
            Ok(t) => t,
            Err(e) => {
                return Outcome::Failed(format!(
                    "{header}\n`ipt check` says it loads, the kernel trace failed: {e}\n{}",
                    case.rules
                ));
            }
        };
        let kernel = match KernelTrace::parse(&trace) {
            Ok(k) => k,
            Err(e) => return Outcome::Failed(format!("{header}\n{e}")),
        };
        if let Err(e) = case.packet.check_summary(&kernel.summary) {
            return Outcome::Failed(format!("{header}\nthe harness sent another packet: {e}"));
        }
        let (line, code, answer) = explain(&path.to_string_lossy(), &case.packet);
        match answer.and_then(|explained| compare_parsed(&kernel, &explained)) {
            Ok(()) => Outcome::Agreed(kernel.fate),
            Err(report) => {
                // exit 2 is bad usage: explain did not run on this case, there is nothing to keep
                let mut saved = String::from("(not saved: explain exited 2, bad usage)");
                if code != 2 && written.fetch_add(1, Ordering::SeqCst) >= MAX_REGRESSIONS {
                    saved = "(not saved: too many this run)".into();
                } else if code != 2 {
                    std::fs::create_dir_all(&regressions).expect("regressions directory");
                    let rules = regressions.join(format!("{}.rules", case.name));
                    let relative = format!("fixtures/explain/regressions/{}.rules", case.name);
                    std::fs::write(&rules, &case.rules).expect("regression written");
                    let trace = trace.replace(
                        &serde_json::to_string(&path.to_string_lossy()).expect("json"),
                        &format!("\"{relative}\""),
                    );
                    std::fs::write(rules.with_extension("trace.jsonl"), trace).expect("regression trace written");
                    saved = format!("saved as {relative}");
                }
                Outcome::Failed(format!("{header}\n  {line}\n  {saved}\n{report}\n{}", case.rules))
            }
        }
    });
    let mut discarded = BTreeMap::<String, usize>::new();
    let mut fates = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Discarded(code) => *discarded.entry(code).or_default() += 1,
            Outcome::Agreed(fate) => *fates.entry(format!("{fate:?}")).or_default() += 1,
            Outcome::Failed(report) => failures.push(report),
        }
    }
    let kept = cases as usize - discarded.values().sum::<usize>();
    let stats = format!(
        "seed {seed}: {cases} cases, {} discarded by `ipt check` {discarded:?}, {kept} traced: {} agree {fates:?}, {} fail",
        cases as usize - kept,
        kept - failures.len(),
        failures.len()
    );
    eprintln!("{stats}");
    let shown: Vec<&String> = failures.iter().take(10).collect();
    assert!(
        failures.is_empty(),
        "{stats}\n(re-run one seed with IPT_EXPLAIN_SEED={seed}; the first {} failures:)\n\n{}",
        shown.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n")
    );
    // the generator must keep most cases, or it tests nothing
    assert!(kept * 4 >= cases as usize * 3, "{stats}: the generator makes too many rulesets that do not load");
    if cases >= 50 {
        for fate in ["Delivered", "Left", "Dropped"] {
            assert!(fates.contains_key(fate), "{stats}: no case ends {fate}; the generator lost variety");
        }
    }
}
