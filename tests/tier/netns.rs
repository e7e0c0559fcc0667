//! Asking the kernel: loading a dump into a private network namespace with the real
//! iptables-restore. Never touches the host's own ruleset.

use std::io::Write;
use std::process::{Command, Stdio};

use ipt::model::Family;

/// Fails the test, loudly, when this machine cannot ask the kernel.
pub fn require_kernel() {
    let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert_eq!(root.ok(), Some(true), "kernel tests need root (they load rules into private network namespaces)");
    for tool in ["unshare", "iptables-legacy-restore", "ip6tables-legacy-restore", "iptables-legacy-save"] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(found, "kernel tests need `{tool}` (apt-get install -y iptables util-linux)");
    }
}

/// What the kernel made of a dump.
#[derive(Debug)]
pub struct KernelLoad {
    pub loads: bool,
    pub stderr: String,
    /// The line iptables-restore names in its error, if it names one.
    pub line: Option<u32>,
    /// `iptables-legacy-save` right after the load (empty when it failed).
    #[allow(dead_code, reason = "used by the kernel tier, not the corpus tier")]
    pub saved: String,
}

/// Loads `text` with `iptables-legacy-restore -c` (or ip6tables) into a new network namespace,
/// and saves it back with its counters.
pub fn kernel_load(text: &str, family: Family) -> KernelLoad {
    kernel_load_with(text, family, "-c")
}

/// Loads `text` as [`kernel_load`] does, with `flags` for both `-restore` and `-save` (`-c`, or
/// nothing: as a user loads a file, where the counters after a policy are not read at all).
pub fn kernel_load_with(text: &str, family: Family, flags: &str) -> KernelLoad {
    let tool = match family {
        Family::Ipv4 => "iptables-legacy",
        Family::Ipv6 => "ip6tables-legacy",
    };
    // a private xtables lock, so the host's iptables is never waited for
    let script = format!(
        "export XTABLES_LOCKFILE=$(mktemp); {tool}-restore {flags} && {tool}-save {flags}; rc=$?; rm -f \"$XTABLES_LOCKFILE\"; exit $rc"
    );
    let mut child = Command::new("timeout")
        .args(["60", "unshare", "-n", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare runs");
    child.stdin.take().expect("piped").write_all(text.as_bytes()).expect("stdin written");
    let out = child.wait_with_output().expect("unshare finishes");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    KernelLoad {
        loads: out.status.success(),
        line: error_line(&stderr),
        saved: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// `Error occurred at line: N`, `line N failed` or `COMMIT expected at line N`.
fn error_line(stderr: &str) -> Option<u32> {
    for pattern in ["Error occurred at line: ", "line ", "COMMIT expected at line "] {
        for (i, _) in stderr.match_indices(pattern) {
            let digits: String = stderr[i + pattern.len()..].chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// Loads an nft script with `nft -f` into a new network namespace (a real load: `nft -c` misses
/// errors the kernel raises at commit). `Err` holds nft's message.
#[allow(dead_code, reason = "used by the kernel and corpus tiers' translate tests")]
pub fn nft_load(script: &str, check_only: bool) -> Result<(), String> {
    let args: &[&str] = if check_only {
        &["60", "unshare", "-n", "nft", "-c", "-f", "-"]
    } else {
        &["60", "unshare", "-n", "nft", "-f", "-"]
    };
    let mut child = Command::new("timeout")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare runs");
    child.stdin.take().expect("piped").write_all(script.as_bytes()).expect("stdin written");
    let out = child.wait_with_output().expect("nft finishes");
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// Fails, loudly, when nft is missing.
#[allow(dead_code, reason = "used by the kernel and corpus tiers' translate tests")]
pub fn require_nft() {
    let found = Command::new("sh").args(["-c", "command -v nft"]).output().is_ok_and(|o| o.status.success());
    assert!(found, "the translate tests need `nft` (apt-get install -y nftables)");
}

/// Whether an error of ipt's at line `ipt` is where the kernel failed: the same line, or, when
/// the kernel names a `COMMIT` line or the line after the end, a line of that table section.
pub fn same_place(text: &str, kernel: Option<u32>, ipt: Option<u32>) -> bool {
    let (Some(kernel), Some(ipt)) = (kernel, ipt) else { return kernel.is_none() };
    if kernel == ipt {
        return true;
    }
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let at = |n: u32| lines.get(n as usize - 1).copied();
    let section_end = at(kernel).is_none_or(|l| l == "COMMIT");
    let section_start = (1..kernel).rev().find(|&n| at(n).is_some_and(|l| l.starts_with('*'))).unwrap_or(1);
    section_end && (section_start..kernel).contains(&ipt)
}

/// The built-in chains of a table.
pub fn builtin_chains(table: &str) -> &'static [&'static str] {
    match table {
        "filter" | "security" => &["INPUT", "FORWARD", "OUTPUT"],
        "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        "mangle" => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        "raw" => &["PREROUTING", "OUTPUT"],
        other => panic!("table {other}"),
    }
}
