//! The save vectors: rules recorded with their `iptables-legacy-save` output (or the error
//! iptables-restore gave) by `fixtures/save-vectors/generate.sh` on iptables 1.8.9. For each
//! one, ipt must agree on whether it loads, and print the same canonical text.

use std::fmt::Write;
use std::path::Path;

use ipt::load::{LoadOptions, load};
use ipt::model::{Family, MatchKind, TargetKind};
use ipt::source::Source;

struct Case {
    family: Family,
    table: String,
    chain: String,
    input: String,
    saved: String,
    error: String,
}

fn cases(file: &str, family: Family) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/save-vectors").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Case {
                family,
                table: f[0].into(),
                chain: f[1].into(),
                input: f[2].into(),
                saved: f.get(3).copied().unwrap_or("").into(),
                error: f.get(4).copied().unwrap_or("").into(),
            }
        })
        .collect()
}

fn builtins(table: &str) -> &'static [&'static str] {
    match table {
        "filter" | "security" => &["INPUT", "FORWARD", "OUTPUT"],
        "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        "mangle" => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        "raw" => &["PREROUTING", "OUTPUT"],
        _ => &[],
    }
}

/// Cases where ipt deliberately differs from iptables 1.8.9, with the reason.
const DEVIATIONS: &[(&str, &str)] = &[
    (
        "-m comment --comment a\"b -j ACCEPT",
        "an unterminated quote makes iptables take the rest of the line and its newline; ipt refuses it",
    ),
    (
        "-m comment --comment \"unterminated -j ACCEPT",
        "an unterminated quote makes iptables take the rest of the line and its newline; ipt refuses it",
    ),
    ("-h", "`-h` makes iptables-restore print its help and exit before COMMIT, applying nothing; ipt refuses it"),
];

/// What ipt made of one case.
struct Outcome {
    /// The saved rule lines, or the first error.
    result: Result<String, String>,
    /// A verbatim (unmodelled) extension is involved.
    verbatim: bool,
    /// A host, user or group name is involved (resolved only on the host).
    host_name: bool,
    /// ipt accepted an old-style `OPT ! VALUE` negation, with a warning.
    old_negation: bool,
    /// ipt warned that loading depends on the host (an ipset, a kernel module, a context).
    host_dependent: bool,
}

fn run(case: &Case) -> Outcome {
    let mut text = format!("*{}\n", case.table);
    for chain in builtins(&case.table) {
        let _ = writeln!(text, ":{chain} ACCEPT [0:0]");
    }
    if !builtins(&case.table).contains(&case.chain.as_str()) {
        let _ = writeln!(text, ":{} - [0:0]", case.chain);
    }
    if case.chain != "TGT" {
        text.push_str(":TGT - [0:0]\n");
    }
    let _ = writeln!(text, "-A {} {}\nCOMMIT", case.chain, case.input);
    let source = Source::new("case", text);
    let loaded = load(&source, &LoadOptions { family: Some(case.family), ..Default::default() });
    let codes: Vec<String> = loaded.diagnostics.iter().map(|d| d.code()).collect();
    let mut outcome = Outcome {
        result: Ok(String::new()),
        verbatim: codes.iter().any(|c| c.contains("unmodelled")),
        host_name: codes.iter().any(|c| c == "ipt::load::host_name" || c == "ipt::load::account_name"),
        old_negation: codes.iter().any(|c| c == "ipt::load::old_negation"),
        host_dependent: codes.iter().any(|c| c == "ipt::check::host_dependent"),
    };
    if let Some(e) = loaded.diagnostics.iter().find(|d| d.severity() == ipt::diag::Severity::Error) {
        outcome.result = Err(e.to_string());
        return outcome;
    }
    let table = &loaded.ruleset.tables[0];
    let chain = table.chain(&case.chain).expect("the chain exists");
    let lines: Vec<String> = chain
        .rules
        .iter()
        .map(|r| {
            outcome.verbatim |= r.matches.iter().any(|m| matches!(m.kind, MatchKind::Verbatim(_)))
                || matches!(r.target.kind, TargetKind::Verbatim(_));
            let mut line = String::new();
            ipt::fmt::rule_spec(&mut line, r);
            line.trim_start().to_string()
        })
        .collect();
    outcome.result = Ok(lines.join(" || "));
    outcome
}

/// The rule text without what iptables-save 1.8.9 leaves out: `! -i +`, `! -o +` and a negated
/// full port range.
fn dropped_by_iptables_save(text: &str) -> String {
    let mut out = text.to_string();
    for gone in
        ["! -i +", "! -o +", "-i +", "-o +", "-p all", "! --sport 0:65535", "! --dport 0:65535", "! --mh-type 0:255"]
    {
        out = out.replace(&format!(" {gone}"), "").replace(gone, "");
    }
    out.trim().to_string()
}

fn check_all(file: &str, family: Family) {
    let mut failures = Vec::new();
    let mut excused = std::collections::BTreeMap::<&str, usize>::new();
    let all = cases(file, family);
    for case in &all {
        let outcome = run(case);
        let saved = if case.saved == "<no rule>" { "" } else { case.saved.as_str() };
        let agree = match (&outcome.result, case.error.is_empty()) {
            (Ok(mine), true) => *mine == saved,
            (Err(_), false) => true,
            _ => false,
        };
        if agree {
            continue;
        }
        let excuse = if let Some((_, why)) = DEVIATIONS.iter().find(|(input, _)| *input == case.input) {
            Some(*why)
        } else if let Ok(mine) = &outcome.result
            && dropped_by_iptables_save(mine) == saved
        {
            Some(
                "iptables-save drops a match-everything (`-i +`, IPv6 `-p all`, `! -i +`, `! --dport 0:65535`) that the kernel keeps (it makes the rule conditional, or never match); ipt prints it",
            )
        } else if outcome.old_negation && outcome.result.is_ok() {
            Some("old-style negation: iptables 1.8.9 refuses it, ipt accepts it with a warning")
        } else if outcome.host_name {
            Some("a host, user or group name: what it resolves to depends on the host")
        } else if outcome.host_dependent && outcome.result.is_ok() {
            Some("depends on the host (an ipset, a kernel module, an SELinux context), which ipt warns about")
        } else if outcome.verbatim {
            Some("an extension ipt keeps verbatim: its options are not checked, nor printed canonically")
        } else {
            None
        };
        if let Some(why) = excuse {
            *excused.entry(why).or_default() += 1;
            continue;
        }
        failures.push(match (&outcome.result, case.error.is_empty()) {
            (Ok(mine), true) => {
                format!(
                    "{} {}: `{}`\n   iptables-save: `{saved}`\n   ipt fmt:       `{mine}`",
                    case.table, case.chain, case.input
                )
            }
            (Ok(_), false) => {
                format!(
                    "{} {}: `{}`\n   iptables refuses: {}\n   ipt accepts it",
                    case.table, case.chain, case.input, case.error
                )
            }
            (Err(e), _) => {
                format!(
                    "{} {}: `{}`\n   iptables loads it as `{saved}`\n   ipt refuses: {e}",
                    case.table, case.chain, case.input
                )
            }
        });
    }
    eprintln!("{file}: {} cases; excused:", all.len());
    for (why, n) in &excused {
        eprintln!("  {n:4}  {why}");
    }
    assert!(failures.is_empty(), "{} of {} cases disagree:\n{}", failures.len(), all.len(), failures.join("\n"));
}

#[test]
fn ipv4_vectors() {
    check_all("v4.tsv", Family::Ipv4);
}

#[test]
fn ipv6_vectors() {
    check_all("v6.tsv", Family::Ipv6);
}
