//! `ipt lint` and `ipt rule`: one fixture per lint (hits and non-hits side by side, the hits
//! named in the fixture's first line), the output formats, levels and exit codes.

use std::collections::BTreeSet;

use super::fixtures::files;
use super::support::{fixture, ipt, root};

/// The lint codes a run reported, from `--format json`.
fn codes(args: &[&str]) -> Vec<String> {
    let mut full = vec!["lint", "--format", "json"];
    full.extend_from_slice(args);
    let run = ipt(&full, None);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    json["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().expect("diagnostics").clone())
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn each_lint_fixture_is_snapshotted_with_every_lint_on() {
    let names = files("lint");
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        let path = format!("fixtures/lint/{name}");
        let run = ipt(&["lint", "--warn", "style", &path], None);
        let stem = name.trim_end_matches(".rules");
        insta::assert_snapshot!(format!("lint__{stem}"), run.transcript());
    }
}

#[test]
fn each_lint_fixture_hits_its_own_lint() {
    for name in files("lint") {
        let stem = name.trim_end_matches(".rules");
        let lint = ipt(&["rule", stem], None);
        assert_eq!(lint.code, 0, "{name}: no lint is called {stem}");
        let code = lint.stdout.split_whitespace().nth(1).expect("a code").to_string();
        let found = codes(&["--warn", "style", &format!("fixtures/lint/{name}")]);
        assert!(found.contains(&code), "{name}: {code} not among {found:?}");
    }
}

#[test]
fn every_lint_has_a_fixture() {
    let fixtures: BTreeSet<String> = files("lint").iter().map(|n| n.trim_end_matches(".rules").to_string()).collect();
    let list = ipt(&["rule", "--list"], None);
    for line in list.stdout.lines() {
        let name = line.split_whitespace().nth(1).expect("a name");
        assert!(fixtures.contains(name), "no fixtures/lint/{name}.rules");
    }
}

#[test]
fn the_bundled_example_is_clean() {
    let run = ipt(&["lint", "--warn", "style", "fixtures/valid/example.rules"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "fixtures/valid/example.rules: 0 errors, 0 warnings\n");
}

#[test]
fn exit_status_follows_fail_on() {
    let warned = "fixtures/lint/unreached-chain.rules";
    assert_eq!(ipt(&["lint", "fixtures/lint/log-without-prefix.rules"], None).code, 0, "style is off by default");
    assert_eq!(ipt(&["lint", "-W", "log-without-prefix", "fixtures/lint/log-without-prefix.rules"], None).code, 1);
    assert_eq!(
        ipt(&["lint", "--fail-on", "error", "-W", "IPT502", "fixtures/lint/log-without-prefix.rules"], None).code,
        0
    );
    assert_eq!(ipt(&["lint", "--fail-on", "error", "-A", "IPT102", warned], None).code, 0);
    assert_eq!(ipt(&["lint", "--fail-on", "error", warned], None).code, 1, "IPT102 is an error");
    assert_eq!(ipt(&["lint", "-W", "no-such-lint", warned], None).code, 2);
    assert_eq!(ipt(&["lint", "fixtures/lint/no-such-file.rules"], None).code, 2);
    assert_eq!(ipt(&["rule", "IPT999"], None).code, 2);
}

#[test]
fn a_file_that_does_not_load_is_reported_as_check_reports_it() {
    let found = codes(&["fixtures/check/dnat-in-input.rules"]);
    assert_eq!(found, ["ipt::check::wrong_chain"]);
}

#[test]
fn ipt_toml_sets_levels_for_the_files_below_it() {
    let dir = tempdir("config");
    std::fs::write(dir.join("ipt.toml"), "[lints]\nstyle = \"warn\"\nIPT502 = \"allow\"\n").expect("config written");
    let rules = dir.join("rules.v4");
    std::fs::copy(fixture("lint/state-module.rules"), &rules).expect("copied");
    let found: Vec<String> =
        codes(&[rules.to_str().expect("utf-8")]).into_iter().filter(|c| c.starts_with("IPT5")).collect();
    assert_eq!(found, ["IPT501", "IPT501"], "style on, IPT502 off");
    std::fs::write(dir.join("ipt.toml"), "[lints]\nstate-module = \"loud\"\n").expect("config written");
    let run = ipt(&["lint", rules.to_str().expect("utf-8")], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("has no level"), "{}", run.stderr);
    std::fs::remove_dir_all(dir).expect("cleaned");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ipt-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

#[test]
fn json_names_the_lint() {
    let run = ipt(&["lint", "--format", "json", "fixtures/lint/unreached-chain.rules"], None);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let first = &json["files"][0]["diagnostics"][0];
    assert_eq!(first["code"], "IPT202");
    assert_eq!(first["name"], "unreached-chain");
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["line"], 7);
    assert_eq!(first["column"], 2);
    assert_eq!(first["help"], "jump to it (`-j LATE`) from a chain packets go through, or remove it");
}

#[test]
fn github_annotations_are_workflow_commands() {
    let run = ipt(&["lint", "--format", "github", "fixtures/lint/rule-after-unconditional-verdict.rules"], None);
    assert_eq!(run.code, 1);
    // the SSH accept after the final drop locks out SSH too
    assert!(run.stdout.lines().any(|l| l.starts_with(
        "::warning file=fixtures/lint/rule-after-unconditional-verdict.rules,line=13,col=1,endLine=13,endColumn=17,title=IPT301 ssh-lockout::"
    )));
    let second = run.stdout.lines().find(|l| l.contains("IPT102")).expect("an IPT102 annotation");
    assert_eq!(
        second,
        "::error file=fixtures/lint/rule-after-unconditional-verdict.rules,line=14,col=1,endLine=14,endColumn=37,\
         title=IPT102 rule-after-unconditional-verdict::this rule never runs (`INPUT`)%0Amove the rules before the \
         unconditional one, or remove them"
    );
}

#[test]
fn sarif_holds_the_rules_and_results_code_scanning_needs() {
    let run = ipt(&["lint", "--format", "sarif", "fixtures/lint/unreached-chain.rules"], None);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(log["version"], "2.1.0");
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "ipt");
    let rules = driver["rules"].as_array().expect("rules");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"], "ruleIndex points at the rule");
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().expect("startLine") >= 1);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().expect("level")));
    }
    assert_eq!(results[0]["ruleId"], "IPT202");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/lint/unreached-chain.rules"
    );
}

