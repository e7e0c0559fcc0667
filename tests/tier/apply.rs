//! `ipt apply` against the kernel, each case in a private network namespace of its own (`unshare
//! -n`): what nft lists after the apply equals what it lists after `nft -f` of `ipt translate`'s
//! script; a second apply changes nothing; a table ipt does not own survives; a batch the kernel
//! refuses changes nothing and names the iptables line; `--check` changes nothing. Never touches
//! the host's ruleset.

use std::process::Command;

use serde_json::Value;

use super::kube_dump;
use super::nft_json::require_nft;

const IPT: &str = env!("CARGO_BIN_EXE_ipt");

/// Runs `script` under `sh` in a fresh network namespace; its stdout, stderr and success.
fn in_netns(script: &str, env: &[(&str, &str)]) -> (String, String, bool) {
    let mut cmd = Command::new("timeout");
    cmd.args(["300", "unshare", "-n", "sh", "-c", script]).env("IPT", IPT);
    // a test run over ssh must not turn the lockout guard on for every case
    cmd.env_remove("SSH_CONNECTION");
    // `--confirm`'s FIFOs in a directory of this run's, not the host's /run/ipt
    cmd.env("IPT_RUN_DIR", std::env::temp_dir().join(format!("ipt-run-{}", std::process::id())));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("unshare runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// A listing without handles, one object per element.
fn objects(listing: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(listing).unwrap_or_else(|e| panic!("nft lists no JSON ({e}): {listing}"));
    let mut objects = doc["nftables"].as_array().cloned().unwrap_or_default();
    objects.retain(|o| o.get("metainfo").is_none());
    for object in &mut objects {
        if let Some(inner) = object.as_object_mut().and_then(|o| o.values_mut().next()).and_then(Value::as_object_mut) {
            inner.remove("handle");
        }
    }
    objects
}

/// The first three objects where two listings differ, each pair on two lines named `a` and `b`.
fn first_differences(left: &[Value], right: &[Value], a: &str, b: &str) -> Vec<String> {
    left.iter().zip(right).filter(|(l, r)| l != r).take(3).map(|(l, r)| format!("\n  {a} {l}\n  {b} {r}")).collect()
}

/// Listings separated by this line in a script's output.
const SEP: &str = "=====";

fn dumps() -> Vec<(String, String)> {
    let quote = |p: &std::path::Path| format!("'{}'", p.to_string_lossy());
    let mut out: Vec<(String, String)> = single_dumps().into_iter().map(|(name, path)| (name, quote(&path))).collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/translate");
    out.push(("dual.v4 + dual.v6".into(), format!("{} {}", quote(&dir.join("dual.v4")), quote(&dir.join("dual.v6")))));
    out
}

fn single_dumps() -> Vec<(String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("ipt-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut out = Vec::new();
    for path in super::fixture_files("translate") {
        out.push((path.file_name().unwrap_or_default().to_string_lossy().into_owned(), path));
    }
    let mut extra = Vec::new();
    // each fixture also without the rules ipt apply refuses, so that what it builds of them is
    // compared too
    for path in super::fixture_files("translate") {
        let run = Command::new(IPT).args(["apply", "--dry-run"]).arg(&path).output().expect("ipt runs");
        let err = String::from_utf8_lossy(&run.stderr);
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let refused: Vec<usize> =
            err.lines().filter_map(|l| l.strip_prefix("error: ")?.split(':').nth(1)?.parse().ok()).collect();
        if refused.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture");
        let kept: Vec<&str> =
            text.lines().enumerate().filter(|(i, _)| !refused.contains(&(i + 1))).map(|(_, l)| l).collect();
        let trimmed = dir.join(format!("supported-{name}"));
        std::fs::write(&trimmed, kept.join("\n") + "\n").expect("written");
        extra.push((format!("{name} without the {} rules ipt apply refuses", refused.len()), trimmed));
    }
    let kube = dir.join("kube-1000.rules");
    std::fs::write(&kube, kube_dump::kube_dump(1000, 3)).expect("kube dump written");
    out.push(("kube-proxy dump, 1000 services".into(), kube));
    out.extend(extra);
    out
}

#[test]
fn apply_makes_the_ruleset_nft_f_makes_and_is_idempotent_and_leaves_other_tables() {
    require_nft();
    let mut failures = Vec::new();
    let mut applied = 0;
    for (name, files) in dumps() {
        for flags in ["", "--no-optimize", "--family inet"] {
            let (script, _, translates) = in_netns(&format!("$IPT translate {flags} {files}"), &[]);
            if !translates {
                continue;
            }
            // what nft -f makes of the translation
            let by_nft = in_netns(&format!("$IPT translate {flags} {files} | nft -f - && nft -j list ruleset"), &[]);
            // ipt apply, next to a table it does not own; then again
            let by_apply = in_netns(
                &format!(
                    "nft add table ip other && nft add chain ip other c '{{ type filter hook input priority 5; }}' && \
                     nft add rule ip other c tcp dport 22 accept && nft -j list table ip other && echo {SEP} && \
                     $IPT apply {flags} {files} && nft -j list ruleset && echo {SEP} && \
                     $IPT apply {flags} {files} && nft -j list ruleset"
                ),
                &[],
            );
            let _ = script;
            let (out, err, ok) = by_apply;
            if !ok && err.contains("not supported by ipt apply yet") {
                eprintln!("{name} {flags}: refused up front: {}", err.lines().nth(1).unwrap_or_default().trim());
                assert!(!err.contains("the kernel refused"), "{name}: nothing may be sent when a rule is refused");
                continue;
            }
            if !ok {
                failures.push(format!("{name} {flags}: ipt apply failed: {err}"));
                continue;
            }
            assert!(by_nft.2, "{name} {flags}: nft -f refuses the translation: {}", by_nft.1);
            let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
            let [other, first, second] = parts.as_slice() else { panic!("{name}: unexpected output {out}") };
            let (first, second, expected) = (objects(first), objects(second), objects(&by_nft.0));
            let other = objects(other);
            // the other table, exactly as it was, then ipt's tables as nft -f makes them
            let ours: Vec<Value> = first.iter().filter(|o| !other.contains(o)).cloned().collect();
            if ours != expected {
                let diff = first_differences(&ours, &expected, "ipt apply:", "nft -f:   ");
                failures.push(format!(
                    "{name} {flags}: {} objects from ipt apply, {} from nft -f{}",
                    ours.len(),
                    expected.len(),
                    diff.join("")
                ));
            }
            if !other.iter().all(|o| first.contains(o)) || !other.iter().all(|o| second.contains(o)) {
                failures.push(format!("{name} {flags}: the table ipt does not own changed"));
            }
            if first != second {
                failures.push(format!("{name} {flags}: a second apply changed the ruleset"));
            }
            applied += 1;
            eprintln!("{name} {flags}: applied, the same as nft -f");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(applied >= 4, "only {applied} dumps applied");
}

#[test]
fn a_batch_the_kernel_refuses_changes_nothing_and_names_the_iptables_line() {
    require_nft();
    let web = fixture("web.rules");
    // a first apply, then one with a jump to a missing chain put into its first rule
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT apply '{web}' && nft -j list ruleset && echo {SEP} && \
             ! IPT_APPLY_FAULT=bad-jump $IPT apply '{web}' && nft -j list ruleset"
        ),
        &[],
    );
    assert!(ok, "{err}");
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    assert_eq!(parts.len(), 2, "{out}");
    assert_eq!(objects(parts[0]), objects(parts[1]), "a refused batch changed the ruleset");
    // the first rule of web.rules is on line 6
    let first_rule =
        std::fs::read_to_string(&web).expect("fixture").lines().position(|l| l.starts_with("-A")).expect("a rule") + 1;
    assert!(err.contains("ipt::apply::kernel_refused"), "{err}");
    assert!(err.contains(&format!("web.rules:{first_rule}:1]")), "the error names another line: {err}");
    assert!(err.contains("it names a chain, set, table or expression the kernel does not have (ENOENT)"), "{err}");
    assert!(err.contains("not applied"), "{err}");
}

#[test]
fn check_validates_and_changes_nothing() {
    require_nft();
    // the process id in the directory: a digit 6 in a file's name can make it read as IPv6
    let dir = std::env::temp_dir().join(format!("ipt-apply-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kube = dir.join("kube.rules");
    std::fs::write(&kube, kube_dump::kube_dump(100, 3)).expect("kube dump written");
    let kube = kube.to_string_lossy();
    let (out, err, ok) = in_netns(
        &format!(
            "nft add table ip other && $IPT apply --check '{kube}' && nft -j list ruleset && echo {SEP} && \
             ! IPT_APPLY_FAULT=bad-jump $IPT apply --check '{kube}' && nft -j list ruleset"
        ),
        &[],
    );
    assert!(ok, "{err}");
    assert!(err.contains("checked"), "{err}");
    assert!(err.contains("the kernel refused this rule"), "--check must report what the kernel refuses: {err}");
    for listing in out.split(&format!("{SEP}\n")) {
        let objects = objects(listing);
        assert_eq!(objects.len(), 1, "--check changed the ruleset: {objects:?}");
    }
}

#[test]
fn dry_run_opens_no_socket_and_counts_the_messages() {
    let web = fixture("web.rules");
    let out = Command::new(IPT)
        .args(["apply", "--dry-run"])
        .arg(&web)
        .env_remove("SSH_CONNECTION")
        .output()
        .expect("ipt runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("ip ipt-filter"), "{text}");
    assert!(text.contains("9 add rule"), "{text}");
}

/// The lockout guard: with `SSH_CONNECTION` set, a ruleset that drops the session is refused
/// before anything is sent (the tables stay as they were) and the error names the rule;
/// `--force` applies it; one that keeps the session is applied.
#[test]
fn the_lockout_guard_refuses_a_ruleset_that_drops_the_session_and_sends_nothing() {
    require_nft();
    let fixture = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/guard")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let (keeps, drops) = (fixture("keeps-ssh.rules"), fixture("drops-client.rules"));
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT apply '{keeps}' && nft -j list ruleset && echo {SEP} && \
             ! $IPT apply '{drops}' && nft -j list ruleset && echo {SEP} && \
             $IPT apply --force '{drops}' && nft -j list ruleset"
        ),
        &[("SSH_CONNECTION", "198.51.100.7 50022 192.0.2.1 22")],
    );
    assert!(ok, "{err}");
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    assert_eq!(parts.len(), 3, "{out}");
    assert!(objects(parts[0]).len() > 1, "the ruleset that keeps the session was not applied: {err}");
    assert_eq!(objects(parts[0]), objects(parts[1]), "a refused ruleset changed the tables");
    assert_ne!(objects(parts[1]), objects(parts[2]), "--force did not apply");
    assert!(
        err.contains("error: ")
            && err.contains("drops-client.rules:6: -A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 22 -j DROP"),
        "{err}"
    );
    assert!(err.contains("not applied: the new ruleset would cut off a kept session (nothing sent)"), "{err}");
    assert!(err.contains("applying anyway (--force)"), "{err}");
}

/// The big batch: the 10 000-service kube-proxy dump is one batch of about 120 000
/// messages (far past the 128 KiB page and the default socket buffers); it commits, ipt says
/// so, and nft lists what `nft -f` of the translation makes.
#[test]
fn a_120000_message_batch_commits_and_reports_success() {
    require_nft();
    let dir = std::env::temp_dir().join(format!("ipt-apply-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kube = dir.join("kube.rules");
    std::fs::write(&kube, kube_dump::kube_dump(10000, 3)).expect("kube dump written");
    let kube = kube.to_string_lossy();
    let (applied, err, ok) = in_netns(&format!("$IPT apply '{kube}' && nft list ruleset | sha256sum"), &[]);
    assert!(ok, "{err}");
    let messages: usize = err
        .split_once("one transaction (")
        .and_then(|(_, rest)| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("ipt apply does not say it applied: {err}"));
    assert!(messages > 100_000, "only {messages} messages");
    let (by_nft, err, ok) =
        in_netns(&format!("$IPT translate '{kube}' | nft -f - && nft list ruleset | sha256sum"), &[]);
    assert!(ok, "{err}");
    assert_eq!(applied, by_nft, "ipt apply and nft -f list different rulesets");
}

/// Killing ipt in the middle of an apply leaves the old ruleset or the new one, never a mix:
/// a small dump is applied, then a big one, killed (SIGKILL) after a delay; the listing is then
/// one of the two.
#[test]
fn killing_ipt_during_an_apply_leaves_the_old_or_the_new_ruleset() {
    require_nft();
    let dir = std::env::temp_dir().join(format!("ipt-apply-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (small, big) = (dir.join("small.rules"), dir.join("big.rules"));
    std::fs::write(&small, kube_dump::kube_dump(100, 3)).expect("written");
    std::fs::write(&big, kube_dump::kube_dump(10000, 3)).expect("written");
    let (small, big) = (small.to_string_lossy(), big.to_string_lossy());
    let sum = "nft list ruleset | sha256sum";
    let (old, err, ok) = in_netns(&format!("$IPT apply '{small}' 2>/dev/null && {sum}"), &[]);
    assert!(ok, "{err}");
    let (new, err, ok) = in_netns(&format!("$IPT apply '{big}' 2>/dev/null && {sum}"), &[]);
    assert!(ok, "{err}");
    let mut seen = Vec::new();
    for delay in ["0.5", "2", "4", "6", "8", "10"] {
        let (after, err, ok) = in_netns(
            &format!(
                "$IPT apply '{small}' 2>/dev/null || exit 1; $IPT apply '{big}' 2>/dev/null & pid=$!; sleep {delay}; \
                 kill -9 $pid 2>/dev/null; wait $pid; {sum}"
            ),
            &[],
        );
        assert!(ok, "{err}");
        assert!(after == old || after == new, "killed after {delay} s: the ruleset is neither the old nor the new one");
        seen.push(if after == old { "old" } else { "new" });
    }
    eprintln!("killed after 0.5, 2, 4, 6, 8, 10 s: {seen:?}");
}

/// A listing's objects (handles ignored) grouped by table, each table's in listing order: a
/// rollback re-creates ipt's tables after the others, so only the order of tables may differ.
fn by_table(listing: &str) -> Vec<Value> {
    sorted(objects(listing))
}

/// Objects grouped by table, as [`by_table`].
fn sorted(mut objects: Vec<Value>) -> Vec<Value> {
    let key = |o: &Value| {
        let inner = o.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
        let table = inner.get("table").or_else(|| inner.get("name")).cloned().unwrap_or_default();
        (inner["family"].to_string(), table.to_string())
    };
    objects.sort_by_key(key);
    objects
}

/// Shell that starts `ipt apply --confirm 60 NEW` in the background, its standard input a FIFO
/// in `dir` that stays open and silent (descriptor 3), its standard error in `dir/err`, and
/// waits until it asks its question; `$pid` is then its process id.
fn waiting_apply(dir: &str, new: &str) -> String {
    format!(
        "mkfifo '{dir}/in' && {{ $IPT apply --confirm 60 '{new}' < '{dir}/in' 2> '{dir}/err' & }} ; pid=$!; \
         exec 3> '{dir}/in'; \
         n=0; until grep -q 'can you still' '{dir}/err' || [ $n -ge 100 ]; do sleep 0.1; n=$((n+1)); done;"
    )
}

/// An empty directory of this test process's own, `ipt-apply-NAME-PID` (what a run before left
/// there removed).
fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ipt-apply-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/translate")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `--confirm` answered with anything but "yes" puts ipt's tables back exactly: every fixture
/// and a 1000-service kube-proxy dump (chains, verdict maps, sets, comments) is applied, then
/// `forms.rules` (raw, mangle, nat and filter: tables some of them had and some did not) with
/// `--confirm`, answered "no"; the listing is then the first one again, byte for byte but for
/// handles, and the table ipt does not own is untouched.
#[test]
fn confirm_answered_no_puts_every_fixtures_tables_back_exactly() {
    require_nft();
    let new = fixture("forms.rules");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, files) in dumps() {
        let (out, err, ok) = in_netns(
            &format!(
                "nft add table ip other && nft add chain ip other c '{{ type filter hook input priority 5; }}' && \
                 $IPT apply {files} 2>/dev/null || exit 0; nft -j list ruleset && echo {SEP} && \
                 echo no | $IPT apply --confirm 30 '{new}'; echo \"exit=$?\" && echo {SEP} && nft -j list ruleset"
            ),
            &[],
        );
        assert!(ok, "{name}: {err}");
        if out.is_empty() {
            continue; // ipt apply refuses the dump: nothing to put back
        }
        let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
        let [before, status, after] = parts.as_slice() else { panic!("{name}: unexpected output {out}\n{err}") };
        if status.trim() != "exit=1" || !err.contains("rolled back (the answer was \"no\", not \"yes\")") {
            failures.push(format!("{name}: {}: {err}", status.trim()));
            continue;
        }
        let (before, after) = (by_table(before), by_table(after));
        if before != after {
            let diff = first_differences(&before, &after, "before:     ", "rolled back:");
            failures.push(format!("{name}: {} objects before, {} after{}", before.len(), after.len(), diff.join("")));
        }
        checked += 1;
        eprintln!("{name}: rolled back exactly");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 8, "only {checked} dumps checked");
}

/// No answer in time rolls back (the new ruleset was in place meanwhile); "yes" keeps it.
#[test]
fn confirm_rolls_back_when_the_time_runs_out_and_keeps_the_ruleset_when_confirmed() {
    require_nft();
    let (old, new) = (fixture("web.rules"), fixture("services.rules"));
    let dir = std::env::temp_dir().join(format!("ipt-apply-confirm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let during = dir.join("during.json").to_string_lossy().into_owned();
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT apply '{old}' && nft -j list ruleset && echo {SEP} && \
             ( sleep 1; nft -j list ruleset > '{during}'; sleep 3 ) | $IPT apply --confirm 2 '{new}'; \
             echo \"exit=$?\" && echo {SEP} && nft -j list ruleset && echo {SEP} && \
             ( sleep 0.5; echo yes ) | $IPT apply --confirm 10 '{new}'; echo \"exit=$?\" && echo {SEP} && \
             nft -j list ruleset"
        ),
        &[],
    );
    assert!(ok, "{err}");
    let (by_nft, nft_err, ok) = in_netns(&format!("$IPT translate '{new}' | nft -f - && nft -j list ruleset"), &[]);
    assert!(ok, "{nft_err}");
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    let [before, timed_out, after_timeout, confirmed, after_yes] = parts.as_slice() else {
        panic!("unexpected output {out}\n{err}")
    };
    let during = std::fs::read_to_string(&during).expect("the listing during the wait");
    // web.rules's ipt-filter and services.rules's ipt-nat, during the wait
    let both = sorted(objects(before).into_iter().chain(objects(&by_nft)).collect());
    assert_eq!(by_table(&during), both, "the new ruleset was not in place during the wait");
    assert_eq!(timed_out.trim(), "exit=1", "{err}");
    assert!(err.contains("rolled back (no answer in time): ip ipt-nat deleted (it did not exist)"), "{err}");
    assert_eq!(by_table(after_timeout), by_table(before), "the timeout did not put the tables back");
    assert_eq!(confirmed.trim(), "exit=0", "{err}");
    assert!(err.contains("confirmed: the new ruleset stays"), "{err}");
    assert_eq!(by_table(after_yes), both, "the confirmed ruleset did not stay");
}

/// SIGHUP (the operator's terminal gone) and SIGTERM during the wait roll back at once.
#[test]
fn a_hangup_or_a_terminate_during_the_wait_rolls_back() {
    require_nft();
    let (old, new) = (fixture("web.rules"), fixture("forms.rules"));
    for signal in ["HUP", "TERM"] {
        let dir = fresh_dir(&format!("signal-{signal}"));
        let d = dir.to_string_lossy();
        let waiting = waiting_apply(&d, &new);
        let (out, err, ok) = in_netns(
            &format!(
                "$IPT apply '{old}' 2>/dev/null && nft -j list ruleset && echo {SEP} && {waiting} \
                 kill -{signal} $pid; wait $pid; echo \"exit=$?\"; exec 3>&-; echo {SEP} && nft -j list ruleset"
            ),
            &[],
        );
        assert!(ok, "{err}");
        let ipt_err = std::fs::read_to_string(dir.join("err")).unwrap_or_default();
        let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
        let [before, status, after] = parts.as_slice() else { panic!("unexpected output {out}\n{err}") };
        assert_eq!(status.trim(), "exit=1", "SIG{signal}: {ipt_err}");
        assert!(ipt_err.contains(&format!("rolled back (SIG{signal} received)")), "{ipt_err}");
        assert_eq!(by_table(after), by_table(before), "SIG{signal} did not put the tables back");
    }
}

/// The apply carries the generation the rollback's snapshot was read at: when something commits
/// in between (`IPT_APPLY_FAULT=race`: ipt itself adds a table `ip ipt-race`), the kernel refuses
/// the apply, ipt reads the ruleset again and applies; the rollback then restores that state.
#[test]
fn a_commit_between_the_snapshot_and_the_apply_is_caught_and_the_snapshot_taken_again() {
    require_nft();
    let (old, new) = (fixture("web.rules"), fixture("forms.rules"));
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT apply '{old}' 2>/dev/null && nft -j list ruleset && echo {SEP} && \
             echo no | $IPT apply --confirm 30 '{new}'; echo \"exit=$?\"; echo {SEP} && nft -j list ruleset"
        ),
        &[("IPT_APPLY_FAULT", "race")],
    );
    assert!(ok, "{err}");
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    let [before, status, after] = parts.as_slice() else { panic!("unexpected output {out}\n{err}") };
    assert_eq!(status.trim(), "exit=1", "{err}");
    assert_eq!(
        err.matches("note: the ruleset changed while ipt read it (nothing was applied); reading it again").count(),
        1,
        "{err}"
    );
    let mut expected = objects(before);
    expected.push(serde_json::json!({"table": {"family": "ip", "name": "ipt-race"}}));
    assert_eq!(by_table(after), sorted(expected), "{err}");
}

/// The rollback is held by a watchdog process of its own: ipt killed with SIGKILL while it waits
/// for "yes" (which nothing can catch) still leaves the old tables, put back by the watchdog as
/// soon as ipt is gone.
#[test]
fn a_killed_ipt_still_rolls_back_through_its_watchdog() {
    require_nft();
    let (old, new) = (fixture("web.rules"), fixture("forms.rules"));
    let dir = fresh_dir("kill9");
    let d = dir.to_string_lossy();
    let waiting = waiting_apply(&d, &new);
    // forms.rules adds ipt-raw, which web.rules has not: gone again means rolled back
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT apply '{old}' 2>/dev/null && nft -j list ruleset && echo {SEP} && {waiting} \
             nft list table ip ipt-raw >/dev/null && echo applied $pid; kill -KILL $pid; wait $pid; exec 3>&-; \
             n=0; while nft list table ip ipt-raw >/dev/null 2>&1 && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; \
             echo {SEP} && nft -j list ruleset"
        ),
        &[],
    );
    assert!(ok, "{err}");
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    let [before, applied, after] = parts.as_slice() else { panic!("unexpected output {out}\n{err}") };
    let pid = applied.trim().strip_prefix("applied ").unwrap_or_else(|| {
        panic!("the new ruleset was not in place during the wait: {applied} {err}");
    });
    assert_eq!(by_table(after), by_table(before), "the watchdog did not put the tables back");
    // the batch file is named after the ipt that wrote it
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("ipt-rollback-{pid}-")))
        .collect();
    assert!(leftovers.is_empty(), "a watchdog left its batch file: {leftovers:?}");
}

/// `ipt confirm` from another session keeps the new ruleset of a waiting `ipt apply --confirm`
/// (whose standard input stays silent); with nothing waiting it says so and exits 1.
#[test]
fn ipt_confirm_from_another_session_keeps_the_new_ruleset() {
    require_nft();
    let (old, new) = (fixture("web.rules"), fixture("forms.rules"));
    let dir = fresh_dir("elsewhere");
    let d = dir.to_string_lossy();
    let waiting = waiting_apply(&d, &new);
    let (out, err, ok) = in_netns(
        &format!(
            "$IPT confirm 2> '{d}/none'; echo \"none=$?\"; echo {SEP}; \
             $IPT apply '{old}' 2>/dev/null && {waiting} \
             $IPT confirm 2> '{d}/confirm'; echo \"confirm=$?\"; wait $pid; echo \"exit=$? pid=$pid\"; exec 3>&-; \
             echo {SEP} && nft -j list ruleset && echo {SEP} && ls \"$IPT_RUN_DIR\""
        ),
        &[("IPT_RUN_DIR", &format!("{d}/run"))],
    );
    assert!(ok, "{err}");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let parts: Vec<&str> = out.split(&format!("{SEP}\n")).collect();
    let [none, statuses, after, left] = parts.as_slice() else { panic!("unexpected output {out}\n{err}") };
    assert_eq!(none.trim(), "none=1", "{}", read("none"));
    assert_eq!(read("none").trim(), "no ipt apply --confirm is waiting on this host");
    let pid = statuses.lines().find_map(|l| l.strip_prefix("exit=0 pid=")).unwrap_or_else(|| {
        panic!("ipt apply did not exit 0: {statuses}\n{}", read("err"));
    });
    assert!(statuses.contains("confirm=0"), "{statuses}\n{}", read("confirm"));
    assert_eq!(read("confirm").trim(), format!("confirmed: ipt apply (process {pid}) keeps its new ruleset"));
    assert!(read("err").contains("(or run `ipt confirm` from a new session)"), "{}", read("err"));
    assert!(read("err").contains("confirmed: the new ruleset stays"), "{}", read("err"));
    let (by_nft, nft_err, ok) = in_netns(&format!("$IPT translate '{new}' | nft -f - && nft -j list ruleset"), &[]);
    assert!(ok, "{nft_err}");
    assert_eq!(by_table(after), by_table(&by_nft), "the confirmed ruleset did not stay");
    assert_eq!(left.trim(), "", "the apply left its FIFO behind");
}
