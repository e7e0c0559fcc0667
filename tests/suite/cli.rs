//! The command line itself: exit codes, standard input, JSON, bad usage.

use super::support::ipt;

#[test]
fn check_reads_standard_input() {
    let run = ipt(&["check", "-"], Some("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "<stdin>: loads (0 errors, 0 warnings)\n");
}

#[test]
fn unreadable_files_exit_2() {
    let run = ipt(&["check", "fixtures/no-such-file.rules"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read `fixtures/no-such-file.rules`"), "{}", run.stderr);
    let run = ipt(&["check", "fixtures"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("it is a directory"), "{}", run.stderr);
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(ipt(&["check"], None).code, 2);
    assert_eq!(ipt(&["check", "--format", "xml", "x"], None).code, 2);
    assert_eq!(ipt(&["frobnicate"], None).code, 2);
}

#[test]
fn one_bad_file_fails_the_run_and_all_files_are_reported() {
    let run = ipt(&["check", "fixtures/valid/example.rules", "fixtures/check/dnat-in-input.rules"], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("fixtures/valid/example.rules: loads (0 errors, 0 warnings)"), "{}", run.stderr);
    assert!(
        run.stderr.contains("fixtures/check/dnat-in-input.rules: does not load (1 error, 0 warnings)"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_diagnostics_carry_position_code_and_help() {
    let run = ipt(&["check", "--format", "json", "fixtures/check/dnat-in-input.rules"], None);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn fmt_check_fails_on_a_file_that_is_not_canonical() {
    let run = ipt(&["fmt", "--check", "fixtures/valid/example.rules"], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not canonical"), "{}", run.stderr);
    let canonical = ipt(&["fmt", "fixtures/valid/example.rules"], None).stdout;
    let run = ipt(&["fmt", "--check", "-"], Some(&canonical));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn fmt_refuses_a_file_that_does_not_load() {
    let run = ipt(&["fmt", "fixtures/check/undeclared-chain.rules"], None);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("not formatted: the file does not load"), "{}", run.stderr);
}

#[test]
fn parse_prints_the_typed_model() {
    let run = ipt(
        &["parse", "-"],
        Some("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.1.2.3/8 -p tcp --dport ssh -j ACCEPT\nCOMMIT\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let rule = &model["tables"][0]["chains"][0]["rules"][0];
    assert_eq!(rule["src"]["value"], "10.0.0.0/8");
    assert_eq!(rule["proto"]["value"], "tcp");
    assert_eq!(rule["matches"][0]["module"], "tcp");
    assert_eq!(rule["matches"][0]["dport"]["value"], "22");
    assert_eq!(rule["target"], "ACCEPT");
    assert_eq!(rule["line"], 3);
    assert_eq!(model["tables"][0]["chains"][0]["builtin"]["policy"], "DROP");
}

/// A directory on PATH with stand-ins for `iptables-save` and `ip`, as a host would have them.
fn fake_host() -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("ipt-fake-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let scripts = [
        (
            "iptables-save",
            "#!/bin/sh\nprintf '*filter\\n:INPUT DROP [0:0]\\n:FORWARD DROP [0:0]\\n:OUTPUT ACCEPT [0:0]\\n\
             -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\\n-A FORWARD -o eth1 -j ACCEPT\\nCOMMIT\\n'\n",
        ),
        (
            "ip",
            "#!/bin/sh\ncase \"$*\" in\n\
             '-o addr show') printf '1: lo    inet 127.0.0.1/8 scope host lo\\n2: eth0    inet 192.0.2.1/24 scope global eth0\\n' ;;\n\
             '-4 route') printf '192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.1\\ndefault via 198.51.100.2 dev eth1\\n' ;;\n\
             *) exit 1 ;;\nesac\n",
        ),
    ];
    for (name, text) in scripts {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("a script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("executable");
    }
    dir
}

#[test]
fn explain_without_a_file_asks_the_live_host() {
    let dir = fake_host();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ipt"))
            .args(args)
            .env("PATH", &path)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ipt runs");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let path = &json["paths"][0];
        let matched: Vec<u64> = path["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["matched"] == true)
            .map(|e| e["line"].as_u64().expect("a line"))
            .collect();
        (path["fate"].as_str().expect("a fate").to_string(), matched, path["events"][0]["out_iface"].clone())
    };
    // 192.0.2.1 is the host's (from `ip addr`): SSH to it is delivered by line 5
    let (fate, matched, _) =
        run(&["explain", "--src", "203.0.113.9", "--dst", "192.0.2.1", "--dport", "22", "--format", "json"]);
    assert_eq!((fate.as_str(), matched), ("delivered", vec![5]));
    // another host: forwarded, out by the default route's eth1 (from `ip route`), line 6
    let (fate, matched, out) =
        run(&["explain", "--src", "192.0.2.7", "--dst", "203.0.113.9", "--dport", "443", "--format", "json"]);
    assert_eq!((fate.as_str(), matched, out), ("forwarded", vec![6], serde_json::json!("eth1")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn explain_refuses_a_bad_question_with_a_diagnostic() {
    let rules = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n";
    let run = ipt(&["explain", "-", "--src", "192.0.2.2", "--dst", "2001:db8::1"], Some(rules));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ipt::explain::bad_question"), "{}", run.stderr);
    assert!(run.stderr.contains("`--src 192.0.2.2` and `--dst 2001:db8::1` are not of one family"), "{}", run.stderr);
    let run = ipt(&["explain", "-", "--src", "192.0.2.2", "--routes", "fixtures/valid/example.rules"], Some(rules));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ipt::explain::bad_routes"), "{}", run.stderr);
    assert!(run.stderr.contains("line 1 is not a route"), "{}", run.stderr);
    // a dump that does not load gets check's diagnostics and status 1
    let run = ipt(&["explain", "fixtures/check/undeclared-chain.rules", "--src", "192.0.2.2"], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("does not load"), "{}", run.stderr);
}

#[test]
fn a_big_dump_reads_the_same_mapped() {
    // from 8 MiB on, the binary maps a file into memory rather than copy it (src/cli/input.rs),
    // but for `fmt --write`; the library here reads the same text from a string, and all must
    // agree, from a file and from standard input
    let dump = super::kube_dump::kube_dump(5300, 3);
    assert!(dump.len() >= 8 << 20, "{} bytes", dump.len());
    let path = std::env::temp_dir().join(format!("ipt-big-{}.rules", std::process::id()));
    std::fs::write(&path, &dump).expect("temp file written");
    let file = path.to_str().expect("a UTF-8 path");
    let from_file = ipt(&["fmt", file], None);
    let checked = ipt(&["check", file], None);
    // blanks doubled after each `-A`: `fmt --write` writes the file it reads
    std::fs::write(&path, dump.replace("\n-A ", "\n-A  ")).expect("temp file written");
    let rewritten = ipt(&["fmt", "--write", file], None);
    let written = std::fs::read_to_string(&path).expect("the file written");
    let _ = std::fs::remove_file(&path);
    let from_stdin = ipt(&["fmt", "-"], Some(&dump));
    let source = ipt::source::Source::new("big.rules", dump);
    let loaded = ipt::load::load(&source, &ipt::load::LoadOptions::default());
    assert!(loaded.loads());
    let want = ipt::fmt::ruleset(&loaded.ruleset);
    for run in [from_file, from_stdin] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout == want, "ipt fmt of the big dump differs from the library's");
    }
    assert_eq!(
        (checked.code, checked.stderr.trim_end()),
        (0, format!("{file}: loads (0 errors, 0 warnings)").as_str())
    );
    assert_eq!(rewritten.code, 0, "{}", rewritten.stderr);
    assert!(written == want, "ipt fmt --write of the big dump differs from the library's");
}

#[test]
fn a_big_file_cut_short_while_mapped_is_an_error_not_a_crash() {
    // IPT_INPUT_FAULT=shrink: the binary cuts the file it has just mapped to half its length,
    // as a writer truncating it meanwhile would; reading the lost pages is a bus error
    let dump = super::kube_dump::kube_dump(5300, 3);
    let path = std::env::temp_dir().join(format!("ipt-shrink-{}.rules", std::process::id()));
    std::fs::write(&path, &dump).expect("temp file written");
    let run = super::support::ipt_with(
        &["check", path.to_str().expect("a UTF-8 path")],
        None,
        &[("IPT_INPUT_FAULT", "shrink")],
    );
    let left = std::fs::metadata(&path).map(|m| m.len());
    let _ = std::fs::remove_file(&path);
    assert_eq!(left.ok(), Some(dump.len() as u64 / 2), "the file was cut short");
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            2,
            "",
            "ipt::input::cut_short\n\n  \u{d7} an input file was cut short while ipt read it (a bus error)\n  \
             help: run ipt again once the file is written\n"
        )
    );
}

#[test]
fn a_big_dump_with_mistakes_checks_the_same_with_memory_hints() {
    // `ipt check` keeps glibc's malloc, and from 8 MiB on builds the tables in memory it asks to
    // have backed by huge pages (src/memory.rs, on the main thread only): the library here, on a
    // test thread, without; both must find the same mistakes, on the same lines
    let mut dump = String::new();
    let mut bogus = Vec::new();
    for (n, line) in super::kube_dump::kube_dump(5300, 3).lines().enumerate() {
        dump.push_str(line);
        if n % 997 == 500 && line.starts_with("-A ") {
            dump.push_str(" --bogus-opt");
            bogus.push(n as u64 + 1);
        }
        dump.push('\n');
    }
    assert!(dump.len() >= 8 << 20, "{} bytes", dump.len());
    let run = ipt(&["check", "--format", "json", "-"], Some(&dump));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let found: Vec<(String, u64)> = json["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| (d["code"].as_str().expect("code").to_string(), d["line"].as_u64().expect("line")))
        .collect();
    let source = ipt::source::Source::new("big.rules", dump);
    let loaded = ipt::load::load(&source, &ipt::load::LoadOptions::default());
    let want: Vec<(String, u64)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code(), u64::from(source.line_col(d.offset().expect("a span") as u32).0)))
        .collect();
    let unknown: Vec<u64> =
        want.iter().filter(|(code, _)| code == "ipt::load::unknown_option").map(|(_, line)| *line).collect();
    assert!(bogus.len() > 50 && unknown == bogus, "{unknown:?}");
    assert_eq!(found, want);
}

#[test]
fn a_big_dump_translates_the_same_on_mimalloc() {
    // the binary translates with mimalloc (src/allocator.rs), over blocks glibc's malloc gave
    // before the switch; the library here with the test binary's allocator
    let dump = super::kube_dump::kube_dump(5300, 3);
    assert!(dump.len() >= 8 << 20, "{} bytes", dump.len());
    let run = ipt(&["translate", "-"], Some(&dump));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let source = ipt::source::Source::new("big.rules", dump);
    let loaded = ipt::load::load(&source, &ipt::load::LoadOptions::default());
    let input = ipt::nft::Input { source: &source, ruleset: &loaded.ruleset };
    let want = ipt::nft::translate(&[input], &ipt::nft::Options::default()).script.text("");
    // the header names the input: the rest is compared
    let body = |text: &str| text.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    assert!(body(&run.stdout) == body(&want), "ipt translate of the big dump differs from the library's");
    assert!(want.contains("vmap @KUBE-SERVICES"), "the dump's services make a verdict map");
}
