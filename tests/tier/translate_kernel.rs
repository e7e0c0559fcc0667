//! `ipt translate` proven by the kernel (issue 5): a dump loaded with `iptables-legacy-restore` in
//! one namespace and its translation loaded with `nft -f` in another (optimised, and with
//! `--no-optimize` in a third) must do the same to the same packets: the same frames arrive at
//! client and server (addresses and ports after NAT), fwhost takes in the same packets, the same
//! errors and resets come back, a send from fwhost fails alike. `scripts/translate-kernel.sh`
//! does the kernel's part (docs/dev/translate-kernel.md); this file makes the cases and compares.
//!
//! `IPT_TRANSLATE_SEED` (default [`DEFAULT_SEED`]) and `IPT_TRANSLATE_CASES` (default 200) choose
//! the random rulesets, `IPT_TRANSLATE_JOBS` (default 3) how many topologies run at once, and
//! `IPT_TRANSLATE_LOADERS` (default `legacy,nft-opt,nft-noopt`) what is compared with what: the
//! first is the reference. A random case that disagrees is saved in
//! `fixtures/translate/regressions/`, which [`translate_agrees_with_iptables_on_the_fixtures`]
//! runs every time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::explain_gen::{CONNTRACK_OFF, generate_many};
use crate::explain_vs_kernel::{Frag, HarnessPacket, Origin};
use crate::support::root;

pub const DEFAULT_SEED: u64 = 20_260_605;
/// At most this many regression fixtures are written per run.
const MAX_REGRESSIONS: usize = 10;

/// Fails, loudly, when this machine cannot run the harness.
fn require_translate_harness() {
    let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert_eq!(root.ok(), Some(true), "the translate kernel tests need root (they make private network namespaces)");
    for tool in [
        "unshare",
        "timeout",
        "ip",
        "nft",
        "iptables-legacy-restore",
        "ip6tables-legacy-restore",
        "iptables-nft-restore",
        "ip6tables-nft-restore",
        "python3",
    ] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(
            found,
            "the translate kernel tests need `{tool}` (apt-get install -y nftables iptables iproute2 util-linux python3)"
        );
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

// ------------------------------------------------------------------------------------ loaders

/// How one fwhost gets a case's ruleset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loader {
    /// The dump, with `iptables-legacy-restore` (or ip6tables): the reference.
    Legacy,
    /// The dump, with `iptables-nft-restore`: must agree with legacy (a check of the harness).
    IptablesNft,
    /// `ipt translate FILE`, loaded with `nft -f`.
    NftOpt,
    /// `ipt translate --no-optimize FILE`, loaded with `nft -f`.
    NftNoOpt,
}

/// What a loader will load for one rules file.
pub enum Prepared {
    Ready(PathBuf),
    /// `ipt translate` exited 1: the dump has rules with no exact nft form (its diagnostics).
    Untranslatable(String),
    /// Anything else that went wrong.
    Failed(String),
}

