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