#[test]
fn rule_prints_the_documentation() {
    let run = ipt(&["rule", "ssh-lockout"], None);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("# IPT301 ssh-lockout\n\nCategory: security. Default level: warn.\n\n## What it does\n")
    );
    assert_eq!(ipt(&["rule", "ipt301"], None).stdout, run.stdout);
}

/// docs/rules/ holds `ipt rule`'s page of every lint; `IPT_UPDATE_DOCS=1 cargo test` rewrites it.
#[test]
fn docs_rules_are_generated_from_the_lints() {
    let dir = root().join("docs/rules");
    let list = ipt(&["rule", "--list"], None);
    let mut index =
        String::from("# Lints\n\n`ipt rule CODE` prints each page. Generated from the lints' documentation.\n\n");
    index.push_str("| Code | Name | Category | Default | What it does |\n|---|---|---|---|---|\n");
    let mut expected = Vec::new();
    for line in list.stdout.lines() {
        let mut fields = line.split_whitespace();
        let (code, name, category, level) = (
            fields.next().expect("code"),
            fields.next().expect("name"),
            fields.next().expect("category"),
            fields.next().expect("level"),
        );
        let summary: Vec<&str> = fields.collect();
        index.push_str(&format!("| [{code}]({name}.md) | `{name}` | {category} | {level} | {} |\n", summary.join(" ")));
        expected.push((format!("{name}.md"), ipt(&["rule", code], None).stdout));
    }
    expected.push(("README.md".to_string(), index));
    if std::env::var_os("IPT_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).expect("docs/rules");
        for (file, text) in &expected {
            std::fs::write(dir.join(file), text).expect("written");
        }
    }
    for (file, text) in &expected {
        let on_disk = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert_eq!(&on_disk, text, "docs/rules/{file} is stale: run `IPT_UPDATE_DOCS=1 cargo test`");
    }
}

/// The hooks of `.pre-commit-hooks.yaml`: (id, entry, files pattern).
fn hooks() -> Vec<(String, String, regex::Regex)> {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect(".pre-commit-hooks.yaml");
    let mut hooks = Vec::new();
    let (mut id, mut entry) = (String::new(), String::new());
    for line in text.lines() {
        let line = line.trim_start_matches("- ").trim();
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.to_string();
        } else if let Some(v) = line.strip_prefix("entry: ") {
            entry = v.to_string();
        } else if let Some(v) = line.strip_prefix("files: ") {
            hooks.push((id.clone(), entry.clone(), regex::Regex::new(v).expect("a valid pattern")));
        }
    }
    hooks
}

/// What pre-commit does: run the hook's entry with the staged files its pattern selects.
fn run_hook(entry: &str, pattern: &regex::Regex, files: &[&str]) -> i32 {
    let selected: Vec<&str> = files.iter().copied().filter(|f| pattern.is_match(f)).collect();
    assert!(!selected.is_empty(), "the pattern selects none of {files:?}");
    let mut args: Vec<&str> = entry.split_whitespace().skip(1).collect();
    args.extend(selected);
    ipt(&args, None).code
}

