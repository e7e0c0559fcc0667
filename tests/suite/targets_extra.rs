//! The target probes: single rules recorded with `fixtures/save-vectors/probe.sh` on
//! iptables-legacy 1.8.9 (`targets-extra.tsv`, with iptables' message for each refusal in
//! `targets-extra-stderr.tsv`). ipt must print what iptables-save printed, and refuse what
//! iptables refuses in user space. Refusals by the kernel ("line N failed") are the kernel
//! checks' business, not the loader's; they are counted, not checked, here.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use ipt::diag::Severity;
use ipt::load::{LoadOptions, load};
use ipt::model::Family;
use ipt::source::Source;

fn read(file: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/save-vectors").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split('\t').map(String::from).collect()).collect()
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

/// ipt's saved rule, or its first error; and whether a host name was involved.
fn run(family: Family, table: &str, chain: &str, input: &str) -> (Result<String, String>, bool) {
    let mut text = format!("*{table}\n");
    for c in builtins(table) {
        let _ = writeln!(text, ":{c} ACCEPT [0:0]");
    }
    if !builtins(table).contains(&chain) {
        let _ = writeln!(text, ":{chain} - [0:0]");
    }
    let _ = writeln!(text, "-A {chain} {input}\nCOMMIT");
    let loaded = load(&Source::new("case", text), &LoadOptions { family: Some(family), ..Default::default() });
    let host_name = loaded.diagnostics.iter().any(|d| d.code() == "ipt::load::host_name");
    // only the loader's errors: where a target may stand is checked elsewhere
    if let Some(e) =
        loaded.diagnostics.iter().find(|d| d.severity() == Severity::Error && d.code().starts_with("ipt::load::"))
    {
        return (Err(e.to_string()), host_name);
    }
    let rule = &loaded.ruleset.tables[0].chain(chain).expect("the chain exists").rules[0];
    let mut line = String::new();
    ipt::fmt::rule_spec(&mut line, rule);
    (Ok(line.trim_start().to_string()), host_name)
}

#[test]
fn targets_extra_vectors() {
    let errors: HashMap<String, String> =
        read("targets-extra-stderr.tsv").into_iter().map(|f| (f[..4].join("\t"), f[4].clone())).collect();
    let cases = read("targets-extra.tsv");
    let (mut failures, mut kernel, mut hosts, mut sets) = (Vec::new(), 0, 0, 0);
    for f in &cases {
        let family = if f[0] == "6" { Family::Ipv6 } else { Family::Ipv4 };
        let (table, chain, input, saved) = (&f[1], &f[2], &f[3], f.get(4).map_or("", String::as_str));
        let error = errors.get(&f[..4].join("\t"));
        let (mine, host_name) = run(family, table, chain, input);
        if std::env::var_os("TARGETS_EXTRA_VERBOSE").is_some() {
            eprintln!("{}\t{table}\t{input}\t{mine:?}\t{error:?}", f[0]);
        }
        let agree = match (&mine, saved.is_empty()) {
            (Ok(m), false) => m == saved,
            (Err(_), true) => true,
            (Ok(_), true) if error.is_some_and(|e| e.starts_with("line ")) => {
                kernel += 1;
                true
            }
            _ => false,
        };
        if agree {
            continue;
        }
        if host_name {
            hosts += 1;
            continue;
        }
        // which ipsets exist, and their family, is known only on the host
        if error.is_some_and(|e| e.starts_with("Set ") || e.starts_with("The protocol family of set")) {
            sets += 1;
            continue;
        }
        failures.push(match mine {
            Ok(m) if saved.is_empty() => format!(
                "IPv{} {table} {chain}: `{input}`\n   iptables refuses: {}\n   ipt saves: `{m}`",
                f[0],
                error.map_or("?", String::as_str)
            ),
            Ok(m) => {
                format!("IPv{} {table} {chain}: `{input}`\n   iptables-save: `{saved}`\n   ipt fmt:       `{m}`", f[0])
            }
            Err(e) => {
                format!("IPv{} {table} {chain}: `{input}`\n   iptables-save: `{saved}`\n   ipt refuses:   {e}", f[0])
            }
        });
    }
    eprintln!(
        "{} cases; {kernel} refused by the kernel only (not checked here); {hosts} with a host name resolved \
         differently; {sets} with an ipset that does not exist, or not in this family",
        cases.len()
    );
    assert!(failures.is_empty(), "{} of {} cases disagree:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