impl Loader {
    pub fn name(self) -> &'static str {
        match self {
            Loader::Legacy => "legacy",
            Loader::IptablesNft => "iptables-nft",
            Loader::NftOpt => "nft-opt",
            Loader::NftNoOpt => "nft-noopt",
        }
    }

    fn parse(name: &str) -> Loader {
        [Loader::Legacy, Loader::IptablesNft, Loader::NftOpt, Loader::NftNoOpt]
            .into_iter()
            .find(|l| l.name() == name.trim())
            .unwrap_or_else(|| {
                panic!("IPT_TRANSLATE_LOADERS: no loader `{name}` (legacy, iptables-nft, nft-opt, nft-noopt)")
            })
    }

    /// The job's description: how the harness empties fwhost and loads `{file}` into it.
    fn spec(self) -> Value {
        let restore = |backend: &str| {
            format!(
                "if [ {{family}} = 6 ]; then ip6tables-{backend}-restore < {{file}}; else iptables-{backend}-restore < {{file}}; fi"
            )
        };
        let (reset, load) = match self {
            Loader::Legacy => ("legacy", restore("legacy")),
            Loader::IptablesNft => ("nft", restore("nft")),
            Loader::NftOpt | Loader::NftNoOpt => ("nft", "nft -f {file}".to_string()),
        };
        json!({"name": self.name(), "reset": reset, "load": load})
    }

    /// The file to load for `rules`: the dump itself, or `ipt translate`'s output next to it.
    pub fn prepare(self, rules: &Path) -> Prepared {
        let optimize = match self {
            Loader::Legacy | Loader::IptablesNft => return Prepared::Ready(rules.to_path_buf()),
            Loader::NftOpt => true,
            Loader::NftNoOpt => false,
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipt"));
        cmd.arg("translate");
        if !optimize {
            cmd.arg("--no-optimize");
        }
        let out = match cmd.arg(rules).env("NO_COLOR", "1").env("COLUMNS", "100").output() {
            Ok(out) => out,
            Err(e) => return Prepared::Failed(format!("ipt translate does not run: {e}")),
        };
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        match out.status.code() {
            Some(0) => {
                let path = rules.with_extension(if optimize { "opt.nft" } else { "noopt.nft" });
                std::fs::write(&path, &out.stdout).expect("translation written");
                Prepared::Ready(path)
            }
            // exit 1 is also "the file does not load": only "no exact nft form" is a refusal
            Some(1) if stderr.contains("no exact nft form") => Prepared::Untranslatable(stderr),
            code => Prepared::Failed(format!(
                "ipt translate{} exit {code:?}: {stderr}",
                if optimize { "" } else { " --no-optimize" }
            )),
        }
    }
}

pub fn loaders() -> Vec<Loader> {
    let names = std::env::var("IPT_TRANSLATE_LOADERS").unwrap_or_else(|_| "legacy,nft-opt,nft-noopt".into());
    let loaders: Vec<Loader> = names.split(',').map(Loader::parse).collect();
    assert!(loaders.len() >= 2, "IPT_TRANSLATE_LOADERS needs at least two loaders to compare: {names}");
    loaders
}

// ------------------------------------------------------------------------------------ running

/// One ruleset to load (a file per loader) and the packets to send.
pub struct Job {
    pub id: String,
    pub family: u8,
    /// Whether the harness switches conntrack on in every fwhost (its own hookless `ct` table):
    /// see [`switch_conntrack_on`].
    pub conntrack: bool,
    pub files: Vec<PathBuf>,
    pub packets: Vec<HarnessPacket>,
}

/// What the harness saw for one job.
#[derive(Debug)]
pub struct Seen {
    /// Per loader: whether it loaded, and what it printed.
    pub loads: Vec<(bool, String)>,
    /// Per packet, per loader: the lines observed (sorted).
    pub packets: Vec<Vec<Vec<String>>>,
    /// Packets that disagreed at first and were sent again.
    pub retried: usize,
}

fn packet_json(p: &HarnessPacket) -> Value {
    json!({
        "origin": p.origin.name(), "family": p.family, "proto": p.proto, "src": p.src, "dst": p.dst,
        "sport": p.sport, "dport": p.dport, "flags": p.flags, "icmp_type": p.icmp_type, "icmp_code": p.icmp_code,
        "mark": p.mark, "frag": p.frag.map(Frag::name),
    })
}