#[test]
fn pre_commit_hooks_run_on_fixtures() {
    let hooks = hooks();
    let ids: Vec<&str> = hooks.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["ipt-check", "ipt-lint", "ipt-fmt"]);
    for (_, _, pattern) in &hooks {
        for name in ["rules.v4", "etc/iptables/rules.v6", "ufw/user.rules", "host.iptables"] {
            assert!(pattern.is_match(name), "{name}");
        }
        for name in ["rules.v4.bak", "README.md", "rules.txt"] {
            assert!(!pattern.is_match(name), "{name}");
        }
    }
    let (_, check, files) = &hooks[0];
    assert_eq!(run_hook(check, files, &["fixtures/valid/example.rules", "fixtures/valid/ipv6.rules", "README.md"]), 0);
    assert_eq!(run_hook(check, files, &["fixtures/check/dnat-in-input.rules"]), 1);
    let (_, lint, files) = &hooks[1];
    assert_eq!(run_hook(lint, files, &["fixtures/valid/example.rules"]), 0);
    assert_eq!(run_hook(lint, files, &["fixtures/lint/ssh-lockout.rules"]), 1);
    let (_, fmt, files) = &hooks[2];
    assert_eq!(run_hook(fmt, files, &["fixtures/valid/example.rules"]), 1, "not canonical");
    assert_eq!(run_hook(fmt, files, &["fixtures/valid/counters.rules"]), 0);
}

#[test]
fn family_parity_compares_a_v4_file_with_a_v6_file() {
    let dir = tempdir("parity");
    let v4 = dir.join("rules.v4");
    let v6 = dir.join("rules.v6");
    std::fs::write(&v4, "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m multiport --dports 22,80 -j ACCEPT\nCOMMIT\n")
        .expect("written");
    std::fs::write(&v6, "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p udp --dport 53 -j ACCEPT\nCOMMIT\n")
        .expect("written");
    let (v4, v6) = (v4.display().to_string(), v6.display().to_string());
    let run = ipt(&["lint", "--format", "json", &v4, &v6], None);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let found = |file: usize| -> Vec<(String, u64)> {
        json["files"][file]["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["code"] == "IPT206")
            .map(|d| (d["message"].as_str().expect("a message").to_string(), d["line"].as_u64().expect("a line")))
            .collect()
    };
    assert_eq!(found(0), [(format!("IPv4 accepts new connections to tcp port 80, IPv6 (`{v6}`) accepts none"), 3)]);
    assert_eq!(found(1), [(format!("IPv6 accepts new connections to udp port 53, IPv4 (`{v4}`) accepts none"), 4)]);
    // alone, each file has nothing to compare
    let alone = ipt(&["lint", "--format", "json", &v4], None);
    let json: serde_json::Value = serde_json::from_str(&alone.stdout).expect("json");
    let parity =
        json["files"][0]["diagnostics"].as_array().expect("diagnostics").iter().filter(|d| d["code"] == "IPT206");
    assert_eq!(parity.count(), 0);
    std::fs::remove_dir_all(dir).expect("cleaned");
}

/// The lint and explain agree: each connection `dnat-dropped-in-forward` says FORWARD drops is
/// dropped there when explain follows one, and the DNAT it is quiet about goes through.
#[test]
fn explain_confirms_dnat_dropped_in_forward() {
    let fixture = "fixtures/lint/dnat-dropped-in-forward.rules";
    let lint = ipt(&["lint", "--format", "json", fixture], None);
    let json: serde_json::Value = serde_json::from_str(&lint.stdout).expect("json");
    let lines: Vec<u64> = json["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "IPT103")
        .map(|d| d["line"].as_u64().expect("a line"))
        .collect();
    assert_eq!(lines, [14, 19]);
    let fate = |proto: &str, dport: &str| {
        let args = [
            "explain",
            fixture,
            "--format",
            "json",
            "--src",
            "203.0.113.9",
            "--dst",
            "192.0.2.1",
            "--local",
            "192.0.2.1",
            "--in-iface",
            "eth0",
            "-p",
            proto,
            "--dport",
            dport,
        ];
        let run = ipt(&args, None);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        let path = &json["paths"][0];
        let last = path["events"].as_array().expect("events").last().expect("an event").clone();
        (path["fate"].as_str().expect("a fate").to_string(), last["chain"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(fate("tcp", "8080"), ("dropped".to_string(), "FORWARD".to_string()));
    assert_eq!(fate("udp", "5353"), ("rejected".to_string(), "FORWARD".to_string()));
    assert_eq!(fate("tcp", "8443").0, "forwarded");
}