/// Runs `jobs` through one harness process (one topology per loader), in order.
pub fn run_harness(loaders: &[Loader], jobs: &[Job], workdir: &Path) -> Result<Vec<Seen>, String> {
    std::fs::create_dir_all(workdir).map_err(|e| format!("{}: {e}", workdir.display()))?;
    let cases: Vec<Value> = jobs
        .iter()
        .map(|j| {
            json!({"id": j.id, "family": j.family, "conntrack": j.conntrack, "files": j.files, "packets": j.packets.iter().map(packet_json).collect::<Vec<_>>()})
        })
        .collect();
    let job = json!({
        "workdir": workdir,
        "loaders": loaders.iter().map(|l| l.spec()).collect::<Vec<_>>(),
        "cases": cases,
    });
    let path = workdir.join("job.json");
    std::fs::write(&path, job.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = Command::new(root().join("scripts/translate-kernel.sh"))
        .arg(&path)
        .output()
        .map_err(|e| format!("scripts/translate-kernel.sh does not run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "scripts/translate-kernel.sh {} exit {:?}: {}\n(after {} of {} cases)",
            path.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim(),
            stdout.lines().count(),
            jobs.len()
        ));
    }
    let mut seen = Vec::new();
    for (line, job) in stdout.lines().zip(jobs) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("harness output: {e}: {line}"))?;
        if v["id"] != job.id.as_str() {
            return Err(format!("harness output for {} where {} was expected", v["id"], job.id));
        }
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
        };
        let loads = v["loads"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| (l["ok"] == true, l["message"].as_str().unwrap_or("").to_string()))
            .collect();
        let packets: Vec<Vec<Vec<String>>> = v["packets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["seen"].as_array().into_iter().flatten().map(strings).collect())
            .collect();
        let retried = v["packets"].as_array().into_iter().flatten().filter(|p| p["tries"] != 1).count();
        seen.push(Seen { loads, packets, retried });
    }
    if seen.len() != jobs.len() {
        return Err(format!("the harness answered {} of {} cases", seen.len(), jobs.len()));
    }
    Ok(seen)
}

/// `f` over `items` in `workers` groups (round robin), one thread each; results in the order of
/// `items`.
fn in_groups<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(usize, &[&T]) -> Vec<R> + Sync) -> Vec<R> {
    let workers = workers.clamp(1, items.len().max(1));
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for w in 0..workers {
            let (f, results) = (&f, &results);
            s.spawn(move || {
                let mine: Vec<usize> = (w..items.len()).step_by(workers).collect();
                let group: Vec<&T> = mine.iter().map(|&i| &items[i]).collect();
                let out = f(w, &group);
                let mut results = results.lock().expect("not poisoned");
                for (i, r) in mine.into_iter().zip(out) {
                    results[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().expect("not poisoned").into_iter().map(|r| r.expect("every item ran")).collect()
}

/// The packets where a loader saw something else than the first, each as a report. Loaders
/// that did not load the case are left out (their failure is reported on its own).
pub fn disagreements(loaders: &[Loader], packets: &[HarnessPacket], seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    for (p, by_loader) in packets.iter().zip(&seen.packets) {
        let loaded = || by_loader.iter().zip(loaders).zip(&seen.loads).filter(|(_, (ok, _))| *ok).map(|(x, _)| x);
        if loaded().all(|(s, _)| *s == by_loader[0]) {
            continue;
        }
        let mut report = format!("packet: {}", p.to_line());
        for (s, l) in loaded() {
            report += &format!("\n  {:<13} {}", format!("{}:", l.name()), observed(s));
        }
        out.push(report);
    }
    out
}

/// The lines of one observation on one line.
pub fn observed(lines: &[String]) -> String {
    if lines.is_empty() {
        "nothing".into()
    } else {
        lines.iter().map(|l| format!("[{l}]")).collect::<Vec<_>>().join(" ")
    }
}

/// Whether the harness switches conntrack on for a dump: when it has a nat table, unless a
/// `# conntrack: off` line says not to. Nat chains are traversed only with conntrack on
/// (NETFILTER.md), and a real host with NAT rules has it on; a legacy nat table and nft's nat
/// chains do not switch it on by themselves (a NAT target or a `ct` match does). Otherwise the
/// dump alone decides (a state or conntrack match, CONNMARK, ...: the same in both), and without
/// conntrack fragments reach the chains as they are, not reassembled.
pub fn switch_conntrack_on(rules: &str) -> bool {
    rules.lines().any(|l| l.trim() == "*nat") && !rules.lines().any(|l| l.trim() == CONNTRACK_OFF)
}

fn family_of(text: &str, name: &str) -> u8 {
    use ipt::load::{LoadOptions, load};
    use ipt::source::Source;
    let loaded = load(&Source::new(name.to_string(), text.to_string()), &LoadOptions::default());
    match loaded.ruleset.tables.first().map(|t| t.family) {
        Some(ipt::model::Family::Ipv6) => 6,
        _ => 4,
    }
}

// ------------------------------------------------------------------------------------ fixtures

/// Packets for a fixture without `# packet:` lines: every way through fwhost, each protocol, the
/// ports the fixtures use.
fn battery(family: u8) -> Vec<HarnessPacket> {
    let (client, fw_client, fw_server, server, net, net1) = if family == 4 {
        ("192.0.2.2", "192.0.2.1", "198.51.100.1", "198.51.100.2", "203.0.113.10", "203.0.113.1")
    } else {
        ("2001:db8:1::2", "2001:db8:1::1", "2001:db8:2::1", "2001:db8:2::2", "2001:db8:3::10", "2001:db8:3::1")
    };
    let mut lines = Vec::new();
    for dst in [fw_client, server, net, net1] {
        for (proto, ports) in [("tcp", &[22, 80, 443, 3128, 8000, 8080][..]), ("udp", &[53, 123][..])] {
            for port in ports {
                lines.push(format!("--from client --proto {proto} --src {client} --dst {dst} --dport {port}"));
            }
        }
        lines.push(format!("--from client --proto icmp --src {client} --dst {dst}"));
    }
    lines.push(format!("--from client --proto tcp --src {client} --dst {fw_client} --dport 22 --flags SA"));
    lines.push(format!("--from client --proto tcp --src {client} --dst {server} --dport 80 --flags A"));
    lines.push(format!("--from server --proto tcp --src {server} --dst {client} --dport 22"));
    lines.push(format!("--from server --proto udp --src {server} --dst {fw_server} --dport 53"));
    for (proto, port) in [("tcp", 80), ("tcp", 22), ("udp", 53)] {
        lines.push(format!("--from fwhost --proto {proto} --src {fw_server} --dst {server} --dport {port}"));
        lines.push(format!("--from fwhost --proto {proto} --src {fw_server} --dst {fw_server} --dport {port}"));
    }
    lines.push(format!("--from fwhost --proto icmp --src {fw_server} --dst {server}"));
    lines.push(format!("--from fwhost --proto tcp --src {fw_server} --dst {server} --dport 80 --mark 0x1"));
    // fragments: a later one alone (its payload a copy of the header) and both, in, through, out
    for frag in ["later", "both"] {
        for dst in [fw_client, server] {
            lines.push(format!("--from client --proto tcp --src {client} --dst {dst} --dport 22 --frag {frag}"));
            lines.push(format!("--from client --proto udp --src {client} --dst {dst} --dport 53 --frag {frag}"));
        }
        lines.push(format!("--from client --proto icmp --src {client} --dst {server} --frag {frag}"));
        lines.push(format!("--from fwhost --proto tcp --src {fw_server} --dst {server} --dport 80 --frag {frag}"));
    }
    lines.iter().map(|l| HarnessPacket::parse(l).expect("a battery packet")).collect()
}

/// Every `# packet:` line of a rules file.
fn packet_lines(text: &str) -> Result<Vec<HarnessPacket>, String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix('#').map(str::trim_start).and_then(|l| l.strip_prefix("packet:")))
        .map(HarnessPacket::parse)
        .collect()
}

fn rules_files(dir: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root().join(dir)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    files
}

/// Why a fixture's packets cannot be compared, if they cannot: a construct without one fate per
/// packet, or one this kernel lacks (a `NAME.nft.kernel-needs-X` file next to it says so).
fn not_comparable(path: &Path, text: &str) -> Option<String> {
    let lacking = path.with_extension("nft.kernel-needs-NFT_QUEUE");
    if lacking.exists() {
        return Some("this kernel lacks CONFIG_NFT_QUEUE (nft-mapping.md)".into());
    }
    [
        ("--mode random", "`-m statistic --mode random` draws a random number per packet"),
        ("-j TEE", "`-j TEE` copies packets back into fwhost: a loop, counted by timing"),
        ("--ttl-set", "`-j TTL --ttl-set` in PREROUTING keeps looping packets alive"),
    ]
    .into_iter()
    .find(|(token, _)| text.contains(token))
    .map(|(_, why)| why.to_string())
}

#[test]
fn translate_agrees_with_iptables_on_the_fixtures() {
    require_translate_harness();
    let loaders = loaders();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("translate-kernel-fixtures");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temporary directory");
    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let files: Vec<PathBuf> = ["fixtures/nft-mapping", "fixtures/translate", "fixtures/translate/regressions"]
        .into_iter()
        .flat_map(rules_files)
        .collect();
    assert!(files.len() >= 19, "{files:?}");
    for path in &files {
        let name = path.strip_prefix(root()).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).expect("fixture");
        if let Some(why) = not_comparable(path, &text) {
            skipped.push(format!("{name}: {why}"));
            continue;
        }
        let family = family_of(&text, &name);
        let copy = work.join(path.file_name().expect("a file name"));
        std::fs::write(&copy, &text).expect("fixture copied");
        let mut files = Vec::new();
        for l in &loaders {
            match l.prepare(&copy) {
                Prepared::Ready(f) => files.push(f),
                Prepared::Untranslatable(why) => {
                    skipped.push(format!("{name}: untranslatable ({}): {}", l.name(), refusals(&why)));
                    break;
                }
                Prepared::Failed(why) => {
                    failures.push(format!("{name}: {why}"));
                    break;
                }
            }
        }
        if files.len() != loaders.len() {
            continue;
        }
        let packets = match packet_lines(&text) {
            Ok(p) if p.is_empty() => battery(family),
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        jobs.push(Job { id: name, family, conntrack: switch_conntrack_on(&text), files, packets });
    }
    for s in &skipped {
        eprintln!("translate kernel fixtures: skipped {s}");
    }
    let results = in_groups(&jobs, jobs_env(), |w, group| {
        let group: Vec<Job> = group
            .iter()
            .map(|j| Job {
                id: j.id.clone(),
                family: j.family,
                conntrack: j.conntrack,
                files: j.files.clone(),
                packets: j.packets.clone(),
            })
            .collect();
        match run_harness(&loaders, &group, &work.join(format!("w{w}"))) {
            Ok(seen) => seen.into_iter().map(Ok).collect(),
            Err(e) => group.iter().map(|_| Err(e.clone())).collect(),
        }
    });
    let mut packets = 0;
    for (job, result) in jobs.iter().zip(results) {
        let seen = match result {
            Ok(seen) => seen,
            Err(e) => {
                failures.push(format!("{}: {e}", job.id));
                continue;
            }
        };
        if let Some((l, (_, msg))) = loaders.iter().zip(&seen.loads).find(|(_, (ok, _))| !ok) {
            failures.push(format!("{}: {} does not load it: {msg}", job.id, l.name()));
            continue;
        }
        packets += job.packets.len();
        let d = disagreements(&loaders, &job.packets, &seen);
        if !d.is_empty() {
            failures.push(format!("{}: {} of {} packets differ\n{}", job.id, d.len(), job.packets.len(), d.join("\n")));
        }
    }
    let names: Vec<&str> = loaders.iter().map(|l| l.name()).collect();
    eprintln!(
        "translate kernel fixtures ({}): {} compared ({packets} packets), {} skipped, {} failed",
        names.join(" vs "),
        jobs.len(),
        skipped.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(jobs.len() >= 9, "only {} fixtures compared; skipped:\n{}", jobs.len(), skipped.join("\n"));
}

/// The reasons in `ipt translate`'s refusal (its `×` lines), on one line.
fn refusals(stderr: &str) -> String {
    let mut reasons: Vec<&str> =
        stderr.lines().filter_map(|l| l.trim_start().strip_prefix("× ")).map(str::trim).collect();
    reasons.dedup();
    reasons.join("; ")
}

fn jobs_env() -> usize {
    env_number("IPT_TRANSLATE_JOBS", 3) as usize
}

// ------------------------------------------------------------------------------------ random

/// What became of one random case.
enum Outcome {
    /// The reference loader (iptables-legacy-restore) refused it: the generator's fault, counted.
    Discarded(String),
    Agreed {
        packets: usize,
        retried: usize,
    },
    /// Translate refused a ruleset made only of constructs nft-mapping.md calls exact.
    Refused(String),
    /// A disagreement or a failure, with the report.
    Failed(String),
}

#[test]
fn translate_agrees_with_iptables_on_random_rulesets() {
    require_translate_harness();
    let loaders = loaders();
    let seed = env_number("IPT_TRANSLATE_SEED", DEFAULT_SEED);
    let cases = env_number("IPT_TRANSLATE_CASES", 200);
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("translate-kernel-{seed}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temporary directory");
    let regressions = root().join("fixtures/translate/regressions");
    let written = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let indexes: Vec<u64> = (0..cases).collect();
    let kube = AtomicUsize::new(0);
    let stateless = AtomicUsize::new(0);
    let fragmented = AtomicUsize::new(0);
    let outcomes = in_groups(&indexes, jobs_env(), |w, group| {
        // translate every case of this group, then run those that translated in one harness
        let mut outcomes: Vec<Option<Outcome>> = Vec::new();
        let mut jobs = Vec::new();
        let mut texts = Vec::new();
        for &&index in group {
            let case = generate_many(seed, index);
            if case.kube {
                kube.fetch_add(1, Ordering::SeqCst);
            }
            if case.stateless {
                stateless.fetch_add(1, Ordering::SeqCst);
            }
            fragmented.fetch_add(case.packets.iter().filter(|p| p.frag.is_some()).count(), Ordering::SeqCst);
            let path = work.join(format!("{seed}-{index}.rules"));
            std::fs::write(&path, &case.rules).expect("case written");
            let mut files = Vec::new();
            let mut outcome = None;
            for l in &loaders {
                match l.prepare(&path) {
                    Prepared::Ready(f) => files.push(f),
                    Prepared::Untranslatable(why) => {
                        outcome = Some(Outcome::Refused(format!(
                            "{seed}-{index} ({}): ipt translate says untranslatable:\n{why}\n{}",
                            l.name(),
                            case.rules
                        )));
                        break;
                    }
                    Prepared::Failed(why) => {
                        outcome = Some(Outcome::Failed(format!("{seed}-{index}: {why}\n{}", case.rules)));
                        break;
                    }
                }
            }
            if outcome.is_none() {
                jobs.push(Job {
                    id: format!("{seed}-{index}"),
                    family: case.family,
                    conntrack: switch_conntrack_on(&case.rules),
                    files,
                    packets: case.packets,
                });
                texts.push((index, case.rules));
            }
            outcomes.push(outcome);
        }
        let seen = run_harness(&loaders, &jobs, &work.join(format!("w{w}")));
        let mut seen = match seen {
            Ok(seen) => seen.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => jobs.iter().map(|_| Err(e.clone())).collect(),
        }
        .into_iter();
        let mut judged = jobs.iter().zip(texts.iter());
        outcomes
            .into_iter()
            .map(|o| {
                if let Some(o) = o {
                    return o;
                }
                let (job, (index, rules)) = judged.next().expect("a job per case");
                let seen = match seen.next().expect("a result per job") {
                    Ok(seen) => seen,
                    Err(e) => return Outcome::Failed(format!("{}: {e}", job.id)),
                };
                if !seen.loads[0].0 {
                    let first = seen.loads[0].1.lines().next().unwrap_or("").to_string();
                    return Outcome::Discarded(first);
                }
                let mut report = Vec::new();
                for (l, (ok, msg)) in loaders.iter().zip(&seen.loads).skip(1) {
                    if !ok {
                        report.push(format!("{} does not load it: {msg}", l.name()));
                    }
                }
                report.extend(disagreements(&loaders, &job.packets, &seen));
                if report.is_empty() {
                    return Outcome::Agreed { packets: job.packets.len(), retried: seen.retried };
                }
                let saved = if written.fetch_add(1, Ordering::SeqCst) < MAX_REGRESSIONS {
                    let file = regressions.join(format!("{}.rules", job.id));
                    std::fs::create_dir_all(&regressions).expect("regressions directory");
                    // the report names the temporary files: keep only their names
                    let report: Vec<String> =
                        report.iter().map(|r| r.replace(&format!("{}/", work.display()), "")).collect();
                    std::fs::write(&file, regression_text(seed, *index, &loaders, &job.packets, &report, rules))
                        .expect("regression written");
                    format!("saved as fixtures/translate/regressions/{}.rules", job.id)
                } else {
                    "not saved: too many this run".into()
                };
                Outcome::Failed(format!(
                    "{} (IPT_TRANSLATE_SEED={seed}, case {index}), {saved}:\n{}\n{rules}",
                    job.id,
                    report.join("\n")
                ))
            })
            .collect()
    });
    let mut discarded = BTreeMap::<String, usize>::new();
    let (mut agreed, mut packets, mut retried) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Discarded(why) => *discarded.entry(why).or_default() += 1,
            Outcome::Agreed { packets: p, retried: r } => {
                agreed += 1;
                packets += p;
                retried += r;
            }
            Outcome::Refused(report) => refused.push(report),
            Outcome::Failed(report) => failures.push(report),
        }
    }
    let names: Vec<&str> = loaders.iter().map(|l| l.name()).collect();
    let stats = format!(
        "seed {seed}, {} ({} kube-proxy shaped, {} stateless, {} fragment packets): {cases} cases in {:.0?}; \
         {agreed} agree ({packets} packets, {retried} sent twice), \
         {} discarded (the reference refused them: {discarded:?}), {} refused by ipt translate, {} fail",
        names.join(" vs "),
        kube.load(Ordering::SeqCst),
        stateless.load(Ordering::SeqCst),
        fragmented.load(Ordering::SeqCst),
        started.elapsed(),
        discarded.values().sum::<usize>(),
        refused.len(),
        failures.len()
    );
    eprintln!("{stats}");
    for f in failures.iter().chain(&refused) {
        // the first lines of each: what failed (the whole report is in the assertion's message)
        eprintln!("  {}", f.lines().take(3).collect::<Vec<_>>().join("\n    "));
    }
    let shown: Vec<&String> = failures.iter().chain(&refused).take(10).collect();
    assert!(
        failures.is_empty() && refused.is_empty(),
        "{stats}\n(re-run with IPT_TRANSLATE_SEED={seed}; the first {} failures:)\n\n{}",
        shown.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n")
    );
    let kept = cases as usize - discarded.values().sum::<usize>();
    assert!(kept * 10 >= cases as usize * 9, "{stats}: the generator makes too many rulesets that do not load");
}

/// A regression fixture: how it was found, every packet that disagreed with what each loader saw
/// (as comments), then the packets as `# packet:` lines, then the rules.
fn regression_text(
    seed: u64,
    index: u64,
    loaders: &[Loader],
    packets: &[HarnessPacket],
    report: &[String],
    rules: &str,
) -> String {
    let names: Vec<&str> = loaders.iter().map(|l| l.name()).collect();
    let mut text = format!(
        "# tests/tier/translate_kernel.rs: IPT_TRANSLATE_SEED={seed}, case {index}; {} differ:\n",
        names.join(" vs ")
    );
    for r in report {
        for line in r.lines() {
            text += &format!("#   {line}\n");
        }
    }
    for p in packets {
        text += &format!("# packet: {}\n", p.to_line());
    }
    text + rules
}

// ------------------------------------------------------------------------------------ the harness itself

/// Two rulesets that differ must be told apart: the harness is not a test that cannot fail.
/// Loader 2 gets a ruleset that rejects where loader 1's drops, and DNATs to another port.
#[test]
fn the_harness_sees_a_different_ruleset() {
    require_translate_harness();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("translate-kernel-self");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temporary directory");
    let base = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
                -A PREROUTING -d 192.0.2.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 198.51.100.2:PORT\n\
                -A POSTROUTING -o eth1 -s 192.0.2.0/24 -j SNAT --to-source 198.51.100.9\nCOMMIT\n\
                *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                -A INPUT -p tcp -m tcp --dport 22 -j VERDICT\nCOMMIT\n";
    let one = work.join("one.rules");
    let two = work.join("two.rules");
    std::fs::write(&one, base.replace("PORT", "80").replace("VERDICT", "DROP")).expect("written");
    std::fs::write(&two, base.replace("PORT", "81").replace("VERDICT", "REJECT --reject-with tcp-reset"))
        .expect("written");
    let packets: Vec<HarnessPacket> = [
        "--from client --proto tcp --src 192.0.2.2 --dst 192.0.2.1 --dport 22",
        "--from client --proto tcp --src 192.0.2.2 --dst 192.0.2.1 --dport 8080",
        "--from client --proto udp --src 192.0.2.2 --dst 198.51.100.2 --dport 53",
        "--from fwhost --proto icmp --src 198.51.100.1 --dst 198.51.100.2",
    ]
    .iter()
    .map(|l| HarnessPacket::parse(l).expect("packet"))
    .collect();
    let loaders = [Loader::Legacy, Loader::Legacy];
    let job = Job { id: "self".into(), family: 4, conntrack: true, files: vec![one, two], packets: packets.clone() };
    let seen = run_harness(&loaders, &[job], &work).expect("the harness runs").remove(0);
    assert_eq!(seen.loads.iter().filter(|(ok, _)| *ok).count(), 2, "{seen:?}");
    let want: [[&[&str]; 2]; 4] = [
        [&[], &["client got tcp 192.0.2.1.22 > 192.0.2.2.40000 RA"]],
        [
            &[
                "client got tcp 192.0.2.1.8080 > 192.0.2.2.40000 RA",
                "server got tcp 198.51.100.9.40000 > 198.51.100.2.80 S ours",
            ],
            &[
                "client got tcp 192.0.2.1.8080 > 192.0.2.2.40000 RA",
                "server got tcp 198.51.100.9.40000 > 198.51.100.2.81 S ours",
            ],
        ],
        [&[
            "client got icmp 198.51.100.2 > 192.0.2.2 type 3/3 [udp 192.0.2.2.40000 > 198.51.100.2.53 ours]",
            "server got udp 198.51.100.9.40000 > 198.51.100.2.53 ours",
        ]; 2],
        [&[
            "fwhost got icmp 198.51.100.2 > 198.51.100.1 type 0/0 id 40000",
            "server got icmp 198.51.100.1 > 198.51.100.2 type 8/0 id 40000 ours",
        ]; 2],
    ];
    let got: Vec<Vec<Vec<&str>>> =
        seen.packets.iter().map(|by| by.iter().map(|s| s.iter().map(String::as_str).collect()).collect()).collect();
    let want: Vec<Vec<Vec<&str>>> = want.iter().map(|by| by.iter().map(|s| s.to_vec()).collect()).collect();
    assert_eq!(got, want);
    let d = disagreements(&loaders, &packets, &seen);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].starts_with("packet: --from client --proto tcp --src 192.0.2.2 --dst 192.0.2.1"), "{}", d[0]);
}

#[test]
fn a_random_case_depends_only_on_seed_and_index_and_has_every_way_through() {
    let a = generate_many(DEFAULT_SEED, 5);
    assert_eq!(a.rules, generate_many(DEFAULT_SEED, 5).rules);
    assert_ne!(a.rules, generate_many(DEFAULT_SEED, 6).rules);
    let origins: Vec<Origin> = a.packets.iter().map(|p| p.origin).collect();
    for o in [Origin::Client, Origin::Server, Origin::Fwhost] {
        assert!(origins.contains(&o), "{origins:?}");
    }
    assert!(a.packets.iter().all(|p| p.family == a.family));
    let kube = (0..40).map(|i| generate_many(DEFAULT_SEED, i)).find(|c| c.kube).expect("a kube-proxy case in 40");
    assert!(kube.rules.contains("-j KUBE-SVC-"), "{}", kube.rules);
    assert!(kube.rules.contains("-j DNAT --to-destination"), "{}", kube.rules);
}
